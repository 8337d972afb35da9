/*  ledger_reports_test.c — the ledger's expiry, rankings, stats, registry's statuses and dead
    letters (issue 20) against live registry, match and ledger. Completions and ratings are
    written into match's outbox as match writes them (fx_publish), so that a record can be
    checked out on a chosen day (a year ago) and a backlog made at once; the ledger reads them
    through match's relay and events.read as it reads any. The audit finds no difference after
    every test.  */
#include "fixture.h"
#include "st_log.h"
#include "st_time.h"

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

static msg_actor_t TOWN_A = {.account = "town-a", .role = "region_admin", .region = "431022100000"};
static msg_actor_t TOWN_C = {.account = "town-c", .role = "region_admin", .region = "431022102000"};
static msg_actor_t TOWN_D = {.account = "town-d", .role = "region_admin", .region = "431022103000"};
static int s_people;
static int64_t s_records = 9000000; //  record ids of the completions written here

//  A new volunteer of `region` the ledger knows; their id into `id`.
static void
s_volunteer (const char *region, char id[32])
{
    char name[32];
    snprintf (name, sizeof name, "排行%d", ++s_people);
    fx_volunteer_add (name, region, "[]", "[]", 25.40, 112.95, "", id);
    fx_ledger_wait_volunteer (id);
}

//  Match's service.completed of a new record: `minutes` of volunteer `volunteer` in `region`,
//  checked out at `checkout` (RFC 3339); request `request` (NULL: none). Its id into `record`
//  (may be NULL).
static void
s_completed (const char *volunteer, const char *region, int minutes, const char *checkout,
             const char *request, char record[32])
{
    char id[32];
    snprintf (id, sizeof id, "%lld", (long long) ++s_records);
    msg_service_completed_t body = {.record_id = id,
                                    .volunteer_id = (char *) volunteer,
                                    .region = (char *) region,
                                    .category = "elderly",
                                    .hours = minutes / 60.0,
                                    .has_hours = true,
                                    .checkin_at = (char *) checkout,
                                    .checkout_at = (char *) checkout,
                                    .request_id = (char *) request,
                                    .minutes = minutes,
                                    .has_minutes = true};
    fx_publish ("match", "service.completed", &body);
    if (record)
        snprintf (record, 32, "%s", id);
}

//  The books balanced (ledger.audit), `parked` events parked, one transfer per source.
static void
s_audit_ok (long parked)
{
    json_decref (fx_ledger_audit (NULL));
    assert_int_equal (fx_count ("SELECT count (*) FROM ledger.dead_letters"), parked);
    assert_int_equal (fx_count ("SELECT count (*) FROM (SELECT source, unit FROM ledger.transfers"
                                " GROUP BY 1, 2 HAVING count (*) > 1) x"),
                      0);
    //  The ranking totals kept at posting are what the journal sums to (ranking_journal).
    assert_int_equal (fx_count ("SELECT count (*) FROM ((TABLE ledger.ranking_totals EXCEPT"
                                " TABLE ledger.ranking_journal) UNION ALL (TABLE"
                                " ledger.ranking_journal EXCEPT TABLE ledger.ranking_totals)) x"),
                      0);
    //  The lots hold each volunteer's points balance.
    assert_int_equal (fx_count ("SELECT count (*) FROM ledger.accounts a WHERE a.kind ="
                                " 'volunteer' AND a.unit = 'points' AND a.balance <> (SELECT"
                                " coalesce (sum (remaining), 0) FROM ledger.lots l"
                                " WHERE l.volunteer_id = a.volunteer_id)"),
                      0);
}

static int
s_setup (void **state)
{
    (void) state;
    //  The expiry worker runs at start and then hourly: a test lets it run by restarting.
    setenv ("STATION_LEDGER_EXPIRY_MS", "3600000", 1);
    setenv ("STATION_LEDGER_STORE_WAIT_MS", "600000", 1);
    fx_new ("ledger_reports", FX_REGISTRY | FX_MATCH | FX_LEDGER);
    fx_county_add ();
    fx_region_add ("431022102000", "栗源镇");
    fx_region_add ("431022102201", "栗源镇第一村");
    fx_region_add ("431022102202", "栗源镇第二村");
    fx_region_add ("431022103000", "迎春镇");
    fx_region_add ("431022103201", "迎春镇第一村");
    return 0;
}

//  ---------------------------------------------------------------------------------------
//  Expiry

