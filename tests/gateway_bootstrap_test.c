/*  gateway_bootstrap_test.c — the gateway's first start (http-api.md, "First start"): on an
    empty platform it makes the root region and its first admin through registry's
    region.bootstrap, so the admin signs in over HTTP; a second start changes nothing; the
    op refuses once any region exists; a half-given bootstrap stops the gateway, naming what
    is missing.  */
#include "fixture.h"

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <setjmp.h>
#include <cmocka.h>

#define ROOT     "431022000000"
#define ADMIN    "yizhang-admin"
#define PASSWORD "first start 2026"

static void
s_bootstrap_env (const char *password)
{
    setenv ("STATION_BOOTSTRAP_REGION", ROOT, 1);
    setenv ("STATION_BOOTSTRAP_REGION_NAME", "宜章县", 1);
    setenv ("STATION_BOOTSTRAP_ADMIN", ADMIN, 1);
    setenv ("STATION_BOOTSTRAP_PASSWORD", password, 1);
}

static void
test_first_start_makes_the_root_and_its_admin (void **state)
{
    (void) state;
    s_bootstrap_env (PASSWORD);
    fx_t *fx = fx_new ("gateway_bootstrap", FX_REGISTRY | FX_GATEWAY);
    fx_wait_for (1, "SELECT count (*) FROM registry.regions WHERE code = '%s'", ROOT);
    char token[64];
    fx_http_signin (ADMIN, PASSWORD, token);
    fx_http_t *answer = fx_http ("GET", "/v1/regions/" ROOT, NULL, NULL, NULL);
    assert_int_equal (answer->status, 200);
    assert_string_equal (fx_http_str (answer, "name"), "宜章县");
    fx_http_free (&answer);
    //  The admin acts at once: a township under the root.
    answer = fx_http ("POST", "/v1/regions", token,
                      "{\"code\": \"431022100000\", \"name\": \"白石渡镇\"}", NULL);
    assert_int_equal (answer->status, 201);
    fx_http_free (&answer);

    //  A second start, told another password, changes nothing.
    harness_stop (fx_harness (), "gateway", SIGTERM);
    s_bootstrap_env ("another password");
    harness_start (fx_harness (), "gateway");
    fx_sleep_ms (1500);
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.accounts"), 1);
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.regions"), 2);
    fx_http_signin (ADMIN, PASSWORD, token);

    //  The op itself: refused once a region exists, nothing changed.
    st_error_t err;
    fx_expect ("a second bootstrap",
               fx_call ("registry", NULL, "region.bootstrap",
                        "{\"code\": \"110000000000\", \"name\": \"北京市\", \"login\": \"beijing\","
                        " \"password\": \"" PASSWORD "\"}",
                        NULL, &err),
               &err, ST_FAILED_PRECONDITION, "code");
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.regions"), 2);
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.accounts"), 1);
    fx_destroy (&fx);
}

static void
test_half_a_bootstrap_stops_the_gateway (void **state)
{
    (void) state;
    unsetenv ("STATION_BOOTSTRAP_PASSWORD");
    fx_t *fx = fx_new ("gateway_half_bootstrap", FX_REGISTRY);
    pid_t pid = harness_spawn (fx_harness (), "gateway");
    //  It connects and migrates before it reads its settings' sense: under a sanitizer on a
    //  busy machine that takes seconds.
    int status = 0;
    bool exited = false;
    for (int i = 0; i < FX_CALL_MS / 50 && !exited; i++) {
        exited = waitpid (pid, &status, WNOHANG) == pid;
        if (!exited)
            fx_sleep_ms (50);
    }
    if (!exited)
        fail_msg ("the gateway did not stop within %d ms", FX_CALL_MS);
    assert_true (WIFEXITED (status));
    assert_int_not_equal (WEXITSTATUS (status), 0);
    char path[512], log[4096] = "";
    snprintf (path, sizeof path, "%s/gateway.log", harness_dir (fx_harness ()));
    FILE *file = fopen (path, "r");
    assert_non_null (file);
    size_t got = fread (log, 1, sizeof log - 1, file);
    log[got] = '\0';
    fclose (file);
    assert_non_null (strstr (log, "STATION_BOOTSTRAP_PASSWORD"));
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.regions"), 0);
    fx_destroy (&fx);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_first_start_makes_the_root_and_its_admin),
        cmocka_unit_test (test_half_a_bootstrap_stops_the_gateway),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
