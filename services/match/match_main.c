/*  match_main.c — the match service: requests, dispatch, activities, service records
    (architecture.md, "Services")  */
#include "match_server.h"
#include "match_store.h"
#include "st_service.h"

extern const st_migration_t match_migrations[];
extern const size_t match_migrations_count;

static int
s_init (st_service_t *service, st_error_t *err)
{
    match_store_prepare (st_service_db (service));
    return 0;
}

int
main (int argc, char **argv)
{
    //  One route table for the server, from the tables of match's parts.
    st_route_t routes[match_route_count + match_dispatch_route_count + match_records_route_count];
    size_t count = 0;
    for (size_t i = 0; i < match_route_count; i++)
        routes[count++] = match_routes[i];
    for (size_t i = 0; i < match_dispatch_route_count; i++)
        routes[count++] = match_dispatch_routes[i];
    for (size_t i = 0; i < match_records_route_count; i++)
        routes[count++] = match_records_routes[i];
    //  Likewise one subscription table for registry's events.
    st_subscription_t
        subscriptions[match_registry_subscription_count + match_dispatch_subscription_count];
    size_t topics = 0;
    for (size_t i = 0; i < match_registry_subscription_count; i++)
        subscriptions[topics++] = match_registry_subscriptions[i];
    for (size_t i = 0; i < match_dispatch_subscription_count; i++)
        subscriptions[topics++] = match_dispatch_subscriptions[i];
    const st_feed_t feeds[] = {
        {"registry", subscriptions, topics, match_store_prepare},
    };
    st_service_def_t def = {
        .name = "match",
        .summary = "Station match service: requests, dispatch, activities, service records",
        .migrations = match_migrations,
        .migration_count = match_migrations_count,
        .routes = routes,
        .route_count = count,
        .feeds = feeds,
        .feed_count = sizeof feeds / sizeof feeds[0],
        .init = s_init,
        .tick = match_dispatch_tick,
        .tick_ms = match_dispatch_round_ms (),
    };
    return st_service_main (&def, argc, argv);
}
