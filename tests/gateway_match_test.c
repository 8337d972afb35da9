/*  gateway_match_test.c — the HTTP routes of the match ops the web pages need (issues 22 and
    23), against registry, match and the gateway as processes over real HTTP: each route's
    happy path, bad input naming its field, no session, the wrong role, out of scope.  */
#include "fixture.h"
#include "st_log.h"
#include "st_time.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#define COUNTY   "431022000000"
#define TOWN     "431022100000"
#define OTHER    "431022101000"
#define VILLAGE  "431022100201"
#define PASSWORD "correct horse battery"

static fx_t *F;

//  Sessions of the county's and a township's admins, of another township's, and of volunteers.
static char s_county[64], s_town[64], s_other[64], s_volunteer[64], s_volunteer2[64];
static char s_volunteer_id[32], s_volunteer2_id[32];

//  An account of `role` in `region` made through registry, signed in; its session into `token`.
static void
s_official (const char *login, const char *role, const char *region, char token[64])
{
    char body[256];
    snprintf (body, sizeof body,
              "{\"login\": \"%s\", \"password\": \"" PASSWORD "\", \"role\": \"%s\","
              " \"region\": \"%s\"}",
              login, role, region);
    json_decref (fx_call_ok ("registry", &FX_SYSTEM, "account.create", body));
    fx_http_signin (login, PASSWORD, token);
}

//  A volunteer of the village registered over HTTP (phone 1371234000n),
//  signed in; their id into `id`, their session into `token`. Waits until match knows them.
static void
s_volunteer_up (int n, char id[32], char token[64])
{
    char number[19], phone[16], body[512];
    fx_nth_id_number (11900 + n, number); //  far from those fx_volunteer_add takes
    snprintf (phone, sizeof phone, "1371234%04d", n);
    snprintf (body, sizeof body,
              "{\"name\": \"志愿者%d\", \"id_number\": \"%s\", \"phone\": \"%s\","
              " \"password\": \"" PASSWORD "\", \"region\": \"" VILLAGE "\", \"skills\": []}",
              n, number, phone);
    fx_http_t *answer = fx_http ("POST", "/v1/volunteers", NULL, body, NULL);
    if (answer->status != 201)
        fail_msg ("registering volunteer %d: %ld %s", n, answer->status, answer->text);
    snprintf (id, 32, "%s", fx_http_str (answer, "id"));
    fx_http_free (&answer);
    fx_wait_for (1, "SELECT count (*) FROM match.supply WHERE volunteer_id = %s", id);
    fx_http_signin (phone, PASSWORD, token);
}

static int
s_setup (void **state)
{
    (void) state;
    F = fx_new ("gateway_match_test", FX_REGISTRY | FX_MATCH | FX_LEDGER | FX_GATEWAY);
    fx_county_add ();
    s_official ("county-admin", "region_admin", COUNTY, s_county);
    s_official ("town-admin", "station_admin", TOWN, s_town);
    s_official ("other-admin", "region_admin", OTHER, s_other);
    s_volunteer_up (1, s_volunteer_id, s_volunteer);
    s_volunteer_up (2, s_volunteer2_id, s_volunteer2);
    return 0;
}

