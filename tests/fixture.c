/*  fixture.c — the one fixture of every integration test (fixture.h)  */
#include "fixture.h"
#include "st_events.h"
#include "st_json.h"
#include "st_log.h"
#include "st_time.h"

#include <msgpack.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <setjmp.h>
#include <cmocka.h>

//  The services a fixture can start, in the order it starts them.
static const struct {
    unsigned flag;
    const char *name;
} s_services[] = {
    {FX_REGISTRY, "registry"}, {FX_MATCH, "match"},     {FX_LEDGER, "ledger"},
    {FX_NOTIFY, "notify"},     {FX_GATEWAY, "gateway"},
};
#define FX_SERVICES (sizeof s_services / sizeof s_services[0])

struct fx_s {
    harness_t *h;                       //  the database, the keys and the processes
    unsigned services;                  //  the FX_* flags fx_new started
    st_client_t *gateway[FX_SERVICES];  //  people's calls, with an actor
    st_client_t *operator[FX_SERVICES]; //  the system's calls and events.read, made when needed
    pid_t pid[FX_SERVICES];             //  each process as fx_new started it
    int people;                         //  how many people fx_*_add numbered
};

const msg_actor_t FX_SYSTEM = {.account = "operator-1", .role = "system"};

//  The fixture the helpers use: the one fx_new made last.
static fx_t *s_self;

static fx_t *
s_fixture (void)
{
    if (!s_self)
        fail_msg ("fixture: no fixture (fx_new first)");
    return s_self;
}

//  The index of `service` in s_services; fails the test for a service it does not know.
static size_t
s_index (const char *service)
{
    for (size_t i = 0; i < FX_SERVICES; i++)
        if (strcmp (s_services[i].name, service) == 0)
            return i;
    fail_msg ("fixture: no service \"%s\"", service);
    return 0;
}

//  Whether the fixture started `service`.
static bool
s_running (const char *service)
{
    return (s_fixture ()->services & s_services[s_index (service)].flag) != 0;
}

//  ---------------------------------------------------------------------------------------
//  The fixture

fx_t *
fx_new (const char *name, unsigned services)
{
    fx_t *self = calloc (1, sizeof *self);
    assert_non_null (self);
    self->h = harness_new (name);
    self->services = services;
    s_self = self;
    for (size_t i = 0; i < FX_SERVICES; i++)
        if (services & s_services[i].flag) {
            self->pid[i] = harness_start (self->h, s_services[i].name);
            self->gateway[i] = harness_client (self->h, s_services[i].name, "gateway");
        }
    return self;
}

void
fx_destroy (fx_t **self_p)
{
    fx_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < FX_SERVICES; i++) {
        st_client_destroy (&self->gateway[i]);
        st_client_destroy (&self->operator[i]);
    }
    if (s_self == self)
        s_self = NULL;
    harness_t *h = self->h;
    free (self);
    *self_p = NULL;
    harness_destroy (&h); //  last: it fails the test on a sanitizer report
}

int
fx_teardown (void **state)
{
    (void) state;
    fx_destroy (&s_self);
    return 0;
}

void
fx_restart (const char *service, int sig)
{
    harness_stop (fx_harness (), service, sig);
    harness_start (fx_harness (), service);
}

void
fx_time (char out[40], int64_t seconds)
{
    st_time_format_utc ((st_now_ms () / 1000 + seconds) * 1000000, out);
}

harness_t *
fx_harness (void)
{
    return s_fixture ()->h;
}

st_client_t *
fx_client (const char *service)
{
    st_client_t *client = s_fixture ()->gateway[s_index (service)];
    if (!client)
        fail_msg ("fixture: no client of %s (started without it?)", service);
    return client;
}

//  The client a call as `actor` goes through: the operator's key for the system (only an
//  operator may assert it), the gateway's for people.
static st_client_t *
s_client_for (const char *service, const msg_actor_t *actor)
{
    if (!actor || strcmp (actor->role, "system") != 0)
        return fx_client (service);
    fx_t *self = s_fixture ();
    size_t i = s_index (service);
    if (!s_running (service))
        fail_msg ("fixture: no client of %s (started without it?)", service);
    if (!self->operator[i])
        self->operator[i] = harness_client (self->h, service, "operator");
    return self->operator[i];
}

