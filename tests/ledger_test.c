/*  ledger_test.c — the ledger (issue 20, step 1) against live registry, match and ledger:
    confirmed records post credit hours and points by the rule in force at their check-out,
    a rating before or after its completion gives the same books, an event delivered twice or
    a ledger killed mid-batch posts one transfer per source, stars at their thresholds,
    officials' adjustments refused naming the field and changing nothing, statements only in
    reach. The audit finds no difference after every test.  */
#include "fixture.h"
#include "st_log.h"
#include "st_time.h"

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static msg_actor_t TOWN_A = {.account = "town-a", .role = "region_admin", .region = "431022100000"};
static msg_actor_t TOWN_B = {.account = "town-b", .role = "region_admin", .region = "431022101000"};
static int s_people;

//  A new volunteer of `region`, known to match and to the ledger; their id into `id`.
static void
s_volunteer (const char *region, const char *availability, char id[32])
{
    char name[32];
    snprintf (name, sizeof name, "账户%d", ++s_people);
    fx_volunteer_add (name, region, "[\"账本\"]", availability ? availability : "[]", 25.40, 112.95,
                      "", id);
    fx_ledger_wait_volunteer (id);
}

//  Volunteer `volunteer` checks in at an activity of `region` starting in `start_s` seconds
//  (at most an hour) and lasting `length_s`; the record's id into `record`, the activity's
//  into `activity`.
static void
s_checked_in_at (const char *volunteer, const char *region, int start_s, int length_s,
                 char record[32], char activity[32])
{
    char starts[40], ends[40], closes[40], body[512];
    fx_time (starts, start_s);
    fx_time (ends, start_s + length_s);
    fx_time (closes, start_s - 100);
    snprintf (body, sizeof body,
              "{\"title\": \"敬老院陪护\", \"category\": \"elderly\", \"region\": \"%s\","
              " \"starts_at\": \"%s\", \"ends_at\": \"%s\", \"signup_closes_at\": \"%s\","
              " \"capacity\": 10, \"skills\": []}",
              region, starts, ends, closes);
    fx_activity_add (body, activity);
    msg_actor_t self = fx_volunteer (volunteer);
    snprintf (body, sizeof body, "{\"activity_id\": \"%s\"}", activity);
    json_decref (fx_call_ok ("match", &self, "activity.signup", body));
    char check[FX_BODY_SIZE];
    fx_checkin_body (check, activity, "");
    json_t *reply = fx_call_ok ("match", &self, "record.checkin", check);
    snprintf (record, 32, "%s", fx_str (reply, "id"));
    json_decref (reply);
}

//  The same for an activity starting in half an hour and lasting an hour.
static void
s_checked_in (const char *volunteer, const char *region, char record[32], char activity[32])
{
    s_checked_in_at (volunteer, region, 1800, 3600, record, activity);
}

//  An official confirms `hours` of record `record`.
static void
s_confirm (const char *record, const char *hours)
{
    char body[128];
    snprintf (body, sizeof body, "{\"id\": \"%s\", \"hours\": %s}", record, hours);
    json_decref (fx_call_ok ("match", &FX_SYSTEM, "record.confirm", body));
}

//  Volunteer `volunteer` serves an activity of `region` starting in `start_s` seconds and
//  lasting `length_s`, checks out, and an official confirms `hours`; the record's id into
//  `record`.
static void
s_served_at (const char *volunteer, const char *region, int start_s, int length_s,
             const char *hours, char record[32])
{
    char activity[32], body[128];
    s_checked_in_at (volunteer, region, start_s, length_s, record, activity);
    msg_actor_t self = fx_volunteer (volunteer);
    snprintf (body, sizeof body, "{\"activity_id\": \"%s\"}", activity);
    json_decref (fx_call_ok ("match", &self, "record.checkout", body));
    s_confirm (record, hours);
}

//  The same for an activity starting in half an hour and lasting an hour.
static void
s_served (const char *volunteer, const char *region, const char *hours, char record[32])
{
    s_served_at (volunteer, region, 1800, 3600, hours, record);
}

