/*  notify_digest_test.c — the officials' daily digest (issue 21): registry's account.list,
    the officials' accounts for the notify service's key alone; then, with the county's
    digest hour set to the hour it is now, each station and region admin with something
    waiting in their region gets one digest with match's counts in their language, an admin
    whose region has nothing gets none, two notify replicas make one each, and another run the
    same day (the hour set again, notify restarted) makes none more.  */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "fixture.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VILLAGE    "431022100201"
#define VILLAGE_3  "431022101203"
#define TOWNSHIP   "431022101000"
#define COUNTY     "431022000000"
#define AT_VILLAGE ", \"lat\": 25.40, \"lon\": 112.95"

static int
s_setup (void **state)
{
    (void) state;
    setenv ("STATION_DISPATCH_ROUND_MS", "200", 1);
    fx_new ("notify_digest", FX_REGISTRY | FX_MATCH | FX_NOTIFY);
    fx_county_add ();
    //  No quiet hours in the county: the tests run at any hour.
    fx_notify_no_quiet_hours (COUNTY);
    return 0;
}

//  An official's account `login` of `role` in `region` through registry; its actor (the
//  account's id into `id`).
static msg_actor_t
s_official (const char *login, const char *role, const char *region, char id[32])
{
    char body[256];
    snprintf (body, sizeof body,
              "{\"login\": \"%s\", \"password\": \"digest-secret-1\", \"role\": \"%s\","
              " \"region\": \"%s\"}",
              login, role, region);
    json_t *account = fx_call_ok ("registry", &FX_SYSTEM, "account.create", body);
    snprintf (id, 32, "%s", fx_str (account, "id"));
    json_decref (account);
    return (msg_actor_t){.account = id, .role = (char *) role, .region = (char *) region};
}

//  ---------------------------------------------------------------------------------------
//  account.list: the notify service's key alone, page by page

static void
test_account_list (void **state)
{
    (void) state;
    char a[32], b[32], c[32];
    s_official ("list.one", "station_admin", VILLAGE, a);
    s_official ("list.two", "region_admin", COUNTY, b);
    s_official ("list.three", "team_leader", VILLAGE, c);
    json_t *page;
    st_error_t err;
    assert_int_equal (
        fx_call_key ("registry", "notify", NULL, "account.list", "{\"limit\": 2}", &page, &err),
        ST_OK);
    json_t *accounts = json_object_get (page, "accounts");
    assert_int_equal (json_array_size (accounts), 2);
    assert_string_equal (fx_str (json_array_get (accounts, 0), "id"), a);
    assert_string_equal (fx_str (json_array_get (accounts, 0), "role"), "station_admin");
    assert_string_equal (fx_str (json_array_get (accounts, 0), "region"), VILLAGE);
    assert_string_equal (fx_str (json_array_get (accounts, 1), "id"), b);
    char body[128];
    snprintf (body, sizeof body, "{\"after\": \"%s\", \"limit\": 2}", fx_str (page, "next"));
    json_decref (page);
    assert_int_equal (fx_call_key ("registry", "notify", NULL, "account.list", body, &page, &err),
                      ST_OK);
    accounts = json_object_get (page, "accounts");
    assert_int_equal (json_array_size (accounts), 1);
    assert_string_equal (fx_str (json_array_get (accounts, 0), "id"), c);
    assert_string_equal (fx_str (json_array_get (accounts, 0), "role"), "team_leader");
    assert_null (json_object_get (page, "next"));
    assert_null (json_object_get (json_array_get (accounts, 0), "login"));
    json_decref (page);
    //  Another service's key, the gateway's (an official), a bad cursor: refused.
    fx_expect ("the match's key",
               fx_call_key ("registry", "match", NULL, "account.list", "{}", NULL, &err), &err,
               ST_PERMISSION_DENIED, "op");
    msg_actor_t county = fx_admin ("region_admin", COUNTY);
    assert_int_not_equal (fx_call ("registry", &county, "account.list", "{}", NULL, &err), ST_OK);
    fx_expect (
        "a bad cursor",
        fx_call_key ("registry", "notify", NULL, "account.list", "{\"after\": \"x1\"}", NULL, &err),
        &err, ST_INVALID_ARGUMENT, "after");
}

//  ---------------------------------------------------------------------------------------
//  The digest

//  What waits in the village VILLAGE_3: a request to review, one that ended unfilled, and a
//  record checked out and not confirmed (as notify_notices_test's test_digest_region).
static void
s_pending (void)
{
    json_decref (fx_call_ok ("match", &FX_SYSTEM, "settings.set",
                             "{\"region\": \"" VILLAGE_3 "\", \"review_required\": true}"));
    char resident[32], later[32], soon[32];
    fx_resident_add ("摘要甲", VILLAGE_3, NULL, resident);
    msg_actor_t ares = fx_resident (resident);
    char start[64], end[64], availability[64];
    fx_window (3, 9, 12, start, end, availability);
    fx_request_add (&ares, VILLAGE_3, start, end, 1, "[]", NULL, AT_VILLAGE, "review", later);
    fx_time (start, 4);
    fx_time (end, 4 + 7200);
    fx_request_add (&ares, VILLAGE_3, start, end, 1, "[]", NULL, AT_VILLAGE, "review", soon);
    fx_wait_request (soon, "unfilled");
    char out[32];
    fx_volunteer_add ("摘要乙", VILLAGE_3, "[]", "[]", 25.40, 112.95, "", out);
    char starts[40], ends[40], closes[40], body[512];
    fx_time (starts, 1800);
    fx_time (ends, 5400);
    fx_time (closes, 1700);
    snprintf (body, sizeof body,
              "{\"title\": \"摘要活动\", \"category\": \"助老\", \"region\": \"" VILLAGE_3 "\","
              " \"starts_at\": \"%s\", \"ends_at\": \"%s\", \"signup_closes_at\": \"%s\","
              " \"capacity\": 10}",
              starts, ends, closes);
    json_t *activity = fx_call_ok ("match", &FX_SYSTEM, "activity.create", body);
    snprintf (body, sizeof body, "{\"activity_id\": \"%s\"}", fx_str (activity, "id"));
    char check[FX_BODY_SIZE];
    fx_checkin_body (check, fx_str (activity, "id"), "");
    json_decref (activity);
    msg_actor_t self = fx_volunteer (out);
    json_decref (fx_call_ok ("match", &self, "activity.signup", body));
    json_decref (fx_call_ok ("match", &self, "record.checkin", check));
    json_decref (fx_call_ok ("match", &self, "record.checkout", body));
}

