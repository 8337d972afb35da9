/*  bench_ledger_books.c — bench_ledger's part "books" (issue 20): the ledger's reads at
    scale, each beside the same SQL run directly on the same database (the statements
    ledger_store.c registers, through a connection of its own: what the op costs beyond its
    queries is the rpc, the checks and the encoding).
    Setup, not measured: 100,000 volunteers (two counties of 5 towns of 10 villages each) and
    their accounts, and 10,000,000 journal rows over two years (hours credited, points earned
    and rated, officials' honour hours and adjustments), written set-based by the superuser
    (generate_series, the transfers' indexes built after the rows), the lots of the points,
    every balance set from its journal, ANALYZE. Then, through rpc to the real ledger process:
    (a) ledger.statement of random volunteers, p50/p99 (goal p99 < 5 ms);
    (b) ledger.journal, the newest page of 50 and the page after it, p50/p99 (goal < 5 ms);
    (c) ranking.list of a county for a quarter, by hours and by points (goal < 200 ms);
    (d) ledger.audit (every balance recomputed from the journal): how long.
    STATION_BENCH_LEDGER_ROWS (default 10,000,000) and STATION_BENCH_LEDGER_PEOPLE (default
    100,000) make it smaller; the database is dropped at the end (harness_destroy).  */
#include "bench_util.h"
#include "harness.h"
#include "ledger_store.h"
#include "st_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_COUNTY "431022000000"

static harness_t *s_h;
static PGconn *s_pg;

static void
s_exec (const char *sql)
{
    PGresult *res = PQexec (s_pg, sql);
    ExecStatusType status = PQresultStatus (res);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        fprintf (stderr, "bench_ledger: %s: %s", sql, PQerrorMessage (s_pg));
        harness_destroy (&s_h); //  drops the database
        exit (1);
    }
    PQclear (res);
}

//  Runs a setup step, saying how long it took.
static void
s_step (const char *what, const char *sql)
{
    int64_t start = bench_ns ();
    s_exec (sql);
    printf ("    setup: %s in %.1f s\n", what, (bench_ns () - start) / 1e9);
    fflush (stdout);
}

static uint64_t s_rng = 88172645463325252ull;
static int
s_pick (int n)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return (int) (s_rng % (uint64_t) n);
}