//  Waits until the ledger has priced record `record`.
static void
s_wait_record (const char *record)
{
    fx_wait_for (1, "SELECT count (*) FROM ledger.completions WHERE record_id = %s", record);
}

//  The points balance and credit minutes of a volunteer as the system sees them.
static long long
s_points (const char *volunteer)
{
    json_t *s = fx_ledger_statement (&FX_SYSTEM, volunteer);
    long long points = fx_int (s, "balance");
    json_decref (s);
    return points;
}

//  A volunteer's transfers of `unit` as "kind:amount:rule_version" lines, oldest first, with
//  their sources' shape (the record and request ids replaced by R and Q), for comparing the
//  books of two volunteers.
static char *
s_books (const char *volunteer, const char *record, const char *request)
{
    return strdup (fx_value (
        "SELECT string_agg (kind || ':' || amount || ':' || unit || ':' || replace (replace ("
        "source, '/record/%s', '/record/R'), '/request/%s', '/request/Q'), ',' ORDER BY id)"
        " FROM ledger.transfers WHERE volunteer_id = %s",
        record, request, volunteer));
}

//  ledger.audit finds the books balanced: every unit sums to zero, every balance is what its
//  journal says, no volunteer below zero.
static void
s_audit_ok (void)
{
    json_t *audit = fx_ledger_audit (NULL);
    assert_int_equal (json_array_size (json_object_get (audit, "differences")), 0);
    json_t *sums = json_object_get (audit, "sums");
    assert_int_equal (json_array_size (sums), 2);
    for (size_t i = 0; i < 2; i++)
        assert_int_equal (fx_int (json_array_get (sums, i), "sum"), 0);
    json_decref (audit);
    //  Every event applied, none parked.
    assert_int_equal (fx_count ("SELECT count (*) FROM ledger.dead_letters"), 0);
    //  And by hand: one transfer per source.
    assert_int_equal (fx_count ("SELECT count (*) FROM (SELECT source, unit FROM ledger.transfers"
                                " GROUP BY 1, 2 HAVING count (*) > 1) x"),
                      0);
}

static int
s_setup (void **state)
{
    (void) state;
    setenv ("STATION_DISPATCH_ROUND_MS", "200", 1);
    fx_new ("ledger", FX_REGISTRY | FX_MATCH | FX_LEDGER);
    fx_county_add ();
    return 0;
}

