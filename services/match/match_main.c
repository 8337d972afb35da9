/*  match_main.c — the match service: requests, dispatch, activities, service records
    (architecture.md, "Services"), one table assembled from its parts (match.h)  */
#include "match.h"
#include "match_store.h"

extern const st_migration_t match_migrations[];
extern const size_t match_migrations_count;

//  The round's settings, read once at start: handlers (settings.get's defaults) and the
//  ticker read them as the service's state.
static match_round_config_t s_config;

static int
s_init (st_service_t *service, st_error_t *err)
{
    match_store_prepare (st_service_db (service));
    size_t count;
    const st_option_t *options = st_service_options (service, &count);
    match_round_config (options, count, &s_config);
    st_service_set_state (service, &s_config);
    return 0;
}

int
main (int argc, char **argv)
{
    const st_part_t parts[] = {
        {match_supply_routes, &match_supply_route_count},
        {match_activities_routes, &match_activities_route_count},
        {match_wishes_routes, &match_wishes_route_count},
        {match_dispatch_routes, &match_dispatch_route_count},
        {match_records_routes, &match_records_route_count},
    };
    const st_feed_t feeds[] = {
        {"registry", match_registry_subscriptions, match_registry_subscription_count,
         match_store_prepare},
        {"ledger", match_ledger_subscriptions, match_ledger_subscription_count,
         match_store_prepare},
    };
    st_service_def_t def = {
        .name = "match",
        .summary = "Station match service: requests, dispatch, activities, service records",
        .migrations = match_migrations,
        .migration_count = match_migrations_count,
        .parts = parts,
        .part_count = sizeof parts / sizeof parts[0],
        .feeds = feeds,
        .feed_count = sizeof feeds / sizeof feeds[0],
        .options = match_round_options,
        .option_count = match_round_option_count,
        .init = s_init,
        .tick_due = match_round_due,
        .tick_option = "dispatch-round-ms",
        .tick_listen = MATCH_ROUND_CHANNEL,
    };
    return st_service_main (&def, argc, argv);
}
