/*  bench_ledger.c — the ledger's posting rate (issue 20), each figure beside a plain baseline
    measured in the same run on the same PostgreSQL:
    (1) a backlog of service.completed events (written into match's outbox while the ledger is
        down) drained by the ledger's consumer: transfers per second (hours and points per
        record, priced by the region's rule, the daily cap, idempotency, the lots, stars),
        against plain set-based INSERT/UPDATE batches of the same transfers (one transaction
        per 500 events, as the consumer's pages), and against plain batches of every row the
        ledger writes for them (copies of its tables, without its triggers and checks);
    (2) ledger.adjust through rpc, one transfer per transaction, against a plain single-row
        transaction (a transfer inserted, two balances updated); and the CPU a call costs in
        each process (the ledger's PostgreSQL sessions, the ledger, match, which reads
        ledger.adjusted, and its sessions, this client). Then both again with fsync on, each
        commit flushed to disk as in production (the throwaway cluster runs with it off).
    (4) redemption.reserve of one hot item from 64 clients at once (st_client threads, each
        a volunteer with points to spare) until its stock is gone: reservations/s, and none
        oversold; against 64 libpq connections reserving as one plain statement each (stock
        taken, points held, a redemption row).
    (3) the books at scale (bench_ledger_books.c): 100,000 volunteers, 10,000,000 journal
        rows; ledger.statement, ledger.journal, ranking.list and ledger.audit.
    Needs the throwaway cluster scripts/bench starts.
    Usage: bench_ledger [events (default 100000, or STATION_BENCH_LEDGER_EVENTS)]
                        [adjustments (default 2000)]
    STATION_BENCH_LEDGER_PARTS picks parts: "posting" ((1) and (2)), "books" ((3)), or both
    (the default, comma-separated).  */
#include "bench_sizes.h"
#include "bench_util.h"
#include "harness.h"
#include "st_events.h"
#include "st_log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_VOLUNTEERS 1000
#define S_BATCH      500

int bench_ledger_books (void);

//  Whether part `name` is picked (STATION_BENCH_LEDGER_PARTS, all when unset).
static bool
s_part (const char *name)
{
    const char *parts = getenv ("STATION_BENCH_LEDGER_PARTS");
    if (!parts || !*parts)
        return true;
    size_t length = strlen (name);
    for (const char *p = strstr (parts, name); p; p = strstr (p + 1, name))
        if ((p == parts || p[-1] == ',') && (p[length] == '\0' || p[length] == ','))
            return true;
    return false;
}

static void
s_exec (PGconn *conn, const char *sql)
{
    PGresult *res = PQexec (conn, sql);
    ExecStatusType status = PQresultStatus (res);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        fprintf (stderr, "bench_ledger: %s: %s", sql, PQerrorMessage (conn));
        exit (1);
    }
    PQclear (res);
}

static int64_t
s_value (PGconn *conn, const char *sql)
{
    PGresult *res = PQexec (conn, sql);
    if (PQresultStatus (res) != PGRES_TUPLES_OK) {
        fprintf (stderr, "bench_ledger: %s: %s", sql, PQerrorMessage (conn));
        exit (1);
    }
    int64_t value = PQntuples (res) ? atoll (PQgetvalue (res, 0, 0)) : 0;
    PQclear (res);
    return value;
}

//  CPU seconds (user and system) process `pid` has used so far; 0 when it is gone.
static double
s_cpu (int pid)
{
    char path[64], line[1024];
    snprintf (path, sizeof path, "/proc/%d/stat", pid);
    FILE *file = fopen (path, "r");
    if (!file)
        return 0;
    size_t size = fread (line, 1, sizeof line - 1, file);
    fclose (file);
    line[size] = 0;
    //  After the command's closing parenthesis: state (3), ..., utime (14), stime (15).
    char *p = strrchr (line, ')');
    unsigned long long utime = 0, stime = 0;
    if (!p
        || sscanf (p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime)
               != 2)
        return 0;
    return (double) (utime + stime) / (double) sysconf (_SC_CLK_TCK);
}

//  Where the drain's time goes, by process: the CPU each of the ledger's and match's
//  processes and their PostgreSQL backends used between s_phases_start and s_phases_end.
#define S_BACKENDS 64
typedef struct {
    int ledger, match;              //  the service processes
    double ledger_cpu, match_cpu;   //  their CPU at the start, then used
    int backends[S_BACKENDS];       //  PostgreSQL backends of either role
    char roles[S_BACKENDS][16];     //  their role
    double backend_cpu[S_BACKENDS]; //  their CPU at the start (then [0], [1]:
                                    //  the ledger's and match's used)
    int count;
} s_phases_t;