//  Confirmed hours post credit hours (minutes) and points by the default rule; the volunteer
//  reads their own statement and journal, an official of their township too; another
//  volunteer, or another township's official, finds no such volunteer.
static void
test_completion_earns (void **state)
{
    (void) state;
    char v1[32], v2[32], record[32];
    s_volunteer ("431022100201", NULL, v1);
    s_volunteer ("431022100201", NULL, v2);
    s_served (v1, "431022100201", "1.0", record);
    s_wait_record (record);
    msg_actor_t self = fx_volunteer (v1), other = fx_volunteer (v2);
    json_t *s = fx_ledger_statement (&self, v1);
    assert_int_equal (fx_int (s, "credit_minutes"), 60);
    assert_int_equal (fx_int (s, "honour_minutes"), 0);
    assert_int_equal (fx_int (s, "balance"), 10); //  10 points an hour by default
    assert_int_equal (fx_int (s, "available"), 10);
    assert_int_equal (fx_int (s, "pending"), 0);
    assert_int_equal (fx_int (s, "stars"), 0);
    assert_true (json_number_value (json_object_get (s, "hours_to_next_star")) == 99.0);
    json_decref (s);
    json_decref (fx_ledger_statement (&TOWN_A, v1));
    char body[128];
    st_error_t err;
    snprintf (body, sizeof body, "{\"volunteer_id\": \"%s\"}", v1);
    fx_expect ("another volunteer's statement",
               fx_call ("ledger", &other, "ledger.statement", body, NULL, &err), &err, ST_NOT_FOUND,
               "volunteer_id");
    fx_expect ("another township's statement",
               fx_call ("ledger", &TOWN_B, "ledger.statement", body, NULL, &err), &err,
               ST_NOT_FOUND, "volunteer_id");
    fx_expect ("no such volunteer",
               fx_call ("ledger", &FX_SYSTEM, "ledger.statement", "{\"volunteer_id\": \"999999\"}",
                        NULL, &err),
               &err, ST_NOT_FOUND, "volunteer_id");
    //  The journal: one transfer of each unit, priced by the national default (version 1).
    snprintf (body, sizeof body, "{\"volunteer_id\": \"%s\", \"unit\": \"points\"}", v1);
    json_t *page = fx_call_ok ("ledger", &self, "ledger.journal", body);
    json_t *entries = json_object_get (page, "entries");
    assert_int_equal (json_array_size (entries), 1);
    json_t *e = json_array_get (entries, 0);
    assert_int_equal (fx_int (e, "amount"), 10);
    assert_int_equal (fx_int (e, "balance_after"), 10);
    assert_string_equal (fx_str (e, "kind"), "earn");
    assert_int_equal (fx_int (e, "rule_version"), 1);
    assert_true (json_is_false (json_object_get (e, "manual")));
    json_decref (page);
    fx_expect ("another volunteer's journal",
               fx_call ("ledger", &other, "ledger.journal", body, NULL, &err), &err, ST_NOT_FOUND,
               "volunteer_id");
    fx_wait_for (1, "SELECT count (*) FROM ledger.outbox WHERE topic = 'points.awarded'");
    assert_int_equal (fx_events ("points.awarded", v1), 1);
    //  The journal refuses to be edited, even by its owner's role.
    PGresult *res = PQexec (harness_pg (fx_harness ()),
                            "SET ROLE ledger; UPDATE ledger.transfers SET amount = 1000");
    assert_int_not_equal (PQresultStatus (res), PGRES_COMMAND_OK);
    PQclear (res);
    PQclear (PQexec (harness_pg (fx_harness ()), "RESET ROLE"));
    assert_int_equal (s_points (v1), 10);
    s_audit_ok ();
}

//  The same events delivered again (the consumer's cursor set back to the start) post
//  nothing new; and a ledger killed while it reads a backlog posts one transfer per source.
static void
test_redelivery_and_kill (void **state)
{
    (void) state;
    fx_ledger_caught_up ();
    long transfers = fx_count ("SELECT count (*) FROM ledger.transfers");
    assert_true (transfers > 0);
    harness_stop (fx_harness (), "ledger", SIGKILL);
    fx_sql ("UPDATE ledger.consumer_cursors SET seq = 0");
    harness_start (fx_harness (), "ledger");
    fx_ledger_caught_up ();
    assert_int_equal (fx_count ("SELECT count (*) FROM ledger.transfers"), transfers);
    s_audit_ok ();

    //  Three times: a backlog of completions, the ledger killed while it reads them.
    for (int round = 0; round < 3; round++) {
        char records[4][32], v[4][32];
        for (int i = 0; i < 4; i++)
            s_volunteer ("431022100201", NULL, v[i]);
        harness_stop (fx_harness (), "ledger", SIGKILL);
        for (int i = 0; i < 4; i++)
            s_served (v[i], "431022100201", "0.5", records[i]);
        harness_start (fx_harness (), "ledger");
        fx_sleep_ms (20 + 40 * round);
        fx_restart ("ledger", SIGKILL);
        fx_ledger_caught_up ();
        for (int i = 0; i < 4; i++) {
            s_wait_record (records[i]);
            assert_int_equal (fx_count ("SELECT count (*) FROM ledger.transfers WHERE source ="
                                        " 'match/service.completed/record/%s'",
                                        records[i]),
                              2); //  30 minutes and 5 points
        }
        s_audit_ok ();
    }
}

