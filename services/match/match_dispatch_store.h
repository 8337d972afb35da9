/*  match_dispatch_store.h — the SQL of requests, offers and dispatch rounds, by name  */
#ifndef MATCH_DISPATCH_STORE_H_INCLUDED
#define MATCH_DISPATCH_STORE_H_INCLUDED

#include "st_db.h"

#include <stdbool.h>
#include <stdint.h>

//  Columns of every statement returning a request, in this order.
enum {
    DISPATCH_REQ_ID,
    DISPATCH_REQ_CATEGORY,
    DISPATCH_REQ_TITLE,
    DISPATCH_REQ_DESCRIPTION,
    DISPATCH_REQ_REGION,
    DISPATCH_REQ_LAT,
    DISPATCH_REQ_LON,
    DISPATCH_REQ_EARLIEST_START,
    DISPATCH_REQ_LATEST_END,
    DISPATCH_REQ_DURATION,
    DISPATCH_REQ_HEADCOUNT,
    DISPATCH_REQ_SKILLS,
    DISPATCH_REQ_URGENCY,
    DISPATCH_REQ_RESIDENT_ID,
    DISPATCH_REQ_STATUS,
    DISPATCH_REQ_ACCEPTED,
    DISPATCH_REQ_REASON,
    DISPATCH_REQ_CREATED_AT,
    DISPATCH_REQ_STARTED, //  earliest_start <= now ()
    DISPATCH_REQ_MIN_STARS,
    DISPATCH_REQ_INSURANCE_REQUIRED,
    DISPATCH_REQ_STAFFED_AT,
    DISPATCH_REQ_RATING,
    DISPATCH_REQ_COMMENT,
};

//  Columns of every statement returning an offer, in this order.
enum {
    DISPATCH_OFFER_ID,
    DISPATCH_OFFER_REQUEST_ID,
    DISPATCH_OFFER_VOLUNTEER_ID,
    DISPATCH_OFFER_TITLE,
    DISPATCH_OFFER_REGION,
    DISPATCH_OFFER_EARLIEST_START,
    DISPATCH_OFFER_LATEST_END,
    DISPATCH_OFFER_DEADLINE,
    DISPATCH_OFFER_STATUS,
    DISPATCH_OFFER_CREATED_AT,
    DISPATCH_OFFER_LAPSED, //  deadline <= now ()
    DISPATCH_OFFER_LIVE,   //  its request is open or matching
};

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
