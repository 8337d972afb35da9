/*  match_ops_test.c — the match ops the web pages and the gateway need (issues 22 and 23),
    against live registry and match: an activity's short signed check-in code, shown to its
    organiser and required to check in.  */
#include "fixture.h"
#include "st_log.h"
#include "st_time.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <sodium.h>

static fx_t *F; //  registry and match
static msg_actor_t TOWN_A = {.account = "town-a", .role = "region_admin", .region = "431022100000"};
static msg_actor_t TOWN_B = {.account = "town-b", .role = "region_admin", .region = "431022101000"};

//  An RFC 3339 time `seconds` from now.
static void
s_time (char out[40], int64_t seconds)
{
    st_time_format_utc ((st_now_ms () / 1000 + seconds) * 1000000, out);
}

//  Registers volunteer `n` of the tests through registry; their id (the caller frees).
static char *
s_volunteer (int n)
{
    char name[32], id[32];
    snprintf (name, sizeof name, "核验者%d", n);
    fx_volunteer_add (name, "431022100201", "[]", "[]", 25.40, 112.95, "", id);
    return strdup (id);
}

//  An activity of village 431022100201 starting in `start_s` seconds and lasting an hour; its
//  id (the caller frees).
static char *
s_activity (int64_t start_s)
{
    char starts[40], ends[40], closes[40], body[512], id[32];
    s_time (starts, start_s);
    s_time (ends, start_s + 3600);
    s_time (closes, start_s - 60);
    snprintf (body, sizeof body,
              "{\"title\": \"社区义诊\", \"category\": \"elderly\", \"region\": \"431022100201\","
              " \"starts_at\": \"%s\", \"ends_at\": \"%s\", \"signup_closes_at\": \"%s\","
              " \"capacity\": 10, \"skills\": []}",
              starts, ends, closes);
    fx_activity_add (body, id);
    return strdup (id);
}

//  The code of activity `activity` in the window `back` windows before the current one, derived
//  here as match derives it (keyed BLAKE2b of "checkin:<id>:<window>", six Crockford base32
//  characters) from the key match keeps: what a code read long ago would be.
static void
s_code_back (const char *activity, int back, char code[8])
{
    uint8_t key[32];
    size_t length = 0;
    const char *hex = fx_value ("SELECT encode (key, 'hex') FROM match.checkin_key");
    assert_int_equal (sodium_hex2bin (key, sizeof key, hex, strlen (hex), NULL, &length, NULL), 0);
    assert_int_equal (length, 32);
    long long window = atoll (fx_value ("SELECT floor (extract (epoch FROM now ()) / 300)"));
    char message[64];
    int size = snprintf (message, sizeof message, "checkin:%s:%lld", activity, window - back);
    uint8_t hash[16];
    crypto_generichash (hash, sizeof hash, (const uint8_t *) message, (size_t) size, key,
                        sizeof key);
    uint64_t bits = 0;
    for (int i = 0; i < 8; i++)
        bits = bits << 8 | hash[i];
    for (int i = 0; i < 6; i++)
        code[i] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"[(bits >> (5 * i)) & 31];
    code[6] = '\0';
}

static int
s_setup (void **state)
{
    setenv ("STATION_DISPATCH_ROUND_MS", "200", 1);
    F = fx_new ("match_ops", FX_REGISTRY | FX_MATCH);
    fx_county_add ();
    return 0;
}

static int
s_teardown (void **state)
{
    fx_destroy (&F);
    return 0;
}

//  ---------------------------------------------------------------------------------------
//  activity.checkin_code and record.checkin