//  Stars from hours: 99.9 h is none, 100 h the first (star.reached once), 100.1 h still one.
static void
test_star_thresholds (void **state)
{
    (void) state;
    char v[32];
    s_volunteer ("431022100202", NULL, v);
    json_decref (fx_call_ok ("ledger", &TOWN_A, "rules.set",
                             "{\"region\": \"431022100202\", \"adjust_cap_minutes\": 20000}"));
    char body[256];
    const int steps[] = {5994, 6, 6};
    const int stars[] = {0, 1, 1};
    for (int i = 0; i < 3; i++) {
        snprintf (body, sizeof body,
                  "{\"volunteer_id\": \"%s\", \"unit\": \"hours\", \"amount\": %d,"
                  " \"reason\": \"补录纸质签到表\"}",
                  v, steps[i]);
        json_t *entry = fx_call_ok ("ledger", &TOWN_A, "ledger.adjust", body);
        assert_true (json_is_true (json_object_get (entry, "manual")));
        assert_string_equal (fx_str (entry, "kind"), "honour");
        json_decref (entry);
        json_t *s = fx_ledger_statement (&FX_SYSTEM, v);
        assert_int_equal (fx_int (s, "stars"), stars[i]);
        if (i == 0)
            assert_true (json_number_value (json_object_get (s, "hours_to_next_star")) > 0.099
                         && json_number_value (json_object_get (s, "hours_to_next_star")) < 0.101);
        json_decref (s);
        assert_int_equal (fx_events ("star.reached", v), stars[i]);
    }
    //  Match gates sign-ups and dispatch on the stars the ledger publishes.
    fx_wait_for (1, "SELECT stars FROM match.supply WHERE volunteer_id = %s", v);
    //  The journal by pages, newest first.
    snprintf (body, sizeof body, "{\"volunteer_id\": \"%s\", \"unit\": \"hours\", \"limit\": 2}",
              v);
    json_t *page = fx_call_ok ("ledger", &FX_SYSTEM, "ledger.journal", body);
    assert_int_equal (json_array_size (json_object_get (page, "entries")), 2);
    assert_int_equal (
        fx_int (json_array_get (json_object_get (page, "entries"), 0), "balance_after"), 6006);
    snprintf (body, sizeof body,
              "{\"volunteer_id\": \"%s\", \"unit\": \"hours\", \"limit\": 2, \"cursor\": \"%s\"}",
              v, fx_str (page, "next_cursor"));
    json_decref (page);
    page = fx_call_ok ("ledger", &FX_SYSTEM, "ledger.journal", body);
    assert_int_equal (json_array_size (json_object_get (page, "entries")), 1);
    assert_int_equal (fx_int (json_array_get (json_object_get (page, "entries"), 0), "amount"),
                      5994);
    assert_null (json_object_get (page, "next_cursor"));
    json_decref (page);
    json_t *s = fx_ledger_statement (&FX_SYSTEM, v);
    assert_int_equal (fx_int (s, "honour_minutes"), 6006);
    assert_true (json_number_value (json_object_get (s, "hours_to_next_star")) == 199.9);
    json_decref (s);
    s_audit_ok ();
}

