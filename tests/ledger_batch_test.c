/*  ledger_batch_test.c — the ledger posts a page of match's service.completed at a time
    (issue 20, "Benchmarks": posting), against live registry, match and ledger. A page mixing
    good completions, a record twice in the page (and again in the next page), one naming a
    volunteer registry never told of, one whose minutes do not decode and one with a malformed
    region: the good ones post once, each bad one is parked with its reason, a rating that
    came first is applied, the star level the page passes is reached once with the hours of
    the completion that passed it, points.awarded once per points transfer, and the books
    balance; the region's issuance account, which every credit comes from, is updated once
    for the page, not once per transfer. A page whose set-based posting fails (a source
    posted already without its completion) is posted event by event, nothing lost.  */
#include "fixture.h"
#include "st_log.h"

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define S_VILLAGE "431022100201"

static msg_actor_t TOWN_A = {.account = "town-a", .role = "region_admin", .region = "431022100000"};
static int s_people;

//  A new volunteer of the village, known to the ledger; their id into `id`.
static void
s_volunteer (char id[32])
{
    char name[32];
    snprintf (name, sizeof name, "批量%d", ++s_people);
    fx_volunteer_add (name, S_VILLAGE, "[\"账本\"]", "[]", 25.40, 112.95, "", id);
    fx_ledger_wait_volunteer (id);
}

//  A service.completed of record `record` for `volunteer` in `region`: `minutes` confirmed,
//  checked out an hour ago, of request `request` (NULL: none).
static msg_service_completed_t
s_completion (const char *record, const char *volunteer, const char *region, int minutes,
              const char *request)
{
    static char checkout[40];
    fx_time (checkout, -3600);
    return (msg_service_completed_t){.record_id = (char *) record,
                                     .volunteer_id = (char *) volunteer,
                                     .region = (char *) region,
                                     .category = "elderly",
                                     .hours = minutes / 60.0,
                                     .has_hours = true,
                                     .checkin_at = checkout,
                                     .checkout_at = checkout,
                                     .request_id = (char *) request,
                                     .minutes = minutes,
                                     .has_minutes = true};
}

//  Publishes completion `body` as match would.
static void
s_publish (msg_service_completed_t body)
{
    fx_publish ("match", "service.completed", &body);
}

//  Appends `body` to match's outbox encoded as it is, past the checks a publisher makes (a
//  value no match would send), inside harness_pg's transaction.
static void
s_publish_raw (msg_service_completed_t body)
{
    uint8_t *data;
    size_t size;
    assert_int_equal (st_encode (&msg_service_completed_desc, &body, &data, &size), 0);
    const char *values[2] = {"service.completed", (const char *) data};
    int lengths[2] = {0, (int) size}, formats[2] = {0, 1};
    PGresult *res = PQexecParams (harness_pg (fx_harness ()),
                                  "INSERT INTO match.outbox (topic, body) VALUES ($1, $2)", 2, NULL,
                                  values, lengths, formats, 0);
    assert_int_equal (PQresultStatus (res), PGRES_COMMAND_OK);
    PQclear (res);
    free (data);
}

//  The ledger stopped while a page is written into match's outbox in one transaction
//  (between s_page_begin and s_page_end), then started: it reads the page as one.
static void
s_page_begin (void)
{
    fx_ledger_caught_up ();
    harness_stop (fx_harness (), "ledger", SIGTERM);
    fx_sql ("BEGIN");
}

static void
s_page_end (void)
{
    fx_sql ("COMMIT");
    fx_wait_for (0, "SELECT count (*) FROM match.outbox WHERE seq IS NULL");
    harness_start (fx_harness (), "ledger");
    fx_ledger_caught_up ();
}

//  The updates of the village's issuance account of `unit` since the count began.
static long
s_issuance_updates (const char *unit)
{
    return fx_count ("SELECT count (*) FROM public.issuance_updates u JOIN ledger.accounts a"
                     " ON a.id = u.account WHERE a.region = '" S_VILLAGE "' AND a.unit = '%s'",
                     unit);
}

//  ledger.audit finds the books balanced, and one transfer per source.
static void
s_audit_ok (void)
{
    json_decref (fx_ledger_audit (NULL));
    assert_int_equal (fx_count ("SELECT count (*) FROM (SELECT source, unit FROM ledger.transfers"
                                " GROUP BY 1, 2 HAVING count (*) > 1) x"),
                      0);
}

