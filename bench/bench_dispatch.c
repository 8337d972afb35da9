/*  bench_dispatch.c — dispatch at county scale: 100,000 volunteers and 10,000 open requests
    spread over a county's 400 villages, loaded with COPY straight into match's tables.

    The cold round: one round over all of them (every request in demand, the solver to its
    optimum). Prints the whole round and its phases (upkeep, candidates: queries and fitting,
    marking those without candidates, the network, solve, offers and their events, the
    dispatch.rounds record, commit), the offers made and the peak memory of the round, and
    beside them the greedy assignment of the same candidates (each request in turn takes its
    cheapest free candidates): total cost, staffed share and care-group share.

    Steady load, after it on the same volunteers: requests posted by plain INSERTs at RATE a
    second (20) for DURATION seconds (20), twice: first with a round every ROUND_MS (2000, the
    service's default) after the last ended, the clock alone (the baseline); then with rounds
    as the service runs them, woken by the requests' notifications (STATION_DISPATCH_WAKE_MS,
    match_round_next) and on the clock otherwise. Prints for each the time from a request's
    publication to its first offer (p50, p99, max), the requests posted and offered and the
    mean round, the ratio of the two p99s, and a plain INSERT + SELECT.

    The horizon, after it on the same volunteers: HORIZON_REQUESTS (100,000) open requests
    spread evenly over the 90 days of STATION_DISPATCH_HORIZON_DAYS. Prints, for rounds bounded
    by each of BOUNDS (the demand read, STATION_DISPATCH_MAX_DEMAND, with the default solver
    budget; "none": no demand bound and no solver budget; default none,2000,5000,10000),
    the whole round's time and its parts (upkeep, the plan's queries, fitting and ranking,
    solving, writing the offers); beside them a plain read of every open request's row, and
    the cold round above (10,000 requests over a week) as the baseline. Each of these rounds
    starts from the same state: no offers, every request open.

    Run it with scripts/bench dispatch (a throwaway cluster), or under scripts/test's
    environment. VOLUNTEERS and REQUESTS in the environment change the sizes; PHASES (cold,
    steady, horizon; default all three) picks phases, the cold round always runs.  */
#include "bench_sizes.h"
#include "harness.h"
#include "../services/match/match.h"
#include "../services/match/match_dispatch_store.h"
#include "st_log.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
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
    snprintf (code, 13, "431022%03u%03u", (unsigned) (100 + t) % 1000, (unsigned) (201 + v) % 1000);
    *lat = 25.2 + (t / 5) * 0.1 + (v / 5) * 0.02;
    *lon = 112.7 + (t % 5) * 0.1 + (v % 5) * 0.02;
}

//  A draw from rand () when `seed` is NULL (the cold round's sequence), else from rand_r:
//  the poster thread keeps a sequence of its own rather than share rand ()'s state.
static int
s_rand (unsigned *seed)
{
    return seed ? rand_r (seed) : rand ();
}

static double
s_jitter (unsigned *seed, double span)
{
    return ((double) s_rand (seed) / RAND_MAX - 0.5) * span;
}

static double
s_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

//  A time as COPY and text parameters take it, in UTC.
static void
s_utc (time_t when, char text[32])
{
    struct tm tm;
    gmtime_r (&when, &tm);
    strftime (text, 32, "%Y-%m-%d %H:%M:%S+00", &tm);
}

//  A service request as both phases post them: in one of the county's villages, a two-hour
//  window two to eight days ahead, no skill, one or two; one in five urgent.
typedef struct {
    char region[13];
    double lat, lon;
    char start[32], end[32]; //  UTC
    int age;                 //  seconds since posted, for the cold round's backlog
    int headcount;
    char skills[64]; //  an array literal
    const char *urgency;
} s_request_t;