//  A rule change between two completions prices each by the version in force at its
//  check-out, not by when the ledger hears of it: a check-out before the change, confirmed
//  and read after it, keeps the old price; the past is never repriced.
static void
test_rule_versions (void **state)
{
    (void) state;
    char before[32], after[32], r1[32], r2[32], activity[32], checkout[40], body[256];
    s_volunteer ("431022101203", NULL, before);
    s_volunteer ("431022101203", NULL, after);
    s_checked_in (before, "431022101203", r1, activity);
    //  Out at a whole second within two of the check-in: before the rule below.
    fx_time (checkout, 2);
    fx_sleep_ms (2200);
    json_t *rules = fx_call_ok ("ledger", &TOWN_B, "rules.set",
                                "{\"region\": \"431022101000\", \"points_per_hour\": 20}");
    long long version = fx_int (rules, "version");
    assert_true (version > 1);
    assert_string_equal (fx_str (rules, "from_region"), "431022101000");
    assert_int_equal (fx_int (rules, "points_per_hour"), 20);
    assert_int_equal (fx_int (rules, "star_1"), 100); //  kept from the national default
    json_decref (rules);
    //  Inherited below, not above or beside.
    rules = fx_call_ok ("ledger", &FX_SYSTEM, "rules.get", "{\"region\": \"431022101203\"}");
    assert_int_equal (fx_int (rules, "version"), version);
    json_decref (rules);
    rules = fx_call_ok ("ledger", &FX_SYSTEM, "rules.get", "{\"region\": \"431022100201\"}");
    assert_int_equal (fx_int (rules, "points_per_hour"), 10);
    json_decref (rules);
    //  Check-outs are whole seconds: the new version holds from the next one.
    fx_sleep_ms (1100);
    s_served (after, "431022101203", "1.0", r2);
    s_wait_record (r2);
    //  The first record's check-out, forgotten, completed by an official and confirmed now.
    snprintf (body, sizeof body,
              "{\"id\": \"%s\", \"checkout_at\": \"%s\", \"reason\": \"忘记签退\"}", r1, checkout);
    json_decref (fx_call_ok ("match", &TOWN_B, "record.complete", body));
    s_confirm (r1, "1.0");
    s_wait_record (r1);
    assert_int_equal (s_points (before), 10);
    assert_int_equal (s_points (after), 20);
    assert_int_equal (fx_count ("SELECT rule_version FROM ledger.transfers WHERE source ="
                                " 'match/service.completed/record/%s' AND unit = 'points'",
                                r2),
                      version);
    //  Refused, naming the field, changing nothing: out of scope, thresholds out of order.
    st_error_t err;
    fx_expect ("rules of another township",
               fx_call ("ledger", &TOWN_A, "rules.set",
                        "{\"region\": \"431022101000\", \"points_per_hour\": 1}", NULL, &err),
               &err, ST_PERMISSION_DENIED, "region");
    fx_expect ("stars out of order",
               fx_call ("ledger", &TOWN_B, "rules.set",
                        "{\"region\": \"431022101000\", \"star_2\": 50}", NULL, &err),
               &err, ST_INVALID_ARGUMENT, "star_2");
    assert_int_equal (fx_count ("SELECT max (version) FROM ledger.rules"), version);
    s_audit_ok ();
}

//  A volunteer free for the requests of s_request_served; their id into `id`.
static void
s_request_volunteer (const char *region, char id[32])
{
    char start[64], end[64], availability[64];
    fx_window (2, 14, 17, start, end, availability);
    s_volunteer (region, availability, id);
}

//  A request in `region` for `resident` served by `volunteer` (of s_request_volunteer),
//  confirmed at an hour, completed and rated 5 stars; its record into `record`, the request
//  into `request`.
static void
s_request_served (const char *region, const char *resident, const char *volunteer, char request[32],
                  char record[32])
{
    char start[64], end[64], availability[64];
    fx_window (2, 14, 17, start, end, availability);
    msg_actor_t who = fx_resident (resident);
    fx_request_add (&who, region, start, end, 1, "[\"账本\"]", NULL, "", "open", request);
    char offer[32];
    fx_wait_offer (volunteer, request, offer);
    st_error_t err;
    assert_int_equal (fx_answer ("offer.accept", volunteer, offer, &err), ST_OK);
    fx_sql ("UPDATE match.requests SET earliest_start = now () + interval '30 minutes',"
            " latest_end = now () + interval '4 hours' WHERE id = %s",
            request);
    msg_actor_t self = fx_volunteer (volunteer);
    char body[128];
    snprintf (body, sizeof body, "{\"request_id\": \"%s\"}", request);
    json_t *reply = fx_call_ok ("match", &self, "record.checkin", body);
    snprintf (record, 32, "%s", fx_str (reply, "id"));
    json_decref (reply);
    json_decref (fx_call_ok ("match", &self, "record.checkout", body));
    snprintf (body, sizeof body, "{\"id\": \"%s\", \"hours\": 1.0}", record);
    json_decref (fx_call_ok ("match", &FX_SYSTEM, "record.confirm", body));
    fx_sql ("UPDATE match.requests SET earliest_start = now () - interval '3 hours',"
            " latest_end = now () - interval '1 minute' WHERE id = %s",
            request);
    fx_wait_request (request, "completed");
    snprintf (body, sizeof body, "{\"id\": \"%s\", \"stars\": 5}", request);
    json_decref (fx_call_ok ("match", &who, "request.rate", body));
}

