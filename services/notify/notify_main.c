/*  notify_main.c — the notify service: notices, the inbox, preferences, reminders
    (architecture.md, "Services"), one table assembled from its parts (notify.h)  */
#include "notify.h"

extern const st_migration_t notify_migrations[];
extern const size_t notify_migrations_count;

//  The worker's settings, read once at start.
static notify_config_t s_config;

static int
s_init (st_service_t *service, st_error_t *err)
{
    notify_store_prepare (st_service_db (service));
    s_config.wait_ms = st_service_whole (service, "notify-wait-ms");
    s_config.batch = st_service_whole (service, "notify-batch");
    s_config.delivery = notify_delivery_new (service, err);
    if (!s_config.delivery)
        return -1;
    s_config.digest = notify_digest_new (service, err);
    if (!s_config.digest)
        return -1;
    notify_feeds_set_delivery (s_config.delivery);
    st_service_set_state (service, &s_config);
    return 0;
}

static void
s_fini (st_service_t *service)
{
    (void) service;
    notify_delivery_destroy (&s_config.delivery);
    notify_digest_destroy (&s_config.digest);
}

int
main (int argc, char **argv)
{
    const st_part_t parts[] = {
        {notify_inbox_routes, &notify_inbox_route_count},
        {notify_reminders_routes, &notify_reminders_route_count},
        {notify_channels_routes, &notify_channels_route_count},
        {notify_delivery_routes, &notify_delivery_route_count},
    };
    const st_feed_t feeds[] = {
        {"registry", notify_registry_subscriptions, notify_registry_subscription_count,
         notify_store_prepare},
        {"match", notify_match_subscriptions, notify_match_subscription_count,
         notify_store_prepare},
        {"ledger", notify_ledger_subscriptions, notify_ledger_subscription_count,
         notify_store_prepare},
    };
    st_service_def_t def = {
        .name = "notify",
        .summary = "Station notify service: notices, the inbox, preferences, reminders, delivery",
        .migrations = notify_migrations,
        .migration_count = notify_migrations_count,
        .parts = parts,
        .part_count = sizeof parts / sizeof parts[0],
        .feeds = feeds,
        .feed_count = sizeof feeds / sizeof feeds[0],
        .options = notify_options,
        .option_count = notify_option_count,
        .init = s_init,
        .fini = s_fini,
        .tick_due = notify_tick,
        .tick_option = "notify-wait-ms",
        .tick_listen = "notify.reminders",
    };
    return st_service_main (&def, argc, argv);
}
