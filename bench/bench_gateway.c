/*  bench_gateway.c — the gateway's cost (issue 22, "Benchmarks"): wrk (Debian's) against the
    gateway on 127.0.0.1, each figure beside its raw baseline measured in the same run, the same
    op called by rpc directly (st_client threads, the gateway's key and the same actor the
    session proves):
      1. GET /v1/requests/{id} against request.get, and POST /v1/requests (a fresh
         Idempotency-Key each) against request.create, 1 and 8 in flight: requests/s, p50, p99;
         and the GET again through a gateway that checks every request's session in the
         database (session-trust-ms 0), as many people's sessions, each used now and then, are;
      2. a sign-in storm (POST /v1/sessions, argon2id in registry, many logins) and registry's
         volunteer.get p99 through the gateway and by rpc, quiet and during the storm.
    Goals (printed, never asserted): the gateway adds at most 1.5x the rpc latency and answers
    at least 5,000 reads/s; volunteer.get p99 < 10 ms during a storm.
    Usage: bench_gateway [seconds per measurement (default 5, or BENCH_GATEWAY_SECONDS)]
    [sign-ins in flight (default 16)]; BENCH_GATEWAY_PARTS="get post parts storm" (any of
    them) measures only those; needs STATION_SOURCE_DIR (for bench_gateway.lua) and
    wrk, as scripts/bench gives.  */
#include "bench_proc.h"
#include "bench_util.h"
#include "fixture.h"
#include "st_json.h"
#include "st_log.h"

#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define COUNTY   "431022000000"
#define VILLAGE  "431022100201"
#define ADMIN    "bench-admin"
#define PASSWORD "bench password 1"
#define LOGINS   32 //  accounts the storm signs in, in turn
#define THREADS  8  //  the gateway's HTTP threads (STATION_GATEWAY_THREADS), rpc threads alike

//  CPU time (user and system, in clock ticks) and context switches of the processes a request
//  goes through: what a figure cost, apart from what else runs on the machine.
typedef struct {
    double cpu_ms[4]; //  gateway, match, registry, PostgreSQL (every backend)
    long switches[4]; //  context switches, voluntary and not, of every thread
} s_cost_t;

typedef struct {
    long requests;
    double seconds;
    s_cost_t cost; //  during the measurement (s_cost_begin .. s_cost_end)
    bool costed;
    double p50_ms, p99_ms, max_ms;
    double raw_p99_ms; //  the rpc baseline's p99 of its samples alone (0: wrk's)
    long errors;       //  connection, read/write, status >= 400, timeouts
    char kinds[96];    //  which, when some
} s_figures_t;

static int s_seconds = 5;
static int s_port;      //  the gateway wrk asks (0: the fixture's)
static pid_t s_pids[3]; //  gateway, match, registry
static pid_t s_postmaster;
static char s_token[64];
static char s_lua[512];
static msg_actor_t s_actor;

static void
s_die (const char *what)
{
    fprintf (stderr, "bench_gateway: %s\n", what);
    exit (1);
}

//  ---------------------------------------------------------------------------------------
//  What a measurement cost: /proc of the gateway, match, registry and PostgreSQL's processes

static s_cost_t
s_cost_now (void)
{
    s_cost_t cost = {0};
    for (int i = 0; i < 3; i++)
        if (s_pids[i])
            bench_proc_cost (s_pids[i], &cost.cpu_ms[i], &cost.switches[i]);
    bench_proc_children_cost (s_postmaster, &cost.cpu_ms[3], &cost.switches[3]);
    return cost;
}

static s_cost_t
s_cost_since (const s_cost_t *before)
{
    s_cost_t now = s_cost_now ();
    for (int i = 0; i < 4; i++) {
        now.cpu_ms[i] -= before->cpu_ms[i];
        now.switches[i] -= before->switches[i];
    }
    return now;
}

//  ---------------------------------------------------------------------------------------
//  wrk

typedef struct {
    pid_t pid;
    int fd;
    s_cost_t before;
} s_wrk_t;

