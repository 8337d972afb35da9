/*  match_fixture.c — the dispatch tests' shared fixture and helpers (match_fixture.h)  */
#include "match_fixture.h"
#include "st_json.h"
#include "test_util.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <setjmp.h>
#include <cmocka.h>

const msg_actor_t MF_SYSTEM = {.account = "operator-1", .role = "system"};

//  The fixture the helpers use: the one mf_new made last.
static mf_t *s_self;

static mf_t *
s_fixture (void)
{
    if (!s_self)
        fail_msg ("match_fixture: no fixture (mf_new first)");
    return s_self;
}

//  ---------------------------------------------------------------------------------------
//  The fixture

mf_t *
mf_new (const char *name, bool registry)
{
    mf_t *self = calloc (1, sizeof *self);
    assert_non_null (self);
    self->h = harness_new (name);
    if (registry) {
        harness_start (self->h, "registry");
        self->registry = harness_client (self->h, "registry", "gateway");
    }
    self->match_pid = harness_start (self->h, "match");
    self->match = harness_client (self->h, "match", "gateway");
    s_self = self;
    return self;
}

void
mf_destroy (mf_t **self_p)
{
    mf_t *self = *self_p;
    if (!self)
        return;
    st_client_destroy (&self->registry);
    st_client_destroy (&self->match);
    harness_destroy (&self->h);
    if (s_self == self)
        s_self = NULL;
    free (self);
    *self_p = NULL;
}

void
mf_region_add (const char *code, const char *name)
{
    char body[256];
    snprintf (body, sizeof body, "{\"code\": \"%s\", \"name\": \"%s\"}", code, name);
    st_error_t err;
    if (mf_call ("registry", &MF_SYSTEM, "region.create", body, NULL, &err) != ST_OK)
        fail_msg ("region %s: %s", code, err.message);
}

void
mf_county_add (void)
{
    const char *regions[][2] = {{"431000000000", "郴州市"},       {"431022000000", "宜章县"},
                                {"431022100000", "玉溪镇"},       {"431022101000", "白石渡镇"},
                                {"431022100201", "玉溪镇第一村"}, {"431022100202", "玉溪镇第二村"},
                                {"431022101203", "白石渡村"}};
    for (size_t i = 0; i < sizeof regions / sizeof regions[0]; i++)
        mf_region_add (regions[i][0], regions[i][1]);
}

//  ---------------------------------------------------------------------------------------
//  Actors

msg_actor_t
mf_volunteer (const char *id)
{
    return (msg_actor_t){.account = "account-v", .role = "volunteer", .volunteer_id = (char *) id};
}

msg_actor_t
mf_resident (const char *id)
{
    return (msg_actor_t){.account = "account-r", .role = "resident", .resident_id = (char *) id};
}

//  ---------------------------------------------------------------------------------------
//  Calls and replies

st_status_t
mf_call_id (const char *service, const msg_actor_t *actor, const char *op_name, const char *body,
            const uint8_t *id, int timeout_ms, json_t **reply, st_error_t *err)
{
    mf_t *self = s_fixture ();
    st_client_t *client = strcmp (service, "match") == 0 ? self->match : self->registry;
    if (!client)
        fail_msg ("match_fixture: no client of %s (started without it?)", service);
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
    if (rc == ST_OK)
        rc = st_client_call (client, op_name, actor, id, op->request, request, op->reply, response,
                             timeout_ms, err);
    if (rc == ST_OK && reply)
        *reply = st_msg_to_json (op->reply, response);
    st_msg_clear (op->reply, response);
    st_msg_clear (op->request, request);
    free (response);
    free (request);
    return rc;
}

st_status_t
mf_call (const char *service, const msg_actor_t *actor, const char *op_name, const char *body,
         json_t **reply, st_error_t *err)
{
    return mf_call_id (service, actor, op_name, body, NULL, MF_CALL_MS, reply, err);
}