//  Adds the backends of roles ledger and match not known yet (CPU counted from `from_zero`,
//  or from now).
static void
s_phases_backends (s_phases_t *self, PGconn *pg, bool from_zero)
{
    PGresult *res = PQexec (pg, "SELECT pid, usename FROM pg_stat_activity WHERE datname ="
                                " current_database () AND usename IN ('ledger', 'match')");
    for (int i = 0; i < PQntuples (res) && self->count < S_BACKENDS; i++) {
        int pid = atoi (PQgetvalue (res, i, 0));
        bool known = false;
        for (int k = 0; k < self->count; k++)
            known |= self->backends[k] == pid;
        if (known)
            continue;
        self->backends[self->count] = pid;
        snprintf (self->roles[self->count], sizeof self->roles[0], "%s", PQgetvalue (res, i, 1));
        self->backend_cpu[self->count++] = from_zero ? 0 : s_cpu (pid);
    }
    PQclear (res);
}

static void
s_phases_start (s_phases_t *self, PGconn *pg, int ledger, int match)
{
    *self = (s_phases_t){.ledger = ledger, .match = match};
    self->ledger_cpu = s_cpu (ledger);
    self->match_cpu = s_cpu (match);
    s_phases_backends (self, pg, false);
}

//  Sampled while the drain runs: backends opened meanwhile count from zero.
static void
s_phases_sample (s_phases_t *self, PGconn *pg)
{
    s_phases_backends (self, pg, true);
}

//  The CPU each part used since s_phases_start, kept for s_phases_print.
static void
s_phases_end (s_phases_t *self, PGconn *pg)
{
    s_phases_backends (self, pg, true);
    double ledger_db = 0, match_db = 0;
    for (int k = 0; k < self->count; k++) {
        double used = s_cpu (self->backends[k]) - self->backend_cpu[k];
        if (strcmp (self->roles[k], "ledger") == 0)
            ledger_db += used;
        else
            match_db += used;
    }
    self->ledger_cpu = s_cpu (self->ledger) - self->ledger_cpu;
    self->match_cpu = s_cpu (self->match) - self->match_cpu;
    self->backend_cpu[0] = ledger_db;
    self->backend_cpu[1] = match_db;
}

//  Prints the CPU of each part per 10,000 events (`events` drained in `seconds`).
static void
s_phases_print (s_phases_t *self, int events, double seconds)
{
    double scale = 10000.0 / events * 1000.0; //  ms per 10,000 events
    double ledger_db = self->backend_cpu[0], match_db = self->backend_cpu[1];
    double ledger = self->ledger_cpu, match = self->match_cpu;
    printf ("    per 10,000 events: %.0f ms wall; CPU: ledger's PostgreSQL %.0f ms, ledger process"
            " (consumer: rpc read, decode, events) %.0f ms, match process (events.read) %.0f ms,"
            " match's PostgreSQL %.0f ms\n",
            seconds * scale, ledger_db * scale, ledger * scale, match * scale, match_db * scale);
}

//  The ledger's functions' time (track_functions, counted by the sessions that ended):
//  per 10,000 events, the total (with what they call) and their own.
static void
s_functions (PGconn *pg, int events)
{
    PGresult *res = PQexec (pg, "SELECT funcname, calls, total_time, self_time"
                                " FROM pg_stat_user_functions WHERE schemaname = 'ledger'"
                                " AND total_time > 0 ORDER BY total_time DESC LIMIT 12");
    if (PQresultStatus (res) != PGRES_TUPLES_OK) {
        PQclear (res);
        return;
    }
    double scale = 10000.0 / events;
    printf ("    in the ledger's SQL functions, per 10,000 events (ms, with callees / own):");
    for (int i = 0; i < PQntuples (res); i++)
        printf ("%s %s %.0f/%.0f", i ? "," : "", PQgetvalue (res, i, 0),
                atof (PQgetvalue (res, i, 2)) * scale, atof (PQgetvalue (res, i, 3)) * scale);
    printf ("\n");
    PQclear (res);
}

