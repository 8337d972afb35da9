/*  web_more_test.c — more web pages (issue 23) in a real browser against the real stack: the
    points store, notification preferences and the officials' volunteers desk (the masked
    list, an audited reveal, a CSV import with a preview, transfer requests) and store desk.
    Every service and the gateway run as processes; tests/js/web-more.mjs drives Debian's
    chromium through playwright-core as a volunteer and a county admin would. This side makes
    the accounts and data through ops, runs the journey, and then checks through the services'
    own ops that what the pages did is what the services hold.  */
#include "fixture.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <setjmp.h>
#include <cmocka.h>

#define COUNTY   "431022000000"
#define VILLAGE  "431022100201"
#define BAISHI   "431022101203"
#define TOWNSHIP "431022100000"
#define PASSWORD "correct horse battery"
#define OFFICIAL "yizhang-county"

//  The phone fx_volunteer_add gives the first volunteer of a run.
#define VOLUNTEER_PHONE "13900000001"
//  The resident who signs in to edit her details.
#define RESIDENT_PHONE "13600000001"
//  A name only the CSV's first good row holds.
#define IMPORTED "孙志远"

static fx_t *s_fx;
static char s_volunteer[32], s_moving[32], s_staying[32], s_csv[512];
static int64_t s_rule_version; //  the county's rule version the journey starts from
static char s_resident[32], s_activity[32];

//  An item of the county's store.
static void
s_item (const char *name, const char *kind, int price, int stock)
{
    msg_actor_t county = fx_admin ("region_admin", COUNTY);
    char body[256];
    snprintf (body, sizeof body,
              "{\"name\": \"%s\", \"kind\": \"%s\", \"price_points\": %d, \"stock\": %d,"
              " \"region\": \"" COUNTY "\"}",
              name, kind, price, stock);
    json_decref (fx_call_ok ("ledger", &county, "item.create", body));
}

//  A volunteer of 白石渡村 who asks to move to the village of the journey.
static void
s_asks_to_move (const char *name, char id[32])
{
    fx_volunteer_add (name, BAISHI, "[]", "[]", 25.40, 112.95, "", id);
    msg_actor_t self = fx_volunteer (id);
    json_decref (fx_call_ok ("registry", &self, "transfer.request",
                             "{\"to_region\": \"" VILLAGE "\", \"reason\": \"搬家到玉溪镇\"}"));
}

//  The spreadsheet: three good rows (lines 2, 4, 6) and two bad ones, an ID number whose
//  check digit is wrong (line 3) and a phone of five digits (line 5).
static void
s_csv_write (const char *path)
{
    char good[3][19], bad[19];
    fx_nth_id_number (201, good[0]);
    fx_nth_id_number (202, good[1]);
    fx_nth_id_number (203, good[2]);
    fx_nth_id_number (204, bad);
    bad[17] = bad[17] == '1' ? '2' : '1';
    FILE *file = fopen (path, "w");
    assert_non_null (file);
    fprintf (file,
             "name,id_number,phone,region\r\n" IMPORTED ",%s,13700000201," VILLAGE "\r\n"
             "吴小兵,%s,13700000202," VILLAGE "\r\n"
             "周丽,%s,13700000203," VILLAGE "\r\n"
             "郑强,%s,12345," VILLAGE "\r\n"
             "钱多多,%s,13700000205," VILLAGE "\r\n",
             good[0], bad, good[1], good[2], good[2]);
    fclose (file);
}

