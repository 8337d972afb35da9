/*  dispatch_test.c — service requests, dispatch rounds and offers in match, against a real
    database and real registry and match processes: volunteers and residents registered through
    registry (match's replicas fill from its events), rounds every 200 ms. An offer reaches the
    fitting volunteer and never an unfit one; accept staffs and commits; a decliner is never
    asked again; offers expire; the database refuses overlapping commitments; urgent care-group
    requests win scarce volunteers; requests nobody can serve end unfilled with a reason;
    cancelling withdraws offers; rejected ops change nothing; and a randomized run checks every
    hard rule after every round.

    Each test uses skills of its own, so that the volunteers of one never fit the requests of
    another.  */
#include "fixture.h"
#include "st_log.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <setjmp.h>
#include <cmocka.h>

#define VILLAGE   "431022100201"
#define NEIGHBOUR "431022100202" //  same township
#define FARAWAY   "431022101203" //  another township of the county
//  Where a request says it is, so that the volunteer nearest it is offered first.
#define AT_VILLAGE ", \"lat\": 25.40, \"lon\": 112.95"

static fx_t *F;

static const msg_actor_t TOWN = {
    .account = "town-admin", .role = "region_admin", .region = "431022100000"};
static const msg_actor_t OTHER_TOWN = {
    .account = "other-admin", .role = "region_admin", .region = "431022101000"};

//  ---------------------------------------------------------------------------------------
//  Fixture: registry and match with rounds every 200 ms, the county's regions

static int
s_setup (void **state)
{
    setenv ("STATION_DISPATCH_ROUND_MS", "200", 1);
    setenv ("STATION_DISPATCH_REPLY_NORMAL_S", "2", 1);
    F = fx_new ("dispatch", FX_REGISTRY | FX_MATCH);
    fx_county_add ();
    *state = F;
    return 0;
}

static int
s_teardown (void **state)
{
    (void) state;
    fx_destroy (&F);
    return 0;
}

//  ---------------------------------------------------------------------------------------
//  Tests

//  The offer reaches the one volunteer who fits (skill, slot, region) and never the others;
//  accepting staffs the request, commits the volunteer and withdraws nothing else.
static void
test_offer_fits_and_accept (void **state)
{
    (void) state;
    char start[64], end[64], slot[8], other_slot[8], availability[64], wrong[64];
    fx_local (2, 9, 0, start, slot);
    fx_local (2, 12, 0, end, NULL);
    fx_local (3, 9, 0, wrong, other_slot);
    snprintf (availability, sizeof availability, "[\"%s\"]", slot);
    snprintf (wrong, sizeof wrong, "[\"%s\"]", other_slot);
    char fit[32], no_skill[32], no_slot[32], far[32], resident[32], request[32];
    fx_volunteer_add ("张适合", VILLAGE, "[\"t1手语\", \"急救\"]", availability, 25.40, 112.95, "",
                      fit);
    fx_volunteer_add ("李无技能", VILLAGE, "[\"急救\"]", availability, 25.40, 112.95, "", no_skill);
    fx_volunteer_add ("王没空", VILLAGE, "[\"t1手语\"]", wrong, 25.40, 112.95, "", no_slot);
    fx_volunteer_add ("赵太远", FARAWAY, "[\"t1手语\"]", availability, 25.40, 112.95, "", far);
    fx_resident_add ("王奶奶", VILLAGE, "[]", resident);
    msg_actor_t actor = fx_resident (resident);
    fx_request_add (&actor, VILLAGE, start, end, 1, "[\"t1手语\"]", "urgent", "", "open", request);

    char offer[32];
    fx_wait_offer (fit, request, offer);
    assert_int_equal (fx_events ("offer.made", offer), 1);
    fx_sleep_ms (1000); //  five more rounds
    assert_int_equal (fx_offers (no_skill, NULL), 0);
    assert_int_equal (fx_offers (no_slot, NULL), 0);
    assert_int_equal (fx_offers (far, NULL), 0);
    json_t *got = fx_request_get (request);
    assert_string_equal (fx_str (got, "status"), "matching");
    json_t *assignments = json_object_get (got, "assignments");
    assert_int_equal (json_array_size (assignments), 1);
    assert_string_equal (fx_str (json_array_get (assignments, 0), "volunteer_id"), fit);
    assert_string_equal (fx_str (json_array_get (assignments, 0), "status"), "pending");
    json_decref (got);

    //  Only the offered volunteer may answer; someone else's offer reads as not found.
    st_error_t err;
    fx_expect ("accept by another", fx_answer ("offer.accept", no_skill, offer, &err), &err,
               ST_NOT_FOUND, "id");
    assert_int_equal (fx_answer ("offer.accept", fit, offer, &err), ST_OK);
    got = fx_request_get (request);
    assert_string_equal (fx_str (got, "status"), "staffed");
    assert_int_equal (json_integer_value (json_object_get (got, "accepted")), 1);
    json_decref (got);
    assert_int_equal (fx_count ("SELECT count (*) FROM match.commitments WHERE volunteer_id = %s"
                                " AND request_id = %s AND during = tstzrange ('%s', '%s')",
                                fit, request, start, end),
                      1);
    assert_int_equal (fx_events ("offer.accepted", offer), 1);
    assert_int_equal (fx_events ("request.staffed", request), 1);
    //  Answered once: a second answer is a conflict and changes nothing.
    fx_expect ("accept twice", fx_answer ("offer.accept", fit, offer, &err), &err, ST_CONFLICT,
               "id");
    fx_expect ("decline after accept", fx_answer ("offer.decline", fit, offer, &err), &err,
               ST_CONFLICT, "id");
    assert_int_equal (
        fx_count ("SELECT count (*) FROM match.commitments WHERE volunteer_id = %s", fit), 1);
    //  A staffed request is offered to no one else.
    fx_sleep_ms (600);
    assert_int_equal (
        fx_count ("SELECT count (*) FROM match.offers WHERE request_id = %s", request), 1);
    //  Cancelled after all: the accepted volunteer is told and their time is free again.
    char body[64];
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", request);
    assert_int_equal (fx_call ("match", &actor, "request.cancel", body, NULL, &err), ST_OK);
    assert_int_equal (fx_events ("offer.withdrawn", offer), 1);
    assert_int_equal (
        fx_count ("SELECT count (*) FROM match.commitments WHERE volunteer_id = %s", fit), 0);
}