//  Whether pg_stat_statements is loaded (shared_preload_libraries): then the ledger's
//  sessions opened from here on count every statement, those inside its functions too.
static bool
s_statements_start (PGconn *pg)
{
    PGresult *res = PQexec (pg, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
    bool loaded = PQresultStatus (res) == PGRES_COMMAND_OK;
    PQclear (res);
    if (!loaded)
        return false;
    res = PQexec (pg, "SELECT pg_stat_statements_reset ()");
    loaded = PQresultStatus (res) == PGRES_TUPLES_OK;
    PQclear (res);
    if (loaded)
        s_exec (pg, "DO $$ BEGIN EXECUTE format ('ALTER DATABASE %I SET pg_stat_statements.track"
                    " = ''all''', current_database ()); END $$");
    return loaded;
}

//  The ledger's statements (nested ones too) by their server time per op of `calls` ops,
//  top first (a statement's time includes the statements it runs).
static void
s_statements (PGconn *pg, int calls)
{
    PGresult *res = PQexec (pg, "SELECT s.calls, s.total_exec_time,"
                                " regexp_replace (left (s.query, 100), '\\s+', ' ', 'g')"
                                " FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid"
                                " WHERE r.rolname = 'ledger'"
                                " ORDER BY s.total_exec_time DESC LIMIT 25");
    if (PQresultStatus (res) != PGRES_TUPLES_OK) {
        PQclear (res);
        return;
    }
    printf (
        "    the ledger's statements (pg_stat_statements, nested too), per op: us (calls/op)\n");
    for (int i = 0; i < PQntuples (res); i++)
        printf ("      %7.1f (%5.2f)  %s\n", atof (PQgetvalue (res, i, 1)) * 1000.0 / calls,
                atof (PQgetvalue (res, i, 0)) / calls, PQgetvalue (res, i, 2));
    PQclear (res);
}

//  Record i: its volunteer, minutes and day (spread so that the daily cap rarely binds).
static int
s_volunteer (int i)
{
    return 1 + i % S_VOLUNTEERS;
}
static int
s_minutes (int i)
{
    return 30 + i % 91;
}

//  Writes n completions into match's outbox in one transaction, as match would.
static void
s_backlog (PGconn *pg, int n)
{
    s_exec (pg, "BEGIN");
    PGresult *res =
        PQprepare (pg, "outbox", "INSERT INTO match.outbox (topic, body) VALUES ($1, $2)", 2, NULL);
    PQclear (res);
    for (int i = 0; i < n; i++) {
        char record[24], volunteer[24], checkout[48];
        snprintf (record, sizeof record, "%d", 1 + i);
        snprintf (volunteer, sizeof volunteer, "%d", s_volunteer (i));
        int day = (i / S_VOLUNTEERS) % 28;
        snprintf (checkout, sizeof checkout, "2026-%02d-%02dT10:00:00+08:00", 1 + (i / 28000) % 12,
                  1 + day);
        msg_service_completed_t body = {.record_id = record,
                                        .volunteer_id = volunteer,
                                        .region = "431022100201",
                                        .category = "elderly",
                                        .hours = s_minutes (i) / 60.0,
                                        .has_hours = true,
                                        .checkin_at = checkout,
                                        .checkout_at = checkout,
                                        .minutes = s_minutes (i),
                                        .has_minutes = true};
        st_params_t params = {0};
        st_error_t err;
        if (st_event_params ("service.completed", &msg_service_completed_desc, &body, &params, &err)
            != ST_OK) {
            fprintf (stderr, "bench_ledger: %s\n", err.message);
            exit (1);
        }
        res = PQexecPrepared (pg, "outbox", params.count, params.values, params.lengths,
                              params.formats, 0);
        if (PQresultStatus (res) != PGRES_COMMAND_OK) {
            fprintf (stderr, "bench_ledger: %s", PQerrorMessage (pg));
            exit (1);
        }
        PQclear (res);
        st_params_clear (&params);
    }
    s_exec (pg, "COMMIT");
}

//  Runs statement `name` ($1 records, $2 volunteers, $3 minutes) on the n events in batches
//  of S_BATCH, each its own transaction; the seconds it took.
static double
s_batches (PGconn *pg, const char *name, int n)
{
    size_t room = (size_t) S_BATCH * 12 + 8;
    char *records = malloc (room), *volunteers = malloc (room), *minutes = malloc (room);
    int64_t start = bench_ns ();
    for (int first = 0; first < n; first += S_BATCH) {
        size_t r = 0, v = 0, m = 0;
        records[r++] = volunteers[v++] = minutes[m++] = '{';
        for (int i = first; i < first + S_BATCH && i < n; i++) {
            const char *sep = i == first ? "" : ",";
            r += (size_t) snprintf (records + r, room - r, "%s%d", sep, 1 + i);
            v += (size_t) snprintf (volunteers + v, room - v, "%s%d", sep, s_volunteer (i));
            m += (size_t) snprintf (minutes + m, room - m, "%s%d", sep, s_minutes (i));
        }
        snprintf (records + r, room - r, "}");
        snprintf (volunteers + v, room - v, "}");
        snprintf (minutes + m, room - m, "}");
        const char *values[3] = {records, volunteers, minutes};
        PGresult *res = PQexecPrepared (pg, name, 3, values, NULL, NULL, 0);
        if (PQresultStatus (res) != PGRES_COMMAND_OK) {
            fprintf (stderr, "bench_ledger: %s", PQerrorMessage (pg));
            exit (1);
        }
        PQclear (res);
    }
    double seconds = (bench_ns () - start) / 1e9;
    free (records);
    free (volunteers);
    free (minutes);
    return seconds;
}

//  The baseline of (1): the same transfers (hours and points of each record) as set-based
//  batches, each one transaction: the transfers inserted, the balances updated. Returns the
//  seconds it took.
static double
s_plain_batches (PGconn *pg, int n)
{
    s_exec (pg, "CREATE TABLE plain_accounts (id bigint PRIMARY KEY, balance bigint NOT NULL"
                " DEFAULT 0)");
    s_exec (pg, "INSERT INTO plain_accounts (id) SELECT generate_series (0, 2 * 1001 + 2)");
    s_exec (pg, "CREATE TABLE plain_transfers (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY"
                " KEY, debit bigint NOT NULL, credit bigint NOT NULL, unit text NOT NULL, amount"
                " bigint NOT NULL CHECK (amount > 0), source text NOT NULL, at timestamptz NOT"
                " NULL DEFAULT now (), UNIQUE (source, unit))");
    PGresult *res = PQprepare (
        pg, "plain",
        "WITH e AS (SELECT * FROM unnest ($1::bigint[], $2::bigint[], $3::integer[])"
        " AS e (record, volunteer, minutes)),"
        " t AS (INSERT INTO plain_transfers (debit, credit, unit, amount, source)"
        " SELECT u.k, 2 + e.volunteer * 2 + u.k, u.unit, CASE u.k WHEN 0 THEN e.minutes"
        " ELSE e.minutes * 10 / 60 END, 'record/' || e.record FROM e, (VALUES (0, 'hours'),"
        " (1, 'points')) u (k, unit) RETURNING debit, credit, amount),"
        " c AS (UPDATE plain_accounts a SET balance = a.balance + s.amount FROM (SELECT credit,"
        " sum (amount) AS amount FROM t GROUP BY credit) s WHERE a.id = s.credit)"
        " UPDATE plain_accounts a SET balance = a.balance - s.amount FROM (SELECT debit,"
        " sum (amount) AS amount FROM t GROUP BY debit) s WHERE a.id = s.debit",
        3, NULL);
    PQclear (res);
    return s_batches (pg, "plain", n);
}

//  The second baseline of (1): every row the ledger writes for the same events, set-based, in
//  copies of its own tables (the same columns and indexes; no triggers, no references, no
//  pricing, caps or checks of an event's order): a completion, its two transfers, the lot
//  of its points, the month's ranking totals, its points.awarded in the outbox (numbered as
//  it is written), the balances, the cursor. Needs s_plain_batches' plain_accounts. Returns
//  the seconds it took.
static double
s_plain_same_rows (PGconn *pg, int n)
{
    const char *tables[] = {"completions",    "transfers", "lots",
                            "ranking_totals", "outbox",    "consumer_cursors"};
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        char sql[256];
        snprintf (sql, sizeof sql, "CREATE TABLE same_%s (LIKE ledger.%s INCLUDING ALL)", tables[i],
                  tables[i]);
        s_exec (pg, sql);
    }
    s_exec (pg, "CREATE SEQUENCE same_outbox_seq");
    s_exec (pg, "INSERT INTO same_consumer_cursors (publisher) VALUES ('match')");
    //  Accounts: 0 and 1 the issuance of hours and points, 2 + 2v + k volunteer v's.
    PGresult *res = PQprepare (
        pg, "same",
        "WITH e AS (SELECT * FROM unnest ($1::bigint[], $2::bigint[], $3::integer[])"
        " AS e (record, volunteer, minutes)),"
        " c AS (INSERT INTO same_completions (record_id, volunteer_id, region, minutes, points,"
        " rule_version, checkout_at, day, event_seq) SELECT e.record, e.volunteer,"
        " '431022100201', e.minutes, e.minutes * 10 / 60, 1, now (), current_date, e.record"
        " FROM e),"
        " t AS (INSERT INTO same_transfers (debit, credit, unit, amount, kind, source,"
        " volunteer_id, rule_version, day, event_seq, debit_after, credit_after)"
        " SELECT u.k, 2 + e.volunteer * 2 + u.k, u.unit, CASE u.k WHEN 0 THEN e.minutes"
        " ELSE e.minutes * 10 / 60 END, CASE u.k WHEN 0 THEN 'credit' ELSE 'earn' END,"
        " 'record/' || e.record, e.volunteer, 1, current_date, e.record, 0, 0"
        " FROM e, (VALUES (0, 'hours'), (1, 'points')) u (k, unit)"
        " RETURNING id, debit, credit, unit, amount, volunteer_id, day),"
        " l AS (INSERT INTO same_lots (transfer_id, volunteer_id, amount, remaining, earned_on)"
        " SELECT t.id, t.volunteer_id, t.amount, t.amount, t.day FROM t"
        " WHERE t.unit = 'points'),"
        " r AS (INSERT INTO same_ranking_totals AS k (unit, period, starts, region,"
        " volunteer_id, amount, manual) SELECT t.unit, 'month', date_trunc ('month',"
        " t.day::timestamp)::date, '431022100201', t.volunteer_id, sum (t.amount), 0 FROM t"
        " GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5 ON CONFLICT (unit, period, starts,"
        " region, volunteer_id) DO UPDATE SET amount = k.amount + EXCLUDED.amount),"
        " o AS (INSERT INTO same_outbox (seq, topic, body) SELECT nextval ('same_outbox_seq'),"
        " 'points.awarded', convert_to ('{\"volunteer_id\": \"' || t.volunteer_id ||"
        " '\", \"points\": ' || t.amount || ', \"record_id\": \"' || t.id || '\"}',"
        " 'UTF8') FROM t WHERE t.unit = 'points'),"
        " q AS (UPDATE same_consumer_cursors SET seq = seq + (SELECT count (*) FROM e),"
        " updated_at = now () WHERE publisher = 'match'),"
        " a AS (UPDATE plain_accounts a SET balance = a.balance + s.amount FROM (SELECT credit,"
        " sum (amount) AS amount FROM t GROUP BY credit) s WHERE a.id = s.credit)"
        " UPDATE plain_accounts a SET balance = a.balance - s.amount FROM (SELECT debit,"
        " sum (amount) AS amount FROM t GROUP BY debit) s WHERE a.id = s.debit",
        3, NULL);
    if (PQresultStatus (res) != PGRES_COMMAND_OK) {
        fprintf (stderr, "bench_ledger: %s", PQerrorMessage (pg));
        exit (1);
    }
    PQclear (res);
    double seconds = s_batches (pg, "same", n);
    return seconds;
}

