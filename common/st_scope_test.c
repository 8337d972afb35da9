/*  st_scope_test.c — regions, scopes and RFC 3339 times, the rules every service's checks
    rest on  */
#include "st_scope.h"
#include "st_time.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

//  Each level is read off the code; zero groups inside a code, wrong lengths and letters are
//  no code at all.
static void
test_levels (void **state)
{
    assert_int_equal (st_region_level ("430000000000"), 0);
    assert_int_equal (st_region_level ("431000000000"), 1);
    assert_int_equal (st_region_level ("431022000000"), 2);
    assert_int_equal (st_region_level ("431022100000"), 3);
    assert_int_equal (st_region_level ("431022100201"), 4);
    assert_int_equal (st_region_level ("431022100201007"), 5);
    assert_string_equal (st_region_level_name (5), "grid");
    const char *bad[] = {"",
                         "43102210020",
                         "4310221002011",
                         "431022000201",
                         "431022100200000",
                         "431022100000001",
                         "43102210020a",
                         "000000000000",
                         NULL};
    for (int i = 0; bad[i]; i++)
        assert_int_equal (st_region_level (bad[i]), -1);
    assert_int_equal (st_region_level (NULL), -1);
}

//  Parents zero the last group; a grid's parent is its village; a province has none.
static void
test_parents_and_prefixes (void **state)
{
    char out[ST_REGION_SIZE], low[ST_REGION_SIZE], high[ST_REGION_SIZE + 1];
    assert_true (st_region_parent ("431022100201", out));
    assert_string_equal (out, "431022100000");
    assert_true (st_region_parent ("431022100201007", out));
    assert_string_equal (out, "431022100201");
    assert_true (st_region_parent ("431000000000", out));
    assert_string_equal (out, "430000000000");
    assert_false (st_region_parent ("430000000000", out));
    st_region_prefix ("431022100000", out);
    assert_string_equal (out, "431022100");
    st_region_prefix ("431022000000", out);
    assert_string_equal (out, "431022");
    st_region_prefix ("4310", out); //  a prefix already
    assert_string_equal (out, "4310");
    st_region_range ("431029", low, high);
    assert_string_equal (low, "431029");
    assert_string_equal (high, "43102:"); //  above every code of the subtree
    assert_true (strcmp ("431029999999", high) < 0 && strcmp ("431030000000", high) > 0);
}

//  A township's scope holds its villages and grids, not a neighbour's whose code shares the
//  leading digits (431022100000 must not reach 431022101…).
static void
test_scope (void **state)
{
    assert_true (st_region_within ("431022100000", "431022100201"));
    assert_true (st_region_within ("431022100000", "431022100201007"));
    assert_false (st_region_within ("431022100000", "431022101203"));
    assert_false (st_region_within ("431022000000", "431021100201"));
    msg_actor_t town = {.account = "a", .role = "region_admin", .region = "431022100000"};
    msg_actor_t system = {.account = "op", .role = "system"};
    msg_actor_t volunteer = {
        .account = "v", .role = "volunteer", .region = "431022100000", .volunteer_id = "7"};
    msg_actor_t broken = {.account = "b", .role = "station_admin", .region = "4310"};
    assert_true (st_actor_in_scope (&town, "431022100201"));
    assert_false (st_actor_in_scope (&town, "431022101203"));
    assert_true (st_actor_in_scope (&system, "431022101203"));
    assert_false (st_actor_in_scope (&volunteer, "431022100201")); //  volunteers have no scope
    assert_false (st_actor_in_scope (&broken, "431022100201"));    //  a scope must be a code
    assert_false (st_actor_in_scope (NULL, "431022100201"));
    assert_true (st_actor_is_volunteer (&volunteer, "7"));
    assert_false (st_actor_is_volunteer (&volunteer, "8"));
    assert_false (st_actor_is_resident (&volunteer, "7"));
}

//  Prefecture-level cities with no county level (不设区的地级市: 东莞 4419, 中山 4420, 儋州
//  4604) have townships coded straight under the city, the county group zero: 441900003000.
//  Such a township is a township, the city is its parent, and its villages are its own.
static void
test_townships_under_a_city (void **state)
{
    assert_int_equal (st_region_level ("441900000000"), 1);
    assert_int_equal (st_region_level ("441900003000"), 3);
    assert_int_equal (st_region_level ("441900003001"), 4);
    assert_int_equal (st_region_level ("441900003001002"), 5);
    assert_int_equal (st_region_level ("442000001000"), 3);
    assert_int_equal (st_region_level ("460400100000"), 3);
    char out[ST_REGION_SIZE];
    assert_true (st_region_parent ("441900003000", out));
    assert_string_equal (out, "441900000000");
    assert_true (st_region_parent ("441900003001", out));
    assert_string_equal (out, "441900003000");
    assert_true (st_region_parent ("441900003001002", out));
    assert_string_equal (out, "441900003001");
    st_region_prefix ("441900003000", out);
    assert_string_equal (out, "441900003");
    st_region_prefix ("441900000000", out);
    assert_string_equal (out, "4419");
}

