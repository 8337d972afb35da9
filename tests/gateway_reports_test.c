/*  gateway_reports_test.c — reports and exports through the gateway (issue 22) against the
    real stack: a county's figures as JSON and by township as CSV, the CSV exports of
    volunteers and service records, and the ops they are made of (registry's volunteer.stats,
    match's record.list by region), /metrics' event lag and notify's backlog (the common
    events.lag, notify.backlog), each figure checked against what the services' own ops
    say, each refusal naming its field.  */
#include "fixture.h"
#include "st_csv.h"

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <setjmp.h>
#include <cmocka.h>

#define COUNTY     "431022000000"
#define TOWNSHIP   "431022100000" //  玉溪镇
#define OTHER_TOWN "431022101000" //  白石渡镇
#define VILLAGE    "431022100201"
#define VILLAGE_2  "431022100202"
#define VILLAGE_3  "431022101203"
#define PASSWORD   "correct horse battery"
#define BOM        "\xEF\xBB\xBF"

//  The people of the county: three volunteers in VILLAGE (the first to serve, the second
//  suspended), one in VILLAGE_2, one in VILLAGE_3 who left.
static char s_volunteer[5][32];
static char s_record[32], s_record_open[32], s_activity[32];
static char s_today[16], s_yesterday[16], s_tomorrow[16], s_quarter[24];

//  A day `days` from today in Beijing, YYYY-MM-DD.
static void
s_day (int days, char out[16])
{
    time_t t = time (NULL) + 8 * 3600 + days * 86400;
    struct tm tm;
    gmtime_r (&t, &tm);
    strftime (out, 16, "%Y-%m-%d", &tm);
}

static void
s_account (const char *login, const char *role, const char *region)
{
    char body[256];
    snprintf (body, sizeof body,
              "{\"login\": \"%s\", \"password\": \"" PASSWORD "\", \"role\": \"%s\","
              " \"region\": \"%s\"}",
              login, role, region);
    json_decref (fx_call_ok ("registry", &FX_SYSTEM, "account.create", body));
}

static int
s_setup (void **state)
{
    (void) state;
    //  A small cap on an export's rows, so that a county of five is past it.
    setenv ("STATION_GATEWAY_EXPORT_MAX", "4", 1);
    fx_new ("gateway_reports_test", FX_REGISTRY | FX_MATCH | FX_LEDGER | FX_NOTIFY | FX_GATEWAY);
    unsetenv ("STATION_GATEWAY_EXPORT_MAX");
    fx_county_add ();
    s_account ("county-admin", "region_admin", COUNTY);
    s_account ("town-admin", "region_admin", TOWNSHIP);
    s_account ("other-admin", "region_admin", OTHER_TOWN);
    const char *regions[] = {VILLAGE, VILLAGE, VILLAGE, VILLAGE_2, VILLAGE_3};
    const char *names[] = {"李明华", "王芳", "张伟", "刘洋", "陈静"};
    for (int i = 0; i < 5; i++)
        fx_volunteer_add (names[i], regions[i], "[\"急救\"]", "[]", 25.4, 112.95,
                          ", \"party_member\": true", s_volunteer[i]);
    char body[128];
    snprintf (body, sizeof body, "{\"id\": \"%s\", \"status\": \"suspended\"}", s_volunteer[1]);
    json_decref (fx_call_ok ("registry", &FX_SYSTEM, "volunteer.set_status", body));
    snprintf (body, sizeof body, "{\"id\": \"%s\", \"status\": \"left\"}", s_volunteer[4]);
    json_decref (fx_call_ok ("registry", &FX_SYSTEM, "volunteer.set_status", body));

    //  The first volunteer serves an activity of VILLAGE starting in half an hour; an
    //  official confirms 1.5 hours, which the ledger prices.
    fx_ledger_wait_volunteer (s_volunteer[0]);
    char starts[40], ends[40], closes[40], activity[32], text[512];
    fx_time (starts, 1800);
    fx_time (ends, 1800 + 3600);
    fx_time (closes, 1700);
    snprintf (text, sizeof text,
              "{\"title\": \"敬老院陪护\", \"category\": \"elderly\", \"region\": \"" VILLAGE "\","
              " \"starts_at\": \"%s\", \"ends_at\": \"%s\", \"signup_closes_at\": \"%s\","
              " \"capacity\": 10, \"skills\": []}",
              starts, ends, closes);
    fx_activity_add (text, activity);
    msg_actor_t self = fx_volunteer (s_volunteer[0]);
    snprintf (body, sizeof body, "{\"activity_id\": \"%s\"}", activity);
    fx_activity_signup (&self, activity);
    char check[FX_BODY_SIZE];
    fx_checkin_body (check, activity, "");
    json_t *reply = fx_call_ok ("match", &self, "record.checkin", check);
    snprintf (s_record, sizeof s_record, "%s", fx_str (reply, "id"));
    json_decref (reply);
    json_decref (fx_call_ok ("match", &self, "record.checkout", body));
    snprintf (body, sizeof body, "{\"id\": \"%s\", \"hours\": 1.5}", s_record);
    json_decref (fx_call_ok ("match", &FX_SYSTEM, "record.confirm", body));
    fx_wait_for (1, "SELECT count (*) FROM ledger.completions WHERE record_id = %s", s_record);
    //  The third checks in to it too, and has not checked out.
    self = fx_volunteer (s_volunteer[2]);
    snprintf (body, sizeof body, "{\"activity_id\": \"%s\"}", activity);
    fx_activity_signup (&self, activity);
    fx_checkin_body (check, activity, "");
    reply = fx_call_ok ("match", &self, "record.checkin", check);
    snprintf (s_record_open, sizeof s_record_open, "%s", fx_str (reply, "id"));
    json_decref (reply);
    snprintf (s_activity, sizeof s_activity, "%s", activity);

    s_day (0, s_today);
    s_day (-1, s_yesterday);
    s_day (1, s_tomorrow);
    snprintf (s_quarter, sizeof s_quarter, "%.4sQ%d", s_today, (atoi (s_today + 5) + 2) / 3);
    return 0;
}

