/*  dispatch_restart_test.c — match killed in the middle of dispatch rounds, against a real
    database and real registry and match processes: offers, acceptances and expiries survive a
    restart of match mid-round; no offer is lost and none is made twice.

    Without any hook in the service, a round is stopped where the test wants it by a lock the
    test holds: a request's row (the round waits in its offer insert, after expiring a lapsed
    offer in the same transaction) or the outbox (it waits writing its first offer.made, after
    the insert). match is killed there with SIGKILL, the lock released, match started again.
    Then at random: match is killed three times while a steady stream of requests and answers
    goes on, each kill aimed at a moment a round holds the dispatch lock.

    Around each kill the outbox is read in one snapshot with the offers and requests, its
    bodies decoded with the project's codec: every offer must have exactly one offer.made and
    exactly one event for what became of it, no event may name an offer that does not exist,
    every accepted offer must be one commitment. Each scenario uses skills of its own.  */
#include "harness.h"
#include "st_json.h"
#include "st_log.h"
#include "test_util.h"

#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#define WAIT_MS     15000 //  how long a wait for a round lasts before the test fails
#define VILLAGE     "431022100201"
#define KILLS       3          //  how often the second scenario kills match
#define STREAM_NAME "流志愿者" //  the second scenario's volunteers' names begin so
//  The advisory lock a round holds (match_dispatch_store.c, "dispatch_lock"): the test takes
//  it itself to hold rounds back, and looks for it to find a round in flight.
#define ROUND_KEY "hashtext ('station.match.dispatch')"

typedef struct {
    harness_t *h;
    st_client_t *registry;
    st_client_t *match;
    int people;   //  numbers ID numbers and phones
    PGconn *mine; //  the test's own connection holding rounds or locks back, when open

    //  Shared with the killer thread of the second scenario, under `lock`: the running
    //  match's pid, whether the killer has killed it (and the main thread not yet started it
    //  again), how many kills, and how many of them while a round held the dispatch lock.
    pthread_mutex_t lock;
    pid_t match_pid;
    bool killed;
    bool stop;
    int kills;
    int kills_in_round;
    pthread_t killer;
    bool killer_running;
} s_fixture_t;

static s_fixture_t *F;

static const msg_actor_t SYSTEM = {.account = "operator-1", .role = "system"};
static const msg_actor_t TOWN = {
    .account = "town-admin", .role = "region_admin", .region = "431022100000"};

//  A volunteer's account standing for volunteer `id`.
static msg_actor_t
s_volunteer (const char *id)
{
    return (msg_actor_t){.account = "account-v", .role = "volunteer", .volunteer_id = (char *) id};
}

//  ---------------------------------------------------------------------------------------
//  Calls and looks

//  Calls `service`'s op with a JSON body as `actor`, with request id `id` (16 bytes: a retry
//  with the same id is the same request to the server) and at most timeout_ms; the reply as
//  JSON into *reply (when not NULL and ok), the error into *err. Returns the status.
static st_status_t
s_call_id (const char *service, const msg_actor_t *actor, const char *op_name, const char *body,
           const uint8_t *id, int timeout_ms, json_t **reply, st_error_t *err)
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