//  Starts wrk with `connections` in flight for `seconds` on `path`, `token` (NULL: none) sent
//  as Bearer, `env` ("NAME=VALUE", NULL-terminated) for the script.
static s_wrk_t
s_wrk_start_as (int connections, int seconds, const char *path, const char *const *env,
                const char *token)
{
    char threads[16], conns[16], duration[16], url[256], auth[128];
    snprintf (threads, sizeof threads, "%d", connections < 2 ? 1 : 2);
    snprintf (conns, sizeof conns, "%d", connections);
    snprintf (duration, sizeof duration, "%ds", seconds);
    snprintf (url, sizeof url, "http://127.0.0.1:%d%s",
              s_port ? s_port : harness_http_port (fx_harness ()), path);
    snprintf (auth, sizeof auth, "Authorization: Bearer %s", token ? token : "");
    int pipefd[2];
    if (pipe (pipefd))
        s_die ("pipe");
    pid_t pid = fork ();
    if (pid < 0)
        s_die ("fork");
    if (pid == 0) {
        for (size_t i = 0; env && env[i]; i++)
            putenv ((char *) env[i]);
        dup2 (pipefd[1], 1);
        close (pipefd[0]);
        close (pipefd[1]);
        const char *args[] = {"wrk", "-t", threads, "-c", conns, "-d", duration, "--timeout",
                              "60s", "-s", s_lua,   url,  "-H",  auth, NULL};
        if (!token)
            args[12] = NULL; //  no -H
        execvp ("wrk", (char *const *) args);
        fprintf (stderr, "bench_gateway: cannot run wrk (Debian package wrk; scripts/bench"
                         " installs it)\n");
        _exit (127);
    }
    close (pipefd[1]);
    return (s_wrk_t){pid, pipefd[0], s_cost_now ()};
}

//  The same with the session's token.
static s_wrk_t
s_wrk_start (int connections, int seconds, const char *path, const char *const *env)
{
    return s_wrk_start_as (connections, seconds, path, env, s_token);
}

//  Waits for wrk and reads its figures (bench_gateway.lua's line).
static s_figures_t
s_wrk_finish (s_wrk_t wrk)
{
    char out[8192];
    size_t used = 0;
    ssize_t got;
    while (used < sizeof out - 1 && (got = read (wrk.fd, out + used, sizeof out - 1 - used)) > 0)
        used += (size_t) got;
    out[used] = '\0';
    close (wrk.fd);
    int status;
    waitpid (wrk.pid, &status, 0);
    s_cost_t cost = s_cost_since (&wrk.before);
    const char *line = strstr (out, "WRK ");
    long requests = 0, duration_us = 0, p50 = 0, p99 = 0, max = 0, connect = 0, readwrite = 0,
         bad = 0, timeouts = 0;
    if (!WIFEXITED (status) || WEXITSTATUS (status) != 0 || !line
        || sscanf (line, "WRK %ld %ld %ld %ld %ld %ld %ld %ld %ld", &requests, &duration_us, &p50,
                   &p99, &max, &connect, &readwrite, &bad, &timeouts)
               != 9) {
        fprintf (stderr, "%s", out);
        s_die ("wrk failed");
    }
    s_figures_t figures = {.requests = requests,
                           .seconds = duration_us / 1e6,
                           .p50_ms = p50 / 1e3,
                           .p99_ms = p99 / 1e3,
                           .max_ms = max / 1e3,
                           .errors = connect + readwrite + bad + timeouts,
                           .cost = cost,
                           .costed = true};
    if (figures.errors)
        snprintf (figures.kinds, sizeof figures.kinds,
                  ": %ld connect, %ld read/write, %ld status >= 400, %ld timeouts", connect,
                  readwrite, bad, timeouts);
    return figures;
}

static s_figures_t
s_wrk (int connections, const char *path, const char *const *env)
{
    return s_wrk_finish (s_wrk_start (connections, s_seconds, path, env));
}

//  ---------------------------------------------------------------------------------------
//  The raw baseline: the op by rpc, threads with a client each, for a while

#define S_CALLERS 64

typedef struct {
    st_client_t *client;
    const st_op_desc_t *op;
    const msg_actor_t *actor;
    void *request;
    bool signin; //  session.login: each call another login, in turn
    int index;
    int64_t until_ns;
    int64_t *samples;
    size_t count, room;
    long errors;
} s_caller_t;