//  Fails unless the answer is an error of `status` and `code` naming `field` (NULL: none).
static void
s_expect_error (fx_http_t *answer, long status, const char *code, const char *field)
{
    if (answer->status != status || strcmp (fx_http_str (answer, "error.code"), code) != 0
        || strcmp (fx_http_str (answer, "error.field"), field ? field : "") != 0)
        fail_msg ("expected %ld %s naming \"%s\", got %ld %s", status, code, field ? field : "",
                  answer->status, answer->text);
    assert_true (*fx_http_str (answer, "error.message"));
}

static void
s_check (const fx_http_t *answer, long status)
{
    if (answer->status != status)
        fail_msg ("expected %ld, got %ld %s", status, answer->status, answer->text);
}

//  GET `path` as `login`, expecting an error of `status` and `code` naming `field`.
static void
s_refused (const char *login, const char *path, long status, const char *code, const char *field)
{
    char token[64];
    fx_http_signin (login, PASSWORD, token);
    fx_http_t *answer = fx_http ("GET", path, token, NULL, NULL);
    s_expect_error (answer, status, code, field);
    fx_http_free (&answer);
}

//  A CSV answer: 200, text/csv in UTF-8, a byte-order mark, an attachment named `filename`;
//  its rows read back into a JSON array of arrays (the caller decrefs).
static json_t *
s_csv (fx_http_t *answer, const char *filename)
{
    s_check (answer, 200);
    assert_string_equal (answer->content_type, "text/csv; charset=utf-8");
    char disposition[200];
    snprintf (disposition, sizeof disposition, "attachment; filename=\"%s\"", filename);
    assert_string_equal (answer->content_disposition, disposition);
    assert_true (answer->size > 3);
    assert_memory_equal (answer->text, BOM, 3);
    assert_non_null (strstr (answer->text, "\r\n"));
    json_t *rows = json_array ();
    st_csv_t *csv = st_csv_new (answer->text, answer->size);
    int fields;
    while ((fields = st_csv_next (csv)) > 0) {
        json_t *row = json_array ();
        for (int i = 0; i < fields; i++)
            json_array_append_new (row, json_string (st_csv_field (csv, i)));
        json_array_append_new (rows, row);
    }
    if (fields < 0)
        fail_msg ("the CSV does not read back: %s", st_csv_error (csv));
    st_csv_destroy (&csv);
    return rows;
}

static const char *
s_cell (json_t *rows, size_t row, size_t column)
{
    const char *text = json_string_value (json_array_get (json_array_get (rows, row), column));
    return text ? text : "";
}

//  ---------------------------------------------------------------------------------------
//  registry: volunteer.stats

static void
test_volunteer_stats (void **state)
{
    (void) state;
    msg_actor_t county = fx_admin ("region_admin", COUNTY);
    //  Registered (not left), active, and new in the period.
    char body[256], before[40];
    fx_time (before, -3600);
    snprintf (body, sizeof body, "{\"region\": \"" COUNTY "\", \"from\": \"%s\"}", before);
    json_t *reply = fx_call_ok ("registry", &county, "volunteer.stats", body);
    assert_int_equal (fx_int (reply, "registered"), 4);
    assert_int_equal (fx_int (reply, "active"), 3);
    assert_int_equal (fx_int (reply, "new_in_period"), 5);
    assert_string_equal (fx_str (reply, "region"), COUNTY);
    json_decref (reply);
    //  A subtree: the township has the first four; a period before them has none new.
    snprintf (body, sizeof body,
              "{\"region\": \"" TOWNSHIP "\", \"from\": \"2020-01-01T00:00:00+08:00\","
              " \"to\": \"%s\"}",
              before);
    reply = fx_call_ok ("registry", &county, "volunteer.stats", body);
    assert_int_equal (fx_int (reply, "registered"), 0);
    assert_int_equal (fx_int (reply, "new_in_period"), 0);
    json_decref (reply);
    reply = fx_call_ok ("registry", &county, "volunteer.stats", "{\"region\": \"" TOWNSHIP "\"}");
    assert_int_equal (fx_int (reply, "registered"), 4);
    assert_int_equal (fx_int (reply, "active"), 3);
    assert_int_equal (fx_int (reply, "new_in_period"), -1); //  absent without `from`
    json_decref (reply);

    //  Scope, role and bad input, each naming its field.
    st_error_t err;
    msg_actor_t other = fx_admin ("region_admin", OTHER_TOWN);
    fx_expect ("another township's",
               fx_call ("registry", &other, "volunteer.stats", "{\"region\": \"" TOWNSHIP "\"}",
                        NULL, &err),
               &err, ST_PERMISSION_DENIED, "region");
    msg_actor_t volunteer = fx_volunteer (s_volunteer[0]);
    fx_expect ("a volunteer's",
               fx_call ("registry", &volunteer, "volunteer.stats", "{\"region\": \"" VILLAGE "\"}",
                        NULL, &err),
               &err, ST_PERMISSION_DENIED, "actor.role");
    fx_expect ("a bad from",
               fx_call ("registry", &county, "volunteer.stats",
                        "{\"region\": \"" COUNTY "\", \"from\": \"yesterday\"}", NULL, &err),
               &err, ST_INVALID_ARGUMENT, "from");
    fx_expect ("a backwards period",
               fx_call ("registry", &county, "volunteer.stats",
                        "{\"region\": \"" COUNTY "\", \"from\": \"2026-02-01T00:00:00Z\","
                        " \"to\": \"2026-01-01T00:00:00Z\"}",
                        NULL, &err),
               &err, ST_INVALID_ARGUMENT, "to");
    fx_expect ("a bad region",
               fx_call ("registry", &county, "volunteer.stats", "{\"region\": \"43102200000x\"}",
                        NULL, &err),
               &err, ST_INVALID_ARGUMENT, "region");
}

