/*  bench_signin.c — volunteer.get latency while 50 people sign in at once (each a real
    session.login: an argon2id check at 64 MiB): first with no sign-ins (the baseline), then
    during the burst with the worker pool (STATION_WORKERS, default 2), then during the same
    burst with sign-ins run on the rpc loop (STATION_WORKERS=0, as before the pool).
    Usage: bench_signin [sign-ins (default 50)] [workers (default 2)]  */
#include "bench_util.h"
#include "harness.h"
#include "st_log.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

enum { MAX_SIGNINS = 256, MAX_SAMPLES = 100000 };

typedef struct {
    st_client_t *client;
    char login[32];
    int64_t took_ns;
    st_status_t rc;
} s_signin_t;

static atomic_int s_running;
static atomic_int s_go;

static void
s_fail (const char *what, const st_error_t *err)
{
    fprintf (stderr, "bench_signin: %s: %s\n", what, err->message);
    exit (1);
}

static void *
s_signin (void *args)
{
    s_signin_t *self = args;
    while (!atomic_load (&s_go))
        ;
    msg_session_login_t request = {.login = self->login, .password = "bench pass 1"};
    msg_account_t reply;
    st_error_t err;
    int64_t start = bench_ns ();
    self->rc = st_client_call (self->client, "session.login", NULL, NULL, &msg_session_login_desc,
                               &request, &msg_account_desc, &reply, 120000, &err);
    self->took_ns = bench_ns () - start;
    if (self->rc == ST_OK)
        st_msg_clear (&msg_account_desc, &reply);
    else
        fprintf (stderr, "bench_signin: %s: %s\n", self->login, err.message);
    atomic_fetch_sub (&s_running, 1);
    return NULL;
}

//  One volunteer.get, its latency in ns.
static int64_t
s_get (st_client_t *client, const char *id)
{
    msg_volunteer_get_t request = {.id = (char *) id};
    msg_volunteer_t reply;
    st_error_t err;
    int64_t start = bench_ns ();
    if (st_client_call (client, "volunteer.get", NULL, NULL, &msg_volunteer_get_desc, &request,
                        &msg_volunteer_desc, &reply, 120000, &err)
        != ST_OK)
        s_fail ("volunteer.get", &err);
    int64_t took = bench_ns () - start;
    st_msg_clear (&msg_volunteer_desc, &reply);
    return took;
}

static void
s_report (const char *what, int64_t *samples, int n)
{
    //  bench_quantile sorts the samples: the largest is last after it.
    double p50 = bench_quantile (samples, n, 0.5) / 1e6;
    double p99 = bench_quantile (samples, n, 0.99) / 1e6;
    printf ("%-64s p50 %8.2f ms  p99 %8.2f ms  max %8.2f ms  (%d calls)\n", what, p50, p99,
            samples[n - 1] / 1e6, n);
}

//  `n` sign-ins at once, each from its own client, while `client` calls volunteer.get one
//  after another until the last sign-in is answered; reports both.
static void
s_burst (harness_t *h, const char *what, st_client_t *client, const char *volunteer, int n)
{
    static s_signin_t signins[MAX_SIGNINS];
    static int64_t samples[MAX_SAMPLES];
    pthread_t threads[MAX_SIGNINS];
    atomic_store (&s_go, 0);
    atomic_store (&s_running, n);
    for (int i = 0; i < n; i++) {
        signins[i].client = harness_client (h, "registry", "gateway");
        //  Patient: a resend would only wait for the same reply.
        st_client_set_retry (signins[i].client, 120000);
        snprintf (signins[i].login, sizeof signins[i].login, "bench.%03d", i);
        pthread_create (&threads[i], NULL, s_signin, &signins[i]);
    }
    int64_t start = bench_ns ();
    atomic_store (&s_go, 1);
    int count = 0;
    while (atomic_load (&s_running) > 0 && count < MAX_SAMPLES)
        samples[count++] = s_get (client, volunteer);
    int64_t burst_ns = bench_ns () - start;
    static int64_t logins[MAX_SIGNINS];
    int ok = 0;
    for (int i = 0; i < n; i++) {
        pthread_join (threads[i], NULL);
        logins[i] = signins[i].took_ns;
        ok += signins[i].rc == ST_OK;
        st_client_destroy (&signins[i].client);
    }
    char line[128];
    snprintf (line, sizeof line, "volunteer.get during %d sign-ins, %s", n, what);
    s_report (line, samples, count);
    snprintf (line, sizeof line, "  session.login itself (%d ok), %s", ok, what);
    s_report (line, logins, n);
    printf ("  burst lasted %.2f s\n", burst_ns / 1e9);
}

