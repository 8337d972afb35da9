/*  gateway_main.c — the gateway process (architecture.md, "Services"): a service like the
    others for its keys, its schema (sessions, sign-in limits) and sys.ping, with an HTTP
    daemon beside its rpc loop (gateway.h).  */
#include "gateway.h"
#include "st_keys.h"
#include "st_log.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const st_migration_t gateway_migrations[];
extern const size_t gateway_migrations_count;

static const st_option_t s_options[] = {
    ST_OPTION ("http", "STATION_GATEWAY_HTTP", "127.0.0.1:8080",
               "address and port the HTTP API listens on"),
    ST_OPTION_WHOLE ("http-threads", "STATION_GATEWAY_THREADS", "8", 1, 256,
                     "requests that call services at once, each with a lease of rpc clients"
                     " and a database connection (slow ones have 4 more)"),
    ST_OPTION_WHOLE ("body-max", "STATION_GATEWAY_BODY_MAX", "1048576", 1024, 268435456,
                     "largest request body accepted, in bytes (413 past it)"),
    ST_OPTION_WHOLE (
        "csv-max", "STATION_GATEWAY_CSV_MAX", "16000000", 1024, 268435456,
        "largest text/csv upload accepted (a spreadsheet to import: a county's roster of"
        " 100,000 rows is 6 to 10 MB; above 3 MB it goes to registry in chunks),"
        " in bytes"),
    ST_OPTION_WHOLE ("call-ms", "STATION_GATEWAY_CALL_MS", "10000", 100, 600000,
                     "how long one call to a service may take (503 past it)"),
    ST_OPTION_WHOLE ("session-idle-s", "STATION_SESSION_IDLE_S", "1800", 10, 2592000,
                     "a session unused this long ends"),
    ST_OPTION_WHOLE ("session-max-s", "STATION_SESSION_MAX_S", "43200", 10, 31536000,
                     "a session ends this long after sign-in, used or not"),
    ST_OPTION_WHOLE ("session-trust-ms", "STATION_SESSION_TRUST_MS", "500", 0, 5000,
                     "a session the database vouched for is taken at its word this long without"
                     " asking again; a sign-out waits as long before it answers, so that no"
                     " gateway takes the token after that (0: ask on every request)"),
    ST_OPTION_WHOLE ("session-sweep-ms", "STATION_SESSION_SWEEP_MS", "60000", 100, 3600000,
                     "how often ended sessions and old sign-in counts are removed"),
    ST_OPTION_WHOLE ("export-max", "STATION_GATEWAY_EXPORT_MAX", "200000", 1, 1000000,
                     "rows of one CSV export (volunteers, service records); more is refused"),
    ST_OPTION ("root-region", "STATION_ROOT_REGION", "",
               "where the pages' region tree begins (default: the bootstrap region)"),
    ST_OPTION ("tls-cert", "STATION_TLS_CERT", "",
               "PEM certificate (chain) file: with tls-key, the gateway serves HTTPS"),
    ST_OPTION ("tls-key", "STATION_TLS_KEY", "", "PEM private key file of tls-cert"),
    ST_OPTION ("bootstrap-region", "STATION_BOOTSTRAP_REGION", "",
               "on an empty platform, the root region to create (12-digit code)"),
    ST_OPTION ("bootstrap-region-name", "STATION_BOOTSTRAP_REGION_NAME", "",
               "the root region's name"),
    ST_OPTION ("bootstrap-admin", "STATION_BOOTSTRAP_ADMIN", "",
               "the login of the root region's first admin"),
    ST_OPTION_SECRET ("bootstrap-password", "STATION_BOOTSTRAP_PASSWORD", "",
                      "that admin's password (8 to 72 characters)"),
};

static gw_config_t s_config;

//  A whole small file (malloc'd), or NULL with err naming the option.
static char *
s_read_pem (const char *path, const char *option, st_error_t *err)
{
    FILE *file = fopen (path, "rb");
    char *text = NULL;
    size_t size = 0;
    if (file) {
        text = st_malloc (65536);
        size = fread (text, 1, 65535, file);
        text[size] = '\0';
        fclose (file);
    }
    if (!file || size == 0 || size == 65535 || !strstr (text, "-----BEGIN ")) {
        free (text);
        st_error_set (err, ST_INVALID_ARGUMENT, option, "%s: %s is not a readable PEM file", option,
                      path);
        return NULL;
    }
    return text;
}

//  First start (http-api.md): with an empty platform, the root region and its first admin,
//  through registry's region.bootstrap, which refuses once any region exists.
static struct {
    const char *region, *name, *admin, *password;
    bool done;
} s_bootstrap;

