/*  st_service.c — the process around a service  */
#include "st_service.h"
#include "st_config.h"
#include "st_crypto.h"
#include "st_keys.h"
#include "st_log.h"

#include <errno.h>
#include <unistd.h>
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

//  The variables are upper case (STATION_REGISTRY_RPC), as the README, scripts/run and the
//  compose file spell them.
//  A caller's endpoint may list several, comma-separated: the processes of one service, which
//  the caller's calls go round. Each process binds its own: _BIND and _EVENTS_BIND, by default
//  the one endpoint its callers connect to.
#define S_ENDPOINTS(svc, SVC, rpc_port, events_port)                                               \
    ST_OPTION (#svc "-rpc", "STATION_" #SVC "_RPC", "tcp://127.0.0.1:" #rpc_port,                  \
               "rpc endpoint of " #svc " (a comma-separated list for several processes)"),         \
        ST_OPTION (#svc "-events", "STATION_" #SVC "_EVENTS", "tcp://127.0.0.1:" #events_port,     \
                   "event hint (PUB) endpoint of " #svc " (a list for several processes)"),        \
        ST_OPTION (#svc "-bind", "STATION_" #SVC "_BIND", "",                                      \
                   "where this process of " #svc " binds its rpc (default: " #svc "-rpc)"),        \
        ST_OPTION (#svc "-events-bind", "STATION_" #SVC "_EVENTS_BIND", "",                        \
                   "where this process of " #svc " binds its event hints (default: " #svc          \
                   "-events)"),

const st_option_t st_endpoint_options[] = {
    S_ENDPOINTS (registry, REGISTRY, 7101, 7201) S_ENDPOINTS (match, MATCH, 7102, 7202)
        S_ENDPOINTS (ledger, LEDGER, 7103, 7203) S_ENDPOINTS (notify, NOTIFY, 7104, 7204)
            S_ENDPOINTS (gateway, GATEWAY, 7105, 7205)};
const size_t st_endpoint_option_count = sizeof st_endpoint_options / sizeof st_endpoint_options[0];

//  What every service reads, before the endpoints and the service's own settings.
static const st_option_t s_common[] = {
    ST_OPTION ("db", "STATION_DB", "dbname=station",
               "PostgreSQL connection string; the service adds its own role as user"),
    ST_OPTION ("keys", "STATION_KEYS", "var/keys",
               "key directory (CURVE certificates, personal-data keys)"),
    ST_OPTION ("log-level", "STATION_LOG_LEVEL", "info", "debug, info, warn or error"),
    ST_OPTION_WHOLE ("max-message", "STATION_MAX_MESSAGE", "4194304", 1024, 1 << 30,
                     "largest rpc frame accepted, in bytes"),
    ST_OPTION_WHOLE ("event-retention-hours", "STATION_EVENT_RETENTION_HOURS", "168", 1, 87600,
                     "how long delivered events stay in the outbox"),
    ST_OPTION_WHOLE ("reply-retention-hours", "STATION_REPLY_RETENTION_HOURS", "48", 1, 87600,
                     "how long stored replies answer retried requests"),
    ST_OPTION_WHOLE ("poll-ms", "STATION_POLL_MS", "1000", 10, 600000,
                     "consumers pull at least this often (ms)"),
    ST_OPTION_WHOLE ("workers", "STATION_WORKERS", "2", 0, 64,
                     "threads running slow ops (password hashing, imports) beside the rpc loop,"
                     " each with its own database connection; 0 runs them on the loop"),
    ST_OPTION_WHOLE ("readers", "STATION_READERS", "2", 0, 64,
                     "threads answering reads beside the rpc loop, each with its own database"
                     " connection (writes stay on the loop); 0 answers them on the loop"),
    ST_OPTION_WHOLE ("pool-max-bytes", "STATION_POOL_MAX_BYTES", "67108864", 1048576, 1073741824,
                     "bytes of slow requests waiting for a worker, at most; past it one is"
                     " refused at once (resource_exhausted)"),
};
#define S_COMMON_COUNT (sizeof s_common / sizeof s_common[0])

//  The STATION_* variables other Station programs read, each with its reader: a service
//  does not warn about them, except about those its own table should know (a name under
//  its own prefix that its table lacks is misspelt). Add a program's here as it lands.
static const struct {
    const char *name; //  ending in "_": every variable it begins
    const char *reader;
} s_elsewhere[] = {
    {"STATION_DISPATCH_", "match"},      //  the dispatch round's settings
    {"STATION_LOGIN_", "registry"},      //  sign-in throttling
    {"STATION_OPERATOR_KEY", "station"}, //  the operator's command
    {"STATION_TIMEOUT", "station"},
    {"STATION_PG_FSYNC", "scripts"}, //  scripts/lib.sh, throwaway clusters
    {"STATION_BIN_DIR", "tests"},    //  tests and benchmarks
    {"STATION_SOURCE_DIR", "tests"},
    {"STATION_GOLDEN_UPDATE", "tests"},
    {"STATION_TEST_", "tests"},
    {"STATION_SIM_", "tests"},
    {"STATION_NOTIFY_WAIT_MS", "notify"}, //  the reminder worker's settings
    {"STATION_NOTIFY_BATCH", "notify"},
    {"STATION_LEDGER_STORE_WAIT_MS", "ledger"}, //  the store's ticker
    {"STATION_GATEWAY_HTTP", "gateway"},        //  the gateway's HTTP settings
    {"STATION_GATEWAY_THREADS", "gateway"},
    {"STATION_GATEWAY_BODY_MAX", "gateway"},
    {"STATION_GATEWAY_CSV_MAX", "gateway"},
    {"STATION_GATEWAY_CALL_MS", "gateway"},
    {"STATION_GATEWAY_EXPORT_MAX", "gateway"},
    {"STATION_SESSION_", "gateway"},
    {"STATION_BOOTSTRAP_", "gateway"}, //  the gateway's first start
    {"STATION_NOTIFY_", "notify"},     //  delivery: retries, timeouts
    {"STATION_SMTP_", "notify"},       //  e-mail
};

//  A password file the connection string names must be readable: libpq passes over one it
//  cannot read, and the server's refusal would then not say why.
static int
s_passfile_readable (const char *conninfo, st_error_t *err)
{
    PQconninfoOption *options = PQconninfoParse (conninfo, NULL);
    const char *passfile = NULL;
    for (PQconninfoOption *o = options; o && o->keyword; o++)
        if (strcmp (o->keyword, "passfile") == 0 && o->val && *o->val)
            passfile = o->val;
    int rc = 0;
    FILE *file = passfile ? fopen (passfile, "r") : NULL;
    if (passfile && !file) {
        st_error_set (err, ST_FAILED_PRECONDITION, "db",
                      "cannot read the database password file \"%s\": %s (this process runs as"
                      " uid %d)",
                      passfile, strerror (errno), (int) geteuid ());
        rc = -1;
    }
    if (file)
        fclose (file);
    PQconninfoFree (options);
    return rc;
}

struct st_service_s {
    const st_service_def_t *def;
    st_option_t *options; //  s_common, the endpoints, then the service's own
    size_t option_count;
    st_db_t *db;
    void *state;
};

st_db_t *
st_service_db (st_service_t *self)
{
    return self->db;
}

const char *
st_service_option (st_service_t *self, const char *name)
{
    return st_config_get (self->options, self->option_count, name);
}

const st_option_t *
st_service_options (st_service_t *self, size_t *count)
{
    *count = self->option_count;
    return self->options;
}

int64_t
st_service_whole (st_service_t *self, const char *name)
{
    return st_config_whole (self->options, self->option_count, name);
}

void
st_service_set_state (st_service_t *self, void *state)
{
    self->state = state;
}

void *
st_service_state (st_service_t *self)
{
    return self->state;
}

//  The ticker: the service's periodic work on its own thread and connection.
typedef struct {
    char *conninfo;
    char *name;
    void (*tick) (st_db_t *db, void *state);
    int64_t (*tick_due) (st_db_t *db, void *state);
    char *listen; //  may be NULL
    void *state;
    int64_t every_ms;
} s_ticker_args_t;

//  LISTENs on the ticker's channel when the connection is new (a reconnect loses it), and
//  reads what came: true when a notification from another connection did. *listening is the
//  connection that LISTENs.
static bool
s_ticker_notified (st_db_t *db, const char *channel, PGconn **listening)
{
    PGconn *conn = st_db_conn (db);
    if (!conn)
        return false;
    if (conn != *listening) {
        char sql[128];
        snprintf (sql, sizeof sql, "LISTEN \"%s\"", channel);
        st_error_t err;
        if (st_db_run (db, sql, &err) != ST_OK) {
            st_warn ("could not listen on \"%s\": %s", channel, err.message);
            return false;
        }
        *listening = conn;
    }
    bool notified = false;
    PQconsumeInput (conn);
    PGnotify *note;
    while ((note = PQnotifies (conn))) {
        //  The tick's own writes notify too; what they need, its answer already says.
        if (note->be_pid != PQbackendPID (conn))
            notified = true;
        PQfreemem (note);
    }
    return notified;
}

static void
s_ticker_actor (zsock_t *pipe, void *args_)
{
    s_ticker_args_t *args = args_;
    zsock_signal (pipe, 0);
    st_db_t *db = st_db_new (args->conninfo, args->name, args->name);
    int64_t next = 0;
    PGconn *listening = NULL;
    while (!zsys_interrupted) {
        int64_t wait = next - st_clock_ms ();
        zmq_pollitem_t items[] = {{zsock_resolve (pipe), 0, ZMQ_POLLIN, 0},
                                  {NULL, -1, ZMQ_POLLIN, 0}};
        int count = 1;
        if (args->listen && listening && listening == st_db_conn (db)) {
            items[1].fd = PQsocket (listening);
            count = items[1].fd >= 0 ? 2 : 1;
        }
        if (zmq_poll (items, count, wait > 0 ? (long) wait : 0) == -1)
            break;
        if (items[0].revents & ZMQ_POLLIN) {
            if (st_pipe_term (pipe))
                break;
        }
        if (args->listen && s_ticker_notified (db, args->listen, &listening))
            next = 0;
        if (st_clock_ms () >= next) {
            int64_t after = args->every_ms;
            if (args->tick_due) {
                int64_t due = args->tick_due (db, args->state);
                if (due >= 0 && due < after)
                    after = due;
            } else
                args->tick (db, args->state);
            next = st_clock_ms () + after;
            //  The first run connected: listen from now on. Once listening, what came during
            //  the tick is left for the poll above, not drained here: the tick reads the
            //  notifications it is owed itself (match's round does), and one that came after
            //  that read would otherwise be lost until the clock's next turn.
            if (args->listen && listening != st_db_conn (db))
                s_ticker_notified (db, args->listen, &listening);
        }
    }
    st_db_destroy (&db);
    st_db_thread_end ();
    free (args->conninfo);
    free (args->name);
    free (args->listen);
    free (args);
}

//  Waits for an actor's first word: "READY", or "ERROR why".
static int
s_actor_ready (zactor_t *actor, const char *what)
{
    char *word = zstr_recv (actor);
    int rc = word && strcmp (word, "READY") == 0 ? 0 : -1;
    if (rc)
        st_error ("%s could not start: %s", what, word ? word : "interrupted");
    zstr_free (&word);
    return rc;
}

static const char *
s_endpoint (st_service_t *self, const char *service, const char *kind)
{
    char name[64];
    snprintf (name, sizeof name, "%s-%s", service, kind);
    return st_service_option (self, name);
}

//  Where this process binds `kind` ("rpc" or "events"): its own -bind option, else the one
//  endpoint its callers connect to; NULL (said why) when they list several and it has none.
static const char *
s_bind (st_service_t *self, const char *service, const char *kind)
{
    char name[64];
    snprintf (name, sizeof name, "%s-%sbind", service, strcmp (kind, "rpc") == 0 ? "" : "events-");
    const char *bind = st_service_option (self, name);
    if (bind && *bind)
        return bind;
    const char *endpoint = s_endpoint (self, service, kind);
    if (strchr (endpoint, ',')) {
        st_error ("%s-%s lists several endpoints: give this process its own with --%s", service,
                  kind, name);
        return NULL;
    }
    return endpoint;
}

int
st_service_main (const st_service_def_t *def, int argc, char **argv)
{
    st_service_t service = {.def = def};
    service.option_count = S_COMMON_COUNT + st_endpoint_option_count + def->option_count;
    service.options = st_calloc (service.option_count, sizeof (st_option_t));
    memcpy (service.options, s_common, sizeof s_common);
    memcpy (service.options + S_COMMON_COUNT, st_endpoint_options, sizeof st_endpoint_options);
    if (def->option_count)
        memcpy (service.options + S_COMMON_COUNT + st_endpoint_option_count, def->options,
                def->option_count * sizeof (st_option_t));
    int rc = st_config_load (service.options, service.option_count, argc, argv, def->summary);
    if (rc) {
        free (service.options);
        return rc > 0 ? 0 : 2;
    }
    st_log_init (def->name, st_service_option (&service, "log-level"));
    st_config_log (service.options, service.option_count);
    const char *elsewhere[sizeof s_elsewhere / sizeof s_elsewhere[0]];
    size_t elsewhere_count = 0;
    for (size_t i = 0; i < sizeof s_elsewhere / sizeof s_elsewhere[0]; i++)
        if (strcmp (s_elsewhere[i].reader, def->name) != 0)
            elsewhere[elsewhere_count++] = s_elsewhere[i].name;
    st_config_warn_unknown (service.options, service.option_count, elsewhere, elsewhere_count);
    int64_t max_message = st_service_whole (&service, "max-message");
    int64_t event_retention = st_service_whole (&service, "event-retention-hours");
    int64_t reply_retention = st_service_whole (&service, "reply-retention-hours");
    int64_t poll_ms = st_service_whole (&service, "poll-ms");
    int64_t workers = st_service_whole (&service, "workers");
    int64_t readers = st_service_whole (&service, "readers");
    st_server_set_pool_bytes ((size_t) st_service_whole (&service, "pool-max-bytes"));

    int status = 1;
    st_error_t err;
    const char *keydir = st_service_option (&service, "keys");
    const char *conninfo = st_service_option (&service, "db");
    zactor_t *auth = NULL, *relay = NULL, *ticker = NULL;
    st_crypto_t *sealer = NULL;
    zactor_t *consumers[8] = {NULL};
    st_server_t *server = NULL;
    st_route_t *routes = NULL;
    bool initialised = false;
    zcert_t *cert = st_keys_secret (keydir, def->name, &err);
    if (!cert) {
        st_error ("%s", err.message);
        goto done;
    }
    auth = st_keys_auth (keydir);
    if (s_passfile_readable (conninfo, &err)) {
        st_error ("%s", err.message);
        goto done;
    }

    //  The database may still be starting: wait for it, as a supervisor would.
    service.db = st_db_new (conninfo, def->name, def->name);
    while (!zsys_interrupted && st_db_connect (service.db, &err) != ST_OK)
        zclock_sleep (200);
    if (zsys_interrupted)
        goto done;
    if (st_migrate (service.db, def->name, def->migrations, def->migration_count, &err) != ST_OK) {
        st_error ("could not migrate schema \"%s\": %s", def->name, err.message);
        goto done;
    }
    if (def->init && def->init (&service, &err)) {
        st_error ("could not start: %s", err.message);
        goto done;
    }
    initialised = true;
    st_db_statement (
        service.db, "rpc_replies_expire",
        "DELETE FROM rpc_replies WHERE created_at < now () - make_interval (hours => $1::int)");

    size_t route_count = 0;
    for (size_t i = 0; i < def->part_count; i++)
        route_count += *def->parts[i].count;
    routes = st_calloc (route_count + 1, sizeof (st_route_t));
    route_count = 0;
    for (size_t i = 0; i < def->part_count; i++)
        for (size_t r = 0; r < *def->parts[i].count; r++)
            routes[route_count++] = def->parts[i].routes[r];
    server = st_server_new (def->name, service.db, routes, route_count, service.state);
    //  Stored replies carry what the op answered (names, birth dates, a request's address):
    //  sealed with keys derived from the service's own CURVE secret key, which no other
    //  process holds, so sealing needs no key file of its own.
    sealer = st_crypto_derive (zcert_secret_key (cert), "rpcreply");
    if (!sealer) {
        st_error ("could not derive the key that seals stored replies");
        goto done;
    }
    st_server_set_sealer (server, sealer);
    const char *rpc = s_bind (&service, def->name, "rpc");
    const char *events = s_bind (&service, def->name, "events");
    if (!rpc || !events)
        goto done;
    if (st_server_bind (server, rpc, cert, max_message, &err)
        || st_server_start_workers (server, (size_t) workers, &err)
        || st_server_start_readers (server, (size_t) readers, &err)) {
        st_error ("%s", err.message);
        goto done;
    }
    st_relay_config_t relay_config = {def->name, conninfo, events, cert, event_retention};
    relay = st_relay_new (&relay_config);
    if (s_actor_ready (relay, "event relay"))
        goto done;
    assert (def->feed_count <= 8);
    for (size_t i = 0; i < def->feed_count; i++) {
        const st_feed_t *feed = &def->feeds[i];
        st_consumer_config_t config = {
            .service = def->name,
            .conninfo = conninfo,
            .publisher = feed->publisher,
            .rpc_endpoint = s_endpoint (&service, feed->publisher, "rpc"),
            .pub_endpoint = s_endpoint (&service, feed->publisher, "events"),
            .keydir = keydir,
            .cert = cert,
            .subscriptions = feed->subscriptions,
            .subscription_count = feed->count,
            .prepare = feed->prepare,
            .poll_ms = (int) poll_ms,
            .batch = 500,
            .batches = def->batches,
            .batch_count = def->batch_count,
        };
        consumers[i] = st_consumer_new (&config);
        if (s_actor_ready (consumers[i], "event consumer"))
            goto done;
    }
    st_info ("ready: rpc %s, events %s", rpc, relay_config.endpoint);

    if (def->tick || def->tick_due) {
        s_ticker_args_t *args = st_calloc (1, sizeof *args);
        args->conninfo = st_strdup (conninfo);
        args->name = st_strdup (def->name);
        args->tick = def->tick;
        args->tick_due = def->tick_due;
        args->listen = def->tick_listen ? st_strdup (def->tick_listen) : NULL;
        args->state = service.state;
        args->every_ms = def->tick_option ? st_service_whole (&service, def->tick_option) : 1000;
        ticker = zactor_new (s_ticker_actor, args);
    }
    int64_t next_expiry = 0;
    int pool = st_server_pool_fd (server);
    while (!zsys_interrupted) {
        zmq_pollitem_t items[] = {{zsock_resolve (st_server_socket (server)), 0, ZMQ_POLLIN, 0},
                                  {NULL, pool, ZMQ_POLLIN, 0}};
        if (zmq_poll (items, pool != -1 ? 2 : 1, 1000) == -1)
            break;
        if ((items[0].revents | items[1].revents) & ZMQ_POLLIN)
            st_server_handle (server);
        if (st_clock_ms () >= next_expiry) {
            st_params_t params = {0};
            st_params_int (&params, reply_retention);
            st_db_exec (service.db, "rpc_replies_expire", &params, NULL, NULL);
            st_params_clear (&params);
            next_expiry = st_clock_ms () + 60000;
        }
    }
    st_info ("stopping");
    status = 0;
done:
    zactor_destroy (&ticker);
    for (size_t i = 0; i < 8; i++)
        zactor_destroy (&consumers[i]);
    zactor_destroy (&relay);
    st_server_destroy (&server);
    st_crypto_destroy (&sealer);
    free (routes);
    if (initialised && def->fini)
        def->fini (&service);
    st_db_destroy (&service.db);
    zactor_destroy (&auth);
    zcert_destroy (&cert);
    st_config_free (service.options, service.option_count);
    free (service.options);
    return status;
}