//  A village's points expire each 31 December. Lots earned on 20 December last year, and on
//  1 January this year (one at 00:30 Beijing time, still 31 December in UTC): a spend takes
//  the oldest first, the worker expires what is left of last year's, once, on its own; the
//  statement says what expired and what expires next.
static void
test_expiry_oldest_first (void **state)
{
    (void) state;
    const char *village = "431022100201";
    char v[32], at[40];
    s_volunteer (village, v);
    json_t *rules = fx_call_ok (
        "ledger", &TOWN_A, "rules.set",
        "{\"region\": \"431022100201\", \"expiry\": \"fixed\", \"expiry_day\": \"12-31\"}");
    assert_string_equal (fx_str (rules, "expiry"), "fixed");
    assert_string_equal (fx_str (rules, "expiry_day"), "12-31");
    json_decref (rules);
    //  The rule as if set long ago, so that it prices last year's records.
    fx_sql ("UPDATE ledger.rules SET effective_from = '2000-01-01' WHERE region = '%s'", village);
    int year = (int) fx_count ("SELECT extract (year FROM now () AT TIME ZONE 'Asia/Shanghai')");
    snprintf (at, sizeof at, "%d-12-20T10:00:00+08:00", year - 1);
    s_completed (v, village, 60, at, NULL, NULL); //  10 points, good until last 31 December
    snprintf (at, sizeof at, "%d-01-01T10:00:00+08:00", year);
    s_completed (v, village, 120, at, NULL, NULL); //  20, good until this 31 December
    snprintf (at, sizeof at, "%d-01-01T00:30:00+08:00", year);
    s_completed (v, village, 30, at, NULL, NULL); //  5, the same
    fx_ledger_caught_up ();
    char last[24], next[24];
    snprintf (last, sizeof last, "%d-12-31", year - 1);
    snprintf (next, sizeof next, "%d-12-31", year);
    json_t *s = fx_ledger_statement (&FX_SYSTEM, v);
    assert_int_equal (fx_int (s, "balance"), 35);
    assert_int_equal (fx_int (s, "expired"), 0);
    assert_int_equal (fx_int (s, "next_expiry"), 10);
    assert_string_equal (fx_str (s, "next_expiry_on"), last);
    json_decref (s);

    //  A correction of 4 takes them from last year's 10.
    fx_ledger_adjust (&TOWN_A, v, "points", -4, "核对");
    fx_restart ("ledger", SIGTERM);
    fx_wait_for (1,
                 "SELECT count (*) FROM ledger.transfers WHERE kind = 'expire'"
                 " AND volunteer_id = %s",
                 v);
    s = fx_ledger_statement (&FX_SYSTEM, v);
    assert_int_equal (fx_int (s, "balance"), 25);
    assert_int_equal (fx_int (s, "expired"), 6);
    assert_string_equal (fx_str (s, "last_expired_on"), last);
    assert_int_equal (fx_int (s, "next_expiry"), 25);
    assert_string_equal (fx_str (s, "next_expiry_on"), next);
    json_decref (s);
    json_t *expired = NULL;
    assert_int_equal (fx_events_json ("points.expired", v, &expired), 1);
    assert_int_equal (fx_int (expired, "amount"), 6);
    assert_string_equal (fx_str (expired, "expired_on"), last);
    json_decref (expired);
    //  The journal says so.
    char body[128];
    snprintf (body, sizeof body, "{\"volunteer_id\": \"%s\", \"unit\": \"points\", \"limit\": 1}",
              v);
    json_t *page = fx_call_ok ("ledger", &FX_SYSTEM, "ledger.journal", body);
    json_t *entry = json_array_get (json_object_get (page, "entries"), 0);
    assert_string_equal (fx_str (entry, "kind"), "expire");
    assert_int_equal (fx_int (entry, "amount"), -6);
    json_decref (page);

    //  The worker running again (twice) expires nothing more.
    fx_restart ("ledger", SIGKILL);
    fx_restart ("ledger", SIGTERM);
    fx_sleep_ms (500);
    assert_int_equal (fx_count ("SELECT count (*) FROM ledger.transfers WHERE kind = 'expire'"
                                " AND volunteer_id = %s",
                                v),
                      1);
    assert_int_equal (fx_events ("points.expired", v), 1);
    //  The next spend takes the oldest of this year's: of one day, the first posted.
    fx_ledger_adjust (&TOWN_A, v, "points", -7, "核对");
    assert_int_equal (fx_count ("SELECT remaining FROM ledger.lots WHERE volunteer_id = %s"
                                " AND amount = 20",
                                v),
                      13);
    assert_int_equal (fx_count ("SELECT remaining FROM ledger.lots WHERE volunteer_id = %s"
                                " AND amount = 5",
                                v),
                      5);
    //  Stats of the village for both years: 35 issued, 11 taken back, 6 expired.
    snprintf (body, sizeof body,
              "{\"region\": \"%s\", \"from\": \"%d-01-01\", \"to\": \"%d-12-31\"}", village,
              year - 1, year);
    json_t *stats = fx_call_ok ("ledger", &TOWN_A, "ledger.stats", body);
    assert_int_equal (fx_int (stats, "points_issued"), 35 - 11);
    assert_int_equal (fx_int (stats, "points_adjusted"), -11);
    assert_int_equal (fx_int (stats, "points_expired"), 6);
    assert_int_equal (fx_int (stats, "credit_minutes"), 210);
    assert_int_equal (fx_int (stats, "redemptions"), 0);
    json_decref (stats);
    s_audit_ok (0);
}

