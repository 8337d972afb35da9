/*  bench_events.c — the event log under load: events appended per second (each in its own
    transaction, as handlers write them) against plain SQL inserts of the same rows; delivery
    rate through relay and consumer; and append-to-apply lag p50/p99 at a steady rate.
    Needs the throwaway cluster scripts/bench starts.  */
#include "bench_proc.h"
#include "bench_util.h"
#include "harness.h"
#include "st_events.h"
#include "st_keys.h"
#include "st_log.h"
#include "st_migrate.h"

#include <stdio.h>
#include <string.h>

extern const st_migration_t bench_events_migrations[];
extern const size_t bench_events_migrations_count;

#define BURST       20000
#define TURNS       5
#define STEADY      2000
#define STEADY_RATE 500 //  events per second

static st_status_t
s_apply (st_db_t *db, const char *topic, const void *body, int64_t seq, st_error_t *err)
{
    st_params_t params = {0};
    st_params_int (&params, seq);
    st_status_t rc = st_db_exec (db, "bench_applied", &params, NULL, err);
    st_params_clear (&params);
    return rc;
}

static void
s_prepare (st_db_t *db)
{
    st_db_statement (db, "bench_applied",
                     "INSERT INTO applied (seq, at) VALUES ($1, clock_timestamp ())");
}

static PGconn *
s_connect (harness_t *h, const char *role)
{
    char conninfo[600];
    snprintf (conninfo, sizeof conninfo, "%s user=%s", harness_conninfo (h), role);
    PGconn *conn = PQconnectdb (conninfo);
    if (PQstatus (conn) != CONNECTION_OK) {
        fprintf (stderr, "bench_events: %s", PQerrorMessage (conn));
        exit (1);
    }
    return conn;
}

//  Appends n rows, one transaction each, at most `rate` a second (0: as fast as it goes).
static double
s_append (PGconn *conn, const char *table, const uint8_t *body, size_t size, int n, int rate)
{
    char sql[128];
    snprintf (sql, sizeof sql, "INSERT INTO %s (topic, body) VALUES ($1, $2)", table);
    PGresult *res = PQprepare (conn, table, sql, 2, NULL);
    PQclear (res);
    const char *values[2] = {"volunteer.registered", (const char *) body};
    int lengths[2] = {0, (int) size}, formats[2] = {0, 1};
    int64_t start = bench_ns ();
    for (int i = 0; i < n; i++) {
        if (rate) {
            int64_t due = start + (int64_t) i * 1000000000 / rate;
            while (bench_ns () < due)
                zclock_sleep (1);
        }
        res = PQexecPrepared (conn, table, 2, values, lengths, formats, 0);
        if (PQresultStatus (res) != PGRES_COMMAND_OK) {
            fprintf (stderr, "bench_events: %s", PQerrorMessage (conn));
            exit (1);
        }
        PQclear (res);
    }
    return n * 1e9 / (double) (bench_ns () - start);
}

//  Where the CPU of a measurement went: the appending session's backend, PostgreSQL's other
//  backends (the relay's, the consumer's, events.read's), the registry's process (relay and
//  events.read) and this one (the consumer and the appending client).
enum { COST_BACKEND, COST_OTHER_PG, COST_REGISTRY, COST_BENCH, COSTS };
static const char *const s_cost_names[COSTS] = {"appender's backend", "other backends", "registry",
                                                "bench (consumer, client)"};
static pid_t s_postmaster, s_registry;

static void
s_cost_now (pid_t backend, double cpu_ms[COSTS])
{
    long switches = 0;
    double all_pg = 0;
    for (int i = 0; i < COSTS; i++)
        cpu_ms[i] = 0;
    bench_proc_cost (backend, &cpu_ms[COST_BACKEND], &switches);
    bench_proc_children_cost (s_postmaster, &all_pg, &switches);
    cpu_ms[COST_OTHER_PG] = all_pg - cpu_ms[COST_BACKEND];
    bench_proc_cost (s_registry, &cpu_ms[COST_REGISTRY], &switches);
    bench_proc_cost (getpid (), &cpu_ms[COST_BENCH], &switches);
}

static void
s_cost_add (const double before[COSTS], const double after[COSTS], double sum[COSTS])
{
    for (int i = 0; i < COSTS; i++)
        sum[i] += after[i] - before[i];
}

static void
s_cost_print (const char *what, const double sum[COSTS], int64_t events)
{
    double total = 0;
    printf ("  CPU per %s, us:", what);
    for (int i = 0; i < COSTS; i++) {
        printf (" %s %.1f;", s_cost_names[i], sum[i] * 1000 / (double) events);
        total += sum[i];
    }
    printf (" total %.1f\n", total * 1000 / (double) events);
}

static int64_t
s_value (harness_t *h, const char *sql)
{
    return atoll (harness_sql (h, sql));
}

static void
s_wait_applied (harness_t *h, int64_t count)
{
    while (s_value (h, "SELECT count (*) FROM notify.applied") < count)
        zclock_sleep (5);
}