//  Draws a request (`seed` as s_rand). The draws come in the order the cold round's data
//  were always drawn in (gcc evaluated the arguments of one call right to left), so the
//  cold round loads the same rows from the same sequence as before.
static void
s_request (unsigned *seed, time_t now, s_request_t *self)
{
    int t = s_rand (seed) % TOWNSHIPS, v = s_rand (seed) % VILLAGES;
    double lat, lon;
    s_village (t, v, self->region, &lat, &lon);
    static const int hours[] = {8, 10, 14, 19};
    int64_t local_day = ((int64_t) now + 8 * 3600) / 86400 + 2 + s_rand (seed) % 7;
    time_t start = (time_t) (local_day * 86400 + hours[s_rand (seed) % 4] * 3600 - 8 * 3600);
    s_utc (start, self->start);
    s_utc (start + 7200, self->end);
    self->age = s_rand (seed) % 10 < 7 ? 0 : s_rand (seed) % 3 ? 120 : 600;
    int dice = s_rand (seed) % 20;
    snprintf (self->skills, sizeof self->skills, "{}");
    if (dice >= 8)
        snprintf (self->skills, sizeof self->skills, "{%s}", s_skills[s_rand (seed) % 8]);
    if (dice == 19) {
        const char *second = s_skills[4 + s_rand (seed) % 4];
        const char *first = s_skills[s_rand (seed) % 4];
        snprintf (self->skills, sizeof self->skills, "{%s,%s}", first, second);
    }
    self->urgency = s_rand (seed) % 5 ? "normal" : "urgent";
    self->headcount = 1 + s_rand (seed) % 3;
    self->lon = lon + s_jitter (seed, 0.02);
    self->lat = lat + s_jitter (seed, 0.02);
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
        s_add (&text, "}\t%.6f\t%.6f\n", lat + s_jitter (NULL, 0.02), lon + s_jitter (NULL, 0.02));
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
        s_request_t request;
        s_request (NULL, now, &request);
        char created_text[32];
        s_utc (now - request.age, created_text);
        s_add (&text,
               "助老\t请求%d\t说明\t%s\t%.6f\t%.6f\t%s\t%s\t60\t%d\t%s\t%s\t%d\tbench\t%s\t%s\n", i,
               request.region, request.lat, request.lon, request.start, request.end,
               request.headcount, request.skills, request.urgency, i, created_text, created_text);
    }
    s_copy (pg,
            "COPY match.requests (category, title, description, region, lat, lon,"
            " earliest_start, latest_end, duration_minutes, headcount, skills, urgency,"
            " resident_id, created_by, created_at, published_at) FROM STDIN",
            &text);
    free (text.data);
    PQclear (PQexec (pg, "ANALYZE match.supply; ANALYZE match.requests;"
                         " ANALYZE match.residents"));
}

//  The greedy assignment of the same candidates at the same costs (match_plan), inside a
//  transaction rolled back: each request in id order takes its cheapest candidates not taken
//  yet.
//  The round's settings as the service reads them (STATION_DISPATCH_* or the defaults).
static const match_round_config_t *
s_config (void)
{
    static match_round_config_t config;
    static bool loaded;
    if (!loaded) {
        st_option_t options[match_round_option_count];
        memcpy (options, match_round_options, sizeof options);
        char program[] = "bench_dispatch", *args[] = {program, NULL};
        if (st_config_load (options, match_round_option_count, 1, args, "bench") != 0)
            exit (2);
        match_round_config (options, match_round_option_count, &config);
        loaded = true;
    }
    return &config;
}

//  The load average, as uptime prints it (figures on a shared machine need it beside them).
static const char *
s_load_average (void)
{
    static char text[64];
    FILE *file = fopen ("/proc/loadavg", "r");
    snprintf (text, sizeof text, "?");
    if (file) {
        if (fgets (text, sizeof text, file))
            text[strcspn (text, " \n") ? strcspn (text, "\n") : 0] = 0;
        fclose (file);
    }
    return text;
}

//  CPU milliseconds (user and system) the server process behind `pg` has used, from /proc (the
//  throwaway cluster runs on this machine); -1 when unreadable. On a loaded machine a round's
//  wall time waits for the CPU; the CPU it used does not.
static double
s_backend_cpu_ms (PGconn *pg)
{
    char path[64];
    snprintf (path, sizeof path, "/proc/%d/stat", PQbackendPID (pg));
    FILE *file = fopen (path, "r");
    if (!file)
        return -1;
    char line[1024];
    double ms = -1;
    if (fgets (line, sizeof line, file)) {
        const char *at = strrchr (line, ')');
        unsigned long long user, system;
        if (at
            && sscanf (at + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &user,
                       &system)
                   == 2)
            ms = (double) (user + system) * 1e3 / (double) sysconf (_SC_CLK_TCK);
    }
    fclose (file);
    return ms;
}

//  This process's CPU milliseconds (user and system).
static double
s_own_cpu_ms (void)
{
    struct rusage usage;
    getrusage (RUSAGE_SELF, &usage);
    return usage.ru_utime.tv_sec * 1e3 + usage.ru_utime.tv_usec / 1e3 + usage.ru_stime.tv_sec * 1e3
           + usage.ru_stime.tv_usec / 1e3;
}

//  The cold round's settings: every request in the round (MAX_DEMAND the requests loaded), and
//  the solver to its optimum (no SOLVE_MS budget), so that the round is the whole county's.
static const match_round_config_t *
s_cold_config (int requests)
{
    static match_round_config_t config;
    config = *s_config ();
    config.max_demand = requests;
    config.solve_ms = 600000;
    return &config;
}