//  A decline sends the request to the next volunteer, and never back to the decliner.
static void
test_decline (void **state)
{
    (void) state;
    char start[64], end[64], availability[64];
    fx_window (4, 14, 17, start, end, availability);
    char near[32], next[32], request[32];
    //  The nearer one is offered first.
    fx_volunteer_add ("钱近", VILLAGE, "[\"t2理发\"]", availability, 25.401, 112.951, "", near);
    fx_volunteer_add ("孙远", VILLAGE, "[\"t2理发\"]", availability, 25.45, 113.00, "", next);
    fx_request_add (&TOWN, VILLAGE, start, end, 1, "[\"t2理发\"]", "urgent", AT_VILLAGE, "open",
                    request);
    char offer[32];
    fx_wait_offer (near, request, offer);
    assert_int_equal (fx_offers (next, NULL), 0);
    st_error_t err;
    assert_int_equal (fx_answer ("offer.decline", near, offer, &err), ST_OK);
    assert_int_equal (fx_events ("offer.declined", offer), 1);
    char second[32];
    fx_wait_offer (next, request, second);
    fx_sleep_ms (1000);
    assert_int_equal (fx_offers (near, NULL), 1);
    assert_int_equal (fx_offers (near, "pending"), 0);
    fx_expect ("accept after decline", fx_answer ("offer.accept", near, offer, &err), &err,
               ST_CONFLICT, "id");
}