static int
s_setup (void **state)
{
    (void) state;
    s_fx = fx_new ("web_more_test", FX_REGISTRY | FX_MATCH | FX_LEDGER | FX_NOTIFY | FX_GATEWAY);
    fx_county_add ();
    json_decref (fx_call_ok ("registry", &FX_SYSTEM, "account.create",
                             "{\"login\": \"" OFFICIAL "\", \"password\": \"" PASSWORD "\","
                             " \"role\": \"region_admin\", \"region\": \"" COUNTY "\"}"));
    fx_volunteer_add ("李明华", VILLAGE, "[\"维修\"]", "[]", 25.40, 112.95,
                      ", \"password\": \"" PASSWORD "\"", s_volunteer);
    fx_ledger_wait_volunteer (s_volunteer);
    //  300 points to spend: more than an official may adjust a day by default.
    msg_actor_t county = fx_admin ("region_admin", COUNTY);
    json_t *rule = fx_call_ok ("ledger", &county, "rules.set",
                               "{\"region\": \"" COUNTY "\", \"adjust_cap_points\": 1000}");
    s_rule_version = fx_int (rule, "version");
    json_decref (rule);
    fx_ledger_adjust (&FX_SYSTEM, s_volunteer, "points", 300, "积分超市测试");
    s_item ("大米 5 kg", "goods", 200, 10);
    s_item ("理发", "service", 50, 1);
    s_asks_to_move ("王建国", s_moving);
    s_asks_to_move ("赵红梅", s_staying);
    //  The activity of the roster: the volunteer signed up and checked in, not out yet; and
    //  3 hours entered by hand this quarter, which the dashboard's top list shows.
    char starts[40], ends[40], closes[40], text[512], check[FX_BODY_SIZE];
    fx_time (starts, 1800);
    fx_time (ends, 1800 + 7200);
    fx_time (closes, 1700);
    snprintf (text, sizeof text,
              "{\"title\": \"敬老院陪护\", \"category\": \"elderly\", \"region\": \"" VILLAGE "\","
              " \"starts_at\": \"%s\", \"ends_at\": \"%s\", \"signup_closes_at\": \"%s\","
              " \"capacity\": 10, \"skills\": []}",
              starts, ends, closes);
    fx_activity_add (text, s_activity);
    msg_actor_t self = fx_volunteer (s_volunteer);
    fx_activity_signup (&self, s_activity);
    fx_checkin_body (check, s_activity, "");
    json_decref (fx_call_ok ("match", &self, "record.checkin", check));
    fx_ledger_adjust (&FX_SYSTEM, s_volunteer, "hours", 180, "纸质签到表补录"); //  minutes
    json_t *resident = fx_call_ok (
        "registry", NULL, "resident.register",
        "{\"name\": \"周桂英\", \"phone\": \"" RESIDENT_PHONE "\", \"password\": \"" PASSWORD "\","
        " \"region\": \"" VILLAGE "\", \"address\": \"一组5号\", \"lat\": 25.40, \"lon\": 112.95}");
    snprintf (s_resident, sizeof s_resident, "%s", fx_str (resident, "id"));
    json_decref (resident);
    const char *bin = getenv ("STATION_BIN_DIR");
    assert_non_null (bin);
    snprintf (s_csv, sizeof s_csv, "%s/../web-more-import.csv", bin);
    s_csv_write (s_csv);
    return 0;
}

static int
s_teardown (void **state)
{
    (void) state;
    fx_destroy (&s_fx);
    return 0;
}

//  How many volunteers named `name` the county's list holds.
static size_t
s_named (const char *name)
{
    msg_actor_t county = fx_admin ("region_admin", COUNTY);
    char body[128];
    snprintf (body, sizeof body, "{\"region\": \"" COUNTY "\", \"q\": \"%s\"}", name);
    json_t *page = fx_call_ok ("registry", &county, "volunteer.list", body);
    size_t count = json_array_size (json_object_get (page, "items"));
    json_decref (page);
    return count;
}

