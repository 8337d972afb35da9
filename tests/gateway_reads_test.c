/*  gateway_reads_test.c — a read's session checked while its op runs (issue 22): the call goes
    out as the actor the token last proved with the request's lease while the database checks
    the token, and only the database's answer counts: a session ended is 401 on the very next
    request, and a session that now proves another actor is answered as that actor. What the
    database answered is taken at its word for session-trust-ms (a proof), no longer; a
    sign-out outlasts it. A read held up in a service holds up no request of another
    connection, even with one lease of calls (STATION_GATEWAY_THREADS=1). Its leases are made
    before any request needs one.  */
#include "fixture.h"
#include "st_log.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define COUNTY   "431022000000"
#define VILLAGE  "431022100201"
#define PASSWORD "correct horse battery"
#define ROUNDS   24 //  more than the gateway's HTTP threads: every one has seen the token

static char s_volunteer[32], s_path[96];
static fx_t *s_fx;

static int
s_setup (void **state)
{
    (void) state;
    s_fx = fx_new ("gateway_reads_test", FX_REGISTRY | FX_MATCH | FX_GATEWAY);
    fx_county_add ();
    json_decref (fx_call_ok ("registry", &FX_SYSTEM, "account.create",
                             "{\"login\": \"reader\", \"password\": \"" PASSWORD "\","
                             " \"role\": \"region_admin\", \"region\": \"" COUNTY "\"}"));
    fx_volunteer_add ("欧阳明华", VILLAGE, "[]", "[]", 25.4, 112.95, "", s_volunteer);
    snprintf (s_path, sizeof s_path, "/v1/volunteers/%s", s_volunteer);
    return 0;
}

static int
s_teardown (void **state)
{
    (void) state;
    fx_destroy (&s_fx);
    return 0;
}

static void
s_token (char token[64])
{
    fx_http_t *answer = fx_http ("POST", "/v1/sessions", NULL,
                                 "{\"login\": \"reader\", \"password\": \"" PASSWORD "\"}", NULL);
    if (answer->status != 201)
        fail_msg ("sign-in: %ld %s", answer->status, answer->text);
    snprintf (token, 64, "%s", fx_http_str (answer, "token"));
    fx_http_free (&answer);
}

//  GET the volunteer ROUNDS times, each on a new connection (any HTTP thread): each answer
//  must be `status`.
static void
s_reads_at (int port, const char *token, long status)
{
    for (int i = 0; i < ROUNDS; i++) {
        fx_http_t *answer =
            fx_http_at (port, "GET", s_path, token, NULL, "Connection: close", NULL);
        if (answer->status != status)
            fail_msg ("GET %s, round %d: %ld (not %ld) %s", s_path, i, answer->status, status,
                      answer->text);
        if (status == 401)
            assert_string_equal (fx_http_str (answer, "error.field"), "Authorization");
        fx_http_free (&answer);
    }
}

//  The same through the fixture's gateway.
static void
s_reads (const char *token, long status)
{
    s_reads_at (harness_http_port (fx_harness ()), token, status);
}

//  A sign-out ends the session for the very next read, whichever thread guessed its actor.
static void
test_signed_out_at_once (void **state)
{
    char token[64];
    s_token (token);
    s_reads (token, 200);
    fx_http_t *answer = fx_http ("DELETE", "/v1/sessions/current", token, NULL, NULL);
    assert_int_equal (answer->status, 204);
    fx_http_free (&answer);
    s_reads (token, 401);
}

//  A session that proves another actor than the threads last saw (here its region, changed in
//  the table) is answered as the actor it proves: the volunteer is out of the new region's
//  scope (404), and in it again once the region is back. Every request asks the database
//  here (session-trust-ms 0): the guesses alone are at stake.
static void
test_answered_as_the_actor_proved (void **state)
{
    const char *env[] = {"STATION_SESSION_TRUST_MS=0", NULL};
    int port;
    harness_start_gateway (fx_harness (), env, &port);
    char token[64];
    s_token (token);
    s_reads_at (port, token, 200);
    fx_sql ("UPDATE gateway.sessions SET region = '431023000000'");
    s_reads_at (port, token, 404);
    fx_sql ("UPDATE gateway.sessions SET region = '" COUNTY "'");
    s_reads_at (port, token, 200);
}