//  (2)'s baseline: n single transfers, each its own transaction (sources `prefix`/i).
static double
s_plain_single (PGconn *pg, int n, const char *prefix)
{
    PGresult *res =
        PQprepare (pg, *prefix == 's' ? "single" : "single_again",
                   "WITH t AS (INSERT INTO plain_transfers (debit, credit, unit, amount,"
                   " source) VALUES (1, $1::bigint, 'points', 1, $2) RETURNING credit),"
                   " c AS (UPDATE plain_accounts SET balance = balance + 1 WHERE id ="
                   " $1::bigint) UPDATE plain_accounts SET balance = balance - 1"
                   " WHERE id = 1",
                   2, NULL);
    PQclear (res);
    int64_t start = bench_ns ();
    for (int i = 0; i < n; i++) {
        char account[24], source[32];
        snprintf (account, sizeof account, "%d", 3 + 2 * s_volunteer (i));
        snprintf (source, sizeof source, "%s/%d", prefix, i);
        const char *values[2] = {account, source};
        res = PQexecPrepared (pg, *prefix == 's' ? "single" : "single_again", 2, values, NULL, NULL,
                              0);
        if (PQresultStatus (res) != PGRES_COMMAND_OK) {
            fprintf (stderr, "bench_ledger: %s", PQerrorMessage (pg));
            exit (1);
        }
        PQclear (res);
    }
    return (bench_ns () - start) / 1e9;
}