//  An unanswered offer expires at its deadline (2 s for normal requests here): offer.expired,
//  a new offer to someone else, and accepting the expired one is a conflict.
static void
test_expiry (void **state)
{
    (void) state;
    char start[64], end[64], availability[64];
    fx_window (5, 19, 21, start, end, availability);
    char first[32], second[32], request[32];
    fx_volunteer_add ("周一", VILLAGE, "[\"t3电工\"]", availability, 25.401, 112.951, "", first);
    fx_volunteer_add ("吴二", VILLAGE, "[\"t3电工\"]", availability, 25.45, 113.00, "", second);
    fx_request_add (&TOWN, VILLAGE, start, end, 1, "[\"t3电工\"]", "normal", AT_VILLAGE, "open",
                    request);
    char offer[32];
    fx_wait_offer (first, request, offer);
    fx_wait_offer_status (first, offer, "expired");
    assert_int_equal (fx_events ("offer.expired", offer), 1);
    char next[32];
    fx_wait_offer (second, request, next);
    st_error_t err;
    fx_expect ("accept after expiry", fx_answer ("offer.accept", first, offer, &err), &err,
               ST_CONFLICT, "id");
    assert_int_equal (
        fx_count ("SELECT count (*) FROM match.commitments WHERE volunteer_id = %s", first), 0);
    //  An offer past its deadline but not yet expired by a round is refused too.
    fx_sql ("UPDATE match.offers SET deadline = now () WHERE id = %s", next);
    fx_expect ("accept at the deadline", fx_answer ("offer.accept", second, next, &err), &err,
               ST_CONFLICT, "id");
}

//  The database itself refuses a commitment overlapping another of the same volunteer.
static void
test_exclusion (void **state)
{
    (void) state;
    char start[64], end[64], slot[8], availability[64], later[64], later_end[64];
    fx_local (6, 9, 0, start, slot);
    fx_local (6, 11, 0, end, NULL);
    fx_local (6, 10, 0, later, NULL);
    fx_local (6, 12, 0, later_end, NULL);
    snprintf (availability, sizeof availability, "[\"%s\"]", slot);
    char volunteer[32], a[32], b[32];
    fx_volunteer_add ("郑忙", VILLAGE, "[\"t4无人\"]", "[]", 25.40, 112.95, "", volunteer);
    fx_request_add (&TOWN, VILLAGE, start, end, 1, "[\"t4不存在\"]", "urgent", "", "open", a);
    fx_request_add (&TOWN, VILLAGE, later, later_end, 1, "[\"t4不存在\"]", "urgent", "", "open", b);
    PGconn *pg = harness_pg (fx_harness ());
    char sql[512];
    snprintf (sql, sizeof sql,
              "INSERT INTO match.commitments (volunteer_id, request_id, during)"
              " VALUES (%s, %s, tstzrange ('%s', '%s'))",
              volunteer, a, start, end);
    PGresult *res = PQexec (pg, sql);
    assert_int_equal (PQresultStatus (res), PGRES_COMMAND_OK);
    PQclear (res);
    snprintf (sql, sizeof sql,
              "INSERT INTO match.commitments (volunteer_id, request_id, during)"
              " VALUES (%s, %s, tstzrange ('%s', '%s'))",
              volunteer, b, later, later_end);
    res = PQexec (pg, sql);
    assert_int_equal (PQresultStatus (res), PGRES_FATAL_ERROR);
    assert_string_equal (PQresultErrorField (res, PG_DIAG_SQLSTATE), "23P01");
    PQclear (res);
    //  Back to back is no overlap ([start, end) ranges).
    snprintf (sql, sizeof sql,
              "INSERT INTO match.commitments (volunteer_id, request_id, during)"
              " VALUES (%s, %s, tstzrange ('%s', '%s'))",
              volunteer, b, end, later_end);
    res = PQexec (pg, sql);
    assert_int_equal (PQresultStatus (res), PGRES_COMMAND_OK);
    PQclear (res);
    assert_int_equal (
        fx_count ("SELECT count (*) FROM match.commitments WHERE volunteer_id = %s", volunteer), 2);
}

//  One volunteer, two requests: the urgent one of a resident cared for first gets the offer.
static void
test_priority (void **state)
{
    (void) state;
    char start[64], end[64], availability[64];
    fx_window (7, 9, 11, start, end, availability);
    char plain[32], cared[32], normal[32], urgent[32], volunteer[32];
    fx_resident_add ("李大爷", VILLAGE, "[]", plain);
    fx_resident_add ("陈奶奶", VILLAGE, "[\"empty_nest_elderly\"]", cared);
    //  Both requests are there before the volunteer, so one round sees both.
    msg_actor_t plain_actor = fx_resident (plain), cared_actor = fx_resident (cared);
    fx_request_add (&plain_actor, VILLAGE, start, end, 1, "[\"t5陪护\"]", "normal", "", "open",
                    normal);
    fx_request_add (&cared_actor, VILLAGE, start, end, 1, "[\"t5陪护\"]", "urgent", "", "open",
                    urgent);
    fx_volunteer_add ("冯唯一", VILLAGE, "[\"t5陪护\"]", availability, 25.40, 112.95, "",
                      volunteer);
    char offer[32];
    fx_wait_offer (volunteer, urgent, offer);
    assert_int_equal (fx_count ("SELECT count (*) FROM match.offers WHERE request_id = %s", normal),
                      0);
}

