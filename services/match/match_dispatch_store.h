/*  match_dispatch_store.h — the SQL of requests, offers and dispatch rounds, by name  */
#ifndef MATCH_DISPATCH_STORE_H_INCLUDED
#define MATCH_DISPATCH_STORE_H_INCLUDED

#include "st_db.h"

#include <stdbool.h>
#include <stdint.h>

//  Registers dispatch's statements on a connection (idempotent).
void match_dispatch_store_prepare (st_db_t *db);

//  --- The round (match_dispatch.c), declared here for the benchmark ---

//  What one round did and how long its parts took.
typedef struct {
    int64_t requests;      //  requests short of volunteers
    int64_t pairs;         //  candidate pairings generated
    int64_t missing;       //  headcount missing over all of them
    int64_t cared_missing; //  of which for residents cared for first
    int64_t offers;        //  offers made (one per unit of headcount served)
    int64_t served;        //  = offers
    int64_t cared_served;  //  of which for residents cared for first
    int64_t cost;          //  the optimum's total cost, unserved penalties included
    double candidate_ms;   //  demand and candidate queries
    double solve_ms;       //  mcf_solve
} match_dispatch_stats_t;

//  Runs one round on `db` in one transaction (expire, unfilled, offer). stats may be NULL.
st_status_t match_dispatch_round (st_db_t *db, match_dispatch_stats_t *stats, st_error_t *err);

#endif