//  The books: volunteer v (1..people) of village (v - 1) % 100, county 431022 for villages
//  0..49 and 431023 for 50..99; accounts 4v (hours), 4v + 1 (points), 4v + 2 (honour hours);
//  each village's system accounts from 10,000,000 + 8 × village.
static void
s_load (int people, long rows)
{
    char sql[4096];
    s_exec ("SET session_replication_role = replica"); //  setup: no triggers, no FK checks
    s_exec ("SET maintenance_work_mem = '512MB'");
    s_exec ("SET work_mem = '256MB'");
    s_exec ("CREATE TEMP TABLE villages AS SELECT g AS n, (CASE WHEN g < 50 THEN '431022'"
            " ELSE '431023' END) || (100 + g % 50 / 10)::text || (201 + g % 10)::text AS region"
            " FROM generate_series (0, 99) g");
    snprintf (sql, sizeof sql,
              "INSERT INTO ledger.volunteers (id, region, registry_seq, status)"
              " SELECT v, (SELECT region FROM villages WHERE n = (v - 1) %% 100), v, 'active'"
              " FROM generate_series (1, %d) v",
              people);
    s_step ("volunteers", sql);
    snprintf (sql, sizeof sql,
              "INSERT INTO ledger.accounts (id, kind, volunteer_id, unit) OVERRIDING SYSTEM VALUE"
              " SELECT 4 * v + k, CASE k WHEN 2 THEN 'honour' ELSE 'volunteer' END, v,"
              " CASE k WHEN 1 THEN 'points' ELSE 'hours' END"
              " FROM generate_series (1, %d) v, generate_series (0, 2) k",
              people);
    s_step ("volunteers' accounts", sql);
    s_exec (
        "INSERT INTO ledger.accounts (id, kind, region, unit) OVERRIDING SYSTEM VALUE"
        " SELECT 10000000 + 8 * n + k, (ARRAY['issuance', 'issuance', 'adjustment',"
        " 'adjustment', 'redemption', 'expiry'])[k + 1], region, (ARRAY['hours', 'points',"
        " 'hours', 'points', 'points', 'points'])[k + 1] FROM villages, generate_series (0, 5) k");
    s_exec ("SELECT setval (pg_get_serial_sequence ('ledger.accounts', 'id'),"
            " (SELECT max (id) FROM ledger.accounts))");
    //  The indexes of the transfers and the lots but their keys, built again after the rows.
    PGresult *res = PQexec (s_pg, "SELECT indexrelid::regclass::text, pg_get_indexdef (indexrelid)"
                                  " FROM pg_index WHERE indrelid IN ('ledger.transfers'::regclass,"
                                  " 'ledger.lots'::regclass) AND NOT indisprimary"
                                  " AND NOT indisunique");
    int indexes = PQntuples (res);
    char **defs = calloc ((size_t) indexes + 1, sizeof *defs);
    for (int i = 0; i < indexes; i++) {
        snprintf (sql, sizeof sql, "DROP INDEX %s", PQgetvalue (res, i, 0));
        s_exec (sql);
        defs[i] = strdup (PQgetvalue (res, i, 1));
    }
    PQclear (res);
    //  Row g: volunteer (g × 7919) mod people, day spread over two years in id order; 4 of
    //  10 hours credited, 4 points earned, 1 a rating's points, 1 by an official (honour
    //  hours or points, one in five each way: marked manual, with a reason). A volunteer's
    //  rows are g, g + people, g + 2 people, ...: the kind goes by that round (j), so that
    //  each has every kind (by g itself, g mod 10 was the same for all of one's rows, and
    //  each volunteer had rows of one unit only).
    snprintf (
        sql, sizeof sql,
        "INSERT INTO ledger.transfers (debit, credit, unit, amount, kind, source, volunteer_id,"
        " manual, reason, day, debit_after, credit_after, at)"
        " SELECT 10000000 + 8 * ((v - 1) %% 100) + CASE k WHEN 'credit' THEN 0 WHEN 'honour'"
        " THEN 2 WHEN 'adjust' THEN 3 ELSE 1 END, 4 * v + CASE k WHEN 'credit' THEN 0"
        " WHEN 'honour' THEN 2 ELSE 1 END, CASE WHEN k IN ('credit', 'honour') THEN 'hours'"
        " ELSE 'points' END, CASE WHEN k IN ('credit', 'honour') THEN 30 + g %% 151"
        " ELSE 1 + g %% 30 END, k, 'bench/' || lpad (g::text, 10, '0'), v,"
        " k IN ('honour', 'adjust'), CASE WHEN k IN ('honour', 'adjust') THEN '补录' END,"
        " d, 0, 0, d + time '10:00' - interval '8 hours'"
        " FROM (SELECT g, 1 + (g * 7919::bigint) %% %d AS v,"
        " date '2024-07-01' + (g::bigint * 730 / %ld)::integer AS d,"
        " CASE WHEN j %% 10 < 4 THEN 'credit' WHEN j %% 10 < 8 THEN 'earn' WHEN j %% 10 = 8"
        " THEN 'rating' WHEN j %% 20 = 9 THEN 'honour' ELSE 'adjust' END AS k"
        " FROM generate_series (1, %ld) g, LATERAL (SELECT (g - 1) / %d AS j) l) x",
        people, rows, rows, people);
    s_step ("journal rows", sql);
    s_exec ("SELECT setval (pg_get_serial_sequence ('ledger.transfers', 'id'),"
            " (SELECT max (id) FROM ledger.transfers))");
    s_step ("the lots of the points credited",
            "INSERT INTO ledger.lots (transfer_id, volunteer_id, amount, remaining, earned_on)"
            " SELECT id, volunteer_id, amount, amount, day FROM ledger.transfers"
            " WHERE unit = 'points'");
    for (int i = 0; i < indexes; i++) {
        s_step (defs[i], defs[i]);
        free (defs[i]);
    }
    free (defs);
    s_exec ("ANALYZE ledger.transfers, ledger.accounts");
    //  What the trigger keeps at posting (sql/0011_ranking_totals.sql), as its migration
    //  fills it.
    s_step ("the ranking totals", "INSERT INTO ledger.ranking_totals"
                                  " SELECT * FROM ledger.ranking_journal ORDER BY 1, 2, 3, 4, 5");
    s_step ("every balance from its journal",
            "UPDATE ledger.accounts a SET balance = j.sum FROM (SELECT account, sum (delta)"
            " AS sum FROM (SELECT credit AS account, amount AS delta FROM ledger.transfers"
            " UNION ALL SELECT debit, -amount FROM ledger.transfers) x GROUP BY account) j"
            " WHERE a.id = j.account");
    s_step ("VACUUM ANALYZE (as autovacuum would, for index-only scans)", "VACUUM ANALYZE");
    s_exec ("SET session_replication_role = DEFAULT");
    s_exec ("RESET work_mem");
    s_exec ("DROP TABLE villages");
}