//  A request nobody can serve ends unfilled when its start comes, with a reason naming the
//  skill, the region searched and the slot.
static void
test_unfilled (void **state)
{
    (void) state;
    time_t now = time (NULL);
    time_t at = now + 3, until = now + 3 + 3600;
    struct tm tm;
    char start[64], end[64], request[32];
    gmtime_r (&at, &tm);
    strftime (start, sizeof start, "%Y-%m-%dT%H:%M:%SZ", &tm);
    gmtime_r (&until, &tm);
    strftime (end, sizeof end, "%Y-%m-%dT%H:%M:%SZ", &tm);
    fx_request_add (&TOWN, VILLAGE, start, end, 2, "[\"t6手语\"]", "urgent", "", "open", request);
    fx_wait_request (request, "unfilled");
    json_t *got = fx_request_get (request);
    const char *reason = fx_str (got, "reason");
    if (!strstr (reason, "t6手语") || !strstr (reason, VILLAGE) || !strstr (reason, "0 of 2")
        || !strstr (reason, "(0 declined, 0 let the offer lapse)"))
        fail_msg ("reason \"%s\" does not say what was missing", reason);
    json_decref (got);
    assert_int_equal (fx_events ("request.unfilled", request), 1);
}

//  Cancelling withdraws the pending offers; the withdrawn offer can no longer be accepted;
//  a cancelled request cannot be cancelled again.
static void
test_cancel (void **state)
{
    (void) state;
    char start[64], end[64], availability[64];
    fx_window (8, 14, 16, start, end, availability);
    char resident[32], volunteer[32], request[32];
    fx_resident_add ("蒋阿姨", VILLAGE, "[]", resident);
    fx_volunteer_add ("沈帮忙", NEIGHBOUR, "[\"t7修水管\"]", availability, 25.40, 112.95, "",
                      volunteer);
    msg_actor_t actor = fx_resident (resident);
    //  A neighbour of the same township is found once the search widens: made old enough.
    fx_request_add (&actor, VILLAGE, start, end, 1, "[\"t7修水管\"]", "urgent", "", "open",
                    request);
    fx_sleep_ms (600);
    assert_int_equal (
        fx_count ("SELECT count (*) FROM match.offers WHERE request_id = %s", request), 0);
    fx_sql ("UPDATE match.requests SET published_at = now () - interval '2 minutes' WHERE id = %s",
            request);
    char offer[32];
    fx_wait_offer (volunteer, request, offer);

    char body[64];
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", request);
    st_error_t err;
    msg_actor_t stranger = fx_resident ("999999");
    fx_expect ("cancel by a stranger",
               fx_call ("match", &stranger, "request.cancel", body, NULL, &err), &err, ST_NOT_FOUND,
               "id");
    fx_expect ("cancel out of scope",
               fx_call ("match", &OTHER_TOWN, "request.cancel", body, NULL, &err), &err,
               ST_NOT_FOUND, "id");
    assert_string_equal (fx_offer_status (volunteer, offer), "pending");
    json_t *reply;
    assert_int_equal (fx_call ("match", &actor, "request.cancel", body, &reply, &err), ST_OK);
    assert_string_equal (fx_str (reply, "status"), "cancelled");
    json_decref (reply);
    assert_string_equal (fx_offer_status (volunteer, offer), "withdrawn");
    assert_int_equal (fx_events ("offer.withdrawn", offer), 1);
    assert_int_equal (fx_events ("request.cancelled", request), 1);
    fx_expect ("accept a withdrawn offer", fx_answer ("offer.accept", volunteer, offer, &err), &err,
               ST_CONFLICT, "id");
    fx_expect ("cancel twice", fx_call ("match", &actor, "request.cancel", body, NULL, &err), &err,
               ST_CONFLICT, "id");
    fx_sleep_ms (600);
    assert_int_equal (
        fx_count ("SELECT count (*) FROM match.offers WHERE request_id = %s", request), 1);
}

