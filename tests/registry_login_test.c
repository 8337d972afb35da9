/*  registry_login_test.c — sign-in under attack: after a few failures each attempt at a login
    waits, the wait doubling per failure up to a cap, so that guessing is slow and the right
    password is never kept out for longer than the cap; attempts during a wait are refused
    unchecked and do not lengthen it; and password hashing runs on workers, so that other ops
    answer while sign-ins are checked. Each test starts registry with its own settings.  */
#include "fixture.h"
#include "st_keys.h"

#include <sodium.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <cmocka.h>

static const char *WRONG = "{\"login\": \"guarded.station\", \"password\": \"wrong guess\"}";
static const char *RIGHT = "{\"login\": \"guarded.station\", \"password\": \"right pass 1\"}";
static fx_t *s_fx;

//  Starts registry as database `name` with the sign-in settings given (ms; 0 leaves the
//  default), on the test county, with the account "guarded.station" to attack.
static void
s_start (const char *name, int delay_ms, int max_ms, int quiet_ms, const char *workers)
{
    char value[32];
    snprintf (value, sizeof value, "%d", delay_ms);
    setenv ("STATION_LOGIN_DELAY_MS", value, 1);
    snprintf (value, sizeof value, "%d", max_ms);
    setenv ("STATION_LOGIN_DELAY_MAX_MS", value, 1);
    snprintf (value, sizeof value, "%d", quiet_ms);
    setenv ("STATION_LOGIN_QUIET_MS", value, 1);
    setenv ("STATION_LOGIN_FREE_FAILURES", "3", 1);
    if (workers)
        setenv ("STATION_WORKERS", workers, 1);
    else
        unsetenv ("STATION_WORKERS");
    s_fx = fx_new (name, FX_REGISTRY);
    fx_county_add ();
    json_decref (fx_call_ok ("registry", &FX_SYSTEM, "account.create",
                             "{\"login\": \"guarded.station\", \"password\": \"right pass 1\","
                             " \"role\": \"station_admin\", \"region\": \"431022100201\"}"));
}

static int
s_teardown (void **state)
{
    fx_destroy (&s_fx);
    return 0;
}

//  The wait a refusal tells (ms), from its message "... retry after N ms"; fails the test when
//  the refusal is not a wait naming "login".
static long long
s_retry_after (const st_error_t *err)
{
    const char *at = strstr (err->message, "retry after ");
    long long ms = -1;
    if (err->code != ST_RESOURCE_EXHAUSTED || strcmp (err->field, "login") != 0 || !at
        || sscanf (at, "retry after %lld ms", &ms) != 1 || ms <= 0)
        fail_msg ("not a wait naming the login: %s (field \"%s\"): %s", st_status_name (err->code),
                  err->field, err->message);
    return ms;
}

static st_status_t
s_login (const char *body, st_error_t *err)
{
    return fx_call ("registry", NULL, "session.login", body, NULL, err);
}

//  A wrong password tried `n` times as fast as the login allows: each refusal is waited out
//  (and none asks for longer than `max_ms`) until the guess is checked and fails.
static void
s_guess (int n, long long max_ms)
{
    st_error_t err;
    for (int checked = 0; checked < n;) {
        st_status_t rc = s_login (WRONG, &err);
        if (rc == ST_UNAUTHENTICATED) {
            checked++;
            continue;
        }
        long long wait = s_retry_after (&err);
        if (wait > max_ms)
            fail_msg ("after %d failures the login waits %lld ms, past the cap of %lld ms", checked,
                      wait, max_ms);
        fx_sleep_ms ((int) wait);
    }
}

//  After twelve wrong passwords guessed as fast as allowed (the wait doubling 100, 200, 400
//  ms, then capped at 800), the right password signs in after at most one wait no longer
//  than the cap: the login is slowed down, never locked.
static void
test_right_password_within_the_cap (void **state)
{
    s_start ("login_cap", 100, 800, 600000, NULL);
    s_guess (12, 800);
    st_error_t err;
    st_status_t rc = s_login (RIGHT, &err);
    if (rc != ST_OK) {
        long long wait = s_retry_after (&err);
        assert_true (wait <= 800);
        fx_sleep_ms ((int) wait);
        rc = s_login (RIGHT, &err);
    }
    if (rc != ST_OK)
        fail_msg ("the right password, after the wait, was refused: %s", err.message);
    //  Signed in, the failures are forgotten: three more are checked at once.
    for (int i = 0; i < 3; i++)
        assert_int_equal (s_login (WRONG, &err), ST_UNAUTHENTICATED);
}