typedef struct {
    int n;
    int64_t start_ns;
    s_cost_t before;
    s_caller_t callers[S_CALLERS];
    pthread_t threads[S_CALLERS];
} s_callers_t;

static void *
s_caller (void *arg)
{
    s_caller_t *self = arg;
    void *reply = st_calloc (1, self->op->reply->size);
    char login[32];
    long calls = 0;
    msg_session_login_t *signin = self->signin ? self->request : NULL;
    char *first = signin ? signin->login : NULL;
    while (bench_ns () < self->until_ns) {
        if (signin) {
            snprintf (login, sizeof login, "bench.%02ld", (self->index * 7 + ++calls) % LOGINS);
            signin->login = login;
        }
        st_error_t err;
        int64_t start = bench_ns ();
        st_status_t rc =
            st_client_call (self->client, self->op->name, self->actor, NULL, self->op->request,
                            self->request, self->op->reply, reply, 120000, &err);
        int64_t took = bench_ns () - start;
        if (rc != ST_OK) {
            if (self->errors++ == 0)
                fprintf (stderr, "bench_gateway: %s: %s\n", self->op->name, err.message);
            continue;
        }
        st_msg_clear (self->op->reply, reply);
        if (self->count == self->room) {
            self->room = self->room ? 2 * self->room : 4096;
            self->samples = realloc (self->samples, self->room * sizeof *self->samples);
        }
        self->samples[self->count++] = took;
    }
    if (signin)
        signin->login = first;
    free (reply);
    return NULL;
}

//  Starts `n` threads calling `op` of `service` with the JSON `body` as `actor` (NULL: none)
//  for `seconds`, each with a client of its own.
static s_callers_t *
s_rpc_start (int n, const char *service, const char *op_name, const char *body,
             const msg_actor_t *actor, int seconds)
{
    const st_op_desc_t *op = st_proto_op (service, op_name);
    s_callers_t *self = calloc (1, sizeof *self);
    self->n = n;
    json_t *json = json_loads (body, 0, NULL);
    for (int i = 0; i < n; i++) {
        st_error_t err;
        s_caller_t *caller = &self->callers[i];
        caller->client = harness_client (fx_harness (), service, "gateway");
        //  Patient: a resend would only wait for the same reply.
        st_client_set_retry (caller->client, 120000);
        caller->op = op;
        caller->actor = actor;
        caller->index = i;
        caller->signin = strcmp (op_name, "session.login") == 0;
        caller->request = st_calloc (1, op->request->size);
        if (!json || st_json_to_msg (op->request, json, caller->request, &err))
            s_die ("a bad body for the rpc baseline");
    }
    json_decref (json);
    self->before = s_cost_now ();
    self->start_ns = bench_ns ();
    for (int i = 0; i < n; i++) {
        self->callers[i].until_ns = self->start_ns + (int64_t) seconds * 1000000000;
        pthread_create (&self->threads[i], NULL, s_caller, &self->callers[i]);
    }
    return self;
}

//  The samples as wrk 4 counts its own before it reports them (its stats_correct): a request
//  that took x holds up its connection's next ones, counted as if sent on time, one every
//  `interval` (the run's time over the requests of one connection): x - interval, x - 2
//  interval... down to 2 intervals. Without it the baseline's p99 is not wrk's: one stall of
//  0.5 s at 2 ms a request is 250 of wrk's samples and one of ours. The new array (malloc'd)
//  and its size into *count.
static void
s_push (int64_t **all, size_t *used, size_t *room, int64_t x)
{
    if (*used == *room) {
        *room *= 2;
        *all = realloc (*all, *room * sizeof **all);
    }
    (*all)[(*used)++] = x;
}

static int64_t *
s_as_wrk_counts (const int64_t *samples, size_t *count, int64_t interval)
{
    size_t n = *count, room = n + 1024, used = 0;
    int64_t *all = malloc (room * sizeof *all);
    for (size_t i = 0; i < n; i++) {
        int64_t x = samples[i];
        s_push (&all, &used, &room, x);
        if (interval > 0 && x >= 2 * interval)
            for (int64_t m = x - interval; m > interval; m -= interval)
                s_push (&all, &used, &room, m);
    }
    *count = used;
    return all;
}