//  Every rejected request.create names its field and stores nothing; wrong actors are
//  refused; offers of others and unknown ids read as not found.
static void
test_rejected (void **state)
{
    (void) state;
    char start[64], end[64], close_end[64], past[64];
    fx_local (9, 9, 0, start, NULL);
    fx_local (9, 11, 0, end, NULL);
    snprintf (close_end, sizeof close_end, "%.19s+08:00", start);
    close_end[14] = '3'; //  09:30, half an hour after the start
    fx_local (-1, 9, 0, past, NULL);
    long requests = fx_count ("SELECT count (*) FROM match.requests");
    //  Rounds go on meanwhile (offers expire): only request events are the ops' own.
    long events = fx_count ("SELECT count (*) FROM match.outbox WHERE topic LIKE 'request.%%'");
    struct {
        const msg_actor_t *actor;
        const char *region, *start, *end, *extra;
        st_status_t code;
        const char *field;
    } cases[] = {
        {&TOWN, "4310221002", start, end, "", ST_INVALID_ARGUMENT, "region"},
        {&TOWN, VILLAGE, "tomorrow", end, "", ST_INVALID_ARGUMENT, "earliest_start"},
        {&TOWN, VILLAGE, start, "2026-02-30T09:00:00+08:00", "", ST_INVALID_ARGUMENT, "latest_end"},
        {&TOWN, VILLAGE, past, end, "", ST_INVALID_ARGUMENT, "earliest_start"},
        {&TOWN, VILLAGE, start, close_end, "", ST_INVALID_ARGUMENT, "latest_end"},
        {&TOWN, VILLAGE, start, end, ", \"urgency\": \"soon\"", ST_INVALID_ARGUMENT, "urgency"},
        {&TOWN, VILLAGE, start, end, ", \"headcount\": 21", ST_INVALID_ARGUMENT, "headcount"},
        {&TOWN, VILLAGE, start, end, ", \"headcount\": 0", ST_INVALID_ARGUMENT, "headcount"},
        {&TOWN, VILLAGE, start, end, ", \"resident_id\": \"x1\"", ST_INVALID_ARGUMENT,
         "resident_id"},
        {&OTHER_TOWN, VILLAGE, start, end, "", ST_PERMISSION_DENIED, "region"},
        {NULL, VILLAGE, start, end, "", ST_UNAUTHENTICATED, "actor"},
    };
    msg_actor_t volunteer = fx_volunteer ("1");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char body[1024];
        snprintf (body, sizeof body,
                  "{\"category\": \"助老\", \"title\": \"t\", \"description\": \"d\","
                  " \"region\": \"%s\", \"earliest_start\": \"%s\", \"latest_end\": \"%s\","
                  " \"duration_minutes\": 60, \"skills\": []%s%s}",
                  cases[i].region, cases[i].start, cases[i].end,
                  strstr (cases[i].extra, "headcount") ? "" : ", \"headcount\": 1", cases[i].extra);
        st_error_t err;
        char what[64];
        snprintf (what, sizeof what, "request.create case %zu", i);
        fx_expect (what, fx_call ("match", cases[i].actor, "request.create", body, NULL, &err),
                   &err, cases[i].code, cases[i].field);
    }
    char body[1024];
    snprintf (body, sizeof body,
              "{\"category\": \"助老\", \"title\": \"t\", \"description\": \"d\","
              " \"region\": \"%s\", \"earliest_start\": \"%s\", \"latest_end\": \"%s\","
              " \"duration_minutes\": 60, \"headcount\": 1}",
              VILLAGE, start, end);
    st_error_t err;
    fx_expect ("a volunteer posts",
               fx_call ("match", &volunteer, "request.create", body, NULL, &err), &err,
               ST_PERMISSION_DENIED, "actor.role");
    assert_int_equal (fx_count ("SELECT count (*) FROM match.requests"), requests);
    assert_int_equal (fx_count ("SELECT count (*) FROM match.outbox WHERE topic LIKE 'request.%%'"),
                      events);

    fx_expect ("get unknown",
               fx_call ("match", &FX_SYSTEM, "request.get", "{\"id\": \"0\"}", NULL, &err), &err,
               ST_NOT_FOUND, "id");
    fx_expect ("accept unknown",
               fx_call ("match", &volunteer, "offer.accept", "{\"id\": \"99999\"}", NULL, &err),
               &err, ST_NOT_FOUND, "id");
    fx_expect ("list by an official", fx_call ("match", &TOWN, "offer.list", "{}", NULL, &err),
               &err, ST_PERMISSION_DENIED, "actor.role");
    fx_expect ("list a bad status",
               fx_call ("match", &volunteer, "offer.list", "{\"status\": \"maybe\"}", NULL, &err),
               &err, ST_INVALID_ARGUMENT, "status");
    assert_int_equal (fx_count ("SELECT count (*) FROM match.outbox WHERE topic LIKE 'request.%%'"),
                      events);
}

