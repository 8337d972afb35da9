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
#include "harness.h"
#include "st_json.h"
#include "st_log.h"
#include "test_util.h"

#include <jansson.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#define WAIT_MS   15000 //  how long a wait for a round lasts before the test fails
#define VILLAGE   "431022100201"
#define NEIGHBOUR "431022100202" //  same township
#define FARAWAY   "431022101203" //  another township of the county

typedef struct {
    harness_t *h;
    st_client_t *registry;
    st_client_t *match;
    int people; //  numbers ID numbers and phones
} s_fixture_t;

static s_fixture_t *F;

static const msg_actor_t SYSTEM = {.account = "operator-1", .role = "system"};
static const msg_actor_t TOWN = {
    .account = "town-admin", .role = "region_admin", .region = "431022100000"};
static const msg_actor_t OTHER_TOWN = {
    .account = "other-admin", .role = "region_admin", .region = "431022101000"};

//  A volunteer's account standing for volunteer `id`.
static msg_actor_t
s_volunteer (const char *id)
{
    return (msg_actor_t){.account = "account-v", .role = "volunteer", .volunteer_id = (char *) id};
}

//  A resident's account standing for resident `id`.
static msg_actor_t
s_resident (const char *id)
{
    return (msg_actor_t){.account = "account-r", .role = "resident", .resident_id = (char *) id};
}

//  ---------------------------------------------------------------------------------------
//  Calls and looks

//  Calls `service`'s op with a JSON body as `actor`; the reply as JSON into *reply (when not
//  NULL and ok), the error into *err. Returns the status.
static st_status_t
s_call (const char *service, const msg_actor_t *actor, const char *op_name, const char *body,
        json_t **reply, st_error_t *err)
{
    const st_op_desc_t *op = st_proto_op (service, op_name);
    assert_non_null (op);
    json_error_t json_err;
    json_t *json = json_loads (body, 0, &json_err);
    if (!json)
        fail_msg ("bad test JSON %s: %s", body, json_err.text);
    st_error_t local;
    if (!err)
        err = &local;
    memset (err, 0, sizeof *err);
    void *request = calloc (1, op->request->size);
    st_status_t rc = st_json_to_msg (op->request, json, request, err) ? err->code : ST_OK;
    json_decref (json);
    void *response = calloc (1, op->reply->size);
    st_client_t *client = strcmp (service, "match") == 0 ? F->match : F->registry;
    if (rc == ST_OK)
        rc = st_client_call (client, op_name, actor, NULL, op->request, request, op->reply,
                             response, 30000, err);
    if (rc == ST_OK && reply)
        *reply = st_msg_to_json (op->reply, response);
    st_msg_clear (op->reply, response);
    st_msg_clear (op->request, request);
    free (response);
    free (request);
    return rc;
}

//  A string member of a JSON object ("" when absent).
static const char *
s_str (json_t *json, const char *key)
{
    const char *value = json_string_value (json_object_get (json, key));
    return value ? value : "";
}

//  A number the superuser reads with a query built from a format.
static long
s_count (const char *format, ...)
{
    char sql[1024];
    va_list args;
    va_start (args, format);
    vsnprintf (sql, sizeof sql, format, args);
    va_end (args);
    return atol (harness_sql (F->h, sql));
}

//  Fails the test unless a call failed with `code` naming `field` in the house style.
static void
s_expect (const char *what, st_status_t rc, const st_error_t *err, st_status_t code,
          const char *field)
{
    if (rc != code || strcmp (err->field, field) != 0)
        fail_msg ("%s: expected %s naming \"%s\", got %s naming \"%s\": %s", what,
                  st_status_name (code), field, st_status_name (rc), err->field, err->message);
    size_t len = strlen (err->message);
    if (len == 0 || (err->message[0] >= 'A' && err->message[0] <= 'Z')
        || err->message[len - 1] == '.')
        fail_msg ("%s: message \"%s\" is not in the house style", what, err->message);
}

static void
s_sleep_ms (int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep (&ts, NULL);
}

