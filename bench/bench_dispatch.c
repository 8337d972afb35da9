/*  bench_dispatch.c — one dispatch round at county scale: 100,000 volunteers and 10,000 open
    requests spread over a county's 400 villages, loaded with COPY straight into match's
    tables. Prints the candidate generation time, the solve time, the offers made and the
    peak memory of the round, and beside them the greedy assignment of the same candidates
    (each request in turn takes its cheapest free candidates): total cost, staffed share and
    care-group share.

    Run it with scripts/bench dispatch (a throwaway cluster), or under scripts/test's
    environment. VOLUNTEERS and REQUESTS in the environment change the sizes.  */
#include "harness.h"
#include "../services/match/match_dispatch_store.h"
#include "st_log.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <cmocka.h>

#define TOWNSHIPS 20
#define VILLAGES  20 //  per township

static const char *s_skills[] = {"急救", "手语", "驾驶", "心理", "理发", "电工", "法律", "医护"};
static const char *s_days[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

//  A growing text buffer for COPY data.
typedef struct {
    char *data;
    size_t length, room;
} s_text_t;

static void
s_add (s_text_t *self, const char *format, ...)
{
    va_list args;
    for (;;) {
        va_start (args, format);
        size_t left = self->room - self->length;
        int n = vsnprintf (self->data + self->length, left, format, args);
        va_end (args);
        if ((size_t) n < left) {
            self->length += (size_t) n;
            return;
        }
        self->room = self->room * 2 + (size_t) n + 1024;
        self->data = realloc (self->data, self->room);
        if (!self->data)
            abort ();
    }
}

//  Streams `text` into `copy` (a COPY ... FROM STDIN statement) as the superuser.
static void
s_copy (PGconn *pg, const char *copy, s_text_t *text)
{
    PGresult *res = PQexec (pg, copy);
    if (PQresultStatus (res) != PGRES_COPY_IN) {
        fprintf (stderr, "%s: %s", copy, PQerrorMessage (pg));
        exit (1);
    }
    PQclear (res);
    if (PQputCopyData (pg, text->data, (int) text->length) != 1 || PQputCopyEnd (pg, NULL) != 1) {
        fprintf (stderr, "copy: %s", PQerrorMessage (pg));
        exit (1);
    }
    res = PQgetResult (pg);
    if (PQresultStatus (res) != PGRES_COMMAND_OK) {
        fprintf (stderr, "%s: %s", copy, PQerrorMessage (pg));
        exit (1);
    }
    PQclear (res);
    while ((res = PQgetResult (pg)))
        PQclear (res);
    text->length = 0;
}

//  A village's code and centre.
static void
s_village (int t, int v, char code[13], double *lat, double *lon)
{
    snprintf (code, 13, "431022%03d%03d", 100 + t, 201 + v);
    *lat = 25.2 + (t / 5) * 0.1 + (v / 5) * 0.02;
    *lon = 112.7 + (t % 5) * 0.1 + (v % 5) * 0.02;
}

static double
s_jitter (double span)
{
    return ((double) rand () / RAND_MAX - 0.5) * span;
}

static double
s_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

//  Loads the volunteers, residents and requests.
static void
s_load (PGconn *pg, int volunteers, int requests)
{
    s_text_t text = {0};
    for (int i = 1; i <= volunteers; i++) {
        int t = rand () % TOWNSHIPS, v = rand () % VILLAGES;
        char code[13];
        double lat, lon;
        s_village (t, v, code, &lat, &lon);
        s_add (&text, "%d\t志愿者%d\t%s\t{", i, i, code);
        int skills = 1 + rand () % 3, first = rand () % 8;
        for (int k = 0; k < skills; k++)
            s_add (&text, "%s%s", k ? "," : "", s_skills[(first + k * 3) % 8]);
        s_add (&text, "}\t%s\t%d\t{", rand () % 20 ? "active" : "suspended", i);
        bool any = false;
        for (int d = 0; d < 7; d++)
            for (int h = 0; h < 3; h++)
                if (rand () % 10 < 4) {
                    s_add (&text, "%s%s_%s", any ? "," : "", s_days[d],
                           h == 0   ? "am"
                           : h == 1 ? "pm"
                                    : "ev");
                    any = true;
                }
        s_add (&text, "}\t%.6f\t%.6f\n", lat + s_jitter (0.02), lon + s_jitter (0.02));
    }
    s_copy (pg,
            "COPY match.supply (volunteer_id, name, region, skills, status, registry_seq,"
            " availability, lat, lon) FROM STDIN",
            &text);
    for (int i = 1; i <= requests; i++)
        s_add (&text, "%d\t431022100201\t%s\t%d\n", i,
               rand () % 10 < 3 ? "{empty_nest_elderly}" : "{}", i);
    s_copy (pg, "COPY match.residents (id, region, care_tags, registry_seq) FROM STDIN", &text);
    time_t now = time (NULL);
    for (int i = 1; i <= requests; i++) {
        int t = rand () % TOWNSHIPS, v = rand () % VILLAGES;
        char code[13];
        double lat, lon;
        s_village (t, v, code, &lat, &lon);
        static const int hours[] = {8, 10, 14, 19};
        int64_t local_day = ((int64_t) now + 8 * 3600) / 86400 + 2 + rand () % 7;
        time_t start = (time_t) (local_day * 86400 + hours[rand () % 4] * 3600 - 8 * 3600);
        time_t end = start + 7200;
        int age = rand () % 10 < 7 ? 0 : rand () % 3 ? 120 : 600;
        time_t created = now - age;
        char start_text[32], end_text[32], created_text[32];
        struct tm tm;
        gmtime_r (&start, &tm);
        strftime (start_text, sizeof start_text, "%Y-%m-%d %H:%M:%S+00", &tm);
        gmtime_r (&end, &tm);
        strftime (end_text, sizeof end_text, "%Y-%m-%d %H:%M:%S+00", &tm);
        gmtime_r (&created, &tm);
        strftime (created_text, sizeof created_text, "%Y-%m-%d %H:%M:%S+00", &tm);
        int dice = rand () % 20;
        char need[64] = "{}";
        if (dice >= 8)
            snprintf (need, sizeof need, "{%s}", s_skills[rand () % 8]);
        if (dice == 19)
            snprintf (need, sizeof need, "{%s,%s}", s_skills[rand () % 4],
                      s_skills[4 + rand () % 4]);
        s_add (&text, "助老\t请求%d\t说明\t%s\t%.6f\t%.6f\t%s\t%s\t60\t%d\t%s\t%s\t%d\tbench\t%s\n",
               i, code, lat + s_jitter (0.02), lon + s_jitter (0.02), start_text, end_text,
               1 + rand () % 3, need, rand () % 5 ? "normal" : "urgent", i, created_text);
    }
    s_copy (pg,
            "COPY match.requests (category, title, description, region, lat, lon,"
            " earliest_start, latest_end, duration_minutes, headcount, skills, urgency,"
            " resident_id, created_by, created_at) FROM STDIN",
            &text);
    free (text.data);
    PQclear (PQexec (pg, "ANALYZE match.supply; ANALYZE match.requests;"
                         " ANALYZE match.residents"));
}

//  The greedy assignment of the same candidates, inside a transaction rolled back: each
//  request in id order takes its cheapest candidates not taken yet.
static void
s_greedy (st_db_t *db, int volunteers)
{
    st_error_t err;
    st_db_run (db, "BEGIN", &err);
    st_params_t params = {0};
    st_params_int (&params, 60);
    st_params_int (&params, 300);
    PGresult *demand, *candidates;
    double began = s_ms ();
    st_db_exec (db, "dispatch_plan_walk", NULL, NULL, &err);
    if (st_db_exec (db, "dispatch_demand", &params, &demand, &err) != ST_OK) {
        fprintf (stderr, "demand: %s\n", err.message);
        exit (1);
    }
    st_params_clear (&params);
    st_params_int (&params, 60);
    st_params_int (&params, 300);
    st_params_int (&params, 50);
    if (st_db_exec (db, "dispatch_candidates", &params, &candidates, &err) != ST_OK) {
        fprintf (stderr, "candidates: %s\n", err.message);
        exit (1);
    }
    st_params_clear (&params);
    double query_ms = s_ms () - began;
    bool *taken = calloc ((size_t) volunteers + 2, sizeof (bool));
    int64_t cost = 0, missing_total = 0, served = 0, cared_missing = 0, cared_served = 0;
    int rows = PQntuples (candidates), row = 0;
    for (int i = 0; i < PQntuples (demand); i++) {
        int64_t id = atoll (PQgetvalue (demand, i, 0));
        int64_t missing = atoll (PQgetvalue (demand, i, 1));
        bool urgent = PQgetvalue (demand, i, 2)[0] == 't';
        bool cared = PQgetvalue (demand, i, 3)[0] == 't';
        missing_total += missing;
        cared_missing += cared ? missing : 0;
        while (row < rows && atoll (PQgetvalue (candidates, row, 0)) < id)
            row++;
        //  This request's candidates, cheapest first (at most 50: selection by hand).
        int first = row, count = 0;
        while (row + count < rows && atoll (PQgetvalue (candidates, row + count, 0)) == id)
            count++;
        int64_t costs[64];
        for (int k = 0; k < count && k < 64; k++)
            costs[k] = match_dispatch_pair_cost (atof (PQgetvalue (candidates, first + k, 2)),
                                                 PQgetvalue (candidates, first + k, 3)[0] == 't',
                                                 atoll (PQgetvalue (candidates, first + k, 4)));
        int64_t got = 0;
        while (got < missing) {
            int best = -1;
            for (int k = 0; k < count && k < 64; k++) {
                int64_t v = atoll (PQgetvalue (candidates, first + k, 1));
                if (!taken[v] && (best < 0 || costs[k] < costs[best]))
                    best = k;
            }
            if (best < 0)
                break;
            taken[atoll (PQgetvalue (candidates, first + best, 1))] = true;
            cost += costs[best];
            got++;
        }
        served += got;
        cared_served += cared ? got : 0;
        cost += (missing - got) * match_dispatch_penalty (urgent, cared);
    }
    printf ("candidates (demand + candidate queries): %.0f ms, %d requests, %d pairs\n", query_ms,
            PQntuples (demand), rows);
    printf ("greedy:   cost %lld, staffed %.1f%% (%lld of %lld), care-group %.1f%% (%lld of "
            "%lld)\n",
            (long long) cost, 100.0 * served / (missing_total ? missing_total : 1),
            (long long) served, (long long) missing_total,
            100.0 * cared_served / (cared_missing ? cared_missing : 1), (long long) cared_served,
            (long long) cared_missing);
    free (taken);
    PQclear (demand);
    PQclear (candidates);
    st_db_run (db, "ROLLBACK", &err);
}

int
main (void)
{
    st_log_init ("bench_dispatch", "warn");
    int volunteers = getenv ("VOLUNTEERS") ? atoi (getenv ("VOLUNTEERS")) : 100000;
    int requests = getenv ("REQUESTS") ? atoi (getenv ("REQUESTS")) : 10000;
    srand (2026);
    //  match's own rounds every ten minutes: its first (empty) one at start, none during the run.
    setenv ("STATION_DISPATCH_ROUND_MS", "600000", 1);
    harness_t *h = harness_new ("bench_dispatch");
    harness_start (h, "match");
    double began = s_ms ();
    s_load (harness_pg (h), volunteers, requests);
    printf ("loaded %d volunteers, %d requests in %.0f ms\n", volunteers, requests,
            s_ms () - began);

    //  BENCH_EXPLAIN=1 prints the plan of the candidate query as it runs.
    if (getenv ("BENCH_EXPLAIN")) {
        PGconn *pg = harness_pg (h);
        PQclear (PQexec (pg, "SET search_path = match; SET enable_seqscan = off;"
                             " SET enable_bitmapscan = off; SET enable_sort = off; SET jit = off"));
        char sql[16384];
        snprintf (sql, sizeof sql, "EXPLAIN (ANALYZE, BUFFERS) %s",
                  match_dispatch_store_sql ("dispatch_candidates"));
        const char *values[] = {"60", "300", "50"};
        PGresult *res = PQexecParams (pg, sql, 3, NULL, values, NULL, NULL, 0);
        for (int row = 0; row < PQntuples (res); row++)
            printf ("%s\n", PQgetvalue (res, row, 0));
        if (PQresultStatus (res) != PGRES_TUPLES_OK)
            printf ("explain: %s", PQerrorMessage (pg));
        PQclear (res);
        res = PQexec (pg, "EXPLAIN SELECT volunteer_id FROM supply ORDER BY geo_point (lat, lon)"
                          " <-> geo_point (25.3, 112.9) LIMIT 5");
        for (int row = 0; row < PQntuples (res); row++)
            printf ("%s\n", PQgetvalue (res, row, 0));
        if (PQresultStatus (res) != PGRES_TUPLES_OK)
            printf ("explain: %s", PQerrorMessage (pg));
        PQclear (res);
        PQclear (PQexec (pg, "RESET search_path; RESET enable_seqscan; RESET enable_bitmapscan;"
                             " RESET enable_sort"));
    }
    st_db_t *db = st_db_new (harness_conninfo (h), "match", "match");
    match_dispatch_store_prepare (db);
    s_greedy (db, volunteers);

    match_dispatch_stats_t stats;
    st_error_t err;
    began = s_ms ();
    if (match_dispatch_round (db, &stats, &err) != ST_OK) {
        fprintf (stderr, "round: %s\n", err.message);
        return 1;
    }
    double round_ms = s_ms () - began;
    struct rusage usage;
    getrusage (RUSAGE_SELF, &usage);
    printf ("min-cost flow round: candidates %.0f ms (%lld requests, %lld pairs), solve %.0f ms, "
            "whole round %.0f ms\n",
            stats.candidate_ms, (long long) stats.requests, (long long) stats.pairs, stats.solve_ms,
            round_ms);
    printf ("mcf:      cost %lld, staffed %.1f%% (%lld of %lld), care-group %.1f%% (%lld of "
            "%lld), offers %lld\n",
            (long long) stats.cost, 100.0 * stats.served / (stats.missing ? stats.missing : 1),
            (long long) stats.served, (long long) stats.missing,
            100.0 * stats.cared_served / (stats.cared_missing ? stats.cared_missing : 1),
            (long long) stats.cared_served, (long long) stats.cared_missing,
            (long long) stats.offers);
    printf ("peak memory of this process (getrusage): %ld MiB\n", usage.ru_maxrss / 1024);
    printf ("offers in the database: %s\n", harness_sql (h, "SELECT count (*) FROM match.offers"));
    st_db_destroy (&db);
    harness_destroy (&h);
    return 0;
}
