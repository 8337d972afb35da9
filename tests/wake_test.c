/*  wake_test.c — new demand starts a dispatch round (issue 24), against a real database and
    real registry and match processes whose clock would run a round only every ten minutes
    (STATION_DISPATCH_ROUND_MS 600000: one at start, none after it during the test). A request
    made after that round, an offer declined, and a request another process inserts straight
    into match's table each get their offer from a round that the new demand woke (its
    dispatch.rounds row says woken), long before the clock's next round. No wall-clock figure
    is asserted: only that the offer comes at all (the fixture's wait is fifteen seconds, the
    clock's next round ten minutes away) and which round made it.  */
#include "fixture.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#define VILLAGE    "431022100201"
#define AT_VILLAGE ", \"lat\": 25.40, \"lon\": 112.95"

static fx_t *F;

static const msg_actor_t TOWN = {
    .account = "town-admin", .role = "region_admin", .region = "431022100000"};

static int
s_setup (void **state)
{
    setenv ("STATION_DISPATCH_ROUND_MS", "600000", 1);
    setenv ("STATION_DISPATCH_WAKE_MS", "200", 1);
    F = fx_new ("wake", FX_REGISTRY | FX_MATCH);
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

//  Whether the round that offered request `request` to volunteer `volunteer` was woken by new
//  demand: the dispatch.rounds row of the round in which that offer was made.
static bool
s_offered_by_woken_round (const char *request, const char *volunteer)
{
    const char *woken =
        fx_value ("SELECT d.woken FROM match.dispatch_rounds d JOIN match.offers o"
                  " ON o.created_at = d.at WHERE o.request_id = %s AND o.volunteer_id = %s",
                  request, volunteer);
    return woken && strcmp (woken, "t") == 0;
}

//  The rounds that have run and done something (dispatch.rounds keeps those).
static long
s_rounds (void)
{
    return fx_count ("SELECT count (*) FROM match.dispatch_rounds");
}

//  A request made through request.create after the clock's round is offered by a round it
//  woke.
static void
test_request_wakes (void **state)
{
    (void) state;
    char start[64], end[64], availability[64], volunteer[32], request[32], offer[32];
    fx_window (3, 9, 11, start, end, availability);
    fx_volunteer_add ("醒一", VILLAGE, "[\"w1醒\"]", availability, 25.40, 112.95, "", volunteer);
    long rounds = s_rounds ();
    fx_request_add (&TOWN, VILLAGE, start, end, 1, "[\"w1醒\"]", "normal", AT_VILLAGE, "open",
                    request);
    fx_wait_offer (volunteer, request, offer);
    assert_true (s_offered_by_woken_round (request, volunteer));
    assert_int_equal (s_rounds (), rounds + 1);
}

//  An offer declined frees a place: a round it woke offers the request to the other volunteer.
static void
test_decline_wakes (void **state)
{
    (void) state;
    char start[64], end[64], availability[64], first[32], second[32], request[32], offer[32];
    fx_window (4, 9, 11, start, end, availability);
    fx_volunteer_add ("拒一", VILLAGE, "[\"w2拒\"]", availability, 25.40, 112.95, "", first);
    fx_volunteer_add ("拒二", VILLAGE, "[\"w2拒\"]", availability, 25.45, 112.95, "", second);
    fx_request_add (&TOWN, VILLAGE, start, end, 1, "[\"w2拒\"]", "normal", AT_VILLAGE, "open",
                    request);
    //  The nearer volunteer first (headcount 1: one offer at a time).
    fx_wait_offer (first, request, offer);
    assert_int_equal (fx_offers (second, NULL), 0);
    st_error_t err;
    assert_int_equal (fx_answer ("offer.decline", first, offer, &err), ST_OK);
    char other[32];
    fx_wait_offer (second, request, other);
    assert_true (s_offered_by_woken_round (request, second));
}

//  A request inserted by another process (plain SQL on another connection, not through
//  match's rpc) wakes match too: the notification comes from the insert's transaction.
static void
test_insert_elsewhere_wakes (void **state)
{
    (void) state;
    char start[64], end[64], availability[64], volunteer[32], offer[32];
    fx_window (5, 9, 11, start, end, availability);
    fx_volunteer_add ("外一", VILLAGE, "[\"w3外\"]", availability, 25.40, 112.95, "", volunteer);
    fx_sql ("INSERT INTO match.requests (category, title, description, region, lat, lon,"
            " earliest_start, latest_end, duration_minutes, headcount, skills, urgency,"
            " created_by, published_at) VALUES ('助老', '外来', '说明', '" VILLAGE "', 25.40,"
            " 112.95, '%s', '%s', 60, 1, '{w3外}', 'normal', 'elsewhere', now ())",
            start, end);
    char request[32];
    snprintf (request, sizeof request, "%s",
              fx_value ("SELECT id FROM match.requests WHERE title = '外来'"));
    fx_wait_offer (volunteer, request, offer);
    assert_true (s_offered_by_woken_round (request, volunteer));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_request_wakes),
        cmocka_unit_test (test_decline_wakes),
        cmocka_unit_test (test_insert_elsewhere_wakes),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