//  ---------------------------------------------------------------------------------------
//  GET /v1/reports/summary

static void
test_summary (void **state)
{
    (void) state;
    char token[64], path[256];
    fx_http_signin ("county-admin", PASSWORD, token);
    snprintf (path, sizeof path, "/v1/reports/summary?region=" COUNTY "&from=%s&to=%s", s_yesterday,
              s_tomorrow);
    fx_http_t *answer = fx_http ("GET", path, token, NULL, NULL);
    s_check (answer, 200);
    json_t *summary = answer->json;
    assert_string_equal (fx_str (summary, "region"), COUNTY);
    assert_string_equal (fx_str (summary, "from"), s_yesterday);
    assert_string_equal (fx_str (summary, "to"), s_tomorrow);
    assert_int_equal (fx_int (summary, "volunteers_registered"), 4);
    assert_int_equal (fx_int (summary, "volunteers_active"), 3);
    assert_int_equal (fx_int (summary, "volunteers_new"), 5);
    assert_int_equal (fx_int (summary, "activities"), 1);
    assert_int_equal (fx_int (summary, "volunteers_participated"), 1);
    assert_int_equal (fx_int (summary, "person_times"), 1);
    assert_true (json_number_value (json_object_get (summary, "service_hours")) == 1.5);
    assert_true (json_is_object (json_object_get (summary, "requests_by_status")));
    assert_true (json_is_null (json_object_get (summary, "fill_rate")));

    //  The same figures as the services' own ops give the same official.
    msg_actor_t county = fx_admin ("region_admin", COUNTY);
    char body[256];
    snprintf (body, sizeof body,
              "{\"region\": \"" COUNTY "\", \"from\": \"%sT00:00:00+08:00\","
              " \"to\": \"%sT00:00:00+08:00\"}",
              s_yesterday, s_tomorrow);
    json_t *match = fx_call_ok ("match", &county, "stats.region", body);
    assert_int_equal (fx_int (summary, "projects"), fx_int (match, "projects"));
    assert_int_equal (fx_int (summary, "requests"), fx_int (match, "requests"));
    json_decref (match);
    snprintf (body, sizeof body, "{\"region\": \"" COUNTY "\", \"from\": \"%s\", \"to\": \"%s\"}",
              s_yesterday, s_tomorrow);
    json_t *ledger = fx_call_ok ("ledger", &county, "ledger.stats", body);
    json_t *points = json_object_get (summary, "points");
    assert_true (fx_int (ledger, "points_issued") > 0);
    assert_int_equal (fx_int (points, "issued"), fx_int (ledger, "points_issued"));
    assert_int_equal (fx_int (points, "spent"), fx_int (ledger, "points_spent"));
    assert_int_equal (fx_int (points, "balance"), fx_int (ledger, "points_issued")
                                                      - fx_int (ledger, "points_spent")
                                                      - fx_int (ledger, "points_expired"));
    json_decref (ledger);
    fx_http_free (&answer);

    //  Without a region: the caller's own; without a period: this month to today.
    answer = fx_http ("GET", "/v1/reports/summary", token, NULL, NULL);
    s_check (answer, 200);
    assert_string_equal (fx_http_str (answer, "region"), COUNTY);
    assert_string_equal (fx_http_str (answer, "to"), s_today);
    assert_int_equal (fx_int (answer->json, "volunteers_registered"), 4);
    fx_http_free (&answer);

    //  A township's admin sees their township: the four of it, the one who left not counted.
    char town[64];
    fx_http_signin ("town-admin", PASSWORD, town);
    answer = fx_http ("GET", "/v1/reports/summary?region=" TOWNSHIP, town, NULL, NULL);
    s_check (answer, 200);
    assert_int_equal (fx_int (answer->json, "volunteers_registered"), 4);
    fx_http_free (&answer);

    //  Refusals: no session, out of scope (as the ops say), a bad period, an unknown filter.
    answer = fx_http ("GET", "/v1/reports/summary?region=" COUNTY, NULL, NULL, NULL);
    s_expect_error (answer, 401, "unauthenticated", "Authorization");
    fx_http_free (&answer);
    s_refused ("other-admin", "/v1/reports/summary?region=" TOWNSHIP, 403, "permission_denied",
               "region");
    s_refused ("town-admin", "/v1/reports/summary?region=" COUNTY, 403, "permission_denied",
               "region");
    s_refused ("county-admin", "/v1/reports/summary?from=2026-13-01", 400, "invalid_argument",
               "from");
    s_refused ("county-admin", "/v1/reports/summary?from=2026-02-01&to=2026-01-31", 400,
               "invalid_argument", "to");
    s_refused ("county-admin", "/v1/reports/summary?regoin=" COUNTY, 400, "invalid_argument",
               "regoin");
}

//  ---------------------------------------------------------------------------------------
//  GET /v1/reports/quarterly

