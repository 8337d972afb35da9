/*  config_test.c — every setting a service reads is in its configuration table: --help lists
    each, and a malformed or out-of-range value stops the service at start with a message
    naming the option and its variable, instead of falling back silently.  */
#include "../services/match/match.h"
#include "st_config.h"
#include "st_service.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <cmocka.h>

//  Runs `command` through the shell; its output (stdout and stderr) into `out`, its exit status
//  returned.
static int
s_run (const char *command, char *out, size_t size)
{
    char line[1024];
    snprintf (line, sizeof line, "%s 2>&1", command);
    FILE *pipe = popen (line, "r");
    assert_non_null (pipe);
    size_t used = fread (out, 1, size - 1, pipe);
    out[used] = 0;
    int status = pclose (pipe);
    return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

static void
test_help_lists_every_setting (void **state)
{
    static char out[65536];
    char command[512];
    snprintf (command, sizeof command, "%s/station-match --help", getenv ("STATION_BIN_DIR"));
    assert_int_equal (s_run (command, out, sizeof out), 0);
    for (size_t i = 0; i < match_round_option_count; i++)
        if (!strstr (out, match_round_options[i].env))
            fail_msg ("station-match --help does not list %s", match_round_options[i].env);
    for (size_t i = 0; i < st_endpoint_option_count; i++)
        if (!strstr (out, st_endpoint_options[i].env))
            fail_msg ("station-match --help does not list %s", st_endpoint_options[i].env);
    assert_non_null (strstr (out, "STATION_DB"));
    assert_non_null (strstr (out, "STATION_POLL_MS"));
}

//  A bad value for `variable` stops station-match with exit status 2 and a message naming it.
static void
s_expect_refused (const char *variable, const char *value)
{
    static char out[8192];
    char command[512];
    snprintf (command, sizeof command, "%s=%s STATION_DB='host=/nonexistent' %s/station-match",
              variable, value, getenv ("STATION_BIN_DIR"));
    int status = s_run (command, out, sizeof out);
    if (status != 2 || !strstr (out, variable) || !strstr (out, "must be a whole number"))
        fail_msg ("%s=%s: exit %d, said: %s", variable, value, status, out);
}

static void
test_malformed_setting_stops_the_service (void **state)
{
    s_expect_refused ("STATION_DISPATCH_ROUND_MS", "soon");
    s_expect_refused ("STATION_DISPATCH_ROUND_MS", "10");
    s_expect_refused ("STATION_DISPATCH_COST_METRES", "0");
    s_expect_refused ("STATION_DISPATCH_COST_CARED", "-5");
    s_expect_refused ("STATION_DISPATCH_WIDEN_COUNTY_S", "300s");
    s_expect_refused ("STATION_POLL_MS", "1e3");
}

//  A STATION_* variable no Station program reads is named in a warning at start (a typo must
//  not pass silently); one another program reads is not, unless it falls under the service's
//  own prefix and its table lacks it.
static void
test_unknown_variables_warned (void **state)
{
    static char out[16384];
    char command[1024];
    //  The keys are missing, so each stops right after reading its configuration.
    snprintf (command, sizeof command,
              "STATION_KEYS=/nonexistent STATION_REGISTRY_RCP=tcp://127.0.0.1:1 "
              "STATION_DISPATCH_ROUND_MS=500 STATION_TIMEOUT=10 %s/station-registry",
              getenv ("STATION_BIN_DIR"));
    s_run (command, out, sizeof out);
    if (!strstr (out, "STATION_REGISTRY_RCP is set but no Station program reads it"))
        fail_msg ("registry did not name STATION_REGISTRY_RCP: %s", out);
    assert_null (strstr (out, "STATION_DISPATCH_ROUND_MS is set"));
    assert_null (strstr (out, "STATION_TIMEOUT is set"));
    snprintf (command, sizeof command,
              "STATION_KEYS=/nonexistent STATION_DISPATCH_ROUND_MSS=500 "
              "STATION_DISPATCH_ROUND_MS=500 %s/station-match",
              getenv ("STATION_BIN_DIR"));
    s_run (command, out, sizeof out);
    if (!strstr (out, "STATION_DISPATCH_ROUND_MSS is set but no Station program reads it"))
        fail_msg ("match did not name STATION_DISPATCH_ROUND_MSS: %s", out);
    assert_null (strstr (out, "STATION_DISPATCH_ROUND_MS is set"));
}

//  The table itself: a whole-number option is checked on load, the defaults hold.
static void
test_table_checks_whole_numbers (void **state)
{
    st_option_t options[match_round_option_count];
    memcpy (options, match_round_options, sizeof options);
    char program[] = "config_test", *args[] = {program, NULL};
    assert_int_equal (st_config_load (options, match_round_option_count, 1, args, "test"), 0);
    match_round_config_t config;
    match_round_config (options, match_round_option_count, &config);
    assert_int_equal (config.round_ms, 2000);
    assert_int_equal (config.township_s, 60);
    assert_int_equal (config.county_s, 300);
    assert_int_equal (config.weights.metres_per_unit, 10);
    assert_int_equal (config.weights.cared, 300000);
    char flag[] = "--dispatch-cost-urgent=12x", *bad[] = {program, flag, NULL};
    memcpy (options, match_round_options, sizeof options);
    assert_int_equal (st_config_load (options, match_round_option_count, 2, bad, "test"), -1);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_help_lists_every_setting),
        cmocka_unit_test (test_malformed_setting_stops_the_service),
        cmocka_unit_test (test_unknown_variables_warned),
        cmocka_unit_test (test_table_checks_whole_numbers),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
