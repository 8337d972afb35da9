/*  match_store.h — every SQL statement of the match service, by name  */
#ifndef MATCH_STORE_H_INCLUDED
#define MATCH_STORE_H_INCLUDED

#include "st_db.h"

//  Registers the match service's statements on a connection.
void match_store_prepare (st_db_t *db);

#endif