//  The organiser (an official in scope) reads a short code that changes every five minutes;
//  nobody else does.
static void
test_checkin_code_issued (void **state)
{
    char *activity = s_activity (1800);
    char body[128];
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", activity);
    json_t *reply = fx_call_ok ("match", &TOWN_A, "activity.checkin_code", body);
    const char *code = fx_str (reply, "code");
    assert_int_equal (strlen (code), 6);
    assert_true (strspn (code, "0123456789ABCDEFGHJKMNPQRSTVWXYZ") == 6);
    //  It changes at the end of the current five-minute window, in the future.
    int64_t expires, now = st_now_ms () * 1000;
    assert_true (st_time_parse (fx_str (reply, "expires_at"), &expires));
    assert_true (expires > now - 2000000 && expires <= now + 300 * INT64_C (1000000) + 2000000);
    //  The same code twice in a window (for the same activity), and the one derived here.
    char derived[8];
    s_code_back (activity, 0, derived);
    json_t *again = fx_call_ok ("match", &TOWN_A, "activity.checkin_code", body);
    if (strcmp (fx_str (again, "expires_at"), fx_str (reply, "expires_at")) == 0) {
        assert_string_equal (fx_str (again, "code"), code);
        assert_string_equal (derived, code);
    }
    json_decref (again);
    json_decref (reply);

    st_error_t err;
    msg_actor_t volunteer = fx_volunteer ("1");
    fx_expect ("a volunteer asks for the code",
               fx_call ("match", &volunteer, "activity.checkin_code", body, NULL, &err), &err,
               ST_PERMISSION_DENIED, "actor.role");
    //  Another township's admin: as if it did not exist.
    fx_expect ("an official out of scope asks",
               fx_call ("match", &TOWN_B, "activity.checkin_code", body, NULL, &err), &err,
               ST_NOT_FOUND, "id");
    fx_expect (
        "no such activity",
        fx_call ("match", &TOWN_A, "activity.checkin_code", "{\"id\": \"999999\"}", NULL, &err),
        &err, ST_NOT_FOUND, "id");
    fx_expect ("an id that is no id",
               fx_call ("match", &TOWN_A, "activity.checkin_code", "{\"id\": \"x1\"}", NULL, &err),
               &err, ST_NOT_FOUND, "id");
    //  A cancelled activity has no code.
    snprintf (body, sizeof body, "{\"id\": \"%s\", \"reason\": \"下雨\"}", activity);
    json_decref (fx_call_ok ("match", &TOWN_A, "activity.cancel", body));
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", activity);
    fx_expect ("a cancelled activity's code",
               fx_call ("match", &TOWN_A, "activity.checkin_code", body, NULL, &err), &err,
               ST_FAILED_PRECONDITION, "id");
    free (activity);
}

