/*  match_server.h — the match service's route table and event subscriptions  */
#ifndef MATCH_SERVER_H_INCLUDED
#define MATCH_SERVER_H_INCLUDED

#include "st_events.h"
#include "st_server.h"
#include "st_service.h"

//  The route tables of match's parts: activities and wishes (match_server.c), requests and
//  dispatch (match_dispatch.c), service records (match_records.c).
extern const st_route_t match_routes[];
extern const size_t match_route_count;
extern const st_route_t match_dispatch_routes[];
extern const size_t match_dispatch_route_count;
extern const st_route_t match_records_routes[];
extern const size_t match_records_route_count;

//  The dispatch round (match_dispatch.c): run by the service's ticker thread, on its own
//  connection, every match_dispatch_round_ms () (STATION_DISPATCH_ROUND_MS, default 2000).
void match_dispatch_tick (st_db_t *db);
int match_dispatch_round_ms (void);

//  What dispatch does with registry's events (residents' care tags, say).
extern const st_subscription_t match_dispatch_subscriptions[];
extern const size_t match_dispatch_subscription_count;

//  A volunteer no longer active: their pending offers, and their accepted offers of requests
//  not started yet, are withdrawn (offer.withdrawn each); those requests go back to matching.
//  Inside the caller's transaction.
st_status_t match_dispatch_volunteer_gone (st_db_t *db, int64_t volunteer, st_error_t *err);

//  What match does with registry's events.
extern const st_subscription_t match_registry_subscriptions[];
extern const size_t match_registry_subscription_count;

#endif