//  (2): n ledger.adjust calls through `client`, one at a time (failures counted in *failed,
//  the first said); the CPU sampled into `phases`.
static void
s_adjustments (st_client_t *client, int adjustments, s_phases_t *phases, PGconn *pg, int *failed)
{
    msg_actor_t official = {.account = "county", .role = "region_admin", .region = "431022000000"};
    for (int i = 0; i < adjustments; i++) {
        char volunteer[24];
        snprintf (volunteer, sizeof volunteer, "%d", s_volunteer (i));
        msg_ledger_adjust_t request = {.volunteer_id = volunteer,
                                       .unit = "points",
                                       .amount = 1,
                                       .has_amount = true,
                                       .reason = "bench"};
        msg_journal_entry_t reply = {0};
        st_error_t err;
        if (st_client_call (client, "ledger.adjust", &official, NULL, &msg_ledger_adjust_desc,
                            &request, &msg_journal_entry_desc, &reply, 5000, &err)
            != ST_OK) {
            if ((*failed)++ == 0)
                fprintf (stderr, "bench_ledger: ledger.adjust: %s\n", err.message);
        } else
            st_msg_clear (&msg_journal_entry_desc, &reply);
        if (phases && i % 100 == 0)
            s_phases_sample (phases, pg);
    }
}

//  (4): one client of the hot item, reserving 1 at a time until the stock is gone (or it
//  fails 100 times); or, with `pg` set, the plain baseline's statement on its own connection.
#define S_HOT_CLIENTS 64
#define S_HOT_STOCK   4000
typedef struct {
    st_client_t *client;
    PGconn *pg;
    const char *item;
    char volunteer[24];
    int reserved, failed;
    char error[320];
} s_hot_t;

