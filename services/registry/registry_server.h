/*  registry_server.h — the registry's route tables, and what its parts share  */
#ifndef REGISTRY_SERVER_H_INCLUDED
#define REGISTRY_SERVER_H_INCLUDED

#include "st_server.h"

//  The route tables of registry's parts: people, regions, sites and teams
//  (registry_server.c), bulk imports (registry_import.c).
extern const st_route_t registry_routes[];
extern const size_t registry_route_count;
extern const st_route_t registry_import_routes[];
extern const size_t registry_import_route_count;

//  Validates a registration and inserts it with `statement`: volunteer_insert (a person
//  registered already is a conflict) or volunteer_insert_new (skipped). Returns 1 when it
//  created the volunteer (reply filled), 0 when skipped, -1 when the call failed.
int registry_insert_volunteer (st_call_t *call, const msg_volunteer_register_t *request,
                               const char *statement, msg_volunteer_t *reply);

//  Writes a volunteer's supply-relevant state as an event (never the ID number or phone).
void registry_emit_volunteer (st_call_t *call, const char *topic, const msg_volunteer_t *v);

#endif