//  Rules refuse an expiry that names no day, or a day that is none.
static void
test_expiry_rules_refused (void **state)
{
    (void) state;
    const char *bad[][2] = {
        {"{\"region\": \"431022100202\", \"expiry\": \"weekly\"}", "expiry"},
        {"{\"region\": \"431022100202\", \"expiry\": \"fixed\"}", "expiry_day"},
        {"{\"region\": \"431022100202\", \"expiry\": \"fixed\", \"expiry_day\": \"02-30\"}",
         "expiry_day"},
        {"{\"region\": \"431022100202\", \"expiry\": \"months\"}", "expiry_months"},
    };
    long versions = fx_count ("SELECT count (*) FROM ledger.rules");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        st_error_t err;
        st_status_t rc = fx_call ("ledger", &TOWN_A, "rules.set", bad[i][0], NULL, &err);
        fx_expect (bad[i][0], rc, &err, ST_INVALID_ARGUMENT, bad[i][1]);
    }
    assert_int_equal (fx_count ("SELECT count (*) FROM ledger.rules"), versions);
    json_decref (fx_call_ok ("ledger", &TOWN_A, "rules.set",
                             "{\"region\": \"431022100202\", \"expiry\": \"months\","
                             " \"expiry_months\": 6}"));
}

//  ---------------------------------------------------------------------------------------
//  Rankings, stats, statuses

static json_t *
s_ranking (const msg_actor_t *actor, const char *body)
{
    return fx_call_ok ("ledger", actor, "ranking.list", body);
}

//  The ranking's items as "rank:volunteer:amount:manual," lines (a static buffer).
static const char *
s_places (json_t *ranking)
{
    static char text[1024];
    text[0] = 0;
    json_t *items = json_object_get (ranking, "items");
    for (size_t i = 0; i < json_array_size (items); i++) {
        json_t *item = json_array_get (items, i);
        size_t len = strlen (text);
        snprintf (text + len, sizeof text - len, "%lld:%s:%lld:%lld,", fx_int (item, "rank"),
                  fx_str (item, "volunteer_id"), fx_int (item, "amount"), fx_int (item, "manual"));
    }
    return text;
}