static s_figures_t
s_rpc_finish (s_callers_t *self)
{
    size_t total = 0;
    for (int i = 0; i < self->n; i++) {
        pthread_join (self->threads[i], NULL);
        total += self->callers[i].count;
    }
    double seconds = (bench_ns () - self->start_ns) / 1e9;
    s_cost_t cost = s_cost_since (&self->before);
    int64_t *all = malloc ((total ? total : 1) * sizeof *all);
    size_t used = 0;
    long errors = 0;
    for (int i = 0; i < self->n; i++) {
        s_caller_t *caller = &self->callers[i];
        memcpy (all + used, caller->samples, caller->count * sizeof *all);
        used += caller->count;
        errors += caller->errors;
        free (caller->samples);
        st_msg_clear (caller->op->request, caller->request);
        free (caller->request);
        st_client_destroy (&caller->client);
    }
    s_figures_t figures = {.requests = (long) total,
                           .seconds = seconds,
                           .errors = errors,
                           .cost = cost,
                           .costed = true};
    if (total) {
        size_t per_caller = total / (size_t) self->n ? total / (size_t) self->n : 1;
        int64_t interval = (int64_t) (seconds * 1e9) / (int64_t) per_caller;
        size_t counted = total;
        int64_t *as_wrk = s_as_wrk_counts (all, &counted, interval);
        figures.p50_ms = bench_quantile (as_wrk, counted, 0.5) / 1e6;
        figures.p99_ms = bench_quantile (as_wrk, counted, 0.99) / 1e6;
        figures.max_ms = as_wrk[counted - 1] / 1e6;
        free (as_wrk);
        figures.raw_p99_ms = bench_quantile (all, total, 0.99) / 1e6;
    }
    free (all);
    free (self);
    return figures;
}

//  The op by rpc from `n` threads as the session's actor for s_seconds.
static s_figures_t
s_rpc (int n, const char *service, const char *op, const char *body)
{
    return s_rpc_finish (s_rpc_start (n, service, op, body, &s_actor, s_seconds));
}

//  ---------------------------------------------------------------------------------------
//  Reports

static void
s_line (const char *what, const s_figures_t *f)
{
    printf ("  %-44s %8.0f /s  p50 %7.2f ms  p99 %7.2f ms  max %8.2f ms  (%ld, %ld errors%s)\n",
            what, f->requests / f->seconds, f->p50_ms, f->p99_ms, f->max_ms, f->requests, f->errors,
            f->kinds);
    if (f->raw_p99_ms > 0)
        printf ("  %-44s percentiles counted as wrk counts its own (a stall as the requests it held"
                " up); p99 of the calls alone %.2f ms\n",
                "", f->raw_p99_ms);
    if (f->costed && f->requests) {
        const s_cost_t *c = &f->cost;
        double n = (double) f->requests;
        printf ("  %-44s cpu us/request: gateway %.0f, match %.0f, registry %.0f, PostgreSQL %.0f;"
                " context switches/request %.1f, %.1f, %.1f, %.1f\n",
                "", c->cpu_ms[0] * 1000 / n, c->cpu_ms[1] * 1000 / n, c->cpu_ms[2] * 1000 / n,
                c->cpu_ms[3] * 1000 / n, c->switches[0] / n, c->switches[1] / n, c->switches[2] / n,
                c->switches[3] / n);
    }
}

//  ---------------------------------------------------------------------------------------
//  Where the gateway's time went: its phase histograms (station_gateway_phase_seconds in
//  /metrics), read before and after a measurement

#define S_PHASES        8
#define S_PHASE_BUCKETS 20 //  16 us doubling, the last +Inf
static const char *const s_phase_names[S_PHASES] = {"idle", "read",  "lease", "session",
                                                    "rpc",  "reply", "write", "total"};

typedef struct {
    double count[S_PHASES][S_PHASE_BUCKETS]; //  cumulative, as /metrics tells
    double sum[S_PHASES];
} s_phases_t;

