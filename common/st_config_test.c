/*  st_config_test.c — what the configuration table shows of a value: never a password, in
    whatever form libpq accepts a connection string  */
#include "st_config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

//  Shows `value` as option "db" would be logged; fails when `secret` is in it.
static void
s_expect_masked (const char *value, const char *secret, const char *kept)
{
    st_option_t option = ST_OPTION ("db", "STATION_DB", NULL, "connection string");
    option.value = value;
    char shown[512];
    st_config_shown (&option, shown, sizeof shown);
    if (strstr (shown, secret))
        fail_msg ("\"%s\" shows the password: %s", value, shown);
    if (!strstr (shown, "password=********"))
        fail_msg ("\"%s\" shows no masked password: %s", value, shown);
    if (kept && !strstr (shown, kept))
        fail_msg ("\"%s\" lost \"%s\": %s", value, kept, shown);
}

static void
test_connection_strings_masked (void **state)
{
    s_expect_masked ("host=/run/pg dbname=station password=s3cret", "s3cret", "dbname=station");
    s_expect_masked ("host=db password='two words' dbname=station", "two words", "host=db");
    s_expect_masked ("password = 'it\\'s' port=5432", "it", "port=5432");
    s_expect_masked ("postgresql://match:s3cret@db.local:5433/station", "s3cret", "user=match");
    s_expect_masked ("postgres://match:p%40ss@localhost/station?sslmode=disable", "p@ss",
                     "sslmode=disable");
    s_expect_masked ("postgresql:///station?password=s3cret&host=/tmp", "s3cret", "host=/tmp");
}

//  A string libpq cannot read is hidden whole when it may hold a password.
static void
test_unreadable_hidden (void **state)
{
    st_option_t option = ST_OPTION ("db", "STATION_DB", NULL, "connection string");
    option.value = "password = 'it''s' port=5432";
    char shown[512];
    st_config_shown (&option, shown, sizeof shown);
    assert_null (strstr (shown, "it"));
}

static void
test_other_values_as_they_are (void **state)
{
    const char *values[] = {"dbname=station", "var/keys", "tcp://127.0.0.1:7101", "info", ""};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        st_option_t option = ST_OPTION ("x", "STATION_X", NULL, "x");
        option.value = values[i];
        char shown[512];
        st_config_shown (&option, shown, sizeof shown);
        assert_string_equal (shown, values[i]);
    }
    st_option_t secret = ST_OPTION_SECRET ("token", "STATION_TOKEN", NULL, "a secret");
    secret.value = "abc";
    char shown[64];
    st_config_shown (&secret, shown, sizeof shown);
    assert_string_equal (shown, "********");
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_connection_strings_masked),
        cmocka_unit_test (test_unreadable_hidden),
        cmocka_unit_test (test_other_values_as_they_are),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
