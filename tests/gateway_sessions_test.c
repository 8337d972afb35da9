/*  gateway_sessions_test.c — sessions across gateway processes (issue 22, "Tests"): two or
    more gateways on the same database, as replicas behind a balancer would run. A token made
    by one is good on the other; a sign-out on one ends it on the other at once; failed
    sign-ins on both count towards one limit; idle and absolute expiry hold whichever process
    is asked.  */
#include "fixture.h"
#include "st_log.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#define COUNTY   "431022000000"
#define PASSWORD "correct horse battery"

//  The fixture's gateway is A; B is a second process with the same settings.
static int s_port_a, s_port_b;

static void
s_account_add (const char *login)
{
    char body[256];
    snprintf (body, sizeof body,
              "{\"login\": \"%s\", \"password\": \"" PASSWORD "\","
              " \"role\": \"region_admin\", \"region\": \"" COUNTY "\"}",
              login);
    json_decref (fx_call_ok ("registry", &FX_SYSTEM, "account.create", body));
}

static int
s_setup (void **state)
{
    (void) state;
    fx_new ("gateway_sessions_test", FX_REGISTRY | FX_MATCH | FX_GATEWAY);
    fx_county_add ();
    s_port_a = harness_http_port (fx_harness ());
    harness_start_gateway (fx_harness (), NULL, &s_port_b);
    return 0;
}

//  Signs `login` in through the gateway on `port` with `password`; the answer.
static fx_http_t *
s_signin (int port, const char *login, const char *password)
{
    char body[256];
    snprintf (body, sizeof body, "{\"login\": \"%s\", \"password\": \"%s\"}", login, password);
    return fx_http_at (port, "POST", "/v1/sessions", NULL, body, NULL);
}

//  Signs in on `port` and the token into `token`; fails the test otherwise.
static void
s_token (int port, const char *login, char token[64])
{
    fx_http_t *answer = s_signin (port, login, PASSWORD);
    if (answer->status != 201)
        fail_msg ("sign-in of %s on port %d: %ld %s", login, port, answer->status, answer->text);
    snprintf (token, 64, "%s", fx_http_str (answer, "token"));
    fx_http_free (&answer);
}

//  The status of a signed-in read (GET /v1/categories) with `token` on `port`; a 401 must
//  name Authorization.
static long
s_use (int port, const char *token)
{
    fx_http_t *answer = fx_http_at (port, "GET", "/v1/categories", token, NULL, NULL);
    long status = answer->status;
    if (status == 401)
        assert_string_equal (fx_http_str (answer, "error.field"), "Authorization");
    else if (status != 200)
        fail_msg ("GET /v1/categories on port %d: %ld %s", port, status, answer->text);
    fx_http_free (&answer);
    return status;
}

static long
s_signout (int port, const char *token)
{
    fx_http_t *answer = fx_http_at (port, "DELETE", "/v1/sessions/current", token, NULL, NULL);
    long status = answer->status;
    fx_http_free (&answer);
    return status;
}

//  ---------------------------------------------------------------------------------------

static void
test_a_token_is_good_on_every_gateway_and_a_signout_ends_it_on_all (void **state)
{
    (void) state;
    s_account_add ("two-gateways");
    char token[64];
    s_token (s_port_a, "two-gateways", token);
    assert_int_equal (s_use (s_port_a, token), 200);
    assert_int_equal (s_use (s_port_b, token), 200);
    //  Signed out on B: A refuses it on the very next request, and so does B.
    assert_int_equal (s_signout (s_port_b, token), 204);
    assert_int_equal (s_use (s_port_a, token), 401);
    assert_int_equal (s_use (s_port_b, token), 401);
    assert_int_equal (s_signout (s_port_a, token), 401);

    //  The other way round; a second session of the same account lives on.
    char other[64];
    s_token (s_port_b, "two-gateways", token);
    s_token (s_port_b, "two-gateways", other);
    assert_int_equal (s_use (s_port_a, token), 200);
    assert_int_equal (s_signout (s_port_a, token), 204);
    assert_int_equal (s_use (s_port_b, token), 401);
    assert_int_equal (s_use (s_port_a, other), 200);
    assert_int_equal (s_use (s_port_b, other), 200);
    //  The table keeps only tokens' hashes, never a token.
    const char *secrets[] = {other};
    fx_holds_none ("gateway.sessions", secrets, 1);
}

