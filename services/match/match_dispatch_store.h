/*  match_dispatch_store.h — the SQL of requests, offers and dispatch rounds, by name  */
#ifndef MATCH_DISPATCH_STORE_H_INCLUDED
#define MATCH_DISPATCH_STORE_H_INCLUDED

#include "st_db.h"

//  Registers dispatch's statements on a connection (idempotent).
void match_dispatch_store_prepare (st_db_t *db);

#endif