static void
test_quarterly (void **state)
{
    (void) state;
    char token[64], path[256], filename[80];
    fx_http_signin ("county-admin", PASSWORD, token);
    snprintf (path, sizeof path, "/v1/reports/quarterly?region=" COUNTY "&quarter=%s", s_quarter);
    snprintf (filename, sizeof filename, "station-report-" COUNTY "-%s.csv", s_quarter);
    fx_http_t *answer = fx_http ("GET", path, token, NULL, NULL);
    json_t *rows = s_csv (answer, filename);
    fx_http_free (&answer);
    //  The header in Chinese, a row per township, the county's total last.
    assert_int_equal (json_array_size (rows), 4);
    assert_string_equal (s_cell (rows, 0, 0), "区划代码");
    assert_string_equal (s_cell (rows, 0, 2), "注册志愿者数");
    assert_string_equal (s_cell (rows, 0, 9), "服务时长(小时)");
    size_t columns = json_array_size (json_array_get (rows, 0));
    for (size_t r = 1; r < 4; r++)
        assert_int_equal (json_array_size (json_array_get (rows, r)), columns);
    assert_string_equal (s_cell (rows, 1, 0), TOWNSHIP);
    assert_string_equal (s_cell (rows, 1, 1), "玉溪镇");
    assert_string_equal (s_cell (rows, 1, 2), "4");   //  registered
    assert_string_equal (s_cell (rows, 1, 7), "1");   //  took part
    assert_string_equal (s_cell (rows, 1, 9), "1.5"); //  hours
    assert_string_equal (s_cell (rows, 2, 0), OTHER_TOWN);
    assert_string_equal (s_cell (rows, 2, 1), "白石渡镇");
    assert_string_equal (s_cell (rows, 2, 2), "0"); //  the one there left
    assert_string_equal (s_cell (rows, 2, 4), "1"); //  but registered this quarter
    assert_string_equal (s_cell (rows, 3, 0), COUNTY);
    assert_string_equal (s_cell (rows, 3, 1), "宜章县 合计");
    assert_string_equal (s_cell (rows, 3, 2), "4");
    assert_string_equal (s_cell (rows, 3, 4), "5");
    assert_string_equal (s_cell (rows, 3, 9), "1.5");
    assert_true (atoll (s_cell (rows, 3, 20)) > 0); //  points issued
    json_decref (rows);

    //  2026-Q4 reads as 2026Q4.
    snprintf (path, sizeof path, "/v1/reports/quarterly?region=" COUNTY "&quarter=%.4s-%s",
              s_quarter, s_quarter + 4);
    answer = fx_http ("GET", path, token, NULL, NULL);
    rows = s_csv (answer, filename);
    assert_int_equal (json_array_size (rows), 4);
    json_decref (rows);
    fx_http_free (&answer);

    s_refused ("county-admin", "/v1/reports/quarterly?region=" COUNTY "&quarter=2026Q5", 400,
               "invalid_argument", "quarter");
    s_refused ("county-admin", "/v1/reports/quarterly?region=" COUNTY, 400, "invalid_argument",
               "quarter");
    snprintf (path, sizeof path, "/v1/reports/quarterly?region=" COUNTY "&quarter=%s", s_quarter);
    s_refused ("town-admin", path, 403, "permission_denied", "region");
}

//  ---------------------------------------------------------------------------------------
//  GET /v1/exports/volunteers

static void
test_export_volunteers (void **state)
{
    (void) state;
    char token[64];
    fx_http_signin ("town-admin", PASSWORD, token);
    //  The township's four, paged through (a page is at most half the cap of four).
    fx_http_t *answer =
        fx_http ("GET", "/v1/exports/volunteers?region=" TOWNSHIP, token, NULL, NULL);
    json_t *rows = s_csv (answer, "station-volunteers-" TOWNSHIP ".csv");
    assert_int_equal (json_array_size (rows), 5);
    assert_string_equal (s_cell (rows, 0, 0), "志愿者编号");
    assert_string_equal (s_cell (rows, 0, 4), "身份证号(脱敏)");
    for (size_t r = 1; r < 5; r++) {
        assert_non_null (strstr (s_cell (rows, r, 4), "**********"));
        assert_non_null (strstr (s_cell (rows, r, 5), "****"));
        assert_string_equal (s_cell (rows, r, 8), "急救");
        assert_string_equal (s_cell (rows, r, 10), "是");
    }
    assert_string_equal (s_cell (rows, 1, 0), s_volunteer[0]);
    assert_string_equal (s_cell (rows, 1, 1), "李明华");
    assert_string_equal (s_cell (rows, 2, 12), "suspended");
    json_decref (rows);
    fx_http_free (&answer);

    //  The county has five: more than the cap, refused naming the region.
    char county[64];
    fx_http_signin ("county-admin", PASSWORD, county);
    answer = fx_http ("GET", "/v1/exports/volunteers?region=" COUNTY, county, NULL, NULL);
    s_expect_error (answer, 422, "failed_precondition", "region");
    fx_http_free (&answer);
    //  With a filter they fit.
    answer = fx_http ("GET", "/v1/exports/volunteers?region=" COUNTY "&status=active", county, NULL,
                      NULL);
    rows = s_csv (answer, "station-volunteers-" COUNTY ".csv");
    assert_int_equal (json_array_size (rows), 4);
    json_decref (rows);
    fx_http_free (&answer);

    s_refused ("other-admin", "/v1/exports/volunteers?region=" TOWNSHIP, 403, "permission_denied",
               "region");
    s_refused ("county-admin", "/v1/exports/volunteers?region=" COUNTY "&status=gone", 400,
               "invalid_argument", "status");
    answer = fx_http ("GET", "/v1/exports/volunteers?region=" TOWNSHIP, NULL, NULL, NULL);
    s_expect_error (answer, 401, "unauthenticated", "Authorization");
    fx_http_free (&answer);
}