//  A rating read after its completion, and one read before (the ledger reads the rating,
//  then the completion, of the same real events): the same transfers, the same balances.
static void
test_rating_order (void **state)
{
    (void) state;
    char resident[32], first[32], second[32], q1[32], q2[32], r1[32], r2[32];
    fx_resident_add ("记账奶奶", "431022100201", "[\"empty_nest_elderly\"]", resident);
    s_request_volunteer ("431022100201", first);
    s_request_volunteer ("431022100201", second);
    //  In order: the completion, then the rating.
    s_request_served ("431022100201", resident, first, q1, r1);
    fx_ledger_caught_up ();
    fx_wait_for (1, "SELECT count (*) FROM ledger.ratings WHERE request_id = %s", q1);
    //  Out of order: the ledger stopped, the cursor set past the completion so that it reads
    //  the rating first, then set back to read the completion (and the rating again).
    harness_stop (fx_harness (), "ledger", SIGTERM);
    s_request_served ("431022100201", resident, second, q2, r2);
    fx_wait_for (0, "SELECT count (*) FROM match.outbox WHERE seq IS NULL");
    long completed = fx_count ("SELECT seq FROM match.outbox WHERE topic = 'service.completed'"
                               " ORDER BY seq DESC LIMIT 1");
    long rated = fx_count ("SELECT seq FROM match.outbox WHERE topic = 'service.rated'"
                           " ORDER BY seq DESC LIMIT 1");
    assert_true (completed < rated);
    fx_sql ("UPDATE ledger.consumer_cursors SET seq = %ld WHERE publisher = 'match'", completed);
    harness_start (fx_harness (), "ledger");
    fx_wait_for (1, "SELECT count (*) FROM ledger.ratings WHERE request_id = %s", q2);
    assert_int_equal (
        fx_count ("SELECT count (*) FROM ledger.completions WHERE record_id = %s", r2), 0);
    fx_ledger_caught_up ();
    harness_stop (fx_harness (), "ledger", SIGTERM);
    fx_sql ("UPDATE ledger.consumer_cursors SET seq = %ld WHERE publisher = 'match'",
            completed - 1);
    harness_start (fx_harness (), "ledger");
    s_wait_record (r2);
    fx_ledger_caught_up ();
    //  10 points for the hour and 5 for serving a group cared for first; 5 stars give 120 %
    //  of those 15: 3 more.
    assert_int_equal (s_points (first), 18);
    assert_int_equal (s_points (second), 18);
    char *a = s_books (first, r1, q1), *b = s_books (second, r2, q2);
    assert_string_equal (a, b);
    assert_non_null (strstr (a, "earn:15:points:match/service.completed/record/R"));
    assert_non_null (strstr (a, "rating:3:points:match/service.rated/request/Q/record/R"));
    free (a);
    free (b);
    s_audit_ok ();
}