//  Waits until a query returns `expected`; fails the test after WAIT_MS.
static void
s_wait_for (long expected, const char *format, ...)
{
    char sql[1024];
    va_list args;
    va_start (args, format);
    vsnprintf (sql, sizeof sql, format, args);
    va_end (args);
    for (int waited = 0; waited < WAIT_MS; waited += 50) {
        if (atol (harness_sql (F->h, sql)) == expected)
            return;
        s_sleep_ms (50);
    }
    fail_msg ("waited %d ms for %ld from %s, got %s", WAIT_MS, expected, sql,
              harness_sql (F->h, sql));
}

//  How many events of `topic` in match's outbox are about `id` (an offer's or a request's
//  id, by the event's message).
static int
s_events (const char *topic, const char *id)
{
    const st_event_desc_t *event = st_proto_event (topic);
    assert_non_null (event);
    PGconn *pg = harness_pg (F->h);
    const char *params[] = {topic};
    PGresult *res = PQexecParams (pg, "SELECT body FROM match.outbox WHERE topic = $1", 1, NULL,
                                  params, NULL, NULL, 1);
    assert_int_equal (PQresultStatus (res), PGRES_TUPLES_OK);
    int count = 0;
    for (int row = 0; row < PQntuples (res); row++) {
        void *body = calloc (1, event->body->size);
        st_error_t err;
        if (st_decode (event->body, (const uint8_t *) PQgetvalue (res, row, 0),
                       (size_t) PQgetlength (res, row, 0), body, &err)
            == 0) {
            //  Every dispatch event's first field is its id.
            const char *got = *(char **) body;
            count += got && strcmp (got, id) == 0;
        }
        st_msg_clear (event->body, body);
        free (body);
    }
    PQclear (res);
    return count;
}

//  ---------------------------------------------------------------------------------------
//  People and requests

//  Registers a volunteer through registry and waits until match's replica has them. skills
//  and availability are JSON arrays; lat and lon place them. Returns the id (static buffer
//  per call site: copy it).
static void
s_volunteer_add (const char *name, const char *region, const char *skills, const char *availability,
                 double lat, double lon, char id[32])
{
    char number[19], digits[18], body[1024];
    int n = ++F->people;
    //  A distinct valid ID number per person: born in 1985, numbered by the sequence.
    unsigned month = 1 + (unsigned) n / 1000 % 12, serial = (unsigned) n % 1000;
    snprintf (digits, sizeof digits, "4310221985%02u15%03u", month % 100, serial);
    test_id_number (digits, number);
    snprintf (body, sizeof body,
              "{\"name\": \"%s\", \"id_number\": \"%s\", \"phone\": \"139%08d\","
              " \"region\": \"%s\", \"skills\": %s, \"availability\": %s, \"lat\": %.6f,"
              " \"lon\": %.6f}",
              name, number, n, region, skills, availability, lat, lon);
    json_t *reply;
    st_error_t err;
    if (s_call ("registry", &SYSTEM, "volunteer.register", body, &reply, &err) != ST_OK)
        fail_msg ("could not register %s: %s", name, err.message);
    snprintf (id, 32, "%s", s_str (reply, "id"));
    json_decref (reply);
    s_wait_for (1, "SELECT count (*) FROM match.supply WHERE volunteer_id = %s", id);
}

//  Registers a resident (care_tags a JSON array) and waits for match's replica.
static void
s_resident_add (const char *name, const char *care_tags, char id[32])
{
    char body[512];
    int n = ++F->people;
    snprintf (body, sizeof body,
              "{\"name\": \"%s\", \"phone\": \"137%08d\", \"region\": \"%s\","
              " \"address\": \"一组%d号\", \"lat\": 25.40, \"lon\": 112.95, \"care_tags\": %s}",
              name, n, VILLAGE, n, care_tags);
    json_t *reply;
    st_error_t err;
    if (s_call ("registry", NULL, "resident.register", body, &reply, &err) != ST_OK)
        fail_msg ("could not register resident %s: %s", name, err.message);
    snprintf (id, 32, "%s", s_str (reply, "id"));
    json_decref (reply);
    s_wait_for (1, "SELECT count (*) FROM match.residents WHERE id = %s", id);
}