int
main (void)
{
    st_log_init ("bench", "error");
    setenv ("STATION_TEST_LOG_LEVEL", "error", 1);
    harness_t *h = harness_new ("bench_events");
    s_registry = harness_start (h, "registry");
    s_postmaster = bench_postmaster_pid ();

    //  The consumer runs here, as the notify service would, in notify's schema.
    st_error_t err;
    st_db_t *db = st_db_new (harness_conninfo (h), "notify", "notify");
    if (st_migrate (db, "notify", bench_events_migrations, bench_events_migrations_count, &err)
        || st_db_run (db,
                      "CREATE TABLE applied (seq bigint, at timestamptz);"
                      " CREATE TABLE raw_append (id bigint GENERATED ALWAYS AS IDENTITY"
                      " PRIMARY KEY, topic text, body bytea,"
                      " created_at timestamptz DEFAULT now ())",
                      &err)) {
        fprintf (stderr, "bench_events: %s\n", err.message);
        return 1;
    }
    st_db_destroy (&db);
    zcert_t *cert = st_keys_secret (harness_keys (h), "notify", &err);
    st_subscription_t subscription = {"volunteer.registered", s_apply};
    st_consumer_config_t config = {.service = "notify",
                                   .conninfo = harness_conninfo (h),
                                   .publisher = "registry",
                                   .rpc_endpoint = harness_endpoint (h, "registry", "rpc"),
                                   .pub_endpoint = harness_endpoint (h, "registry", "events"),
                                   .keydir = harness_keys (h),
                                   .cert = cert,
                                   .subscriptions = &subscription,
                                   .subscription_count = 1,
                                   .prepare = s_prepare,
                                   .poll_ms = 1000,
                                   .batch = 500};
    zactor_t *consumer = st_consumer_new (&config);
    char *ready = zstr_recv (consumer);
    zstr_free (&ready);

    char *skills[] = {"急救", "驾驶"};
    msg_volunteer_registered_t event = {.id = "1",
                                        .name = "欧阳明华",
                                        .region = "431022100201",
                                        .skills = {skills, 2},
                                        .has_skills = true,
                                        .status = "active"};
    uint8_t *body;
    size_t size;
    st_encode (&msg_volunteer_registered_desc, &event, &body, &size);

    PGconn *registry = s_connect (h, "registry");
    PGconn *notify = s_connect (h, "notify");
    //  The plain inserts and the appends take turns, each from a quiet system (everything
    //  appended before applied), and each keeps its best turn: on a shared machine one long
    //  run measures the neighbours as much as the code.
    double raw_rate = 0, append_rate = 0, delivered = 0;
    double raw_cost[COSTS] = {0}, append_cost[COSTS] = {0}, applied_cost[COSTS] = {0};
    double before[COSTS], after[COSTS], load_start = bench_load_average ();
    int64_t appended = 0;
    for (int turn = 0; turn < TURNS; turn++) {
        s_cost_now (PQbackendPID (notify), before);
        double rate = s_append (notify, "raw_append", body, size, BURST / TURNS, 0);
        s_cost_now (PQbackendPID (notify), after);
        s_cost_add (before, after, raw_cost);
        raw_rate = rate > raw_rate ? rate : raw_rate;
        s_cost_now (PQbackendPID (registry), before);
        int64_t start = bench_ns ();
        rate = s_append (registry, "outbox", body, size, BURST / TURNS, 0);
        s_cost_now (PQbackendPID (registry), after);
        s_cost_add (before, after, append_cost);
        append_rate = rate > append_rate ? rate : append_rate;
        appended += BURST / TURNS;
        s_wait_applied (h, appended);
        rate = BURST / TURNS * 1e9 / (double) (bench_ns () - start);
        s_cost_now (PQbackendPID (registry), after);
        s_cost_add (before, after, applied_cost);
        delivered = rate > delivered ? rate : delivered;
    }

    printf ("event body %zu bytes; each append its own transaction (fsync off); best of %d turns"
            " of %d\n",
            size, TURNS, BURST / TURNS);
    printf ("load (uptime's 1-minute figure) %.1f at the start, %.1f at the end\n", load_start,
            bench_load_average ());
    printf ("%-44s %8.0f rows/s\n", "plain SQL insert, same rows (baseline)", raw_rate);
    s_cost_print ("row while inserting", raw_cost, BURST);
    printf ("%-44s %8.0f events/s  (%.2fx)\n", "outbox append (trigger + notify)", append_rate,
            append_rate / raw_rate);
    s_cost_print ("event while appending", append_cost, BURST);
    printf ("%-44s %8.0f events/s\n", "appended and applied by the consumer", delivered);
    s_cost_print ("event appended and applied", applied_cost, BURST);

    s_append (registry, "outbox", body, size, STEADY, STEADY_RATE);
    s_wait_applied (h, BURST + STEADY);
    char sql[512];
    snprintf (sql, sizeof sql,
              "SELECT percentile_cont (%%s) WITHIN GROUP (ORDER BY"
              " extract (epoch FROM a.at - o.created_at) * 1000)"
              " FROM notify.applied a JOIN registry.outbox o USING (seq) WHERE a.seq > %d",
              BURST);
    char query[600];
    snprintf (query, sizeof query, sql, "0.5");
    double p50 = atof (harness_sql (h, query));
    snprintf (query, sizeof query, sql, "0.99");
    double p99 = atof (harness_sql (h, query));
    printf ("append-to-apply lag at %d events/s: p50 %.1f ms  p99 %.1f ms  (%d events)\n",
            STEADY_RATE, p50, p99, STEADY);
    int64_t dup = s_value (h, "SELECT count (*) - count (DISTINCT seq) FROM notify.applied");
    printf ("applied twice: %lld\n", (long long) dup);

    free (body);
    PQfinish (registry);
    PQfinish (notify);
    zactor_destroy (&consumer);
    zcert_destroy (&cert);
    harness_destroy (&h);
    return dup != 0;
}
