/*  registry_server.h — the registry's route table  */
#ifndef REGISTRY_SERVER_H_INCLUDED
#define REGISTRY_SERVER_H_INCLUDED

#include "st_server.h"

extern const st_route_t registry_routes[];
extern const size_t registry_route_count;

#endif
