/*  match_server.h — the match service's route table and event subscriptions  */
#ifndef MATCH_SERVER_H_INCLUDED
#define MATCH_SERVER_H_INCLUDED

#include "st_events.h"
#include "st_server.h"

extern const st_route_t match_routes[];
extern const size_t match_route_count;

//  What match does with registry's events.
extern const st_subscription_t match_registry_subscriptions[];
extern const size_t match_registry_subscription_count;

#endif