//  A volunteer checks in to an activity with its current code (or the one before it, typed in
//  any case): without one they are told to give it, with a wrong, another activity's or an
//  expired one refused, and nothing is recorded. A request's check-in needs no code.
static void
test_checkin_needs_code (void **state)
{
    char *volunteer = s_volunteer (2);
    char *activity = s_activity (1200), *other = s_activity (90000);
    msg_actor_t self = fx_volunteer (volunteer);
    fx_activity_signup (&self, activity);
    char body[FX_BODY_SIZE], code[16], old[8];
    st_error_t err;
    long before = fx_count ("SELECT count(*) FROM match.service_records");

    snprintf (body, sizeof body, "{\"activity_id\": \"%s\"}", activity);
    fx_expect ("a check-in without a code",
               fx_call ("match", &self, "record.checkin", body, NULL, &err), &err,
               ST_INVALID_ARGUMENT, "code");
    snprintf (body, sizeof body, "{\"activity_id\": \"%s\", \"code\": \"ZZZZZZ\"}", activity);
    fx_expect ("a wrong code", fx_call ("match", &self, "record.checkin", body, NULL, &err), &err,
               ST_FAILED_PRECONDITION, "code");
    fx_checkin_code (other, code);
    snprintf (body, sizeof body, "{\"activity_id\": \"%s\", \"code\": \"%s\"}", activity, code);
    fx_expect ("another activity's code",
               fx_call ("match", &self, "record.checkin", body, NULL, &err), &err,
               ST_FAILED_PRECONDITION, "code");
    s_code_back (activity, 2, old);
    snprintf (body, sizeof body, "{\"activity_id\": \"%s\", \"code\": \"%s\"}", activity, old);
    fx_expect ("a code two windows old",
               fx_call ("match", &self, "record.checkin", body, NULL, &err), &err,
               ST_FAILED_PRECONDITION, "code");
    assert_int_equal (fx_count ("SELECT count(*) FROM match.service_records"), before);

    //  The code of the window before is still good (read at the edge), typed in lower case
    //  with a dash.
    s_code_back (activity, 1, old);
    for (char *c = old; *c; c++)
        *c = (char) (*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
    snprintf (body, sizeof body, "{\"activity_id\": \"%s\", \"code\": \"%.3s-%s\"}", activity, old,
              old + 3);
    json_t *reply = fx_call_ok ("match", &self, "record.checkin", body);
    assert_string_equal (fx_str (reply, "status"), "open");
    json_decref (reply);
    assert_int_equal (fx_count ("SELECT count(*) FROM match.service_records"), before + 1);
    free (volunteer);
    free (activity);
    free (other);
}

//  ---------------------------------------------------------------------------------------
//  offer.list: each offer with its request's summary

//  The offered volunteer reads what, where and when from the offer itself (one query: the
//  summary comes from the same rows), and nothing of the resident.
static void
test_offer_carries_request (void **state)
{
    char start[64], end[64], availability[64], volunteer[32], request[32], offer[32];
    fx_window (1, 9, 12, start, end, availability);
    fx_volunteer_add ("接单者", "431022100201", "[\"m陪诊\"]", availability, 25.40, 112.95, "",
                      volunteer);
    fx_request_add (&TOWN_A, "431022100201", start, end, 1, "[\"m陪诊\"]", NULL,
                    ", \"lat\": 25.40, \"lon\": 112.95, \"address\": \"东街12号二楼\"", "open",
                    request);
    fx_wait_offer (volunteer, request, offer);
    msg_actor_t self = fx_volunteer (volunteer);
    json_t *reply = fx_call_ok ("match", &self, "offer.list", "{\"status\": \"pending\"}");
    json_t *items = json_object_get (reply, "items"), *item = NULL;
    for (size_t i = 0; i < json_array_size (items); i++)
        if (strcmp (fx_str (json_array_get (items, i), "id"), offer) == 0)
            item = json_array_get (items, i);
    assert_non_null (item);
    json_t *summary = json_object_get (item, "request");
    assert_non_null (summary);
    json_t *full = fx_request_get (request);
    const char *same[] = {"title",          "category",   "description",
                          "earliest_start", "latest_end", "region"};
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++)
        assert_string_equal (fx_str (summary, same[i]), fx_str (full, same[i]));
    assert_int_equal (fx_int (summary, "duration_minutes"), 60);
    assert_string_equal (fx_str (summary, "category"), "助老");
    assert_string_equal (fx_str (summary, "address"), "东街12号二楼");
    assert_string_equal (fx_str (full, "address"), "东街12号二楼");
    //  The resident is not in it.
    assert_null (json_object_get (summary, "resident_id"));
    assert_null (json_object_get (summary, "name"));
    assert_null (json_object_get (summary, "phone"));
    json_decref (full);
    json_decref (reply);
}

//  ---------------------------------------------------------------------------------------
//  offer.assign: a manual assignment where the dispatch rules allow it, audited

//  How many offers request `request` has, and how many manual assignments.
static long
s_assign_state (const char *request)
{
    return fx_count ("SELECT (SELECT count (*) FROM match.offers WHERE request_id = %s) * 1000"
                     " + (SELECT count (*) FROM match.manual_assignments WHERE request_id = %s)"
                     " + (SELECT accepted FROM match.requests WHERE id = %s) * 100000",
                     request, request, request);
}