static void
test_more_pages_in_a_browser (void **state)
{
    (void) state;
    const char *source = getenv ("STATION_SOURCE_DIR");
    assert_non_null (source);
    const char *bin = getenv ("STATION_BIN_DIR");
    assert_non_null (bin);
    char shots[512], command[4096];
    snprintf (shots, sizeof shots, "%s/../web-more-shots", bin);
    snprintf (command, sizeof command,
              "STATION_WEB_URL=http://127.0.0.1:%d STATION_WEB_SHOTS='%s'"
              " STATION_WEB_VOLUNTEER='" VOLUNTEER_PHONE ":" PASSWORD "'"
              " STATION_WEB_OFFICIAL='" OFFICIAL ":" PASSWORD "'"
              " STATION_WEB_CSV='%s' STATION_WEB_IMPORTED='" IMPORTED "'"
              " STATION_WEB_PHONE='" VOLUNTEER_PHONE "'"
              " STATION_WEB_RESIDENT='" RESIDENT_PHONE ":" PASSWORD "' STATION_WEB_RESIDENT_ID='%s'"
              " STATION_WEB_ACTIVITY='%s' STATION_WEB_VOLUNTEER_ID='%s'"
              " node %s/tests/js/web-more.mjs 2>&1",
              harness_http_port (fx_harness ()), shots, s_csv, s_resident, s_activity, s_volunteer,
              source);
    FILE *run = popen (command, "r");
    assert_non_null (run);
    char line[2048];
    while (fgets (line, sizeof line, run))
        fputs (line, stdout); //  the journey's steps, axe results and any failure, in the log
    int status = pclose (run);
    printf ("screenshots in %s\n", shots);
    assert_int_equal (status, 0);

    //  The store: the rice fulfilled (200 points spent), the haircut cancelled (points and
    //  stock back), the towel the official added on the shelf.
    msg_actor_t volunteer = fx_volunteer (s_volunteer);
    json_t *page = fx_call_ok ("ledger", &volunteer, "redemption.list", "{}");
    json_t *items = json_object_get (page, "items");
    assert_int_equal (json_array_size (items), 2);
    for (size_t i = 0; i < 2; i++) {
        json_t *r = json_array_get (items, i);
        assert_string_equal (fx_str (r, "status"), strcmp (fx_str (r, "item_name"), "理发") == 0
                                                       ? "cancelled"
                                                       : "fulfilled");
    }
    json_decref (page);
    json_t *statement = fx_ledger_statement (&volunteer, s_volunteer);
    assert_int_equal (fx_int (statement, "balance"), 100);
    assert_int_equal (fx_int (statement, "available"), 100);
    json_decref (statement);
    page = fx_call_ok ("ledger", &volunteer, "item.list", "{\"region\": \"" VILLAGE "\"}");
    bool towel = false;
    for (size_t i = 0; i < json_array_size (json_object_get (page, "items")); i++) {
        json_t *item = json_array_get (json_object_get (page, "items"), i);
        if (strcmp (fx_str (item, "name"), "毛巾") == 0) {
            towel = true;
            assert_int_equal (fx_int (item, "price_points"), 30);
            assert_int_equal (fx_int (item, "stock"), 10);
            assert_string_equal (fx_str (item, "region"), COUNTY);
        }
        if (strcmp (fx_str (item, "name"), "理发") == 0)
            assert_int_equal (fx_int (item, "stock"), 1);
    }
    assert_true (towel);
    json_decref (page);

    //  The preferences as saved.
    json_t *prefs = fx_call_ok ("notify", &volunteer, "prefs.get", "{}");
    assert_string_equal (fx_str (prefs, "language"), "en");
    json_t *quiet = json_object_get (prefs, "quiet_hours");
    assert_int_equal (strncmp (fx_str (quiet, "from"), "21:30", 5), 0);
    assert_int_equal (strncmp (fx_str (quiet, "to"), "06:30", 5), 0);
    json_t *channels = json_object_get (prefs, "channels");
    assert_int_equal (json_array_size (channels), 1);
    assert_string_equal (json_string_value (json_array_get (channels, 0)), "email");
    //  Every kind but the one unticked, those the page does not show included.
    json_t *kinds = json_object_get (prefs, "kinds");
    bool offers = false, points = false, transfer = false;
    size_t k;
    json_t *kind;
    json_array_foreach (kinds, k, kind)
    {
        offers |= strcmp (json_string_value (kind), "offer.made") == 0;
        points |= strcmp (json_string_value (kind), "points.awarded") == 0;
        transfer |= strcmp (json_string_value (kind), "volunteer.transfer_declined") == 0;
    }
    assert_true (offers && transfer && !points);
    json_decref (prefs);

    //  The reveal is in the audit log with its reason.
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.pii_reveals WHERE volunteer_id = %s"
                                " AND reason = '核实保险信息' AND actor_role = 'region_admin'",
                                s_volunteer),
                      1);

    //  The import: the good rows registered, the bad ones not.
    assert_int_equal (s_named (IMPORTED), 1);
    assert_int_equal (s_named ("周丽"), 1);
    assert_int_equal (s_named ("钱多多"), 1);
    assert_int_equal (s_named ("吴小兵"), 0);
    assert_int_equal (s_named ("郑强"), 0);

    //  The transfers: one moved to the village, one declined with the reason given.
    msg_actor_t county = fx_admin ("region_admin", COUNTY);
    char body[128];
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", s_moving);
    json_t *moved = fx_call_ok ("registry", &county, "volunteer.get", body);
    assert_string_equal (fx_str (moved, "region"), VILLAGE);
    json_decref (moved);
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", s_staying);
    json_t *stayed = fx_call_ok ("registry", &county, "volunteer.get", body);
    assert_string_equal (fx_str (stayed, "region"), BAISHI);
    json_decref (stayed);
    page = fx_call_ok ("registry", &county, "transfer.list", "{\"status\": \"declined\"}");
    assert_int_equal (json_array_size (json_object_get (page, "items")), 1);
    json_t *declined = json_array_get (json_object_get (page, "items"), 0);
    assert_string_equal (fx_str (json_object_get (declined, "volunteer"), "id"), s_staying);
    assert_string_equal (fx_str (declined, "decline_reason"), "本村名额已满，请联系镇实践所");
    json_decref (page);

    //  The region settings: the county's rule a version on, with the values typed.
    json_t *rule = fx_call_ok ("ledger", &county, "rules.get", "{\"region\": \"" COUNTY "\"}");
    assert_int_equal (fx_int (rule, "version"), s_rule_version + 1);
    assert_string_equal (fx_str (rule, "from_region"), COUNTY);
    assert_int_equal (fx_int (rule, "points_per_hour"), 12);
    assert_int_equal (fx_int (rule, "cared_bonus"), 5);
    assert_int_equal (fx_int (rule, "star_2"), 120);
    assert_int_equal (fx_int (rule, "adjust_cap_points"), 1000); //  kept as it was
    assert_string_equal (fx_str (rule, "expiry"), "months");
    assert_int_equal (fx_int (rule, "expiry_months"), 24);
    json_decref (rule);
    assert_int_equal (fx_count ("SELECT count (*) FROM ledger.rules WHERE region = '" COUNTY "'"),
                      2); //  the fixture's version and the page's

    //  The county's webhook: the URL, the two kinds, a secret (masked) the page made.
    json_t *channel = fx_call_ok ("notify", &county, "channel.get", "{\"region\": \"" COUNTY "\"}");
    assert_string_equal (fx_str (channel, "url"), "https://hooks.example.cn/station");
    assert_string_equal (fx_str (channel, "from"), COUNTY);
    assert_int_equal (strncmp (fx_str (channel, "secret"), "whsec_", 6), 0);
    json_t *channel_kinds = json_object_get (channel, "kinds");
    assert_int_equal (json_array_size (channel_kinds), 2);
    json_decref (channel);

    //  The county's reminders and quiet hours; the township's dispatch settings.
    json_t *notice =
        fx_call_ok ("notify", &county, "notify.settings.get", "{\"region\": \"" COUNTY "\"}");
    json_t *offsets = json_object_get (notice, "reminder_offsets_s");
    assert_int_equal (json_array_size (offsets), 2);
    assert_string_equal (json_string_value (json_array_get (offsets, 0)), "172800");
    assert_string_equal (json_string_value (json_array_get (offsets, 1)), "7200");
    assert_int_equal (strncmp (fx_str (notice, "quiet_from"), "21:00", 5), 0);
    assert_int_equal (strncmp (fx_str (notice, "quiet_to"), "06:30", 5), 0);
    json_decref (notice);
    json_t *dispatch =
        fx_call_ok ("match", &county, "settings.get", "{\"region\": \"" TOWNSHIP "\"}");
    assert_true (json_is_true (json_object_get (dispatch, "review_required")));
    assert_int_equal (fx_int (dispatch, "daily_limit"), 3);
    assert_int_equal (fx_int (dispatch, "widen_township_s"), 180);
    json_decref (dispatch);
    //  What the page left as it read stays inherited: the township sets only what was typed.
    assert_int_equal (
        fx_count ("SELECT count (*) FROM match.region_settings WHERE region = '" TOWNSHIP
                  "' AND widen_township_s = 180 AND widen_county_s IS NULL"
                  " AND checkin_radius_m IS NULL"),
        1);
    //  The resident's details as she and the official saved them.
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", s_resident);
    json_t *resident = fx_call_ok ("registry", &county, "resident.get", body);
    assert_string_equal (fx_str (resident, "address"), "一组5号（新房）");
    assert_string_equal (fx_str (resident, "phone"), "136****0001"); //  masked, kept
    json_t *tags = json_object_get (resident, "care_tags");
    assert_int_equal (json_array_size (tags), 1);
    assert_string_equal (json_string_value (json_array_get (tags, 0)), "empty_nest_elderly");
    json_decref (resident);
    msg_actor_t her = fx_resident (s_resident);
    resident = fx_call_ok ("registry", &her, "resident.get", body);
    assert_string_equal (fx_str (resident, "email"), "z***@example.cn"); //  as saved, masked
    json_decref (resident);
    //  Her phone, left as the page read it (masked), is still the one she signs in with.
    char token[64];
    fx_http_signin (RESIDENT_PHONE, PASSWORD, token);
    assert_true (*token);

    //  The county's reminders the page saved; its quiet hours likewise its own now.
    assert_int_equal (
        fx_count ("SELECT count (*) FROM notify.region_settings WHERE region = '" COUNTY
                  "' AND reminder_offsets_s = '{172800,7200}'"),
        1);
}

