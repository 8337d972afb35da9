/*  records_test.c — service records against live registry and match: check-in by confirmed
    volunteers only and only around the schedule, check-out counting the minutes inside it,
    a forgotten check-out completed by an official with its reason, hours confirmed by an
    official in scope and published as service.completed.  */
#include "fixture.h"
#include "st_log.h"
#include "st_time.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

static fx_t *F; //  registry and match
static msg_actor_t TOWN_A = {.account = "town-a", .role = "region_admin", .region = "431022100000"};
static msg_actor_t TOWN_B = {.account = "town-b", .role = "region_admin", .region = "431022101000"};

//  An RFC 3339 time `seconds` from now.
static void
s_time (char out[40], int64_t seconds)
{
    st_time_format_utc ((st_now_ms () / 1000 + seconds) * 1000000, out);
}

//  Registers volunteer `n` of the tests through registry and waits until match's replica has
//  them; their id.
static char *
s_volunteer (int n)
{
    char name[32], id[32];
    snprintf (name, sizeof name, "签到者%d", n);
    fx_volunteer_add (name, "431022100201", "[]", "[]", 25.40, 112.95, "", id);
    return strdup (id);
}

//  How many records of `activity` record.list shows a township's admin in scope.
static size_t
s_records (const char *activity)
{
    char body[64];
    snprintf (body, sizeof body, "{\"activity_id\": \"%s\"}", activity);
    json_t *reply = fx_call_ok ("match", &TOWN_A, "record.list", body);
    size_t count = json_array_size (json_object_get (reply, "items"));
    json_decref (reply);
    return count;
}

//  An activity starting in `start_s` seconds and lasting an hour; its id.
static char *
s_activity (int64_t start_s)
{
    char starts[40], ends[40], closes[40], body[512];
    s_time (starts, start_s);
    s_time (ends, start_s + 3600);
    s_time (closes, start_s - 60);
    snprintf (body, sizeof body,
              "{\"title\": \"敬老院陪护\", \"category\": \"elderly\", \"region\": \"431022100201\","
              " \"starts_at\": \"%s\", \"ends_at\": \"%s\", \"signup_closes_at\": \"%s\","
              " \"capacity\": 10, \"skills\": []}",
              starts, ends, closes);
    json_t *reply;
    st_error_t err;
    assert_int_equal (fx_call ("match", &FX_SYSTEM, "activity.create", body, &reply, &err), ST_OK);
    char *id = strdup (fx_str (reply, "id"));
    json_decref (reply);
    return id;
}

static int
s_setup (void **state)
{
    F = fx_new ("records", FX_REGISTRY | FX_MATCH);
    return 0;
}

static int
s_teardown (void **state)
{
    fx_destroy (&F);
    return 0;
}