void
mf_expect (const char *what, st_status_t rc, const st_error_t *err, st_status_t code,
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

const char *
mf_str (json_t *json, const char *key)
{
    const char *value = json_string_value (json_object_get (json, key));
    return value ? value : "";
}

long long
mf_int (json_t *json, const char *key)
{
    json_t *value = json_object_get (json, key);
    return json_is_integer (value) ? json_integer_value (value) : -1;
}

//  ---------------------------------------------------------------------------------------
//  The database

//  Runs SQL built from a format and its arguments as the superuser; the first value of the
//  first row (harness_sql's static buffer, "" when none). Fails the test on error.
static const char *
s_vsql (const char *format, va_list args)
{
    char *sql = zsys_vprintf (format, args);
    const char *value = harness_sql (s_fixture ()->h, sql);
    zstr_free (&sql);
    return value;
}

long
mf_count (const char *format, ...)
{
    va_list args;
    va_start (args, format);
    long value = atol (s_vsql (format, args));
    va_end (args);
    return value;
}

void
mf_sql (const char *format, ...)
{
    va_list args;
    va_start (args, format);
    s_vsql (format, args);
    va_end (args);
}

PGresult *
mf_query (const char *format, ...)
{
    va_list args;
    va_start (args, format);
    char *sql = zsys_vprintf (format, args);
    va_end (args);
    PGconn *pg = harness_pg (s_fixture ()->h);
    PGresult *res = PQexec (pg, sql);
    if (PQresultStatus (res) != PGRES_COMMAND_OK && PQresultStatus (res) != PGRES_TUPLES_OK)
        fail_msg ("%s: %s", sql, PQerrorMessage (pg));
    zstr_free (&sql);
    return res;
}

void
mf_wait_for (long expected, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    char *sql = zsys_vprintf (format, args);
    va_end (args);
    harness_t *h = s_fixture ()->h;
    for (int waited = 0; waited < MF_WAIT_MS; waited += 50) {
        if (atol (harness_sql (h, sql)) == expected) {
            zstr_free (&sql);
            return;
        }
        mf_sleep_ms (50);
    }
    fail_msg ("waited %d ms for %ld from %s, got %s", MF_WAIT_MS, expected, sql,
              harness_sql (h, sql));
}

void
mf_sleep_ms (int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep (&ts, NULL);
}

void
mf_unchanged (char *before, char *after, const char *what)
{
    if (strcmp (before, after) != 0)
        fail_msg ("%s changed the database:\n  before %s\n  after  %s", what, before, after);
    free (before);
    free (after);
}

//  ---------------------------------------------------------------------------------------
//  match's outbox

int
mf_events_json (const char *topic, const char *id, json_t **last)
{
    const st_event_desc_t *event = st_proto_event (topic);
    assert_non_null (event);
    const char *params[] = {topic};
    PGresult *res = PQexecParams (harness_pg (s_fixture ()->h),
                                  "SELECT body FROM match.outbox WHERE topic = $1 ORDER BY id", 1,
                                  NULL, params, NULL, NULL, 1);
    if (PQresultStatus (res) != PGRES_TUPLES_OK)
        fail_msg ("reading the outbox: %s", PQresultErrorMessage (res));
    if (last)
        *last = NULL;
    int count = 0;
    for (int row = 0; row < PQntuples (res); row++) {
        void *body = calloc (1, event->body->size);
        st_error_t err;
        if (st_decode (event->body, (const uint8_t *) PQgetvalue (res, row, 0),
                       (size_t) PQgetlength (res, row, 0), body, &err)
            != 0)
            fail_msg ("a %s event does not decode: %s", topic, err.message);
        const char *got = *(char **) body;
        if (got && strcmp (got, id) == 0) {
            count++;
            if (last) {
                json_decref (*last);
                *last = st_msg_to_json (event->body, body);
            }
        }
        st_msg_clear (event->body, body);
        free (body);
    }
    PQclear (res);
    return count;
}

int
mf_events (const char *topic, const char *id)
{
    return mf_events_json (topic, id, NULL);
}

//  ---------------------------------------------------------------------------------------
//  People, times, requests and offers

void
mf_volunteer_add (const char *name, const char *region, const char *skills,
                  const char *availability, double lat, double lon, const char *extra, char id[32])
{
    mf_t *self = s_fixture ();
    char number[19], body[1024];
    int n = ++self->people;
    test_nth_id_number (n, number);
    snprintf (body, sizeof body,
              "{\"name\": \"%s\", \"id_number\": \"%s\", \"phone\": \"139%08d\","
              " \"region\": \"%s\", \"skills\": %s, \"availability\": %s, \"lat\": %.6f,"
              " \"lon\": %.6f%s}",
              name, number, n, region, skills, availability, lat, lon, extra);
    json_t *reply;
    st_error_t err;
    if (mf_call ("registry", &MF_SYSTEM, "volunteer.register", body, &reply, &err) != ST_OK)
        fail_msg ("could not register %s: %s", name, err.message);
    snprintf (id, 32, "%s", mf_str (reply, "id"));
    json_decref (reply);
    mf_wait_for (1, "SELECT count (*) FROM match.supply WHERE volunteer_id = %s", id);
}

void
mf_resident_add (const char *name, const char *region, const char *care_tags, char id[32])
{
    mf_t *self = s_fixture ();
    char body[512], tags[256] = "";
    int n = ++self->people;
    if (care_tags)
        snprintf (tags, sizeof tags, ", \"care_tags\": %s", care_tags);
    snprintf (body, sizeof body,
              "{\"name\": \"%s\", \"phone\": \"137%08d\", \"region\": \"%s\","
              " \"address\": \"一组%d号\", \"lat\": 25.40, \"lon\": 112.95%s}",
              name, n, region, n, tags);
    json_t *reply;
    st_error_t err;
    if (mf_call ("registry", NULL, "resident.register", body, &reply, &err) != ST_OK)
        fail_msg ("could not register resident %s: %s", name, err.message);
    snprintf (id, 32, "%s", mf_str (reply, "id"));
    json_decref (reply);
    mf_wait_for (1, "SELECT count (*) FROM match.residents WHERE id = %s", id);
}

void
mf_local (int days, int hour, int minute, char text[64], char slot[8])
{
    static const char *dows[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
    int64_t day = ((int64_t) time (NULL) + 8 * 3600) / 86400 + days;
    time_t at = (time_t) (day * 86400);
    struct tm tm;
    gmtime_r (&at, &tm);
    snprintf (text, 64, "%04d-%02d-%02dT%02d:%02d:00+08:00", tm.tm_year + 1900, tm.tm_mon + 1,
              tm.tm_mday, hour, minute);
    if (slot)
        snprintf (slot, 8, "%s_%s", dows[(day + 4) % 7],
                  hour < 12   ? "am"
                  : hour < 18 ? "pm"
                              : "ev");
}

void
mf_window (int days, int from, int to, char start[64], char end[64], char availability[64])
{
    char slot[8];
    mf_local (days, from, 0, start, slot);
    mf_local (days, to, 0, end, NULL);
    snprintf (availability, 64, "[\"%s\"]", slot);
}

void
mf_request_body (char body[MF_BODY_SIZE], const char *category, const char *title,
                 const char *region, const char *start, const char *end, int headcount,
                 const char *skills, const char *urgency, const char *extra)
{
    char urgent[48] = "";
    if (urgency)
        snprintf (urgent, sizeof urgent, ", \"urgency\": \"%s\"", urgency);
    snprintf (body, MF_BODY_SIZE,
              "{\"category\": \"%s\", \"title\": \"%s\", \"description\": \"去县医院复查\","
              " \"region\": \"%s\", \"earliest_start\": \"%s\", \"latest_end\": \"%s\","
              " \"duration_minutes\": 60, \"headcount\": %d, \"skills\": %s%s%s}",
              category, title, region, start, end, headcount, skills, urgent, extra);
}

void
mf_request_add (const msg_actor_t *actor, const char *region, const char *start, const char *end,
                int headcount, const char *skills, const char *urgency, const char *extra,
                const char *status, char id[32])
{
    char body[MF_BODY_SIZE];
    mf_request_body (body, "助老", "陪同就医", region, start, end, headcount, skills, urgency,
                     extra);
    json_t *reply;
    st_error_t err;
    if (mf_call ("match", actor, "request.create", body, &reply, &err) != ST_OK)
        fail_msg ("could not post a request: %s (%s)", err.message, err.field);
    assert_string_equal (mf_str (reply, "status"), status);
    snprintf (id, 32, "%s", mf_str (reply, "id"));
    json_decref (reply);
    bool review = strcmp (status, "review") == 0;
    assert_int_equal (mf_events ("request.submitted", id), review);
    assert_int_equal (mf_events ("request.published", id), !review);
}

json_t *
mf_request_get (const char *id)
{
    char body[64];
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", id);
    json_t *reply;
    st_error_t err;
    if (mf_call ("match", &MF_SYSTEM, "request.get", body, &reply, &err) != ST_OK)
        fail_msg ("request.get %s: %s", id, err.message);
    return reply;
}

void
mf_wait_offer (const char *volunteer, const char *request, char offer[32])
{
    msg_actor_t actor = mf_volunteer (volunteer);
    for (int waited = 0; waited < MF_WAIT_MS; waited += 50) {
        json_t *reply;
        st_error_t err;
        assert_int_equal (
            mf_call ("match", &actor, "offer.list", "{\"status\": \"pending\"}", &reply, &err),
            ST_OK);
        json_t *items = json_object_get (reply, "items");
        if (json_array_size (items) > 0) {
            json_t *item = json_array_get (items, 0);
            assert_string_equal (mf_str (item, "volunteer_id"), volunteer);
            assert_string_equal (mf_str (item, "request_id"), request);
            snprintf (offer, 32, "%s", mf_str (item, "id"));
            json_decref (reply);
            return;
        }
        json_decref (reply);
        mf_sleep_ms (50);
    }
    fail_msg ("volunteer %s got no offer of request %s in %d ms", volunteer, request, MF_WAIT_MS);
}

st_status_t
mf_answer (const char *op, const char *volunteer, const char *offer, st_error_t *err)
{
    char body[64];
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", offer);
    msg_actor_t actor = mf_volunteer (volunteer);
    return mf_call ("match", &actor, op, body, NULL, err);
}