pid_t
fx_pid (const char *service)
{
    return s_fixture ()->pid[s_index (service)];
}

//  ---------------------------------------------------------------------------------------
//  Actors

msg_actor_t
fx_volunteer (const char *id)
{
    return (msg_actor_t){.account = "account-v", .role = "volunteer", .volunteer_id = (char *) id};
}

msg_actor_t
fx_resident (const char *id)
{
    return (msg_actor_t){.account = "account-r", .role = "resident", .resident_id = (char *) id};
}

msg_actor_t
fx_admin (const char *role, const char *region)
{
    return (msg_actor_t){.account = "admin-1", .role = (char *) role, .region = (char *) region};
}

//  ---------------------------------------------------------------------------------------
//  Calls and replies

//  The descriptors of op `op` of `service`; fails the test for an op the contract lacks.
static const st_op_desc_t *
s_op (const char *service, const char *op)
{
    const st_op_desc_t *desc = st_proto_op (service, op);
    if (!desc)
        fail_msg ("fixture: %s has no op \"%s\"", service, op);
    return desc;
}

//  A test's JSON body, parsed; fails the test when it is not JSON. The caller decrefs.
static json_t *
s_json (const char *body)
{
    json_error_t json_err;
    json_t *json = json_loads (body, 0, &json_err);
    if (!json)
        fail_msg ("bad test JSON %s: %s", body, json_err.text);
    return json;
}

//  Calls op `op` of `service` through `client` with a JSON body checked and encoded by the
//  client (request id `id`, NULL: fresh), as fx_call_id describes.
static st_status_t
s_call_json (st_client_t *client, const char *service, const msg_actor_t *actor, const char *op,
             const char *body, const uint8_t *id, int timeout_ms, json_t **reply, st_error_t *err)
{
    const st_op_desc_t *desc = s_op (service, op);
    json_t *json = s_json (body);
    st_error_t local;
    if (!err)
        err = &local;
    memset (err, 0, sizeof *err);
    void *request = calloc (1, desc->request->size);
    st_status_t rc = st_json_to_msg (desc->request, json, request, err) ? err->code : ST_OK;
    json_decref (json);
    void *response = calloc (1, desc->reply->size);
    if (rc == ST_OK)
        rc = st_client_call (client, op, actor, id, desc->request, request, desc->reply, response,
                             timeout_ms, err);
    if (rc == ST_OK && reply)
        *reply = st_msg_to_json (desc->reply, response);
    st_msg_clear (desc->reply, response);
    st_msg_clear (desc->request, request);
    free (response);
    free (request);
    return rc;
}

st_status_t
fx_call_id (const char *service, const msg_actor_t *actor, const char *op, const char *body,
            const uint8_t *id, int timeout_ms, json_t **reply, st_error_t *err)
{
    return s_call_json (s_client_for (service, actor), service, actor, op, body, id, timeout_ms,
                        reply, err);
}

st_status_t
fx_call (const char *service, const msg_actor_t *actor, const char *op, const char *body,
         json_t **reply, st_error_t *err)
{
    return fx_call_id (service, actor, op, body, NULL, FX_CALL_MS, reply, err);
}

//  Packs JSON as msgpack as it is, without any descriptor, so wrong types reach the service.
static void
s_pack_json (msgpack_packer *pk, json_t *value)
{
    const char *key;
    json_t *item;
    size_t index;
    switch (json_typeof (value)) {
    case JSON_OBJECT:
        msgpack_pack_map (pk, json_object_size (value));
        json_object_foreach (value, key, item)
        {
            msgpack_pack_str_with_body (pk, key, strlen (key));
            s_pack_json (pk, item);
        }
        break;
    case JSON_ARRAY:
        msgpack_pack_array (pk, json_array_size (value));
        json_array_foreach (value, index, item) s_pack_json (pk, item);
        break;
    case JSON_STRING:
        msgpack_pack_str_with_body (pk, json_string_value (value), json_string_length (value));
        break;
    case JSON_INTEGER:
        msgpack_pack_int64 (pk, json_integer_value (value));
        break;
    case JSON_REAL:
        msgpack_pack_double (pk, json_real_value (value));
        break;
    case JSON_TRUE:
        msgpack_pack_true (pk);
        break;
    case JSON_FALSE:
        msgpack_pack_false (pk);
        break;
    case JSON_NULL:
        msgpack_pack_nil (pk);
        break;
    }
}