static void *
s_hot_main (void *arg)
{
    s_hot_t *self = arg;
    msg_actor_t actor = {
        .account = "bench-volunteer", .role = "volunteer", .volunteer_id = self->volunteer};
    for (int tries = 0; tries < 2 * S_HOT_STOCK && self->failed < 100; tries++) {
        if (self->pg) {
            const char *values[1] = {self->volunteer};
            PGresult *res = PQexecPrepared (self->pg, "hot", 1, values, NULL, NULL, 0);
            bool done = PQresultStatus (res) == PGRES_TUPLES_OK && PQntuples (res) == 0;
            if (PQresultStatus (res) == PGRES_TUPLES_OK && PQntuples (res) == 1)
                self->reserved++;
            else if (!done && self->failed++ == 0)
                snprintf (self->error, sizeof self->error, "%s", PQerrorMessage (self->pg));
            PQclear (res);
            if (done)
                return NULL;
            continue;
        }
        msg_redemption_reserve_t request = {
            .item_id = (char *) self->item, .quantity = 1, .has_quantity = true};
        msg_redemption_t reply = {0};
        st_error_t err;
        st_status_t rc = st_client_call (self->client, "redemption.reserve", &actor, NULL,
                                         &msg_redemption_reserve_desc, &request,
                                         &msg_redemption_desc, &reply, 30000, &err);
        if (rc == ST_OK) {
            self->reserved++;
            st_msg_clear (&msg_redemption_desc, &reply);
        } else if (rc == ST_FAILED_PRECONDITION && strstr (err.message, "left in stock"))
            return NULL;
        else if (self->failed++ == 0)
            snprintf (self->error, sizeof self->error, "%s: %s", st_status_name (rc), err.message);
    }
    return NULL;
}

//  Runs the 64 clients; the seconds until the last is done, their reservations into
//  *reserved, their failures (the first said) into *failed.
static double
s_hot_run (s_hot_t *hot, int *reserved, int *failed)
{
    pthread_t threads[S_HOT_CLIENTS];
    int64_t start = bench_ns ();
    for (int i = 0; i < S_HOT_CLIENTS; i++)
        pthread_create (&threads[i], NULL, s_hot_main, &hot[i]);
    *reserved = *failed = 0;
    for (int i = 0; i < S_HOT_CLIENTS; i++) {
        pthread_join (threads[i], NULL);
        *reserved += hot[i].reserved;
        if (hot[i].failed && (*failed)++ == 0)
            fprintf (stderr, "bench_ledger: hot item: %s\n", hot[i].error);
    }
    return (bench_ns () - start) / 1e9;
}

