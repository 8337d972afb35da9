/*  registry_store.h — every SQL statement of the registry service, by name  */
#ifndef REGISTRY_STORE_H_INCLUDED
#define REGISTRY_STORE_H_INCLUDED

#include "st_db.h"

//  Registers the registry's statements on a connection.
void registry_store_prepare (st_db_t *db);

#endif