static void
test_offer_assign (void **state)
{
    char start[64], end[64], availability[64], request[32], body[512];
    char chosen[32], stranger[32], busy[32], late[32];
    fx_window (2, 9, 12, start, end, availability);
    //  A skill nobody has: no round offers it, the admin assigns by hand.
    fx_volunteer_add ("指派甲", "431022100201", "[]", availability, 25.40, 112.95, "", chosen);
    fx_volunteer_add ("指派乙", "431022101203", "[]", availability, 25.40, 112.95, "", stranger);
    fx_volunteer_add ("指派丙", "431022100201", "[]", availability, 25.40, 112.95, "", busy);
    fx_volunteer_add ("指派丁", "431022100201", "[]", availability, 25.40, 112.95, "", late);
    fx_request_add (&TOWN_A, "431022100201", start, end, 1, "[\"m无人会\"]", NULL,
                    ", \"lat\": 25.40, \"lon\": 112.95", "open", request);
    //  丙 is confirmed for an activity at the request's time.
    char at[64], until[64], closes[40], activity[32];
    fx_local (2, 10, 0, at, NULL);
    fx_local (2, 11, 0, until, NULL);
    s_time (closes, 3600);
    snprintf (body, sizeof body,
              "{\"title\": \"同时段活动\", \"category\": \"elderly\","
              " \"region\": \"431022100201\", \"starts_at\": \"%s\", \"ends_at\": \"%s\","
              " \"signup_closes_at\": \"%s\", \"capacity\": 10, \"skills\": []}",
              at, until, closes);
    fx_activity_add (body, activity);
    msg_actor_t busy_self = fx_volunteer (busy);
    fx_activity_signup (&busy_self, activity);

    long before = s_assign_state (request);
    st_error_t err;
    msg_actor_t leader = fx_admin ("team_leader", "431022100000"), self = fx_volunteer (chosen);
#define S_ASSIGN(actor, volunteer, reason, code, field, what)                                      \
    do {                                                                                           \
        snprintf (body, sizeof body, "{\"id\": \"%s\", \"volunteer_id\": \"%s\"%s%s%s}", request,  \
                  volunteer, reason ? ", \"reason\": \"" : "", reason ? reason : "",               \
                  reason ? "\"" : "");                                                             \
        fx_expect (what, fx_call ("match", actor, "offer.assign", body, NULL, &err), &err, code,   \
                   field);                                                                         \
        assert_int_equal (s_assign_state (request), before);                                       \
    } while (0)
    S_ASSIGN (&TOWN_A, chosen, NULL, ST_INVALID_ARGUMENT, "reason", "no reason");
    S_ASSIGN (&TOWN_A, chosen, "x", ST_INVALID_ARGUMENT, "reason", "a reason too short");
    S_ASSIGN (&leader, chosen, "电话确认", ST_PERMISSION_DENIED, "actor.role", "a team leader");
    S_ASSIGN (&self, chosen, "电话确认", ST_PERMISSION_DENIED, "actor.role", "a volunteer");
    S_ASSIGN (&TOWN_B, chosen, "电话确认", ST_NOT_FOUND, "id", "another township's admin");
    S_ASSIGN (&TOWN_A, "x9", "电话确认", ST_NOT_FOUND, "volunteer_id", "no volunteer id");
    S_ASSIGN (&TOWN_A, "987654", "电话确认", ST_NOT_FOUND, "volunteer_id", "an unknown one");
    S_ASSIGN (&TOWN_A, stranger, "电话确认", ST_NOT_FOUND, "volunteer_id",
              "a volunteer out of scope");
    S_ASSIGN (&TOWN_A, busy, "电话确认", ST_FAILED_PRECONDITION, "volunteer_id",
              "a volunteer busy then");
    fx_sql ("UPDATE match.supply SET status = 'suspended' WHERE volunteer_id = %s", late);
    S_ASSIGN (&TOWN_A, late, "电话确认", ST_FAILED_PRECONDITION, "volunteer_id",
              "a volunteer not active");
    fx_sql ("UPDATE match.supply SET status = 'active' WHERE volunteer_id = %s", late);

    //  The township's admin assigns 甲: an accepted offer like any other, audited.
    snprintf (body, sizeof body,
              "{\"id\": \"%s\", \"volunteer_id\": \"%s\", \"reason\": \"王奶奶点名要她\"}", request,
              chosen);
    json_t *reply = fx_call_ok ("match", &TOWN_A, "offer.assign", body);
    assert_string_equal (fx_str (reply, "id"), request);
    assert_string_equal (fx_str (reply, "status"), "staffed");
    assert_int_equal (fx_int (reply, "accepted"), 1);
    json_t *assignments = json_object_get (reply, "assignments");
    assert_int_equal (json_array_size (assignments), 1);
    assert_string_equal (fx_str (json_array_get (assignments, 0), "volunteer_id"), chosen);
    assert_string_equal (fx_str (json_array_get (assignments, 0), "status"), "accepted");
    json_decref (reply);
    const char *offer = fx_value ("SELECT id FROM match.offers WHERE request_id = %s", request);
    char offer_id[32];
    snprintf (offer_id, sizeof offer_id, "%s", offer);
    assert_int_equal (fx_events ("offer.accepted", offer_id), 1);
    assert_int_equal (fx_events ("request.staffed", request), 1);
    assert_string_equal (fx_offer_status (chosen, offer_id), "accepted");
    assert_int_equal (
        fx_count ("SELECT count (*) FROM match.manual_assignments WHERE request_id = %s"
                  " AND volunteer_id = %s AND actor = 'town-a'"
                  " AND reason = '王奶奶点名要她'",
                  request, chosen),
        1);
    //  Its time is theirs now; and no place is left for anyone else.
    assert_int_equal (fx_count ("SELECT count (*) FROM match.commitments WHERE request_id = %s"
                                " AND volunteer_id = %s",
                                request, chosen),
                      1);
    before = s_assign_state (request);
    S_ASSIGN (&TOWN_A, late, "电话确认", ST_FAILED_PRECONDITION, "id", "a request staffed");
#undef S_ASSIGN
}