//  Every bad adjustment is refused naming its field and changes nothing; a good one is
//  manual with its reason; a correction reverses, never below zero.
static void
test_adjust (void **state)
{
    (void) state;
    char v[32], body[512];
    s_volunteer ("431022100201", NULL, v);
    msg_actor_t self = fx_volunteer (v);
    const char *digest = "SELECT format ('%s/%s/%s', (SELECT count (*) FROM ledger.transfers),"
                         " (SELECT sum (balance) FILTER (WHERE volunteer_id IS NOT NULL)"
                         " FROM ledger.accounts), (SELECT count (*) FROM ledger.outbox))";
    char *before = strdup (fx_value ("%s", digest));
    st_error_t err;
    const struct {
        const msg_actor_t *actor;
        const char *body;
        st_status_t code;
        const char *field;
    } cases[] = {
        {&TOWN_A,
         "{\"volunteer_id\": \"%s\", \"unit\": \"points\", \"amount\": 0,"
         " \"reason\": \"更正\"}",
         ST_INVALID_ARGUMENT, "amount"},
        {&TOWN_A,
         "{\"volunteer_id\": \"%s\", \"unit\": \"stars\", \"amount\": 5,"
         " \"reason\": \"更正\"}",
         ST_INVALID_ARGUMENT, "unit"},
        {&TOWN_A, "{\"volunteer_id\": \"%s\", \"unit\": \"points\", \"amount\": 5}",
         ST_INVALID_ARGUMENT, "reason"},
        {&TOWN_A,
         "{\"volunteer_id\": \"%s\", \"unit\": \"points\", \"amount\": -5,"
         " \"reason\": \"更正\"}",
         ST_FAILED_PRECONDITION, "amount"},
        {&TOWN_A,
         "{\"volunteer_id\": \"%s\", \"unit\": \"points\", \"amount\": 201,"
         " \"reason\": \"更正\"}",
         ST_FAILED_PRECONDITION, "amount"},
        {&TOWN_B,
         "{\"volunteer_id\": \"%s\", \"unit\": \"points\", \"amount\": 5,"
         " \"reason\": \"更正\"}",
         ST_NOT_FOUND, "volunteer_id"},
        {&self,
         "{\"volunteer_id\": \"%s\", \"unit\": \"points\", \"amount\": 5,"
         " \"reason\": \"更正\"}",
         ST_PERMISSION_DENIED, "actor.role"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf (body, sizeof body, cases[i].body, v);
        fx_expect (body, fx_call ("ledger", cases[i].actor, "ledger.adjust", body, NULL, &err),
                   &err, cases[i].code, cases[i].field);
    }
    fx_expect ("no such volunteer",
               fx_call ("ledger", &TOWN_A, "ledger.adjust",
                        "{\"volunteer_id\": \"999999\", \"unit\": \"points\", \"amount\": 5,"
                        " \"reason\": \"更正\"}",
                        NULL, &err),
               &err, ST_NOT_FOUND, "volunteer_id");
    fx_unchanged (before, strdup (fx_value ("%s", digest)), "a refused ledger.adjust");

    //  150 points, then 60 more passes the day's cap of 200; a correction of 30 reverses.
    snprintf (body, sizeof body,
              "{\"volunteer_id\": \"%s\", \"unit\": \"points\", \"amount\": 150,"
              " \"reason\": \"优秀志愿者奖励\", \"ref\": \"县文明办 2026-12\"}",
              v);
    json_t *entry = fx_call_ok ("ledger", &TOWN_A, "ledger.adjust", body);
    assert_int_equal (fx_int (entry, "balance_after"), 150);
    assert_string_equal (fx_str (entry, "reason"), "优秀志愿者奖励");
    assert_true (json_is_true (json_object_get (entry, "manual")));
    json_decref (entry);
    snprintf (body, sizeof body,
              "{\"volunteer_id\": \"%s\", \"unit\": \"points\", \"amount\": 60,"
              " \"reason\": \"更正\"}",
              v);
    fx_expect ("past the daily cap", fx_call ("ledger", &TOWN_A, "ledger.adjust", body, NULL, &err),
               &err, ST_FAILED_PRECONDITION, "amount");
    snprintf (body, sizeof body,
              "{\"volunteer_id\": \"%s\", \"unit\": \"points\", \"amount\": -30,"
              " \"reason\": \"重复发放\"}",
              v);
    entry = fx_call_ok ("ledger", &TOWN_A, "ledger.adjust", body);
    assert_int_equal (fx_int (entry, "amount"), -30);
    assert_int_equal (fx_int (entry, "balance_after"), 120);
    json_decref (entry);
    assert_int_equal (s_points (v), 120);
    assert_int_equal (fx_events ("ledger.adjusted", v), 2);
    s_audit_ok ();

    //  The operator's command: station ledger statement ID, station ledger audit.
    char out[8192];
    assert_int_equal (
        harness_cli (fx_harness (), out, sizeof out, "ledger", "statement", v, "--json", NULL), 0);
    json_t *cli = json_loads (out, 0, NULL);
    assert_int_equal (fx_int (cli, "balance"), 120);
    json_decref (cli);
    assert_int_equal (
        harness_cli (fx_harness (), out, sizeof out, "ledger", "audit", "--json", NULL), 0);
    cli = json_loads (out, 0, NULL);
    assert_true (json_is_true (json_object_get (cli, "ok")));
    json_decref (cli);
    assert_int_equal (
        harness_cli (fx_harness (), out, sizeof out, "ledger", "statement", "999999", NULL), 1);
}

//  A daily cap bounds the points for hours a volunteer earns on the day of their check-outs:
//  the second record earns what is left of it.
static void
test_daily_cap (void **state)
{
    (void) state;
    char v[32], r1[32], r2[32];
    s_volunteer ("431022100202", NULL, v);
    json_decref (fx_call_ok ("ledger", &TOWN_A, "rules.set",
                             "{\"region\": \"431022100202\", \"daily_cap\": 8}"));
    fx_sleep_ms (1100); //  in force from the next whole second
    s_served_at (v, "431022100202", 300, 600, "0.5", r1);
    s_served_at (v, "431022100202", 1000, 600, "0.5", r2);
    s_wait_record (r1);
    s_wait_record (r2);
    assert_int_equal (s_points (v), 8); //  5 and 3 of 5
    json_t *s = fx_ledger_statement (&FX_SYSTEM, v);
    assert_int_equal (fx_int (s, "credit_minutes"), 60); //  hours are never capped
    json_decref (s);
    s_audit_ok ();
}

//  A volunteer transferred to another township keeps every account; its officials now read
//  the statement, the old township's no longer.
static void
test_transfer_keeps_books (void **state)
{
    (void) state;
    char v[32], record[32], body[128];
    s_volunteer ("431022100201", NULL, v);
    s_served (v, "431022100201", "1.0", record);
    s_wait_record (record);
    assert_int_equal (s_points (v), 10);
    msg_actor_t self = fx_volunteer (v);
    snprintf (body, sizeof body, "{\"id\": \"%s\", \"region\": \"431022101203\"}", v);
    json_decref (fx_call_ok ("registry", &self, "volunteer.request_transfer", body));
    json_decref (fx_call_ok ("registry", &TOWN_B, "volunteer.transfer", body));
    fx_wait_for (1,
                 "SELECT count (*) FROM ledger.volunteers WHERE id = %s"
                 " AND region = '431022101203'",
                 v);
    json_t *s = fx_ledger_statement (&TOWN_B, v);
    assert_string_equal (fx_str (s, "region"), "431022101203");
    assert_int_equal (fx_int (s, "balance"), 10);
    assert_int_equal (fx_int (s, "credit_minutes"), 60);
    json_decref (s);
    st_error_t err;
    snprintf (body, sizeof body, "{\"volunteer_id\": \"%s\"}", v);
    fx_expect ("the old township's statement",
               fx_call ("ledger", &TOWN_A, "ledger.statement", body, NULL, &err), &err,
               ST_NOT_FOUND, "volunteer_id");
    s_audit_ok ();
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_completion_earns), cmocka_unit_test (test_redelivery_and_kill),
        cmocka_unit_test (test_star_thresholds),  cmocka_unit_test (test_rule_versions),
        cmocka_unit_test (test_rating_order),     cmocka_unit_test (test_adjust),
        cmocka_unit_test (test_daily_cap),        cmocka_unit_test (test_transfer_keeps_books),
    };
    return cmocka_run_group_tests (tests, s_setup, fx_teardown);
}