static void
s_greedy (st_db_t *db, int volunteers, int requests)
{
    st_error_t err;
    st_db_run (db, "BEGIN", &err);
    match_plan_t plan;
    double began = s_ms ();
    if (match_plan_build (db, &s_config ()->weights, 60, 300, 50, requests, &plan, &err) != ST_OK) {
        fprintf (stderr, "plan: %s\n", err.message);
        exit (1);
    }
    double plan_ms = s_ms () - began;
    bool *taken = calloc ((size_t) volunteers + 2, sizeof (bool));
    int64_t cost = 0, missing_total = 0, served = 0, cared_missing = 0, cared_served = 0;
    int32_t at = 0;
    for (int32_t r = 0; r < plan.requests; r++) {
        const match_demand_t *demand = &plan.demand[r];
        missing_total += demand->missing;
        cared_missing += demand->cared ? demand->missing : 0;
        int32_t first = at;
        while (at < plan.pair_count && plan.pairs[at].request == r)
            at++;
        int64_t got = 0;
        while (got < demand->missing) {
            int32_t best = -1;
            for (int32_t k = first; k < at; k++)
                if (!taken[plan.pairs[k].volunteer_id]
                    && (best < 0 || plan.pairs[k].cost < plan.pairs[best].cost))
                    best = k;
            if (best < 0)
                break;
            taken[plan.pairs[best].volunteer_id] = true;
            cost += plan.pairs[best].cost;
            got++;
        }
        served += got;
        cared_served += demand->cared ? got : 0;
        cost += (demand->missing - got) * demand->penalty;
    }
    printf ("candidates (match_plan): %.0f ms (queries %.0f ms, fitting and ranking %.0f ms),"
            " %d requests, %d pairs, %d volunteers read\n",
            plan_ms, plan.read_ms, plan.walk_ms, plan.requests, plan.pair_count, plan.volunteers);
    printf ("greedy:   cost %lld, staffed %.1f%% (%lld of %lld), care-group %.1f%% (%lld of "
            "%lld)\n",
            (long long) cost, 100.0 * served / (missing_total ? missing_total : 1),
            (long long) served, (long long) missing_total,
            100.0 * cared_served / (cared_missing ? cared_missing : 1), (long long) cared_served,
            (long long) cared_missing);
    free (taken);
    match_plan_clear (&plan);
    st_db_run (db, "ROLLBACK", &err);
}

//  ---------------------------------------------------------------------------------------
//  Steady load: requests posted at a fixed rate while rounds run on the service's schedule

//  The plain INSERT a request is posted with (what request.create stores, without the rpc).
#define S_POST_SQL                                                                                   \
    "INSERT INTO match.requests (category, title, description, region, lat, lon,"                    \
    " earliest_start, latest_end, duration_minutes, headcount, skills, urgency, resident_id,"        \
    " created_by, published_at) VALUES ('助老', $1, '说明', $2, $3, $4, $5, $6, 60, $7, $8, $9," \
    " $10, 'bench', now ())"                                                                         \
    " RETURNING id"
//  The plain SELECT a poster would read its offers with.
#define S_OFFERS_SQL "SELECT id, volunteer_id, status FROM match.offers WHERE request_id = $1"

//  A whole number from the environment, `fallback` when unset or outside [low, high].
static int
s_env_int (const char *name, int fallback, int low, int high)
{
    const char *value = getenv (name);
    int number = value ? atoi (value) : fallback;
    return number >= low && number <= high ? number : fallback;
}

