/*  round_test.c — the dispatch round's bounds, against a real database and real registry and
    match processes (rounds every 200 ms): a round reads at most STATION_DISPATCH_MAX_DEMAND
    requests, those starting soonest, and the rest are offered by later rounds; request.create
    refuses a start beyond STATION_DISPATCH_HORIZON_DAYS and a window longer than
    STATION_DISPATCH_WINDOW_DAYS, naming the field; a solver out of STATION_DISPATCH_SOLVE_MS
    ends the round cleanly, says so in the log, and leaves only whole offers (each with its
    offer.made, none beyond a request's headcount or a volunteer's one pending offer).

    Rounds are held back where a test needs a fixed starting point by the advisory lock a round
    takes (match_dispatch_store.c, "dispatch_lock"), held by the test's own session. Each test
    uses skills of its own.  */
#include "fixture.h"
#include "st_log.h"

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <setjmp.h>
#include <cmocka.h>

#define VILLAGE    "431022100201"
#define AT_VILLAGE ", \"lat\": 25.40, \"lon\": 112.95"
#define ROUND_KEY  "hashtext ('station.match.dispatch')"
#define BOUND      3 //  STATION_DISPATCH_MAX_DEMAND in the first tests

static fx_t *F;

static const msg_actor_t TOWN = {
    .account = "town-admin", .role = "region_admin", .region = "431022100000"};