//  Activities with a place at three distances from the volunteer (25.40, 112.95), starting in
//  the opposite order; their titles nearest first, joined by |, into `near`.
static void
s_places (char *near, size_t size)
{
    static const struct {
        const char *title, *region;
        double lat, lon;
        int hours;
    } places[] = {
        {"县城广场宣讲", COUNTY, 25.60, 113.20, 26},
        {"镇卫生院导诊", TOWNSHIP, 25.45, 112.99, 28},
        {"村口交通劝导", VILLAGE, 25.401, 112.951, 30},
    };
    near[0] = '\0';
    for (size_t i = 0; i < 3; i++) {
        char starts[40], ends[40], closes[40], text[512], id[32];
        fx_time (starts, places[i].hours * 3600);
        fx_time (ends, places[i].hours * 3600 + 7200);
        fx_time (closes, places[i].hours * 3600 - 3600);
        snprintf (text, sizeof text,
                  "{\"title\": \"%s\", \"category\": \"civility\", \"region\": \"%s\","
                  " \"starts_at\": \"%s\", \"ends_at\": \"%s\", \"signup_closes_at\": \"%s\","
                  " \"capacity\": 10, \"skills\": [], \"lat\": %.3f, \"lon\": %.3f}",
                  places[i].title, places[i].region, starts, ends, closes, places[i].lat,
                  places[i].lon);
        fx_activity_add (text, id);
    }
    for (size_t i = 3; i-- > 0;)
        snprintf (near + strlen (near), size - strlen (near), "%s%s", i < 2 ? "|" : "",
                  places[i].title);
}