st_status_t
fx_call_raw (const char *service, const msg_actor_t *actor, const char *op, const char *body,
             json_t **reply, st_error_t *err)
{
    st_client_t *client = s_client_for (service, actor);
    const st_op_desc_t *desc = s_op (service, op);
    json_t *json = s_json (body);
    st_error_t local;
    if (!err)
        err = &local;
    memset (err, 0, sizeof *err);
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
    s_pack_json (&pk, json);
    json_decref (json);
    uint8_t id[16];
    randombytes_buf (id, sizeof id);
    uint8_t *frame, *reply_frame = NULL;
    size_t size, reply_size;
    st_client_envelope (op, actor, id, st_now_ms () + FX_CALL_MS, (const uint8_t *) buffer.data,
                        buffer.size, &frame, &size);
    msgpack_sbuffer_destroy (&buffer);
    st_status_t rc =
        st_client_call_raw (client, frame, size, id, FX_CALL_MS, &reply_frame, &reply_size, err);
    free (frame);
    if (rc != ST_OK)
        return rc;
    void *response = calloc (1, desc->reply->size);
    rc = st_client_decode_reply (reply_frame, reply_size, desc->reply, response, err);
    if (rc == ST_OK && reply)
        *reply = st_msg_to_json (desc->reply, response);
    st_msg_clear (desc->reply, response);
    free (response);
    free (reply_frame);
    return rc;
}

st_status_t
fx_call_msg (const char *service, const msg_actor_t *actor, const char *op, const void *request,
             void *reply, st_error_t *err)
{
    st_client_t *client = s_client_for (service, actor);
    const st_op_desc_t *desc = s_op (service, op);
    st_error_t local;
    if (!err)
        err = &local;
    memset (err, 0, sizeof *err);
    memset (reply, 0, desc->reply->size);
    return st_client_call (client, op, actor, NULL, desc->request, request, desc->reply, reply,
                           FX_CALL_MS, err);
}

st_status_t
fx_call_key (const char *service, const char *key, const msg_actor_t *actor, const char *op,
             const char *body, json_t **reply, st_error_t *err)
{
    if (!s_running (service))
        fail_msg ("fixture: no client of %s (started without it?)", service);
    st_client_t *client = harness_client (s_fixture ()->h, service, key);
    st_status_t rc = s_call_json (client, service, actor, op, body, NULL, FX_CALL_MS, reply, err);
    st_client_destroy (&client);
    return rc;
}

json_t *
fx_call_ok (const char *service, const msg_actor_t *actor, const char *op, const char *body)
{
    json_t *reply;
    st_error_t err;
    if (fx_call (service, actor, op, body, &reply, &err) != ST_OK)
        fail_msg ("%s %s: %s (%s naming \"%s\")", op, body, err.message, st_status_name (err.code),
                  err.field);
    return reply;
}