//  Tries the bootstrap once registry answers; done when it made the region, or found the
//  platform set up, or was refused for good.
static void
s_bootstrap_try (void)
{
    if (s_bootstrap.done)
        return;
    json_t *body =
        json_pack ("{s:s, s:s, s:s, s:s}", "code", s_bootstrap.region, "name", s_bootstrap.name,
                   "login", s_bootstrap.admin, "password", s_bootstrap.password);
    //  One request id for every try: a try whose answer was lost is answered again.
    char key[64];
    uint8_t id[16];
    snprintf (key, sizeof key, "bootstrap:%s", s_bootstrap.region);
    gw_rpc_idempotent_id ("", key, id);
    st_error_t err;
    json_t *reply = gw_rpc_call ("registry", "region.bootstrap", NULL, id, body, 30000, &err);
    json_decref (body);
    gw_rpc_release ();
    if (reply) {
        st_info ("first start: made region %s and its admin %s", s_bootstrap.region,
                 s_bootstrap.admin);
        json_decref (reply);
        s_bootstrap.done = true;
    } else if (err.code == ST_FAILED_PRECONDITION && strcmp (err.field, "code") == 0) {
        st_info ("the platform has regions: nothing to bootstrap");
        s_bootstrap.done = true;
    } else if (err.code == ST_UNAVAILABLE)
        st_warn ("bootstrap waits for registry: %s", err.message);
    else {
        st_error ("bootstrap refused (STATION_BOOTSTRAP_*): %s%s%s", err.message,
                  *err.field ? " — " : "", err.field);
        s_bootstrap.done = true;
    }
}

static int
s_init (st_service_t *service, st_error_t *err)
{
    s_config.conninfo = st_service_option (service, "db");
    s_config.keydir = st_service_option (service, "keys");
    s_config.http = st_service_option (service, "http");
    s_config.threads = st_service_whole (service, "http-threads");
    s_config.body_max = st_service_whole (service, "body-max");
    s_config.csv_max = st_service_whole (service, "csv-max");
    s_config.call_ms = st_service_whole (service, "call-ms");
    s_config.session_idle_s = st_service_whole (service, "session-idle-s");
    s_config.session_trust_ms = st_service_whole (service, "session-trust-ms");
    s_config.session_max_s = st_service_whole (service, "session-max-s");
    s_config.sweep_ms = st_service_whole (service, "session-sweep-ms");
    s_config.export_max = st_service_whole (service, "export-max");
    s_config.tls_cert = st_service_option (service, "tls-cert");
    s_config.tls_key = st_service_option (service, "tls-key");
    if (*s_config.tls_cert || *s_config.tls_key) {
        if (!*s_config.tls_cert || !*s_config.tls_key)
            return st_error_set (err, ST_INVALID_ARGUMENT, "tls",
                                 "STATION_TLS_CERT and STATION_TLS_KEY go together"),
                   -1;
        s_config.tls_cert_pem = s_read_pem (s_config.tls_cert, "STATION_TLS_CERT", err);
        if (!s_config.tls_cert_pem)
            return -1;
        s_config.tls_key_pem = s_read_pem (s_config.tls_key, "STATION_TLS_KEY", err);
        if (!s_config.tls_key_pem)
            return -1;
        s_config.tls = true;
    }
    s_bootstrap.region = st_service_option (service, "bootstrap-region");
    s_bootstrap.name = st_service_option (service, "bootstrap-region-name");
    s_bootstrap.admin = st_service_option (service, "bootstrap-admin");
    s_bootstrap.password = st_service_option (service, "bootstrap-password");
    s_bootstrap.done = !*s_bootstrap.region;
    s_config.root_region = st_service_option (service, "root-region");
    if (!*s_config.root_region)
        s_config.root_region = s_bootstrap.region;
    if (!s_bootstrap.done && (!*s_bootstrap.name || !*s_bootstrap.admin || !*s_bootstrap.password))
        return st_error_set (err, ST_INVALID_ARGUMENT, "bootstrap",
                             "STATION_BOOTSTRAP_REGION needs STATION_BOOTSTRAP_REGION_NAME,"
                             " STATION_BOOTSTRAP_ADMIN and STATION_BOOTSTRAP_PASSWORD too"),
               -1;
    gw_sessions_prepare (st_service_db (service));
    if (gw_rpc_init (service, &s_config, err))
        return -1;
    gw_sessions_init (&s_config, gw_rpc_secret ());
    gw_rpc_warm ();
    gw_reports_init (&s_config);
    if (gw_http_start (&s_config, err))
        return -1;
    st_info ("HTTP on %s://%s", s_config.tls ? "https" : "http", s_config.http);
    return 0;
}

static void
s_fini (st_service_t *service)
{
    (void) service;
    gw_http_stop ();
    gw_rpc_fini ();
    if (s_config.tls_key_pem)
        sodium_memzero (s_config.tls_key_pem, strlen (s_config.tls_key_pem));
    free (s_config.tls_key_pem);
    free (s_config.tls_cert_pem);
}

//  The background work: the first start's bootstrap (tried every second until registry
//  answers), and the sweep of ended sessions. Returns when to come back.
static int64_t
s_tick (st_db_t *db, void *state)
{
    s_bootstrap_try ();
    gw_sessions_prepare (db);
    gw_sessions_tick (db, state);
    return s_bootstrap.done ? s_config.sweep_ms : 1000;
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
        .tick_due = s_tick,
        .tick_option = "session-sweep-ms",
    };
    return st_service_main (&def, argc, argv);
}