//  How long ago this month began in Asia/Shanghai (UTC+8 all year), in seconds.
static long
s_into_month (void)
{
    time_t shanghai = time (NULL) + 8 * 3600;
    struct tm tm;
    gmtime_r (&shanghai, &tm);
    return (tm.tm_mday - 1) * 86400L + tm.tm_hour * 3600L + tm.tm_min * 60L + tm.tm_sec;
}

//  The township's team with the volunteer in it (invited and accepted) and hours entered by hand
//  for an activity of a project themed 敬老月 that ended a minute ago, all of it this month (and
//  so this quarter) in Asia/Shanghai: 2.5 hours of an activity that began 4 hours ago, or, in a
//  month's first hours, what fits since the month began (in its first 8 minutes, the test waits
//  for them to pass). The team's id into `team`, the hours into `hours` ("2.5").
static void
s_team_with_hours (char team[32], char hours[16])
{
    long into = s_into_month ();
    if (into < 8 * 60) {
        fx_sleep_ms ((8 * 60 - into) * 1000);
        into = 8 * 60;
    }
    long began = into >= 4 * 3600 + 60 ? 4 * 3600 : into - 60; //  seconds ago
    long tenths = (began - 60) / 360;                          //  tenths of an hour that fit
    snprintf (hours, 16, "%g", tenths >= 25 ? 2.5 : tenths / 10.0);
    msg_actor_t county = fx_admin ("region_admin", COUNTY);
    json_t *made = fx_call_ok ("registry", &county, "team.create",
                               "{\"name\": \"玉溪镇助老小队\", \"level\": \"squad\","
                               " \"category\": \"elderly\", \"region\": \"" TOWNSHIP "\"}");
    snprintf (team, 32, "%s", fx_str (made, "id"));
    json_decref (made);
    char body[512];
    snprintf (body, sizeof body, "{\"team_id\": \"%s\", \"volunteer_id\": \"%s\"}", team,
              s_volunteer);
    json_t *invitation = fx_call_ok ("registry", &county, "team.invite", body);
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", fx_str (invitation, "id"));
    json_decref (invitation);
    msg_actor_t self = fx_volunteer (s_volunteer);
    json_decref (fx_call_ok ("registry", &self, "invitation.accept", body));
    fx_wait_for (1, "SELECT count (*) FROM match.team_members WHERE team_id = %s", team);
    json_t *project =
        fx_call_ok ("match", &county, "project.create",
                    "{\"name\": \"孝老爱亲\", \"category\": \"elderly\", \"region\": \"" COUNTY
                    "\", \"theme\": \"敬老月\"}");
    char starts[40], ends[40];
    fx_time (starts, -began);
    fx_time (ends, -60);
    snprintf (body, sizeof body,
              "{\"title\": \"敬老院义务理发\", \"category\": \"elderly\", \"region\": \"" VILLAGE
              "\", \"starts_at\": \"%s\", \"ends_at\": \"%s\", \"project_id\": \"%s\","
              " \"reason\": \"纸质签到表补录\", \"records\": [{\"volunteer_id\": \"%s\","
              " \"hours\": %s}]}",
              starts, ends, fx_str (project, "id"), s_volunteer, hours);
    json_decref (project);
    json_decref (fx_call_ok ("match", &county, "activity.backfill", body));
}