//  ---------------------------------------------------------------------------------------
//  dispatch.rounds: what recent rounds offered, left waiting and gave up on, and why

//  The round of `page` (a dispatch.rounds reply) that touched request `request`, and in it the
//  request as the round left it (into *item); NULL when none did.
static json_t *
s_round_of (json_t *page, const char *request, json_t **item)
{
    json_t *rounds = json_object_get (page, "items");
    for (size_t i = 0; i < json_array_size (rounds); i++) {
        json_t *requests = json_object_get (json_array_get (rounds, i), "requests");
        for (size_t k = 0; k < json_array_size (requests); k++)
            if (strcmp (fx_str (json_array_get (requests, k), "request_id"), request) == 0) {
                *item = json_array_get (requests, k);
                return json_array_get (rounds, i);
            }
    }
    return NULL;
}

static void
test_dispatch_rounds (void **state)
{
    char start[64], end[64], availability[64], volunteer[32], offered[32], unfilled[32];
    char offer[32];
    fx_window (3, 9, 12, start, end, availability);
    fx_volunteer_add ("轮次者", "431022100201", "[\"m轮次\"]", availability, 25.40, 112.95, "",
                      volunteer);
    fx_request_add (&TOWN_A, "431022100201", start, end, 1, "[\"m轮次\"]", NULL,
                    ", \"lat\": 25.40, \"lon\": 112.95", "open", offered);
    fx_wait_offer (volunteer, offered, offer);
    //  A request nobody can serve, whose start has come: the next round gives up on it.
    fx_request_add (&TOWN_A, "431022100201", start, end, 1, "[\"m无人会轮\"]", NULL,
                    ", \"lat\": 25.40, \"lon\": 112.95", "open", unfilled);
    fx_sql ("UPDATE match.requests SET earliest_start = now () - interval '1 minute',"
            " latest_end = now () + interval '2 hours' WHERE id = %s",
            unfilled);
    fx_wait_request (unfilled, "unfilled");

    json_t *page = fx_call_ok ("match", &TOWN_A, "dispatch.rounds", "{\"limit\": 100}");
    json_t *item = NULL, *round = s_round_of (page, offered, &item);
    assert_non_null (round);
    assert_true (*fx_str (round, "at"));
    //  When it began to the millisecond and how long it held the lock, as match recorded them
    //  (what shows that two replicas' rounds never overlap).
    assert_int_equal (fx_int (round, "at_ms"),
                      fx_count ("SELECT (extract (epoch FROM at) * 1000)::bigint"
                                " FROM match.dispatch_rounds WHERE id = %s",
                                fx_str (round, "id")));
    assert_int_equal (
        fx_int (round, "took_ms"),
        fx_count ("SELECT took_ms FROM match.dispatch_rounds WHERE id = %s", fx_str (round, "id")));
    assert_true (fx_int (round, "offered") >= 1);
    assert_int_equal (fx_int (item, "offered"), 1);
    assert_int_equal (fx_int (item, "waiting"), 1);
    assert_string_equal (fx_str (item, "status"), "matching");
    round = s_round_of (page, unfilled, &item);
    assert_non_null (round);
    assert_true (fx_int (round, "unfilled") >= 1);
    assert_string_equal (fx_str (item, "status"), "unfilled");
    json_t *now = fx_request_get (unfilled);
    assert_true (*fx_str (item, "reason"));
    assert_string_equal (fx_str (item, "reason"), fx_str (now, "reason"));
    json_decref (now);
    json_decref (page);

    //  A page at a time, newest first.
    page = fx_call_ok ("match", &TOWN_A, "dispatch.rounds",
                       "{\"region\": \"431022100000\", \"limit\": 1}");
    assert_int_equal (json_array_size (json_object_get (page, "items")), 1);
    char first[32], body[128];
    snprintf (first, sizeof first, "%s",
              fx_str (json_array_get (json_object_get (page, "items"), 0), "id"));
    assert_true (*fx_str (page, "next_cursor"));
    snprintf (body, sizeof body, "{\"limit\": 1, \"cursor\": \"%s\"}",
              fx_str (page, "next_cursor"));
    json_decref (page);
    page = fx_call_ok ("match", &TOWN_A, "dispatch.rounds", body);
    assert_int_equal (json_array_size (json_object_get (page, "items")), 1);
    assert_true (atoll (fx_str (json_array_get (json_object_get (page, "items"), 0), "id"))
                 < atoll (first));
    json_decref (page);

    //  Another township sees none of it, and may not ask for this one; nor may others.
    page = fx_call_ok ("match", &TOWN_B, "dispatch.rounds", "{\"limit\": 100}");
    assert_null (s_round_of (page, offered, &item));
    assert_null (s_round_of (page, unfilled, &item));
    json_decref (page);
    st_error_t err;
    msg_actor_t leader = fx_admin ("team_leader", "431022100000"), self = fx_volunteer (volunteer);
    const char *mine = "{\"region\": \"431022100000\"}";
    fx_expect ("another township's admin",
               fx_call ("match", &TOWN_B, "dispatch.rounds", mine, NULL, &err), &err,
               ST_PERMISSION_DENIED, "region");
    fx_expect ("a team leader", fx_call ("match", &leader, "dispatch.rounds", mine, NULL, &err),
               &err, ST_PERMISSION_DENIED, "actor.role");
    fx_expect ("a volunteer", fx_call ("match", &self, "dispatch.rounds", mine, NULL, &err), &err,
               ST_PERMISSION_DENIED, "actor.role");
    fx_expect (
        "a region that is no region",
        fx_call ("match", &TOWN_A, "dispatch.rounds", "{\"region\": \"4310221\"}", NULL, &err),
        &err, ST_INVALID_ARGUMENT, "region");
    fx_expect ("a cursor that is no id",
               fx_call ("match", &TOWN_A, "dispatch.rounds", "{\"cursor\": \"x\"}", NULL, &err),
               &err, ST_NOT_FOUND, "cursor");
}

