/*  bench_rpc.c — an rpc round trip through the real server and client (CURVE on, envelope
    encoded, validated, dispatched, replied) against raw libzmq DEALER/ROUTER round trips of
    the same bytes, with and without CURVE, in the same run. The op is sys.ping, which needs
    no database, so the figures are the wire's own.  */
#include "bench_util.h"
#include "st_client.h"
#include "st_keys.h"
#include "st_log.h"
#include "st_server.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define ROUNDS 20000

static void
s_server_actor (zsock_t *pipe, void *args)
{
    const char *keydir = args;
    st_error_t err;
    zcert_t *cert = st_keys_secret (keydir, "registry", &err);
    st_db_t *db = st_db_new ("dbname=unused", "registry", "registry");
    st_server_t *server = st_server_new ("registry", db, NULL, 0, NULL);
    st_server_bind (server, "tcp://127.0.0.1:47101", cert, 1 << 20, &err);
    zsock_signal (pipe, 0);
    while (!zsys_interrupted) {
        zmq_pollitem_t items[2] = {{zsock_resolve (pipe), 0, ZMQ_POLLIN, 0},
                                   {zsock_resolve (st_server_socket (server)), 0, ZMQ_POLLIN, 0}};
        if (zmq_poll (items, 2, -1) == -1 || (items[0].revents & ZMQ_POLLIN))
            break;
        st_server_handle (server);
    }
    st_server_destroy (&server);
    st_db_destroy (&db);
    zcert_destroy (&cert);
}

//  Echoes frames back to their sender: the raw baseline's server.
static void
s_echo_actor (zsock_t *pipe, void *args)
{
    zsock_t *router = args;
    zsock_signal (pipe, 0);
    while (!zsys_interrupted) {
        zmq_pollitem_t items[2] = {{zsock_resolve (pipe), 0, ZMQ_POLLIN, 0},
                                   {zsock_resolve (router), 0, ZMQ_POLLIN, 0}};
        if (zmq_poll (items, 2, -1) == -1 || (items[0].revents & ZMQ_POLLIN))
            break;
        zmsg_t *msg = zmsg_recv (router);
        zmsg_send (&msg, router);
    }
}

static void
s_report (const char *what, int64_t *samples, int64_t total)
{
    printf ("%-40s p50 %6.1f us  p99 %6.1f us  %8.0f calls/s\n", what,
            bench_quantile (samples, ROUNDS, 0.5) / 1000.0,
            bench_quantile (samples, ROUNDS, 0.99) / 1000.0, ROUNDS * 1e9 / total);
}

//  Raw round trips of `frame` over DEALER/ROUTER; curve when the certs are given.
static void
s_raw (const char *what, const char *endpoint, zcert_t *server, zcert_t *client,
       const uint8_t *frame, size_t size, int64_t *samples)
{
    zsock_t *router = zsock_new (ZMQ_ROUTER);
    if (server)
        st_keys_server (router, server);
    zsock_bind (router, "%s", endpoint);
    zactor_t *echo = zactor_new (s_echo_actor, router);
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    if (client)
        st_keys_client (dealer, client, zcert_public_txt (server));
    zsock_connect (dealer, "%s", endpoint);
    int64_t start = bench_ns ();
    for (int i = 0; i < ROUNDS; i++) {
        int64_t t = bench_ns ();
        zframe_t *out = zframe_new (frame, size);
        zframe_send (&out, dealer, 0);
        zframe_t *in = zframe_recv (dealer);
        zframe_destroy (&in);
        samples[i] = bench_ns () - t;
    }
    s_report (what, samples, bench_ns () - start);
    zsock_destroy (&dealer);
    zactor_destroy (&echo);
    zsock_destroy (&router);
}

int
main (void)
{
    char keydir[] = "/tmp/station-bench-rpc-XXXXXX";
    if (!mkdtemp (keydir))
        return 1;
    st_log_init ("bench", "error");
    st_error_t err;
    st_keys_generate (keydir, "registry", "service", &err);
    st_keys_generate (keydir, "operator", "operator", &err);
    zactor_t *auth = st_keys_auth (keydir);
    zcert_t *server = st_keys_secret (keydir, "registry", &err);
    zcert_t *operator= st_keys_secret (keydir, "operator", &err);
    static int64_t samples[ROUNDS];

    zactor_t *actor = zactor_new (s_server_actor, keydir);
    st_client_t *client =
        st_client_new ("tcp://127.0.0.1:47101", operator, zcert_public_txt (server));
    msg_empty_t empty = {0};
    msg_pong_t pong;
    //  Warm up: CURVE handshake and the first allocations.
    for (int i = 0; i < 100; i++) {
        if (st_client_call (client, "sys.ping", NULL, NULL, &msg_empty_desc, &empty, &msg_pong_desc,
                            &pong, 5000, &err)
            != ST_OK) {
            fprintf (stderr, "bench_rpc: %s\n", err.message);
            return 1;
        }
        st_msg_clear (&msg_pong_desc, &pong);
    }
    int64_t start = bench_ns ();
    for (int i = 0; i < ROUNDS; i++) {
        int64_t t = bench_ns ();
        st_client_call (client, "sys.ping", NULL, NULL, &msg_empty_desc, &empty, &msg_pong_desc,
                        &pong, 5000, &err);
        st_msg_clear (&msg_pong_desc, &pong);
        samples[i] = bench_ns () - t;
    }
    int64_t total = bench_ns () - start;

    //  The same request bytes for the raw baselines.
    uint8_t id[16] = {1};
    uint8_t *frame, *body;
    size_t size, body_size;
    st_encode (&msg_empty_desc, &empty, &body, &body_size);
    st_client_envelope ("sys.ping", NULL, id, st_now_ms () + 5000, body, body_size, &frame, &size);
    printf ("request frame %zu bytes, %d round trips each, one client, loopback tcp\n", size,
            ROUNDS);
    s_report ("station rpc (CURVE, codec, dispatch)", samples, total);
    s_raw ("raw libzmq DEALER/ROUTER, CURVE", "tcp://127.0.0.1:47102", server, operator, frame,
           size, samples);
    s_raw ("raw libzmq DEALER/ROUTER, no security", "tcp://127.0.0.1:47103", NULL, NULL, frame,
           size, samples);
    free (frame);
    free (body);
    st_client_destroy (&client);
    zactor_destroy (&actor);
    zcert_destroy (&server);
    zcert_destroy (&operator);
    zactor_destroy (&auth);
    char command[128];
    snprintf (command, sizeof command, "rm -rf %s", keydir);
    return system (command);
}