static void
s_baseline (st_client_t *client, const char *volunteer)
{
    static int64_t samples[400];
    for (int i = 0; i < 400; i++)
        samples[i] = s_get (client, volunteer);
    s_report ("volunteer.get alone (baseline)", samples, 400);
}

static st_client_t *
s_start (harness_t *h, const char *workers)
{
    setenv ("STATION_WORKERS", workers, 1);
    harness_start (h, "registry");
    st_client_t *client = harness_client (h, "registry", "operator");
    st_client_set_retry (client, 120000);
    return client;
}

int
main (int argc, char **argv)
{
    int n = argc > 1 ? atoi (argv[1]) : 50;
    const char *workers = argc > 2 ? argv[2] : "2";
    if (n < 1 || n > MAX_SIGNINS)
        n = 50;
    st_log_init ("bench", "error");
    setenv ("STATION_TEST_LOG_LEVEL", "error", 1);
    harness_t *h = harness_new ("bench_signin");
    st_client_t *client = s_start (h, workers);
    st_error_t err;

    const char *regions[][2] = {{"431000000000", "郴州市"},
                                {"431022000000", "宜章县"},
                                {"431022100000", "玉溪镇"},
                                {"431022100201", "玉溪镇第一村"}};
    for (size_t i = 0; i < sizeof regions / sizeof regions[0]; i++) {
        msg_region_create_t request = {.code = (char *) regions[i][0],
                                       .name = (char *) regions[i][1]};
        msg_region_t reply;
        if (st_client_call (client, "region.create", NULL, NULL, &msg_region_create_desc, &request,
                            &msg_region_desc, &reply, 10000, &err)
            != ST_OK)
            s_fail ("region.create", &err);
        st_msg_clear (&msg_region_desc, &reply);
    }
    char id_number[19] = "43102219800115001";
    static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    int sum = 0;
    for (int k = 0; k < 17; k++)
        sum += (id_number[k] - '0') * w[k];
    id_number[17] = "10X98765432"[sum % 11];
    msg_volunteer_register_t person = {.name = "欧阳明华",
                                       .id_number = id_number,
                                       .phone = "13900000001",
                                       .region = "431022100201"};
    msg_volunteer_t volunteer;
    if (st_client_call (client, "volunteer.register", NULL, NULL, &msg_volunteer_register_desc,
                        &person, &msg_volunteer_desc, &volunteer, 30000, &err)
        != ST_OK)
        s_fail ("volunteer.register", &err);
    for (int i = 0; i < n; i++) {
        char login[32];
        snprintf (login, sizeof login, "bench.%03d", i);
        msg_account_create_t request = {.login = login,
                                        .password = "bench pass 1",
                                        .role = "station_admin",
                                        .region = "431022100201"};
        msg_account_t reply;
        if (st_client_call (client, "account.create", NULL, NULL, &msg_account_create_desc,
                            &request, &msg_account_desc, &reply, 60000, &err)
            != ST_OK)
            s_fail ("account.create", &err);
        st_msg_clear (&msg_account_desc, &reply);
    }
    printf ("registry, %d accounts, one volunteer; 2 cores shared with the database\n", n);

    s_baseline (client, volunteer.id);
    char what[64];
    snprintf (what, sizeof what, "pool of %s workers", workers);
    s_burst (h, what, client, volunteer.id, n);

    //  The same burst with sign-ins on the rpc loop, as before the pool.
    st_client_destroy (&client);
    int status = harness_stop (h, "registry", SIGTERM);
    printf ("registry stopped by SIGTERM: exit %d\n",
            WIFEXITED (status) ? WEXITSTATUS (status) : -1);
    client = s_start (h, "0");
    s_baseline (client, volunteer.id);
    s_burst (h, "inline (STATION_WORKERS=0)", client, volunteer.id, n);

    st_msg_clear (&msg_volunteer_desc, &volunteer);
    st_client_destroy (&client);
    harness_destroy (&h);
    return 0;
}