//  Two volunteers alike in all but one thing: one of them was confirmed for an activity now
//  over and never checked in to it. The round offers the request to the other (no-shows of
//  activities cost as those of requests do).
static void
test_activity_no_show (void **state)
{
    (void) state;
    char start[64], end[64], availability[64], closes[64];
    fx_window (16, 9, 11, start, end, availability);
    char missed[32], kept[32], activity[32], request[32];
    //  The one who missed it registers first, so that a tie would go their way.
    fx_volunteer_add ("缺席者", VILLAGE, "[\"t10缺席\"]", availability, 25.40, 112.95, "", missed);
    fx_volunteer_add ("守约者", VILLAGE, "[\"t10缺席\"]", availability, 25.40, 112.95, "", kept);
    char act_start[64], act_end[64], body[512];
    fx_local (15, 14, 0, act_start, NULL);
    fx_local (15, 16, 0, act_end, NULL);
    fx_local (14, 20, 0, closes, NULL);
    snprintf (body, sizeof body,
              "{\"title\": \"清扫河道\", \"category\": \"环保\", \"region\": \"%s\","
              " \"starts_at\": \"%s\", \"ends_at\": \"%s\", \"signup_closes_at\": \"%s\","
              " \"capacity\": 5}",
              VILLAGE, act_start, act_end, closes);
    json_t *reply = fx_call_ok ("match", &FX_SYSTEM, "activity.create", body);
    snprintf (activity, sizeof activity, "%s", fx_str (reply, "id"));
    json_decref (reply);
    msg_actor_t as_missed = fx_volunteer (missed);
    snprintf (body, sizeof body, "{\"activity_id\": \"%s\"}", activity);
    reply = fx_call_ok ("match", &as_missed, "activity.signup", body);
    assert_string_equal (fx_str (reply, "status"), "confirmed");
    json_decref (reply);
    //  The activity took place last week; nobody checked in.
    fx_sql ("UPDATE match.activities SET signup_closes_at = now () - interval '8 days',"
            " starts_at = now () - interval '7 days', ends_at = now () - interval '7 days'"
            " + interval '2 hours' WHERE id = %s",
            activity);
    fx_request_add (&TOWN, VILLAGE, start, end, 1, "[\"t10缺席\"]", "urgent", AT_VILLAGE, "open",
                    request);
    char offer[32];
    fx_wait_offer (kept, request, offer);
    assert_int_equal (fx_offers (missed, NULL), 0);
}

//  ---------------------------------------------------------------------------------------
//  A randomized run: many requests, volunteers answering at random, and every hard rule
//  checked after every round.