//  The city's admin reaches its townships and their villages; a township's admin its own
//  villages and not a neighbouring township's.
static void
test_townships_under_a_city_scope (void **state)
{
    assert_true (st_region_within ("441900000000", "441900003000"));
    assert_true (st_region_within ("441900000000", "441900003001"));
    assert_true (st_region_within ("441900003000", "441900003001"));
    assert_true (st_region_within ("441900003000", "441900003001002"));
    assert_false (st_region_within ("441900003000", "441900004000"));
    assert_false (st_region_within ("441900003000", "441900004001"));
    assert_false (st_region_within ("441900003000", "442000003001"));
    msg_actor_t city = {.account = "dg", .role = "region_admin", .region = "441900000000"};
    msg_actor_t town = {.account = "dc", .role = "region_admin", .region = "441900003000"};
    msg_actor_t other = {.account = "nc", .role = "region_admin", .region = "441900004000"};
    assert_true (st_actor_in_scope (&city, "441900003000"));
    assert_true (st_actor_in_scope (&city, "441900004001"));
    assert_true (st_actor_in_scope (&town, "441900003001"));
    assert_false (st_actor_in_scope (&town, "441900004000"));
    assert_false (st_actor_in_scope (&town, "441900000000"));
    assert_false (st_actor_in_scope (&other, "441900003001"));
}

//  Only the county group may be skipped, and only between a city and a township: a village
//  with no township, a county or township with no city, a village straight under a city,
//  and a grid of anything but a village stay no code.
static void
test_skipped_groups_refused (void **state)
{
    const char *bad[] = {"431022000001",    //  village, township group zero
                         "430022000000",    //  county, city group zero
                         "440000003000",    //  township, city and county groups zero
                         "441900000001",    //  village straight under the city
                         "440000003001",    //  village under a township with no city
                         "441900003000001", //  grid of a township
                         "44190000300a",    //  not digits
                         "4419000030",      //  too short
                         "4419000030000",   //  too long
                         NULL};
    for (int i = 0; bad[i]; i++)
        if (st_region_level (bad[i]) != -1)
            fail_msg ("\"%s\" read as a level %d code", bad[i], st_region_level (bad[i]));
    char out[ST_REGION_SIZE];
    assert_false (st_region_parent ("441900000001", out));
}

//  RFC 3339 with an offset: the same instant however it is written; impossible dates, missing
//  offsets and trailing text refused.
static void
test_times (void **state)
{
    int64_t a, b, c;
    assert_true (st_time_parse ("2026-12-01T09:00:00+08:00", &a));
    assert_true (st_time_parse ("2026-12-01T01:00:00Z", &b));
    assert_true (st_time_parse ("2026-12-01t00:30:00.000000-00:30", &c));
    assert_true (a == b && b == c);
    assert_int_equal (b, 1796086800LL * 1000000);
    char text[40];
    st_time_format_utc (b + 500000, text);
    assert_string_equal (text, "2026-12-01T01:00:00.500000Z");
    assert_true (st_time_parse ("2028-02-29T12:00:00+08:00", &a));
    const char *bad[] = {"2027-02-29T12:00:00+08:00",
                         "2026-12-01T09:00:00",
                         "2026-12-01 09:00:00Z",
                         "2026-13-01T09:00:00Z",
                         "2026-12-01T24:00:00Z",
                         "1999-12-31T23:59:59Z",
                         "2026-12-01T09:00:00+08:00 ",
                         "2026-12-01T09:00:00.Z",
                         "",
                         NULL};
    for (int i = 0; bad[i]; i++)
        assert_false (st_time_parse (bad[i], &a));
    assert_false (st_time_parse (NULL, &a));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_levels),
        cmocka_unit_test (test_parents_and_prefixes),
        cmocka_unit_test (test_scope),
        cmocka_unit_test (test_townships_under_a_city),
        cmocka_unit_test (test_townships_under_a_city_scope),
        cmocka_unit_test (test_skipped_groups_refused),
        cmocka_unit_test (test_times),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