static void
test_ranking_and_stats (void **state)
{
    (void) state;
    char v1[32], v2[32], v3[32], v4[32], now[40], want[256], body[256];
    s_volunteer ("431022102201", v1);
    s_volunteer ("431022102202", v2);
    s_volunteer ("431022102202", v3);
    s_volunteer ("431022103201", v4);
    fx_time (now, -60);
    s_completed (v1, "431022102201", 120, now, NULL, NULL);
    s_completed (v2, "431022102202", 60, now, NULL, NULL);
    s_completed (v3, "431022102202", 60, now, NULL, NULL);
    s_completed (v4, "431022103201", 240, now, NULL, NULL);
    fx_ledger_caught_up ();
    fx_ledger_adjust (&TOWN_C, v3, "hours", 30, "核对"); //  honour hours, entered by hand
    fx_ledger_adjust (&TOWN_C, v2, "points", 5, "核对");

    //  By hours in the township this month: v1, then v3 (30 minutes of them by hand), v2.
    json_t *r = s_ranking (&TOWN_C, "{\"region\": \"431022102000\", \"period\": \"month\","
                                    " \"by\": \"hours\"}");
    const char *places = s_places (r);
    snprintf (want, sizeof want, "1:%s:120:0,2:%s:90:30,3:%s:60:0,", v1, v3, v2);
    assert_string_equal (places, want);
    json_decref (r);
    //  By points: v1 20, v2 15 (5 by hand), v3 10.
    r = s_ranking (&TOWN_C, "{\"region\": \"431022102000\", \"period\": \"quarter\","
                            " \"by\": \"points\"}");
    places = s_places (r);
    snprintf (want, sizeof want, "1:%s:20:0,2:%s:15:5,3:%s:10:0,", v1, v2, v3);
    assert_string_equal (places, want);
    json_decref (r);
    //  The county: v4's 240 minutes first; in pages of two.
    msg_actor_t self = fx_volunteer (v1);
    r = s_ranking (&self, "{\"region\": \"431022000000\", \"period\": \"year\", \"by\": \"hours\","
                          " \"limit\": 2}");
    assert_int_equal (json_array_size (json_object_get (r, "items")), 2);
    assert_string_equal (fx_str (json_array_get (json_object_get (r, "items"), 0), "volunteer_id"),
                         v4);
    assert_string_equal (fx_str (r, "next_cursor"), "2");
    json_decref (r);
    //  A year long past: nobody.
    r = s_ranking (&TOWN_C,
                   "{\"region\": \"431022102000\", \"period\": \"year\", \"by\": \"hours\","
                   " \"at\": \"2001-06-01\"}");
    assert_int_equal (json_array_size (json_object_get (r, "items")), 0);
    assert_string_equal (fx_str (r, "from"), "2001-01-01");
    assert_string_equal (fx_str (r, "to"), "2001-12-31");
    json_decref (r);

    //  Who may read it, and bad input, naming the field.
    msg_actor_t other = fx_volunteer (v4);
    const struct {
        const msg_actor_t *actor;
        const char *body;
        st_status_t code;
        const char *field;
    } bad[] = {
        {&other, "{\"region\": \"431022102000\", \"period\": \"month\", \"by\": \"hours\"}",
         ST_PERMISSION_DENIED, "region"},
        {&TOWN_D, "{\"region\": \"431022102000\", \"period\": \"month\", \"by\": \"hours\"}",
         ST_PERMISSION_DENIED, "region"},
        {&TOWN_C, "{\"region\": \"431022102000\", \"period\": \"week\", \"by\": \"hours\"}",
         ST_INVALID_ARGUMENT, "period"},
        {&TOWN_C, "{\"region\": \"431022102000\", \"period\": \"month\", \"by\": \"stars\"}",
         ST_INVALID_ARGUMENT, "by"},
        {&TOWN_C,
         "{\"region\": \"431022102000\", \"period\": \"month\", \"by\": \"hours\","
         " \"at\": \"2026-02-30\"}",
         ST_INVALID_ARGUMENT, "at"},
        {&TOWN_C,
         "{\"region\": \"431022102000\", \"period\": \"month\", \"by\": \"hours\","
         " \"cursor\": \"x\"}",
         ST_INVALID_ARGUMENT, "cursor"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        st_error_t err;
        st_status_t rc = fx_call ("ledger", bad[i].actor, "ranking.list", bad[i].body, NULL, &err);
        fx_expect (bad[i].body, rc, &err, bad[i].code, bad[i].field);
    }

    //  The township's figures today: 240 minutes credited, 30 by hand; 45 points issued, 5
    //  of them by hand; nothing spent or expired.
    char today[16];
    snprintf (today, sizeof today, "%s",
              fx_value ("SELECT (now () AT TIME ZONE 'Asia/Shanghai')::date::text"));
    snprintf (body, sizeof body, "{\"region\": \"431022102000\", \"from\": \"%s\", \"to\": \"%s\"}",
              today, today);
    json_t *stats = fx_call_ok ("ledger", &TOWN_C, "ledger.stats", body);
    assert_int_equal (fx_int (stats, "credit_minutes"), 240);
    assert_int_equal (fx_int (stats, "honour_minutes"), 30);
    assert_true (json_number_value (json_object_get (stats, "hours_credit")) == 4.0);
    assert_int_equal (fx_int (stats, "points_issued"), 45);
    assert_int_equal (fx_int (stats, "points_adjusted"), 5);
    assert_int_equal (fx_int (stats, "points_spent"), 0);
    assert_int_equal (fx_int (stats, "points_expired"), 0);
    assert_int_equal (fx_int (stats, "redemptions"), 0);
    json_decref (stats);
    st_error_t err;
    st_status_t rc = fx_call ("ledger", &TOWN_D, "ledger.stats", body, NULL, &err);
    fx_expect ("stats out of scope", rc, &err, ST_PERMISSION_DENIED, "region");
    rc = fx_call ("ledger", &self, "ledger.stats", body, NULL, &err);
    assert_int_equal (rc, ST_PERMISSION_DENIED);
    rc =
        fx_call ("ledger", &TOWN_C, "ledger.stats",
                 "{\"region\": \"431022102000\", \"from\": \"2026-12-02\", \"to\": \"2026-12-01\"}",
                 NULL, &err);
    fx_expect ("stats ending before they start", rc, &err, ST_INVALID_ARGUMENT, "to");
    rc =
        fx_call ("ledger", &TOWN_C, "ledger.stats",
                 "{\"region\": \"431022102000\", \"from\": \"2026-13-01\", \"to\": \"2026-12-01\"}",
                 NULL, &err);
    fx_expect ("stats from no day", rc, &err, ST_INVALID_ARGUMENT, "from");

    //  v1 suspended by registry: off the ranking, their books kept; active again, back on it.
    snprintf (body, sizeof body,
              "{\"id\": \"%s\", \"status\": \"suspended\", \"reason\": \"停用\"}", v1);
    json_decref (fx_call_ok ("registry", &FX_SYSTEM, "volunteer.set_status", body));
    fx_wait_for (1,
                 "SELECT count (*) FROM ledger.volunteers WHERE id = %s AND status ="
                 " 'suspended'",
                 v1);
    r = s_ranking (&TOWN_C, "{\"region\": \"431022102000\", \"period\": \"month\","
                            " \"by\": \"hours\"}");
    places = s_places (r);
    snprintf (want, sizeof want, "1:%s:90:30,2:%s:60:0,", v3, v2);
    assert_string_equal (places, want);
    json_decref (r);
    json_t *s = fx_ledger_statement (&FX_SYSTEM, v1);
    assert_int_equal (fx_int (s, "balance"), 20);
    json_decref (s);
    snprintf (body, sizeof body, "{\"id\": \"%s\", \"status\": \"active\"}", v1);
    json_decref (fx_call_ok ("registry", &FX_SYSTEM, "volunteer.set_status", body));
    fx_wait_for (1,
                 "SELECT count (*) FROM ledger.volunteers WHERE id = %s AND status ="
                 " 'active'",
                 v1);
    s_audit_ok (0);
}

//  ranking.list as the journal itself ranks (the statement it ran before the totals: every
//  ranked transfer of the period whose other side is a system account of the subtree), for
//  subtree $1, unit $2, days $3 to $4, at most 500 places, as "rank:volunteer:amount:manual,".
static const char *
s_journal_places (const char *prefix, const char *by, const char *from, const char *to)
{
    static char text[8192];
    text[0] = 0;
    PGresult *res = fx_query (
        "WITH s AS (SELECT id FROM ledger.accounts WHERE region IS NOT NULL AND unit = '%s'"
        " AND left (region, length ('%s')) = '%s'),"
        " x AS (SELECT t.volunteer_id, t.amount, t.manual, t.kind FROM s JOIN ledger.transfers t"
        " ON t.debit = s.id AND t.unit = '%s' AND t.day BETWEEN '%s' AND '%s'"
        " UNION ALL SELECT t.volunteer_id, -t.amount, t.manual, t.kind FROM s"
        " JOIN ledger.transfers t ON t.credit = s.id AND t.unit = '%s'"
        " AND t.day BETWEEN '%s' AND '%s'),"
        " g AS (SELECT volunteer_id, sum (amount) AS amount, sum (CASE WHEN manual THEN amount"
        " ELSE 0 END) AS manual FROM x WHERE x.kind = ANY (CASE WHEN '%s' = 'hours' THEN"
        " ARRAY['credit', 'honour'] ELSE ARRAY['earn', 'rating', 'adjust'] END)"
        " GROUP BY volunteer_id),"
        " r AS (SELECT rank () OVER (ORDER BY g.amount DESC) AS rank, g.* FROM g"
        " LEFT JOIN ledger.volunteers v ON v.id = g.volunteer_id"
        " WHERE coalesce (v.status, 'active') = 'active' AND g.amount > 0)"
        " SELECT r.rank, r.volunteer_id, r.amount, r.manual FROM r"
        " ORDER BY r.amount DESC, r.volunteer_id LIMIT 500",
        by, prefix, prefix, by, from, to, by, from, to, by);
    for (int i = 0; i < PQntuples (res); i++) {
        size_t len = strlen (text);
        snprintf (text + len, sizeof text - len, "%s:%s:%s:%s,", PQgetvalue (res, i, 0),
                  PQgetvalue (res, i, 1), PQgetvalue (res, i, 2), PQgetvalue (res, i, 3));
    }
    PQclear (res);
    return text;
}

//  0..n-1 of the xorshift `rng`.
static int
s_pick (uint64_t *rng, int n)
{
    *rng ^= *rng << 13;
    *rng ^= *rng >> 7;
    *rng ^= *rng << 17;
    return (int) (*rng % (uint64_t) n);
}

//  A seeded random run (STATION_LEDGER_SEED repeats one) of completions checked out over
//  the past 15 months in three villages of two townships, ratings before and after them
//  (that add points, and cut them), officials' honour hours and points either way: the
//  totals ranking.list reads are the journal's sums after it (s_audit_ok), and its rankings
//  of each month, quarter and year, township and county, hours and points, the journal's own.
static void
test_ranking_totals_random (void **state)
{
    (void) state;
    static const char *const villages[] = {"431022102201", "431022102202", "431022103201"};
    const char *seed_text = getenv ("STATION_LEDGER_SEED");
    unsigned long long seed = seed_text ? strtoull (seed_text, NULL, 10) : (unsigned) time (NULL);
    fprintf (stderr, "test_ranking_totals_random: STATION_LEDGER_SEED=%llu\n", seed);
    uint64_t rng = seed * 2654435761u + 88172645463325252ull;
    //  Ratings of one or two stars cut points in the first village, since long ago.
    json_decref (fx_call_ok ("ledger", &TOWN_C, "rules.set",
                             "{\"region\": \"431022102201\", \"multiplier_1\": 50,"
                             " \"multiplier_2\": 80}"));
    fx_sql ("UPDATE ledger.rules SET effective_from = '2000-01-01' WHERE region = '431022102201'");
    msg_actor_t county = fx_admin ("region_admin", "431022000000");
    char v[6][32];
    for (int i = 0; i < 6; i++)
        s_volunteer (villages[i % 3], v[i]);
    char request[32], at[40];
    int requests = 0;
    for (int op = 0; op < 60; op++) {
        int what = s_pick (&rng, 10), who = s_pick (&rng, 6);
        if (what < 6) {
            //  A completion, perhaps of a request, served in the volunteer's village or another.
            const char *where = s_pick (&rng, 4) ? villages[who % 3] : villages[s_pick (&rng, 3)];
            fx_time (at, -86400LL * s_pick (&rng, 450) - 3600);
            bool rated = s_pick (&rng, 2);
            snprintf (request, sizeof request, "%d", 7700000 + ++requests);
            s_completed (v[who], where, 30 + 15 * s_pick (&rng, 12), at, rated ? request : NULL,
                         NULL);
            if (rated) {
                msg_service_rated_t body = {.request_id = request,
                                            .region = (char *) where,
                                            .category = "elderly",
                                            .stars = 1 + s_pick (&rng, 5),
                                            .has_stars = true,
                                            .has_volunteer_ids = true};
                fx_publish ("match", "service.rated", &body);
            }
        } else {
            //  An official's honour hours or points, either way (a cut may find too little:
            //  refused, changing nothing).
            bool hours = s_pick (&rng, 2);
            int amount = (1 + s_pick (&rng, hours ? 60 : 20)) * (s_pick (&rng, 3) ? 1 : -1);
            char body[160];
            snprintf (body, sizeof body,
                      "{\"volunteer_id\": \"%s\", \"unit\": \"%s\", \"amount\": %d,"
                      " \"reason\": \"核对\"}",
                      v[who], hours ? "hours" : "points", amount);
            json_t *reply = NULL;
            st_error_t err;
            st_status_t rc = fx_call ("ledger", &county, "ledger.adjust", body, &reply, &err);
            if (rc != ST_OK)
                fx_expect (body, rc, &err, ST_FAILED_PRECONDITION, "amount");
            json_decref (reply);
        }
    }
    fx_ledger_caught_up ();
    s_audit_ok (0);
    //  Every period of the run, in both subtrees that hold it.
    for (int ago = 0; ago <= 450; ago += 30) {
        static const char *const periods[] = {"month", "quarter", "year"};
        for (int p = 0; p < 3; p++)
            for (int k = 0; k < 4; k++) {
                const char *region = k % 2 ? "431022102000" : "431022000000";
                const char *prefix = k % 2 ? "431022102" : "431022";
                const char *by = k / 2 ? "points" : "hours";
                char day[16], body[256];
                fx_time (at, -86400LL * ago);
                snprintf (day, sizeof day, "%s",
                          fx_value ("SELECT (timestamptz '%s' AT TIME ZONE 'Asia/Shanghai')"
                                    "::date::text",
                                    at));
                snprintf (body, sizeof body,
                          "{\"region\": \"%s\", \"period\": \"%s\", \"by\": \"%s\","
                          " \"at\": \"%s\", \"limit\": 500}",
                          region, periods[p], by, day);
                json_t *r = s_ranking (&county, body);
                char got[8192];
                snprintf (got, sizeof got, "%s", s_places (r));
                const char *want =
                    s_journal_places (prefix, by, fx_str (r, "from"), fx_str (r, "to"));
                if (strcmp (got, want) != 0)
                    fail_msg ("%s: ranking.list gives %s, the journal %s", body, got, want);
                json_decref (r);
                //  The same places page by page, two at a time (each page sorts and ranks
                //  only its first places: ranks and ties must carry across pages).
                char paged[8192] = "", cursor[32] = "";
                for (int pages = 0; pages < 100; pages++) {
                    snprintf (body, sizeof body,
                              "{\"region\": \"%s\", \"period\": \"%s\", \"by\": \"%s\","
                              " \"at\": \"%s\", \"limit\": 2%s%s%s}",
                              region, periods[p], by, day, *cursor ? ", \"cursor\": \"" : "",
                              cursor, *cursor ? "\"" : "");
                    r = s_ranking (&county, body);
                    size_t used = strlen (paged);
                    snprintf (paged + used, sizeof paged - used, "%s", s_places (r));
                    json_t *next = json_object_get (r, "next_cursor");
                    snprintf (cursor, sizeof cursor, "%s",
                              json_is_string (next) ? json_string_value (next) : "");
                    json_decref (r);
                    if (!*cursor)
                        break;
                }
                if (strcmp (paged, want) != 0)
                    fail_msg ("%s: ranking.list by pages of 2 gives %s, the journal %s", body,
                              paged, want);
            }
    }
}

//  ---------------------------------------------------------------------------------------
//  Dead letters, redelivery, a ledger killed under load

//  A completion naming a volunteer registry never told of, and ones with a region or a
//  check-out that are none, are parked with their reasons; the events after them apply. When
//  registry tells of the volunteer, their parked completion applies and leaves the dead letters.
static void
test_dead_letters (void **state)
{
    (void) state;
    char v[32], now[40], good[32], stranger[32];
    s_volunteer ("431022100202", v);
    fx_time (now, -60);
    s_completed ("987654321", "431022100202", 60, now, NULL, stranger);
    s_completed (v, "4310221002x2", 60, now, NULL, NULL);
    s_completed (v, "431022100202", 60, "last tuesday", NULL, NULL);
    s_completed (v, "431022100202", 60, now, NULL, good);
    fx_ledger_caught_up ();
    assert_int_equal (fx_count ("SELECT count (*) FROM ledger.transfers WHERE source ="
                                " 'match/service.completed/record/%s'",
                                good),
                      2);
    assert_int_equal (fx_count ("SELECT count (*) FROM ledger.dead_letters"), 3);
    assert_int_equal (fx_count ("SELECT count (*) FROM ledger.dead_letters WHERE reason LIKE"
                                " '%%volunteer \"987654321\" is not known%%'"),
                      1);
    assert_int_equal (fx_count ("SELECT count (*) FROM ledger.dead_letters WHERE reason LIKE"
                                " '%%region \"4310221002x2\"%%'"),
                      1);
    assert_int_equal (fx_count ("SELECT count (*) FROM ledger.dead_letters WHERE reason LIKE"
                                " '%%check-out time \"last tuesday\"%%'"),
                      1);
    assert_int_equal (fx_count ("SELECT count (*) FROM ledger.transfers WHERE volunteer_id ="
                                " 987654321"),
                      0);
    s_audit_ok (3);
    //  Registry's word on the stranger, late.
    msg_volunteer_registered_t registered = {.id = "987654321",
                                             .name = "迟到",
                                             .region = "431022100202",
                                             .has_skills = true,
                                             .status = "active"};
    fx_publish ("registry", "volunteer.registered", &registered);
    fx_wait_for (2,
                 "SELECT count (*) FROM ledger.transfers WHERE source ="
                 " 'match/service.completed/record/%s'",
                 stranger);
    s_audit_ok (2);
    fx_sql ("DELETE FROM ledger.dead_letters");
}

//  Waits (looking every millisecond) until the ledger is inside a transaction applying
//  completions, not committed yet.
static void
s_wait_applying (void)
{
    for (int waited = 0; waited < FX_WAIT_MS; waited++) {
        if (fx_count ("SELECT count (*) FROM pg_stat_activity WHERE pid <> pg_backend_pid ()"
                      " AND state <> 'idle' AND xact_start IS NOT NULL"
                      " AND query LIKE '%%FROM earn_completion%%'")
            > 0)
            return;
        fx_sleep_ms (1);
    }
    fail_msg ("the ledger never started applying the backlog");
}

//  The same events delivered again post nothing new; a ledger SIGKILLed while it applies a
//  batch of a backlog of completions, three times, posts one transfer per source.
static void
test_redelivery_and_kill (void **state)
{
    (void) state;
    char v[8][32], now[40];
    for (int i = 0; i < 8; i++)
        s_volunteer ("431022101203", v[i]);
    fx_time (now, -60);
    for (int i = 0; i < 8; i++)
        s_completed (v[i], "431022101203", 30, now, NULL, NULL);
    fx_ledger_caught_up ();
    long transfers = fx_count ("SELECT count (*) FROM ledger.transfers");
    harness_stop (fx_harness (), "ledger", SIGKILL);
    fx_sql ("UPDATE ledger.consumer_cursors SET seq = 0");
    harness_start (fx_harness (), "ledger");
    fx_ledger_caught_up ();
    assert_int_equal (fx_count ("SELECT count (*) FROM ledger.transfers"), transfers);
    //  test_dead_letters' bad completions, read again, parked again.
    s_audit_ok (fx_count ("SELECT count (*) FROM ledger.dead_letters"));
    fx_sql ("DELETE FROM ledger.dead_letters");

    //  The consumer applies a page of 500 events in one transaction: a backlog of three
    //  pages, the ledger killed once it is inside one (and a little later each round).
    const int backlog = 1500;
    for (int round = 0; round < 3; round++) {
        harness_stop (fx_harness (), "ledger", SIGKILL);
        int64_t first = s_records + 1;
        for (int i = 0; i < backlog; i++)
            s_completed (v[i % 8], "431022101203", 1 + i % 30, now, NULL, NULL);
        harness_start (fx_harness (), "ledger");
        s_wait_applying ();
        fx_sleep_ms (150 * round);
        harness_stop (fx_harness (), "ledger", SIGKILL);
        long applied = fx_count ("SELECT count (*) FROM ledger.completions WHERE record_id >= %lld",
                                 (long long) first);
        harness_start (fx_harness (), "ledger");
        fx_ledger_caught_up ();
        fprintf (stderr, "round %d: killed with %ld of %d applied\n", round, applied, backlog);
        assert_int_equal (fx_count ("SELECT count (*) FROM ledger.completions"
                                    " WHERE record_id >= %lld",
                                    (long long) first),
                          backlog);
        assert_int_equal (fx_count ("SELECT count (*) FROM ledger.transfers t JOIN"
                                    " ledger.completions c ON t.source ="
                                    " 'match/service.completed/record/' || c.record_id"
                                    " WHERE c.record_id >= %lld AND t.unit = 'hours'",
                                    (long long) first),
                          backlog);
        s_audit_ok (0);
    }
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_expiry_oldest_first), cmocka_unit_test (test_expiry_rules_refused),
        cmocka_unit_test (test_ranking_and_stats),   cmocka_unit_test (test_ranking_totals_random),
        cmocka_unit_test (test_dead_letters),        cmocka_unit_test (test_redelivery_and_kill)};
    return cmocka_run_group_tests_name ("ledger_reports", tests, s_setup, fx_teardown);
}