//  (4): the hot item through the ledger, then the plain baseline.
static void
s_hot_item (harness_t *h, PGconn *pg)
{
    st_client_t *official = harness_client (h, "ledger", "gateway");
    msg_actor_t county = {.account = "county", .role = "region_admin", .region = "431022000000"};
    char stock[16];
    snprintf (stock, sizeof stock, "%d", S_HOT_STOCK);
    msg_item_create_t create = {.name = "理发券",
                                .kind = "service",
                                .price_points = 1,
                                .has_price_points = true,
                                .stock = S_HOT_STOCK,
                                .has_stock = true,
                                .region = "431022000000"};
    msg_item_t item = {0};
    st_error_t err;
    if (st_client_call (official, "item.create", &county, NULL, &msg_item_create_desc, &create,
                        &msg_item_desc, &item, 10000, &err)
        != ST_OK) {
        fprintf (stderr, "bench_ledger: item.create: %s\n", err.message);
        exit (1);
    }
    s_hot_t hot[S_HOT_CLIENTS] = {0};
    for (int i = 0; i < S_HOT_CLIENTS; i++) {
        hot[i].client = harness_client (h, "ledger", "gateway");
        hot[i].item = item.id;
        snprintf (hot[i].volunteer, sizeof hot[i].volunteer, "%d", 1 + i);
    }
    int reserved, failed;
    double seconds = s_hot_run (hot, &reserved, &failed);
    char sql[256];
    snprintf (sql, sizeof sql,
              "SELECT (SELECT stock FROM ledger.items WHERE id = %s) * 1000000 + (SELECT count"
              " (*) FROM ledger.redemptions WHERE item_id = %s AND status = 'reserved')",
              item.id, item.id);
    int64_t both = s_value (pg, sql);
    int64_t negative =
        s_value (pg, "SELECT count (*) FROM ledger.accounts WHERE volunteer_id IS NOT NULL"
                     " AND (balance < 0 OR balance < pending)");
    printf ("(4) redemption.reserve of one hot item (stock %d) from %d clients at once: %d"
            " reserved in %.2f s = %.0f reservations/s; stock left %lld, reservations %lld"
            " (%s), %lld volunteers overdrawn, %d clients failed\n",
            S_HOT_STOCK, S_HOT_CLIENTS, reserved, seconds, reserved / seconds,
            (long long) (both / 1000000), (long long) (both % 1000000),
            both % 1000000 == S_HOT_STOCK && both / 1000000 == 0 && reserved == S_HOT_STOCK
                ? "none oversold"
                : "NOT as it must be",
            (long long) negative, failed);
    for (int i = 0; i < S_HOT_CLIENTS; i++)
        st_client_destroy (&hot[i].client);
    st_msg_clear (&msg_item_desc, &item);
    st_client_destroy (&official);

    //  The baseline: the same from 64 connections, one plain statement a reservation.
    s_exec (pg, "CREATE TABLE hot_items (id bigint PRIMARY KEY, stock bigint NOT NULL"
                " CHECK (stock >= 0))");
    snprintf (sql, sizeof sql, "INSERT INTO hot_items VALUES (1, %d)", S_HOT_STOCK);
    s_exec (pg, sql);
    s_exec (pg, "CREATE TABLE hot_accounts (volunteer bigint PRIMARY KEY, balance bigint NOT"
                " NULL, pending bigint NOT NULL DEFAULT 0, CHECK (pending <= balance))");
    s_exec (pg, "INSERT INTO hot_accounts (volunteer, balance) SELECT i, 1000000"
                " FROM generate_series (1, 64) i");
    s_exec (pg, "CREATE TABLE hot_redemptions (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY"
                " KEY, item bigint NOT NULL, volunteer bigint NOT NULL, at timestamptz NOT NULL"
                " DEFAULT now ())");
    char conninfo[512];
    snprintf (conninfo, sizeof conninfo, "host=%s port=%s dbname=%s user=%s", PQhost (pg),
              PQport (pg), PQdb (pg), PQuser (pg));
    for (int i = 0; i < S_HOT_CLIENTS; i++) {
        memset (&hot[i], 0, sizeof hot[i]);
        snprintf (hot[i].volunteer, sizeof hot[i].volunteer, "%d", 1 + i);
        hot[i].pg = PQconnectdb (conninfo);
        PGresult *res = PQprepare (
            hot[i].pg, "hot",
            "WITH i AS (UPDATE hot_items SET stock = stock - 1 WHERE id = 1 AND stock >= 1"
            " RETURNING id), a AS (UPDATE hot_accounts SET pending = pending + 1"
            " WHERE volunteer = $1::bigint AND EXISTS (SELECT 1 FROM i) RETURNING volunteer)"
            " INSERT INTO hot_redemptions (item, volunteer) SELECT i.id, a.volunteer FROM i, a"
            " RETURNING id",
            1, NULL);
        if (PQresultStatus (res) != PGRES_COMMAND_OK) {
            fprintf (stderr, "bench_ledger: %s", PQerrorMessage (hot[i].pg));
            exit (1);
        }
        PQclear (res);
    }
    int plain_reserved, plain_failed;
    double plain = s_hot_run (hot, &plain_reserved, &plain_failed);
    for (int i = 0; i < S_HOT_CLIENTS; i++)
        PQfinish (hot[i].pg);
    printf ("    plain statement from %d connections: %d reserved in %.2f s = %.0f"
            " reservations/s (%d failed); ledger / plain = %.2f\n",
            S_HOT_CLIENTS, plain_reserved, plain, plain_reserved / plain, plain_failed,
            (reserved / seconds) / (plain_reserved / plain));
}

