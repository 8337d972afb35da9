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
    const st_feed_t feeds[] = {
        {"registry", match_registry_subscriptions, match_registry_subscription_count,
         match_store_prepare},
    };
    st_service_def_t def = {
        .name = "match",
        .summary = "Station match service: requests, dispatch, activities, service records",
        .migrations = match_migrations,
        .migration_count = match_migrations_count,
        .routes = match_routes,
        .route_count = match_route_count,
        .feeds = feeds,
        .feed_count = sizeof feeds / sizeof feeds[0],
        .init = s_init,
    };
    return st_service_main (&def, argc, argv);
}