static s_phases_t
s_phases_now (void)
{
    s_phases_t phases = {0};
    fx_http_t *answer = fx_http_at (s_port ? s_port : harness_http_port (fx_harness ()), "GET",
                                    "/metrics", NULL, NULL, NULL);
    const char *prefix = "station_gateway_phase_seconds_";
    for (const char *line = answer->text; line && *line;) {
        const char *end = strchr (line, '\n');
        if (strncmp (line, prefix, strlen (prefix)) == 0) {
            const char *rest = line + strlen (prefix);
            char name[32] = "", le[32] = "";
            double value = 0;
            bool bucket = strncmp (rest, "bucket", 6) == 0, sum = strncmp (rest, "sum", 3) == 0;
            const char *phase = strstr (rest, "phase=\"");
            if (phase && sscanf (phase, "phase=\"%31[^\"]\"", name) == 1) {
                const char *close = strchr (phase, '}');
                const char *at = strstr (phase, "le=\"");
                if (at && sscanf (at, "le=\"%31[^\"]\"", le) != 1)
                    le[0] = '\0';
                if (close)
                    value = strtod (close + 1, NULL);
                for (int p = 0; p < S_PHASES; p++)
                    if (strcmp (name, s_phase_names[p]) == 0) {
                        if (sum)
                            phases.sum[p] = value;
                        else if (bucket) {
                            int b = 0;
                            if (strcmp (le, "+Inf") == 0)
                                b = S_PHASE_BUCKETS - 1;
                            else
                                for (double bound = strtod (le, NULL) * 1e6;
                                     bound > 16.5 && b < S_PHASE_BUCKETS - 1; bound /= 2)
                                    b++;
                            phases.count[p][b] = value;
                        }
                    }
            }
        }
        line = end ? end + 1 : NULL;
    }
    fx_http_free (&answer);
    return phases;
}

//  The bound (ms) of the bucket the `fraction` of the counts falls in.
static double
s_phase_quantile (const double *count, double fraction)
{
    double total = count[S_PHASE_BUCKETS - 1];
    for (int b = 0; b < S_PHASE_BUCKETS - 1; b++)
        if (count[b] >= fraction * total)
            return (double) (16 << b) / 1e3;
    return INFINITY;
}

//  Each phase's count, mean and p50, p99 and highest bucket between `before` and now.
static void
s_phases_print (const s_phases_t *before)
{
    s_phases_t now = s_phases_now ();
    printf ("  %-44s %-8s %9s %9s %9s %9s %9s\n", "the gateway's phases (/metrics, bucket bounds)",
            "phase", "count", "mean ms", "p50 <=", "p99 <=", "max <=");
    for (int p = 0; p < S_PHASES; p++) {
        double diff[S_PHASE_BUCKETS];
        for (int b = 0; b < S_PHASE_BUCKETS; b++)
            diff[b] = now.count[p][b] - before->count[p][b];
        double n = diff[S_PHASE_BUCKETS - 1];
        if (n <= 0)
            continue;
        double max = 0;
        for (int b = 0; b < S_PHASE_BUCKETS; b++)
            if (diff[b] < n) {
                max = b + 1 < S_PHASE_BUCKETS - 1 ? (double) (16 << (b + 1)) / 1e3 : INFINITY;
            }
        if (diff[0] >= n)
            max = 0.016;
        printf ("  %-44s %-8s %9.0f %9.3f %9.3f %9.3f %9.3f\n", "", s_phase_names[p], n,
                (now.sum[p] - before->sum[p]) * 1e3 / n, s_phase_quantile (diff, 0.5),
                s_phase_quantile (diff, 0.99), max);
    }
}

static void
s_ratio (const s_figures_t *gateway, const s_figures_t *rpc)
{
    printf ("  %-44s latency p50 %.2fx  p99 %.2fx   throughput %.2fx of rpc\n", "gateway / rpc",
            gateway->p50_ms / rpc->p50_ms, gateway->p99_ms / rpc->p99_ms,
            (gateway->requests / gateway->seconds) / (rpc->requests / rpc->seconds));
}