//  Three failures make the next attempt wait (4 s here): the right password sent at once is
//  refused without being checked, and twenty more attempts during the wait are refused too,
//  neither counted nor lengthening the wait; once it is over the right password signs in.
static void
test_attempts_during_the_wait (void **state)
{
    s_start ("login_wait", 4000, 60000, 600000, NULL);
    st_error_t err;
    for (int i = 0; i < 3; i++)
        assert_int_equal (s_login (WRONG, &err), ST_UNAUTHENTICATED);
    //  Checked, it would have signed in.
    assert_int_equal (s_login (RIGHT, &err), ST_RESOURCE_EXHAUSTED);
    long long first = s_retry_after (&err);
    assert_true (first <= 4000);
    for (int i = 0; i < 20; i++) {
        assert_int_equal (s_login (i % 2 ? RIGHT : WRONG, &err), ST_RESOURCE_EXHAUSTED);
        long long wait = s_retry_after (&err);
        if (wait > first)
            fail_msg ("attempt %d during the wait lengthened it: %lld ms, was %lld", i, wait,
                      first);
    }
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.login_failures"), 3);
    fx_sleep_ms ((int) first + 50);
    st_status_t rc = s_login (RIGHT, &err);
    if (rc != ST_OK)
        fail_msg ("after the wait the right password was refused: %s", err.message);
}

//  Failures are forgotten after a quiet period (2 s here) without one, and on a success.
static void
test_failures_forgotten (void **state)
{
    s_start ("login_quiet", 10000, 60000, 2000, NULL);
    st_error_t err;
    for (int i = 0; i < 3; i++)
        assert_int_equal (s_login (WRONG, &err), ST_UNAUTHENTICATED);
    assert_int_equal (s_login (RIGHT, &err), ST_RESOURCE_EXHAUSTED);
    s_retry_after (&err);
    fx_sleep_ms (2200);
    if (s_login (RIGHT, &err) != ST_OK)
        fail_msg ("failures older than the quiet period still count: %s", err.message);
    //  A success forgets them: two, a success, two more, and the right one is checked at once.
    for (int i = 0; i < 2; i++)
        assert_int_equal (s_login (WRONG, &err), ST_UNAUTHENTICATED);
    assert_int_equal (s_login (RIGHT, &err), ST_OK);
    for (int i = 0; i < 2; i++)
        assert_int_equal (s_login (WRONG, &err), ST_UNAUTHENTICATED);
    if (s_login (RIGHT, &err) != ST_OK)
        fail_msg ("failures before a success still count: %s", err.message);
}

//  A run of failures counts whole while each comes within the quiet period of the one before,
//  however long the run itself: three failures 3.1 s apart with a quiet period of 6 s (the
//  first more than 6 s old when the fourth attempt comes, each within 6 s of the one before
//  while argon2id takes under 2.9 s) hold the login back. A slow run — argon2id on a loaded
//  machine, or a guesser pacing itself — once lost its first failures.
static void
test_a_slow_run_counts_whole (void **state)
{
    (void) state;
    s_start ("login_run", 10000, 60000, 6000, NULL);
    st_error_t err;
    for (int i = 0; i < 3; i++) {
        if (i > 0)
            fx_sleep_ms (3100);
        assert_int_equal (s_login (WRONG, &err), ST_UNAUTHENTICATED);
    }
    if (s_login (RIGHT, &err) != ST_RESOURCE_EXHAUSTED)
        fail_msg ("three failures in a row, each within the quiet period of the one before, did"
                  " not hold the login back");
    s_retry_after (&err);
}

//  A client that hears nothing back sends the same sign-in again with the same request id:
//  one attempt, not two, also once the reply is no longer kept in memory (64 other reads
//  push it out) and the resend is checked again. Two wrong attempts, one of them sent twice,
//  leave the right password checked at once (three would make it wait 10 s).
static void
test_resend_counts_once (void **state)
{
    s_start ("login_resend", 10000, 60000, 600000, NULL);
    const uint8_t resent[16] = {0x5e, 0x4d, 0x0a, 0x9a, 0x1b, 0x2c, 0x3d, 0x4e,
                                0x5f, 0x60, 0x71, 0x82, 0x93, 0xa4, 0xb5, 0xc6};
    st_error_t err;
    for (int send = 0; send < 2; send++) {
        fx_expect (
            "a wrong password, resent",
            fx_call_id ("registry", NULL, "session.login", WRONG, resent, FX_CALL_MS, NULL, &err),
            &err, ST_UNAUTHENTICATED, "");
        assert_string_equal (err.message, "login or password is wrong");
        for (int i = 0; i < 70; i++)
            json_decref (fx_call_ok ("registry", NULL, "sys.ping", "{}"));
    }
    assert_int_equal (s_login (WRONG, &err), ST_UNAUTHENTICATED);
    if (s_login (RIGHT, &err) != ST_OK)
        fail_msg ("two attempts, one of them resent, made the login wait: %s", err.message);
}

//  A guesser sending every guess under one request id: a different password under the same id
//  is a new attempt, not a resend (a resend is the same id and the same body), so twelve wrong
//  passwords under one id are throttled as twelve ids are: the fourth waits (10 s here), and
//  so does the right password.
static void
test_one_id_many_guesses (void **state)
{
    s_start ("login_one_id", 10000, 60000, 600000, NULL);
    const uint8_t id[16] = {0x0e, 0x1d, 0x2a, 0x3a, 0x4b, 0x5c, 0x6d, 0x7e,
                            0x8f, 0x90, 0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6};
    st_error_t err;
    int checked = 0, refused = 0;
    for (int i = 0; i < 12; i++) {
        char body[96];
        snprintf (body, sizeof body, "{\"login\": \"guarded.station\", \"password\": \"guess %d\"}",
                  i);
        st_status_t rc =
            fx_call_id ("registry", NULL, "session.login", body, id, FX_CALL_MS, NULL, &err);
        if (rc == ST_UNAUTHENTICATED)
            checked++;
        else {
            s_retry_after (&err);
            refused++;
        }
    }
    if (checked != 3 || refused != 9)
        fail_msg ("twelve guesses under one request id: %d checked, %d refused (want 3 and 9)",
                  checked, refused);
    assert_int_equal (s_login (RIGHT, &err), ST_RESOURCE_EXHAUSTED);
    s_retry_after (&err);
}