//  The hard rules, each a query counting its violations.
static const struct {
    const char *rule;
    const char *sql;
} s_rules[] = {
    {"no volunteer is committed to overlapping times",
     "SELECT count (*) FROM match.commitments a JOIN match.commitments b"
     " ON a.volunteer_id = b.volunteer_id AND a.id < b.id AND a.during && b.during"},
    {"at most one pending offer per volunteer",
     "SELECT count (*) FROM (SELECT volunteer_id FROM match.offers WHERE status = 'pending'"
     " GROUP BY volunteer_id HAVING count (*) > 1) x"},
    {"accepted counts the accepted offers of live requests",
     "SELECT count (*) FROM match.requests r WHERE r.status <> 'cancelled' AND r.accepted <>"
     " (SELECT count (*) FROM match.offers o WHERE o.request_id = r.id"
     " AND o.status = 'accepted')"},
    {"never more accepted and pending than the headcount",
     "SELECT count (*) FROM match.requests r WHERE (SELECT count (*) FROM match.offers o"
     " WHERE o.request_id = r.id AND o.status IN ('pending', 'accepted')) > r.headcount"},
    {"staffed exactly when the headcount is reached",
     "SELECT count (*) FROM match.requests WHERE status IN ('open', 'matching', 'staffed')"
     " AND (status = 'staffed') <> (accepted = headcount)"},
    {"no pending offer for a closed request",
     "SELECT count (*) FROM match.offers o JOIN match.requests r ON r.id = o.request_id"
     " WHERE o.status = 'pending' AND r.status NOT IN ('open', 'matching')"},
    {"every accepted offer of a live request is a commitment",
     "SELECT count (*) FROM match.offers o JOIN match.requests r ON r.id = o.request_id"
     " WHERE o.status = 'accepted' AND r.status <> 'cancelled' AND NOT EXISTS (SELECT 1"
     " FROM match.commitments c WHERE c.request_id = o.request_id"
     " AND c.volunteer_id = o.volunteer_id)"},
    {"every offer went to an active volunteer with the skills, free in a slot of the window",
     "SELECT count (*) FROM match.offers o JOIN match.requests r ON r.id = o.request_id"
     " JOIN match.supply s ON s.volunteer_id = o.volunteer_id WHERE NOT (s.skills @> r.skills"
     " AND s.availability && string_to_array (match.dispatch_slots (r.earliest_start,"
     " r.latest_end), E'\\x1f')"
     " AND s.region LIKE substr (r.region, 1, 6) || '%')"},
    {"no offer stays pending long past its deadline",
     "SELECT count (*) FROM match.offers WHERE status = 'pending'"
     " AND deadline < now () - interval '3 seconds'"},
};

//  Fails the test naming the first hard rule broken.
static void
s_check_rules (int round)
{
    for (size_t i = 0; i < sizeof s_rules / sizeof s_rules[0]; i++) {
        long broken = fx_count ("%s", s_rules[i].sql);
        if (broken != 0)
            fail_msg ("round %d: %ld violations of \"%s\"", round, broken, s_rules[i].rule);
    }
}

static void
test_randomized (void **state)
{
    (void) state;
    srand (20261129);
    static const char *skills[] = {"t9甲", "t9乙", "t9丙"};
    static const char *regions[] = {VILLAGE, NEIGHBOUR, FARAWAY};
    static const int hours[] = {8, 10, 14, 19};
    enum { VOLUNTEERS = 40, REQUESTS = 200, ROUNDS = 60 };
    char volunteers[VOLUNTEERS][32];
    for (int i = 0; i < VOLUNTEERS; i++) {
        //  Skills: one or two of three; availability: a few slots of the days ahead.
        char have[128], slots[256], name[32];
        int a = rand () % 3, b = rand () % 3;
        snprintf (have, sizeof have, "[\"%s\", \"%s\"]", skills[a], skills[b]);
        size_t used = (size_t) snprintf (slots, sizeof slots, "[");
        for (int d = 10; d < 14; d++)
            for (int h = 0; h < 4; h++)
                if (rand () % 2) {
                    char at[64], slot[8];
                    fx_local (d, hours[h], 0, at, slot);
                    if (!strstr (slots, slot))
                        used += (size_t) snprintf (slots + used, sizeof slots - used, "%s\"%s\"",
                                                   used > 1 ? ", " : "", slot);
                }
        snprintf (slots + used, sizeof slots - used, "]");
        snprintf (name, sizeof name, "志愿者%d", i);
        fx_volunteer_add (name, regions[rand () % 3], have, slots, 25.3 + (rand () % 100) / 500.0,
                          112.9 + (rand () % 100) / 500.0, "", volunteers[i]);
    }
    char requests[REQUESTS][32];
    for (int i = 0; i < REQUESTS; i++) {
        char start[64], end[64], need[64];
        int day = 10 + rand () % 4, hour = hours[rand () % 4];
        fx_local (day, hour, 0, start, NULL);
        fx_local (day, hour + 1 + rand () % 3, 0, end, NULL);
        snprintf (need, sizeof need, "[\"%s\"]", skills[rand () % 3]);
        fx_request_add (&TOWN, VILLAGE, start, end, 1 + rand () % 3, need,
                        rand () % 2 ? "urgent" : "normal", "", "open", requests[i]);
        //  Some requests are old enough for their search to widen to township or county.
        if (rand () % 3 == 0) {
            fx_sql ("UPDATE match.requests SET published_at = now () - interval '%d minutes'"
                    " WHERE id = %.20s",
                    rand () % 2 ? 2 : 10, requests[i]);
        }
    }
    int answered = 0, conflicts = 0, cancelled = 0;
    for (int round = 0; round < ROUNDS; round++) {
        fx_sleep_ms (250);
        //  Every pending offer of ours: accepted, declined or left to expire, at random.
        PGresult *res = fx_query ("SELECT o.id, o.volunteer_id FROM match.offers o"
                                  " JOIN match.supply s ON s.volunteer_id = o.volunteer_id"
                                  " WHERE o.status = 'pending' AND s.name LIKE '志愿者%%'");
        for (int row = 0; row < PQntuples (res); row++) {
            int dice = rand () % 10;
            if (dice >= 6)
                continue;
            st_error_t err;
            st_status_t rc = fx_answer (dice < 4 ? "offer.accept" : "offer.decline",
                                        PQgetvalue (res, row, 1), PQgetvalue (res, row, 0), &err);
            //  An offer may expire or be withdrawn between the look and the answer.
            if (rc == ST_CONFLICT)
                conflicts++;
            else if (rc == ST_OK)
                answered++;
            else
                fail_msg ("answer: %s", err.message);
        }
        PQclear (res);
        if (rand () % 10 == 0) {
            char body[64];
            snprintf (body, sizeof body, "{\"id\": \"%s\"}", requests[rand () % REQUESTS]);
            st_error_t err;
            st_status_t rc = fx_call ("match", &TOWN, "request.cancel", body, NULL, &err);
            assert_true (rc == ST_OK || rc == ST_CONFLICT);
            cancelled += rc == ST_OK;
        }
        s_check_rules (round);
    }
    //  The run did something: offers were made and answered, some requests were staffed.
    assert_true (answered > 20);
    assert_true (fx_count ("SELECT count (*) FROM match.requests WHERE status = 'staffed'") > 0);
    assert_true (fx_count ("SELECT count (*) FROM match.offers WHERE status = 'expired'") > 0);
    (void) conflicts;
    (void) cancelled;
}