//  Fails unless the answer is the gateway's 429 naming login, with a Retry-After of
//  1..`most` seconds; the seconds.
static int
s_expect_wait (fx_http_t *answer, int most)
{
    if (answer->status != 429 || strcmp (fx_http_str (answer, "error.field"), "login") != 0
        || !*answer->retry_after)
        fail_msg ("expected 429 naming login with Retry-After, got %ld (Retry-After \"%s\") %s",
                  answer->status, answer->retry_after, answer->text);
    int seconds = atoi (answer->retry_after);
    if (seconds < 1 || seconds > most)
        fail_msg ("Retry-After %s, expected 1 to %d", answer->retry_after, most);
    return seconds;
}

static void
s_expect_refused (fx_http_t *answer)
{
    if (answer->status != 401 || strcmp (fx_http_str (answer, "error.code"), "unauthenticated"))
        fail_msg ("expected 401 unauthenticated, got %ld %s", answer->status, answer->text);
}

static void
test_failed_signins_on_both_gateways_count_towards_one_limit (void **state)
{
    (void) state;
    s_account_add ("limited");
    //  Three wrong passwords, two on A and one on B: the login's limit (three free failures)
    //  is reached only if both processes count in the same place.
    fx_http_t *answer = s_signin (s_port_a, "limited", "wrong password 1");
    s_expect_refused (answer);
    fx_http_free (&answer);
    answer = s_signin (s_port_b, "limited", "wrong password 2");
    s_expect_refused (answer);
    fx_http_free (&answer);
    answer = s_signin (s_port_a, "limited", "wrong password 3");
    s_expect_refused (answer);
    fx_http_free (&answer);
    //  Now either gateway holds the login back, even with the right password, and says how
    //  long (the first wait is one second).
    answer = s_signin (s_port_b, "limited", PASSWORD);
    int wait = s_expect_wait (answer, 1);
    fx_http_free (&answer);
    answer = s_signin (s_port_a, "limited", PASSWORD);
    s_expect_wait (answer, 1);
    fx_http_free (&answer);
    //  Once the wait is over, a fourth failure (on B) doubles it, on A too.
    fx_sleep_ms (wait * 1000 + 200);
    answer = s_signin (s_port_b, "limited", "wrong password 4");
    s_expect_refused (answer);
    fx_http_free (&answer);
    answer = s_signin (s_port_a, "limited", PASSWORD);
    wait = s_expect_wait (answer, 2);
    fx_http_free (&answer);
    //  After it, the right password signs in (on A) and clears the count: one failure on B is
    //  a plain 401 again.
    fx_sleep_ms (wait * 1000 + 200);
    char token[64];
    s_token (s_port_a, "limited", token);
    answer = s_signin (s_port_b, "limited", "wrong password 5");
    s_expect_refused (answer);
    fx_http_free (&answer);
    answer = s_signin (s_port_b, "limited", PASSWORD);
    assert_int_equal (answer->status, 201);
    fx_http_free (&answer);
    //  Neither the login nor the address is in the table in clear.
    const char *secrets[] = {"limited", "127.0.0.1"};
    fx_holds_none ("gateway.signin_limits", secrets, 2);
}