//  The count of a line of /metrics on `port` (0 when absent).
static double
s_metric (int port, const char *line)
{
    fx_http_t *answer = fx_http_at (port, "GET", "/metrics", NULL, NULL, NULL);
    const char *at = strstr (answer->text, line);
    double value = at ? atof (at + strlen (line)) : 0;
    fx_http_free (&answer);
    return value;
}

//  What the database answered for a token is taken at its word for session-trust-ms, from
//  when the check went out, and no longer: a region changed in the table is seen once the
//  proof has run out (404), and the requests in between asked nobody.
static void
test_a_proof_lasts_its_moment (void **state)
{
    const char *env[] = {"STATION_SESSION_TRUST_MS=3000", NULL};
    int port;
    harness_start_gateway (fx_harness (), env, &port);
    char token[64];
    s_token (token);
    const char *proof = "station_gateway_session_checks_total{answer=\"proof\"} ";
    const char *database = "station_gateway_session_checks_total{answer=\"database\"} ";
    int64_t start = st_clock_ms ();
    s_reads_at (port, token, 200);
    assert_int_equal ((int) s_metric (port, database), 1);
    assert_int_equal ((int) s_metric (port, proof), ROUNDS - 1);
    fx_sql ("UPDATE gateway.sessions SET region = '431023000000'");
    if (st_clock_ms () - start < 2500)
        s_reads_at (port, token, 200);
    fx_sleep_ms ((int) (3100 - (st_clock_ms () - start)));
    s_reads_at (port, token, 404);
    assert_true (s_metric (port, database) >= 2);
    fx_sql ("UPDATE gateway.sessions SET region = '" COUNTY "'");
    fx_sleep_ms (3100);
    s_reads_at (port, token, 200);
    //  A sign-out answers once the proofs have run out: 3 s of trust, then 401 at once.
    start = st_clock_ms ();
    fx_http_t *answer = fx_http_at (port, "DELETE", "/v1/sessions/current", token, NULL, NULL);
    assert_int_equal (answer->status, 204);
    fx_http_free (&answer);
    assert_true (st_clock_ms () - start >= 3000);
    s_reads_at (port, token, 401);
}

typedef struct {
    int port;
    const char *method;
    const char *path;
    const char *token;
    long status;
    volatile bool done;
} s_get_t;

static void *
s_get (void *arg)
{
    s_get_t *get = arg;
    fx_http_t *answer = fx_http_at (get->port, get->method ? get->method : "GET", get->path,
                                    get->token, NULL, NULL);
    get->status = answer->status;
    fx_http_free (&answer);
    get->done = true;
    return NULL;
}

//  Whether `get` is done within `ms`.
static bool
s_done_within (s_get_t *get, int ms)
{
    for (int waited = 0; !get->done && waited < ms; waited += 20)
        fx_sleep_ms (20);
    return get->done;
}

//  A read that waits in registry (its table locked) on one connection holds up no other
//  connection's request: with a thread per connection, not one thread serving both.
static void
test_held_read_holds_up_no_other_connection (void **state)
{
    const char *env[] = {"STATION_GATEWAY_THREADS=1", NULL};
    int port;
    harness_start_gateway (fx_harness (), env, &port);
    char token[64];
    s_token (token);
    PGconn *pg = harness_pg (fx_harness ());
    PGresult *res = PQexec (pg, "BEGIN; LOCK TABLE registry.volunteers IN ACCESS EXCLUSIVE MODE");
    assert_int_equal (PQresultStatus (res), PGRES_COMMAND_OK);
    PQclear (res);
    s_get_t held = {.port = port, .path = s_path, .token = token};
    pthread_t held_thread;
    pthread_create (&held_thread, NULL, s_get, &held);
    fx_sleep_ms (300);
    bool held_waits = !held.done;
    s_get_t other = {.port = port, .path = "/v1/regions/" COUNTY};
    pthread_t other_thread;
    pthread_create (&other_thread, NULL, s_get, &other);
    bool answered = s_done_within (&other, 5000);
    res = PQexec (pg, "COMMIT");
    assert_int_equal (PQresultStatus (res), PGRES_COMMAND_OK);
    PQclear (res);
    pthread_join (other_thread, NULL);
    pthread_join (held_thread, NULL);
    assert_true (held_waits);
    if (!answered)
        fail_msg ("GET /v1/regions/%s waited for the held read of another connection", COUNTY);
    assert_int_equal (other.status, 200);
    assert_int_equal (held.status, 200);
}