//  Seconds since the epoch (CLOCK_REALTIME): the clock PostgreSQL's now () reads on this
//  machine, so a commit time and a created_at compare.
static double
s_epoch (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

//  Sleeps until `ms` on the s_ms clock.
static void
s_sleep_until (double ms)
{
    struct timespec ts = {(time_t) (ms / 1e3), (long) ((ms - (time_t) (ms / 1e3) * 1e3) * 1e6)};
    while (clock_nanosleep (CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

//  A connection of its own as match's role; exits when it cannot connect or prepare.
static PGconn *
s_connect (harness_t *h)
{
    char conninfo[600];
    snprintf (conninfo, sizeof conninfo, "%s user=match", harness_conninfo (h));
    PGconn *pg = PQconnectdb (conninfo);
    if (PQstatus (pg) != CONNECTION_OK) {
        fprintf (stderr, "could not connect as \"match\": %s", PQerrorMessage (pg));
        exit (1);
    }
    const char *names[] = {"post", "offers"}, *sql[] = {S_POST_SQL, S_OFFERS_SQL};
    for (int i = 0; i < 2; i++) {
        PGresult *res = PQprepare (pg, names[i], sql[i], 0, NULL);
        if (PQresultStatus (res) != PGRES_COMMAND_OK) {
            fprintf (stderr, "could not prepare \"%s\": %s", names[i], PQerrorMessage (pg));
            exit (1);
        }
        PQclear (res);
    }
    return pg;
}

//  Posts one request shaped like the cold round's, for a resident among 1..residents (three
//  in ten in a care group). Returns its id, -1 when the INSERT failed (said on stderr).
static int64_t
s_post (PGconn *pg, unsigned *seed, int residents, const char *title)
{
    s_request_t request;
    s_request (seed, time (NULL), &request);
    char lat[32], lon[32], headcount[16], resident[16];
    snprintf (lat, sizeof lat, "%.6f", request.lat);
    snprintf (lon, sizeof lon, "%.6f", request.lon);
    snprintf (headcount, sizeof headcount, "%d", request.headcount);
    snprintf (resident, sizeof resident, "%d", 1 + s_rand (seed) % residents);
    const char *values[] = {title,           request.region, lat,       lon,
                            request.start,   request.end,    headcount, request.skills,
                            request.urgency, resident};
    PGresult *res = PQexecPrepared (pg, "post", 10, values, NULL, NULL, 0);
    int64_t id = -1;
    if (PQresultStatus (res) == PGRES_TUPLES_OK)
        id = atoll (PQgetvalue (res, 0, 0));
    else
        fprintf (stderr, "could not post a request: %s", PQerrorMessage (pg));
    PQclear (res);
    return id;
}

//  The poster thread's work and what it reports.
typedef struct {
    harness_t *h;     //  only for its connection string, read-only
    double rate;      //  requests per second
    int count;        //  requests to post
    int residents;    //  resident ids drawn from 1..residents
    int posted;       //  read after the join
    double seconds;   //  from the first post to the last commit, read after the join
    atomic_bool done; //  set once the last INSERT has committed
} s_poster_t;

//  Posts `count` requests at fixed instants, i / rate after the start, on its own connection
//  (as request.create's callers would be, never in a round's way): an INSERT that runs late
//  does not push back those after it, so the rate is what was asked for.
static void *
s_poster_run (void *args)
{
    s_poster_t *self = args;
    PGconn *pg = s_connect (self->h);
    unsigned seed = 2027;
    double began = s_ms ();
    for (int i = 0; i < self->count; i++) {
        s_sleep_until (began + i * 1e3 / self->rate);
        char title[32];
        snprintf (title, sizeof title, "稳态%d", i + 1);
        if (s_post (pg, &seed, self->residents, title) > 0)
            self->posted++;
    }
    self->seconds = (s_ms () - began) / 1e3;
    PQfinish (pg);
    atomic_store (&self->done, true);
    return NULL;
}

//  One round of the steady phase.
typedef struct {
    double began;      //  s_epoch () when it began (its snapshot is taken just after)
    double committed;  //  s_epoch () when its COMMIT returned
    double ms;         //  its length
    int64_t max_offer; //  the largest offer id visible once it committed
} s_round_t;

static int
s_compare_doubles (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

//  The p-th percentile (nearest rank) of `count` sorted values.
static double
s_percentile (const double *sorted, int count, int p)
{
    int rank = (p * count + 99) / 100;
    return sorted[rank > 0 ? rank - 1 : 0];
}

//  The plain SQL baseline: one INSERT of a request and one SELECT of its offers, back to back
//  on a connection of their own, `count` times. Run after the last round, so the requests it
//  adds are never dispatched. Prints its p50 and p99.
static void
s_plain_sql (harness_t *h, int residents, int count)
{
    PGconn *pg = s_connect (h);
    unsigned seed = 2028;
    double *ms = calloc ((size_t) count, sizeof (double));
    if (!ms)
        abort ();
    for (int i = 0; i < count; i++) {
        double began = s_ms ();
        int64_t id = s_post (pg, &seed, residents, "基线");
        char text[24];
        snprintf (text, sizeof text, "%lld", (long long) id);
        const char *values[] = {text};
        PQclear (PQexecPrepared (pg, "offers", 1, values, NULL, NULL, 0));
        ms[i] = s_ms () - began;
    }
    qsort (ms, (size_t) count, sizeof (double), s_compare_doubles);
    printf ("plain SQL: one INSERT of a request + one SELECT of its offers: p50 %.2f ms, p99 "
            "%.2f ms (%d pairs)\n",
            s_percentile (ms, count, 50), s_percentile (ms, count, 99), count);
    free (ms);
    PQfinish (pg);
}

//  True when a notification on match's dispatch channel from another connection than `pg`'s
//  came in (as match_round_next reads them); reads every one waiting.
static bool
s_notified (PGconn *pg)
{
    bool notified = false;
    PQconsumeInput (pg);
    PGnotify *note;
    while ((note = PQnotifies (pg))) {
        notified = notified || note->be_pid != PQbackendPID (pg);
        PQfreemem (note);
    }
    return notified;
}

//  Waits up to `ms` for `pg`'s socket to have something to read.
static void
s_wait_socket (PGconn *pg, int64_t ms)
{
    struct pollfd item = {.fd = PQsocket (pg), .events = POLLIN};
    if (ms > 0 && item.fd >= 0)
        poll (&item, 1, (int) ms);
}

//  Posts requests at RATE a second for DURATION seconds while rounds run, then prints the
//  time from each request's created_at to the commit of the round that made its first offer.
//  With `woken`, rounds run as the service's ticker runs them (match_round_next: on the clock,
//  ROUND_MS after the last ended, and when new demand notifies, at most WAKE_MS after the
//  last); without, on the clock alone (every ROUND_MS after the last ended), the baseline.
//  The cold round's requests and offers are gone first: its leftover demand would make every
//  round a backlog drain and its pending offers would hold a tenth of the volunteers (one
//  pending offer each), where a steady county has neither; the volunteers stay. Returns the
//  p99 (ms), -1 when nothing was offered.
static double
s_steady (harness_t *h, st_db_t *db, int residents, bool woken)
{
    int rate = s_env_int ("RATE", 20, 1, 10000);
    int duration = s_env_int ("DURATION", 20, 1, 3600);
    match_round_config_t config = *s_config ();
    config.round_ms = s_env_int ("ROUND_MS", 2000, 1, 600000);
    config.wake_ms = s_env_int ("WAKE_MS", 200, 0, 600000);
    //  CASCADE: whatever refers to requests (commitments, service records) goes with them.
    harness_sql (h, "TRUNCATE match.offers, match.requests CASCADE");
    //  The planner sees small tables, as autovacuum would soon tell it in service.
    harness_sql (h, "ANALYZE match.offers; ANALYZE match.requests");
    st_db_statement (db, "bench_offers_max", "SELECT coalesce (max (id), 0) FROM offers");
    st_error_t err;
    if (woken && st_db_run (db, "LISTEN \"" MATCH_ROUND_CHANNEL "\"", &err) != ST_OK) {
        fprintf (stderr, "listen: %s\n", err.message);
        exit (1);
    }
    s_notified (st_db_conn (db)); //  nothing from before

    s_poster_t poster = {.h = h, .rate = rate, .count = rate * duration, .residents = residents};
    atomic_init (&poster.done, false);
    pthread_t thread;
    if (pthread_create (&thread, NULL, s_poster_run, &poster)) {
        fprintf (stderr, "could not start the poster thread\n");
        exit (1);
    }
    //  Rounds until one has begun after the last post committed, so every request has had
    //  at least one round that could see it.
    int rounds = 0, room = 64;
    s_round_t *round = calloc ((size_t) room, sizeof (s_round_t));
    if (!round)
        abort ();
    match_round_clock_t clock = {0};
    match_round_stats_t stats, sum = {0};
    int64_t due = 0;
    for (bool last = false; !last;) {
        bool done = atomic_load (&poster.done);
        if (rounds == room) {
            room *= 2;
            round = realloc (round, (size_t) room * sizeof (s_round_t));
            if (!round)
                abort ();
        }
        round[rounds].began = s_epoch ();
        double began = s_ms ();
        if (woken) {
            bool ran;
            due =
                match_round_next (db, &config, &clock, s_notified (st_db_conn (db)), &stats, &ran);
            if (!ran) {
                s_wait_socket (st_db_conn (db), due);
                continue;
            }
        } else if (match_round_run (db, &config, &stats, &err) != ST_OK) {
            fprintf (stderr, "round: %s\n", err.message);
            exit (1);
        }
        last = done;
        round[rounds].committed = s_epoch ();
        sum.upkeep_ms += stats.upkeep_ms, sum.read_ms += stats.read_ms;
        sum.walk_ms += stats.walk_ms, sum.mark_ms += stats.mark_ms;
        sum.graph_ms += stats.graph_ms, sum.solve_ms += stats.solve_ms;
        sum.offer_ms += stats.offer_ms, sum.record_ms += stats.record_ms;
        sum.commit_ms += stats.commit_ms, sum.requests += stats.requests;
        sum.pairs += stats.pairs;
        double ended = s_ms ();
        round[rounds].ms = ended - began;
        PGresult *res;
        if (st_db_exec (db, "bench_offers_max", NULL, &res, &err) != ST_OK) {
            fprintf (stderr, "offers: %s\n", err.message);
            exit (1);
        }
        round[rounds].max_offer = atoll (PQgetvalue (res, 0, 0));
        PQclear (res);
        rounds++;
        if (last)
            break;
        if (woken)
            s_wait_socket (st_db_conn (db), due);
        else
            s_sleep_until (ended + (double) config.round_ms);
    }
    pthread_join (thread, NULL);
    if (woken)
        st_db_run (db, "UNLISTEN *", &err);

    //  Each request's created_at and first offer; the first round whose visible maximum
    //  reaches that offer is the one whose commit made it visible (offers are made only by
    //  rounds, with ascending ids).
    PGresult *res = PQexec (harness_pg (h), "SELECT extract (epoch FROM r.created_at), min (o.id)"
                                            " FROM match.requests r LEFT JOIN match.offers o"
                                            " ON o.request_id = r.id GROUP BY r.id ORDER BY r.id");
    if (PQresultStatus (res) != PGRES_TUPLES_OK) {
        fprintf (stderr, "requests: %s", PQerrorMessage (harness_pg (h)));
        exit (1);
    }
    int requests = PQntuples (res), offered = 0, first_chance = 0;
    double *ms = calloc ((size_t) requests + 1, sizeof (double));
    if (!ms)
        abort ();
    for (int row = 0; row < requests; row++) {
        if (PQgetisnull (res, row, 1))
            continue;
        double created = atof (PQgetvalue (res, row, 0));
        int64_t offer = atoll (PQgetvalue (res, row, 1));
        int k = 0, chance = 0;
        while (k < rounds && round[k].max_offer < offer)
            k++;
        while (chance < rounds && round[chance].began < created)
            chance++;
        if (k == rounds)
            continue; //  not possible: the offer was read after the last round
        ms[offered++] = (round[k].committed - created) * 1e3;
        //  created_at is the INSERT's start, a little before its commit: a round begun in
        //  between counts as a chance it could not take (rare at these rates).
        first_chance += k == chance;
    }
    PQclear (res);
    qsort (ms, (size_t) offered, sizeof (double), s_compare_doubles);
    double round_total = 0, round_max = 0;
    for (int k = 0; k < rounds; k++) {
        round_total += round[k].ms;
        round_max = round[k].ms > round_max ? round[k].ms : round_max;
    }
    double round_mean = rounds ? round_total / rounds : 0, p99 = -1;
    if (woken)
        printf ("steady load, woken by new demand: %d requests/s for %d s, a round when a request"
                " comes (STATION_DISPATCH_WAKE_MS %lld after the last at the soonest), else every"
                " %lld ms after the last ended\n",
                rate, duration, (long long) config.wake_ms, (long long) config.round_ms);
    else
        printf ("steady load, the clock alone (baseline): %d requests/s for %d s, a round every"
                " %lld ms after the last one ended\n",
                rate, duration, (long long) config.round_ms);
    printf ("  posted %d in %.1f s, offered %d (%d still without an offer after the last round, "
            "left out of the percentiles)\n",
            poster.posted, poster.seconds, offered, requests - offered);
    if (offered > 0) {
        double p50 = s_percentile (ms, offered, 50);
        p99 = s_percentile (ms, offered, 99);
        printf ("  time to first offer (created_at to the commit of the round making it):"
                " p50 %.0f ms, p99 %.0f ms, max %.0f ms\n",
                p50, p99, ms[offered - 1]);
        printf ("  rounds: %d, mean %.0f ms, max %.0f ms; offered by the first round begun after "
                "posting: %d of %d\n",
                rounds, round_mean, round_max, first_chance, offered);
        printf ("  a round's mean phases: upkeep %.0f + queries %.0f + fitting %.0f + mark %.0f +"
                " graph %.0f + solve %.0f + offers %.0f + record %.0f + commit %.0f ms;"
                " %.0f requests, %.0f pairs\n",
                sum.upkeep_ms / rounds, sum.read_ms / rounds, sum.walk_ms / rounds,
                sum.mark_ms / rounds, sum.graph_ms / rounds, sum.solve_ms / rounds,
                sum.offer_ms / rounds, sum.record_ms / rounds, sum.commit_ms / rounds,
                (double) sum.requests / rounds, (double) sum.pairs / rounds);
        if (!woken)
            //  A request waits for the next round's start, uniform over a round and its
            //  interval, then for that round to commit.
            printf ("  the schedule alone, (ROUND_MS + round) / 2 + round = %.0f ms\n",
                    (config.round_ms + round_mean) / 2 + round_mean);
    }
    free (ms);
    free (round);
    return p99;
}

//  ---------------------------------------------------------------------------------------
//  The horizon: 100,000 open requests over 90 days

//  Loads `count` requests shaped like the cold round's but starting on any of the next
//  `days` local days (after tomorrow), each day equally, residents 1..residents.
static void
s_load_horizon (PGconn *pg, int count, int days, int residents)
{
    s_text_t text = {0};
    unsigned seed = 2029;
    time_t now = time (NULL);
    static const int hours[] = {8, 10, 14, 19};
    for (int i = 1; i <= count; i++) {
        s_request_t request;
        s_request (&seed, now, &request);
        int64_t local_day = ((int64_t) now + 8 * 3600) / 86400 + 1 + (i % days);
        time_t start = (time_t) (local_day * 86400 + hours[i / days % 4] * 3600 - 8 * 3600);
        s_utc (start, request.start);
        s_utc (start + 7200, request.end);
        char created_text[32];
        s_utc (now - request.age, created_text);
        s_add (&text,
               "助老\t远期%d\t说明\t%s\t%.6f\t%.6f\t%s\t%s\t60\t%d\t%s\t%s\t%d\tbench\t%s\t%s\n", i,
               request.region, request.lat, request.lon, request.start, request.end,
               request.headcount, request.skills, request.urgency, 1 + i % residents, created_text,
               created_text);
    }
    s_copy (pg,
            "COPY match.requests (category, title, description, region, lat, lon,"
            " earliest_start, latest_end, duration_minutes, headcount, skills, urgency,"
            " resident_id, created_by, created_at, published_at) FROM STDIN",
            &text);
    free (text.data);
    PQclear (PQexec (pg, "ANALYZE match.requests"));
}

//  One round from the same state as every other here (no offers, every request open) with
//  `config`; prints its figures under `label`.
static void
s_horizon_round (harness_t *h, st_db_t *db, const match_round_config_t *config, const char *label)
{
    //  CASCADE: manual_assignments refers to offers (a plain TRUNCATE is refused).
    harness_sql (h, "TRUNCATE match.offers CASCADE");
    harness_sql (h, "UPDATE match.requests SET status = 'open' WHERE status = 'matching'");
    harness_sql (h, "VACUUM ANALYZE match.requests");
    harness_sql (h, "ANALYZE match.offers");
    match_round_stats_t stats;
    st_error_t err;
    double began = s_ms ();
    if (match_round_run (db, config, &stats, &err) != ST_OK) {
        fprintf (stderr, "round: %s\n", err.message);
        exit (1);
    }
    double whole = s_ms () - began;
    printf ("%-34s whole round %6.0f ms = upkeep %.0f + plan %.0f (queries %.0f, fitting %.0f)"
            " + mark %.0f + graph %.0f + solve %.0f%s + offers %.0f + record %.0f + commit %.0f ms;"
            " %lld requests%s, %lld pairs, %lld offers\n",
            label, whole, stats.upkeep_ms, stats.candidate_ms, stats.read_ms, stats.walk_ms,
            stats.mark_ms, stats.graph_ms, stats.solve_ms,
            stats.stopped ? " (stopped at the budget)" : "", stats.offer_ms, stats.record_ms,
            stats.commit_ms, (long long) stats.requests, stats.bounded ? " (bounded)" : "",
            (long long) stats.pairs, (long long) stats.offers);
}

static void
s_horizon (harness_t *h, st_db_t *db, int residents)
{
    int count = s_env_int ("HORIZON_REQUESTS", 100000, 1, 10000000);
    int days = (int) s_config ()->horizon_days;
    harness_sql (h, "TRUNCATE match.offers, match.requests CASCADE");
    double began = s_ms ();
    s_load_horizon (harness_pg (h), count, days, residents);
    printf ("horizon: loaded %d open requests over %d days in %.0f ms\n", count, days,
            s_ms () - began);
    began = s_ms ();
    PGresult *res = PQexec (
        harness_pg (h), "SELECT r.*, (SELECT count (*) FROM match.offers p WHERE"
                        " p.request_id = r.id AND p.status = 'pending') FROM match.requests r"
                        " WHERE r.status IN ('open', 'matching') AND r.earliest_start > now ()");
    printf ("baseline: plain read of every open request's row with its pending offers: %.0f ms"
            " (%d rows)\n",
            s_ms () - began, PQntuples (res));
    PQclear (res);

    const char *bounds = getenv ("BOUNDS") ? getenv ("BOUNDS") : "none,2000,5000,10000";
    char *copy = strdup (bounds), *rest = copy, *item;
    while ((item = strsep (&rest, ","))) {
        match_round_config_t config = *s_config ();
        char label[96];
        if (strcmp (item, "none") == 0) {
            config.max_demand = 10000000;
            config.solve_ms = 600000;
            snprintf (label, sizeof label, "no bound, no solver budget:");
        } else {
            config.max_demand = atoi (item);
            if (config.max_demand < 1)
                continue;
            snprintf (label, sizeof label, "MAX_DEMAND %s, SOLVE_MS %lld:", item,
                      (long long) config.solve_ms);
        }
        s_horizon_round (h, db, &config, label);
    }
    free (copy);
}

//  The round's offers inserted again (as the round wrote them, in a transaction rolled back),
//  once checked as 0027 does (a statement trigger: one anti-join of the new rows against
//  requests and supply) and once by the two foreign keys offers had before it (added back NOT
//  VALID: checked for new rows, a query each), alternately, three times each: the least
//  CPU of the server process and wall time of each. `pg` the superuser's connection.
static void
s_references (harness_t *h)
{
    PGconn *pg = harness_pg (h);
    harness_sql (h, "CREATE TEMP TABLE bench_offers AS SELECT request_id, volunteer_id, cost,"
                    " deadline FROM match.offers ORDER BY id");
    long rows = atol (harness_sql (h, "SELECT count (*) FROM bench_offers"));
    double cpu[2] = {1e18, 1e18}, wall[2] = {1e18, 1e18};
    for (int run = 0; run < 6; run++) {
        int keys = run % 2 == 0;
        harness_sql (h, "BEGIN");
        if (keys) {
            harness_sql (h, "ALTER TABLE match.offers DISABLE TRIGGER offers_references_insert");
            harness_sql (h, "ALTER TABLE match.offers ADD FOREIGN KEY (request_id)"
                            " REFERENCES match.requests NOT VALID, ADD FOREIGN KEY (volunteer_id)"
                            " REFERENCES match.supply NOT VALID");
        }
        harness_sql (h, "DELETE FROM match.offers");
        double used = s_backend_cpu_ms (pg), began = s_ms ();
        harness_sql (h, "INSERT INTO match.offers (request_id, volunteer_id, cost, deadline)"
                        " SELECT request_id, volunteer_id, cost, deadline FROM bench_offers");
        double took = s_ms () - began;
        used = s_backend_cpu_ms (pg) - used;
        harness_sql (h, "ROLLBACK");
        if (used < cpu[keys])
            cpu[keys] = used;
        if (took < wall[keys])
            wall[keys] = took;
    }
    harness_sql (h, "DROP TABLE bench_offers");
    printf ("offers' references, the round's %ld offers inserted again (least of 3, server CPU /"
            " wall): checked once a statement (0027) %.0f / %.0f ms vs the two foreign keys"
            " (baseline, a check a row) %.0f / %.0f ms: %.2fx the CPU (load %s)\n",
            rows, cpu[0], wall[0], cpu[1], wall[1], cpu[1] > 0 ? cpu[0] / cpu[1] : 0,
            s_load_average ());
}

int
main (void)
{
    st_log_init ("bench_dispatch", "warn");
    int volunteers = getenv ("VOLUNTEERS") ? atoi (getenv ("VOLUNTEERS")) : 100000;
    int requests = getenv ("REQUESTS") ? atoi (getenv ("REQUESTS")) : 10000;
    srand (2026);
    //  match's own rounds every ten minutes: its first (empty) one at start, none during the
    //  run, not even woken by the requests loaded.
    setenv ("STATION_DISPATCH_ROUND_MS", "600000", 1);
    setenv ("STATION_DISPATCH_WAKE_MS", "600000", 1);
    harness_t *h = harness_new ("bench_dispatch");
    harness_start (h, "match");
    double began = s_ms ();
    s_load (harness_pg (h), volunteers, requests);
    printf ("loaded %d volunteers, %d requests in %.0f ms\n", volunteers, requests,
            s_ms () - began);

    st_db_t *db = st_db_new (harness_conninfo (h), "match", "match");
    match_dispatch_store_prepare (db);
    printf ("load (uptime): %s\n", s_load_average ());
    s_greedy (db, volunteers, requests);

    match_round_stats_t stats;
    st_error_t err;
    double server_cpu = s_backend_cpu_ms (st_db_conn (db)), own_cpu = s_own_cpu_ms ();
    began = s_ms ();
    if (match_round_run (db, s_cold_config (requests), &stats, &err) != ST_OK) {
        fprintf (stderr, "round: %s\n", err.message);
        return 1;
    }
    double round_ms = s_ms () - began;
    server_cpu = server_cpu < 0 ? -1 : s_backend_cpu_ms (st_db_conn (db)) - server_cpu;
    own_cpu = s_own_cpu_ms () - own_cpu;
    struct rusage usage;
    getrusage (RUSAGE_SELF, &usage);
    printf ("min-cost flow round, %d volunteers x %d requests (every request, no solver budget):"
            " whole round %.0f ms (load %s)\n",
            volunteers, requests, round_ms, s_load_average ());
    printf ("  = upkeep %.0f + candidates %.0f (queries %.0f, fitting and ranking %.0f) + mark"
            " %.0f + graph %.0f + solve %.0f + offers %.0f (statement %.0f, events %.0f) + record"
            " %.0f + commit %.0f ms; %lld requests, %lld pairs\n",
            stats.upkeep_ms, stats.candidate_ms, stats.read_ms, stats.walk_ms, stats.mark_ms,
            stats.graph_ms, stats.solve_ms, stats.offer_ms, stats.insert_ms, stats.events_ms,
            stats.record_ms, stats.commit_ms, (long long) stats.requests, (long long) stats.pairs);
    printf ("  CPU used by the round: the database server's %.0f ms, this process's %.0f ms (beside"
            " the wall time above, which on a loaded machine also waits for the CPU)\n",
            server_cpu, own_cpu);
    printf ("mcf:      cost %lld, staffed %.1f%% (%lld of %lld), care-group %.1f%% (%lld of "
            "%lld), offers %lld\n",
            (long long) stats.cost, 100.0 * stats.served / (stats.missing ? stats.missing : 1),
            (long long) stats.served, (long long) stats.missing,
            100.0 * stats.cared_served / (stats.cared_missing ? stats.cared_missing : 1),
            (long long) stats.cared_served, (long long) stats.cared_missing,
            (long long) stats.offers);
    printf ("peak memory of this process (getrusage): %ld MiB\n", usage.ru_maxrss / 1024);
    printf ("offers in the database: %s\n", harness_sql (h, "SELECT count (*) FROM match.offers"));
    s_references (h);
    bench_sizes (harness_pg (h), "match", 1000);

    const char *phases = getenv ("PHASES") ? getenv ("PHASES") : "cold,steady,horizon";
    if (strstr (phases, "steady")) {
        printf ("load (uptime): %s\n", s_load_average ());
        double clock_p99 = s_steady (h, db, requests, false);
        double woken_p99 = s_steady (h, db, requests, true);
        if (clock_p99 > 0 && woken_p99 > 0)
            printf ("steady load: first offer p99 woken %.0f ms vs the clock alone %.0f ms"
                    " (%.2fx)\n",
                    woken_p99, clock_p99, woken_p99 / clock_p99);
        printf ("load (uptime): %s\n", s_load_average ());
        s_plain_sql (h, requests, 200);
    }
    if (strstr (phases, "horizon"))
        s_horizon (h, db, requests);
    st_db_destroy (&db);
    harness_destroy (&h);
    return 0;
}