//  ---------------------------------------------------------------------------------------
//  activity.backfill: a past activity and its hours entered at once, marked manual, audited

//  The body of a back-entry in the village by `reason` (NULL: none) of an activity that began
//  `ago_s` seconds ago and lasted `length_s`, with `records` (a JSON array); malloc'd.
static char *
s_backfill_body (int64_t ago_s, int64_t length_s, const char *reason, const char *records)
{
    char starts[40], ends[40], because[256] = "";
    s_time (starts, -ago_s);
    s_time (ends, -ago_s + length_s);
    if (reason)
        snprintf (because, sizeof because, ", \"reason\": \"%s\"", reason);
    size_t size = strlen (records) + 512;
    char *body = malloc (size);
    snprintf (body, size,
              "{\"title\": \"重阳节敬老院探访\", \"category\": \"elderly\","
              " \"region\": \"431022100201\", \"starts_at\": \"%s\", \"ends_at\": \"%s\"%s,"
              " \"records\": %s}",
              starts, ends, because, records);
    return body;
}

//  Manual activities and records, and back-entries kept.
static long
s_backfill_state (void)
{
    return fx_count ("SELECT (SELECT count (*) FROM match.activities WHERE manual) * 1000000"
                     " + (SELECT count (*) FROM match.service_records WHERE manual) * 1000"
                     " + (SELECT count (*) FROM match.backfills)");
}