//  One endpoint against its op at 1 and THREADS in flight.
static void
s_compare (const char *title, const char *path, const char *const *env, const char *service,
           const char *op, const char *body)
{
    int levels[] = {1, THREADS};
    for (size_t i = 0; i < 2; i++) {
        int n = levels[i];
        printf ("%s, %d in flight, %d s each\n", title, n, s_seconds);
        s_phases_t phases = s_phases_now ();
        s_figures_t gateway = s_wrk (n, path, env);
        s_figures_t rpc = s_rpc (n, service, op, body);
        char what[96];
        snprintf (what, sizeof what, "gateway (wrk, %d connection%s)", n, n > 1 ? "s" : "");
        s_line (what, &gateway);
        snprintf (what, sizeof what, "rpc %s (%d st_client thread%s)", op, n, n > 1 ? "s" : "");
        s_line (what, &rpc);
        s_ratio (&gateway, &rpc);
        s_phases_print (&phases);
    }
}

//  Whether the part `name` is to be measured: BENCH_GATEWAY_PARTS lists some (space
//  separated, of get post parts storm), unset or empty all.
static bool
s_part (const char *name)
{
    const char *parts = getenv ("BENCH_GATEWAY_PARTS");
    if (!parts || !*parts)
        return true;
    size_t length = strlen (name);
    for (const char *p = strstr (parts, name); p; p = strstr (p + 1, name))
        if ((p == parts || p[-1] == ' ') && (p[length] == '\0' || p[length] == ' '))
            return true;
    return false;
}

//  ---------------------------------------------------------------------------------------