//  The whole path: sign up, check in, check out, an official confirms, ledger hears of it.
static void
test_checkin_to_confirmed_hours (void **state)
{
    char *volunteer = s_volunteer (1);
    char *activity = s_activity (1800); //  check-in opens an hour before the start
    msg_actor_t self = {.account = "v1", .role = "volunteer", .volunteer_id = volunteer};
    char body[256], check[FX_BODY_SIZE];
    json_t *reply;
    st_error_t err;
    snprintf (body, sizeof body, "{\"activity_id\": \"%s\"}", activity);
    fx_checkin_body (check, activity, "");
    //  Not signed up yet: refused.
    assert_int_equal (fx_call ("match", &self, "record.checkin", check, NULL, &err),
                      ST_FAILED_PRECONDITION);
    assert_string_equal (err.field, "activity_id");
    assert_int_equal (fx_call ("match", &self, "activity.signup", body, NULL, &err), ST_OK);
    assert_int_equal (fx_call ("match", &self, "record.checkin", check, &reply, &err), ST_OK);
    assert_string_equal (fx_str (reply, "status"), "open");
    char record[24];
    snprintf (record, sizeof record, "%s", fx_str (reply, "id"));
    json_decref (reply);
    assert_int_equal (fx_call ("match", &self, "record.checkin", check, NULL, &err), ST_CONFLICT);
    //  Checking out before the start counts nothing.
    assert_int_equal (fx_call ("match", &self, "record.checkout", body, &reply, &err), ST_OK);
    assert_string_equal (fx_str (reply, "status"), "closed");
    assert_int_equal (json_integer_value (json_object_get (reply, "minutes")), 0);
    json_decref (reply);
    assert_int_equal (fx_call ("match", &self, "record.checkout", body, NULL, &err),
                      ST_FAILED_PRECONDITION);

    //  Only an official in scope confirms; a volunteer may not confirm their own hours.
    snprintf (body, sizeof body, "{\"id\": \"%s\", \"hours\": 1.0}", record);
    assert_int_equal (fx_call ("match", &self, "record.confirm", body, NULL, &err),
                      ST_PERMISSION_DENIED);
    assert_int_equal (fx_call ("match", &TOWN_B, "record.confirm", body, NULL, &err), ST_NOT_FOUND);
    assert_int_equal (fx_events ("service.completed", record), 0);
    //  Hours past the schedule and its half-hour margin are cut to it.
    snprintf (body, sizeof body, "{\"id\": \"%s\", \"hours\": 5.0}", record);
    assert_int_equal (fx_call ("match", &TOWN_A, "record.confirm", body, &reply, &err), ST_OK);
    assert_string_equal (fx_str (reply, "status"), "confirmed");
    assert_true (json_real_value (json_object_get (reply, "hours")) == 1.5);
    json_decref (reply);
    assert_int_equal (fx_call ("match", &TOWN_A, "record.confirm", body, NULL, &err),
                      ST_FAILED_PRECONDITION);
    //  Ledger posts whole minutes: the confirmed hours rounded to the minute.
    json_t *event;
    assert_int_equal (fx_events_json ("service.completed", record, &event), 1);
    assert_int_equal (fx_int (event, "minutes"), 90);
    json_decref (event);
    free (volunteer);
    free (activity);
}

//  A forgotten check-out is completed by an official with the time and the reason, and the
//  minutes count inside the schedule plus the margin only.
static void
test_forgotten_checkout (void **state)
{
    char *volunteer = s_volunteer (2);
    char *activity = s_activity (600);
    msg_actor_t self = {.account = "v2", .role = "volunteer", .volunteer_id = volunteer};
    char body[FX_BODY_SIZE], at[40], extra[64];
    json_t *reply;
    st_error_t err;
    snprintf (body, sizeof body, "{\"activity_id\": \"%s\"}", activity);
    assert_int_equal (fx_call ("match", &self, "activity.signup", body, NULL, &err), ST_OK);
    //  A made-up time is refused: a volunteer checks in as it happens.
    s_time (at, -7200);
    snprintf (extra, sizeof extra, "\"at\": \"%s\"", at);
    fx_checkin_body (body, activity, extra);
    assert_int_equal (fx_call ("match", &self, "record.checkin", body, NULL, &err),
                      ST_FAILED_PRECONDITION);
    assert_string_equal (err.field, "at");
    fx_checkin_body (body, activity, "");
    assert_int_equal (fx_call ("match", &self, "record.checkin", body, &reply, &err), ST_OK);
    char record[24];
    snprintf (record, sizeof record, "%s", fx_str (reply, "id"));
    json_decref (reply);
    //  Three hours after the start: counted up to the end plus 30 minutes, from the start.
    s_time (at, 600 + 3 * 3600);
    snprintf (body, sizeof body,
              "{\"id\": \"%s\", \"checkout_at\": \"%s\", \"reason\": \"忘记签退\"}", record, at);
    assert_int_equal (fx_call ("match", &TOWN_B, "record.complete", body, NULL, &err),
                      ST_NOT_FOUND);
    assert_int_equal (fx_call ("match", &TOWN_A, "record.complete", body, &reply, &err), ST_OK);
    assert_int_equal (json_integer_value (json_object_get (reply, "minutes")), 90);
    assert_string_equal (fx_str (reply, "completed_by"), "town-a");
    assert_string_equal (fx_str (reply, "completion_reason"), "忘记签退");
    json_decref (reply);
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", record);
    assert_int_equal (fx_call ("match", &TOWN_A, "record.confirm", body, &reply, &err), ST_OK);
    assert_true (json_real_value (json_object_get (reply, "hours")) == 1.5);
    json_decref (reply);
    //  The volunteer sees their records of the activity; another region's official does not.
    snprintf (body, sizeof body, "{\"activity_id\": \"%s\"}", activity);
    assert_int_equal (fx_call ("match", &self, "record.list", body, &reply, &err), ST_OK);
    assert_int_equal (json_array_size (json_object_get (reply, "items")), 1);
    json_decref (reply);
    assert_int_equal (fx_call ("match", &TOWN_B, "record.list", body, NULL, &err), ST_NOT_FOUND);
    free (volunteer);
    free (activity);
}