//  One frame of `op` with a JSON-free body: a session.login of the guarded account, or a
//  volunteer.get of `id`; its request id into `id_out`.
static zframe_t *
s_frame (const char *op, const char *volunteer, uint8_t id_out[16])
{
    if (volunteer) {
        msg_volunteer_get_t request = {.id = (char *) volunteer};
        return fx_request_frame (op, NULL, &msg_volunteer_get_desc, &request, id_out);
    }
    msg_session_login_t request = {.login = "guarded.station", .password = "right pass 1"};
    return fx_request_frame (op, NULL, &msg_session_login_desc, &request, id_out);
}

//  Ten sign-ins (each an argon2 check) are sent, then a volunteer.get, on one socket and in
//  that order: the volunteer.get is answered before the last sign-in, because sign-ins run on
//  workers while the loop answers the rest. Run on the loop (STATION_WORKERS=0, as before the
//  pool) it would wait for all ten.
static void
test_reads_answer_during_sign_ins (void **state)
{
    const char *workers = getenv ("REGISTRY_LOGIN_TEST_WORKERS"); //  "0" shows the old order
    s_start ("login_pool", 1000, 60000, 600000, workers);
    char volunteer[32];
    fx_volunteer_add ("赵敏", "431022100201", "[]", "[]", 25.4, 112.95, "", volunteer);

    harness_t *h = fx_harness ();
    st_error_t err;
    zcert_t *own = st_keys_secret (harness_keys (h), "operator", &err);
    zcert_t *server = st_keys_public (harness_keys (h), "registry", &err);
    assert_non_null (own);
    assert_non_null (server);
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    st_keys_client (dealer, own, zcert_public_txt (server));
    zsock_set_linger (dealer, 0);
    zsock_set_rcvtimeo (dealer, FX_CALL_MS);
    assert_int_equal (zsock_connect (dealer, "%s", harness_endpoint (h, "registry", "rpc")), 0);

    enum { LOGINS = 10 };
    uint8_t ids[LOGINS + 1][16];
    for (int i = 0; i <= LOGINS; i++) {
        zframe_t *frame = s_frame (i < LOGINS ? "session.login" : "volunteer.get",
                                   i < LOGINS ? NULL : volunteer, ids[i]);
        assert_int_equal (zframe_send (&frame, dealer, 0), 0);
    }
    int get_at = -1, logins_before = 0;
    for (int n = 0; n <= LOGINS; n++) {
        zframe_t *reply = zframe_recv (dealer);
        if (!reply)
            fail_msg ("reply %d of %d did not come", n + 1, LOGINS + 1);
        msg_reply_t envelope;
        assert_int_equal (
            st_decode (&msg_reply_desc, zframe_data (reply), zframe_size (reply), &envelope, &err),
            0);
        if (!envelope.ok)
            fail_msg ("reply %d failed: %s", n + 1, envelope.error.message);
        if (memcmp (envelope.id.data, ids[LOGINS], 16) == 0)
            get_at = n;
        else if (get_at < 0)
            logins_before++;
        st_msg_clear (&msg_reply_desc, &envelope);
        zframe_destroy (&reply);
    }
    if (get_at < 0 || logins_before == LOGINS)
        fail_msg ("volunteer.get was answered after all %d sign-ins sent before it", LOGINS);

    //  SIGTERM while sign-ins run: the workers finish theirs and the service exits cleanly.
    for (int i = 0; i < 4; i++) {
        zframe_t *frame = s_frame ("session.login", NULL, ids[i]);
        assert_int_equal (zframe_send (&frame, dealer, 0), 0);
    }
    fx_sleep_ms (50);
    int status = harness_stop (h, "registry", SIGTERM);
    if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
        fail_msg ("registry stopped by SIGTERM during sign-ins did not exit cleanly: status %d",
                  status);
    zsock_destroy (&dealer);
    zcert_destroy (&own);
    zcert_destroy (&server);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown (test_right_password_within_the_cap, s_teardown),
        cmocka_unit_test_teardown (test_attempts_during_the_wait, s_teardown),
        cmocka_unit_test_teardown (test_failures_forgotten, s_teardown),
        cmocka_unit_test_teardown (test_a_slow_run_counts_whole, s_teardown),
        cmocka_unit_test_teardown (test_resend_counts_once, s_teardown),
        cmocka_unit_test_teardown (test_one_id_many_guesses, s_teardown),
        cmocka_unit_test_teardown (test_reads_answer_during_sign_ins, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