//  ---------------------------------------------------------------------------------------
//  match: record.list by region

static void
test_record_list_by_region (void **state)
{
    (void) state;
    msg_actor_t county = fx_admin ("region_admin", COUNTY);
    //  A page of one, then the next from its cursor, in id order.
    json_t *page =
        fx_call_ok ("match", &county, "record.list", "{\"region\": \"" COUNTY "\", \"limit\": 1}");
    json_t *items = json_object_get (page, "items");
    assert_int_equal (json_array_size (items), 1);
    assert_string_equal (fx_str (json_array_get (items, 0), "id"), s_record);
    assert_string_equal (fx_str (json_array_get (items, 0), "status"), "confirmed");
    char body[256];
    snprintf (body, sizeof body, "{\"region\": \"" COUNTY "\", \"limit\": 1, \"cursor\": \"%s\"}",
              fx_str (page, "next_cursor"));
    json_decref (page);
    page = fx_call_ok ("match", &county, "record.list", body);
    items = json_object_get (page, "items");
    assert_int_equal (json_array_size (items), 1);
    assert_string_equal (fx_str (json_array_get (items, 0), "id"), s_record_open);
    assert_string_equal (fx_str (page, "next_cursor"), "");
    json_decref (page);
    //  Another township has none; a period that ended before them neither.
    page = fx_call_ok ("match", &county, "record.list", "{\"region\": \"" OTHER_TOWN "\"}");
    assert_int_equal (json_array_size (json_object_get (page, "items")), 0);
    json_decref (page);
    char before[40];
    fx_time (before, -3600);
    snprintf (body, sizeof body, "{\"region\": \"" VILLAGE "\", \"to\": \"%s\"}", before);
    page = fx_call_ok ("match", &county, "record.list", body);
    assert_int_equal (json_array_size (json_object_get (page, "items")), 0);
    json_decref (page);
    snprintf (body, sizeof body, "{\"region\": \"" VILLAGE "\", \"from\": \"%s\"}", before);
    page = fx_call_ok ("match", &county, "record.list", body);
    assert_int_equal (json_array_size (json_object_get (page, "items")), 2);
    json_decref (page);
    //  By activity, as before.
    snprintf (body, sizeof body, "{\"activity_id\": \"%s\"}", s_activity);
    page = fx_call_ok ("match", &county, "record.list", body);
    assert_int_equal (json_array_size (json_object_get (page, "items")), 2);
    json_decref (page);

    st_error_t err;
    msg_actor_t other = fx_admin ("region_admin", OTHER_TOWN);
    fx_expect (
        "another township's",
        fx_call ("match", &other, "record.list", "{\"region\": \"" TOWNSHIP "\"}", NULL, &err),
        &err, ST_PERMISSION_DENIED, "region");
    msg_actor_t volunteer = fx_volunteer (s_volunteer[0]);
    fx_expect (
        "a volunteer's",
        fx_call ("match", &volunteer, "record.list", "{\"region\": \"" VILLAGE "\"}", NULL, &err),
        &err, ST_PERMISSION_DENIED, "actor.role");
    snprintf (body, sizeof body, "{\"region\": \"" VILLAGE "\", \"activity_id\": \"%s\"}",
              s_activity);
    fx_expect ("a region and an activity",
               fx_call ("match", &county, "record.list", body, NULL, &err), &err,
               ST_INVALID_ARGUMENT, "region");
    fx_expect ("a cursor not given",
               fx_call ("match", &county, "record.list",
                        "{\"region\": \"" VILLAGE "\", \"cursor\": \"x1\"}", NULL, &err),
               &err, ST_INVALID_ARGUMENT, "cursor");
    fx_expect ("a bad from",
               fx_call ("match", &county, "record.list",
                        "{\"region\": \"" VILLAGE "\", \"from\": \"monday\"}", NULL, &err),
               &err, ST_INVALID_ARGUMENT, "from");
}

//  ---------------------------------------------------------------------------------------
//  GET /v1/exports/service-records

