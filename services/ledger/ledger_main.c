/*  ledger_main.c — the ledger service: hours, points, stars (architecture.md, "Services"),
    one table assembled from its parts (ledger.h)  */
#include "ledger.h"
#include "ledger_store.h"

#include <string.h>

extern const st_migration_t ledger_migrations[];
extern const size_t ledger_migrations_count;

//  The expiry worker's settings, read once at start.
static ledger_config_t s_config;

static int
s_init (st_service_t *service, st_error_t *err)
{
    (void) err;
    ledger_store_prepare (st_service_db (service));
    s_config.expiry_ms = st_service_whole (service, "ledger-expiry-ms");
    s_config.expiry_batch = st_service_whole (service, "ledger-expiry-batch");
    st_service_set_state (service, &s_config);
    return 0;
}

//  The one ticker's work: the store's reservations voided in time, points expired; the ms
//  until the sooner of the two wants to run again (the expiry at least every
//  ledger-expiry-ms).
static int64_t
s_tick (st_db_t *db, void *state)
{
    const ledger_config_t *config = state;
    int64_t store = ledger_shop_tick (db, state);
    int64_t expiry = ledger_expiry_tick (db, state);
    if (expiry < 0 || expiry > config->expiry_ms)
        expiry = config->expiry_ms;
    return store >= 0 && store < expiry ? store : expiry;
}

int
main (int argc, char **argv)
{
    const st_part_t parts[] = {
        {ledger_books_routes, &ledger_books_route_count},
        {ledger_rules_routes, &ledger_rules_route_count},
        {ledger_shop_routes, &ledger_shop_route_count},
        {ledger_reports_routes, &ledger_reports_route_count},
    };
    const st_feed_t feeds[] = {
        {"registry", ledger_registry_subscriptions, ledger_registry_subscription_count,
         ledger_store_prepare},
        {"match", ledger_match_subscriptions, ledger_match_subscription_count,
         ledger_store_prepare},
    };
    //  The store's settings and the expiry's, as one table.
    st_option_t options[8];
    size_t option_count = ledger_option_count + ledger_expiry_option_count;
    if (option_count > sizeof options / sizeof options[0])
        return 70; //  a table grew past this one: a programmer's error
    memcpy (options, ledger_options, ledger_option_count * sizeof options[0]);
    memcpy (options + ledger_option_count, ledger_expiry_options,
            ledger_expiry_option_count * sizeof options[0]);
    st_service_def_t def = {
        .name = "ledger",
        .summary = "Station ledger service: hours, points, stars",
        .migrations = ledger_migrations,
        .migration_count = ledger_migrations_count,
        .parts = parts,
        .part_count = sizeof parts / sizeof parts[0],
        .feeds = feeds,
        .feed_count = sizeof feeds / sizeof feeds[0],
        .options = options,
        .option_count = option_count,
        .init = s_init,
        .tick_due = s_tick,
        .tick_option = "ledger-store-wait-ms",
        .tick_listen = "ledger.redemptions",
        .batches = ledger_batches,
        .batch_count = ledger_batch_count,
    };
    return st_service_main (&def, argc, argv);
}
