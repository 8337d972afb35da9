/*  ledger_store.h — every SQL statement of the ledger service, by name  */
#ifndef LEDGER_STORE_H_INCLUDED
#define LEDGER_STORE_H_INCLUDED

#include "st_db.h"

//  Registers the ledger service's statements on a connection.
void ledger_store_prepare (st_db_t *db);

//  The statements of rankings, stats, expiry and registry's statuses
//  (ledger_reports_store.c); ledger_store_prepare registers them too.
void ledger_reports_store_prepare (st_db_t *db);
//  The points store's statements (ledger_shop_store.c); ledger_store_prepare registers them.
void ledger_shop_store_prepare (st_db_t *db);

#endif