static void
test_export_service_records (void **state)
{
    (void) state;
    char token[64], path[256], filename[128];
    fx_http_signin ("town-admin", PASSWORD, token);
    snprintf (path, sizeof path, "/v1/exports/service-records?region=" TOWNSHIP "&from=%s&to=%s",
              s_yesterday, s_tomorrow);
    snprintf (filename, sizeof filename, "station-service-records-" TOWNSHIP "-%s-%s.csv",
              s_yesterday, s_tomorrow);
    fx_http_t *answer = fx_http ("GET", path, token, NULL, NULL);
    json_t *rows = s_csv (answer, filename);
    assert_int_equal (json_array_size (rows), 3);
    assert_string_equal (s_cell (rows, 0, 0), "记录编号");
    assert_string_equal (s_cell (rows, 0, 8), "认定时长(小时)");
    assert_string_equal (s_cell (rows, 1, 0), s_record);
    assert_string_equal (s_cell (rows, 1, 1), s_volunteer[0]);
    assert_string_equal (s_cell (rows, 1, 2), s_activity);
    assert_string_equal (s_cell (rows, 1, 4), VILLAGE);
    assert_string_equal (s_cell (rows, 1, 8), "1.5");
    assert_string_equal (s_cell (rows, 1, 9), "confirmed");
    assert_string_equal (s_cell (rows, 2, 0), s_record_open);
    assert_string_equal (s_cell (rows, 2, 6), ""); //  not checked out
    assert_string_equal (s_cell (rows, 2, 9), "open");
    json_decref (rows);
    fx_http_free (&answer);
    //  A period after them: the header alone.
    snprintf (path, sizeof path, "/v1/exports/service-records?region=" TOWNSHIP "&from=%s",
              s_tomorrow);
    answer = fx_http ("GET", path, token, NULL, NULL);
    snprintf (filename, sizeof filename, "station-service-records-" TOWNSHIP "-%s-.csv",
              s_tomorrow);
    rows = s_csv (answer, filename);
    assert_int_equal (json_array_size (rows), 1);
    json_decref (rows);
    fx_http_free (&answer);

    //  Text a person wrote that a spreadsheet would run as a formula goes out as text: the
    //  reason an official gave for completing a forgotten check-out.
    char at[40], body[256];
    fx_time (at, 0);
    snprintf (body, sizeof body,
              "{\"id\": \"%s\", \"checkout_at\": \"%s\","
              " \"reason\": \"=HYPERLINK(\\\"http://x.example\\\",\\\"忘记签退\\\")\"}",
              s_record_open, at);
    msg_actor_t county = fx_admin ("region_admin", COUNTY);
    json_decref (fx_call_ok ("match", &county, "record.complete", body));
    answer = fx_http ("GET", "/v1/exports/service-records?region=" VILLAGE, token, NULL, NULL);
    rows = s_csv (answer, "station-service-records-" VILLAGE ".csv");
    assert_int_equal (json_array_size (rows), 3);
    assert_string_equal (s_cell (rows, 2, 9), "closed");
    assert_string_equal (s_cell (rows, 2, 12), "'=HYPERLINK(\"http://x.example\",\"忘记签退\")");
    json_decref (rows);
    fx_http_free (&answer);

    s_refused ("other-admin", "/v1/exports/service-records?region=" TOWNSHIP, 403,
               "permission_denied", "region");
    s_refused ("town-admin", "/v1/exports/service-records?region=" TOWNSHIP "&from=2026-02-30", 400,
               "invalid_argument", "from");
    s_refused ("town-admin",
               "/v1/exports/service-records?region=" TOWNSHIP "&from=2026-02-02&to=2026-02-01", 400,
               "invalid_argument", "to");
}

//  ---------------------------------------------------------------------------------------
//  GET /v1/activities/{id}/signups (match's activity.roster) and its CSV export

//  The roster page's item `i` as the gateway answers it.
static json_t *
s_roster_item (fx_http_t *answer, size_t i)
{
    return json_array_get (json_object_get (answer->json, "items"), i);
}

static void
test_activity_roster (void **state)
{
    (void) state;
    char token[64], path[256], filename[128];
    fx_http_signin ("town-admin", PASSWORD, token);
    snprintf (path, sizeof path, "/v1/activities/%s/signups", s_activity);
    fx_http_t *answer = fx_http ("GET", path, token, NULL, NULL);
    s_check (answer, 200);
    assert_int_equal (json_array_size (json_object_get (answer->json, "items")), 2);
    assert_null (json_string_value (json_object_get (answer->json, "next_cursor")));
    //  The first served and was confirmed 1.5 h; the third checked in, and an official
    //  completed the check-out (test_export_service_records).
    json_t *first = s_roster_item (answer, 0), *third = s_roster_item (answer, 1);
    assert_string_equal (fx_str (first, "volunteer_id"), s_volunteer[0]);
    assert_string_equal (fx_str (first, "name"), "李**");
    assert_string_equal (fx_str (first, "status"), "confirmed");
    assert_string_equal (fx_str (first, "record_id"), s_record);
    assert_string_equal (fx_str (first, "record_status"), "confirmed");
    assert_true (*fx_str (first, "checkin_at") && *fx_str (first, "checkout_at"));
    assert_true (json_number_value (json_object_get (first, "hours")) == 1.5);
    assert_string_equal (fx_str (third, "volunteer_id"), s_volunteer[2]);
    assert_string_equal (fx_str (third, "name"), "张*");
    assert_string_equal (fx_str (third, "record_status"), "closed");
    fx_http_free (&answer);

    //  One signed up who has not come: no record; a name a spreadsheet would run.
    char late[32];
    fx_volunteer_add ("=王五", VILLAGE, "[]", "[]", 25.4, 112.95, "", late);
    msg_actor_t self = fx_volunteer (late);
    fx_activity_signup (&self, s_activity);
    snprintf (path, sizeof path, "/v1/activities/%s/signups?limit=2", s_activity);
    answer = fx_http ("GET", path, token, NULL, NULL);
    s_check (answer, 200);
    assert_int_equal (json_array_size (json_object_get (answer->json, "items")), 2);
    char cursor[32];
    snprintf (cursor, sizeof cursor, "%s", fx_http_str (answer, "next_cursor"));
    assert_true (*cursor);
    fx_http_free (&answer);
    snprintf (path, sizeof path, "/v1/activities/%s/signups?limit=2&cursor=%s", s_activity, cursor);
    answer = fx_http ("GET", path, token, NULL, NULL);
    s_check (answer, 200);
    assert_int_equal (json_array_size (json_object_get (answer->json, "items")), 1);
    json_t *waiting = s_roster_item (answer, 0);
    assert_string_equal (fx_str (waiting, "volunteer_id"), late);
    assert_string_equal (fx_str (waiting, "status"), "confirmed");
    assert_null (json_string_value (json_object_get (waiting, "record_status")));
    assert_null (json_string_value (json_object_get (waiting, "checkin_at")));
    fx_http_free (&answer);

    //  The CSV: a row each, paged through (the cap of 4 pages by 2), masked, guarded.
    snprintf (path, sizeof path, "/v1/exports/activities/%s", s_activity);
    snprintf (filename, sizeof filename, "station-activity-%s-roster.csv", s_activity);
    answer = fx_http ("GET", path, token, NULL, NULL);
    json_t *rows = s_csv (answer, filename);
    assert_int_equal (json_array_size (rows), 4);
    assert_string_equal (s_cell (rows, 0, 0), "志愿者编号");
    assert_string_equal (s_cell (rows, 0, 1), "姓名(脱敏)");
    assert_string_equal (s_cell (rows, 0, 8), "认定时长(小时)");
    assert_string_equal (s_cell (rows, 1, 0), s_volunteer[0]);
    assert_string_equal (s_cell (rows, 1, 1), "李**");
    assert_string_equal (s_cell (rows, 1, 2), "confirmed");
    assert_true (*s_cell (rows, 1, 5) && *s_cell (rows, 1, 6));
    assert_string_equal (s_cell (rows, 1, 8), "1.5");
    assert_string_equal (s_cell (rows, 1, 9), "confirmed");
    assert_string_equal (s_cell (rows, 1, 10), "否");
    assert_string_equal (s_cell (rows, 2, 9), "closed");
    assert_string_equal (s_cell (rows, 3, 0), late);
    assert_string_equal (s_cell (rows, 3, 1), "'=**"); //  as text, not a formula
    assert_string_equal (s_cell (rows, 3, 5), "");     //  not come
    assert_string_equal (s_cell (rows, 3, 9), "");
    json_decref (rows);
    fx_http_free (&answer);
    //  Nobody's full name anywhere in the file.
    answer = fx_http ("GET", path, token, NULL, NULL);
    assert_null (strstr (answer->text, "李明华"));
    assert_null (strstr (answer->text, "张伟"));
    fx_http_free (&answer);

    //  Out of scope reads as not known, as does an id that is no number (the export refuses
    //  one naming it before asking).
    s_refused ("other-admin", path, 404, "not_found", "activity_id");
    snprintf (path, sizeof path, "/v1/activities/%s/signups", s_activity);
    s_refused ("other-admin", path, 404, "not_found", "activity_id");
    s_refused ("town-admin", "/v1/exports/activities/12x", 400, "invalid_argument", "activity_id");
    s_refused ("town-admin", "/v1/activities/12x/signups", 404, "not_found", "activity_id");

    //  Past the cap (4 rows), refused naming the activity, no file.
    for (int i = 0; i < 2; i++) {
        char more[32];
        fx_volunteer_add (i ? "孙七" : "周八", VILLAGE, "[]", "[]", 25.4, 112.95, "", more);
        self = fx_volunteer (more);
        fx_activity_signup (&self, s_activity);
    }
    snprintf (path, sizeof path, "/v1/exports/activities/%s", s_activity);
    s_refused ("town-admin", path, 422, "failed_precondition", "activity_id");
}