static void
test_backfill (void **state)
{
    char *a = s_volunteer (11), *b = s_volunteer (12), other[32];
    fx_volunteer_add ("外镇人", "431022101203", "[]", "[]", 25.40, 112.95, "", other);
    char records[512];
    long before = s_backfill_state ();
    st_error_t err;
    msg_actor_t station = {
        .account = "station-a", .role = "station_admin", .region = "431022100000"};
#define S_REFUSED(actor, body, code, field, what)                                                  \
    do {                                                                                           \
        char *body_ = (body);                                                                      \
        fx_expect (what, fx_call ("match", actor, "activity.backfill", body_, NULL, &err), &err,   \
                   code, field);                                                                   \
        free (body_);                                                                              \
        assert_int_equal (s_backfill_state (), before);                                            \
    } while (0)
    snprintf (records, sizeof records,
              "[{\"volunteer_id\": \"%s\", \"hours\": 2}, {\"volunteer_id\": \"%s\","
              " \"hours\": 1.5}]",
              a, b);
    S_REFUSED (&station, s_backfill_body (3 * 86400, 7200, "纸质签到表补录", records),
               ST_PERMISSION_DENIED, "actor.role", "a station admin");
    S_REFUSED (&TOWN_B, s_backfill_body (3 * 86400, 7200, "纸质签到表补录", records),
               ST_PERMISSION_DENIED, "region", "another township's admin");
    S_REFUSED (&TOWN_A, s_backfill_body (3 * 86400, 7200, NULL, records), ST_INVALID_ARGUMENT,
               "reason", "no reason");
    S_REFUSED (&TOWN_A, s_backfill_body (3600, 7200, "纸质签到表补录", records),
               ST_INVALID_ARGUMENT, "ends_at", "an activity not over");
    S_REFUSED (&TOWN_A, s_backfill_body (3 * 86400, -60, "纸质签到表补录", records),
               ST_INVALID_ARGUMENT, "ends_at", "an end before the start");
    S_REFUSED (&TOWN_A, s_backfill_body (3 * 86400, 7200, "纸质签到表补录", "[]"),
               ST_INVALID_ARGUMENT, "records", "no records");
    snprintf (records, sizeof records,
              "[{\"volunteer_id\": \"%s\", \"hours\": 2}, {\"volunteer_id\": \"%s\","
              " \"hours\": 1}]",
              a, other);
    S_REFUSED (&TOWN_A, s_backfill_body (3 * 86400, 7200, "纸质签到表补录", records), ST_NOT_FOUND,
               "records[1].volunteer_id", "a volunteer out of scope");
    snprintf (records, sizeof records,
              "[{\"volunteer_id\": \"%s\", \"hours\": 2}, {\"volunteer_id\": \"%s\","
              " \"hours\": 1}]",
              a, a);
    S_REFUSED (&TOWN_A, s_backfill_body (3 * 86400, 7200, "纸质签到表补录", records),
               ST_INVALID_ARGUMENT, "records[1].volunteer_id", "a volunteer twice");
    snprintf (records, sizeof records, "[{\"volunteer_id\": \"%s\", \"hours\": 2.5}]", a);
    S_REFUSED (&TOWN_A, s_backfill_body (3 * 86400, 7200, "纸质签到表补录", records),
               ST_FAILED_PRECONDITION, "records[0].hours", "more hours than it lasted");
    //  At most 500 records at once.
    char *many = malloc (501 * 48 + 8);
    size_t used = (size_t) sprintf (many, "[");
    for (int i = 0; i < 501; i++)
        used += (size_t) sprintf (many + used, "%s{\"volunteer_id\": \"%d\", \"hours\": 1}",
                                  i ? ", " : "", 900000 + i);
    sprintf (many + used, "]");
    S_REFUSED (&TOWN_A, s_backfill_body (3 * 86400, 7200, "纸质签到表补录", many),
               ST_INVALID_ARGUMENT, "records", "501 records");
    free (many);
#undef S_REFUSED

    //  Entered once, whatever the retries: the same request id is the same back-entry.
    snprintf (records, sizeof records,
              "[{\"volunteer_id\": \"%s\", \"hours\": 2}, {\"volunteer_id\": \"%s\","
              " \"hours\": 1.5}]",
              a, b);
    char *body = s_backfill_body (3 * 86400, 7200, "纸质签到表补录", records);
    uint8_t id[16];
    randombytes_buf (id, sizeof id);
    json_t *reply, *again;
    assert_int_equal (
        fx_call_id ("match", &TOWN_A, "activity.backfill", body, id, FX_CALL_MS, &reply, &err),
        ST_OK);
    assert_int_equal (
        fx_call_id ("match", &TOWN_A, "activity.backfill", body, id, FX_CALL_MS, &again, &err),
        ST_OK);
    free (body);
    json_t *activity = json_object_get (reply, "activity");
    char activity_id[32];
    snprintf (activity_id, sizeof activity_id, "%s", fx_str (activity, "id"));
    assert_string_equal (fx_str (json_object_get (again, "activity"), "id"), activity_id);
    json_decref (again);
    assert_true (json_is_true (json_object_get (activity, "manual")));
    assert_int_equal (fx_int (activity, "confirmed"), 0);
    json_t *items = json_object_get (reply, "records");
    assert_int_equal (json_array_size (items), 2);
    const char *who[] = {a, b};
    const double hours[] = {2.0, 1.5};
    const long minutes[] = {120, 90};
    for (size_t i = 0; i < 2; i++) {
        json_t *record = json_array_get (items, i);
        assert_string_equal (fx_str (record, "volunteer_id"), who[i]);
        assert_string_equal (fx_str (record, "status"), "confirmed");
        assert_true (json_is_true (json_object_get (record, "manual")));
        assert_true (json_real_value (json_object_get (record, "hours")) == hours[i]);
        assert_string_equal (fx_str (record, "confirmed_by"), "town-a");
        json_t *event;
        assert_int_equal (fx_events_json ("service.completed", fx_str (record, "id"), &event), 1);
        assert_int_equal (fx_int (event, "minutes"), minutes[i]);
        assert_string_equal (fx_str (event, "category"), "elderly");
        json_decref (event);
    }
    json_decref (reply);
    assert_int_equal (s_backfill_state (), before + 1000000 + 2000 + 1);
    assert_int_equal (fx_count ("SELECT count (*) FROM match.backfills WHERE activity_id = %s"
                                " AND actor = 'town-a' AND reason = '纸质签到表补录'"
                                " AND records = 2",
                                activity_id),
                      1);
    //  Marked manual wherever it is read.
    char ref[128];
    snprintf (ref, sizeof ref, "{\"id\": \"%s\"}", activity_id);
    reply = fx_call_ok ("match", &TOWN_A, "activity.get", ref);
    assert_true (json_is_true (json_object_get (reply, "manual")));
    json_decref (reply);
    snprintf (ref, sizeof ref, "{\"activity_id\": \"%s\"}", activity_id);
    reply = fx_call_ok ("match", &TOWN_A, "record.list", ref);
    assert_int_equal (json_array_size (json_object_get (reply, "items")), 2);
    assert_true (json_is_true (
        json_object_get (json_array_get (json_object_get (reply, "items"), 0), "manual")));
    json_decref (reply);
    free (a);
    free (b);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_checkin_code_issued),   cmocka_unit_test (test_checkin_needs_code),
        cmocka_unit_test (test_offer_carries_request), cmocka_unit_test (test_offer_assign),
        cmocka_unit_test (test_dispatch_rounds),       cmocka_unit_test (test_backfill),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