static int
s_teardown (void **state)
{
    (void) state;
    fx_destroy (&F);
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

//  Fails unless the answer has `status`, showing what it said.
static void
s_check (const fx_http_t *answer, long status)
{
    if (answer->status != status)
        fail_msg ("expected %ld, got %ld %s", status, answer->status, answer->text);
}

//  An RFC 3339 time `seconds` from now.
static void
s_time (char out[40], int64_t seconds)
{
    st_time_format_utc ((st_now_ms () / 1000 + seconds) * 1000000, out);
}

//  An activity of the village starting in `start_s` seconds, lasting an hour, created by the
//  township's admin over HTTP; its id into `id`.
static void
s_activity (int64_t start_s, char id[32])
{
    char starts[40], ends[40], closes[40], body[512];
    s_time (starts, start_s);
    s_time (ends, start_s + 3600);
    s_time (closes, start_s - 60);
    snprintf (body, sizeof body,
              "{\"title\": \"社区义诊\", \"category\": \"elderly\", \"region\": \"" VILLAGE "\","
              " \"starts_at\": \"%s\", \"ends_at\": \"%s\", \"signup_closes_at\": \"%s\","
              " \"capacity\": 10, \"skills\": []}",
              starts, ends, closes);
    fx_http_t *answer = fx_http ("POST", "/v1/activities", s_town, body, NULL);
    s_check (answer, 201);
    snprintf (id, 32, "%s", fx_http_str (answer, "id"));
    fx_http_free (&answer);
}

//  ---------------------------------------------------------------------------------------

//  GET /v1/activities/{id}/checkin-code: the organiser reads the code; a volunteer then
//  checks in with it through POST /v1/checkins, and not without it.
static void
test_checkin_code (void **state)
{
    (void) state;
    char activity[32], path[128], body[256];
    s_activity (1800, activity);
    snprintf (path, sizeof path, "/v1/activities/%s/checkin-code", activity);
    fx_http_t *answer = fx_http ("GET", path, s_town, NULL, NULL);
    s_check (answer, 200);
    char code[16];
    snprintf (code, sizeof code, "%s", fx_http_str (answer, "code"));
    assert_int_equal (strlen (code), 6);
    assert_true (*fx_http_str (answer, "expires_at"));
    fx_http_free (&answer);

    answer = fx_http ("GET", path, NULL, NULL, NULL);
    s_expect_error (answer, 401, "unauthenticated", "Authorization");
    fx_http_free (&answer);
    answer = fx_http ("GET", path, s_volunteer, NULL, NULL);
    s_expect_error (answer, 403, "permission_denied", "actor.role");
    fx_http_free (&answer);
    answer = fx_http ("GET", path, s_other, NULL, NULL);
    s_expect_error (answer, 404, "not_found", "id");
    fx_http_free (&answer);
    answer = fx_http ("GET", "/v1/activities/abc/checkin-code", s_town, NULL, NULL);
    s_expect_error (answer, 404, "not_found", "id");
    fx_http_free (&answer);

    snprintf (path, sizeof path, "/v1/activities/%s/signups", activity);
    answer = fx_http ("POST", path, s_volunteer, "{}", NULL);
    s_check (answer, 201);
    fx_http_free (&answer);
    snprintf (body, sizeof body, "{\"activity_id\": \"%s\"}", activity);
    answer = fx_http ("POST", "/v1/checkins", s_volunteer, body, NULL);
    s_expect_error (answer, 400, "invalid_argument", "code");
    fx_http_free (&answer);
    snprintf (body, sizeof body, "{\"activity_id\": \"%s\", \"code\": \"000000\"}", activity);
    answer = fx_http ("POST", "/v1/checkins", s_volunteer, body, NULL);
    if (strcmp (code, "000000") != 0)
        s_expect_error (answer, 422, "failed_precondition", "code");
    fx_http_free (&answer);
    assert_int_equal (
        fx_count ("SELECT count (*) FROM match.service_records WHERE activity_id = %s", activity),
        0);
    snprintf (body, sizeof body, "{\"activity_id\": \"%s\", \"code\": \"%s\"}", activity, code);
    answer = fx_http ("POST", "/v1/checkins", s_volunteer, body, NULL);
    s_check (answer, 201);
    assert_string_equal (fx_http_str (answer, "status"), "open");
    fx_http_free (&answer);
}

//  POST /v1/requests/{id}/assign: the township's station admin assigns a volunteer by hand,
//  with a reason; no reason, no session, the wrong role, another township: refused, nothing
//  changed.
static void
test_assign (void **state)
{
    (void) state;
    char start[64], end[64], availability[64], volunteer[32], request[32], body[FX_BODY_SIZE];
    char path[128];
    fx_window (2, 9, 12, start, end, availability);
    fx_volunteer_add ("手派", VILLAGE, "[]", availability, 25.40, 112.95, "", volunteer);
    fx_request_body (body, "助老", "陪同就医", VILLAGE, start, end, 1, "[\"g无人会\"]", NULL,
                     ", \"lat\": 25.40, \"lon\": 112.95");
    fx_http_t *answer = fx_http ("POST", "/v1/requests", s_town, body, NULL);
    s_check (answer, 201);
    snprintf (request, sizeof request, "%s", fx_http_str (answer, "id"));
    fx_http_free (&answer);
    snprintf (path, sizeof path, "/v1/requests/%s/assign", request);
    const char *offers = "SELECT count (*) FROM match.offers WHERE request_id = %s";

    snprintf (body, sizeof body, "{\"volunteer_id\": \"%s\"}", volunteer);
    answer = fx_http ("POST", path, s_town, body, NULL);
    s_expect_error (answer, 400, "invalid_argument", "reason");
    fx_http_free (&answer);
    snprintf (body, sizeof body, "{\"volunteer_id\": \"%s\", \"reason\": \"电话确认\"}", volunteer);
    answer = fx_http ("POST", path, NULL, body, NULL);
    s_expect_error (answer, 401, "unauthenticated", "Authorization");
    fx_http_free (&answer);
    answer = fx_http ("POST", path, s_volunteer, body, NULL);
    s_expect_error (answer, 403, "permission_denied", "actor.role");
    fx_http_free (&answer);
    answer = fx_http ("POST", path, s_other, body, NULL);
    s_expect_error (answer, 404, "not_found", "id");
    fx_http_free (&answer);
    assert_int_equal (fx_count (offers, request), 0);

    answer = fx_http ("POST", path, s_town, body, NULL);
    s_check (answer, 200);
    assert_string_equal (fx_http_str (answer, "status"), "staffed");
    assert_string_equal (fx_http_str (answer, "id"), request);
    fx_http_free (&answer);
    assert_int_equal (fx_count (offers, request), 1);
    //  No place is left: 422 naming the request.
    answer = fx_http ("POST", path, s_county, body, NULL);
    s_expect_error (answer, 422, "failed_precondition", "id");
    fx_http_free (&answer);
}

//  GET /v1/dispatch/rounds: a page of recent rounds for admins in scope.
static void
test_rounds (void **state)
{
    (void) state;
    fx_http_t *answer = fx_http ("GET", "/v1/dispatch/rounds?limit=5", s_town, NULL, NULL);
    s_check (answer, 200);
    assert_true (json_is_array (json_object_get (answer->json, "items")));
    fx_http_free (&answer);
    answer = fx_http ("GET", "/v1/dispatch/rounds?region=" TOWN, s_county, NULL, NULL);
    s_check (answer, 200);
    fx_http_free (&answer);
    answer = fx_http ("GET", "/v1/dispatch/rounds?region=" TOWN, NULL, NULL, NULL);
    s_expect_error (answer, 401, "unauthenticated", "Authorization");
    fx_http_free (&answer);
    answer = fx_http ("GET", "/v1/dispatch/rounds?region=" TOWN, s_volunteer, NULL, NULL);
    s_expect_error (answer, 403, "permission_denied", "actor.role");
    fx_http_free (&answer);
    answer = fx_http ("GET", "/v1/dispatch/rounds?region=" TOWN, s_other, NULL, NULL);
    s_expect_error (answer, 403, "permission_denied", "region");
    fx_http_free (&answer);
    answer = fx_http ("GET", "/v1/dispatch/rounds?region=43", s_town, NULL, NULL);
    s_expect_error (answer, 400, "invalid_argument", "region");
    fx_http_free (&answer);
}

//  POST /v1/activities/backfill: the county's region admin enters a past activity and its
//  hours, which the ledger credits; a retried POST with the same Idempotency-Key enters
//  nothing more.
static void
test_backfill (void **state)
{
    (void) state;
    char starts[40], ends[40], body[1024], bad[1024];
    s_time (starts, -2 * 86400);
    s_time (ends, -2 * 86400 + 3600);
    snprintf (body, sizeof body,
              "{\"title\": \"冬季送温暖\", \"category\": \"elderly\", \"region\": \"" VILLAGE "\","
              " \"starts_at\": \"%s\", \"ends_at\": \"%s\", \"reason\": \"纸质签到表补录\","
              " \"records\": [{\"volunteer_id\": \"%s\", \"hours\": 1}]}",
              starts, ends, s_volunteer_id);
    const char *manual = "SELECT count (*) FROM match.activities WHERE manual";
    long before = fx_count ("%s", manual);

    fx_http_t *answer = fx_http ("POST", "/v1/activities/backfill", NULL, body, NULL);
    s_expect_error (answer, 401, "unauthenticated", "Authorization");
    fx_http_free (&answer);
    answer = fx_http ("POST", "/v1/activities/backfill", s_town, body, NULL);
    s_expect_error (answer, 403, "permission_denied", "actor.role");
    fx_http_free (&answer);
    answer = fx_http ("POST", "/v1/activities/backfill", s_other, body, NULL);
    s_expect_error (answer, 403, "permission_denied", "region");
    fx_http_free (&answer);
    snprintf (bad, sizeof bad,
              "{\"title\": \"冬季送温暖\", \"category\": \"elderly\", \"region\": \"" VILLAGE "\","
              " \"starts_at\": \"%s\", \"ends_at\": \"%s\","
              " \"records\": [{\"volunteer_id\": \"%s\", \"hours\": 1}]}",
              starts, ends, s_volunteer_id);
    answer = fx_http ("POST", "/v1/activities/backfill", s_county, bad, NULL);
    s_expect_error (answer, 400, "invalid_argument", "reason");
    fx_http_free (&answer);
    assert_int_equal (fx_count ("%s", manual), before);

    //  The volunteer's minutes before: the ledger credits the hours entered.
    char points[128];
    snprintf (points, sizeof points, "/v1/volunteers/%s/points", s_volunteer_id);
    answer = fx_http ("GET", points, s_volunteer, NULL, NULL);
    s_check (answer, 200);
    json_int_t minutes = json_integer_value (json_object_get (answer->json, "credit_minutes"))
                         + json_integer_value (json_object_get (answer->json, "honour_minutes"));
    fx_http_free (&answer);

    answer = fx_http ("POST", "/v1/activities/backfill", s_county, body,
                      "Idempotency-Key: backfill-1", NULL);
    s_check (answer, 201);
    char record[32];
    snprintf (record, sizeof record, "%s",
              json_string_value (json_object_get (
                  json_array_get (json_object_get (answer->json, "records"), 0), "id")));
    char id[32];
    snprintf (id, sizeof id, "%s", fx_http_str (answer, "activity.id"));
    assert_true (
        json_is_true (json_object_get (json_object_get (answer->json, "activity"), "manual")));
    assert_int_equal (json_array_size (json_object_get (answer->json, "records")), 1);
    fx_http_free (&answer);
    answer = fx_http ("POST", "/v1/activities/backfill", s_county, body,
                      "Idempotency-Key: backfill-1", NULL);
    s_check (answer, 201);
    assert_string_equal (fx_http_str (answer, "activity.id"), id);
    fx_http_free (&answer);
    assert_int_equal (fx_count ("%s", manual), before + 1);
    fx_wait_for (1, "SELECT count (*) FROM ledger.completions WHERE record_id = %s", record);
    answer = fx_http ("GET", points, s_volunteer, NULL, NULL);
    s_check (answer, 200);
    assert_int_equal (json_integer_value (json_object_get (answer->json, "credit_minutes"))
                          + json_integer_value (json_object_get (answer->json, "honour_minutes")),
                      minutes + 60);
    fx_http_free (&answer);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_checkin_code),
        cmocka_unit_test (test_assign),
        cmocka_unit_test (test_rounds),
        cmocka_unit_test (test_backfill),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