//  ---------------------------------------------------------------------------------------
//  /metrics: event lag per consumer, notify's backlog, and who answers

//  The value of the sample `name` (with its labels) in a Prometheus text, or -1 when absent.
static double
s_sample (const char *text, const char *name)
{
    char line[256];
    snprintf (line, sizeof line, "\n%s ", name);
    const char *at = strstr (text, line);
    return at ? strtod (at + strlen (line), NULL) : -1;
}

//  Passes the text to promtool, failing the test with what it said unless it accepts it.
static void
s_promtool (const char *text)
{
    char path[512], command[600], said[4096] = "";
    snprintf (path, sizeof path, "%s/metrics-reports.txt", harness_dir (fx_harness ()));
    FILE *file = fopen (path, "w");
    assert_non_null (file);
    fputs (text, file);
    fclose (file);
    snprintf (command, sizeof command, "promtool check metrics < %s 2>&1", path);
    FILE *run = popen (command, "r");
    assert_non_null (run);
    size_t got = fread (said, 1, sizeof said - 1, run);
    said[got] = '\0';
    int status = pclose (run);
    if (status != 0)
        fail_msg ("%s (status %d): %s", command, status, said);
}

static void
test_events_lag_and_notify_backlog (void **state)
{
    (void) state;
    //  events.lag: match's cursor in registry's log reaches registry's last number.
    json_t *registry = fx_call_ok ("registry", NULL, "events.lag", "{}");
    long long last = fx_int (registry, "last_seq");
    assert_true (last >= 5);
    assert_int_equal (fx_int (registry, "parked"), 0);
    json_decref (registry);
    fx_wait_for (1,
                 "SELECT (seq >= %lld)::int FROM match.consumer_cursors"
                 " WHERE publisher = 'registry'",
                 last);
    json_t *match = fx_call_ok ("match", NULL, "events.lag", "{}");
    json_t *cursors = json_object_get (match, "cursors");
    bool found = false;
    for (size_t i = 0; i < json_array_size (cursors); i++)
        if (strcmp (fx_str (json_array_get (cursors, i), "publisher"), "registry") == 0) {
            found = true;
            assert_true (fx_int (json_array_get (cursors, i), "seq") >= last);
        }
    assert_true (found);
    json_decref (match);

    //  notify.backlog: a reminder scheduled for tomorrow is pending, not due.
    json_t *before = fx_call_ok ("notify", NULL, "notify.backlog", "{}");
    fx_sql ("INSERT INTO notify.reminders (recipient_kind, recipient_id, subject_kind,"
            " subject_id, kind, offset_s, due_at, status) VALUES ('volunteer', '%s', 'activity',"
            " '%s', 'before', 7200, now () + interval '1 day', 'pending')",
            s_volunteer[3], s_activity);
    json_t *after = fx_call_ok ("notify", NULL, "notify.backlog", "{}");
    assert_int_equal (fx_int (after, "reminders_pending"),
                      fx_int (before, "reminders_pending") + 1);
    assert_int_equal (fx_int (after, "reminders_due"), fx_int (before, "reminders_due"));
    assert_true (fx_int (after, "deliveries_dead") >= 0);
    assert_true (fx_int (after, "deliveries_failed") >= 0);
    json_decref (before);
    json_decref (after);
    //  Counts only, but not for a volunteer to read.
    st_error_t err;
    msg_actor_t volunteer = fx_volunteer (s_volunteer[0]);
    fx_expect ("a volunteer's", fx_call ("notify", &volunteer, "notify.backlog", "{}", NULL, &err),
               &err, ST_PERMISSION_DENIED, "actor.role");
}