//  The same with a fresh id and a patient timeout.
static st_status_t
s_call (const char *service, const msg_actor_t *actor, const char *op_name, const char *body,
        json_t **reply, st_error_t *err)
{
    return s_call_id (service, actor, op_name, body, NULL, 30000, reply, err);
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
    char sql[2048];
    va_list args;
    va_start (args, format);
    vsnprintf (sql, sizeof sql, format, args);
    va_end (args);
    return atol (harness_sql (F->h, sql));
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
    char sql[2048];
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

//  A superuser connection of our own to the test database (beside harness_pg, which the
//  checks use): for a transaction held open across the kill, and for the killer thread.
//  NULL when it fails (the caller decides: the killer thread may not fail the test).
static PGconn *
s_connect (void)
{
    char conninfo[1024];
    snprintf (conninfo, sizeof conninfo, "%s user=%s", harness_conninfo (F->h),
              getenv ("STATION_TEST_PGUSER") ? getenv ("STATION_TEST_PGUSER") : "");
    PGconn *conn = PQconnectdb (conninfo);
    if (PQstatus (conn) != CONNECTION_OK) {
        fprintf (stderr, "could not connect as superuser: %s", PQerrorMessage (conn));
        PQfinish (conn);
        return NULL;
    }
    //  A round that holds what we wait for (a broken match) fails the test, not hangs it.
    PQclear (PQexec (conn, "SET lock_timeout = '10s'"));
    return conn;
}

//  Runs SQL on one of our own connections; fails the test unless it succeeds.
static void
s_exec (PGconn *conn, const char *sql)
{
    PGresult *res = PQexec (conn, sql);
    if (PQresultStatus (res) != PGRES_COMMAND_OK && PQresultStatus (res) != PGRES_TUPLES_OK)
        fail_msg ("%s: %s", sql, PQerrorMessage (conn));
    PQclear (res);
}

//  How many events of `topic` in match's outbox are about `id` (an offer's or a request's
//  id, by the event's message, whose first field is the id).
static int
s_events (const char *topic, const char *id)
{
    const st_event_desc_t *event = st_proto_event (topic);
    assert_non_null (event);
    const char *params[] = {topic};
    PGresult *res =
        PQexecParams (harness_pg (F->h), "SELECT body FROM match.outbox WHERE topic = $1", 1, NULL,
                      params, NULL, NULL, 1);
    assert_int_equal (PQresultStatus (res), PGRES_TUPLES_OK);
    int count = 0;
    for (int row = 0; row < PQntuples (res); row++) {
        void *body = calloc (1, event->body->size);
        st_error_t err;
        if (st_decode (event->body, (const uint8_t *) PQgetvalue (res, row, 0),
                       (size_t) PQgetlength (res, row, 0), body, &err)
            != 0)
            fail_msg ("a %s event does not decode: %s", topic, err.message);
        const char *got = *(char **) body;
        count += got && strcmp (got, id) == 0;
        st_msg_clear (event->body, body);
        free (body);
    }
    PQclear (res);
    return count;
}

//  ---------------------------------------------------------------------------------------
//  The ledger: match's outbox against its offers, requests and commitments

//  Loads every offer.* and request.* event of the outbox into the temporary table
//  restart_events (outbox id, topic, the id the body names), decoding each body with the
//  project's codec: what a consumer would read, not what the outbox row looks like.
static void
s_load_events (void)
{
    PGconn *pg = harness_pg (F->h);
    s_exec (pg, "CREATE TEMPORARY TABLE IF NOT EXISTS restart_events"
                " (outbox_id bigint, topic text, ref bigint)");
    s_exec (pg, "TRUNCATE restart_events");
    PGresult *res =
        PQexecParams (pg,
                      "SELECT id, topic, body FROM match.outbox"
                      " WHERE topic LIKE 'offer.%' OR topic LIKE 'request.%' ORDER BY id",
                      0, NULL, NULL, NULL, NULL, 1);
    assert_int_equal (PQresultStatus (res), PGRES_TUPLES_OK);
    int rows = PQntuples (res);
    //  Three parallel array literals: ids and refs are digits, topics letters and dots.
    size_t room = 64 + (size_t) rows * 48;
    char *ids = calloc (1, room), *topics = calloc (1, room), *refs = calloc (1, room);
    size_t ids_used = 0, topics_used = 0, refs_used = 0;
    ids[ids_used++] = topics[topics_used++] = refs[refs_used++] = '{';
    for (int row = 0; row < rows; row++) {
        //  Binary results: id is a big-endian int8, topic text.
        const uint8_t *raw = (const uint8_t *) PQgetvalue (res, row, 0);
        int64_t outbox_id = 0;
        for (int i = 0; i < 8; i++)
            outbox_id = (outbox_id << 8) | raw[i];
        const char *topic = PQgetvalue (res, row, 1);
        const st_event_desc_t *event = st_proto_event (topic);
        if (!event)
            fail_msg ("outbox row %lld has the unknown topic \"%s\"", (long long) outbox_id, topic);
        void *body = calloc (1, event->body->size);
        st_error_t err;
        if (st_decode (event->body, (const uint8_t *) PQgetvalue (res, row, 2),
                       (size_t) PQgetlength (res, row, 2), body, &err)
            != 0)
            fail_msg ("outbox row %lld (%s) does not decode: %s", (long long) outbox_id, topic,
                      err.message);
        const char *ref = *(char **) body;
        const char *sep = row ? "," : "";
        ids_used += (size_t) snprintf (ids + ids_used, room - ids_used, "%s%lld", sep,
                                       (long long) outbox_id);
        topics_used +=
            (size_t) snprintf (topics + topics_used, room - topics_used, "%s%s", sep, topic);
        refs_used += (size_t) snprintf (refs + refs_used, room - refs_used, "%s%lld", sep,
                                        ref ? atoll (ref) : -1LL);
        st_msg_clear (event->body, body);
        free (body);
    }
    PQclear (res);
    snprintf (ids + ids_used, room - ids_used, "}");
    snprintf (topics + topics_used, room - topics_used, "}");
    snprintf (refs + refs_used, room - refs_used, "}");
    const char *params[] = {ids, topics, refs};
    res = PQexecParams (pg,
                        "INSERT INTO restart_events SELECT * FROM unnest ($1::bigint[],"
                        " $2::text[], $3::bigint[])",
                        3, NULL, params, NULL, NULL, 0);
    if (PQresultStatus (res) != PGRES_COMMAND_OK)
        fail_msg ("could not load the events: %s", PQerrorMessage (pg));
    PQclear (res);
    free (ids);
    free (topics);
    free (refs);
}

//  What must hold between the outbox and the tables, each a query returning its violations
//  (the first column says which row). The scenarios cancel no request, so an offer's status
//  says which one answer or end event it has.
static const struct {
    const char *rule;
    const char *sql;
} s_ledger[] = {
    {"every offer has exactly one offer.made",
     "SELECT o.id, count (e.ref) FROM match.offers o LEFT JOIN restart_events e"
     " ON e.ref = o.id AND e.topic = 'offer.made' GROUP BY o.id HAVING count (e.ref) <> 1"},
    {"no offer event names an offer that does not exist",
     "SELECT e.ref, e.topic FROM restart_events e WHERE e.topic LIKE 'offer.%'"
     " AND NOT EXISTS (SELECT 1 FROM match.offers o WHERE o.id = e.ref)"},
    {"an offer has one event for what became of it and none for anything else",
     "SELECT o.id, o.status, t.topic, count (e.ref) FROM match.offers o"
     " CROSS JOIN (VALUES ('offer.accepted', 'accepted'), ('offer.declined', 'declined'),"
     " ('offer.expired', 'expired'), ('offer.withdrawn', 'withdrawn')) t (topic, status)"
     " LEFT JOIN restart_events e ON e.ref = o.id AND e.topic = t.topic"
     " GROUP BY o.id, o.status, t.topic, t.status"
     " HAVING count (e.ref) <> (o.status = t.status)::integer"},
    {"every accepted offer is exactly one commitment",
     "SELECT o.id FROM match.offers o WHERE o.status = 'accepted' AND (SELECT count (*)"
     " FROM match.commitments c WHERE c.request_id = o.request_id"
     " AND c.volunteer_id = o.volunteer_id) <> 1"},
    {"every commitment is an accepted offer",
     "SELECT c.id FROM match.commitments c WHERE NOT EXISTS (SELECT 1 FROM match.offers o"
     " WHERE o.request_id = c.request_id AND o.volunteer_id = c.volunteer_id"
     " AND o.status = 'accepted')"},
    {"a request's accepted counts its accepted offers",
     "SELECT r.id FROM match.requests r WHERE r.accepted <> (SELECT count (*) FROM match.offers o"
     " WHERE o.request_id = r.id AND o.status = 'accepted')"},
    {"no request is published twice, and each the test posted once",
     "SELECT r.id, r.created_by FROM match.requests r, LATERAL (SELECT count (*) AS n"
     " FROM restart_events e WHERE e.topic = 'request.published' AND e.ref = r.id) e"
     " WHERE e.n > 1 OR (r.created_by = 'town-admin' AND e.n <> 1)"},
    {"no request is staffed twice, and a staffed one once",
     "SELECT r.id, r.status FROM match.requests r, LATERAL (SELECT count (*) AS n"
     " FROM restart_events e WHERE e.topic = 'request.staffed' AND e.ref = r.id) e"
     " WHERE e.n > 1 OR (r.status = 'staffed' AND e.n <> 1)"},
    {"no request event names a request that does not exist",
     "SELECT e.ref, e.topic FROM restart_events e WHERE e.topic LIKE 'request.%'"
     " AND NOT EXISTS (SELECT 1 FROM match.requests r WHERE r.id = e.ref)"},
};

//  Checks the ledger in one snapshot of the outbox and the tables (rounds go on meanwhile:
//  a round committing between two reads would look like a lost event). Fails the test
//  naming the rule broken and its first violations. Returns how many offers it checked.
static long
s_check_ledger (const char *when)
{
    PGconn *pg = harness_pg (F->h);
    s_exec (pg, "BEGIN ISOLATION LEVEL REPEATABLE READ");
    s_load_events ();
    for (size_t i = 0; i < sizeof s_ledger / sizeof s_ledger[0]; i++) {
        PGresult *res = PQexec (pg, s_ledger[i].sql);
        if (PQresultStatus (res) != PGRES_TUPLES_OK)
            fail_msg ("%s: %s", s_ledger[i].sql, PQerrorMessage (pg));
        if (PQntuples (res) > 0) {
            char rows[512] = "";
            size_t used = 0;
            for (int row = 0; row < PQntuples (res) && row < 5 && used < sizeof rows; row++) {
                used += (size_t) snprintf (rows + used, sizeof rows - used, "%s(", row ? " " : "");
                for (int col = 0; col < PQnfields (res) && used < sizeof rows; col++)
                    used += (size_t) snprintf (rows + used, sizeof rows - used, "%s%s",
                                               col ? " " : "", PQgetvalue (res, row, col));
                if (used < sizeof rows)
                    used += (size_t) snprintf (rows + used, sizeof rows - used, ")");
            }
            fail_msg ("%s: %d violations of \"%s\", first %s", when, PQntuples (res),
                      s_ledger[i].rule, rows);
        }
        PQclear (res);
    }
    long offers = atol (harness_sql (F->h, "SELECT count (*) FROM match.offers"));
    s_exec (pg, "COMMIT");
    return offers;
}

//  ---------------------------------------------------------------------------------------
//  People and requests

//  Registers a volunteer through registry and waits until match's replica has them. skills
//  and availability are JSON arrays; lat and lon place them. The id into `id`.
static void
s_volunteer_add (const char *name, const char *region, const char *skills, const char *availability,
                 double lat, double lon, char id[32])
{
    char number[19], digits[18], body[1024];
    int n = ++F->people;
    //  A distinct valid ID number per person: born in 1986, numbered by the sequence.
    unsigned month = 1 + (unsigned) n / 1000 % 12, serial = (unsigned) n % 1000;
    snprintf (digits, sizeof digits, "4310221986%02u15%03u", month % 100, serial);
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

//  A time `days` days from now at `hour`:00 Beijing time, as RFC 3339 text; *slot gets the
//  availability slot of that hour (mon_am .. sun_ev) when not NULL.
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

//  The JSON body of a request in VILLAGE at (25.40, 112.95) from `start` to `end`.
static void
s_request_body (const char *title, const char *start, const char *end, int headcount,
                const char *skills, const char *urgency, char *body, size_t size)
{
    snprintf (body, size,
              "{\"category\": \"助老\", \"title\": \"%s\", \"description\": \"去县医院复查\","
              " \"region\": \"%s\", \"earliest_start\": \"%s\", \"latest_end\": \"%s\","
              " \"duration_minutes\": 60, \"headcount\": %d, \"skills\": %s,"
              " \"urgency\": \"%s\", \"lat\": 25.40, \"lon\": 112.95}",
              title, VILLAGE, start, end, headcount, skills, urgency);
}

//  Posts a request as an official of the township; its id into `id`.
static void
s_request_add (const char *start, const char *end, int headcount, const char *skills,
               const char *urgency, char id[32])
{
    char body[1024];
    s_request_body ("陪同就医", start, end, headcount, skills, urgency, body, sizeof body);
    json_t *reply;
    st_error_t err;
    if (s_call ("match", &TOWN, "request.create", body, &reply, &err) != ST_OK)
        fail_msg ("could not post a request: %s (%s)", err.message, err.field);
    assert_string_equal (s_str (reply, "status"), "open");
    snprintf (id, 32, "%s", s_str (reply, "id"));
    json_decref (reply);
}

//  Waits for volunteer `volunteer`'s pending offer; its id into `offer`, and fails unless it
//  is of request `request`.
static void
s_wait_offer (const char *volunteer, const char *request, char offer[32])
{
    char sql[256];
    snprintf (sql, sizeof sql,
              "SELECT id FROM match.offers WHERE volunteer_id = %s AND request_id = %s"
              " AND status = 'pending'",
              volunteer, request);
    for (int waited = 0; waited < WAIT_MS; waited += 50) {
        snprintf (offer, 32, "%s", harness_sql (F->h, sql));
        if (*offer)
            return;
        s_sleep_ms (50);
    }
    fail_msg ("volunteer %s got no offer of request %s in %d ms", volunteer, request, WAIT_MS);
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

//  The status of offer `id`.
static const char *
s_offer_status (const char *id)
{
    static char status[32];
    char sql[128];
    snprintf (sql, sizeof sql, "SELECT status FROM match.offers WHERE id = %s", id);
    snprintf (status, sizeof status, "%s", harness_sql (F->h, sql));
    return status;
}

//  Every weekly slot, as a JSON array: the second scenario's volunteers are always free.
static void
s_all_slots (char *out, size_t size)
{
    static const char *dows[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    static const char *parts[] = {"am", "pm", "ev"};
    size_t used = (size_t) snprintf (out, size, "[");
    for (int d = 0; d < 7; d++)
        for (int p = 0; p < 3; p++)
            used += (size_t) snprintf (out + used, size - used, "%s\"%s_%s\"", used > 1 ? ", " : "",
                                       dows[d], parts[p]);
    snprintf (out + used, size - used, "]");
}

//  ---------------------------------------------------------------------------------------
//  Fixture: registry and match, rounds every 100 ms; normal offers answered within 2 s,
//  urgent ones within 60 s (so that an urgent offer lapses only when the test says so).

static int
s_setup (void **state)
{
    setenv ("STATION_DISPATCH_ROUND_MS", "100", 1);
    setenv ("STATION_DISPATCH_REPLY_NORMAL_S", "2", 1);
    setenv ("STATION_DISPATCH_REPLY_URGENT_S", "60", 1);
    F = calloc (1, sizeof *F);
    pthread_mutex_init (&F->lock, NULL);
    F->h = harness_new ("dispatch_restart");
    harness_start (F->h, "registry");
    F->match_pid = harness_start (F->h, "match");
    F->registry = harness_client (F->h, "registry", "gateway");
    F->match = harness_client (F->h, "match", "gateway");
    const char *regions[][2] = {{"431000000000", "郴州市"},
                                {"431022000000", "宜章县"},
                                {"431022100000", "玉溪镇"},
                                {"431022100201", "玉溪镇第一村"}};
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
    pthread_mutex_destroy (&F->lock);
    free (F);
    return 0;
}

//  After each test, also one that failed half-way: no lock of ours left held, no snapshot
//  left open, no killer left running, and match running for the next test.
static int
s_test_teardown (void **state)
{
    (void) state;
    if (F->killer_running) {
        pthread_mutex_lock (&F->lock);
        F->stop = true;
        pthread_mutex_unlock (&F->lock);
        pthread_join (F->killer, NULL);
        F->killer_running = false;
    }
    if (F->mine) {
        PQfinish (F->mine);
        F->mine = NULL;
    }
    PQclear (PQexec (harness_pg (F->h), "ROLLBACK"));
    if (F->killed || F->match_pid <= 0) {
        harness_stop (F->h, "match", SIGKILL);
        F->match_pid = harness_start (F->h, "match");
        F->killed = false;
    }
    return 0;
}

//  ---------------------------------------------------------------------------------------
//  A round killed where it stands

//  Holds rounds back: takes the dispatch lock as a round does, on a connection of our own,
//  so that the next round starts only once the test has everything in place. Returns the
//  connection.
static PGconn *
s_hold_rounds (void)
{
    F->mine = s_connect ();
    assert_non_null (F->mine);
    s_exec (F->mine, "SELECT pg_advisory_lock (" ROUND_KEY ")");
    return F->mine;
}

//  Lets rounds run again (the lock is the session's: it outlives our transaction).
static void
s_release_rounds (PGconn *mine)
{
    s_exec (mine, "SELECT pg_advisory_unlock (" ROUND_KEY ")");
}

//  Waits until a round waits for a lock in the statement beginning with `statement`.
static void
s_wait_round_blocked (const char *statement)
{
    s_wait_for (1,
                "SELECT count (*) FROM pg_stat_activity WHERE datname = current_database ()"
                " AND usename = 'match' AND wait_event_type = 'Lock' AND query LIKE '%%%s%%'",
                statement);
}

//  Fails the test unless row `id` of match's `table` is locked by someone else: the round in
//  flight has written it and not committed. `what` says what the round was to have done:
//  when it is not so, the round has committed part of its work before it waited (a round is
//  one transaction, README "match").
static void
s_expect_locked (const char *table, const char *id, const char *what)
{
    char sql[256];
    snprintf (sql, sizeof sql, "SELECT id FROM match.%s WHERE id = %s FOR UPDATE NOWAIT", table,
              id);
    PGresult *res = PQexec (harness_pg (F->h), sql);
    const char *sqlstate = PQresultErrorField (res, PG_DIAG_SQLSTATE);
    bool locked =
        PQresultStatus (res) == PGRES_FATAL_ERROR && sqlstate && strcmp (sqlstate, "55P03") == 0;
    PQclear (res);
    if (!locked)
        fail_msg ("%s row %s is not held by the round waiting for us: it %s, but not in the"
                  " transaction it waits in (a round is one transaction)",
                  table, id, what);
}

//  Kills match with SIGKILL while its round waits for our transaction on `mine`, then ends
//  that transaction: the dead round's backend, which went on waiting, finds its client gone
//  and ends without a COMMIT. Waits until no backend of match is left.
static void
s_kill_round (PGconn *mine)
{
    int status = harness_stop (F->h, "match", SIGKILL);
    assert_true (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
    F->match_pid = 0;
    s_exec (mine, "ROLLBACK");
    PQfinish (mine);
    F->mine = NULL;
    s_wait_for (0, "SELECT count (*) FROM pg_stat_activity WHERE datname = current_database ()"
                   " AND usename = 'match'");
}

//  The round stops in its offer insert: the test holds request X's row lock. By then the
//  round has expired B's lapsed offer in its transaction. match is killed; the round's
//  transaction never commits; match starts again and redoes the round exactly once: B's offer
//  expires once, X gets its two offers once, B's request its next volunteer once. An offer
//  accepted before the kill stays accepted with its commitment; a pending one stays pending,
//  made once, and can still be accepted; one whose deadline passes while match is down
//  expires once after the restart.
static void
test_kill_mid_round (void **state)
{
    (void) state;
    char start[64], end[64], slot[8], availability[64];
    s_day_at (3, 9, start, slot);
    s_day_at (3, 12, end, NULL);
    snprintf (availability, sizeof availability, "[\"%s\"]", slot);
    char a[32], b[32], b2[32], c[32], d1[32], d2[32], g[32];
    s_volunteer_add ("甲接受", VILLAGE, "[\"r1甲\"]", availability, 25.401, 112.951, a);
    s_volunteer_add ("乙过期", VILLAGE, "[\"r1乙\"]", availability, 25.401, 112.951, b);
    s_volunteer_add ("乙后补", VILLAGE, "[\"r1乙\"]", availability, 25.45, 113.00, b2);
    s_volunteer_add ("丙等待", VILLAGE, "[\"r1丙\"]", availability, 25.401, 112.951, c);
    s_volunteer_add ("丁一", VILLAGE, "[\"r1丁\"]", availability, 25.401, 112.951, d1);
    s_volunteer_add ("丁二", VILLAGE, "[\"r1丁\"]", availability, 25.402, 112.952, d2);
    s_volunteer_add ("己停机", VILLAGE, "[\"r1己\"]", availability, 25.401, 112.951, g);
    char ra[32], rb[32], rc[32], rg[32], rx[32];
    s_request_add (start, end, 1, "[\"r1甲\"]", "urgent", ra);
    s_request_add (start, end, 1, "[\"r1乙\"]", "urgent", rb);
    s_request_add (start, end, 1, "[\"r1丙\"]", "urgent", rc);
    s_request_add (start, end, 1, "[\"r1己\"]", "urgent", rg);
    char offer_a[32], offer_b[32], offer_c[32], offer_g[32];
    s_wait_offer (a, ra, offer_a);
    s_wait_offer (b, rb, offer_b);
    s_wait_offer (c, rc, offer_c);
    s_wait_offer (g, rg, offer_g);
    st_error_t err;
    assert_int_equal (s_answer ("offer.accept", a, offer_a, &err), ST_OK);
    //  B's replacement is farther: until B's offer ends, nobody else is asked.
    assert_int_equal (s_count ("SELECT count (*) FROM match.offers WHERE request_id = %s", rb), 1);

    //  Rounds held back until request X is in demand, B's offer lapsed and X's row ours.
    PGconn *mine = s_hold_rounds ();
    s_request_add (start, end, 2, "[\"r1丁\"]", "urgent", rx);
    char sql[512];
    snprintf (sql, sizeof sql,
              "UPDATE match.offers SET deadline = now () - interval '1 second' WHERE id = %s",
              offer_b);
    harness_sql (F->h, sql);
    s_exec (mine, "BEGIN");
    snprintf (sql, sizeof sql, "SELECT id FROM match.requests WHERE id = %s FOR UPDATE", rx);
    s_exec (mine, sql);
    s_release_rounds (mine);

    //  The round comes, expires B's offer, and waits for X's row inside its offer insert.
    s_wait_round_blocked ("INSERT INTO offers");
    s_check_ledger ("while the round waits");
    s_expect_locked ("offers", offer_b, "was to expire B's offer first");
    assert_string_equal (s_offer_status (offer_b), "pending");
    s_kill_round (mine);
    //  Nothing of the killed round is left: B's offer pending, no event of its expiry, no
    //  offer of X, nothing for B's replacement.
    assert_string_equal (s_offer_status (offer_b), "pending");
    assert_int_equal (s_events ("offer.expired", offer_b), 0);
    assert_int_equal (s_count ("SELECT count (*) FROM match.offers WHERE request_id = %s", rx), 0);
    assert_int_equal (s_count ("SELECT count (*) FROM match.offers WHERE volunteer_id = %s", b2),
                      0);
    s_check_ledger ("after the kill");
    //  G's offer lapses while match is down.
    snprintf (sql, sizeof sql, "UPDATE match.offers SET deadline = now () WHERE id = %s", offer_g);
    harness_sql (F->h, sql);

    F->match_pid = harness_start (F->h, "match");
    s_wait_for (1, "SELECT count (*) FROM match.offers WHERE id = %s AND status = 'expired'",
                offer_b);
    s_wait_for (1, "SELECT count (*) FROM match.offers WHERE id = %s AND status = 'expired'",
                offer_g);
    s_wait_for (
        2, "SELECT count (*) FROM match.offers WHERE request_id = %s AND status = 'pending'", rx);
    char offer_b2[32];
    s_wait_offer (b2, rb, offer_b2);
    s_sleep_ms (1000); //  ten more rounds, for anything made twice to show
    //  The expiry the killed round did not commit happened once, after the restart.
    assert_int_equal (s_events ("offer.expired", offer_b), 1);
    assert_int_equal (s_events ("offer.made", offer_b), 1);
    //  So did the one that lapsed while match was down.
    assert_int_equal (s_events ("offer.expired", offer_g), 1);
    assert_int_equal (s_events ("offer.made", offer_g), 1);
    //  The offers the killed round did not commit were made once, after the restart.
    assert_int_equal (s_count ("SELECT count (*) FROM match.offers WHERE request_id = %s", rx), 2);
    snprintf (sql, sizeof sql, "SELECT id FROM match.offers WHERE request_id = %s", rx);
    PGresult *res = PQexec (harness_pg (F->h), sql);
    assert_int_equal (PQresultStatus (res), PGRES_TUPLES_OK);
    assert_int_equal (PQntuples (res), 2);
    for (int row = 0; row < PQntuples (res); row++)
        assert_int_equal (s_events ("offer.made", PQgetvalue (res, row, 0)), 1);
    PQclear (res);
    assert_int_equal (s_count ("SELECT count (*) FROM match.offers WHERE request_id = %s", rb), 2);
    assert_int_equal (s_events ("offer.made", offer_b2), 1);
    //  Accepted before the kill: still accepted, committed once, announced once.
    assert_string_equal (s_offer_status (offer_a), "accepted");
    assert_int_equal (s_count ("SELECT count (*) FROM match.commitments WHERE volunteer_id = %s"
                               " AND request_id = %s AND during = tstzrange ('%s', '%s')",
                               a, ra, start, end),
                      1);
    assert_int_equal (s_events ("offer.made", offer_a), 1);
    assert_int_equal (s_events ("offer.accepted", offer_a), 1);
    assert_int_equal (s_count ("SELECT accepted FROM match.requests WHERE id = %s"
                               " AND status = 'staffed'",
                               ra),
                      1);
    //  Pending across the kill: still pending, made once, and its volunteer can say yes.
    assert_string_equal (s_offer_status (offer_c), "pending");
    assert_int_equal (s_events ("offer.made", offer_c), 1);
    assert_int_equal (s_answer ("offer.accept", c, offer_c, &err), ST_OK);
    assert_int_equal (s_count ("SELECT count (*) FROM match.commitments WHERE volunteer_id = %s"
                               " AND request_id = %s",
                               c, rc),
                      1);
    assert_int_equal (s_events ("offer.accepted", offer_c), 1);
    s_check_ledger ("after the restart");
}

//  The round stops after its offer insert, writing the first offer.made: the test holds a
//  lock on the outbox. match is killed; offers without their events must not survive, and
//  after the restart request Y is offered once, with one offer.made.
static void
test_kill_before_events (void **state)
{
    (void) state;
    char start[64], end[64], slot[8], availability[64];
    s_day_at (4, 9, start, slot);
    s_day_at (4, 12, end, NULL);
    snprintf (availability, sizeof availability, "[\"%s\"]", slot);
    char e[32], ry[32];
    s_volunteer_add ("戊", VILLAGE, "[\"r3戊\"]", availability, 25.401, 112.951, e);
    //  No offer may lapse while the round is held: it would write offer.expired (and wait)
    //  before it offers Y.
    assert_int_equal (s_count ("SELECT count (*) FROM match.offers WHERE status = 'pending'"
                               " AND deadline < now () + interval '30 seconds'"),
                      0);
    PGconn *mine = s_hold_rounds ();
    s_request_add (start, end, 1, "[\"r3戊\"]", "urgent", ry);
    //  After request.create's own event: nobody else writes match's outbox meanwhile.
    s_exec (mine, "BEGIN");
    s_exec (mine, "LOCK TABLE match.outbox IN SHARE MODE");
    s_release_rounds (mine);

    s_wait_round_blocked ("INSERT INTO outbox");
    s_check_ledger ("while the round waits");
    //  The offer insert marks the requests it offers matching: Y's row is the round's.
    s_expect_locked ("requests", ry, "was to offer request Y first");
    s_kill_round (mine);
    assert_int_equal (s_count ("SELECT count (*) FROM match.offers WHERE request_id = %s", ry), 0);
    assert_int_equal (s_count ("SELECT count (*) FROM match.requests WHERE id = %s"
                               " AND status = 'open'",
                               ry),
                      1);
    s_check_ledger ("after the kill");

    F->match_pid = harness_start (F->h, "match");
    char offer[32];
    s_wait_offer (e, ry, offer);
    s_sleep_ms (1000); //  ten more rounds, for anything made twice to show
    assert_int_equal (s_count ("SELECT count (*) FROM match.offers WHERE request_id = %s", ry), 1);
    assert_int_equal (s_events ("offer.made", offer), 1);
    assert_int_equal (s_count ("SELECT count (*) FROM match.requests WHERE id = %s"
                               " AND status = 'matching'",
                               ry),
                      1);
    s_check_ledger ("after the restart");
}

//  ---------------------------------------------------------------------------------------
//  Kills at random under a steady stream of requests and answers

//  The killer thread: KILLS times, after a random pause, waits up to 1.5 s for a round to
//  hold the dispatch lock and kills match there (or wherever it then is). It only kills:
//  the main thread reaps and starts match again (a process whose forking thread ends gets the
//  harness's parent-death signal), and this thread waits for that before the next kill.
static void *
s_killer (void *arg)
{
    unsigned seed = (unsigned) (uintptr_t) arg;
    PGconn *conn = s_connect ();
    for (int k = 0; k < KILLS; k++) {
        int pause = 700 + (int) (rand_r (&seed) % 1500);
        for (int slept = 0; slept < pause; slept += 10) {
            pthread_mutex_lock (&F->lock);
            bool stop = F->stop;
            pthread_mutex_unlock (&F->lock);
            if (stop)
                goto done;
            s_sleep_ms (10);
        }
        bool alive = false;
        while (!alive) {
            pthread_mutex_lock (&F->lock);
            alive = !F->killed || F->stop;
            bool stop = F->stop;
            pthread_mutex_unlock (&F->lock);
            if (stop)
                goto done;
            if (!alive)
                s_sleep_ms (10);
        }
        //  A round in flight: a match backend holding the dispatch lock.
        bool in_round = false;
        for (int polls = 0; conn && !in_round && polls < 1500; polls++) {
            PGresult *res = PQexec (
                conn, "SELECT count (*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                      " WHERE l.locktype = 'advisory' AND l.granted AND a.usename = 'match'"
                      " AND l.objid = (" ROUND_KEY "::bigint & 4294967295)::oid"
                      " AND a.datname = current_database ()");
            in_round = PQresultStatus (res) == PGRES_TUPLES_OK && PQntuples (res) == 1
                       && atoi (PQgetvalue (res, 0, 0)) > 0;
            PQclear (res);
            if (!in_round)
                s_sleep_ms (1);
        }
        pthread_mutex_lock (&F->lock);
        if (!F->killed && F->match_pid > 0) {
            kill (F->match_pid, SIGKILL);
            F->killed = true;
            F->kills++;
            F->kills_in_round += in_round;
        }
        pthread_mutex_unlock (&F->lock);
    }
done:
    PQfinish (conn);
    return NULL;
}

//  Starts match again when the killer killed it, and checks the ledger as the restarted
//  match finds it. Returns true when it did.
static bool
s_revive (void)
{
    pthread_mutex_lock (&F->lock);
    bool killed = F->killed;
    pthread_mutex_unlock (&F->lock);
    if (!killed)
        return false;
    int status = harness_stop (F->h, "match", SIGKILL);
    assert_true (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
    pid_t pid = harness_start (F->h, "match");
    pthread_mutex_lock (&F->lock);
    int kills = F->kills;
    pthread_mutex_unlock (&F->lock);
    char when[64];
    snprintf (when, sizeof when, "after restart %d", kills);
    s_check_ledger (when);
    pthread_mutex_lock (&F->lock);
    F->match_pid = pid;
    F->killed = false;
    pthread_mutex_unlock (&F->lock);
    return true;
}

//  Calls match as the stream does: one request id for the whole call, so that a request cut
//  off by a kill is sent again to the restarted match as the same request (it replays the
//  stored reply when the first one committed). Each attempt waits 1 s; an attempt without
//  a reply while match was not killed, eight times over, fails the test.
static st_status_t
s_stream_call (const msg_actor_t *actor, const char *op, const char *body, json_t **reply,
               st_error_t *err)
{
    uint8_t id[16];
    randombytes_buf (id, sizeof id);
    int silent = 0;
    while (true) {
        st_status_t rc = s_call_id ("match", actor, op, body, id, 1000, reply, err);
        if (rc != ST_UNAVAILABLE)
            return rc;
        if (!s_revive () && ++silent == 8)
            fail_msg ("%s: match alive but silent: %s", op, err->message);
    }
}

static void
test_kills_under_load (void **state)
{
    (void) state;
    srand (20261204);
    static const int hours[] = {8, 10, 14, 19};
    enum { VOLUNTEERS = 8, ANSWERED_MAX = 4096 };
    char slots[512];
    s_all_slots (slots, sizeof slots);
    for (int i = 0; i < VOLUNTEERS; i++) {
        char name[64], id[32];
        snprintf (name, sizeof name, STREAM_NAME "%d", i);
        s_volunteer_add (name, VILLAGE, "[\"r2修\"]", slots, 25.40 + i / 1000.0, 112.95, id);
    }
    static int64_t answered[ANSWERED_MAX];
    int answers = 0, created = 0, accepted = 0, declined = 0, conflicts = 0;

    assert_int_equal (pthread_create (&F->killer, NULL, s_killer, (void *) (uintptr_t) rand ()), 0);
    F->killer_running = true;
    int64_t began = st_clock_ms (), quiet_since = 0;
    for (int turn = 0;; turn++) {
        if (s_revive ())
            quiet_since = 0;
        pthread_mutex_lock (&F->lock);
        int kills = F->kills;
        bool killed = F->killed;
        pthread_mutex_unlock (&F->lock);
        //  Done 1.5 s after the last restart: the stream goes on over it.
        if (kills == KILLS && !killed) {
            if (!quiet_since)
                quiet_since = st_clock_ms ();
            else if (st_clock_ms () - quiet_since > 1500)
                break;
        }
        if (st_clock_ms () - began > 20000)
            fail_msg ("only %d of %d kills in 20 s", kills, KILLS);

        //  A request every other turn, a quarter of them urgent.
        if (turn % 2 == 0) {
            char start[64], end[64], body[1024];
            int day = 3 + rand () % 10, hour = hours[rand () % 4];
            s_day_at (day, hour, start, NULL);
            s_day_at (day, hour + 2, end, NULL);
            s_request_body ("流请求", start, end, 1 + rand () % 2, "[\"r2修\"]",
                            rand () % 4 ? "normal" : "urgent", body, sizeof body);
            st_error_t err;
            json_t *reply = NULL;
            if (s_stream_call (&TOWN, "request.create", body, &reply, &err) != ST_OK)
                fail_msg ("could not post a request: %s", err.message);
            assert_string_equal (s_str (reply, "status"), "open");
            json_decref (reply);
            created++;
        }
        //  Each pending offer answered once: half accepted, a quarter declined, a quarter
        //  left to lapse (in 2 s when normal), by the offer's id.
        PGresult *res =
            PQexec (harness_pg (F->h),
                    "SELECT o.id, o.volunteer_id FROM match.offers o"
                    " JOIN match.supply s ON s.volunteer_id = o.volunteer_id"
                    " WHERE o.status = 'pending' AND s.name LIKE '" STREAM_NAME "%' ORDER BY o.id");
        assert_int_equal (PQresultStatus (res), PGRES_TUPLES_OK);
        for (int row = 0; row < PQntuples (res); row++) {
            int64_t offer = atoll (PQgetvalue (res, row, 0));
            bool seen = false;
            for (int i = 0; i < answers && !seen; i++)
                seen = answered[i] == offer;
            if (seen || answers == ANSWERED_MAX)
                continue;
            answered[answers++] = offer;
            int dice = (int) ((((uint64_t) offer * 2654435761u) >> 7) % 4);
            if (dice == 3)
                continue;
            char body[64];
            snprintf (body, sizeof body, "{\"id\": \"%lld\"}", (long long) offer);
            msg_actor_t actor = s_volunteer (PQgetvalue (res, row, 1));
            st_error_t err;
            st_status_t rc = s_stream_call (&actor, dice < 2 ? "offer.accept" : "offer.decline",
                                            body, NULL, &err);
            //  An offer may lapse between the look and the answer; an accept may meet an
            //  overlapping commitment.
            if (rc == ST_OK && dice < 2)
                accepted++;
            else if (rc == ST_OK)
                declined++;
            else if (rc == ST_CONFLICT)
                conflicts++;
            else
                fail_msg ("answer to offer %lld: %s", (long long) offer, err.message);
        }
        PQclear (res);
        s_sleep_ms (50);
    }
    pthread_mutex_lock (&F->lock);
    F->stop = true;
    pthread_mutex_unlock (&F->lock);
    pthread_join (F->killer, NULL);
    F->killer_running = false;
    s_revive ();
    assert_int_equal (F->kills, KILLS);

    //  Every offer that lapsed, also while match was down, is expired by a round after the
    //  restarts.
    s_wait_for (0, "SELECT count (*) FROM match.offers WHERE status = 'pending'"
                   " AND deadline < now () - interval '1 second'");
    long offers = s_check_ledger ("after the stream");
    //  Each answer the stream was told succeeded happened exactly once, kills or not: an
    //  answer cut off by a kill and sent again replays, it is not done twice.
    assert_int_equal (s_count ("SELECT count (*) FROM match.requests WHERE title = '流请求'"),
                      created);
    assert_int_equal (s_count ("SELECT count (*) FROM match.offers o JOIN match.supply s"
                               " ON s.volunteer_id = o.volunteer_id WHERE o.status = 'accepted'"
                               " AND s.name LIKE '" STREAM_NAME "%%'"),
                      accepted);
    assert_int_equal (s_count ("SELECT count (*) FROM match.offers o JOIN match.supply s"
                               " ON s.volunteer_id = o.volunteer_id WHERE o.status = 'declined'"
                               " AND s.name LIKE '" STREAM_NAME "%%'"),
                      declined);
    //  The run did something of each kind.
    assert_true (accepted >= 5);
    assert_true (declined >= 2);
    long expired = s_count ("SELECT count (*) FROM match.offers o JOIN match.supply s"
                            " ON s.volunteer_id = o.volunteer_id WHERE o.status = 'expired'"
                            " AND s.name LIKE '" STREAM_NAME "%%'");
    assert_true (expired >= 1);
    print_message ("%d kills (%d while a round held the dispatch lock) over %lld ms: %d requests,"
                   " %ld offers in all, %d accepted, %d declined, %ld expired, %d conflicts\n",
                   F->kills, F->kills_in_round, (long long) (st_clock_ms () - began), created,
                   offers, accepted, declined, expired, conflicts);
}

int
main (void)
{
    st_log_init ("dispatch_restart_test", "warn");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown (test_kill_mid_round, s_test_teardown),
        cmocka_unit_test_teardown (test_kill_before_events, s_test_teardown),
        cmocka_unit_test_teardown (test_kills_under_load, s_test_teardown),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