//  Sets the county's digest hour to the hour it is now in Asia/Shanghai (not in the last
//  seconds of an hour, which the digest might find already past); the hour.
static int
s_digest_hour_now (void)
{
    while (fx_count ("SELECT (extract (minute FROM now ()) = 59"
                     " AND extract (second FROM now ()) > 50)::int")
           > 0)
        fx_sleep_ms (1000);
    int hour = (int) fx_count ("SELECT extract (hour FROM now () AT TIME ZONE 'Asia/Shanghai')");
    char body[128];
    snprintf (body, sizeof body, "{\"region\": \"" COUNTY "\", \"digest_hour\": %d}", hour);
    json_t *settings = fx_call_ok ("notify", &FX_SYSTEM, "notify.settings.set", body);
    assert_int_equal (fx_int (settings, "digest_hour"), hour);
    json_decref (settings);
    return hour;
}

static void
test_digest (void **state)
{
    (void) state;
    s_pending ();
    char station_id[32], town_id[32], quiet_id[32];
    msg_actor_t station = s_official ("digest.station", "station_admin", VILLAGE_3, station_id);
    msg_actor_t town = s_official ("digest.town", "region_admin", TOWNSHIP, town_id);
    msg_actor_t quiet = s_official ("digest.quiet", "station_admin", VILLAGE, quiet_id);
    json_decref (fx_call_ok ("notify", &town, "prefs.set", "{\"language\": \"en\"}"));
    //  The village inherits the county's hour; 8 where nobody set one.
    json_t *settings =
        fx_call_ok ("notify", &FX_SYSTEM, "notify.settings.get", "{\"region\": \"" VILLAGE_3 "\"}");
    assert_int_equal (fx_int (settings, "digest_hour"), 8);
    json_decref (settings);
    st_error_t err;
    fx_expect ("an hour past 23",
               fx_call ("notify", &FX_SYSTEM, "notify.settings.set",
                        "{\"region\": \"" COUNTY "\", \"digest_hour\": 24}", NULL, &err),
               &err, ST_INVALID_ARGUMENT, "digest_hour");

    //  Two replicas; the hour is now.
    pid_t replica = fx_notify_replica ();
    fx_sleep_ms (1000);
    int hour = s_digest_hour_now ();
    settings =
        fx_call_ok ("notify", &FX_SYSTEM, "notify.settings.get", "{\"region\": \"" VILLAGE_3 "\"}");
    assert_int_equal (fx_int (settings, "digest_hour"), hour);
    json_decref (settings);
    fx_wait_for (3, "SELECT count (*) FROM notify.digests WHERE account IN ('%s', '%s', '%s')",
                 station_id, town_id, quiet_id);
    const char *text = fx_wait_notice (&station, "digest.daily");
    fx_contains (text, "待审核的需求 1 条");
    fx_contains (text, "待确认的服务记录 1 条");
    fx_contains (text, "近一日未能满足的需求 1 条");
    assert_null (strstr (text, "未签退"));
    text = fx_wait_notice (&town, "digest.daily");
    fx_contains (text, "1 request to review, 1 service record to confirm and 1 request left"
                       " unfilled in the last day");
    assert_null (strstr (text, "check-out"));
    assert_int_equal (fx_notices (&station, "digest.daily", NULL, 0), 1);
    assert_int_equal (fx_notices (&town, "digest.daily", NULL, 0), 1);
    assert_int_equal (fx_notices (&quiet, "digest.daily", NULL, 0), 0);
    assert_int_equal (fx_count ("SELECT count (*) FROM notify.digests WHERE account = '%s'"
                                " AND NOT sent",
                                quiet_id),
                      1);
    fx_notify_replica_stop (replica);

    //  Another run the same day (the hour set again), and a restart: nothing more.
    s_digest_hour_now ();
    fx_wait_for (1, "SELECT count (*) FROM notify.digest_runs WHERE hour = %d", hour);
    fx_restart ("notify", SIGKILL);
    fx_sleep_ms (1000);
    assert_int_equal (fx_notices (&station, "digest.daily", NULL, 0), 1);
    assert_int_equal (fx_notices (&town, "digest.daily", NULL, 0), 1);
    assert_int_equal (fx_notices (&quiet, "digest.daily", NULL, 0), 0);
    //  Nobody (the county's admin of test_account_list included) got two.
    assert_int_equal (fx_count ("SELECT count (*) FROM (SELECT recipient_id FROM notify.notices"
                                " WHERE kind = 'digest.daily' GROUP BY recipient_id"
                                " HAVING count (*) > 1) x"),
                      0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_account_list),
        cmocka_unit_test (test_digest),
    };
    return cmocka_run_group_tests (tests, s_setup, fx_teardown);
}
