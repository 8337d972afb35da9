/*  ledger.h — the parts of the ledger service (issue 20), each a file with its own op table,
    and what ledger_main.c assembles from them:
        ledger_books.c    a volunteer's statement and journal, officials' adjustments, the audit
        ledger_rules.c    a region's earning rules, versioned
        ledger_shop.c     the points store (积分超市): items, two-phase redemptions, the
                          ticker voiding reservations not fulfilled in time
        ledger_earning.c  what the ledger does with registry's and match's events: hours and
                          points posted from confirmed records and ratings, stars reached
        ledger_status.c   registry's volunteers: region and status; completions parked for a
                          volunteer not known yet, applied again when registry tells of them
        ledger_reports.c  rankings (ranking.list) and a region's figures (ledger.stats)
        ledger_expiry.c   the points expiry worker, and what a statement says of expiry
    Their SQL is in ledger_store.c, ledger_shop_store.c, ledger_reports_store.c and sql/.  */
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
extern const st_route_t ledger_reports_routes[];
extern const size_t ledger_reports_route_count;

//  The points store's settings (ledger_shop.c), and its ticker, which voids reservations not
//  fulfilled in time: the ms until it wants to run again.
extern const st_option_t ledger_options[];
extern const size_t ledger_option_count;
int64_t ledger_shop_tick (st_db_t *db, void *state);

//  The expiry worker's settings (ledger_expiry.c), and what it reads of them.
extern const st_option_t ledger_expiry_options[];
extern const size_t ledger_expiry_option_count;
typedef struct {
    int64_t expiry_ms;
    int64_t expiry_batch;
} ledger_config_t;

//  What the ledger does with registry's and match's events (ledger_earning.c).
extern const st_subscription_t ledger_registry_subscriptions[];
extern const size_t ledger_registry_subscription_count;
extern const st_subscription_t ledger_match_subscriptions[];
extern const size_t ledger_match_subscription_count;

//  The star levels volunteer `volunteer` reached with their hours as they now stand, each
//  published once (star.reached); inside the caller's transaction.
st_status_t ledger_stars (st_db_t *db, int64_t volunteer, st_error_t *err);

//  volunteer.registered, .updated, .status_changed: where the volunteer belongs and their
//  status; completions parked while they were unknown applied again (ledger_status.c).
st_status_t ledger_volunteer_status (st_db_t *db, const char *topic, const void *body, int64_t seq,
                                     st_error_t *err);

//  ST_OK when registry told the ledger of volunteer `volunteer` (`id` as text); a failed
//  precondition naming volunteer_id otherwise, the reason its completion is parked with.
st_status_t ledger_volunteer_require (st_db_t *db, int64_t volunteer, const char *id,
                                      st_error_t *err);

//  The failed precondition naming volunteer_id a completion naming volunteer `id`, unknown to
//  the ledger, is parked with (and found again by when registry tells of them).
st_status_t ledger_volunteer_unknown (const char *id, st_error_t *err);

//  The ledger's batch functions: match's service.completed posted a page at a time
//  (ledger_earning.c).
extern const st_batch_subscription_t ledger_batches[];
extern const size_t ledger_batch_count;

//  The expiry worker's run (st_service tick_due; `state` a ledger_config_t): the ms until it
//  wants to run again (ledger_expiry.c).
int64_t ledger_expiry_tick (st_db_t *db, void *state);

//  Fills a statement's expiry fields for volunteer `volunteer`. Returns 0, or -1 (failed).
int ledger_expiry_statement (st_call_t *call, int64_t volunteer, msg_statement_t *reply);

#endif