int
main (int argc, char **argv)
{
    const char *env = getenv ("STATION_BENCH_LEDGER_EVENTS");
    int events = argc > 1 ? atoi (argv[1]) : env ? atoi (env) : 100000;
    int adjustments = argc > 2 ? atoi (argv[2]) : 2000;
    st_log_init ("bench_ledger", "warn");
    if (!s_part ("posting"))
        return s_part ("books") ? bench_ledger_books () : 0;
    harness_t *h = harness_new ("bench_ledger");
    harness_start (h, "registry");
    int match = harness_start (h, "match");
    harness_start (h, "ledger");
    PGconn *pg = harness_pg (h);
    //  The volunteers, as registry's events would have placed them.
    s_exec (pg, "INSERT INTO ledger.volunteers (id, region, registry_seq)"
                " SELECT i, '431022100201', 0 FROM generate_series (1, 1000) i");
    harness_stop (h, "ledger", SIGTERM);

    //  (1) The backlog, drained.
    s_backlog (pg, events);
    int64_t last = 0;
    while (!zsys_interrupted
           && (last = s_value (pg, "SELECT count (*) FROM match.outbox WHERE seq IS NULL")) > 0)
        zclock_sleep (50);
    last = s_value (pg, "SELECT last_seq FROM match.outbox_state");
    int64_t before = s_value (pg, "SELECT count (*) FROM ledger.transfers");
    //  The ledger's functions timed by its sessions from here on.
    s_exec (pg, "DO $$ BEGIN EXECUTE format ('ALTER DATABASE %I SET track_functions = ''pl''',"
                " current_database ()); END $$");
    s_exec (pg, "SELECT pg_stat_reset ()");
    int ledger = harness_start (h, "ledger");
    s_phases_t phases;
    s_phases_start (&phases, pg, ledger, match);
    int64_t start = bench_ns ();
    for (int round = 0; !zsys_interrupted
                        && s_value (pg, "SELECT coalesce ((SELECT seq FROM ledger.consumer_cursors"
                                        " WHERE publisher = 'match'), 0)")
                               < last;
         round++) {
        if (round % 40 == 0)
            s_phases_sample (&phases, pg);
        zclock_sleep (5);
    }
    double drained = (bench_ns () - start) / 1e9;
    s_phases_end (&phases, pg);
    int64_t transfers = s_value (pg, "SELECT count (*) FROM ledger.transfers") - before;
    int64_t parked = s_value (pg, "SELECT count (*) FROM ledger.dead_letters");
    double plain = s_plain_batches (pg, events);
    printf ("(1) backlog of %d service.completed drained by the consumer: %lld transfers in"
            " %.2f s = %.0f transfers/s (%.0f events/s, %lld parked)\n",
            events, (long long) transfers, drained, transfers / drained, events / drained,
            (long long) parked);
    printf ("    plain set-based INSERT/UPDATE batches of %d events, same rows:  %d transfers in"
            " %.2f s = %.0f transfers/s; ledger / plain = %.2f\n",
            S_BATCH, 2 * events, plain, 2 * events / plain,
            (transfers / drained) / (2 * events / plain));
    double same = s_plain_same_rows (pg, events);
    printf ("    plain set-based batches of every row the ledger writes for them (completions,"
            " transfers, lots, ranking totals, outbox, balances, cursor; copies of its tables, no"
            " triggers or checks): %.2f s = %.0f transfers/s; ledger / that = %.2f\n",
            same, 2 * events / same, (transfers / drained) / (2 * events / same));
    s_phases_print (&phases, events, drained);
    bench_sizes (pg, "ledger", 1000);
    //  Its sessions' function times, counted once they end.
    harness_stop (h, "ledger", SIGTERM);
    zclock_sleep (300);
    s_exec (pg, "SELECT pg_stat_clear_snapshot ()");
    s_functions (pg, events);
    bool statements = s_statements_start (pg);
    ledger = harness_start (h, "ledger");

    //  (2) ledger.adjust through rpc, one at a time.
    st_client_t *client = harness_client (h, "ledger", "gateway");
    s_phases_start (&phases, pg, ledger, match);
    double bench_cpu = s_cpu (getpid ());
    int failed = 0;
    start = bench_ns ();
    s_adjustments (client, adjustments, &phases, pg, &failed);
    double rpc = (bench_ns () - start) / 1e9;
    s_phases_end (&phases, pg);
    bench_cpu = s_cpu (getpid ()) - bench_cpu;
    double single = s_plain_single (pg, adjustments, "single");
    printf ("(2) ledger.adjust through rpc, one transfer per transaction: %d in %.2f s = %.0f/s"
            " (%d failed)\n",
            adjustments, rpc, adjustments / rpc, failed);
    printf ("    plain single-row transaction (a transfer, two balances):  %d in %.2f s = %.0f/s;"
            " rpc / plain = %.2f\n",
            adjustments, single, adjustments / single,
            (adjustments / rpc) / (adjustments / single));
    //  Where a call's time goes: the CPU of each process per call (the ledger's PostgreSQL
    //  counts its relay's and its events.read's backends too; match reads ledger.adjusted).
    printf ("    per call: %.0f us wall; CPU: ledger's PostgreSQL %.0f us, ledger process %.0f us,"
            " match process %.0f us, match's PostgreSQL %.0f us, this client %.0f us\n",
            rpc / adjustments * 1e6, phases.backend_cpu[0] / adjustments * 1e6,
            phases.ledger_cpu / adjustments * 1e6, phases.match_cpu / adjustments * 1e6,
            phases.backend_cpu[1] / adjustments * 1e6, bench_cpu / adjustments * 1e6);
    if (statements)
        s_statements (pg, adjustments);
    //  The same two with every commit flushed to disk, as PostgreSQL runs in production (the
    //  throwaway cluster runs with fsync off): what a caller waits for there.
    s_exec (pg, "ALTER SYSTEM SET fsync = on");
    s_exec (pg, "SELECT pg_reload_conf ()");
    zclock_sleep (500);
    int durable = adjustments / 2;
    failed = 0;
    start = bench_ns ();
    s_adjustments (client, durable, NULL, pg, &failed);
    rpc = (bench_ns () - start) / 1e9;
    single = s_plain_single (pg, durable, "durable");
    s_exec (pg, "ALTER SYSTEM RESET fsync");
    s_exec (pg, "SELECT pg_reload_conf ()");
    printf ("    with fsync on (each commit flushed, as in production): ledger.adjust %.0f/s (%d"
            " failed), plain single-row transaction %.0f/s; rpc / plain = %.2f\n",
            durable / rpc, failed, durable / single, single / rpc);
    st_client_destroy (&client);
    s_hot_item (h, pg);
    harness_destroy (&h);
    return s_part ("books") ? bench_ledger_books () : 0;
}