void
fx_expect (const char *what, st_status_t rc, const st_error_t *err, st_status_t code,
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
fx_str (json_t *json, const char *key)
{
    const char *value = json_string_value (json_object_get (json, key));
    return value ? value : "";
}

long long
fx_int (json_t *json, const char *key)
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
fx_count (const char *format, ...)
{
    va_list args;
    va_start (args, format);
    long value = atol (s_vsql (format, args));
    va_end (args);
    return value;
}

const char *
fx_value (const char *format, ...)
{
    va_list args;
    va_start (args, format);
    const char *value = s_vsql (format, args);
    va_end (args);
    return value;
}

void
fx_sql (const char *format, ...)
{
    va_list args;
    va_start (args, format);
    s_vsql (format, args);
    va_end (args);
}

PGresult *
fx_query (const char *format, ...)
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
fx_wait_for (long expected, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    char *sql = zsys_vprintf (format, args);
    va_end (args);
    harness_t *h = s_fixture ()->h;
    for (int waited = 0; waited < FX_WAIT_MS; waited += 50) {
        if (atol (harness_sql (h, sql)) == expected) {
            zstr_free (&sql);
            return;
        }
        fx_sleep_ms (50);
    }
    fail_msg ("waited %d ms for %ld from %s, got %s", FX_WAIT_MS, expected, sql,
              harness_sql (h, sql));
}

void
fx_sleep_ms (int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep (&ts, NULL);
}

void
fx_unchanged (char *before, char *after, const char *what)
{
    if (strcmp (before, after) != 0)
        fail_msg ("%s changed the database:\n  before %s\n  after  %s", what, before, after);
    free (before);
    free (after);
}

//  Whether `needle` (not empty) occurs in the `size` bytes at `hay`.
static bool
s_holds (const unsigned char *hay, size_t size, const char *needle)
{
    size_t n = strlen (needle);
    if (n == 0)
        fail_msg ("fixture: an empty secret");
    for (size_t i = 0; i + n <= size; i++)
        if (memcmp (hay + i, needle, n) == 0)
            return true;
    return false;
}

int
fx_holds_none (const char *table, const char *const *secrets, size_t count)
{
    PGresult *res = fx_query ("SELECT * FROM %s", table);
    int rows = PQntuples (res);
    for (int row = 0; row < rows; row++)
        for (int col = 0; col < PQnfields (res); col++) {
            const char *text = PQgetvalue (res, row, col);
            size_t len = strlen (text);
            unsigned char *bytes = NULL;
            if (PQftype (res, col) == 17) //  bytea
                bytes = PQunescapeBytea ((const unsigned char *) text, &len);
            for (size_t s = 0; s < count; s++)
                if (s_holds (bytes ? bytes : (const unsigned char *) text, len, secrets[s]))
                    fail_msg ("%s row %d column %s holds \"%s\" in clear", table, row,
                              PQfname (res, col), secrets[s]);
            PQfreemem (bytes);
        }
    PQclear (res);
    return rows;
}

//  ---------------------------------------------------------------------------------------
//  Events

//  The descriptor of topic `topic`; fails the test for a topic the contract lacks.
static const st_event_desc_t *
s_event (const char *topic)
{
    const st_event_desc_t *event = st_proto_event (topic);
    if (!event)
        fail_msg ("fixture: no event topic \"%s\"", topic);
    return event;
}

//  Decodes an event body of `event` into a fresh message (the caller clears and frees it);
//  fails the test when it does not decode.
static void *
s_event_decode (const st_event_desc_t *event, const uint8_t *data, size_t size)
{
    void *body = calloc (1, event->body->size);
    st_error_t err;
    if (st_decode (event->body, data, size, body, &err) != 0)
        fail_msg ("a %s event does not decode: %s", event->topic, err.message);
    return body;
}

int
fx_events_json (const char *topic, const char *id, json_t **last)
{
    const st_event_desc_t *event = s_event (topic);
    char sql[128];
    snprintf (sql, sizeof sql, "SELECT body FROM %s.outbox WHERE topic = $1 ORDER BY id",
              event->service);
    const char *params[] = {topic};
    PGresult *res =
        PQexecParams (harness_pg (s_fixture ()->h), sql, 1, NULL, params, NULL, NULL, 1);
    if (PQresultStatus (res) != PGRES_TUPLES_OK)
        fail_msg ("reading the outbox: %s", PQresultErrorMessage (res));
    if (last)
        *last = NULL;
    int count = 0;
    for (int row = 0; row < PQntuples (res); row++) {
        void *body = s_event_decode (event, (const uint8_t *) PQgetvalue (res, row, 0),
                                     (size_t) PQgetlength (res, row, 0));
        const char *about = *(char **) body;
        if (!id || (about && strcmp (about, id) == 0)) {
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
fx_events (const char *topic, const char *id)
{
    return fx_events_json (topic, id, NULL);
}

json_t *
fx_events_read (const char *topic)
{
    fx_t *self = s_fixture ();
    const st_event_desc_t *event = s_event (topic);
    size_t i = s_index (event->service);
    if (!s_running (event->service))
        fail_msg ("fixture: %s is not running to read its log", event->service);
    fx_wait_for (0, "SELECT count (*) FROM %s.outbox WHERE seq IS NULL", event->service);
    if (!self->operator[i])
        self->operator[i] = harness_client (self->h, event->service, "operator");
    json_t *bodies = json_array ();
    int64_t after = 0;
    while (true) {
        msg_events_read_t read = {.after = after, .has_after = true, .max = 5000, .has_max = true};
        msg_events_t page;
        st_error_t err;
        if (st_client_call (self->operator[i], "events.read", NULL, NULL, &msg_events_read_desc,
                            &read, &msg_events_desc, &page, FX_CALL_MS, &err)
            != ST_OK)
            fail_msg ("events.read of %s: %s", event->service, err.message);
        for (size_t e = 0; e < page.events.count; e++) {
            const msg_event_t *got = &page.events.items[e];
            after = got->seq;
            if (strcmp (got->topic, topic) != 0)
                continue;
            void *body = s_event_decode (event, got->body.data, got->body.size);
            json_array_append_new (bodies, st_msg_to_json (event->body, body));
            st_msg_clear (event->body, body);
            free (body);
        }
        size_t count = page.events.count;
        st_msg_clear (&msg_events_desc, &page);
        if (count < 5000)
            break;
    }
    return bodies;
}

//  ---------------------------------------------------------------------------------------
//  People, regions and times

void
fx_id_number (const char *body17, char out[19])
{
    static const int weights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    int sum = 0;
    for (int i = 0; i < 17; i++)
        sum += (body17[i] - '0') * weights[i];
    memcpy (out, body17, 17);
    out[17] = "10X98765432"[sum % 11];
    out[18] = 0;
}

void
fx_nth_id_number (int n, char out[19])
{
    char body[18];
    unsigned k = (unsigned) n;
    snprintf (body, sizeof body, "4310221980%02u15%03u", 1 + (k / 1000) % 12, k % 1000);
    fx_id_number (body, out);
}

void
fx_region_add (const char *code, const char *name)
{
    char body[256];
    snprintf (body, sizeof body, "{\"code\": \"%s\", \"name\": \"%s\"}", code, name);
    json_decref (fx_call_ok ("registry", &FX_SYSTEM, "region.create", body));
}

void
fx_county_add (void)
{
    const char *regions[][2] = {{"431000000000", "郴州市"},       {"431022000000", "宜章县"},
                                {"431022100000", "玉溪镇"},       {"431022101000", "白石渡镇"},
                                {"431022100201", "玉溪镇第一村"}, {"431022100202", "玉溪镇第二村"},
                                {"431022101203", "白石渡村"}};
    for (size_t i = 0; i < sizeof regions / sizeof regions[0]; i++)
        fx_region_add (regions[i][0], regions[i][1]);
}

void
fx_volunteer_add (const char *name, const char *region, const char *skills,
                  const char *availability, double lat, double lon, const char *extra, char id[32])
{
    fx_t *self = s_fixture ();
    char number[19], body[1024];
    int n = ++self->people;
    fx_nth_id_number (n, number);
    snprintf (body, sizeof body,
              "{\"name\": \"%s\", \"id_number\": \"%s\", \"phone\": \"139%08d\","
              " \"region\": \"%s\", \"skills\": %s, \"availability\": %s, \"lat\": %.6f,"
              " \"lon\": %.6f%s}",
              name, number, n, region, skills, availability, lat, lon, extra);
    json_t *reply = fx_call_ok ("registry", &FX_SYSTEM, "volunteer.register", body);
    snprintf (id, 32, "%s", fx_str (reply, "id"));
    json_decref (reply);
    if (s_running ("match"))
        fx_wait_for (1, "SELECT count (*) FROM match.supply WHERE volunteer_id = %s", id);
}

void
fx_resident_add (const char *name, const char *region, const char *care_tags, char id[32])
{
    fx_t *self = s_fixture ();
    char body[512], tags[256] = "";
    int n = ++self->people;
    if (care_tags)
        snprintf (tags, sizeof tags, ", \"care_tags\": %s", care_tags);
    snprintf (body, sizeof body,
              "{\"name\": \"%s\", \"phone\": \"137%08d\", \"region\": \"%s\","
              " \"address\": \"一组%d号\", \"lat\": 25.40, \"lon\": 112.95%s}",
              name, n, region, n, tags);
    json_t *reply = fx_call_ok ("registry", NULL, "resident.register", body);
    snprintf (id, 32, "%s", fx_str (reply, "id"));
    json_decref (reply);
    if (s_running ("match"))
        fx_wait_for (1, "SELECT count (*) FROM match.residents WHERE id = %s", id);
}

void
fx_local (int days, int hour, int minute, char text[64], char slot[8])
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
fx_window (int days, int from, int to, char start[64], char end[64], char availability[64])
{
    char slot[8];
    fx_local (days, from, 0, start, slot);
    fx_local (days, to, 0, end, NULL);
    snprintf (availability, 64, "[\"%s\"]", slot);
}

//  ---------------------------------------------------------------------------------------
//  match: requests and offers

void
fx_request_body (char body[FX_BODY_SIZE], const char *category, const char *title,
                 const char *region, const char *start, const char *end, int headcount,
                 const char *skills, const char *urgency, const char *extra)
{
    char urgent[48] = "";
    if (urgency)
        snprintf (urgent, sizeof urgent, ", \"urgency\": \"%s\"", urgency);
    snprintf (body, FX_BODY_SIZE,
              "{\"category\": \"%s\", \"title\": \"%s\", \"description\": \"去县医院复查\","
              " \"region\": \"%s\", \"earliest_start\": \"%s\", \"latest_end\": \"%s\","
              " \"duration_minutes\": 60, \"headcount\": %d, \"skills\": %s%s%s}",
              category, title, region, start, end, headcount, skills, urgent, extra);
}

void
fx_request_add (const msg_actor_t *actor, const char *region, const char *start, const char *end,
                int headcount, const char *skills, const char *urgency, const char *extra,
                const char *status, char id[32])
{
    char body[FX_BODY_SIZE];
    fx_request_body (body, "助老", "陪同就医", region, start, end, headcount, skills, urgency,
                     extra);
    json_t *reply;
    st_error_t err;
    if (fx_call ("match", actor, "request.create", body, &reply, &err) != ST_OK)
        fail_msg ("could not post a request: %s (%s)", err.message, err.field);
    assert_string_equal (fx_str (reply, "status"), status);
    snprintf (id, 32, "%s", fx_str (reply, "id"));
    json_decref (reply);
    bool review = strcmp (status, "review") == 0;
    assert_int_equal (fx_events ("request.submitted", id), review);
    assert_int_equal (fx_events ("request.published", id), !review);
}

json_t *
fx_request_get (const char *id)
{
    char body[64];
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", id);
    return fx_call_ok ("match", &FX_SYSTEM, "request.get", body);
}

void
fx_wait_request (const char *id, const char *status)
{
    char got[32] = "";
    for (int waited = 0; waited < FX_WAIT_MS; waited += 50) {
        json_t *request = fx_request_get (id);
        snprintf (got, sizeof got, "%s", fx_str (request, "status"));
        json_decref (request);
        if (strcmp (got, status) == 0)
            return;
        fx_sleep_ms (50);
    }
    fail_msg ("waited %d ms for request %s to be %s; it is %s", FX_WAIT_MS, id, status, got);
}

int
fx_offers (const char *volunteer, const char *status)
{
    msg_actor_t actor = fx_volunteer (volunteer);
    char body[64] = "{}";
    if (status)
        snprintf (body, sizeof body, "{\"status\": \"%s\"}", status);
    json_t *reply = fx_call_ok ("match", &actor, "offer.list", body);
    int count = (int) json_array_size (json_object_get (reply, "items"));
    json_decref (reply);
    return count;
}

const char *
fx_offer_status (const char *volunteer, const char *offer)
{
    static char status[32];
    msg_actor_t actor = fx_volunteer (volunteer);
    json_t *reply = fx_call_ok ("match", &actor, "offer.list", "{}");
    status[0] = 0;
    size_t i;
    json_t *item;
    json_array_foreach (json_object_get (reply, "items"), i, item)
    {
        if (strcmp (fx_str (item, "id"), offer) == 0)
            snprintf (status, sizeof status, "%s", fx_str (item, "status"));
    }
    json_decref (reply);
    return status;
}

void
fx_wait_offer_status (const char *volunteer, const char *offer, const char *status)
{
    for (int waited = 0; waited < FX_WAIT_MS; waited += 50) {
        if (strcmp (fx_offer_status (volunteer, offer), status) == 0)
            return;
        fx_sleep_ms (50);
    }
    fail_msg ("waited %d ms for offer %s to be %s; it is %s", FX_WAIT_MS, offer, status,
              fx_offer_status (volunteer, offer));
}

void
fx_wait_offer (const char *volunteer, const char *request, char offer[32])
{
    msg_actor_t actor = fx_volunteer (volunteer);
    for (int waited = 0; waited < FX_WAIT_MS; waited += 50) {
        json_t *reply = fx_call_ok ("match", &actor, "offer.list", "{\"status\": \"pending\"}");
        json_t *items = json_object_get (reply, "items");
        if (json_array_size (items) > 0) {
            json_t *item = json_array_get (items, 0);
            assert_string_equal (fx_str (item, "volunteer_id"), volunteer);
            assert_string_equal (fx_str (item, "request_id"), request);
            snprintf (offer, 32, "%s", fx_str (item, "id"));
            json_decref (reply);
            return;
        }
        json_decref (reply);
        fx_sleep_ms (50);
    }
    fail_msg ("volunteer %s got no offer of request %s in %d ms", volunteer, request, FX_WAIT_MS);
}

st_status_t
fx_answer (const char *op, const char *volunteer, const char *offer, st_error_t *err)
{
    char body[64];
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", offer);
    msg_actor_t actor = fx_volunteer (volunteer);
    return fx_call ("match", &actor, op, body, NULL, err);
}

zframe_t *
fx_request_frame (const char *op, const msg_actor_t *actor, const st_desc_t *desc,
                  const void *request, uint8_t id[16])
{
    randombytes_buf (id, 16);
    uint8_t *body, *frame;
    size_t body_size, size;
    st_encode (desc, request, &body, &body_size);
    st_client_envelope (op, actor, id, 0, body, body_size, &frame, &size);
    zframe_t *out = zframe_new (frame, size);
    free (body);
    free (frame);
    return out;
}

//  ---------------------------------------------------------------------------------------
//  Events written as their publisher would

void
fx_publish (const char *service, const char *topic, const void *body)
{
    const st_event_desc_t *desc = st_proto_event (topic);
    if (!desc)
        fail_msg ("no message is declared for topic \"%s\"", topic);
    st_params_t params = {0};
    st_error_t err;
    if (st_event_params (topic, desc->body, body, &params, &err) != ST_OK)
        fail_msg ("event %s refused: %s %s", topic, err.field, err.message);
    char *sql = zsys_sprintf ("INSERT INTO %s.outbox (topic, body) VALUES ($1, $2)", service);
    PGconn *pg = harness_pg (s_fixture ()->h);
    PGresult *res = PQexecParams (pg, sql, params.count, NULL, params.values, params.lengths,
                                  params.formats, 0);
    if (PQresultStatus (res) != PGRES_COMMAND_OK)
        fail_msg ("%s: %s", sql, PQerrorMessage (pg));
    PQclear (res);
    zstr_free (&sql);
    st_params_clear (&params);
}

void
fx_activity_add (const char *body, char id[32])
{
    json_t *activity = fx_call_ok ("match", &FX_SYSTEM, "activity.create", body);
    snprintf (id, 32, "%s", fx_str (activity, "id"));
    json_decref (activity);
}

void
fx_activity_signup (const msg_actor_t *actor, const char *activity)
{
    char body[64];
    snprintf (body, sizeof body, "{\"activity_id\": \"%s\"}", activity);
    json_decref (fx_call_ok ("match", actor, "activity.signup", body));
}

void
fx_checkin_code (const char *activity, char code[16])
{
    char body[64];
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", activity);
    json_t *reply = fx_call_ok ("match", &FX_SYSTEM, "activity.checkin_code", body);
    assert_true (strlen (fx_str (reply, "code")) > 0 && strlen (fx_str (reply, "code")) < 16);
    snprintf (code, 16, "%s", fx_str (reply, "code"));
    json_decref (reply);
}

void
fx_checkin_body (char body[FX_BODY_SIZE], const char *activity, const char *extra)
{
    char code[16];
    fx_checkin_code (activity, code);
    snprintf (body, FX_BODY_SIZE, "{\"activity_id\": \"%s\", \"code\": \"%s\"%s%s}", activity, code,
              extra[0] ? ", " : "", extra);
}
