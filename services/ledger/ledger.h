/*  ledger.h — the parts of the ledger service (issue 20), each a file with its own op table,
    and what ledger_main.c assembles from them:
        ledger_books.c    a volunteer's statement and journal, officials' adjustments, the audit
        ledger_rules.c    a region's earning rules, versioned
        ledger_shop.c     the points store (积分超市): items, two-phase redemptions, the
                          ticker voiding reservations not fulfilled in time
        ledger_earning.c  what the ledger does with registry's and match's events: hours and
                          points posted from confirmed records and ratings, stars reached
    Their SQL is in ledger_store.c, ledger_shop_store.c and sql/.  */
#ifndef LEDGER_H_INCLUDED
#define LEDGER_H_INCLUDED

#include "st_events.h"
#include "st_server.h"
#include "st_service.h"

//  The op tables of the ledger's parts.
extern const st_route_t ledger_books_routes[];
extern const size_t ledger_books_route_count;
extern const st_route_t ledger_rules_routes[];
extern const size_t ledger_rules_route_count;
extern const st_route_t ledger_shop_routes[];
extern const size_t ledger_shop_route_count;

//  The points store's settings (ledger_shop.c), and its ticker, which voids reservations not
//  fulfilled in time: the ms until it wants to run again.
extern const st_option_t ledger_options[];
extern const size_t ledger_option_count;
int64_t ledger_shop_tick (st_db_t *db, void *state);

//  What the ledger does with registry's and match's events (ledger_earning.c).
extern const st_subscription_t ledger_registry_subscriptions[];
extern const size_t ledger_registry_subscription_count;
extern const st_subscription_t ledger_match_subscriptions[];
extern const size_t ledger_match_subscription_count;

//  The star levels volunteer `volunteer` reached with their hours as they now stand, each
//  published once (star.reached); inside the caller's transaction.
st_status_t ledger_stars (st_db_t *db, int64_t volunteer, st_error_t *err);

#endif