static int
s_setup (void **state)
{
    (void) state;
    fx_new ("ledger_batch", FX_REGISTRY | FX_MATCH | FX_LEDGER);
    fx_county_add ();
    //  Each update of an issuance account counted, as the ledger's role makes it.
    fx_sql ("CREATE TABLE public.issuance_updates (account bigint NOT NULL)");
    fx_sql ("CREATE FUNCTION public.count_issuance () RETURNS trigger LANGUAGE plpgsql"
            " SECURITY DEFINER SET search_path = public AS $$ BEGIN"
            " INSERT INTO public.issuance_updates VALUES (NEW.id); RETURN NULL; END $$");
    fx_sql ("CREATE TRIGGER count_issuance AFTER UPDATE ON ledger.accounts FOR EACH ROW"
            " WHEN (NEW.kind = 'issuance') EXECUTE FUNCTION public.count_issuance ()");
    return 0;
}

static void
test_page (void **state)
{
    (void) state;
    char v1[32], v2[32], v3[32];
    s_volunteer (v1);
    s_volunteer (v2);
    s_volunteer (v3);
    //  v1 has 99 hours (back-entered), so that the page takes them past 100.
    json_decref (fx_call_ok ("ledger", &TOWN_A, "rules.set",
                             "{\"region\": \"" S_VILLAGE "\", \"adjust_cap_minutes\": 20000}"));
    fx_sleep_ms (1100); //  in force from the next whole second
    fx_ledger_adjust (&TOWN_A, v1, "hours", 5940, "补录纸质签到表");
    //  v3 serves a first record before the page, so that its accounts exist.
    s_page_begin ();
    s_publish (s_completion ("800001", v3, S_VILLAGE, 60, NULL));
    s_page_end ();
    //  The resident rated request 700001 before the ledger hears of its completion.
    msg_service_rated_t rated = {.request_id = "700001",
                                 .region = S_VILLAGE,
                                 .category = "elderly",
                                 .stars = 5,
                                 .has_stars = true,
                                 .volunteer_ids = {.items = (char *[]){v2}, .count = 1},
                                 .has_volunteer_ids = true};
    fx_publish ("match", "service.rated", &rated);
    fx_ledger_caught_up ();
    fx_sql ("DELETE FROM public.issuance_updates");

    s_page_begin ();
    s_publish (s_completion ("800101", v1, S_VILLAGE, 30, NULL));
    s_publish (s_completion ("800101", v1, S_VILLAGE, 45, NULL)); //  the same record again
    s_publish (s_completion ("800103", "999999", S_VILLAGE, 60, NULL));
    msg_service_completed_t absurd = s_completion ("800104", v1, S_VILLAGE, 100000, NULL);
    absurd.hours = 1;
    s_publish_raw (absurd);
    s_publish (s_completion ("800105", v1, S_VILLAGE, 40, NULL));
    s_publish (s_completion ("800106", v3, "43102210020x", 60, NULL));
    s_publish (s_completion ("800107", v1, S_VILLAGE, 60, NULL));
    s_publish (s_completion ("800108", v3, S_VILLAGE, 30, NULL));
    //  Last: a completion whose rating came first is posted with its rating's adjustment
    //  before the rest of its page (so that a cut takes the oldest points as it would one
    //  event at a time), which would cost the page a second update of the issuance accounts.
    msg_service_completed_t cared = s_completion ("800102", v2, S_VILLAGE, 60, "700001");
    cared.cared = cared.has_cared = true;
    s_publish (cared);
    s_page_end ();

    //  v1: 30 + 40 + 60 minutes (the record's second event ignored), 5 + 6 + 10 points; the
    //  first star at the completion that took them past 100 hours (99 h + 70 minutes).
    json_t *s = fx_ledger_statement (&FX_SYSTEM, v1);
    assert_int_equal (fx_int (s, "credit_minutes"), 130);
    assert_int_equal (fx_int (s, "honour_minutes"), 5940);
    assert_int_equal (fx_int (s, "balance"), 21);
    assert_int_equal (fx_int (s, "stars"), 1);
    json_decref (s);
    json_t *star;
    assert_int_equal (fx_events_json ("star.reached", v1, &star), 1);
    assert_int_equal (fx_int (star, "level"), 1);
    assert_true (json_number_value (json_object_get (star, "hours")) * 60 > 6009.9
                 && json_number_value (json_object_get (star, "hours")) * 60 < 6010.1);
    json_decref (star);
    assert_int_equal (
        fx_count ("SELECT minutes FROM ledger.star_levels WHERE volunteer_id = %s", v1), 6010);
    //  v2: an hour for a group cared for first (10 + 5), and the five stars' 120 %: 3 more.
    s = fx_ledger_statement (&FX_SYSTEM, v2);
    assert_int_equal (fx_int (s, "credit_minutes"), 60);
    assert_int_equal (fx_int (s, "balance"), 18);
    json_decref (s);
    //  v3: the first hour and half an hour more; the record with a malformed region parked.
    s = fx_ledger_statement (&FX_SYSTEM, v3);
    assert_int_equal (fx_int (s, "credit_minutes"), 90);
    assert_int_equal (fx_int (s, "balance"), 15);
    json_decref (s);
    //  One points.awarded per points transfer, each balance after it.
    assert_int_equal (fx_events ("points.awarded", v1), 3);
    assert_int_equal (fx_events ("points.awarded", v2), 2);
    assert_int_equal (fx_events ("points.awarded", v3), 2);
    json_t *last;
    fx_events_json ("points.awarded", v1, &last);
    assert_int_equal (fx_int (last, "balance"), 21);
    assert_string_equal (fx_str (last, "record_id"), "800107");
    json_decref (last);
    assert_int_equal (fx_count ("SELECT count (*) FROM ledger.completions"
                                " WHERE record_id BETWEEN 800101 AND 800108"),
                      5);
    //  The issuance accounts moved once for the page (hours, points; the rating once more).
    assert_int_equal (s_issuance_updates ("hours"), 1);
    assert_int_equal (s_issuance_updates ("points"), 2);
    //  The bad ones parked, each with its reason; the rest of the page stands.
    assert_int_equal (fx_count ("SELECT count (*) FROM ledger.dead_letters"), 3);
    assert_int_equal (fx_count ("SELECT count (*) FROM ledger.dead_letters WHERE reason ="
                                " 'volunteer \"999999\" is not known to the ledger: registry never"
                                " told it'"),
                      1);
    assert_int_equal (fx_count ("SELECT count (*) FROM ledger.dead_letters"
                                " WHERE reason LIKE 'body does not decode: \"minutes\" %%'"),
                      1);
    assert_int_equal (fx_count ("SELECT count (*) FROM ledger.dead_letters WHERE reason ="
                                " 'region \"43102210020x\" is no region code'"),
                      1);
    //  Each transfer's balances after it, in the journal's order.
    assert_int_equal (
        fx_count (
            "SELECT count (*) FROM (SELECT t.credit_after - lag (t.credit_after, 1, 0::bigint)"
            " OVER (PARTITION BY t.credit ORDER BY t.id) - t.amount AS d"
            " FROM ledger.transfers t) x WHERE d <> 0"),
        0);
    s_audit_ok ();

    //  The next page: v2's record again (posted already: nothing), and a new one.
    s_page_begin ();
    s_publish (cared);
    s_publish (s_completion ("800109", v2, S_VILLAGE, 30, NULL));
    s_page_end ();
    s = fx_ledger_statement (&FX_SYSTEM, v2);
    assert_int_equal (fx_int (s, "credit_minutes"), 90);
    assert_int_equal (fx_int (s, "balance"), 23);
    json_decref (s);
    assert_int_equal (fx_events ("points.awarded", v2), 3);
    assert_int_equal (fx_events ("star.reached", v1), 1);
    assert_int_equal (fx_count ("SELECT count (*) FROM ledger.dead_letters"), 3);
    s_audit_ok ();
}