//  A time `days` days from now at `hour`:00 Beijing time, as RFC 3339 text; *slot gets the
//  availability slot of that hour (mon_am .. sun_ev).
static void
s_day_at (int days, int hour, char text[64], char slot[8])
{
    static const char *dows[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
    int64_t local = (int64_t) time (NULL) + 8 * 3600;
    int64_t day = local / 86400 + days;
    time_t at = (time_t) (day * 86400 + hour * 3600);
    struct tm tm;
    gmtime_r (&at, &tm);
    snprintf (text, 64, "%04d-%02d-%02dT%02d:00:00+08:00", tm.tm_year + 1900, tm.tm_mon + 1,
              tm.tm_mday, hour);
    if (slot)
        snprintf (slot, 8, "%s_%s", dows[(day + 4) % 7],
                  hour < 12   ? "am"
                  : hour < 18 ? "pm"
                              : "ev");
}

//  Posts a request as `actor` in VILLAGE from `start` to `end` needing `skills` (a JSON
//  array); returns its id. extra: more JSON members or "".
static void
s_request_add (const msg_actor_t *actor, const char *start, const char *end, int headcount,
               const char *skills, const char *urgency, const char *extra, char id[32])
{
    char body[1024];
    snprintf (body, sizeof body,
              "{\"category\": \"助老\", \"title\": \"陪同就医\", \"description\": \"去县医院复查\","
              " \"region\": \"%s\", \"earliest_start\": \"%s\", \"latest_end\": \"%s\","
              " \"duration_minutes\": 60, \"headcount\": %d, \"skills\": %s,"
              " \"urgency\": \"%s\"%s}",
              VILLAGE, start, end, headcount, skills, urgency, extra);
    json_t *reply;
    st_error_t err;
    if (s_call ("match", actor, "request.create", body, &reply, &err) != ST_OK)
        fail_msg ("could not post a request: %s (%s)", err.message, err.field);
    assert_string_equal (s_str (reply, "status"), "open");
    snprintf (id, 32, "%s", s_str (reply, "id"));
    json_decref (reply);
    assert_int_equal (s_events ("request.published", id), 1);
}

//  Waits for the pending offer of volunteer `volunteer`, seen through offer.list; its id and
//  request into offer and request.
static void
s_wait_offer (const char *volunteer, char offer[32], char request[32])
{
    msg_actor_t actor = s_volunteer (volunteer);
    for (int waited = 0; waited < WAIT_MS; waited += 50) {
        json_t *reply;
        st_error_t err;
        assert_int_equal (
            s_call ("match", &actor, "offer.list", "{\"status\": \"pending\"}", &reply, &err),
            ST_OK);
        json_t *items = json_object_get (reply, "items");
        if (json_array_size (items) > 0) {
            json_t *item = json_array_get (items, 0);
            assert_string_equal (s_str (item, "volunteer_id"), volunteer);
            snprintf (offer, 32, "%s", s_str (item, "id"));
            snprintf (request, 32, "%s", s_str (item, "request_id"));
            json_decref (reply);
            return;
        }
        json_decref (reply);
        s_sleep_ms (50);
    }
    fail_msg ("volunteer %s got no offer in %d ms", volunteer, WAIT_MS);
}

//  Answers an offer ("offer.accept" or "offer.decline") as volunteer `volunteer`.
static st_status_t
s_answer (const char *op, const char *volunteer, const char *offer, st_error_t *err)
{
    char body[64];
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", offer);
    msg_actor_t actor = s_volunteer (volunteer);
    return s_call ("match", &actor, op, body, NULL, err);
}

//  Reads a request through request.get as the system.
static json_t *
s_request_get (const char *id)
{
    char body[64];
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", id);
    json_t *reply;
    st_error_t err;
    if (s_call ("match", &SYSTEM, "request.get", body, &reply, &err) != ST_OK)
        fail_msg ("request.get %s: %s", id, err.message);
    return reply;
}

//  ---------------------------------------------------------------------------------------
//  Fixture: registry and match with rounds every 200 ms, the county's regions

static int
s_setup (void **state)
{
    setenv ("STATION_DISPATCH_ROUND_MS", "200", 1);
    setenv ("STATION_DISPATCH_REPLY_NORMAL_S", "2", 1);
    F = calloc (1, sizeof *F);
    F->h = harness_new ("dispatch");
    harness_start (F->h, "registry");
    harness_start (F->h, "match");
    F->registry = harness_client (F->h, "registry", "gateway");
    F->match = harness_client (F->h, "match", "gateway");
    const char *regions[][2] = {{"431000000000", "郴州市"},       {"431022000000", "宜章县"},
                                {"431022100000", "玉溪镇"},       {"431022101000", "白石渡镇"},
                                {"431022100201", "玉溪镇第一村"}, {"431022100202", "玉溪镇第二村"},
                                {"431022101203", "白石渡村"}};
    for (size_t i = 0; i < sizeof regions / sizeof regions[0]; i++) {
        char body[256];
        snprintf (body, sizeof body, "{\"code\": \"%s\", \"name\": \"%s\"}", regions[i][0],
                  regions[i][1]);
        st_error_t err;
        if (s_call ("registry", &SYSTEM, "region.create", body, NULL, &err) != ST_OK)
            fail_msg ("region %s: %s", regions[i][0], err.message);
    }
    *state = F;
    return 0;
}

static int
s_teardown (void **state)
{
    (void) state;
    st_client_destroy (&F->registry);
    st_client_destroy (&F->match);
    harness_destroy (&F->h);
    free (F);
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
    s_day_at (2, 9, start, slot);
    s_day_at (2, 12, end, NULL);
    s_day_at (3, 9, wrong, other_slot);
    snprintf (availability, sizeof availability, "[\"%s\"]", slot);
    snprintf (wrong, sizeof wrong, "[\"%s\"]", other_slot);
    char fit[32], no_skill[32], no_slot[32], far[32], resident[32], request[32];
    s_volunteer_add ("张适合", VILLAGE, "[\"t1手语\", \"急救\"]", availability, 25.40, 112.95, fit);
    s_volunteer_add ("李无技能", VILLAGE, "[\"急救\"]", availability, 25.40, 112.95, no_skill);
    s_volunteer_add ("王没空", VILLAGE, "[\"t1手语\"]", wrong, 25.40, 112.95, no_slot);
    s_volunteer_add ("赵太远", FARAWAY, "[\"t1手语\"]", availability, 25.40, 112.95, far);
    s_resident_add ("王奶奶", "[]", resident);
    msg_actor_t actor = s_resident (resident);
    s_request_add (&actor, start, end, 1, "[\"t1手语\"]", "urgent", "", request);

    char offer[32], offered[32];
    s_wait_offer (fit, offer, offered);
    assert_string_equal (offered, request);
    assert_int_equal (s_events ("offer.made", offer), 1);
    s_sleep_ms (1000); //  five more rounds
    assert_int_equal (s_count ("SELECT count (*) FROM match.offers WHERE volunteer_id IN (%s, %s,"
                               " %s)",
                               no_skill, no_slot, far),
                      0);
    json_t *got = s_request_get (request);
    assert_string_equal (s_str (got, "status"), "matching");
    json_t *assignments = json_object_get (got, "assignments");
    assert_int_equal (json_array_size (assignments), 1);
    assert_string_equal (s_str (json_array_get (assignments, 0), "volunteer_id"), fit);
    assert_string_equal (s_str (json_array_get (assignments, 0), "status"), "pending");
    json_decref (got);

    //  Only the offered volunteer may answer; someone else's offer reads as not found.
    st_error_t err;
    s_expect ("accept by another", s_answer ("offer.accept", no_skill, offer, &err), &err,
              ST_NOT_FOUND, "id");
    assert_int_equal (s_answer ("offer.accept", fit, offer, &err), ST_OK);
    got = s_request_get (request);
    assert_string_equal (s_str (got, "status"), "staffed");
    assert_int_equal (json_integer_value (json_object_get (got, "accepted")), 1);
    json_decref (got);
    assert_int_equal (s_count ("SELECT count (*) FROM match.commitments WHERE volunteer_id = %s"
                               " AND request_id = %s AND during = tstzrange ('%s', '%s')",
                               fit, request, start, end),
                      1);
    assert_int_equal (s_events ("offer.accepted", offer), 1);
    assert_int_equal (s_events ("request.staffed", request), 1);
    //  Answered once: a second answer is a conflict and changes nothing.
    s_expect ("accept twice", s_answer ("offer.accept", fit, offer, &err), &err, ST_CONFLICT, "id");
    s_expect ("decline after accept", s_answer ("offer.decline", fit, offer, &err), &err,
              ST_CONFLICT, "id");
    assert_int_equal (
        s_count ("SELECT count (*) FROM match.commitments WHERE volunteer_id = %s", fit), 1);
    //  A staffed request is offered to no one else.
    s_sleep_ms (600);
    assert_int_equal (s_count ("SELECT count (*) FROM match.offers WHERE request_id = %s", request),
                      1);
    //  Cancelled after all: the accepted volunteer is told and their time is free again.
    char body[64];
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", request);
    assert_int_equal (s_call ("match", &actor, "request.cancel", body, NULL, &err), ST_OK);
    assert_int_equal (s_events ("offer.withdrawn", offer), 1);
    assert_int_equal (
        s_count ("SELECT count (*) FROM match.commitments WHERE volunteer_id = %s", fit), 0);
}

//  A decline sends the request to the next volunteer, and never back to the decliner.
static void
test_decline (void **state)
{
    (void) state;
    char start[64], end[64], slot[8], availability[64];
    s_day_at (4, 14, start, slot);
    s_day_at (4, 17, end, NULL);
    snprintf (availability, sizeof availability, "[\"%s\"]", slot);
    char near[32], next[32], request[32];
    //  The nearer one is offered first.
    s_volunteer_add ("钱近", VILLAGE, "[\"t2理发\"]", availability, 25.401, 112.951, near);
    s_volunteer_add ("孙远", VILLAGE, "[\"t2理发\"]", availability, 25.45, 113.00, next);
    s_request_add (&TOWN, start, end, 1, "[\"t2理发\"]", "urgent",
                   ", \"lat\": 25.40, \"lon\": 112.95", request);
    char offer[32], offered[32];
    s_wait_offer (near, offer, offered);
    assert_string_equal (offered, request);
    assert_int_equal (s_count ("SELECT count (*) FROM match.offers WHERE volunteer_id = %s", next),
                      0);
    st_error_t err;
    assert_int_equal (s_answer ("offer.decline", near, offer, &err), ST_OK);
    assert_int_equal (s_events ("offer.declined", offer), 1);
    char second[32];
    s_wait_offer (next, second, offered);
    assert_string_equal (offered, request);
    s_sleep_ms (1000);
    assert_int_equal (s_count ("SELECT count (*) FROM match.offers WHERE volunteer_id = %s", near),
                      1);
    assert_int_equal (s_count ("SELECT count (*) FROM match.offers WHERE volunteer_id = %s"
                               " AND status = 'pending'",
                               near),
                      0);
    s_expect ("accept after decline", s_answer ("offer.accept", near, offer, &err), &err,
              ST_CONFLICT, "id");
}

//  An unanswered offer expires at its deadline (2 s for normal requests here): offer.expired,
//  a new offer to someone else, and accepting the expired one is a conflict.
static void
test_expiry (void **state)
{
    (void) state;
    char start[64], end[64], slot[8], availability[64];
    s_day_at (5, 19, start, slot);
    s_day_at (5, 21, end, NULL);
    snprintf (availability, sizeof availability, "[\"%s\"]", slot);
    char first[32], second[32], request[32];
    s_volunteer_add ("周一", VILLAGE, "[\"t3电工\"]", availability, 25.401, 112.951, first);
    s_volunteer_add ("吴二", VILLAGE, "[\"t3电工\"]", availability, 25.45, 113.00, second);
    s_request_add (&TOWN, start, end, 1, "[\"t3电工\"]", "normal",
                   ", \"lat\": 25.40, \"lon\": 112.95", request);
    char offer[32], offered[32];
    s_wait_offer (first, offer, offered);
    s_wait_for (1, "SELECT count (*) FROM match.offers WHERE id = %s AND status = 'expired'",
                offer);
    assert_int_equal (s_events ("offer.expired", offer), 1);
    char next[32];
    s_wait_offer (second, next, offered);
    assert_string_equal (offered, request);
    st_error_t err;
    s_expect ("accept after expiry", s_answer ("offer.accept", first, offer, &err), &err,
              ST_CONFLICT, "id");
    assert_int_equal (
        s_count ("SELECT count (*) FROM match.commitments WHERE volunteer_id = %s", first), 0);
    //  An offer past its deadline but not yet expired by a round is refused too.
    char sql[256];
    snprintf (sql, sizeof sql, "UPDATE match.offers SET deadline = now () WHERE id = %s", next);
    harness_sql (F->h, sql);
    s_expect ("accept at the deadline", s_answer ("offer.accept", second, next, &err), &err,
              ST_CONFLICT, "id");
}

//  The database itself refuses a commitment overlapping another of the same volunteer.
static void
test_exclusion (void **state)
{
    (void) state;
    char start[64], end[64], slot[8], availability[64], later[64], later_end[64];
    s_day_at (6, 9, start, slot);
    s_day_at (6, 11, end, NULL);
    s_day_at (6, 10, later, NULL);
    s_day_at (6, 12, later_end, NULL);
    snprintf (availability, sizeof availability, "[\"%s\"]", slot);
    char volunteer[32], a[32], b[32];
    s_volunteer_add ("郑忙", VILLAGE, "[\"t4无人\"]", "[]", 25.40, 112.95, volunteer);
    s_request_add (&TOWN, start, end, 1, "[\"t4不存在\"]", "urgent", "", a);
    s_request_add (&TOWN, later, later_end, 1, "[\"t4不存在\"]", "urgent", "", b);
    PGconn *pg = harness_pg (F->h);
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
        s_count ("SELECT count (*) FROM match.commitments WHERE volunteer_id = %s", volunteer), 2);
}

