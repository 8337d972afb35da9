/*  bench_lists.c — request.list at county scale: a county official's pages of a region
    subtree with 100,000 requests in the province, through rpc, against the same query in plain
    SQL in the same run. Beside each latency, the CPU time a call cost match and PostgreSQL
    (every backend), from /proc, and the load average: figures a loaded machine moves little.
    Usage: bench_lists [requests (default 100000)]  */
#include "bench_proc.h"
#include "bench_util.h"
#include "harness.h"
#include "st_log.h"

#include <stdio.h>
#include <string.h>

enum { S_CALLS = 400 };

static pid_t s_match, s_postmaster;

//  CPU time (ms) of match and of PostgreSQL so far.
typedef struct {
    double cpu_ms[2];
    long switches[2];
} s_cost_t;

static s_cost_t
s_cost_now (void)
{
    s_cost_t cost = {0};
    bench_proc_cost (s_match, &cost.cpu_ms[0], &cost.switches[0]);
    bench_proc_children_cost (s_postmaster, &cost.cpu_ms[1], &cost.switches[1]);
    return cost;
}

static void
s_exec (PGconn *conn, const char *sql)
{
    PGresult *res = PQexec (conn, sql);
    ExecStatusType status = PQresultStatus (res);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        fprintf (stderr, "bench_lists: %s: %s", sql, PQerrorMessage (conn));
        exit (1);
    }
    PQclear (res);
}

//  Latencies, and the CPU a call cost match and PostgreSQL since `before`.
static void
s_report (const char *what, int64_t *samples, int n, s_cost_t before)
{
    s_cost_t after = s_cost_now ();
    printf ("%-56s p50 %6.2f ms  p99 %6.2f ms  CPU/call match %.3f ms, PostgreSQL %.3f ms"
            "  (load %.1f)\n",
            what, bench_quantile (samples, n, 0.5) / 1e6, bench_quantile (samples, n, 0.99) / 1e6,
            (after.cpu_ms[0] - before.cpu_ms[0]) / n, (after.cpu_ms[1] - before.cpu_ms[1]) / n,
            bench_load_average ());
}

//  Writes `n` requests over ten counties of twenty townships of ten villages each (set-based
//  SQL: the list is measured, not the writes), most of them done with, one in fifty-three open.
static void
s_load (PGconn *conn, int n)
{
    char sql[1400];
    snprintf (sql, sizeof sql,
              "INSERT INTO match.requests (category, title, description, region, lat, lon,"
              " earliest_start, latest_end, duration_minutes, headcount, skills, urgency,"
              " resident_id, status, created_by, created_at)"
              " SELECT '助老', '请求' || i, '说明',"
              " '4310' || (22 + i %% 10) || (100 + (i / 10) %% 20) || (201 + (i / 200) %% 10),"
              " 25.4, 112.95, t + interval '1 day', t + interval '1 day 2 hours', 60, 1,"
              " '{}', 'normal', 1 + i %% 5000,"
              " CASE WHEN i %% 53 = 0 THEN 'open' WHEN i %% 7 = 0 THEN 'cancelled'"
              " ELSE 'completed' END, 'bench', t"
              " FROM generate_series (1, %d) i,"
              " LATERAL (SELECT now () - (%d - i) * interval '1 minute' AS t) w",
              n, n);
    s_exec (conn, sql);
    s_exec (conn, "VACUUM ANALYZE match.requests");
}

int
main (int argc, char **argv)
{
    int requests = argc > 1 ? atoi (argv[1]) : 100000;
    setvbuf (stdout, NULL, _IOLBF, 0); //  each figure as it comes, into a pipe too
    st_log_init ("bench", "error");
    setenv ("STATION_TEST_LOG_LEVEL", "error", 1);
    //  No dispatch round while the pages are measured: a round's reads and writes of the
    //  requests would land in match's and PostgreSQL's CPU time.
    setenv ("STATION_DISPATCH_ROUND_MS", "600000", 1);
    harness_t *h = harness_new ("bench_lists");
    s_match = harness_start (h, "match");
    s_postmaster = bench_postmaster_pid ();
    st_client_t *client = harness_client (h, "match", "operator");
    PGconn *conn = harness_pg (h);
    int64_t start = bench_ns ();
    s_load (conn, requests);
    printf ("loaded %d requests (10 counties) with SQL in %.1f s\n", requests,
            (double) (bench_ns () - start) / 1e9);

    //  The county's official pages through its subtree, newest first: every other call from a
    //  cursor part way down.
    static const msg_actor_t county = {
        .account = "county-admin", .role = "region_admin", .region = "431022000000"};
    struct {
        const char *what;
        const char *region;
        const char *status;
    } cases[] = {{"request.list, a county (1/10), page of 50", "431022000000", NULL},
                 {"request.list, a county, status open (1/53), page of 50", "431022000000", "open"},
                 {"request.list, a township (1/200), page of 50", "431022105000", NULL}};
    static int64_t samples[S_CALLS];
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        s_cost_t before = s_cost_now ();
        for (int i = 0; i < S_CALLS; i++) {
            char cursor[24];
            msg_request_list_t request = {.region = (char *) cases[c].region,
                                          .status = (char *) cases[c].status,
                                          .limit = 50,
                                          .has_limit = true};
            if (i % 2) {
                snprintf (cursor, sizeof cursor, "%d", 1 + (i * 4999) % requests);
                request.cursor = cursor;
            }
            msg_request_page_t page;
            st_error_t err;
            int64_t t = bench_ns ();
            if (st_client_call (client, "request.list", &county, NULL, &msg_request_list_desc,
                                &request, &msg_request_page_desc, &page, 10000, &err)
                != ST_OK) {
                fprintf (stderr, "bench_lists: %s\n", err.message);
                return 1;
            }
            samples[i] = bench_ns () - t;
            st_msg_clear (&msg_request_page_desc, &page);
        }
        s_report (cases[c].what, samples, S_CALLS, before);
    }
    //  Baselines: the same pages alone in plain SQL, without the wire or the checks.
    PGresult *res = PQprepare (conn, "plain_list",
                               "SELECT * FROM match.requests WHERE region ~>=~ $1"
                               " AND region ~<~ ($1 || ':') AND ($3::text IS NULL OR status = $3)"
                               " AND id < $2 ORDER BY id DESC LIMIT 50",
                               3, NULL);
    PQclear (res);
    struct {
        const char *what, *prefix, *status;
    } plain[] = {{"plain SQL, a county, page of 50 (baseline)", "431022", NULL},
                 {"plain SQL, a county, status open (baseline)", "431022", "open"},
                 {"plain SQL, a township, page of 50 (baseline)", "431022105", NULL}};
    for (size_t c = 0; c < sizeof plain / sizeof plain[0]; c++) {
        s_cost_t before = s_cost_now ();
        for (int i = 0; i < S_CALLS; i++) {
            char below[24];
            snprintf (below, sizeof below, "%d", i % 2 ? 1 + (i * 4999) % requests : requests + 1);
            const char *values[] = {plain[c].prefix, below, plain[c].status};
            int64_t t = bench_ns ();
            res = PQexecPrepared (conn, "plain_list", 3, values, NULL, NULL, 0);
            samples[i] = bench_ns () - t;
            if (PQresultStatus (res) != PGRES_TUPLES_OK) {
                fprintf (stderr, "bench_lists: %s", PQerrorMessage (conn));
                return 1;
            }
            PQclear (res);
        }
        s_report (plain[c].what, samples, S_CALLS, before);
    }
    st_client_destroy (&client);
    harness_destroy (&h);
    return 0;
}