//  A page whose set-based posting fails (here: the hours of a record already in the journal,
//  though the ledger never priced the record) is posted one event at a time: the record's
//  points post, its hours stay the once, and the rest of the page posts.
static void
test_page_falls_back (void **state)
{
    (void) state;
    char v[32];
    s_volunteer (v);
    //  An hour of record 800201 in the journal as a transfer of its own, the books balanced.
    fx_sql ("BEGIN");
    fx_sql ("SET LOCAL search_path = ledger");
    fx_sql ("WITH a AS (SELECT ledger.account_of ('issuance', NULL, '" S_VILLAGE "', 'hours')"
            " AS d, ledger.account_of ('volunteer', %s, NULL, 'hours') AS c)"
            " SELECT ledger.post (a.d, a.c, 'hours', 60, 'credit',"
            " 'match/service.completed/record/800201', %s, 1, false, NULL, 'record 800201', NULL,"
            " current_date, NULL) FROM a",
            v, v);
    fx_sql ("COMMIT");
    s_page_begin ();
    s_publish (s_completion ("800201", v, S_VILLAGE, 60, NULL));
    s_publish (s_completion ("800202", v, S_VILLAGE, 30, NULL));
    s_page_end ();
    json_t *s = fx_ledger_statement (&FX_SYSTEM, v);
    assert_int_equal (fx_int (s, "credit_minutes"), 90);
    assert_int_equal (fx_int (s, "balance"), 15);
    json_decref (s);
    assert_int_equal (fx_events ("points.awarded", v), 2);
    assert_int_equal (fx_count ("SELECT count (*) FROM ledger.dead_letters"),
                      3); //  the first test's
    s_audit_ok ();
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_page),
        cmocka_unit_test (test_page_falls_back),
    };
    return cmocka_run_group_tests (tests, s_setup, fx_teardown);
}