//  Activities near me, teams, the dashboard's top teams and theme (tests/js/web-rest.mjs).
static void
test_rest_pages_in_a_browser (void **state)
{
    (void) state;
    const char *source = getenv ("STATION_SOURCE_DIR");
    const char *bin = getenv ("STATION_BIN_DIR");
    assert_non_null (source);
    assert_non_null (bin);
    char near[256], team[32], hours[16], shots[512], command[4096];
    s_places (near, sizeof near);
    s_team_with_hours (team, hours);
    snprintf (shots, sizeof shots, "%s/../web-more-shots", bin);
    snprintf (command, sizeof command,
              "STATION_WEB_URL=http://127.0.0.1:%d STATION_WEB_SHOTS='%s'"
              " STATION_WEB_VOLUNTEER='" VOLUNTEER_PHONE ":" PASSWORD "'"
              " STATION_WEB_OFFICIAL='" OFFICIAL ":" PASSWORD "'"
              " STATION_WEB_VOLUNTEER_ID='%s' STATION_WEB_TEAM='%s' STATION_WEB_NEAR='%s'"
              " STATION_WEB_TEAM_HOURS='%s' node %s/tests/js/web-rest.mjs 2>&1",
              harness_http_port (fx_harness ()), shots, s_volunteer, team, near, hours, source);
    FILE *run = popen (command, "r");
    assert_non_null (run);
    char line[2048];
    while (fgets (line, sizeof line, run))
        fputs (line, stdout);
    int status = pclose (run);
    printf ("screenshots in %s\n", shots);
    assert_int_equal (status, 0);

    //  The volunteer is in the team the page made, as a member, by their own consent.
    msg_actor_t self = fx_volunteer (s_volunteer);
    json_t *page = fx_call_ok ("registry", &self, "team.list", "{}");
    json_t *items = json_object_get (page, "items");
    assert_int_equal (json_array_size (items), 2);
    json_t *made = json_array_get (items, 1);
    assert_string_equal (fx_str (made, "name"), "白石渡应急小队");
    assert_string_equal (fx_str (made, "my_role"), "member");
    assert_string_equal (fx_str (made, "region"), COUNTY);
    json_decref (page);
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.invitations WHERE volunteer_id = %s"
                                " AND status = 'accepted'",
                                s_volunteer),
                      2);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_more_pages_in_a_browser),
        cmocka_unit_test (test_rest_pages_in_a_browser),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