//  Registry holds a login back on its own count too (failures through another way in: the
//  CLI, a script with a key): the gateway's answer is then the same 429 naming login, with
//  the wait as Retry-After.
static void
test_a_login_registry_holds_back_gets_retry_after (void **state)
{
    (void) state;
    s_account_add ("held-back");
    const char *wrong = "{\"login\": \"held-back\", \"password\": \"wrong password\"}";
    st_error_t err;
    for (int i = 0; i < 3; i++)
        fx_expect ("session.login", fx_call ("registry", NULL, "session.login", wrong, NULL, &err),
                   &err, ST_UNAUTHENTICATED, "");
    //  A fourth failure once the first wait is over: the next waits two seconds.
    fx_sleep_ms (1200);
    fx_expect ("session.login", fx_call ("registry", NULL, "session.login", wrong, NULL, &err),
               &err, ST_UNAUTHENTICATED, "");
    fx_http_t *answer = s_signin (s_port_a, "held-back", PASSWORD);
    s_expect_wait (answer, 2);
    fx_http_free (&answer);
}

//  Gateways C and D end a session 14 s after its last use and 24 s after sign-in.
#define IDLE_S 14
#define MAX_S  24

static void
test_idle_and_absolute_expiry_on_every_gateway (void **state)
{
    (void) state;
    const char *env[] = {"STATION_SESSION_IDLE_S=14", "STATION_SESSION_MAX_S=24", NULL};
    int c, d;
    harness_start_gateway (fx_harness (), env, &c);
    harness_start_gateway (fx_harness (), env, &d);
    s_account_add ("expiring");
    char idle[64], busy[64];
    s_token (c, "expiring", idle);
    s_token (c, "expiring", busy);
    int64_t start = st_clock_ms ();
    //  Both good at once on the other process.
    assert_int_equal (s_use (d, idle), 200);
    assert_int_equal (s_use (d, busy), 200);
    bool idle_checked = false;
    int before = 0, after = 0;
    //  `busy` is used every two seconds on D: it lives until MAX_S after sign-in, used or not.
    //  `idle`, left alone, ends IDLE_S after its last use.
    while (st_clock_ms () - start < (MAX_S + 4) * 1000) {
        fx_sleep_ms (2000);
        int64_t elapsed = st_clock_ms () - start;
        if (!idle_checked && elapsed > (IDLE_S + 1) * 1000) {
            assert_int_equal (s_use (d, idle), 401);
            assert_int_equal (s_use (c, idle), 401);
            idle_checked = true;
        }
        //  The request is sent after `elapsed` and answered before now.
        long status = s_use (d, busy);
        int64_t answered = st_clock_ms () - start;
        if (answered < (MAX_S - 1) * 1000) {
            if (status != 200)
                fail_msg ("a session in use ended %.1f s after sign-in (at most %d s)",
                          answered / 1000.0, MAX_S);
            before++;
        } else if (elapsed > (MAX_S + 1) * 1000) {
            if (status != 401)
                fail_msg ("a session was still good %.1f s after sign-in (at most %d s)",
                          elapsed / 1000.0, MAX_S);
            after++;
        }
    }
    assert_true (idle_checked);
    assert_true (before >= 5);
    assert_true (after >= 1);
    assert_int_equal (s_use (c, busy), 401);
    //  Signing in again works: the account is not locked by an expiry.
    s_token (d, "expiring", busy);
    assert_int_equal (s_use (c, busy), 200);
}

//  A session in use outlives its idle time, even the least allowed: session_check pushes its
//  idle clock back once its last use is half the idle time old (10 s at most), so the write
//  always comes while the session is still found (it once waited for 10 s, the idle time
//  itself, and a session used every second ended 10 s after sign-in).
static void
test_a_session_in_use_outlives_the_least_idle_time (void **state)
{
    (void) state;
    const char *env[] = {"STATION_SESSION_IDLE_S=10", "STATION_SESSION_MAX_S=3600", NULL};
    int e;
    harness_start_gateway (fx_harness (), env, &e);
    s_account_add ("busy-clerk");
    char token[64];
    s_token (e, "busy-clerk", token);
    int64_t start = st_clock_ms ();
    while (st_clock_ms () - start < 16000) {
        fx_sleep_ms (1000);
        if (s_use (e, token) != 200)
            fail_msg ("a session used every second ended %.1f s after sign-in (idle time 10 s)",
                      (st_clock_ms () - start) / 1000.0);
    }
}