//  A request is offered to a volunteer free in any slot its window touches: one ordered at
//  night for "the next day" (23:00 to 12:00) reaches the volunteer free that morning, never the
//  one free only the evening before the window opens. (Once only the slot of the start counted:
//  22:00-06:00 is none, and such a request waited for nobody.)
static void
test_night_window (void **state)
{
    (void) state;
    char start[64], end[64], evening[8], morning[8], availability[64], wrong[64];
    fx_local (4, 23, 0, start, NULL);
    fx_local (4, 19, 0, wrong, evening);
    fx_local (5, 12, 0, end, NULL);
    fx_local (5, 9, 0, availability, morning);
    snprintf (availability, sizeof availability, "[\"%s\"]", morning);
    snprintf (wrong, sizeof wrong, "[\"%s\"]", evening);
    char early[32], late[32], resident[32], request[32], offer[32];
    fx_volunteer_add ("钱早起", VILLAGE, "[\"t4夜单\"]", availability, 25.40, 112.95, "", early);
    fx_volunteer_add ("孙晚班", VILLAGE, "[\"t4夜单\"]", wrong, 25.40, 112.95, "", late);
    fx_resident_add ("李爷爷", VILLAGE, "[]", resident);
    msg_actor_t actor = fx_resident (resident);
    fx_request_add (&actor, VILLAGE, start, end, 1, "[\"t4夜单\"]", "normal", "", "open", request);
    fx_wait_offer (early, request, offer);
    fx_sleep_ms (1000); //  five more rounds
    assert_int_equal (fx_offers (late, NULL), 0);
}

int
main (void)
{
    st_log_init ("dispatch_test", "warn");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_offer_fits_and_accept),
        cmocka_unit_test (test_night_window),
        cmocka_unit_test (test_decline),
        cmocka_unit_test (test_expiry),
        cmocka_unit_test (test_exclusion),
        cmocka_unit_test (test_priority),
        cmocka_unit_test (test_unfilled),
        cmocka_unit_test (test_cancel),
        cmocka_unit_test (test_rejected),
        cmocka_unit_test (test_activity_no_show),
        cmocka_unit_test (test_randomized),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