//  One volunteer, two requests: the urgent one of a resident cared for first gets the offer.
static void
test_priority (void **state)
{
    (void) state;
    char start[64], end[64], slot[8], availability[64];
    s_day_at (7, 9, start, slot);
    s_day_at (7, 11, end, NULL);
    snprintf (availability, sizeof availability, "[\"%s\"]", slot);
    char plain[32], cared[32], normal[32], urgent[32], volunteer[32];
    s_resident_add ("李大爷", "[]", plain);
    s_resident_add ("陈奶奶", "[\"empty_nest_elderly\"]", cared);
    //  Both requests are there before the volunteer, so one round sees both.
    msg_actor_t plain_actor = s_resident (plain), cared_actor = s_resident (cared);
    s_request_add (&plain_actor, start, end, 1, "[\"t5陪护\"]", "normal", "", normal);
    s_request_add (&cared_actor, start, end, 1, "[\"t5陪护\"]", "urgent", "", urgent);
    s_volunteer_add ("冯唯一", VILLAGE, "[\"t5陪护\"]", availability, 25.40, 112.95, volunteer);
    char offer[32], offered[32];
    s_wait_offer (volunteer, offer, offered);
    assert_string_equal (offered, urgent);
    assert_int_equal (s_count ("SELECT count (*) FROM match.offers WHERE request_id = %s", normal),
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
    s_request_add (&TOWN, start, end, 2, "[\"t6手语\"]", "urgent", "", request);
    s_wait_for (1, "SELECT count (*) FROM match.requests WHERE id = %s AND status = 'unfilled'",
                request);
    json_t *got = s_request_get (request);
    const char *reason = s_str (got, "reason");
    if (!strstr (reason, "t6手语") || !strstr (reason, VILLAGE) || !strstr (reason, "0 of 2"))
        fail_msg ("reason \"%s\" does not say what was missing", reason);
    json_decref (got);
    assert_int_equal (s_events ("request.unfilled", request), 1);
}

//  Cancelling withdraws the pending offers; the withdrawn offer can no longer be accepted;
//  a cancelled request cannot be cancelled again.
static void
test_cancel (void **state)
{
    (void) state;
    char start[64], end[64], slot[8], availability[64];
    s_day_at (8, 14, start, slot);
    s_day_at (8, 16, end, NULL);
    snprintf (availability, sizeof availability, "[\"%s\"]", slot);
    char resident[32], volunteer[32], request[32];
    s_resident_add ("蒋阿姨", "[]", resident);
    s_volunteer_add ("沈帮忙", NEIGHBOUR, "[\"t7修水管\"]", availability, 25.40, 112.95, volunteer);
    msg_actor_t actor = s_resident (resident);
    //  A neighbour of the same township is found once the search widens: made old enough.
    s_request_add (&actor, start, end, 1, "[\"t7修水管\"]", "urgent", "", request);
    s_sleep_ms (600);
    assert_int_equal (s_count ("SELECT count (*) FROM match.offers WHERE request_id = %s", request),
                      0);
    char sql[256];
    snprintf (
        sql, sizeof sql,
        "UPDATE match.requests SET published_at = now () - interval '2 minutes' WHERE id = %s",
        request);
    harness_sql (F->h, sql);
    char offer[32], offered[32];
    s_wait_offer (volunteer, offer, offered);
    assert_string_equal (offered, request);

    char body[64];
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", request);
    st_error_t err;
    msg_actor_t stranger = s_resident ("999999");
    s_expect ("cancel by a stranger",
              s_call ("match", &stranger, "request.cancel", body, NULL, &err), &err, ST_NOT_FOUND,
              "id");
    s_expect ("cancel out of scope",
              s_call ("match", &OTHER_TOWN, "request.cancel", body, NULL, &err), &err, ST_NOT_FOUND,
              "id");
    assert_int_equal (s_count ("SELECT count (*) FROM match.offers WHERE id = %s"
                               " AND status = 'pending'",
                               offer),
                      1);
    json_t *reply;
    assert_int_equal (s_call ("match", &actor, "request.cancel", body, &reply, &err), ST_OK);
    assert_string_equal (s_str (reply, "status"), "cancelled");
    json_decref (reply);
    assert_int_equal (s_count ("SELECT count (*) FROM match.offers WHERE id = %s"
                               " AND status = 'withdrawn'",
                               offer),
                      1);
    assert_int_equal (s_events ("offer.withdrawn", offer), 1);
    assert_int_equal (s_events ("request.cancelled", request), 1);
    s_expect ("accept a withdrawn offer", s_answer ("offer.accept", volunteer, offer, &err), &err,
              ST_CONFLICT, "id");
    s_expect ("cancel twice", s_call ("match", &actor, "request.cancel", body, NULL, &err), &err,
              ST_CONFLICT, "id");
    s_sleep_ms (600);
    assert_int_equal (s_count ("SELECT count (*) FROM match.offers WHERE request_id = %s", request),
                      1);
}

//  Every rejected request.create names its field and stores nothing; wrong actors are
//  refused; offers of others and unknown ids read as not found.
static void
test_rejected (void **state)
{
    (void) state;
    char start[64], end[64], close_end[64], past[64];
    s_day_at (9, 9, start, NULL);
    s_day_at (9, 11, end, NULL);
    snprintf (close_end, sizeof close_end, "%.19s+08:00", start);
    close_end[14] = '3'; //  09:30, half an hour after the start
    s_day_at (-1, 9, past, NULL);
    long requests = s_count ("SELECT count (*) FROM match.requests");
    //  Rounds go on meanwhile (offers expire): only request events are the ops' own.
    long events = s_count ("SELECT count (*) FROM match.outbox WHERE topic LIKE 'request.%%'");
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
    msg_actor_t volunteer = s_volunteer ("1");
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
        s_expect (what, s_call ("match", cases[i].actor, "request.create", body, NULL, &err), &err,
                  cases[i].code, cases[i].field);
    }
    char body[1024];
    snprintf (body, sizeof body,
              "{\"category\": \"助老\", \"title\": \"t\", \"description\": \"d\","
              " \"region\": \"%s\", \"earliest_start\": \"%s\", \"latest_end\": \"%s\","
              " \"duration_minutes\": 60, \"headcount\": 1}",
              VILLAGE, start, end);
    st_error_t err;
    s_expect ("a volunteer posts", s_call ("match", &volunteer, "request.create", body, NULL, &err),
              &err, ST_PERMISSION_DENIED, "actor.role");
    assert_int_equal (s_count ("SELECT count (*) FROM match.requests"), requests);
    assert_int_equal (s_count ("SELECT count (*) FROM match.outbox WHERE topic LIKE 'request.%%'"),
                      events);

    s_expect ("get unknown",
              s_call ("match", &SYSTEM, "request.get", "{\"id\": \"0\"}", NULL, &err), &err,
              ST_NOT_FOUND, "id");
    s_expect ("accept unknown",
              s_call ("match", &volunteer, "offer.accept", "{\"id\": \"99999\"}", NULL, &err), &err,
              ST_NOT_FOUND, "id");
    s_expect ("list by an official", s_call ("match", &TOWN, "offer.list", "{}", NULL, &err), &err,
              ST_PERMISSION_DENIED, "actor.role");
    s_expect ("list a bad status",
              s_call ("match", &volunteer, "offer.list", "{\"status\": \"maybe\"}", NULL, &err),
              &err, ST_INVALID_ARGUMENT, "status");
    assert_int_equal (s_count ("SELECT count (*) FROM match.outbox WHERE topic LIKE 'request.%%'"),
                      events);
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
    {"every offer went to an active volunteer with the skills, free in the slot",
     "SELECT count (*) FROM match.offers o JOIN match.requests r ON r.id = o.request_id"
     " JOIN match.supply s ON s.volunteer_id = o.volunteer_id WHERE NOT (s.skills @> r.skills"
     " AND match.dispatch_slot (r.earliest_start) = ANY (s.availability)"
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
        long broken = s_count ("%s", s_rules[i].sql);
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
                    s_day_at (d, hours[h], at, slot);
                    if (!strstr (slots, slot))
                        used += (size_t) snprintf (slots + used, sizeof slots - used, "%s\"%s\"",
                                                   used > 1 ? ", " : "", slot);
                }
        snprintf (slots + used, sizeof slots - used, "]");
        snprintf (name, sizeof name, "志愿者%d", i);
        s_volunteer_add (name, regions[rand () % 3], have, slots, 25.3 + (rand () % 100) / 500.0,
                         112.9 + (rand () % 100) / 500.0, volunteers[i]);
    }
    char requests[REQUESTS][32];
    for (int i = 0; i < REQUESTS; i++) {
        char start[64], end[64], need[64];
        int day = 10 + rand () % 4, hour = hours[rand () % 4];
        s_day_at (day, hour, start, NULL);
        s_day_at (day, hour + 1 + rand () % 3, end, NULL);
        snprintf (need, sizeof need, "[\"%s\"]", skills[rand () % 3]);
        s_request_add (&TOWN, start, end, 1 + rand () % 3, need, rand () % 2 ? "urgent" : "normal",
                       "", requests[i]);
        //  Some requests are old enough for their search to widen to township or county.
        if (rand () % 3 == 0) {
            char sql[256];
            snprintf (sql, sizeof sql,
                      "UPDATE match.requests SET published_at = now () - interval '%d minutes'"
                      " WHERE id = %.20s",
                      rand () % 2 ? 2 : 10, requests[i]);
            harness_sql (F->h, sql);
        }
    }
    int answered = 0, conflicts = 0, cancelled = 0;
    for (int round = 0; round < ROUNDS; round++) {
        s_sleep_ms (250);
        //  Every pending offer of ours: accepted, declined or left to expire, at random.
        PGresult *res =
            PQexec (harness_pg (F->h), "SELECT o.id, o.volunteer_id FROM match.offers o"
                                       " JOIN match.supply s ON s.volunteer_id = o.volunteer_id"
                                       " WHERE o.status = 'pending' AND s.name LIKE '志愿者%'");
        assert_int_equal (PQresultStatus (res), PGRES_TUPLES_OK);
        for (int row = 0; row < PQntuples (res); row++) {
            int dice = rand () % 10;
            if (dice >= 6)
                continue;
            st_error_t err;
            st_status_t rc = s_answer (dice < 4 ? "offer.accept" : "offer.decline",
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
            st_status_t rc = s_call ("match", &TOWN, "request.cancel", body, NULL, &err);
            assert_true (rc == ST_OK || rc == ST_CONFLICT);
            cancelled += rc == ST_OK;
        }
        s_check_rules (round);
    }
    //  The run did something: offers were made and answered, some requests were staffed.
    assert_true (answered > 20);
    assert_true (s_count ("SELECT count (*) FROM match.requests WHERE status = 'staffed'") > 0);
    assert_true (s_count ("SELECT count (*) FROM match.offers WHERE status = 'expired'") > 0);
    (void) conflicts;
    (void) cancelled;
}

int
main (void)
{
    st_log_init ("dispatch_test", "warn");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_offer_fits_and_accept),
        cmocka_unit_test (test_decline),
        cmocka_unit_test (test_expiry),
        cmocka_unit_test (test_exclusion),
        cmocka_unit_test (test_priority),
        cmocka_unit_test (test_unfilled),
        cmocka_unit_test (test_cancel),
        cmocka_unit_test (test_rejected),
        cmocka_unit_test (test_randomized),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
