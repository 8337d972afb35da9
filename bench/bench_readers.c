/*  bench_readers.c — what the reader pool costs a read (issue 22): registry's region.get by rpc
    from 1 and 4 st_client threads, answered on the loop (STATION_READERS=0, the baseline) and
    by readers (STATION_READERS=2), in the same run: calls/s, p50, p99, and the CPU time and
    context switches per call of registry and of its PostgreSQL backends (from /proc, so
    what else runs on the machine weighs little on them), with the load average beside each.
    Usage: bench_readers [seconds per measurement (default 5, or BENCH_READERS_SECONDS)].  */
#include "bench_proc.h"
#include "bench_util.h"
#include "fixture.h"
#include "st_json.h"
#include "st_log.h"

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define COUNTY  "431022000000"
#define CALLERS 4

static int s_seconds = 5;
static pid_t s_service;
static pid_t s_postmaster;

typedef struct {
    double cpu_ms[2]; //  registry, PostgreSQL (every backend)
    long switches[2]; //  context switches, voluntary and not, of every thread
} s_cost_t;

static s_cost_t
s_cost_now (void)
{
    s_cost_t cost = {0};
    bench_proc_cost (s_service, &cost.cpu_ms[0], &cost.switches[0]);
    bench_proc_children_cost (s_postmaster, &cost.cpu_ms[1], &cost.switches[1]);
    return cost;
}

typedef struct {
    st_client_t *client;
    const st_op_desc_t *op;
    void *request;
    const msg_actor_t *actor;
    int64_t until_ns;
    int64_t *samples;
    size_t count, room;
    long errors;
} s_caller_t;

static void *
s_caller (void *arg)
{
    s_caller_t *self = arg;
    void *reply = st_calloc (1, self->op->reply->size);
    while (bench_ns () < self->until_ns) {
        st_error_t err;
        int64_t start = bench_ns ();
        st_status_t rc =
            st_client_call (self->client, self->op->name, self->actor, NULL, self->op->request,
                            self->request, self->op->reply, reply, 60000, &err);
        int64_t took = bench_ns () - start;
        if (rc != ST_OK) {
            if (self->errors++ == 0)
                fprintf (stderr, "bench_readers: %s: %s\n", self->op->name, err.message);
            continue;
        }
        st_msg_clear (self->op->reply, reply);
        if (self->count == self->room) {
            self->room = self->room ? 2 * self->room : 4096;
            self->samples = realloc (self->samples, self->room * sizeof *self->samples);
        }
        self->samples[self->count++] = took;
    }
    free (reply);
    return NULL;
}

static void
s_load (char load[16])
{
    snprintf (load, 16, "?");
    FILE *file = fopen ("/proc/loadavg", "r");
    if (file && fgets (load, 16, file))
        load[strcspn (load, " ")] = '\0';
    if (file)
        fclose (file);
}

//  region.get from `n` threads for s_seconds; prints one line. Returns the calls per second.
static double
s_measure (const char *readers, int n)
{
    const st_op_desc_t *op = st_proto_op ("registry", "region.get");
    static const msg_actor_t actor = {.account = "bench", .role = "system"};
    s_caller_t callers[CALLERS] = {0};
    pthread_t threads[CALLERS];
    json_t *json = json_loads ("{\"code\": \"" COUNTY "\"}", 0, NULL);
    for (int i = 0; i < n; i++) {
        st_error_t err;
        callers[i].client = harness_client (fx_harness (), "registry", "operator");
        st_client_set_retry (callers[i].client, 60000);
        callers[i].op = op;
        callers[i].actor = &actor;
        callers[i].request = st_calloc (1, op->request->size);
        if (st_json_to_msg (op->request, json, callers[i].request, &err)) {
            fprintf (stderr, "bench_readers: %s\n", err.message);
            exit (1);
        }
    }
    json_decref (json);
    char load[16];
    s_load (load);
    s_cost_t before = s_cost_now ();
    int64_t start = bench_ns ();
    for (int i = 0; i < n; i++) {
        callers[i].until_ns = start + (int64_t) s_seconds * 1000000000;
        pthread_create (&threads[i], NULL, s_caller, &callers[i]);
    }
    size_t total = 0;
    long errors = 0;
    for (int i = 0; i < n; i++) {
        pthread_join (threads[i], NULL);
        total += callers[i].count;
        errors += callers[i].errors;
    }
    double seconds = (bench_ns () - start) / 1e9;
    s_cost_t after = s_cost_now ();
    int64_t *all = malloc ((total ? total : 1) * sizeof *all);
    size_t used = 0;
    for (int i = 0; i < n; i++) {
        memcpy (all + used, callers[i].samples, callers[i].count * sizeof *all);
        used += callers[i].count;
        free (callers[i].samples);
        st_msg_clear (op->request, callers[i].request);
        free (callers[i].request);
        st_client_destroy (&callers[i].client);
    }
    double calls = total ? (double) total : 1;
    printf ("  STATION_READERS=%s %d thread%s  %8.0f calls/s  p50 %6.3f ms  p99 %6.3f ms"
            "  registry %5.1f us %4.1f switches, PostgreSQL %5.1f us %4.1f switches per call"
            "  (load %s%s)\n",
            readers, n, n > 1 ? "s" : " ", total / seconds,
            total ? bench_quantile (all, total, 0.5) / 1e6 : 0,
            total ? bench_quantile (all, total, 0.99) / 1e6 : 0,
            (after.cpu_ms[0] - before.cpu_ms[0]) * 1000.0 / calls,
            (after.switches[0] - before.switches[0]) / calls,
            (after.cpu_ms[1] - before.cpu_ms[1]) * 1000.0 / calls,
            (after.switches[1] - before.switches[1]) / calls, load, errors ? ", errors" : "");
    fflush (stdout);
    free (all);
    return total / seconds;
}

int
main (int argc, char **argv)
{
    const char *seconds = getenv ("BENCH_READERS_SECONDS");
    s_seconds = argc > 1 ? atoi (argv[1]) : seconds ? atoi (seconds) : 5;
    if (s_seconds < 1 || s_seconds > 60)
        s_seconds = 5;
    st_log_init ("bench", "error");
    setenv ("STATION_TEST_LOG_LEVEL", "error", 1);
    printf ("registry region.get by rpc on this machine's %ld cores: the loop answering reads"
            " (STATION_READERS=0, the baseline) against 2 readers\n",
            sysconf (_SC_NPROCESSORS_ONLN));
    const char *modes[] = {"0", "2"};
    double rate[2][2];
    for (int m = 0; m < 2; m++) {
        setenv ("STATION_READERS", modes[m], 1);
        char name[32];
        snprintf (name, sizeof name, "bench_readers_%s", modes[m]);
        fx_t *fx = fx_new (name, FX_REGISTRY);
        s_service = fx_pid ("registry");
        s_postmaster = bench_postmaster_pid ();
        fx_county_add ();
        rate[m][0] = s_measure (modes[m], 1);
        rate[m][1] = s_measure (modes[m], CALLERS);
        fx_destroy (&fx);
    }
    printf ("  readers / loop: calls/s %.2fx (1 thread), %.2fx (%d threads)\n",
            rate[1][0] / rate[0][0], rate[1][1] / rate[0][1], CALLERS);
    unsetenv ("STATION_READERS");
    return 0;
}