//  One sign-in on a connection of its own, from a thread (no cmocka here): its status and
//  when its answer came.
typedef struct {
    int port;
    const char *login;
    long status;
    int64_t done_ms;
} s_signin_t;

static size_t
s_discard (char *data, size_t size, size_t count, void *arg)
{
    (void) data, (void) arg;
    return size * count;
}

static void *
s_signin_thread (void *arg)
{
    s_signin_t *self = arg;
    char url[64], body[256];
    snprintf (url, sizeof url, "http://127.0.0.1:%d/v1/sessions", self->port);
    snprintf (body, sizeof body, "{\"login\": \"%s\", \"password\": \"" PASSWORD "\"}",
              self->login);
    CURL *curl = curl_easy_init ();
    struct curl_slist *headers = curl_slist_append (NULL, "Content-Type: application/json");
    curl_easy_setopt (curl, CURLOPT_URL, url);
    curl_easy_setopt (curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, s_discard);
    curl_easy_setopt (curl, CURLOPT_TIMEOUT_MS, (long) FX_CALL_MS);
    if (curl_easy_perform (curl) == CURLE_OK)
        curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &self->status);
    self->done_ms = st_clock_ms ();
    curl_slist_free_all (headers);
    curl_easy_cleanup (curl);
    return NULL;
}

//  A sign-in (argon2id in registry, a tenth of a second and more; seconds in a storm) is
//  answered off the HTTP thread (gw_request_offload), so it holds up no other request on that
//  thread's connections. With one HTTP thread it is plain: /healthz, sent while a sign-in is
//  being checked, is answered before it (it once waited 2.3 s for it). Four sign-ins through
//  the fixture's gateway keep registry's workers busy, so that the one on F is still being
//  checked when /healthz goes.
static void
test_signins_hold_up_no_other_request (void **state)
{
    (void) state;
    const char *env[] = {"STATION_GATEWAY_THREADS=1", NULL};
    int f;
    harness_start_gateway (fx_harness (), env, &f);
    const char *logins[] = {"storm-1", "storm-2", "storm-3", "storm-4", "storm-5"};
    s_signin_t signins[5];
    pthread_t threads[5];
    curl_global_init (CURL_GLOBAL_DEFAULT);
    for (int i = 0; i < 5; i++) {
        s_account_add (logins[i]);
        signins[i] = (s_signin_t){i < 4 ? s_port_a : f, logins[i], 0, 0};
    }
    for (int i = 0; i < 5; i++)
        pthread_create (&threads[i], NULL, s_signin_thread, &signins[i]);
    fx_sleep_ms (100);
    int64_t sent_ms = st_clock_ms ();
    fx_http_t *answer = fx_http_at (f, "GET", "/healthz", NULL, NULL, NULL);
    int64_t healthz_ms = st_clock_ms ();
    assert_int_equal (answer->status, 200);
    fx_http_free (&answer);
    for (int i = 0; i < 5; i++) {
        pthread_join (threads[i], NULL);
        assert_int_equal (signins[i].status, 201);
    }
    //  The sign-in on F was still being checked when /healthz went.
    if (signins[4].done_ms <= sent_ms)
        fail_msg ("inconclusive: the sign-in on F was answered before /healthz was sent");
    if (healthz_ms >= signins[4].done_ms)
        fail_msg ("/healthz waited %lld ms for a sign-in on the same HTTP thread",
                  (long long) (healthz_ms - sent_ms));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_a_token_is_good_on_every_gateway_and_a_signout_ends_it_on_all),
        cmocka_unit_test (test_failed_signins_on_both_gateways_count_towards_one_limit),
        cmocka_unit_test (test_a_login_registry_holds_back_gets_retry_after),
        cmocka_unit_test (test_idle_and_absolute_expiry_on_every_gateway),
        cmocka_unit_test (test_a_session_in_use_outlives_the_least_idle_time),
        cmocka_unit_test (test_signins_hold_up_no_other_request),
    };
    return cmocka_run_group_tests (tests, s_setup, fx_teardown);
}