//  The figures of n samples (ns): p50, p99, max, in ms.
static void
s_print (const char *what, int64_t *samples, int n)
{
    int64_t max = bench_quantile (samples, (size_t) n, 1.0);
    printf ("    %-58s p50 %6.2f ms  p99 %6.2f ms  max %7.2f ms  (%d)\n", what,
            bench_quantile (samples, (size_t) n, 0.5) / 1e6,
            bench_quantile (samples, (size_t) n, 0.99) / 1e6, max / 1e6, n);
}

//  Runs registered statement `name` with params directly; fails the bench on an error.
static PGresult *
s_direct (st_db_t *db, const char *name, st_params_t *params)
{
    PGresult *res = NULL;
    st_error_t err;
    if (st_db_exec (db, name, params, &res, &err) != ST_OK) {
        fprintf (stderr, "bench_ledger: %s: %s\n", name, err.message);
        exit (1);
    }
    st_params_clear (params);
    return res;
}

//  With STATION_BENCH_LEDGER_EXPLAIN set, the plan of registered statement `name` (prepared
//  on db's connection by a run before) executed with `args` (SQL literals), as it ran.
static void
s_explain (st_db_t *db, const char *name, const char *args)
{
    if (!getenv ("STATION_BENCH_LEDGER_EXPLAIN"))
        return;
    char sql[512];
    snprintf (sql, sizeof sql, "EXPLAIN (ANALYZE, BUFFERS, SETTINGS) EXECUTE %s%s%s%s", name,
              *args ? " (" : "", args, *args ? ")" : "");
    PGresult *res = PQexec (st_db_conn (db), sql);
    printf ("    %s\n", sql);
    for (int i = 0; i < PQntuples (res); i++)
        printf ("      %s\n", PQgetvalue (res, i, 0));
    if (PQresultStatus (res) != PGRES_TUPLES_OK)
        printf ("      %s", PQerrorMessage (st_db_conn (db)));
    PQclear (res);
}

//  A random volunteer of the county (villages 0..49).
static int
s_county_volunteer (int people)
{
    int v;
    do
        v = 1 + s_pick (people);
    while ((v - 1) % 100 >= 50);
    return v;
}

