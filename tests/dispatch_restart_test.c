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
#include "fixture.h"
#include "st_log.h"

#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <setjmp.h>
#include <cmocka.h>

#define VILLAGE     "431022100201"
#define AT_VILLAGE  ", \"lat\": 25.40, \"lon\": 112.95" //  where the requests are
#define KILLS       3          //  how often the second scenario kills match
#define STREAM_NAME "流志愿者" //  the second scenario's volunteers' names begin so
//  The advisory lock a round holds (match_dispatch_store.c, "dispatch_lock"): the test takes
//  it itself to hold rounds back, and looks for it to find a round in flight.
#define ROUND_KEY "hashtext ('station.match.dispatch')"

typedef struct {
    fx_t *fx;     //  registry and match
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

static const msg_actor_t TOWN = {
    .account = "town-admin", .role = "region_admin", .region = "431022100000"};

//  ---------------------------------------------------------------------------------------
//  Our own connections

//  A superuser connection of our own to the test database (beside harness_pg, which the
//  checks use): for a transaction held open across the kill, and for the killer thread.
//  NULL when it fails (the caller decides: the killer thread may not fail the test).
static PGconn *
s_connect (void)
{
    char conninfo[1024];
    snprintf (conninfo, sizeof conninfo, "%s user=%s", harness_conninfo (fx_harness ()),
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

//  ---------------------------------------------------------------------------------------
//  The ledger: match's outbox against its offers, requests and commitments

//  Loads every offer.* and request.* event of the outbox into the temporary table
//  restart_events (outbox id, topic, the id the body names), decoding each body with the
//  project's codec: what a consumer would read, not what the outbox row looks like.
static void
s_load_events (void)
{
    PGconn *pg = harness_pg (fx_harness ());
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
    PGconn *pg = harness_pg (fx_harness ());
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
    long offers = fx_count ("SELECT count (*) FROM match.offers");
    s_exec (pg, "COMMIT");
    return offers;
}

//  ---------------------------------------------------------------------------------------
//  Offers and slots

//  The status of offer `id`.
static const char *
s_offer_status (const char *id)
{
    static char status[32];
    char sql[128];
    snprintf (sql, sizeof sql, "SELECT status FROM match.offers WHERE id = %s", id);
    snprintf (status, sizeof status, "%s", harness_sql (fx_harness (), sql));
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
    F->fx = fx_new ("dispatch_restart", FX_REGISTRY | FX_MATCH);
    F->match_pid = fx_pid ("match");
    fx_county_add ();
    *state = F;
    return 0;
}

static int
s_teardown (void **state)
{
    (void) state;
    fx_destroy (&F->fx);
    pthread_mutex_destroy (&F->lock);
    free (F);
    return 0;
}

//  After each test, also one that failed half-way: no lock of ours left held, no snapshot
//  left open, no killer left running, and match running for the next test.
static int
s_recover (void **state)
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
    PQclear (PQexec (harness_pg (fx_harness ()), "ROLLBACK"));
    if (F->killed || F->match_pid <= 0) {
        harness_stop (fx_harness (), "match", SIGKILL);
        F->match_pid = harness_start (fx_harness (), "match");
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
    fx_wait_for (1,
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
    PGresult *res = PQexec (harness_pg (fx_harness ()), sql);
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
    int status = harness_stop (fx_harness (), "match", SIGKILL);
    assert_true (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
    F->match_pid = 0;
    s_exec (mine, "ROLLBACK");
    PQfinish (mine);
    F->mine = NULL;
    fx_wait_for (0, "SELECT count (*) FROM pg_stat_activity WHERE datname = current_database ()"
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
    char start[64], end[64], availability[64];
    fx_window (3, 9, 12, start, end, availability);
    char a[32], b[32], b2[32], c[32], d1[32], d2[32], g[32];
    fx_volunteer_add ("甲接受", VILLAGE, "[\"r1甲\"]", availability, 25.401, 112.951, "", a);
    fx_volunteer_add ("乙过期", VILLAGE, "[\"r1乙\"]", availability, 25.401, 112.951, "", b);
    fx_volunteer_add ("乙后补", VILLAGE, "[\"r1乙\"]", availability, 25.45, 113.00, "", b2);
    fx_volunteer_add ("丙等待", VILLAGE, "[\"r1丙\"]", availability, 25.401, 112.951, "", c);
    fx_volunteer_add ("丁一", VILLAGE, "[\"r1丁\"]", availability, 25.401, 112.951, "", d1);
    fx_volunteer_add ("丁二", VILLAGE, "[\"r1丁\"]", availability, 25.402, 112.952, "", d2);
    fx_volunteer_add ("己停机", VILLAGE, "[\"r1己\"]", availability, 25.401, 112.951, "", g);
    char ra[32], rb[32], rc[32], rg[32], rx[32];
    fx_request_add (&TOWN, VILLAGE, start, end, 1, "[\"r1甲\"]", "urgent", AT_VILLAGE, "open", ra);
    fx_request_add (&TOWN, VILLAGE, start, end, 1, "[\"r1乙\"]", "urgent", AT_VILLAGE, "open", rb);
    fx_request_add (&TOWN, VILLAGE, start, end, 1, "[\"r1丙\"]", "urgent", AT_VILLAGE, "open", rc);
    fx_request_add (&TOWN, VILLAGE, start, end, 1, "[\"r1己\"]", "urgent", AT_VILLAGE, "open", rg);
    char offer_a[32], offer_b[32], offer_c[32], offer_g[32];
    fx_wait_offer (a, ra, offer_a);
    fx_wait_offer (b, rb, offer_b);
    fx_wait_offer (c, rc, offer_c);
    fx_wait_offer (g, rg, offer_g);
    st_error_t err;
    assert_int_equal (fx_answer ("offer.accept", a, offer_a, &err), ST_OK);
    //  B's replacement is farther: until B's offer ends, nobody else is asked.
    assert_int_equal (fx_count ("SELECT count (*) FROM match.offers WHERE request_id = %s", rb), 1);

    //  Rounds held back until request X is in demand, B's offer lapsed and X's row ours.
    PGconn *mine = s_hold_rounds ();
    fx_request_add (&TOWN, VILLAGE, start, end, 2, "[\"r1丁\"]", "urgent", AT_VILLAGE, "open", rx);
    fx_sql ("UPDATE match.offers SET deadline = now () - interval '1 second' WHERE id = %s",
            offer_b);
    s_exec (mine, "BEGIN");
    char sql[512];
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
    assert_int_equal (fx_events ("offer.expired", offer_b), 0);
    assert_int_equal (fx_count ("SELECT count (*) FROM match.offers WHERE request_id = %s", rx), 0);
    assert_int_equal (fx_count ("SELECT count (*) FROM match.offers WHERE volunteer_id = %s", b2),
                      0);
    s_check_ledger ("after the kill");
    //  G's offer lapses while match is down.
    fx_sql ("UPDATE match.offers SET deadline = now () WHERE id = %s", offer_g);

    F->match_pid = harness_start (fx_harness (), "match");
    fx_wait_for (1, "SELECT count (*) FROM match.offers WHERE id = %s AND status = 'expired'",
                 offer_b);
    fx_wait_for (1, "SELECT count (*) FROM match.offers WHERE id = %s AND status = 'expired'",
                 offer_g);
    fx_wait_for (
        2, "SELECT count (*) FROM match.offers WHERE request_id = %s AND status = 'pending'", rx);
    char offer_b2[32];
    fx_wait_offer (b2, rb, offer_b2);
    fx_sleep_ms (1000); //  ten more rounds, for anything made twice to show
    //  The expiry the killed round did not commit happened once, after the restart.
    assert_int_equal (fx_events ("offer.expired", offer_b), 1);
    assert_int_equal (fx_events ("offer.made", offer_b), 1);
    //  So did the one that lapsed while match was down.
    assert_int_equal (fx_events ("offer.expired", offer_g), 1);
    assert_int_equal (fx_events ("offer.made", offer_g), 1);
    //  The offers the killed round did not commit were made once, after the restart.
    assert_int_equal (fx_count ("SELECT count (*) FROM match.offers WHERE request_id = %s", rx), 2);
    PGresult *res = fx_query ("SELECT id FROM match.offers WHERE request_id = %s", rx);
    assert_int_equal (PQntuples (res), 2);
    for (int row = 0; row < PQntuples (res); row++)
        assert_int_equal (fx_events ("offer.made", PQgetvalue (res, row, 0)), 1);
    PQclear (res);
    assert_int_equal (fx_count ("SELECT count (*) FROM match.offers WHERE request_id = %s", rb), 2);
    assert_int_equal (fx_events ("offer.made", offer_b2), 1);
    //  Accepted before the kill: still accepted, committed once, announced once.
    assert_string_equal (s_offer_status (offer_a), "accepted");
    assert_int_equal (fx_count ("SELECT count (*) FROM match.commitments WHERE volunteer_id = %s"
                                " AND request_id = %s AND during = tstzrange ('%s', '%s')",
                                a, ra, start, end),
                      1);
    assert_int_equal (fx_events ("offer.made", offer_a), 1);
    assert_int_equal (fx_events ("offer.accepted", offer_a), 1);
    assert_int_equal (fx_count ("SELECT accepted FROM match.requests WHERE id = %s"
                                " AND status = 'staffed'",
                                ra),
                      1);
    //  Pending across the kill: still pending, made once, and its volunteer can say yes.
    assert_string_equal (s_offer_status (offer_c), "pending");
    assert_int_equal (fx_events ("offer.made", offer_c), 1);
    assert_int_equal (fx_answer ("offer.accept", c, offer_c, &err), ST_OK);
    assert_int_equal (fx_count ("SELECT count (*) FROM match.commitments WHERE volunteer_id = %s"
                                " AND request_id = %s",
                                c, rc),
                      1);
    assert_int_equal (fx_events ("offer.accepted", offer_c), 1);
    s_check_ledger ("after the restart");
}

//  The round stops after its offer insert, writing the first offer.made: the test holds a
//  lock on the outbox. match is killed; offers without their events must not survive, and
//  after the restart request Y is offered once, with one offer.made.
static void
test_kill_before_events (void **state)
{
    (void) state;
    char start[64], end[64], availability[64];
    fx_window (4, 9, 12, start, end, availability);
    char e[32], ry[32];
    fx_volunteer_add ("戊", VILLAGE, "[\"r3戊\"]", availability, 25.401, 112.951, "", e);
    //  No offer may lapse while the round is held: it would write offer.expired (and wait)
    //  before it offers Y.
    assert_int_equal (fx_count ("SELECT count (*) FROM match.offers WHERE status = 'pending'"
                                " AND deadline < now () + interval '30 seconds'"),
                      0);
    PGconn *mine = s_hold_rounds ();
    fx_request_add (&TOWN, VILLAGE, start, end, 1, "[\"r3戊\"]", "urgent", AT_VILLAGE, "open", ry);
    //  After request.create's own event: nobody else writes match's outbox meanwhile.
    s_exec (mine, "BEGIN");
    s_exec (mine, "LOCK TABLE match.outbox IN SHARE MODE");
    s_release_rounds (mine);

    s_wait_round_blocked ("INSERT INTO outbox");
    s_check_ledger ("while the round waits");
    //  The offer insert marks the requests it offers matching: Y's row is the round's.
    s_expect_locked ("requests", ry, "was to offer request Y first");
    s_kill_round (mine);
    assert_int_equal (fx_count ("SELECT count (*) FROM match.offers WHERE request_id = %s", ry), 0);
    assert_int_equal (fx_count ("SELECT count (*) FROM match.requests WHERE id = %s"
                                " AND status = 'open'",
                                ry),
                      1);
    s_check_ledger ("after the kill");

    F->match_pid = harness_start (fx_harness (), "match");
    char offer[32];
    fx_wait_offer (e, ry, offer);
    fx_sleep_ms (1000); //  ten more rounds, for anything made twice to show
    assert_int_equal (fx_count ("SELECT count (*) FROM match.offers WHERE request_id = %s", ry), 1);
    assert_int_equal (fx_events ("offer.made", offer), 1);
    assert_int_equal (fx_count ("SELECT count (*) FROM match.requests WHERE id = %s"
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
            fx_sleep_ms (10);
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
                fx_sleep_ms (10);
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
                fx_sleep_ms (1);
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
    int status = harness_stop (fx_harness (), "match", SIGKILL);
    assert_true (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
    pid_t pid = harness_start (fx_harness (), "match");
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
        st_status_t rc = fx_call_id ("match", actor, op, body, id, 1000, reply, err);
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
        fx_volunteer_add (name, VILLAGE, "[\"r2修\"]", slots, 25.40 + i / 1000.0, 112.95, "", id);
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
            fx_local (day, hour, 0, start, NULL);
            fx_local (day, hour + 2, 0, end, NULL);
            fx_request_body (body, "助老", "流请求", VILLAGE, start, end, 1 + rand () % 2,
                             "[\"r2修\"]", rand () % 4 ? "normal" : "urgent", AT_VILLAGE);
            st_error_t err;
            json_t *reply = NULL;
            if (s_stream_call (&TOWN, "request.create", body, &reply, &err) != ST_OK)
                fail_msg ("could not post a request: %s", err.message);
            assert_string_equal (fx_str (reply, "status"), "open");
            json_decref (reply);
            created++;
        }
        //  Each pending offer answered once: half accepted, a quarter declined, a quarter
        //  left to lapse (in 2 s when normal), by the offer's id.
        PGresult *res = fx_query ("SELECT o.id, o.volunteer_id FROM match.offers o"
                                  " JOIN match.supply s ON s.volunteer_id = o.volunteer_id"
                                  " WHERE o.status = 'pending' AND s.name LIKE '" STREAM_NAME
                                  "%%' ORDER BY o.id");
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
            msg_actor_t actor = fx_volunteer (PQgetvalue (res, row, 1));
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
        fx_sleep_ms (50);
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
    fx_wait_for (0, "SELECT count (*) FROM match.offers WHERE status = 'pending'"
                    " AND deadline < now () - interval '1 second'");
    long offers = s_check_ledger ("after the stream");
    //  Each answer the stream was told succeeded happened exactly once, kills or not: an
    //  answer cut off by a kill and sent again replays, it is not done twice.
    assert_int_equal (fx_count ("SELECT count (*) FROM match.requests WHERE title = '流请求'"),
                      created);
    assert_int_equal (fx_count ("SELECT count (*) FROM match.offers o JOIN match.supply s"
                                " ON s.volunteer_id = o.volunteer_id WHERE o.status = 'accepted'"
                                " AND s.name LIKE '" STREAM_NAME "%%'"),
                      accepted);
    assert_int_equal (fx_count ("SELECT count (*) FROM match.offers o JOIN match.supply s"
                                " ON s.volunteer_id = o.volunteer_id WHERE o.status = 'declined'"
                                " AND s.name LIKE '" STREAM_NAME "%%'"),
                      declined);
    //  The run did something of each kind.
    assert_true (accepted >= 5);
    assert_true (declined >= 2);
    long expired = fx_count ("SELECT count (*) FROM match.offers o JOIN match.supply s"
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
        cmocka_unit_test_teardown (test_kill_mid_round, s_recover),
        cmocka_unit_test_teardown (test_kill_before_events, s_recover),
        cmocka_unit_test_teardown (test_kills_under_load, s_recover),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