int
main (int argc, char **argv)
{
    const char *seconds = getenv ("BENCH_GATEWAY_SECONDS");
    s_seconds = argc > 1 ? atoi (argv[1]) : seconds ? atoi (seconds) : 5;
    int storm = argc > 2 ? atoi (argv[2]) : 16;
    if (s_seconds < 1 || s_seconds > 60)
        s_seconds = 5;
    if (storm < 1 || storm > S_CALLERS)
        storm = 16;
    const char *source = getenv ("STATION_SOURCE_DIR");
    if (!source)
        s_die ("STATION_SOURCE_DIR is not set (scripts/bench sets it)");
    snprintf (s_lua, sizeof s_lua, "%s/bench/bench_gateway.lua", source);
    st_log_init ("bench", "error");
    setenv ("STATION_TEST_LOG_LEVEL", "error", 1);
    //  Dispatch rounds would work on the thousands of requests the POSTs make while other
    //  figures are taken: they wait until the end.
    setenv ("STATION_DISPATCH_ROUND_MS", "600000", 1);
    char threads[16];
    snprintf (threads, sizeof threads, "%d", THREADS);
    setenv ("STATION_GATEWAY_THREADS", threads, 1);
    fx_t *fx = fx_new ("bench_gateway", FX_REGISTRY | FX_MATCH | FX_GATEWAY);
    s_pids[0] = fx_pid ("gateway");
    s_pids[1] = fx_pid ("match");
    s_pids[2] = fx_pid ("registry");
    s_postmaster = bench_postmaster_pid ();
    fx_county_add ();
    json_decref (fx_call_ok ("registry", &FX_SYSTEM, "account.create",
                             "{\"login\": \"" ADMIN "\", \"password\": \"" PASSWORD "\","
                             " \"role\": \"region_admin\", \"region\": \"" COUNTY "\"}"));
    for (int i = 0; i < LOGINS; i++) {
        char body[256];
        snprintf (body, sizeof body,
                  "{\"login\": \"bench.%02d\", \"password\": \"" PASSWORD "\","
                  " \"role\": \"station_admin\", \"region\": \"" VILLAGE "\"}",
                  i);
        json_decref (fx_call_ok ("registry", &FX_SYSTEM, "account.create", body));
    }
    char volunteer[32], request[32], start[64], end[64], slots[64], body[FX_BODY_SIZE];
    fx_volunteer_add ("欧阳明华", VILLAGE, "[]", "[]", 25.4, 112.95, "", volunteer);
    fx_window (3, 9, 11, start, end, slots);
    fx_request_add (&FX_SYSTEM, VILLAGE, start, end, 1, "[]", "normal", "", "open", request);
    fx_request_body (body, "助老", "陪同就医", VILLAGE, start, end, 1, "[]", "normal", "");

    //  The session, and the same actor for the rpc baseline.
    fx_http_t *answer =
        fx_http ("POST", "/v1/sessions", NULL,
                 "{\"login\": \"" ADMIN "\", \"password\": \"" PASSWORD "\"}", NULL);
    if (answer->status != 201)
        s_die ("could not sign in");
    snprintf (s_token, sizeof s_token, "%s", fx_http_str (answer, "token"));
    static char account[32], role[32], region[32];
    snprintf (account, sizeof account, "%s", fx_http_str (answer, "account.id"));
    snprintf (role, sizeof role, "%s", fx_http_str (answer, "account.role"));
    snprintf (region, sizeof region, "%s", fx_http_str (answer, "account.region"));
    fx_http_free (&answer);
    s_actor = (msg_actor_t){.account = account, .role = role, .region = region};
    char get_path[96], volunteer_path[96], get_body[96], volunteer_body[96];
    snprintf (get_path, sizeof get_path, "/v1/requests/%s", request);
    snprintf (get_body, sizeof get_body, "{\"id\": \"%s\"}", request);
    snprintf (volunteer_path, sizeof volunteer_path, "/v1/volunteers/%s", volunteer);
    snprintf (volunteer_body, sizeof volunteer_body, "{\"id\": \"%s\"}", volunteer);
    const char *paths[] = {get_path, volunteer_path};
    for (size_t i = 0; i < 2; i++) {
        answer = fx_http ("GET", paths[i], s_token, NULL, NULL);
        if (answer->status != 200)
            s_die (answer->text);
        fx_http_free (&answer);
    }
    //  Whatever else runs on the machine weighs on both sides alike: its load, to read the
    //  figures by.
    printf ("gateway (%d HTTP threads), registry, match and PostgreSQL on this machine's %ld"
            " cores (load average %.2f), wrk on 127.0.0.1; a region admin's session\n",
            THREADS, sysconf (_SC_NPROCESSORS_ONLN), bench_load_average ());

    //  1. Reads and writes.
    if (s_part ("get")) {
        s_compare ("GET /v1/requests/{id} against request.get", get_path, NULL, "match",
                   "request.get", get_body);
        //  The reads above are one session's: after its first, each is answered by the proof
        //  the gateway holds for session-trust-ms. Many people's sessions, each asking now and
        //  then, are checked in the database each time: a gateway that always asks.
        const char *always[] = {"STATION_SESSION_TRUST_MS=0", NULL};
        pid_t fixture = s_pids[0];
        s_pids[0] = harness_start_gateway (fx_harness (), always, &s_port);
        printf ("GET /v1/requests/{id}, every request's session checked in the database"
                " (STATION_SESSION_TRUST_MS=0), %d in flight, %d s\n",
                THREADS, s_seconds);
        s_phases_t phases = s_phases_now ();
        s_figures_t asked = s_wrk (THREADS, get_path, NULL);
        s_line ("gateway (wrk, 8 connections)", &asked);
        s_phases_print (&phases);
        s_pids[0] = fixture;
        s_port = 0;
    }
    static char body_env[FX_BODY_SIZE + 16];
    snprintf (body_env, sizeof body_env, "BENCH_BODY=%s", body);
    const char *post_env[] = {body_env, NULL};
    if (s_part ("post"))
        s_compare ("POST /v1/requests (a fresh Idempotency-Key each) against request.create",
                   "/v1/requests", post_env, "match", "request.create", body);
    if (s_part ("get") || s_part ("post"))
        printf ("  goal: the gateway adds at most 1.5x the rpc latency, >= 5,000 reads/s\n");
    //  Where the gateway's time goes: HTTP alone, HTTP and the session's check, HTTP and a
    //  call without a session.
    //  At 1 in flight the differences are where one request's time goes: the session's check
    //  (the second line less the first), the rpc hop and the JSON (the third less the first,
    //  against the fourth).
    int part_levels[] = {1, THREADS};
    for (size_t i = 0; i < 2 && s_part ("parts"); i++) {
        int n = part_levels[i];
        printf ("the gateway's parts, %d in flight, %d s each\n", n, s_seconds);
        s_figures_t part = s_wrk_finish (s_wrk_start_as (n, s_seconds, "/healthz", NULL, NULL));
        s_line ("GET /healthz (HTTP alone)", &part);
        part = s_wrk (n, "/healthz", NULL);
        s_line ("GET /healthz with the token (and its check)", &part);
        part = s_wrk_finish (s_wrk_start_as (n, s_seconds, "/v1/regions/" COUNTY, NULL, NULL));
        s_line ("GET /v1/regions/{code} (region.get, no session)", &part);
        part = s_rpc (n, "registry", "region.get", "{\"code\": \"" COUNTY "\"}");
        s_line ("rpc region.get (as many st_client threads)", &part);
    }

    //  2. volunteer.get, quiet and during a storm of sign-ins.
    if (!s_part ("storm")) {
        fx_destroy (&fx);
        return 0;
    }
    printf ("volunteer.get (GET /v1/volunteers/{id} and by rpc, 1 in flight), quiet and during"
            " storms of %d sign-ins in flight (%d logins in turn, argon2id in registry), %d s"
            " each\n",
            storm, LOGINS, s_seconds);
    printf ("quiet\n");
    s_figures_t quiet_gateway = s_wrk (1, volunteer_path, NULL);
    s_figures_t quiet_rpc = s_rpc (1, "registry", "volunteer.get", volunteer_body);
    s_line ("volunteer.get, gateway (wrk, 1 connection)", &quiet_gateway);
    s_line ("volunteer.get, rpc (1 thread)", &quiet_rpc);
    char logins[32];
    snprintf (logins, sizeof logins, "BENCH_SIGNIN_LOGINS=%d", LOGINS);
    const char *keep_env[] = {logins, "BENCH_SIGNIN_PREFIX=bench.",
                              "BENCH_SIGNIN_PASSWORD=" PASSWORD, NULL};
    const char *close_env[] = {logins, "BENCH_SIGNIN_PREFIX=bench.",
                               "BENCH_SIGNIN_PASSWORD=" PASSWORD, "BENCH_SIGNIN_CLOSE=1", NULL};
    struct {
        const char *what;
        const char *const *env; //  NULL: by rpc
    } storms[] = {
        {"through the gateway, each client keeping its connection", keep_env},
        {"through the gateway, each sign-in on a new connection", close_env},
        {"by rpc (session.login, the baseline)", NULL},
    };
    char signin_body[128];
    snprintf (signin_body, sizeof signin_body,
              "{\"login\": \"bench.00\", \"password\": \"" PASSWORD "\"}");
    for (size_t i = 0; i < sizeof storms / sizeof storms[0]; i++) {
        printf ("storm %zu: %d sign-ins in flight %s\n", i + 1, storm, storms[i].what);
        //  The storm lasts both measurements and a second before and after.
        s_wrk_t wrk = {0};
        s_callers_t *callers = NULL;
        if (storms[i].env)
            wrk = s_wrk_start (storm, 2 * s_seconds + 3, "/v1/sessions", storms[i].env);
        else
            callers = s_rpc_start (storm, "registry", "session.login", signin_body, NULL,
                                   2 * s_seconds + 3);
        fx_sleep_ms (1000);
        s_figures_t gateway = s_wrk (1, volunteer_path, NULL);
        s_figures_t rpc = s_rpc (1, "registry", "volunteer.get", volunteer_body);
        s_figures_t signins = storms[i].env ? s_wrk_finish (wrk) : s_rpc_finish (callers);
        s_line ("volunteer.get, gateway (wrk, 1 connection)", &gateway);
        s_line ("volunteer.get, rpc (1 thread)", &rpc);
        s_line (storms[i].env ? "the sign-ins, POST /v1/sessions" : "the sign-ins, session.login",
                &signins);
    }
    printf ("  goal: volunteer.get p99 < 10 ms during a storm\n");

    fx_destroy (&fx);
    return 0;
}
