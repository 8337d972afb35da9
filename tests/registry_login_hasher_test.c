/*  registry_login_hasher_test.c — sign-ins check passwords on one thread of their own (issue
    22): a storm of sign-ins hashes on one core, never on all, and past a bound of checks
    waiting a sign-in is refused at once with a wait to retry after, which the gateway answers
    429.  */
#include "fixture.h"
#include "st_keys.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define SIGNINS 24

static fx_t *s_fx;

static int
s_teardown (void **state)
{
    fx_destroy (&s_fx);
    unsetenv ("STATION_WORKERS");
    return 0;
}

//  How many of a process's threads are named `name` (/proc/PID/task/TID/comm).
static int
s_threads_named (pid_t pid, const char *name)
{
    char path[64];
    snprintf (path, sizeof path, "/proc/%d/task", (int) pid);
    DIR *dir = opendir (path);
    assert_non_null (dir);
    int named = 0;
    struct dirent *entry;
    while ((entry = readdir (dir))) {
        if (entry->d_name[0] == '.')
            continue;
        char comm_path[400], comm[64] = "";
        snprintf (comm_path, sizeof comm_path, "%s/%s/comm", path, entry->d_name);
        FILE *file = fopen (comm_path, "r");
        if (!file)
            continue;
        if (fgets (comm, sizeof comm, file))
            comm[strcspn (comm, "\n")] = '\0';
        fclose (file);
        if (strcmp (comm, name) == 0)
            named++;
    }
    closedir (dir);
    return named;
}

//  Sign-ins sent together, on four workers, are checked on one thread of its own (one argon2id
//  at a time, whatever the workers), and the right password still signs in.
static void
test_checks_on_one_thread (void **state)
{
    setenv ("STATION_WORKERS", "4", 1);
    s_fx = fx_new ("hasher_one", FX_REGISTRY);
    fx_county_add ();
    json_decref (fx_call_ok ("registry", &FX_SYSTEM, "account.create",
                             "{\"login\": \"calm.station\", \"password\": \"right pass 1\","
                             " \"role\": \"station_admin\", \"region\": \"431022100201\"}"));
    assert_int_equal (s_threads_named (fx_pid ("registry"), "st-hasher"), 0);
    harness_t *h = fx_harness ();
    st_error_t err;
    zcert_t *own = st_keys_secret (harness_keys (h), "operator", &err);
    zcert_t *server = st_keys_public (harness_keys (h), "registry", &err);
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    st_keys_client (dealer, own, zcert_public_txt (server));
    zsock_set_linger (dealer, 0);
    zsock_set_rcvtimeo (dealer, FX_CALL_MS);
    assert_int_equal (zsock_connect (dealer, "%s", harness_endpoint (h, "registry", "rpc")), 0);
    for (int i = 0; i < 4; i++) {
        char login[32];
        snprintf (login, sizeof login, "nobody.%02d", i);
        msg_session_login_t request = {.login = login, .password = "some guess"};
        uint8_t id[16];
        zframe_t *frame =
            fx_request_frame ("session.login", NULL, &msg_session_login_desc, &request, id);
        assert_int_equal (zframe_send (&frame, dealer, 0), 0);
    }
    for (int n = 0; n < 4; n++) {
        zframe_t *reply = zframe_recv (dealer);
        if (!reply)
            fail_msg ("reply %d of 4 did not come", n + 1);
        zframe_destroy (&reply);
    }
    assert_int_equal (s_threads_named (fx_pid ("registry"), "st-hasher"), 1);
    json_decref (fx_call_ok ("registry", NULL, "session.login",
                             "{\"login\": \"calm.station\", \"password\": \"right pass 1\"}"));
    assert_int_equal (s_threads_named (fx_pid ("registry"), "st-hasher"), 1);
    zsock_destroy (&dealer);
    zcert_destroy (&own);
    zcert_destroy (&server);
}

//  Many sign-ins at once (as many workers as sign-ins, each login another): those past the
//  bound of checks waiting are refused at once, naming the login and a wait; the others are
//  checked (and fail: no such logins).
static void
test_storm_bounded (void **state)
{
    char workers[16];
    snprintf (workers, sizeof workers, "%d", SIGNINS);
    setenv ("STATION_WORKERS", workers, 1);
    s_fx = fx_new ("hasher_storm", FX_REGISTRY);
    harness_t *h = fx_harness ();
    st_error_t err;
    zcert_t *own = st_keys_secret (harness_keys (h), "operator", &err);
    zcert_t *server = st_keys_public (harness_keys (h), "registry", &err);
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    st_keys_client (dealer, own, zcert_public_txt (server));
    zsock_set_linger (dealer, 0);
    zsock_set_rcvtimeo (dealer, FX_CALL_MS);
    assert_int_equal (zsock_connect (dealer, "%s", harness_endpoint (h, "registry", "rpc")), 0);

    for (int i = 0; i < SIGNINS; i++) {
        char login[32];
        snprintf (login, sizeof login, "nobody.%02d", i);
        msg_session_login_t request = {.login = login, .password = "some guess"};
        uint8_t id[16];
        zframe_t *frame =
            fx_request_frame ("session.login", NULL, &msg_session_login_desc, &request, id);
        assert_int_equal (zframe_send (&frame, dealer, 0), 0);
    }
    int refused = 0, checked = 0;
    for (int n = 0; n < SIGNINS; n++) {
        zframe_t *reply = zframe_recv (dealer);
        if (!reply)
            fail_msg ("reply %d of %d did not come", n + 1, SIGNINS);
        msg_reply_t envelope;
        assert_int_equal (
            st_decode (&msg_reply_desc, zframe_data (reply), zframe_size (reply), &envelope, &err),
            0);
        assert_false (envelope.ok);
        if (strcmp (envelope.error.code, st_status_name (ST_RESOURCE_EXHAUSTED)) == 0) {
            assert_string_equal (envelope.error.field, "login");
            assert_non_null (strstr (envelope.error.message, "retry after "));
            refused++;
        } else {
            assert_string_equal (envelope.error.code, st_status_name (ST_UNAUTHENTICATED));
            checked++;
        }
        st_msg_clear (&msg_reply_desc, &envelope);
        zframe_destroy (&reply);
    }
    print_message ("%d sign-ins checked, %d refused at once\n", checked, refused);
    assert_true (refused > 0);
    assert_true (checked >= 1);
    zsock_destroy (&dealer);
    zcert_destroy (&own);
    zcert_destroy (&server);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown (test_checks_on_one_thread, s_teardown),
        cmocka_unit_test_teardown (test_storm_bounded, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