static int
s_setup (void **state)
{
    setenv ("STATION_DISPATCH_ROUND_MS", "200", 1);
    char bound[16];
    snprintf (bound, sizeof bound, "%d", BOUND);
    setenv ("STATION_DISPATCH_MAX_DEMAND", bound, 1);
    F = fx_new ("round", FX_REGISTRY | FX_MATCH);
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

//  Rounds held back (the lock waits for a round in flight to end), and let go again.
static void
s_hold_rounds (void)
{
    fx_sql ("SELECT pg_advisory_lock (" ROUND_KEY ")");
}

static void
s_release_rounds (void)
{
    fx_sql ("SELECT pg_advisory_unlock (" ROUND_KEY ")");
}

//  `at` as RFC 3339 text in UTC.
static void
s_utc (time_t at, char text[64])
{
    struct tm tm;
    gmtime_r (&at, &tm);
    strftime (text, 64, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void
s_cancel (const char *request)
{
    char body[64];
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", request);
    st_error_t err;
    assert_int_equal (fx_call ("match", &TOWN, "request.cancel", body, NULL, &err), ST_OK);
}

//  match started again with the environment as it is now.
static void
s_restart_match (void)
{
    harness_stop (fx_harness (), "match", SIGTERM);
    harness_start (fx_harness (), "match");
}

//  How often `text` occurs in match's log.
static int
s_log_count (const char *text)
{
    char path[1024];
    snprintf (path, sizeof path, "%s/match.log", harness_dir (fx_harness ()));
    FILE *file = fopen (path, "r");
    if (!file)
        return 0;
    int count = 0;
    char line[4096];
    while (fgets (line, sizeof line, file))
        count += strstr (line, text) != NULL;
    fclose (file);
    return count;
}

//  ---------------------------------------------------------------------------------------
//  Tests

//  A request starting beyond the horizon (90 days by default) is refused naming earliest_start
//  and stores nothing; one just inside it is accepted. A window longer than 7 days is refused
//  naming latest_end; one of 7 days is accepted.
static void
test_horizon (void **state)
{
    (void) state;
    time_t now = time (NULL);
    const time_t day = 86400;
    char start[64], end[64], body[FX_BODY_SIZE];
    long before = fx_count ("SELECT count (*) FROM match.requests");
    st_error_t err;

    s_utc (now + 90 * day + 3600, start);
    s_utc (now + 90 * day + 3 * 3600, end);
    fx_request_body (body, "助老", "太远", VILLAGE, start, end, 1, "[\"r1远\"]", NULL, "");
    fx_expect ("beyond the horizon", fx_call ("match", &TOWN, "request.create", body, NULL, &err),
               &err, ST_INVALID_ARGUMENT, "earliest_start");
    assert_int_equal (fx_count ("SELECT count (*) FROM match.requests"), before);

    s_utc (now + 90 * day - 3600, start);
    s_utc (now + 90 * day + 3600, end);
    fx_request_body (body, "助老", "刚好", VILLAGE, start, end, 1, "[\"r1远\"]", NULL, "");
    json_t *reply = NULL;
    assert_int_equal (fx_call ("match", &TOWN, "request.create", body, &reply, &err), ST_OK);
    char inside[32];
    snprintf (inside, sizeof inside, "%s", fx_str (reply, "id"));
    json_decref (reply);

    s_utc (now + 3 * day, start);
    s_utc (now + 3 * day + 7 * day + 60, end);
    fx_request_body (body, "助老", "太长", VILLAGE, start, end, 1, "[\"r1远\"]", NULL, "");
    fx_expect ("a window over 7 days", fx_call ("match", &TOWN, "request.create", body, NULL, &err),
               &err, ST_INVALID_ARGUMENT, "latest_end");
    assert_int_equal (fx_count ("SELECT count (*) FROM match.requests"), before + 1);

    s_utc (now + 3 * day + 7 * day, end);
    fx_request_body (body, "助老", "一周", VILLAGE, start, end, 1, "[\"r1远\"]", NULL, "");
    assert_int_equal (fx_call ("match", &TOWN, "request.create", body, &reply, &err), ST_OK);
    char week[32];
    snprintf (week, sizeof week, "%s", fx_str (reply, "id"));
    json_decref (reply);
    assert_int_equal (fx_count ("SELECT count (*) FROM match.requests"), before + 2);
    s_cancel (inside);
    s_cancel (week);
}

//  Requests' windows from 9:00 to 11:00 on each of `days` into `starts` and `ends`, and
//  `volunteers` volunteers of the village named `prefix`0, 1, … with `skills`, free then (their
//  ids into `ids`).
static void
s_days_and_volunteers (const int *days, int count, char starts[][64], char ends[][64],
                       int volunteers, const char *prefix, const char *skills, char ids[][32])
{
    char availability[256] = "[", slot[8];
    for (int i = 0; i < count; i++) {
        fx_local (days[i], 9, 0, starts[i], slot);
        fx_local (days[i], 11, 0, ends[i], NULL);
        snprintf (availability + strlen (availability), sizeof availability - strlen (availability),
                  "%s\"%s\"", i ? ", " : "", slot);
    }
    strcat (availability, "]");
    for (int v = 0; v < volunteers; v++) {
        char name[32];
        snprintf (name, sizeof name, "%s%d", prefix, v);
        fx_volunteer_add (name, VILLAGE, skills, availability, 25.40 + v * 0.001, 112.95, "",
                          ids[v]);
    }
}

//  Five requests, posted latest first, for three volunteers free at each: the round reads the
//  three starting soonest (BOUND), offers them, and offers the other two only once those are
//  answered; no round in between touches the later two.
static void
test_demand_bound (void **state)
{
    (void) state;
    static const int days[] = {6, 5, 2, 4, 3}; //  in the order posted
    enum { REQUESTS = 5, VOLUNTEERS = 3 };
    char starts[REQUESTS][64], ends[REQUESTS][64], volunteers[VOLUNTEERS][32];
    s_days_and_volunteers (days, REQUESTS, starts, ends, VOLUNTEERS, "界", "[\"r2界\"]",
                           volunteers);
    s_hold_rounds ();
    char requests[REQUESTS][32];
    for (int i = 0; i < REQUESTS; i++)
        fx_request_add (&TOWN, VILLAGE, starts[i], ends[i], 1, "[\"r2界\"]", "normal", AT_VILLAGE,
                        "open", requests[i]);
    char soonest[128], later[128];
    snprintf (soonest, sizeof soonest, "%s, %s, %s", requests[2], requests[3], requests[4]);
    snprintf (later, sizeof later, "%s, %s", requests[0], requests[1]);
    s_release_rounds ();

    fx_wait_for (BOUND,
                 "SELECT count (*) FROM match.offers WHERE request_id IN (%s)"
                 " AND status = 'pending'",
                 soonest);
    fx_sleep_ms (1000); //  five more rounds
    assert_int_equal (fx_count ("SELECT count (DISTINCT request_id) FROM match.offers"
                                " WHERE request_id IN (%s)",
                                soonest),
                      BOUND);
    assert_int_equal (
        fx_count ("SELECT count (*) FROM match.offers WHERE request_id IN (%s)", later), 0);

    //  The soonest staffed, the later two come into the bound and are offered.
    for (int v = 0; v < VOLUNTEERS; v++) {
        char offer[32];
        snprintf (offer, sizeof offer, "%s",
                  fx_value ("SELECT id FROM match.offers WHERE volunteer_id = %s"
                            " AND status = 'pending'",
                            volunteers[v]));
        st_error_t err;
        assert_int_equal (fx_answer ("offer.accept", volunteers[v], offer, &err), ST_OK);
    }
    fx_wait_for (2,
                 "SELECT count (*) FROM match.offers WHERE request_id IN (%s)"
                 " AND status = 'pending'",
                 later);
    for (int i = 0; i < REQUESTS; i++)
        s_cancel (requests[i]);
}

//  Three requests starting soonest that nobody can fill (a skill nobody has) and two later
//  ones two volunteers can: the first round reads the three (BOUND) and finds them no
//  candidate, so they go behind the requests not tried lately, and the later two are offered
//  within a few rounds instead of never.
static void
test_unfillable_demand_goes_behind (void **state)
{
    (void) state;
    static const int days[] = {2, 3, 4, 5, 6}; //  the first three unfillable
    enum { REQUESTS = 5, UNFILLABLE = 3, VOLUNTEERS = 2 };
    char starts[REQUESTS][64], ends[REQUESTS][64], volunteers[VOLUNTEERS][32];
    s_days_and_volunteers (days, REQUESTS, starts, ends, VOLUNTEERS, "后", "[\"r4有\"]",
                           volunteers);
    s_hold_rounds ();
    char requests[REQUESTS][32];
    for (int i = 0; i < REQUESTS; i++)
        fx_request_add (&TOWN, VILLAGE, starts[i], ends[i], 1,
                        i < UNFILLABLE ? "[\"r4无\"]" : "[\"r4有\"]", "normal", AT_VILLAGE, "open",
                        requests[i]);
    char later[128];
    snprintf (later, sizeof later, "%s, %s", requests[3], requests[4]);
    s_release_rounds ();

    fx_wait_for (2,
                 "SELECT count (*) FROM match.offers WHERE request_id IN (%s)"
                 " AND status = 'pending'",
                 later);
    for (int i = 0; i < REQUESTS; i++)
        s_cancel (requests[i]);
}

//  With no time for the solver (STATION_DISPATCH_SOLVE_MS=0: it stops after its first 64
//  pivots) a round over forty requests and forty volunteers stops, says so in the log and
//  commits only whole offers: none beyond a request's headcount, each with one offer.made.
//  Given time again, the next rounds offer every request.
static void
test_solver_budget (void **state)
{
    (void) state;
    enum { COUNT = 40 };
    setenv ("STATION_DISPATCH_SOLVE_MS", "0", 1);
    setenv ("STATION_DISPATCH_MAX_DEMAND", "1000", 1);
    s_restart_match ();
    char start[64], end[64], availability[64];
    fx_window (3, 14, 17, start, end, availability);
    char volunteers[COUNT][32], requests[COUNT][32];
    for (int v = 0; v < COUNT; v++) {
        char name[32];
        snprintf (name, sizeof name, "算%d", v);
        fx_volunteer_add (name, VILLAGE, "[\"r3算\"]", availability, 25.38 + (v % 8) * 0.005,
                          112.93 + (v / 8) * 0.005, "", volunteers[v]);
    }
    const char *stopped = "the solver stopped at its budget";
    int stops = s_log_count (stopped);
    long made = fx_count ("SELECT count (*) FROM match.outbox WHERE topic = 'offer.made'");
    long offers = fx_count ("SELECT count (*) FROM match.offers");
    s_hold_rounds ();
    for (int i = 0; i < COUNT; i++) {
        char where[64];
        snprintf (where, sizeof where, ", \"lat\": %.3f, \"lon\": %.3f", 25.38 + (i % 5) * 0.007,
                  112.93 + (i / 5) * 0.004);
        fx_request_add (&TOWN, VILLAGE, start, end, 1 + i % 2, "[\"r3算\"]", "normal", where,
                        "open", requests[i]);
    }
    s_release_rounds ();
    for (int waited = 0; s_log_count (stopped) == stops; waited += 50) {
        if (waited > FX_WAIT_MS)
            fail_msg ("no round said \"%s\" in %d ms", stopped, FX_WAIT_MS);
        fx_sleep_ms (50);
    }
    //  Between rounds: every offer whole and within bounds.
    s_hold_rounds ();
    long now_offers = fx_count ("SELECT count (*) FROM match.offers");
    assert_int_equal (fx_count ("SELECT count (*) FROM match.outbox WHERE topic = 'offer.made'")
                          - made,
                      now_offers - offers);
    assert_int_equal (fx_count ("SELECT count (*) FROM match.requests r WHERE r.headcount <"
                                " (SELECT count (*) FROM match.offers o WHERE o.request_id = r.id"
                                " AND o.status = 'pending')"),
                      0);
    assert_int_equal (fx_count ("SELECT count (*) FROM (SELECT volunteer_id FROM match.offers"
                                " WHERE status = 'pending' GROUP BY 1 HAVING count (*) > 1) x"),
                      0);
    s_release_rounds ();

    //  Time again: every one of the forty volunteers gets an offer (the requests need 60).
    unsetenv ("STATION_DISPATCH_SOLVE_MS");
    s_restart_match ();
    fx_wait_for (COUNT,
                 "SELECT count (*) FROM match.offers o JOIN match.requests r"
                 " ON r.id = o.request_id WHERE o.status = 'pending' AND r.skills = '{r3算}'");
    for (int i = 0; i < COUNT; i++)
        s_cancel (requests[i]);
}

//  A cancel and a round take a request and its offers in one order (the request first): a
//  round that has expired a lapsed offer of a request it then offers again, and a cancel of
//  that request in between (which locks the request, then withdraws its offers), wait for one
//  another in turn, never in a circle. The round is held between the two steps by a request
//  that has started, locked by a session of the test's own (the round's next step gives it up
//  as unfilled), and let go once the cancel waits too. Before, the cancel waited for the
//  expired offer, the round for the request, and PostgreSQL broke the circle by rolling the
//  round back ("deadlock detected": simulation_test saw offers left pending past their
//  deadline).
static void
test_cancel_during_round (void **state)
{
    (void) state;
    static const int days[] = {1};
    char starts[1][64], ends[1][64], volunteers[2][32];
    s_days_and_volunteers (days, 1, starts, ends, 2, "锁", "[\"r5锁\"]", volunteers);
    s_hold_rounds ();
    char request[32], started[32];
    fx_request_add (&TOWN, VILLAGE, starts[0], ends[0], 1, "[\"r5锁\"]", "normal", AT_VILLAGE,
                    "open", request);
    fx_request_add (&TOWN, VILLAGE, starts[0], ends[0], 1, "[\"r5无\"]", "normal", AT_VILLAGE,
                    "open", started);
    //  The first volunteer's offer of the request has lapsed; the other is free for it.
    fx_sql ("UPDATE match.requests SET status = 'matching' WHERE id = %s", request);
    fx_sql ("INSERT INTO match.offers (request_id, volunteer_id, cost, deadline)"
            " VALUES (%s, %s, 0, now () - interval '1 second')",
            request, volunteers[0]);
    fx_sql ("UPDATE match.requests SET earliest_start = now () - interval '1 minute'"
            " WHERE id = %s",
            started);
    int deadlocks = s_log_count ("deadlock");
    long detected = fx_count ("SELECT deadlocks FROM pg_stat_database"
                              " WHERE datname = current_database ()");

    char sql[512];
    snprintf (sql, sizeof sql, "%s user=%s", harness_conninfo (fx_harness ()),
              getenv ("STATION_TEST_PGUSER"));
    PGconn *gate = PQconnectdb (sql);
    assert_int_equal (PQstatus (gate), CONNECTION_OK);
    snprintf (sql, sizeof sql, "BEGIN; SELECT 1 FROM match.requests WHERE id = %s FOR UPDATE",
              started);
    PGresult *res = PQexec (gate, sql);
    assert_int_equal (PQresultStatus (res), PGRES_TUPLES_OK);
    PQclear (res);
    s_release_rounds ();
    //  The round has expired the offer and waits for the started request.
    fx_wait_for (1, "SELECT count (*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                    " AND datname = current_database ()");
    //  The gate opens once the cancel waits too (at most 10 s).
    assert_int_equal (PQsendQuery (gate, "DO $$ BEGIN FOR i IN 1 .. 200 LOOP"
                                         " PERFORM pg_stat_clear_snapshot ();"
                                         " EXIT WHEN (SELECT count (*) FROM pg_stat_activity"
                                         " WHERE wait_event_type = 'Lock'"
                                         " AND datname = current_database ()) >= 2;"
                                         " PERFORM pg_sleep (0.05); END LOOP; END $$; COMMIT"),
                      1);
    s_cancel (request);
    while ((res = PQgetResult (gate))) {
        assert_int_equal (PQresultStatus (res), PGRES_COMMAND_OK);
        PQclear (res);
    }
    PQfinish (gate);

    fx_wait_request (started, "unfilled");
    fx_wait_request (request, "cancelled");
    assert_int_equal (fx_count ("SELECT count (*) FROM match.offers WHERE request_id = %s"
                                " AND status = 'pending'",
                                request),
                      0);
    //  The backends' statistics reach pg_stat_database within a second or so of going idle.
    fx_sleep_ms (1500);
    if (s_log_count ("deadlock") != deadlocks)
        fail_msg ("match's log tells of a deadlock between the cancel and the round");
    assert_int_equal (fx_count ("SELECT deadlocks FROM pg_stat_database"
                                " WHERE datname = current_database ()"),
                      detected);
}

//  Fails the test unless `sql` (as the superuser) fails with SQLSTATE 23503 naming constraint
//  `constraint`, and leaves the offers, requests and supply as they were.
static void
s_refused (const char *constraint, const char *sql)
{
    const char *tables = "SELECT (SELECT count (*) FROM match.offers) || '/'"
                         " || (SELECT count (*) FROM match.requests) || '/'"
                         " || (SELECT count (*) FROM match.supply) || '/'"
                         " || (SELECT sum (request_id + volunteer_id) FROM match.offers)";
    char before[128];
    snprintf (before, sizeof before, "%s", fx_value ("%s", tables));
    PGresult *res = PQexec (harness_pg (fx_harness ()), sql);
    const char *state = PQresultErrorField (res, PG_DIAG_SQLSTATE);
    const char *named = PQresultErrorField (res, PG_DIAG_CONSTRAINT_NAME);
    if (!state || strcmp (state, "23503") != 0 || !named || strcmp (named, constraint) != 0)
        fail_msg ("%s: expected SQLSTATE 23503 of \"%s\", got %s (%s)", sql, constraint,
                  state ? state : "success", PQresultErrorMessage (res));
    PQclear (res);
    assert_string_equal (fx_value ("%s", tables), before);
}

//  An offer never names a request or a volunteer that is not there (0027 checks it once a
//  statement, not once a row): an insert naming one is refused, one bad row among good ones
//  refuses the statement, and a request or volunteer an offer names cannot be deleted or
//  change its id, nor an offer its request or volunteer to a missing one.
static void
test_offer_references (void **state)
{
    (void) state;
    static const int days[] = {2};
    char starts[1][64], ends[1][64], volunteers[2][32];
    s_days_and_volunteers (days, 1, starts, ends, 2, "引", "[\"r6引\"]", volunteers);
    s_hold_rounds ();
    char request[32], sql[1024];
    fx_request_add (&TOWN, VILLAGE, starts[0], ends[0], 1, "[\"r6引\"]", "normal", AT_VILLAGE,
                    "open", request);
    long missing = fx_count ("SELECT max (id) + 1000 FROM match.requests");
    long nobody = fx_count ("SELECT max (volunteer_id) + 1000 FROM match.supply");
    const char *insert = "INSERT INTO match.offers (request_id, volunteer_id, deadline) VALUES";
    snprintf (sql, sizeof sql, "%s (%ld, %s, now () + interval '1 hour')", insert, missing,
              volunteers[0]);
    s_refused ("offers_request_id_fkey", sql);
    snprintf (sql, sizeof sql, "%s (%s, %ld, now () + interval '1 hour')", insert, request, nobody);
    s_refused ("offers_volunteer_id_fkey", sql);
    snprintf (sql, sizeof sql,
              "%s (%s, %s, now () + interval '1 hour'), (%s, %ld, now () + interval '1 hour')",
              insert, request, volunteers[0], request, nobody);
    s_refused ("offers_volunteer_id_fkey", sql);

    fx_sql ("%s (%s, %s, now () + interval '1 hour')", insert, request, volunteers[0]);
    snprintf (sql, sizeof sql, "DELETE FROM match.requests WHERE id = %s", request);
    s_refused ("offers_request_id_fkey", sql);
    snprintf (sql, sizeof sql, "DELETE FROM match.supply WHERE volunteer_id = %s", volunteers[0]);
    s_refused ("offers_volunteer_id_fkey", sql);
    snprintf (sql, sizeof sql, "UPDATE match.supply SET volunteer_id = %ld WHERE volunteer_id = %s",
              nobody, volunteers[0]);
    s_refused ("offers_volunteer_id_fkey", sql);
    snprintf (sql, sizeof sql, "UPDATE match.offers SET request_id = %ld WHERE request_id = %s",
              missing, request);
    s_refused ("offers_request_id_fkey", sql);
    snprintf (sql, sizeof sql, "UPDATE match.offers SET volunteer_id = %ld WHERE request_id = %s",
              nobody, request);
    s_refused ("offers_volunteer_id_fkey", sql);
    //  To an existing volunteer: allowed, as the foreign key allowed it.
    fx_sql ("UPDATE match.offers SET volunteer_id = %s WHERE request_id = %s", volunteers[1],
            request);
    s_release_rounds ();
    s_cancel (request);
}

int
main (void)
{
    st_log_init ("round_test", "warn");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_horizon),
        cmocka_unit_test (test_demand_bound),
        cmocka_unit_test (test_unfillable_demand_goes_behind),
        cmocka_unit_test (test_solver_budget),
        cmocka_unit_test (test_cancel_during_round),
        cmocka_unit_test (test_offer_references),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