//  Where the region sets a check-in radius and the activity has a place, a check-in must say
//  where the volunteer is and be within the radius; the position is not stored.
static void
test_checkin_radius (void **state)
{
    char *volunteer = s_volunteer (3);
    char *activity = s_activity (1200);
    msg_actor_t self = {.account = "v3", .role = "volunteer", .volunteer_id = volunteer};
    char body[FX_BODY_SIZE];
    json_t *reply;
    st_error_t err;
    snprintf (body, sizeof body, "{\"activity_id\": \"%s\"}", activity);
    assert_int_equal (fx_call ("match", &self, "activity.signup", body, NULL, &err), ST_OK);
    //  The township sets 200 m; the activity is at the village hall.
    assert_int_equal (fx_call ("match", &TOWN_A, "settings.set",
                               "{\"region\": \"431022100000\", \"checkin_radius_m\": 200}", NULL,
                               &err),
                      ST_OK);
    snprintf (body, sizeof body, "{\"id\": \"%s\", \"lat\": 25.4000, \"lon\": 112.9500}", activity);
    assert_int_equal (fx_call ("match", &TOWN_A, "activity.update", body, NULL, &err), ST_OK);
    fx_checkin_body (body, activity, "");
    assert_int_equal (fx_call ("match", &self, "record.checkin", body, NULL, &err),
                      ST_INVALID_ARGUMENT);
    assert_string_equal (err.field, "lat");
    //  About 1.1 km north: too far, and the message says how far.
    fx_checkin_body (body, activity, "\"lat\": 25.4100, \"lon\": 112.9500");
    assert_int_equal (fx_call ("match", &self, "record.checkin", body, NULL, &err),
                      ST_FAILED_PRECONDITION);
    assert_string_equal (err.field, "lat");
    assert_non_null (strstr (err.message, "1112 m"));
    assert_int_equal (s_records (activity), 0);
    //  Where the place is not known, no position is asked for (of another volunteer: an
    //  activity at the same time is one this one cannot also be confirmed for).
    char *unplaced = s_activity (1500), *other = s_volunteer (4);
    msg_actor_t other_self = {.account = "v4", .role = "volunteer", .volunteer_id = other};
    snprintf (body, sizeof body, "{\"activity_id\": \"%s\"}", unplaced);
    assert_int_equal (fx_call ("match", &other_self, "activity.signup", body, NULL, &err), ST_OK);
    fx_checkin_body (body, unplaced, "");
    assert_int_equal (fx_call ("match", &other_self, "record.checkin", body, NULL, &err), ST_OK);
    free (unplaced);
    free (other);
    snprintf (body, sizeof body, "{\"activity_id\": \"%s\"}", activity);
    //  About 100 m away: in.
    fx_checkin_body (body, activity, "\"lat\": 25.4009, \"lon\": 112.9500");
    assert_int_equal (fx_call ("match", &self, "record.checkin", body, &reply, &err), ST_OK);
    assert_string_equal (fx_str (reply, "status"), "open");
    json_decref (reply);
    assert_int_equal (s_records (activity), 1);
    free (volunteer);
    free (activity);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_checkin_to_confirmed_hours),
        cmocka_unit_test (test_forgotten_checkout),
        cmocka_unit_test (test_checkin_radius),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
