/*  gateway_main.c — the gateway process (architecture.md, "Services"): a service like the
    others for its keys, its schema (sessions, sign-in limits) and sys.ping, with an HTTP
    daemon beside its rpc loop (gateway.h).  */
#include "gateway.h"
#include "st_keys.h"
#include "st_log.h"

extern const st_migration_t gateway_migrations[];
extern const size_t gateway_migrations_count;

static const st_option_t s_options[] = {
    ST_OPTION ("http", "STATION_GATEWAY_HTTP", "127.0.0.1:8080",
               "address and port the HTTP API listens on"),
    ST_OPTION_WHOLE ("http-threads", "STATION_GATEWAY_THREADS", "8", 1, 256,
                     "HTTP threads, each with its own rpc clients and database connection"),
    ST_OPTION_WHOLE ("body-max", "STATION_GATEWAY_BODY_MAX", "1048576", 1024, 268435456,
                     "largest request body accepted, in bytes (413 past it)"),
    ST_OPTION_WHOLE ("call-ms", "STATION_GATEWAY_CALL_MS", "10000", 100, 600000,
                     "how long one call to a service may take (503 past it)"),
    ST_OPTION_WHOLE ("session-idle-s", "STATION_SESSION_IDLE_S", "1800", 10, 2592000,
                     "a session unused this long ends"),
    ST_OPTION_WHOLE ("session-max-s", "STATION_SESSION_MAX_S", "43200", 10, 31536000,
                     "a session ends this long after sign-in, used or not"),
    ST_OPTION_WHOLE ("session-sweep-ms", "STATION_SESSION_SWEEP_MS", "60000", 100, 3600000,
                     "how often ended sessions and old sign-in counts are removed"),
};

static gw_config_t s_config;

static int
s_init (st_service_t *service, st_error_t *err)
{
    s_config.conninfo = st_service_option (service, "db");
    s_config.keydir = st_service_option (service, "keys");
    s_config.http = st_service_option (service, "http");
    s_config.threads = st_service_whole (service, "http-threads");
    s_config.body_max = st_service_whole (service, "body-max");
    s_config.call_ms = st_service_whole (service, "call-ms");
    s_config.session_idle_s = st_service_whole (service, "session-idle-s");
    s_config.session_max_s = st_service_whole (service, "session-max-s");
    gw_sessions_prepare (st_service_db (service));
    if (gw_rpc_init (service, &s_config, err))
        return -1;
    gw_sessions_init (&s_config, gw_rpc_secret ());
    if (gw_http_start (&s_config, err))
        return -1;
    st_info ("HTTP on http://%s", s_config.http);
    return 0;
}

static void
s_fini (st_service_t *service)
{
    (void) service;
    gw_http_stop ();
    gw_rpc_fini ();
}

static void
s_tick (st_db_t *db, void *state)
{
    gw_sessions_prepare (db);
    gw_sessions_tick (db, state);
}

int
main (int argc, char **argv)
{
    st_service_def_t def = {
        .name = "gateway",
        .summary = "Station gateway: the HTTP API (http-api.md) in front of the services",
        .migrations = gateway_migrations,
        .migration_count = gateway_migrations_count,
        .options = s_options,
        .option_count = sizeof s_options / sizeof s_options[0],
        .init = s_init,
        .fini = s_fini,
        .tick = s_tick,
        .tick_option = "session-sweep-ms",
    };
    return st_service_main (&def, argc, argv);
}