//  A gateway makes its leases before any request needs one: every lease's database
//  connection is open, the session's check prepared on it, before the first request comes (a
//  lease made by the request that first needed it held that request up while a PostgreSQL
//  backend started and authenticated: at 8 connections at once, the bench's p99 tail). A
//  gateway of 2 HTTP threads has 2 + 4 (the slow slots') leases; none of them waits for a
//  request.
static void
test_leases_made_before_requests (void **state)
{
    char started[64];
    snprintf (started, sizeof started, "%s", fx_value ("SELECT now ()::text"));
    const char *env[] = {"STATION_GATEWAY_THREADS=2", NULL};
    int port;
    harness_start_gateway (fx_harness (), env, &port);
    fx_wait_for (6,
                 "SELECT count (*) FROM pg_stat_activity WHERE application_name = 'gateway'"
                 " AND datname = current_database () AND backend_start > '%s'"
                 " AND query LIKE '%%FROM sessions WHERE token_hash = $1%%'",
                 started);
    //  And the first request of each of them is answered as ever.
    char token[64];
    s_token (token);
    for (int i = 0; i < 8; i++) {
        fx_http_t *answer =
            fx_http_at (port, "GET", s_path, token, NULL, "Connection: close", NULL);
        assert_int_equal (answer->status, 200);
        fx_http_free (&answer);
    }
}

//  A sign-out waits out the proofs' time without its lease: on a gateway of one thread's
//  leases (STATION_GATEWAY_THREADS=1: 1 + 4 for slow requests), a read sent while as many
//  sign-outs wait is answered before any of them.
#define S_LEASES 5
static void
test_a_signout_holds_up_no_other_request (void **state)
{
    const char *env[] = {"STATION_GATEWAY_THREADS=1", "STATION_SESSION_TRUST_MS=4000", NULL};
    int port;
    harness_start_gateway (fx_harness (), env, &port);
    char leaving[S_LEASES][64], staying[64];
    s_token (staying);
    s_get_t signouts[S_LEASES];
    pthread_t threads[S_LEASES];
    for (int i = 0; i < S_LEASES; i++) {
        s_token (leaving[i]);
        signouts[i] = (s_get_t){
            .port = port, .method = "DELETE", .path = "/v1/sessions/current", .token = leaving[i]};
    }
    for (int i = 0; i < S_LEASES; i++)
        pthread_create (&threads[i], NULL, s_get, &signouts[i]);
    fx_sleep_ms (1000); //  every sign-out is waiting by now
    //  The read needs a lease (a session check and a call): it does not wait for the
    //  sign-outs' 4 s.
    s_get_t read = {.port = port, .path = s_path, .token = staying};
    s_get (&read);
    assert_int_equal (read.status, 200);
    for (int i = 0; i < S_LEASES; i++)
        assert_false (signouts[i].done);
    for (int i = 0; i < S_LEASES; i++) {
        pthread_join (threads[i], NULL);
        assert_int_equal (signouts[i].status, 204);
    }
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_signed_out_at_once),
        cmocka_unit_test (test_answered_as_the_actor_proved),
        cmocka_unit_test (test_a_proof_lasts_its_moment),
        cmocka_unit_test (test_a_signout_holds_up_no_other_request),
        cmocka_unit_test (test_held_read_holds_up_no_other_connection),
        cmocka_unit_test (test_leases_made_before_requests),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
