/*  web_test.c — the web pages (issue 23) in a real browser against the real stack: every
    service and the gateway as processes; tests/js/web-journey.mjs drives Debian's chromium
    through playwright-core as a resident, a volunteer and a station admin would. This side
    makes their accounts, runs the journey, and then checks through the services' own ops
    that what the pages showed is what the services hold.  */
#include "fixture.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#define COUNTY        "431022000000"
#define VILLAGE       "431022100201"
#define PASSWORD      "correct horse battery"
#define ADMIN         "yuxi-station"
#define COUNTY_OFFICE "yizhang-office"

//  Every slot of the week: the volunteer is free whenever the resident asks.
#define ALWAYS                                                                                     \
    "[\"mon_am\",\"mon_pm\",\"mon_ev\",\"tue_am\",\"tue_pm\",\"tue_ev\",\"wed_am\",\"wed_pm\","    \
    "\"wed_ev\",\"thu_am\",\"thu_pm\",\"thu_ev\",\"fri_am\",\"fri_pm\",\"fri_ev\",\"sat_am\","     \
    "\"sat_pm\",\"sat_ev\",\"sun_am\",\"sun_pm\",\"sun_ev\"]"

static fx_t *s_fx;
static char s_volunteer[32], s_resident[32];

static int
s_setup (void **state)
{
    (void) state;
    setenv ("STATION_DISPATCH_ROUND_MS", "500", 1);
    s_fx = fx_new ("web_test", FX_REGISTRY | FX_MATCH | FX_LEDGER | FX_NOTIFY | FX_GATEWAY);
    fx_county_add ();
    msg_actor_t county = fx_admin ("region_admin", COUNTY);
    //  The county reviews requests (审单) and prices an hour at 10 points.
    json_decref (fx_call_ok ("match", &county, "settings.set",
                             "{\"region\": \"" COUNTY "\", \"review_required\": true}"));
    json_decref (fx_call_ok ("ledger", &county, "rules.set",
                             "{\"region\": \"" COUNTY "\", \"points_per_hour\": 10}"));
    json_decref (fx_call_ok ("registry", &FX_SYSTEM, "account.create",
                             "{\"login\": \"" ADMIN "\", \"password\": \"" PASSWORD "\","
                             " \"role\": \"station_admin\", \"region\": \"" VILLAGE "\"}"));
    json_decref (fx_call_ok ("registry", &FX_SYSTEM, "account.create",
                             "{\"login\": \"" COUNTY_OFFICE "\", \"password\": \"" PASSWORD "\","
                             " \"role\": \"region_admin\", \"region\": \"" COUNTY "\"}"));
    json_t *resident =
        fx_call_ok ("registry", &FX_SYSTEM, "resident.register",
                    "{\"name\": \"张秀兰\", \"phone\": \"13907350001\", \"password\": \"" PASSWORD
                    "\", \"region\": \"" VILLAGE "\", \"address\": \"玉溪镇第一村三组 12 号\","
                    " \"care_tags\": [\"empty_nest_elderly\"]}");
    snprintf (s_resident, sizeof s_resident, "%s", fx_str (resident, "id"));
    json_decref (resident);
    fx_volunteer_add ("李明华", VILLAGE, "[\"维修\"]", ALWAYS, 25.40, 112.95,
                      ", \"password\": \"" PASSWORD "\"", s_volunteer);
    return 0;
}

static int
s_teardown (void **state)
{
    (void) state;
    fx_destroy (&s_fx);
    return 0;
}

//  The phone fx_volunteer_add gave the first volunteer of a run.
#define VOLUNTEER_PHONE "13900000001"

static void
test_the_journey_in_a_browser (void **state)
{
    (void) state;
    const char *source = getenv ("STATION_SOURCE_DIR");
    assert_non_null (source);
    char shots[512], command[2048];
    //  Beside the binaries, so they outlive the run (the harness's folder does not).
    const char *bin = getenv ("STATION_BIN_DIR");
    assert_non_null (bin);
    snprintf (shots, sizeof shots, "%s/../web-shots", bin);
    snprintf (command, sizeof command,
              "STATION_WEB_URL=http://127.0.0.1:%d STATION_WEB_SHOTS='%s'"
              " STATION_WEB_RESIDENT='13907350001:" PASSWORD "'"
              " STATION_WEB_VOLUNTEER='" VOLUNTEER_PHONE ":" PASSWORD "'"
              " STATION_WEB_ADMIN='" ADMIN ":" PASSWORD "'"
              " STATION_WEB_COUNTY='" COUNTY_OFFICE ":" PASSWORD "'"
              " STATION_WEB_RESULT='%s/web-result.json'"
              " node %s/tests/js/web-journey.mjs 2>&1",
              harness_http_port (fx_harness ()), shots, harness_dir (fx_harness ()), source);
    FILE *run = popen (command, "r");
    assert_non_null (run);
    char line[2048];
    while (fgets (line, sizeof line, run))
        fputs (line, stdout); //  the journey's steps, byte counts and any failure, in the log
    int status = pclose (run);
    printf ("screenshots in %s\n", shots);
    assert_int_equal (status, 0);

    //  What the pages showed is what the services hold: the resident's request done and
    //  rated 5, the volunteer's 4.5 confirmed hours (one back-entered) and the points their page showed (an
    //  hour's points, a bonus for serving someone cared for, the rating's adjustment).
    char path[512];
    snprintf (path, sizeof path, "%s/web-result.json", harness_dir (fx_harness ()));
    json_error_t json_err;
    json_t *shown = json_load_file (path, 0, &json_err);
    assert_non_null (shown);
    msg_actor_t resident = fx_resident (s_resident);
    json_t *page = fx_call_ok ("match", &resident, "request.list", "{}");
    json_t *request = json_array_get (json_object_get (page, "items"), 0);
    assert_string_equal (fx_str (request, "status"), "completed");
    assert_int_equal (fx_int (request, "rating"), 5);
    json_decref (page);
    msg_actor_t volunteer = fx_volunteer (s_volunteer);
    char body[128];
    snprintf (body, sizeof body, "{\"volunteer_id\": \"%s\"}", s_volunteer);
    json_t *statement = fx_call_ok ("ledger", &volunteer, "ledger.statement", body);
    double hours = json_real_value (json_object_get (statement, "hours_credit"));
    assert_true (hours > 4.49 && hours < 4.51);
    assert_int_equal (fx_int (statement, "available"), fx_int (shown, "points"));
    assert_true (fx_int (statement, "available") >= 45); //  4.5 hours at 10 points at least
    json_decref (statement);
    json_decref (shown);
}

//  Lighthouse (mobile) on a resident's and a volunteer's busiest pages: accessibility and best
//  practices at 95 or more (lighthouse.mjs asserts; the performance score is printed). Two pages
//  (about 25 s each): axe-core checks every page of the journeys already, and the suite's time is
//  bounded.
static void
test_lighthouse (void **state)
{
    (void) state;
    char command[2048];
    snprintf (command, sizeof command,
              "node %s/tests/js/lighthouse.mjs http://127.0.0.1:%d"
              " '13907350001:" PASSWORD ":/order' '" VOLUNTEER_PHONE ":" PASSWORD ":/offers'"
              " 2>&1",
              getenv ("STATION_SOURCE_DIR"), harness_http_port (fx_harness ()));
    FILE *run = popen (command, "r");
    assert_non_null (run);
    char line[2048];
    while (fgets (line, sizeof line, run))
        fputs (line, stdout);
    assert_int_equal (pclose (run), 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_the_journey_in_a_browser),
        cmocka_unit_test (test_lighthouse),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
