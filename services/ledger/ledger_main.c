/*  ledger_main.c — the ledger service: hours, points, stars (architecture.md, "Services"),
    one table assembled from its parts (ledger.h)  */
#include "ledger.h"
#include "ledger_store.h"

extern const st_migration_t ledger_migrations[];
extern const size_t ledger_migrations_count;

//  The expiry worker's settings, read once at start.
static ledger_config_t s_config;

static int
s_init (st_service_t *service, st_error_t *err)
{
    (void) err;
    ledger_store_prepare (st_service_db (service));
    s_config.expiry_batch = st_service_whole (service, "ledger-expiry-batch");
    st_service_set_state (service, &s_config);
    return 0;
}

int
main (int argc, char **argv)
{
    const st_part_t parts[] = {
        {ledger_books_routes, &ledger_books_route_count},
        {ledger_rules_routes, &ledger_rules_route_count},
        {ledger_reports_routes, &ledger_reports_route_count},
    };
    const st_feed_t feeds[] = {
        {"registry", ledger_registry_subscriptions, ledger_registry_subscription_count,
         ledger_store_prepare},
        {"match", ledger_match_subscriptions, ledger_match_subscription_count,
         ledger_store_prepare},
    };
    st_service_def_t def = {
        .name = "ledger",
        .summary = "Station ledger service: hours, points, stars",
        .migrations = ledger_migrations,
        .migration_count = ledger_migrations_count,
        .parts = parts,
        .part_count = sizeof parts / sizeof parts[0],
        .feeds = feeds,
        .feed_count = sizeof feeds / sizeof feeds[0],
        .options = ledger_options,
        .option_count = ledger_option_count,
        .init = s_init,
        .tick_due = ledger_expiry_tick,
        .tick_option = "ledger-expiry-ms",
    };
    return st_service_main (&def, argc, argv);
}