static void
test_metrics_tell_lag_backlog_and_who_answers (void **state)
{
    (void) state;
    fx_http_t *answer = fx_http ("GET", "/metrics", NULL, NULL, NULL);
    s_check (answer, 200);
    const char *text = answer->text;
    const char *services[] = {"registry", "match", "ledger", "notify"};
    char name[128];
    for (size_t i = 0; i < 4; i++) {
        snprintf (name, sizeof name, "station_up{service=\"%s\"}", services[i]);
        if (s_sample (text, name) != 1)
            fail_msg ("%s is not 1 in:\n%s", name, text);
        snprintf (name, sizeof name, "station_events_parked{service=\"%s\"}", services[i]);
        assert_true (s_sample (text, name) == 0);
    }
    assert_true (s_sample (text, "station_event_log_seq{service=\"registry\"}") >= 5);
    assert_true (
        s_sample (text, "station_event_consumer_lag{consumer=\"match\",publisher=\"registry\"}")
        >= 0);
    assert_true (
        s_sample (text, "station_event_consumer_lag{consumer=\"notify\",publisher=\"match\"}")
        >= 0);
    assert_true (s_sample (text, "station_notify_reminders_pending") >= 1);
    assert_true (s_sample (text, "station_notify_deliveries_dead") >= 0);
    s_promtool (text);
    fx_http_free (&answer);

    //  notify stopped (not answering, not gone): /metrics still answers, soon, saying so.
    pid_t notify = fx_pid ("notify");
    assert_int_equal (kill (notify, SIGSTOP), 0);
    struct timespec began, ended;
    clock_gettime (CLOCK_MONOTONIC, &began);
    answer = fx_http ("GET", "/metrics", NULL, NULL, NULL);
    clock_gettime (CLOCK_MONOTONIC, &ended);
    kill (notify, SIGCONT);
    s_check (answer, 200);
    text = answer->text;
    if (s_sample (text, "station_up{service=\"notify\"}") != 0)
        fail_msg ("notify is not down in:\n%s", text);
    assert_true (s_sample (text, "station_up{service=\"registry\"}") == 1);
    assert_true (s_sample (text, "station_notify_reminders_pending") == -1);
    assert_true (
        s_sample (text, "station_event_consumer_lag{consumer=\"notify\",publisher=\"match\"}")
        == -1);
    double seconds = (double) (ended.tv_sec - began.tv_sec) + (ended.tv_nsec - began.tv_nsec) / 1e9;
    if (seconds > 5)
        fail_msg ("/metrics took %.1f s with notify stopped", seconds);
    s_promtool (text);
    fx_http_free (&answer);
    //  Back: it answers again.
    for (int tries = 0; tries < 50; tries++) {
        answer = fx_http ("GET", "/metrics", NULL, NULL, NULL);
        double up = s_sample (answer->text, "station_up{service=\"notify\"}");
        fx_http_free (&answer);
        if (up == 1)
            return;
        fx_sleep_ms (100);
    }
    fail_msg ("notify does not show as up again after SIGCONT");
}

//  ---------------------------------------------------------------------------------------
//  The OpenAPI document says what these answer (gateway_test runs the validator on it)

static void
test_openapi_tells_reports (void **state)
{
    (void) state;
    fx_http_t *answer = fx_http ("GET", "/v1/openapi.json", NULL, NULL, NULL);
    s_check (answer, 200);
    json_t *paths = json_object_get (answer->json, "paths");
    const char *files[] = {"/v1/reports/quarterly", "/v1/exports/volunteers",
                           "/v1/exports/service-records", "/v1/exports/activities/{activity_id}"};
    for (size_t i = 0; i < 4; i++) {
        json_t *ok = json_object_get (
            json_object_get (json_object_get (json_object_get (paths, files[i]), "get"),
                             "responses"),
            "200");
        if (!json_object_get (json_object_get (ok, "content"), "text/csv; charset=utf-8"))
            fail_msg ("%s answers no text/csv in the document", files[i]);
    }
    json_t *summary = json_object_get (
        json_object_get (
            json_object_get (
                json_object_get (
                    json_object_get (
                        json_object_get (json_object_get (paths, "/v1/reports/summary"), "get"),
                        "responses"),
                    "200"),
                "content"),
            "application/json"),
        "schema");
    assert_non_null (
        json_object_get (json_object_get (summary, "properties"), "volunteers_registered"));
    fx_http_free (&answer);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_volunteer_stats),
        cmocka_unit_test (test_summary),
        cmocka_unit_test (test_quarterly),
        cmocka_unit_test (test_export_volunteers),
        cmocka_unit_test (test_record_list_by_region),
        cmocka_unit_test (test_export_service_records),
        cmocka_unit_test (test_activity_roster),
        cmocka_unit_test (test_events_lag_and_notify_backlog),
        cmocka_unit_test (test_metrics_tell_lag_backlog_and_who_answers),
        cmocka_unit_test (test_openapi_tells_reports),
    };
    return cmocka_run_group_tests (tests, s_setup, fx_teardown);
}