int
bench_ledger_books (void)
{
    const char *env = getenv ("STATION_BENCH_LEDGER_ROWS");
    long rows = env ? atol (env) : 10000000;
    env = getenv ("STATION_BENCH_LEDGER_PEOPLE");
    int people = env ? atoi (env) : 100000;
    int samples = 2000;
    s_h = harness_new ("bench_ledger_books");
    harness_t *h = s_h;
    s_pg = harness_pg (h);
    printf ("(3) the books at scale: %d volunteers, %ld journal rows\n", people, rows);
    harness_start (h, "ledger"); //  its migrations make the schema
    harness_stop (h, "ledger", SIGTERM);
    int64_t start = bench_ns ();
    s_load (people, rows);
    printf ("    setup: %.1f s in all; the journal takes %s on disk\n", (bench_ns () - start) / 1e9,
            PQgetvalue (PQexec (s_pg, "SELECT pg_size_pretty (pg_total_relation_size"
                                      " ('ledger.transfers'))"),
                        0, 0));
    harness_start (h, "ledger");
    st_client_t *client = harness_client (h, "ledger", "gateway");
    st_client_t *operator= harness_client (h, "ledger", "operator");
    st_db_t *db = st_db_new (harness_conninfo (h), "ledger", "ledger");
    ledger_store_prepare (db);
    msg_actor_t county = {.account = "county", .role = "region_admin", .region = S_COUNTY};
    msg_actor_t system = {.account = "operator-1", .role = "system"};
    int64_t *rpc = calloc ((size_t) samples, sizeof *rpc);
    int64_t *sql = calloc ((size_t) samples, sizeof *sql);
    int failed = 0;
    st_error_t err;

    //  (a) ledger.statement; its SQL: the volunteer known, the statement, its expiry.
    for (int i = 0; i < samples; i++) {
        char id[24];
        snprintf (id, sizeof id, "%d", s_county_volunteer (people));
        msg_ledger_volunteer_t request = {.volunteer_id = id};
        msg_statement_t reply = {0};
        int64_t t = bench_ns ();
        if (st_client_call (client, "ledger.statement", &county, NULL, &msg_ledger_volunteer_desc,
                            &request, &msg_statement_desc, &reply, 10000, &err)
            != ST_OK) {
            if (failed++ == 0)
                fprintf (stderr, "bench_ledger: ledger.statement: %s\n", err.message);
        }
        rpc[i] = bench_ns () - t;
        st_msg_clear (&msg_statement_desc, &reply);
        snprintf (id, sizeof id, "%d", s_county_volunteer (people));
        st_params_t params = {0};
        t = bench_ns ();
        const char *names[] = {"ledger_volunteer_known", "ledger_statement",
                               "ledger_statement_expiry"};
        for (int k = 0; k < 3; k++) {
            st_params_int (&params, atoll (id));
            PQclear (s_direct (db, names[k], &params));
        }
        sql[i] = bench_ns () - t;
    }
    s_explain (db, "ledger_statement", "77");
    s_explain (db, "ledger_statement_expiry", "77");
    s_print ("ledger.statement through rpc (goal p99 < 5 ms):", rpc, samples);
    s_print ("  its SQL run directly (3 statements):", sql, samples);

    //  (b) ledger.journal of points or hours: the newest page of 50; the page of 20 after the
    //  newest 20 (its cursor that page's last entry).
    int64_t *rpc2 = calloc ((size_t) samples, sizeof *rpc2);
    int64_t *sql2 = calloc ((size_t) samples, sizeof *sql2);
    for (int i = 0; i < samples; i++) {
        char id[24];
        snprintf (id, sizeof id, "%d", s_county_volunteer (people));
        msg_journal_query_t request = {.volunteer_id = id,
                                       .unit = (char *) (i % 2 ? "hours" : "points"),
                                       .limit = 50,
                                       .has_limit = true};
        msg_journal_page_t reply = {0};
        int64_t t = bench_ns ();
        if (st_client_call (client, "ledger.journal", &county, NULL, &msg_journal_query_desc,
                            &request, &msg_journal_page_desc, &reply, 10000, &err)
            != ST_OK) {
            if (failed++ == 0)
                fprintf (stderr, "bench_ledger: ledger.journal: %s\n", err.message);
        }
        rpc[i] = bench_ns () - t;
        //  The page of 20 after the newest 20 (a volunteer has about 50 of each unit).
        msg_journal_page_t first = {0};
        request.limit = 20;
        if (st_client_call (client, "ledger.journal", &county, NULL, &msg_journal_query_desc,
                            &request, &msg_journal_page_desc, &first, 10000, &err)
            != ST_OK) {
            if (failed++ == 0)
                fprintf (stderr, "bench_ledger: ledger.journal: %s\n", err.message);
        }
        request.cursor = first.next_cursor;
        msg_journal_page_t next = {0};
        t = bench_ns ();
        if (request.cursor
            && st_client_call (client, "ledger.journal", &county, NULL, &msg_journal_query_desc,
                               &request, &msg_journal_page_desc, &next, 10000, &err)
                   != ST_OK) {
            if (failed++ == 0)
                fprintf (stderr, "bench_ledger: ledger.journal: %s\n", err.message);
        }
        rpc2[i] = bench_ns () - t;
        st_msg_clear (&msg_journal_page_desc, &next);
        st_params_t params = {0};
        for (int page = 0; page < 2; page++) {
            t = bench_ns ();
            st_params_int (&params, atoll (id));
            PQclear (s_direct (db, "ledger_volunteer_known", &params));
            st_params_int (&params, atoll (id));
            st_params_text (&params, request.unit);
            st_params_int_or_null (&params, page == 1 && request.cursor,
                                   request.cursor ? atoll (request.cursor) : 0);
            st_params_int (&params, page ? 20 : 50);
            PQclear (s_direct (db, "ledger_journal", &params));
            (page ? sql2 : sql)[i] = bench_ns () - t;
        }
        st_msg_clear (&msg_journal_page_desc, &first);
        st_msg_clear (&msg_journal_page_desc, &reply);
    }
    s_explain (db, "ledger_journal", "77, 'points', NULL, 50");
    s_print ("ledger.journal, newest page of 50, through rpc (goal p99 < 5 ms):", rpc, samples);
    s_print ("  its SQL run directly:", sql, samples);
    s_print ("ledger.journal, the page of 20 after the newest 20, rpc (goal < 5 ms):", rpc2,
             samples);
    s_print ("  its SQL run directly:", sql2, samples);
    free (rpc2);
    free (sql2);

    //  (c) ranking.list of the county, a quarter (the second of 2025), by hours and points.
    int rankings = 20;
    for (int i = 0; i < rankings; i++) {
        const char *by = i % 2 ? "points" : "hours";
        msg_ranking_query_t request = {.region = S_COUNTY,
                                       .period = "quarter",
                                       .by = (char *) by,
                                       .at = "2025-05-15",
                                       .limit = 50,
                                       .has_limit = true};
        msg_ranking_page_t reply = {0};
        int64_t t = bench_ns ();
        if (st_client_call (client, "ranking.list", &county, NULL, &msg_ranking_query_desc,
                            &request, &msg_ranking_page_desc, &reply, 60000, &err)
            != ST_OK) {
            if (failed++ == 0)
                fprintf (stderr, "bench_ledger: ranking.list: %s\n", err.message);
        }
        rpc[i] = bench_ns () - t;
        st_msg_clear (&msg_ranking_page_desc, &reply);
        st_params_t params = {0};
        t = bench_ns ();
        st_params_text (&params, "quarter");
        st_params_text (&params, "2025-05-15");
        PQclear (s_direct (db, "ledger_period", &params));
        st_params_text (&params, "431022");
        st_params_text (&params, by);
        st_params_text (&params, "2025-04-01");
        st_params_text (&params, "2025-06-30");
        st_params_int (&params, 0);
        st_params_int (&params, 50);
        PQclear (s_direct (db, "ledger_ranking", &params));
        sql[i] = bench_ns () - t;
    }
    s_explain (db, "ledger_ranking", "'431022', 'hours', '2025-04-01', '2025-06-30', 0, 50");
    s_print ("ranking.list, a county's quarter, through rpc (goal < 200 ms):", rpc, rankings);
    s_print ("  its SQL run directly:", sql, rankings);
    //  The same ranking summed from the journal, as ranking.list did before the totals
    //  (0007's indexes, by the subtree's system accounts, which 0012 dropped: made again
    //  here for it alone), prepared as it was, with no JIT as the ledger's sessions (0008).
    int64_t indexing = bench_ns ();
    s_exec ("CREATE INDEX IF NOT EXISTS bench_debit_day ON ledger.transfers (debit, unit, day)"
            " INCLUDE (volunteer_id, amount, kind, manual)");
    s_exec ("CREATE INDEX IF NOT EXISTS bench_credit_day ON ledger.transfers (credit, unit, day)"
            " INCLUDE (volunteer_id, amount, kind, manual)");
    s_exec ("ANALYZE ledger.transfers");
    printf ("  (the baseline's two indexes made in %.0f s)\n", (bench_ns () - indexing) / 1e9);
    s_exec ("SET jit = off");
    PGresult *old = PQprepare (
        s_pg, "journal_ranking",
        "WITH s AS (SELECT id FROM ledger.accounts WHERE region IS NOT NULL AND unit = $2"
        " AND left (region, length ($1)) = $1),"
        " x AS (SELECT t.volunteer_id, t.amount, t.manual FROM s JOIN ledger.transfers t"
        " ON t.debit = s.id AND t.unit = $2 AND t.day BETWEEN $3::date AND $4::date"
        " WHERE t.kind = ANY (CASE WHEN $2 = 'hours' THEN ARRAY['credit', 'honour']"
        " ELSE ARRAY['earn', 'rating', 'adjust'] END)"
        " UNION ALL SELECT t.volunteer_id, -t.amount, t.manual FROM s JOIN ledger.transfers t"
        " ON t.credit = s.id AND t.unit = $2 AND t.day BETWEEN $3::date AND $4::date"
        " WHERE t.kind = ANY (CASE WHEN $2 = 'hours' THEN ARRAY['credit', 'honour']"
        " ELSE ARRAY['earn', 'rating', 'adjust'] END)),"
        " g AS (SELECT volunteer_id, sum (amount) AS amount, sum (CASE WHEN manual THEN amount"
        " ELSE 0 END) AS manual FROM x GROUP BY volunteer_id),"
        " r AS (SELECT rank () OVER (ORDER BY g.amount DESC) AS rank, g.* FROM g"
        " LEFT JOIN ledger.volunteers v ON v.id = g.volunteer_id"
        " WHERE coalesce (v.status, 'active') = 'active' AND g.amount > 0)"
        " SELECT r.rank, r.volunteer_id::text AS volunteer_id, r.amount, r.manual FROM r"
        " ORDER BY r.amount DESC, r.volunteer_id OFFSET $5 LIMIT $6",
        6, NULL);
    PQclear (old);
    for (int i = 0; i < rankings; i++) {
        const char *values[] = {
            "431022", i % 2 ? "points" : "hours", "2025-04-01", "2025-06-30", "0", "50"};
        int64_t t = bench_ns ();
        PQclear (PQexecPrepared (s_pg, "journal_ranking", 6, values, NULL, NULL, 0));
        sql[i] = bench_ns () - t;
    }
    s_print ("  baseline: summed from the journal (before 0011), directly:", sql, rankings);
    //  Gone again, so that what follows (the audit) plans as the ledger's own tables are.
    s_exec ("DROP INDEX ledger.bench_debit_day, ledger.bench_credit_day");
    s_exec ("ANALYZE ledger.transfers");

    //  (d) ledger.audit.
    int audits = 1;
    for (int i = 0; i < audits; i++) {
        msg_empty_t request = {0};
        msg_audit_t reply = {0};
        int64_t t = bench_ns ();
        if (st_client_call (operator, "ledger.audit", &system, NULL, &msg_empty_desc, &request,
                            &msg_audit_desc, &reply, 600000, &err)
            != ST_OK) {
            if (failed++ == 0)
                fprintf (stderr, "bench_ledger: ledger.audit: %s\n", err.message);
        } else if (!reply.ok)
            fprintf (stderr, "bench_ledger: ledger.audit finds differences\n");
        rpc[i] = bench_ns () - t;
        st_msg_clear (&msg_audit_desc, &reply);
        st_params_t params = {0};
        t = bench_ns ();
        PQclear (s_direct (db, "ledger_audit_counts", &params));
        PQclear (s_direct (db, "ledger_audit_sums", &params));
        PQclear (s_direct (db, "ledger_audit_differences", &params));
        sql[i] = bench_ns () - t;
    }
    s_explain (db, "ledger_audit_counts", "");
    s_explain (db, "ledger_audit_sums", "");
    s_explain (db, "ledger_audit_differences", "");
    s_print ("ledger.audit through rpc:", rpc, audits);
    s_print ("  its SQL run directly:", sql, audits);
    printf ("    (%d calls failed)\n", failed);
    free (rpc);
    free (sql);
    st_db_destroy (&db);
    st_client_destroy (&client);
    st_client_destroy (&operator);
    harness_destroy (&s_h); //  drops the database
    return failed ? 1 : 0;
}
