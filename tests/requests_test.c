/*  requests_test.c — what a region decides for its own dispatch and what requests go through
    beside dispatch, against a real database and real registry and match processes (rounds
    every 200 ms): settings set and inherited down the regions; the review step (审单); the
    daily limit per resident and category (beneficiary fairness), also under a race; widening
    delays per region; the stars and insurance a request asks for; service records of a
    request, its completion and the resident's rating (评单); a region's figures.

    Each test works in a township of its own and uses skills of its own, so that its settings,
    volunteers and requests never meet another's. Every refused call is shown to name its
    field and to change nothing in the database.  */
#include "fixture.h"
#include "st_json.h"
#include "st_keys.h"
#include "st_log.h"
#include "st_time.h"

#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

static fx_t *F;

//  ---------------------------------------------------------------------------------------
//  Calls and looks

//  Everything a refused call could change for the regions under `prefix`: the settings,
//  requests, offers, commitments and records there, and how many events the outbox holds.
//  The caller frees it.
static char *
s_state (const char *prefix)
{
    char sql[2048];
    snprintf (sql, sizeof sql,
              "SELECT format ('outbox=%%s digest=%%s', (SELECT count (*) FROM match.outbox),"
              " md5 (coalesce (string_agg (r, ',' ORDER BY r), ''))) FROM ("
              " SELECT to_jsonb (x)::text AS r FROM match.region_settings x"
              " UNION ALL SELECT to_jsonb (x)::text FROM match.requests x"
              " WHERE x.region LIKE '%s%%'"
              " UNION ALL SELECT to_jsonb (o)::text FROM match.offers o"
              " JOIN match.requests q ON q.id = o.request_id WHERE q.region LIKE '%s%%'"
              " UNION ALL SELECT to_jsonb (c)::text FROM match.commitments c"
              " JOIN match.requests q ON q.id = c.request_id WHERE q.region LIKE '%s%%'"
              " UNION ALL SELECT to_jsonb (x)::text FROM match.service_records x"
              " WHERE x.region LIKE '%s%%') rows",
              prefix, prefix, prefix, prefix);
    return strdup (fx_value ("%s", sql));
}

//  A refused call: names `field` with `code` and changes nothing under `prefix`.
#define S_REFUSED(prefix, what, call, code, field)                                                 \
    do {                                                                                           \
        char *before_ = s_state (prefix);                                                          \
        st_error_t err_;                                                                           \
        st_status_t rc_ = (call);                                                                  \
        fx_expect (what, rc_, &err_, code, field);                                                 \
        fx_unchanged (before_, s_state (prefix), what);                                            \
    } while (0)

//  ---------------------------------------------------------------------------------------
//  Dates, answers and settings

//  The local date `days` days from today, "YYYY-MM-DD".
static void
s_date (int days, char text[16])
{
    char at[64];
    fx_local (days, 0, 0, at, NULL);
    snprintf (text, 16, "%.10s", at);
}

//  Waits for volunteer `volunteer`'s offer of `request` and accepts it.
static void
s_accept (const char *volunteer, const char *request)
{
    char offer[32];
    fx_wait_offer (volunteer, request, offer);
    st_error_t err;
    if (fx_answer ("offer.accept", volunteer, offer, &err) != ST_OK)
        fail_msg ("accept %s: %s", offer, err.message);
}

//  Sets a region's settings as `actor` (body: JSON members after the region); the reply.
static json_t *
s_settings (const msg_actor_t *actor, const char *region, const char *members)
{
    char body[512];
    snprintf (body, sizeof body, "{\"region\": \"%s\"%s%s}", region, *members ? ", " : "", members);
    json_t *reply;
    st_error_t err;
    if (fx_call ("match", actor, "settings.set", body, &reply, &err) != ST_OK)
        fail_msg ("settings.set %s: %s (%s)", body, err.message, err.field);
    return reply;
}

//  ---------------------------------------------------------------------------------------
//  Fixture: registry and match with rounds every 200 ms; a township per test

static int
s_setup (void **state)
{
    setenv ("STATION_DISPATCH_ROUND_MS", "200", 1);
    F = fx_new ("requests", FX_REGISTRY | FX_MATCH);
    //  Townships 102 .. 114 of the county, each with a village 201 (104 and 105 also 202);
    //  another county (431024) with a township and a village.
    const char *codes[] = {
        "431000000000", "431022000000", "431022102000", "431022102201", "431022103000",
        "431022103201", "431022104000", "431022104201", "431022104202", "431022105000",
        "431022105201", "431022105202", "431022106000", "431022106201", "431022107000",
        "431022107201", "431022108000", "431022108201", "431022108202", "431022109000",
        "431022109201", "431022110000", "431022110201", "431022111000", "431022111201",
        "431022111202", "431022112000", "431022112201", "431022112202", "431022114000",
        "431022114201", "431024000000", "431024100000", "431024100201"};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        char name[32];
        snprintf (name, sizeof name, "区划%s", codes[i] + 6);
        fx_region_add (codes[i], name);
    }
    srand ((unsigned) time (NULL) ^ (unsigned) getpid ());
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
//  1. settings.set and settings.get

//  A county of its own (431023), so that its settings reach no other test.
#define SET_COUNTY  "431023000000"
#define SET_TOWN    "431023100000"
#define SET_VILLAGE "431023100201"

//  Settings are set by region and station admins in scope and inherited field by field from
//  the nearest region that sets each; a re-set keeps the fields it leaves out.
static void
test_settings (void **state)
{
    (void) state;
    const msg_actor_t
        county = {.account = "county-b", .role = "region_admin", .region = SET_COUNTY},
        station = {.account = "station-b", .role = "station_admin", .region = SET_TOWN},
        leader = {.account = "leader-b", .role = "team_leader", .region = SET_TOWN},
        outsider = {.account = "outsider", .role = "region_admin", .region = "431022102000"};
    msg_actor_t resident = fx_resident ("1");
    json_t *reply;
    st_error_t err;
    char body[256];
    snprintf (body, sizeof body, "{\"region\": \"%s\"}", SET_VILLAGE);

    //  Nothing set: only the region comes back (the platform's defaults apply).
    assert_int_equal (fx_call ("match", &station, "settings.get", body, &reply, &err), ST_OK);
    assert_string_equal (fx_str (reply, "region"), SET_VILLAGE);
    assert_int_equal (json_object_size (reply), 1);
    json_decref (reply);

    //  The county sets a daily limit, the township review: the village has both.
    reply = s_settings (&county, SET_COUNTY, "\"daily_limit\": 3");
    assert_string_equal (fx_str (reply, "region"), SET_COUNTY);
    assert_int_equal (fx_int (reply, "daily_limit"), 3);
    assert_null (json_object_get (reply, "review_required"));
    json_decref (reply);
    reply = s_settings (&station, SET_TOWN, "\"review_required\": true");
    assert_true (json_is_true (json_object_get (reply, "review_required")));
    assert_int_equal (fx_int (reply, "daily_limit"), 3); //  in force there, from the county
    json_decref (reply);
    const msg_actor_t *readers[] = {&county, &station};
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal (fx_call ("match", readers[i], "settings.get", body, &reply, &err), ST_OK);
        assert_string_equal (fx_str (reply, "region"), SET_VILLAGE);
        assert_true (json_is_true (json_object_get (reply, "review_required")));
        assert_int_equal (fx_int (reply, "daily_limit"), 3);
        assert_null (json_object_get (reply, "widen_township_s"));
        assert_null (json_object_get (reply, "widen_county_s"));
        assert_null (json_object_get (reply, "checkin_radius_m"));
        json_decref (reply);
    }

    //  The village's own place settings win over the ancestors'; for review and the daily
    //  limit the strictest applies: a village cannot switch off its township's review, but may
    //  lower the county's limit. The township keeps its own.
    reply = s_settings (&station, SET_VILLAGE,
                        "\"daily_limit\": 1, \"widen_township_s\": 30, \"review_required\": false");
    assert_int_equal (fx_int (reply, "daily_limit"), 1);
    assert_int_equal (fx_int (reply, "widen_township_s"), 30);
    assert_true (json_is_true (json_object_get (reply, "review_required")));
    json_decref (reply);
    snprintf (body, sizeof body, "{\"region\": \"%s\"}", SET_TOWN);
    assert_int_equal (fx_call ("match", &station, "settings.get", body, &reply, &err), ST_OK);
    assert_int_equal (fx_int (reply, "daily_limit"), 3);
    assert_true (json_is_true (json_object_get (reply, "review_required")));
    assert_null (json_object_get (reply, "widen_township_s"));
    json_decref (reply);

    //  A re-set with one field keeps the others the village set.
    reply = s_settings (&station, SET_VILLAGE, "\"checkin_radius_m\": 100");
    assert_int_equal (fx_int (reply, "checkin_radius_m"), 100);
    assert_int_equal (fx_int (reply, "daily_limit"), 1);
    assert_int_equal (fx_int (reply, "widen_township_s"), 30);
    assert_true (json_is_true (json_object_get (reply, "review_required")));
    json_decref (reply);
    assert_string_equal (fx_value ("%s", "SELECT format ('%s %s %s %s %s %s',"
                                         " review_required, daily_limit, widen_township_s,"
                                         " widen_county_s, checkin_radius_m, updated_by)"
                                         " FROM match.region_settings"
                                         " WHERE region = '" SET_VILLAGE "'"),
                         "f 1 30  100 station-b");

    //  Refused: each names its field and changes nothing.
    char set[256];
    snprintf (set, sizeof set, "{\"region\": \"%s\", \"daily_limit\": 5}", SET_VILLAGE);
    snprintf (body, sizeof body, "{\"region\": \"%s\"}", SET_VILLAGE);
    S_REFUSED (SET_COUNTY, "a team leader sets",
               fx_call ("match", &leader, "settings.set", set, NULL, &err_), ST_PERMISSION_DENIED,
               "actor.role");
    S_REFUSED (SET_COUNTY, "a team leader reads",
               fx_call ("match", &leader, "settings.get", body, NULL, &err_), ST_PERMISSION_DENIED,
               "actor.role");
    S_REFUSED (SET_COUNTY, "a resident sets",
               fx_call ("match", &resident, "settings.set", set, NULL, &err_), ST_PERMISSION_DENIED,
               "actor.role");
    S_REFUSED (SET_COUNTY, "another county's admin sets",
               fx_call ("match", &outsider, "settings.set", set, NULL, &err_), ST_PERMISSION_DENIED,
               "region");
    S_REFUSED (SET_COUNTY, "another county's admin reads",
               fx_call ("match", &outsider, "settings.get", body, NULL, &err_),
               ST_PERMISSION_DENIED, "region");
    S_REFUSED (SET_COUNTY, "a station admin sets the county above",
               fx_call ("match", &station, "settings.set",
                        "{\"region\": \"" SET_COUNTY "\", \"daily_limit\": 5}", NULL, &err_),
               ST_PERMISSION_DENIED, "region");
    S_REFUSED (SET_COUNTY, "a region of letters",
               fx_call ("match", &county, "settings.set",
                        "{\"region\": \"43102310020X\", \"daily_limit\": 5}", NULL, &err_),
               ST_INVALID_ARGUMENT, "region");
    S_REFUSED (SET_COUNTY, "a region of no level",
               fx_call ("match", &county, "settings.set",
                        "{\"region\": \"431023000201\", \"daily_limit\": 5}", NULL, &err_),
               ST_INVALID_ARGUMENT, "region");
    S_REFUSED (SET_COUNTY, "a region of 10 digits (client)",
               fx_call ("match", &county, "settings.set",
                        "{\"region\": \"4310231002\", \"daily_limit\": 5}", NULL, &err_),
               ST_INVALID_ARGUMENT, "region");
    S_REFUSED (SET_COUNTY, "a region of 10 digits (service)",
               fx_call_raw ("match", &county, "settings.set",
                            "{\"region\": \"4310231002\", \"daily_limit\": 5}", NULL, &err_),
               ST_INVALID_ARGUMENT, "region");
    S_REFUSED (SET_COUNTY, "a daily limit of 0",
               fx_call_raw ("match", &county, "settings.set",
                            "{\"region\": \"" SET_VILLAGE "\", \"daily_limit\": 0}", NULL, &err_),
               ST_INVALID_ARGUMENT, "daily_limit");
    S_REFUSED (SET_COUNTY, "the county before the township",
               fx_call ("match", &station, "settings.set",
                        "{\"region\": \"" SET_VILLAGE "\", \"widen_township_s\": 600,"
                        " \"widen_county_s\": 300}",
                        NULL, &err_),
               ST_INVALID_ARGUMENT, "widen_county_s");
    //  One field at a time, against what is inherited or the default (county after 300 s).
    S_REFUSED (SET_COUNTY, "the township after the default county",
               fx_call ("match", &station, "settings.set",
                        "{\"region\": \"" SET_VILLAGE "\", \"widen_township_s\": 400}", NULL,
                        &err_),
               ST_INVALID_ARGUMENT, "widen_township_s");
    json_decref (s_settings (&station, SET_VILLAGE, "\"widen_township_s\": 200"));
    S_REFUSED (SET_COUNTY, "the county before the township set earlier",
               fx_call ("match", &station, "settings.set",
                        "{\"region\": \"" SET_VILLAGE "\", \"widen_county_s\": 100}", NULL, &err_),
               ST_INVALID_ARGUMENT, "widen_county_s");
}

//  A county of its own (431024) for clearing settings back to inherited.
#define CLR_COUNTY  "431024000000"
#define CLR_TOWN    "431024100000"
#define CLR_VILLAGE "431024100201"

//  Posts a request of 助老 for `actor`'s resident in CLR_VILLAGE on local day 3 at `hour`, its
//  id into `id`; the status.
static st_status_t
s_clear_post (const msg_actor_t *actor, int hour, char id[32], st_error_t *err)
{
    char start[64], end[64], body[FX_BODY_SIZE];
    fx_local (3, hour, 0, start, NULL);
    fx_local (3, hour + 1, 0, end, NULL);
    fx_request_body (body, "助老", "陪同就医", CLR_VILLAGE, start, end, 1, "[\"c无人\"]", NULL, "");
    json_t *reply;
    st_status_t rc = fx_call ("match", actor, "request.create", body, &reply, err);
    if (rc == ST_OK) {
        snprintf (id, 32, "%s", fx_str (reply, "id"));
        json_decref (reply);
    }
    return rc;
}

//  settings.set's clear: a field named there goes back to what the regions above say (the
//  township's own stricter daily limit cleared, its residents get the county's); fields
//  absent from the body keep their values; a name that is no setting, or a field both given
//  and cleared, is refused and changes nothing.
static void
test_settings_clear_to_inherited (void **state)
{
    (void) state;
    const msg_actor_t county = {
        .account = "county-c", .role = "region_admin", .region = CLR_COUNTY};
    const msg_actor_t station = {
        .account = "station-c", .role = "station_admin", .region = CLR_TOWN};
    json_t *reply;
    st_error_t err;
    json_decref (s_settings (&county, CLR_COUNTY,
                             "\"daily_limit\": 2, \"checkin_radius_m\": 300,"
                             " \"widen_township_s\": 200"));
    reply = s_settings (&station, CLR_TOWN,
                        "\"daily_limit\": 1, \"checkin_radius_m\": 100, \"widen_township_s\": 30,"
                        " \"widen_county_s\": 100, \"review_required\": false");
    assert_int_equal (fx_int (reply, "daily_limit"), 1);
    assert_int_equal (fx_int (reply, "checkin_radius_m"), 100);
    json_decref (reply);

    //  The township's own limit of 1 holds its residents.
    char resident[32];
    fx_resident_add ("清奶奶", CLR_VILLAGE, NULL, resident);
    msg_actor_t self = fx_resident (resident);
    char first[32], second[32], id[32];
    assert_int_equal (s_clear_post (&self, 8, first, &err), ST_OK);
    S_REFUSED (CLR_COUNTY, "a second under the township's limit",
               s_clear_post (&self, 10, id, &err_), ST_RESOURCE_EXHAUSTED, "category");

    //  Refused, changing nothing: a name that is no setting, the region among them; a field
    //  both given and cleared; a cleared delay that leaves the county before the township.
    S_REFUSED (CLR_COUNTY, "clear a name that is no setting",
               fx_call ("match", &station, "settings.set",
                        "{\"region\": \"" CLR_TOWN "\", \"clear\": [\"daily_limit\", \"stars\"]}",
                        NULL, &err_),
               ST_INVALID_ARGUMENT, "clear");
    S_REFUSED (CLR_COUNTY, "clear the region",
               fx_call ("match", &station, "settings.set",
                        "{\"region\": \"" CLR_TOWN "\", \"clear\": [\"region\"]}", NULL, &err_),
               ST_INVALID_ARGUMENT, "clear");
    S_REFUSED (CLR_COUNTY, "a field given and cleared",
               fx_call ("match", &station, "settings.set",
                        "{\"region\": \"" CLR_TOWN "\", \"checkin_radius_m\": 50,"
                        " \"clear\": [\"daily_limit\", \"checkin_radius_m\"]}",
                        NULL, &err_),
               ST_INVALID_ARGUMENT, "checkin_radius_m");
    S_REFUSED (CLR_COUNTY, "the township's delay cleared to the county's, after its own county's",
               fx_call ("match", &station, "settings.set",
                        "{\"region\": \"" CLR_TOWN "\", \"clear\": [\"widen_township_s\"]}", NULL,
                        &err_),
               ST_INVALID_ARGUMENT, "clear");

    //  The township clears its limit and radius: the county's are in force there and below;
    //  what it left out keeps its own values.
    reply = s_settings (&station, CLR_TOWN, "\"clear\": [\"daily_limit\", \"checkin_radius_m\"]");
    assert_string_equal (fx_str (reply, "region"), CLR_TOWN);
    assert_int_equal (fx_int (reply, "daily_limit"), 2);
    assert_int_equal (fx_int (reply, "checkin_radius_m"), 300);
    assert_int_equal (fx_int (reply, "widen_township_s"), 30);
    assert_int_equal (fx_int (reply, "widen_county_s"), 100);
    assert_true (json_is_false (json_object_get (reply, "review_required")));
    assert_null (json_object_get (reply, "clear"));
    json_decref (reply);
    assert_string_equal (fx_value ("%s", "SELECT format ('%s|%s|%s|%s|%s|%s', review_required,"
                                         " daily_limit, widen_township_s, widen_county_s,"
                                         " checkin_radius_m, updated_by)"
                                         " FROM match.region_settings"
                                         " WHERE region = '" CLR_TOWN "'"),
                         "f||30|100||station-c");
    char body[64];
    snprintf (body, sizeof body, "{\"region\": \"%s\"}", CLR_VILLAGE);
    assert_int_equal (fx_call ("match", &station, "settings.get", body, &reply, &err), ST_OK);
    assert_int_equal (fx_int (reply, "daily_limit"), 2);
    assert_int_equal (fx_int (reply, "checkin_radius_m"), 300);
    json_decref (reply);

    //  The resident now has the county's two a day: a second is taken, a third refused.
    assert_int_equal (s_clear_post (&self, 10, second, &err), ST_OK);
    S_REFUSED (CLR_COUNTY, "a third under the county's limit", s_clear_post (&self, 12, id, &err_),
               ST_RESOURCE_EXHAUSTED, "category");

    //  Clearing what the region never set, or twice, changes nothing it holds.
    reply = s_settings (&station, CLR_TOWN, "\"clear\": [\"daily_limit\", \"daily_limit\"]");
    assert_int_equal (fx_int (reply, "daily_limit"), 2);
    assert_int_equal (fx_int (reply, "widen_township_s"), 30);
    json_decref (reply);
    //  Both delays and review cleared at once: the county's township delay applies, the
    //  platform's county delay (300 s, absent from the reply), nobody's review.
    reply =
        s_settings (&station, CLR_TOWN,
                    "\"clear\": [\"widen_township_s\", \"widen_county_s\", \"review_required\"]");
    assert_int_equal (fx_int (reply, "widen_township_s"), 200);
    assert_null (json_object_get (reply, "widen_county_s"));
    assert_null (json_object_get (reply, "review_required"));
    json_decref (reply);

    //  The requests go, so that no round after this test ever sees them.
    const char *posted[] = {first, second};
    for (size_t i = 0; i < 2; i++) {
        snprintf (body, sizeof body, "{\"id\": \"%s\"}", posted[i]);
        assert_int_equal (fx_call ("match", &self, "request.cancel", body, NULL, &err), ST_OK);
    }
}

//  ---------------------------------------------------------------------------------------
//  2. The review step (审单)

#define REV_TOWN    "431022102000"
#define REV_VILLAGE "431022102201"

//  Where review is required, a resident's request waits for a station admin and is never
//  offered meanwhile; an official's goes straight into dispatch. Approved, it is offered;
//  rejected, the reason is kept; unreviewed at its start, it ends unfilled.
static void
test_review (void **state)
{
    (void) state;
    const msg_actor_t station = {.account = "station-rev",
                                 .role = "station_admin",
                                 .region = REV_TOWN},
                      outsider = {.account = "outsider-rev",
                                  .role = "station_admin",
                                  .region = "431022103000"};
    json_decref (s_settings (&station, REV_VILLAGE, "\"review_required\": true"));
    char start[64], end[64], availability[64];
    fx_window (2, 9, 12, start, end, availability);
    char resident[32], volunteer[32], waiting[32], posted[32];
    fx_resident_add ("审奶奶", REV_VILLAGE, NULL, resident);
    fx_volunteer_add ("审志愿", REV_VILLAGE, "[\"r审单\"]", availability, 25.40, 112.95, "",
                      volunteer);
    msg_actor_t self = fx_resident (resident);

    //  The resident's request waits for review and gets no offer though the volunteer fits.
    fx_request_add (&self, REV_VILLAGE, start, end, 1, "[\"r审单\"]", NULL, "", "review", waiting);
    //  An official's (for the same resident) goes straight into dispatch.
    char extra[64];
    snprintf (extra, sizeof extra, ", \"resident_id\": \"%s\"", resident);
    fx_request_add (&station, REV_VILLAGE, start, end, 1, "[\"r无人\"]", NULL, extra, "open",
                    posted);
    fx_sleep_ms (1200); //  six rounds
    assert_int_equal (
        fx_count ("SELECT count (*) FROM match.offers WHERE request_id = %s", waiting), 0);
    json_t *got = fx_request_get (waiting);
    assert_string_equal (fx_str (got, "status"), "review");
    json_decref (got);

    //  Refused reviews change nothing.
    char body[256];
    snprintf (body, sizeof body, "{\"id\": \"%s\", \"approve\": false}", waiting);
    S_REFUSED (REV_TOWN, "reject without a reason",
               fx_call ("match", &station, "request.review", body, NULL, &err_),
               ST_INVALID_ARGUMENT, "reason");
    snprintf (body, sizeof body, "{\"id\": \"%s\", \"approve\": true}", waiting);
    S_REFUSED (REV_TOWN, "review out of scope",
               fx_call ("match", &outsider, "request.review", body, NULL, &err_), ST_NOT_FOUND,
               "id");
    S_REFUSED (REV_TOWN, "review by the resident",
               fx_call ("match", &self, "request.review", body, NULL, &err_), ST_PERMISSION_DENIED,
               "actor.role");
    const msg_actor_t leader = {.account = "leader-rev", .role = "team_leader", .region = REV_TOWN};
    S_REFUSED (REV_TOWN, "review by a team leader",
               fx_call ("match", &leader, "request.review", body, NULL, &err_),
               ST_PERMISSION_DENIED, "actor.role");
    snprintf (body, sizeof body, "{\"id\": \"%s\", \"approve\": true}", posted);
    S_REFUSED (REV_TOWN, "review of a request in dispatch",
               fx_call ("match", &station, "request.review", body, NULL, &err_), ST_CONFLICT, "id");

    //  Approved: in dispatch, published once, and the volunteer gets the offer.
    json_t *reply;
    st_error_t err;
    snprintf (body, sizeof body, "{\"id\": \"%s\", \"approve\": true}", waiting);
    assert_int_equal (fx_call ("match", &station, "request.review", body, &reply, &err), ST_OK);
    assert_string_equal (fx_str (reply, "status"), "open");
    json_decref (reply);
    assert_int_equal (fx_count ("SELECT count (*) FROM match.requests WHERE id = %s"
                                " AND reviewed_by = 'station-rev' AND published_at IS NOT NULL",
                                waiting),
                      1);
    assert_int_equal (fx_events ("request.published", waiting), 1);
    assert_int_equal (fx_events ("request.submitted", waiting), 1);
    char offer[32];
    fx_wait_offer (volunteer, waiting, offer);
    S_REFUSED (REV_TOWN, "review twice",
               fx_call ("match", &station, "request.review", body, NULL, &err_), ST_CONFLICT, "id");

    //  Rejected with the reason the resident is told.
    char rejected[32];
    fx_request_add (&self, REV_VILLAGE, start, end, 1, "[\"r审单\"]", NULL, "", "review", rejected);
    snprintf (body, sizeof body,
              "{\"id\": \"%s\", \"approve\": false, \"reason\": \"不在本站服务范围\"}", rejected);
    assert_int_equal (fx_call ("match", &station, "request.review", body, &reply, &err), ST_OK);
    assert_string_equal (fx_str (reply, "status"), "rejected");
    assert_string_equal (fx_str (reply, "reason"), "不在本站服务范围");
    json_decref (reply);
    got = fx_request_get (rejected);
    assert_string_equal (fx_str (got, "status"), "rejected");
    assert_string_equal (fx_str (got, "reason"), "不在本站服务范围");
    json_decref (got);
    json_t *event;
    assert_int_equal (fx_events_json ("request.rejected", rejected, &event), 1);
    assert_string_equal (fx_str (event, "reason"), "不在本站服务范围");
    assert_string_equal (fx_str (event, "resident_id"), resident);
    assert_string_equal (fx_str (event, "status"), "rejected");
    json_decref (event);
    assert_int_equal (fx_events ("request.published", rejected), 0);
    snprintf (body, sizeof body, "{\"id\": \"%s\", \"approve\": true}", rejected);
    S_REFUSED (REV_TOWN, "approve after reject",
               fx_call ("match", &station, "request.review", body, NULL, &err_), ST_CONFLICT, "id");

    //  One waiting for review may be taken back by its resident.
    char mistaken[32];
    fx_request_add (&self, REV_VILLAGE, start, end, 1, "[\"r审单\"]", NULL, "", "review", mistaken);
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", mistaken);
    assert_int_equal (fx_call ("match", &self, "request.cancel", body, &reply, &err), ST_OK);
    assert_string_equal (fx_str (reply, "status"), "cancelled");
    json_decref (reply);
    assert_int_equal (fx_events ("request.cancelled", mistaken), 1);

    //  Still in review at its start: unfilled, saying why.
    char late[32];
    fx_request_add (&self, REV_VILLAGE, start, end, 1, "[\"r审单\"]", NULL, "", "review", late);
    fx_sql ("UPDATE match.requests SET earliest_start = now () - interval '1 minute' WHERE id = %s",
            late);
    fx_wait_request (late, "unfilled");
    got = fx_request_get (late);
    assert_string_equal (fx_str (got, "reason"), "not reviewed before its start");
    json_decref (got);
    assert_int_equal (fx_events ("request.unfilled", late), 1);
    assert_int_equal (fx_count ("SELECT count (*) FROM match.offers WHERE request_id = %s", late),
                      0);
}

//  ---------------------------------------------------------------------------------------
//  3. Beneficiary fairness: a daily limit per resident and category

#define FAIR_TOWN    "431022103000"
#define FAIR_VILLAGE "431022103201"

//  Posts a request of `category` as `actor` at local day `days`, hour:minute; the status.
static st_status_t
s_fair_post (const msg_actor_t *actor, const char *category, int days, int hour, int minute,
             const char *extra, char id[32], st_error_t *err)
{
    char start[64], end[64], body[1024];
    fx_local (days, hour, minute, start, NULL);
    fx_local (days, hour + 2, minute, end, NULL);
    fx_request_body (body, category, "陪同就医", FAIR_VILLAGE, start, end, 1, "[\"f无人\"]", NULL,
                     extra);
    json_t *reply;
    st_status_t rc = fx_call ("match", actor, "request.create", body, &reply, err);
    if (rc == ST_OK) {
        snprintf (id, 32, "%s", fx_str (reply, "id"));
        json_decref (reply);
    }
    return rc;
}

//  How many requests of resident `resident` request.list shows them: of `category` (NULL:
//  any), the cancelled ones only when `cancelled`.
static int
s_requests_of (const char *resident, const char *category, bool cancelled)
{
    msg_actor_t actor = fx_resident (resident);
    json_t *reply = fx_call_ok ("match", &actor, "request.list", "{\"limit\": 500}");
    int count = 0;
    size_t i;
    json_t *item;
    json_array_foreach (json_object_get (reply, "items"), i, item)
    {
        count += (cancelled || strcmp (fx_str (item, "status"), "cancelled") != 0)
                 && (!category || strcmp (fx_str (item, "category"), category) == 0);
    }
    assert_null (json_object_get (reply, "next_cursor"));
    json_decref (reply);
    return count;
}

//  Another replica of match: the harness runs one process per service, so this one gets
//  endpoints of its own and shares the database, as a second machine would.
typedef struct {
    pid_t pid;
    char rpc[320];
    zcert_t *own; //  the gateway's key pair, for its clients
} s_replica_t;

static void
s_replica_start (s_replica_t *self, int n)
{
    static const char *services[] = {"registry", "match", "ledger", "notify"};
    char events[320], path[512], log[512];
    snprintf (self->rpc, sizeof self->rpc, "ipc://%s/match-%d.rpc", harness_dir (fx_harness ()), n);
    snprintf (events, sizeof events, "ipc://%s/match-%d.events", harness_dir (fx_harness ()), n);
    snprintf (path, sizeof path, "%s/station-match", getenv ("STATION_BIN_DIR"));
    snprintf (log, sizeof log, "%s/match-%d.log", harness_dir (fx_harness ()), n);
    self->pid = fork ();
    assert_true (self->pid >= 0);
    if (self->pid == 0) {
        prctl (PR_SET_PDEATHSIG, SIGKILL);
        setenv ("STATION_KEYS", harness_keys (fx_harness ()), 1);
        setenv ("STATION_DB", harness_conninfo (fx_harness ()), 1);
        setenv ("STATION_LOG_LEVEL", "warn", 1);
        for (size_t i = 0; i < sizeof services / sizeof services[0]; i++) {
            char name[64];
            harness_endpoint_variable (services[i], "RPC", name, sizeof name);
            setenv (name, harness_endpoint (fx_harness (), services[i], "rpc"), 1);
            harness_endpoint_variable (services[i], "EVENTS", name, sizeof name);
            setenv (name, harness_endpoint (fx_harness (), services[i], "events"), 1);
        }
        setenv ("STATION_MATCH_RPC", self->rpc, 1);
        setenv ("STATION_MATCH_EVENTS", events, 1);
        int fd = open (log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2 (fd, 2);
            close (fd);
        }
        execl (path, "station-match", (char *) NULL);
        _exit (127);
    }
    st_error_t err;
    self->own = st_keys_secret (harness_keys (fx_harness ()), "gateway", &err);
    assert_non_null (self->own);
}

//  A client of the replica of its own.
static st_client_t *
s_replica_client (s_replica_t *self)
{
    st_error_t err;
    zcert_t *server = st_keys_public (harness_keys (fx_harness ()), "match", &err);
    assert_non_null (server);
    st_client_t *client = st_client_new (self->rpc, self->own, zcert_public_txt (server));
    zcert_destroy (&server);
    st_client_set_retry (client, 500);
    return client;
}

//  Waits until the replica answers sys.ping.
static void
s_replica_wait (s_replica_t *self)
{
    st_client_t *client = s_replica_client (self);
    bool up = false;
    for (int64_t until = st_clock_ms () + 20000; !up && st_clock_ms () < until;) {
        msg_empty_t request = {0};
        msg_pong_t pong;
        st_error_t err;
        up = st_client_call (client, "sys.ping", NULL, NULL, &msg_empty_desc, &request,
                             &msg_pong_desc, &pong, 300, &err)
             == ST_OK;
        if (up)
            st_msg_clear (&msg_pong_desc, &pong);
    }
    st_client_destroy (&client);
    if (!up)
        fail_msg ("replica %s did not answer within 20 s", self->rpc);
}

static void
s_replica_stop (s_replica_t *self)
{
    int status;
    kill (self->pid, SIGTERM);
    waitpid (self->pid, &status, 0);
    zcert_destroy (&self->own);
}

typedef struct {
    st_client_t *client;
    msg_actor_t actor;
    void *request; //  a msg_request_create
    pthread_barrier_t *start;
    st_status_t rc;
    st_error_t err;
} s_racer_t;

//  One of the racers: waits for the others, then posts (no cmocka in threads).
static void *
s_race (void *arg)
{
    s_racer_t *self = arg;
    const st_op_desc_t *op = st_proto_op ("match", "request.create");
    void *reply = calloc (1, op->reply->size);
    pthread_barrier_wait (self->start);
    self->rc = st_client_call (self->client, "request.create", &self->actor, NULL, op->request,
                               self->request, op->reply, reply, 30000, &self->err);
    st_msg_clear (op->reply, reply);
    free (reply);
    return NULL;
}

//  With a daily limit of 2, a resident's third request of a category on one local day is
//  refused, by whomever posted; other categories and days are not; a cancelled request
//  frees its place; eight posts at once let exactly two through.
static void
test_daily_limit (void **state)
{
    (void) state;
    const msg_actor_t station = {
        .account = "station-fair", .role = "station_admin", .region = FAIR_TOWN};
    json_decref (s_settings (&station, FAIR_VILLAGE, "\"daily_limit\": 2"));
    char resident[32], first[32], second[32], other[32], next_day[32], after[32], id[32];
    fx_resident_add ("限奶奶", FAIR_VILLAGE, NULL, resident);
    msg_actor_t self = fx_resident (resident);
    st_error_t err;
    assert_int_equal (s_fair_post (&self, "助老", 3, 9, 0, "", first, &err), ST_OK);
    assert_int_equal (s_fair_post (&self, "助老", 3, 10, 0, "", second, &err), ST_OK);
    //  07:00 Beijing is the day before in UTC: still the same local day, refused.
    S_REFUSED (FAIR_TOWN, "a third the same local day",
               s_fair_post (&self, "助老", 3, 7, 0, "", id, &err_), ST_RESOURCE_EXHAUSTED,
               "category");
    char extra[64];
    snprintf (extra, sizeof extra, ", \"resident_id\": \"%s\"", resident);
    S_REFUSED (FAIR_TOWN, "a third posted by an official",
               s_fair_post (&station, "助老", 3, 19, 0, extra, id, &err_), ST_RESOURCE_EXHAUSTED,
               "category");
    //  Another category that day, and the next local day (00:30 Beijing, the same UTC day
    //  as the first two): both fine.
    assert_int_equal (s_fair_post (&self, "助残", 3, 11, 0, "", other, &err), ST_OK);
    assert_int_equal (s_fair_post (&self, "助老", 4, 0, 30, "", next_day, &err), ST_OK);
    //  A cancelled request does not count.
    char body[64];
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", first);
    assert_int_equal (fx_call ("match", &self, "request.cancel", body, NULL, &err), ST_OK);
    assert_int_equal (s_fair_post (&self, "助老", 3, 7, 0, "", after, &err), ST_OK);
    S_REFUSED (FAIR_TOWN, "a third again", s_fair_post (&self, "助老", 3, 19, 0, "", id, &err_),
               ST_RESOURCE_EXHAUSTED, "category");
    assert_int_equal (s_requests_of (resident, "助老", false), 3);

    //  The race: eight clients post for another resident at once, two at each of four
    //  replicas (each replica answers one call at a time).
    enum { RACERS = 8, REPLICAS = 3 };
    s_replica_t replicas[REPLICAS];
    for (int i = 0; i < REPLICAS; i++)
        s_replica_start (&replicas[i], i + 2);
    for (int i = 0; i < REPLICAS; i++)
        s_replica_wait (&replicas[i]);
    char racer_resident[32];
    fx_resident_add ("抢奶奶", FAIR_VILLAGE, NULL, racer_resident);
    const st_op_desc_t *op = st_proto_op ("match", "request.create");
    pthread_barrier_t start;
    pthread_barrier_init (&start, NULL, RACERS);
    s_racer_t racers[RACERS];
    pthread_t threads[RACERS];
    for (int i = 0; i < RACERS; i++) {
        char at[64], until[64], json_body[1024];
        fx_local (5, 8 + i, 0, at, NULL);
        fx_local (5, 10 + i, 0, until, NULL);
        fx_request_body (json_body, "助老", "陪同就医", FAIR_VILLAGE, at, until, 1, "[\"f无人\"]",
                         NULL, "");
        json_t *json = json_loads (json_body, 0, NULL);
        int at_replica = i % (REPLICAS + 1);
        racers[i] = (s_racer_t){.client = at_replica == REPLICAS
                                              ? harness_client (fx_harness (), "match", "gateway")
                                              : s_replica_client (&replicas[at_replica]),
                                .actor = fx_resident (racer_resident),
                                .request = calloc (1, op->request->size),
                                .start = &start};
        assert_int_equal (st_json_to_msg (op->request, json, racers[i].request, &err), 0);
        json_decref (json);
    }
    for (int i = 0; i < RACERS; i++)
        assert_int_equal (pthread_create (&threads[i], NULL, s_race, &racers[i]), 0);
    int ok = 0, exhausted = 0;
    for (int i = 0; i < RACERS; i++) {
        pthread_join (threads[i], NULL);
        if (racers[i].rc == ST_OK)
            ok++;
        else if (racers[i].rc == ST_RESOURCE_EXHAUSTED
                 && strcmp (racers[i].err.field, "category") == 0)
            exhausted++;
        else
            fail_msg ("racer %d: %s %s", i, st_status_name (racers[i].rc), racers[i].err.message);
        st_msg_clear (op->request, racers[i].request);
        free (racers[i].request);
        st_client_destroy (&racers[i].client);
    }
    pthread_barrier_destroy (&start);
    for (int i = 0; i < REPLICAS; i++)
        s_replica_stop (&replicas[i]);
    assert_int_equal (ok, 2);
    assert_int_equal (exhausted, RACERS - 2);
    assert_int_equal (s_requests_of (racer_resident, NULL, true), 2);
}

//  ---------------------------------------------------------------------------------------
//  4. Widening delays per region

#define WIDE_TOWN     "431022104000"
#define WIDE_VILLAGE  "431022104201"
#define WIDE_NEIGHBOR "431022104202"
#define SLOW_VILLAGE  "431022105201"
#define SLOW_NEIGHBOR "431022105202"
#define WIDE_FARAWAY  "431022110201" //  another township of the county

//  Seconds from a request's publication to its first offer.
static double
s_offer_after (const char *request)
{
    char sql[256];
    snprintf (sql, sizeof sql,
              "SELECT extract (epoch FROM min (o.created_at) - r.published_at) FROM match.offers o"
              " JOIN match.requests r ON r.id = o.request_id WHERE r.id = %s GROUP BY r.id",
              request);
    return atof (fx_value ("%s", sql));
}

//  A township that widens after 1 s (and to the county after 3 s) finds the neighbouring
//  village's volunteer after that delay, unaged; one on the defaults (60 s) does not within
//  the wait, though its neighbour fits as soon as the request is old enough.
static void
test_widening (void **state)
{
    (void) state;
    const msg_actor_t station = {
        .account = "station-wide", .role = "station_admin", .region = WIDE_TOWN};
    json_t *reply =
        s_settings (&station, WIDE_TOWN, "\"widen_township_s\": 1, \"widen_county_s\": 3");
    json_decref (reply);
    char body[64];
    st_error_t err;
    snprintf (body, sizeof body, "{\"region\": \"%s\"}", WIDE_VILLAGE);
    assert_int_equal (fx_call ("match", &station, "settings.get", body, &reply, &err), ST_OK);
    assert_int_equal (fx_int (reply, "widen_township_s"), 1);
    assert_int_equal (fx_int (reply, "widen_county_s"), 3);
    json_decref (reply);

    char start[64], end[64], availability[64];
    fx_window (3, 14, 17, start, end, availability);
    char neighbour[32], faraway[32], slow_neighbour[32], near[32], far[32], slow[32];
    fx_volunteer_add ("邻村快", WIDE_NEIGHBOR, "[\"w邻村\"]", availability, 25.40, 112.95, "",
                      neighbour);
    fx_volunteer_add ("外镇快", WIDE_FARAWAY, "[\"w外镇\"]", availability, 25.40, 112.95, "",
                      faraway);
    fx_volunteer_add ("邻村慢", SLOW_NEIGHBOR, "[\"w默认\"]", availability, 25.40, 112.95, "",
                      slow_neighbour);
    fx_request_add (&FX_SYSTEM, WIDE_VILLAGE, start, end, 1, "[\"w邻村\"]", NULL, "", "open", near);
    fx_request_add (&FX_SYSTEM, WIDE_VILLAGE, start, end, 1, "[\"w外镇\"]", NULL, "", "open", far);
    fx_request_add (&FX_SYSTEM, SLOW_VILLAGE, start, end, 1, "[\"w默认\"]", NULL, "", "open", slow);
    int64_t began = st_clock_ms ();

    char offer[32];
    fx_wait_offer (neighbour, near, offer);
    double after = s_offer_after (near);
    if (after < 1.0 || after > 3.0)
        fail_msg ("the township's volunteer was offered %.3f s after publication, not 1-3 s",
                  after);
    fx_wait_offer (faraway, far, offer);
    after = s_offer_after (far);
    if (after < 3.0 || after > 5.0)
        fail_msg ("the county's volunteer was offered %.3f s after publication, not 3-5 s", after);
    //  The default township waits 60 s: nothing in 4 s.
    int64_t waited = st_clock_ms () - began;
    if (waited < 4000)
        fx_sleep_ms ((int) (4000 - waited));
    assert_int_equal (fx_count ("SELECT count (*) FROM match.offers WHERE request_id = %s", slow),
                      0);
    assert_int_equal (fx_offers (slow_neighbour, NULL), 0);
    //  Aged past the default, it finds the neighbour: only the delay kept them apart.
    fx_sql ("UPDATE match.requests SET published_at = now () - interval '61 seconds' WHERE id = %s",
            slow);
    fx_wait_offer (slow_neighbour, slow, offer);
}

//  ---------------------------------------------------------------------------------------
//  5. Stars and insurance a request asks for

#define RULE_VILLAGE "431022106201"

//  A request asking for 3 stars and insurance is offered only to volunteers with both
//  (insurance through the service day); the others get the next request, which asks neither.
static void
test_hard_rules (void **state)
{
    (void) state;
    char start[64], end[64], slot[8], other_start[64], other_end[64], other_slot[8];
    char availability[64], insured[64], lapsed[64], edge[64], day[16], day_before[16];
    fx_local (4, 9, 0, start, slot);
    fx_local (4, 11, 0, end, NULL);
    fx_local (5, 9, 0, other_start, other_slot);
    fx_local (5, 11, 0, other_end, NULL);
    s_date (4, day);
    s_date (3, day_before);
    snprintf (availability, sizeof availability, "[\"%s\", \"%s\"]", slot, other_slot);
    snprintf (insured, sizeof insured, ", \"insurance_until\": \"2099-12-31\"");
    snprintf (lapsed, sizeof lapsed, ", \"insurance_until\": \"%s\"", day_before);
    snprintf (edge, sizeof edge, ", \"insurance_until\": \"%s\"", day);
    struct {
        const char *name, *extra;
        int stars;
        bool fits;
        char id[32];
    } people[] = {
        {"星不够", insured, 2, false, ""},  {"没保险", "", 5, false, ""},
        {"保险过期", lapsed, 5, false, ""}, {"刚刚好", edge, 3, true, ""},
        {"都满足", insured, 4, true, ""},
    };
    enum { PEOPLE = sizeof people / sizeof people[0] };
    for (int i = 0; i < PEOPLE; i++) {
        fx_volunteer_add (people[i].name, RULE_VILLAGE, "[\"h规则\"]", availability, 25.40, 112.95,
                          people[i].extra, people[i].id);
        //  Stars come from ledger's service.completed; set directly as its events would.
        fx_sql ("UPDATE match.supply SET stars = %d WHERE volunteer_id = %s", people[i].stars,
                people[i].id);
    }
    assert_int_equal (fx_count ("SELECT count (*) FROM match.supply WHERE volunteer_id IN (%s, %s)"
                                " AND insurance_until IS NULL",
                                people[0].id, people[1].id),
                      1);
    char strict[32], plain[32];
    fx_request_add (&FX_SYSTEM, RULE_VILLAGE, start, end, 5, "[\"h规则\"]", NULL,
                    ", \"min_stars\": 3, \"insurance_required\": true", "open", strict);
    json_t *got = fx_request_get (strict);
    assert_int_equal (fx_int (got, "min_stars"), 3);
    assert_true (json_is_true (json_object_get (got, "insurance_required")));
    assert_int_equal (fx_int (got, "headcount"), 5);
    json_decref (got);
    for (int i = 0; i < PEOPLE; i++)
        if (people[i].fits) {
            char offer[32];
            fx_wait_offer (people[i].id, strict, offer);
        }
    fx_sleep_ms (1000); //  five more rounds
    for (int i = 0; i < PEOPLE; i++)
        if (fx_offers (people[i].id, NULL) != people[i].fits)
            fail_msg ("volunteer %s (%s) has %d offers", people[i].id, people[i].name,
                      fx_offers (people[i].id, NULL));
    //  Asking neither, the next day: the three left out are offered it.
    fx_request_add (&FX_SYSTEM, RULE_VILLAGE, other_start, other_end, 3, "[\"h规则\"]", NULL, "",
                    "open", plain);
    for (int i = 0; i < PEOPLE; i++)
        if (!people[i].fits) {
            char offer[32];
            fx_wait_offer (people[i].id, plain, offer);
        }
}

//  ---------------------------------------------------------------------------------------
//  6. Service records of a request, its completion and the resident's rating

#define REC_TOWN    "431022107000"
#define REC_VILLAGE "431022107201"

//  Rates `request` as `actor` with `stars` past the client's checks; the status.
static st_status_t
s_rate_unchecked (const msg_actor_t *actor, const char *request, int stars, st_error_t *err)
{
    char body[128];
    snprintf (body, sizeof body, "{\"id\": \"%s\", \"stars\": %d}", request, stars);
    return fx_call_raw ("match", actor, "request.rate", body, NULL, err);
}

//  The records tests' officials: the station admin of REC_TOWN and one of another township.
static const msg_actor_t REC_STATION = {
    .account = "station-rec", .role = "station_admin", .region = REC_TOWN};
static const msg_actor_t REC_OUTSIDER = {
    .account = "outsider-rec", .role = "station_admin", .region = "431022108000"};

//  A request of the records tests, staffed: REC_VILLAGE checks in within 200 m; a resident of
//  it (new, into `resident`) asks two volunteers with `skill` (new, into `first` and
//  `second`) to come to the village hall two days ahead; both accept. Its id into `request`.
static void
s_rec_staffed (const char *skill, char resident[32], char first[32], char second[32],
               char request[32])
{
    json_decref (s_settings (&REC_STATION, REC_VILLAGE, "\"checkin_radius_m\": 200"));
    char start[64], end[64], availability[64], skills[64];
    fx_window (2, 14, 17, start, end, availability);
    snprintf (skills, sizeof skills, "[\"%s\"]", skill);
    fx_resident_add ("评奶奶", REC_VILLAGE, NULL, resident);
    fx_volunteer_add ("签一", REC_VILLAGE, skills, availability, 25.40, 112.95, "", first);
    fx_volunteer_add ("签二", REC_VILLAGE, skills, availability, 25.40, 112.95, "", second);
    msg_actor_t self = fx_resident (resident);
    fx_request_add (&self, REC_VILLAGE, start, end, 2, skills, NULL,
                    ", \"lat\": 25.40, \"lon\": 112.95", "open", request);
    s_accept (first, request);
    s_accept (second, request);
    json_t *got = fx_request_get (request);
    assert_string_equal (fx_str (got, "status"), "staffed");
    json_decref (got);
}

//  Opens check-in for `request` (its window starting in 30 minutes) and checks `first` and
//  `second` in near the place; their records into `record` and `record2`.
static void
s_rec_checked_in (const char *request, const char *first, const char *second, char record[32],
                  char record2[32])
{
    fx_sql ("UPDATE match.requests SET earliest_start = now () + interval '30 minutes',"
            " latest_end = now () + interval '4 hours' WHERE id = %s",
            request);
    char near[128];
    snprintf (near, sizeof near, "{\"request_id\": \"%s\", \"lat\": 25.4005, \"lon\": 112.9505}",
              request);
    msg_actor_t v1 = fx_volunteer (first), v2 = fx_volunteer (second);
    json_t *reply = fx_call_ok ("match", &v1, "record.checkin", near);
    snprintf (record, 32, "%s", fx_str (reply, "id"));
    json_decref (reply);
    reply = fx_call_ok ("match", &v2, "record.checkin", near);
    snprintf (record2, 32, "%s", fx_str (reply, "id"));
    json_decref (reply);
}

//  `volunteer` checks out of `request`, and REC_STATION confirms their record `record` with
//  `hours` (NULL: the minutes counted).
static void
s_rec_served (const char *volunteer, const char *request, const char *record, const char *hours)
{
    msg_actor_t actor = fx_volunteer (volunteer);
    char body[128];
    snprintf (body, sizeof body, "{\"request_id\": \"%s\"}", request);
    json_decref (fx_call_ok ("match", &actor, "record.checkout", body));
    if (hours)
        snprintf (body, sizeof body, "{\"id\": \"%s\", \"hours\": %s}", record, hours);
    else
        snprintf (body, sizeof body, "{\"id\": \"%s\"}", record);
    json_decref (fx_call_ok ("match", &REC_STATION, "record.confirm", body));
}

//  A volunteer who accepted checks in from an hour before the window, near the place when the
//  region sets a radius, and once; anyone else, and any other check-in, is refused naming
//  the field and changing nothing.
static void
test_request_checkin (void **state)
{
    (void) state;
    char resident[32], first[32], second[32], stranger[32], request[32];
    s_rec_staffed ("c签到", resident, first, second, request);
    char availability[64], start[64], end[64];
    fx_window (2, 14, 17, start, end, availability);
    fx_volunteer_add ("旁人", REC_VILLAGE, "[\"c旁人\"]", availability, 25.40, 112.95, "",
                      stranger);
    msg_actor_t v1 = fx_volunteer (first), v2 = fx_volunteer (second), v3 = fx_volunteer (stranger);

    char near[128], body[256];
    snprintf (near, sizeof near, "{\"request_id\": \"%s\", \"lat\": 25.4005, \"lon\": 112.9505}",
              request);
    //  Two days ahead: check-in is not open yet.
    S_REFUSED (REC_TOWN, "check in two days early",
               fx_call ("match", &v1, "record.checkin", near, NULL, &err_), ST_FAILED_PRECONDITION,
               "at");
    //  The window starts in 30 minutes: check-in is open (from an hour before).
    fx_sql ("UPDATE match.requests SET earliest_start = now () + interval '30 minutes',"
            " latest_end = now () + interval '4 hours' WHERE id = %s",
            request);
    snprintf (body, sizeof body, "{\"request_id\": \"%s\"}", request);
    S_REFUSED (REC_TOWN, "check in without a position",
               fx_call ("match", &v1, "record.checkin", body, NULL, &err_), ST_INVALID_ARGUMENT,
               "lat");
    snprintf (body, sizeof body, "{\"request_id\": \"%s\", \"lat\": 25.50, \"lon\": 112.95}",
              request);
    S_REFUSED (REC_TOWN, "check in 11 km away",
               fx_call ("match", &v1, "record.checkin", body, NULL, &err_), ST_FAILED_PRECONDITION,
               "lat");
    snprintf (body, sizeof body,
              "{\"request_id\": \"%s\", \"activity_id\": \"1\", \"lat\": 25.4005,"
              " \"lon\": 112.9505}",
              request);
    S_REFUSED (REC_TOWN, "check in to both",
               fx_call ("match", &v1, "record.checkin", body, NULL, &err_), ST_INVALID_ARGUMENT,
               "request_id");
    S_REFUSED (REC_TOWN, "check in to neither",
               fx_call ("match", &v1, "record.checkin", "{\"lat\": 25.4005, \"lon\": 112.9505}",
                        NULL, &err_),
               ST_INVALID_ARGUMENT, "activity_id");
    S_REFUSED (REC_TOWN, "check in without an accepted offer",
               fx_call ("match", &v3, "record.checkin", near, NULL, &err_), ST_NOT_FOUND,
               "request_id");

    json_t *reply;
    st_error_t err;
    assert_int_equal (fx_call ("match", &v1, "record.checkin", near, &reply, &err), ST_OK);
    assert_string_equal (fx_str (reply, "request_id"), request);
    assert_null (json_object_get (reply, "activity_id"));
    assert_string_equal (fx_str (reply, "region"), REC_VILLAGE);
    assert_string_equal (fx_str (reply, "status"), "open");
    json_decref (reply);
    S_REFUSED (REC_TOWN, "check in twice",
               fx_call ("match", &v1, "record.checkin", near, NULL, &err_), ST_CONFLICT,
               "request_id");
    assert_int_equal (fx_call ("match", &v2, "record.checkin", near, &reply, &err), ST_OK);
    json_decref (reply);
}

//  Three hours on the spot for a 60-minute service count 90 minutes (the time asked for and
//  half an hour); an official in scope confirms them as hours, told to ledger with whom the
//  service was for.
static void
test_request_hours (void **state)
{
    (void) state;
    char resident[32], first[32], second[32], request[32], record[32], record2[32];
    s_rec_staffed ("c时长", resident, first, second, request);
    s_rec_checked_in (request, first, second, record, record2);
    msg_actor_t v1 = fx_volunteer (first);
    fx_sql ("UPDATE match.service_records SET checkin_at = now () - interval '3 hours'"
            " WHERE id = %s",
            record);
    fx_sql ("UPDATE match.requests SET earliest_start = now () - interval '3 hours',"
            " latest_end = now () + interval '1 hour' WHERE id = %s",
            request);
    char body[256];
    json_t *reply;
    st_error_t err;
    snprintf (body, sizeof body, "{\"request_id\": \"%s\"}", request);
    assert_int_equal (fx_call ("match", &v1, "record.checkout", body, &reply, &err), ST_OK);
    assert_string_equal (fx_str (reply, "status"), "closed");
    assert_int_equal (fx_int (reply, "minutes"), 90);
    json_decref (reply);
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", record);
    S_REFUSED (REC_TOWN, "confirm out of scope",
               fx_call ("match", &REC_OUTSIDER, "record.confirm", body, NULL, &err_), ST_NOT_FOUND,
               "id");
    assert_int_equal (fx_call ("match", &REC_STATION, "record.confirm", body, &reply, &err), ST_OK);
    assert_string_equal (fx_str (reply, "status"), "confirmed");
    assert_true (json_number_value (json_object_get (reply, "hours")) == 1.5);
    json_decref (reply);
    json_t *event;
    assert_int_equal (fx_events_json ("service.completed", record, &event), 1);
    assert_string_equal (fx_str (event, "request_id"), request);
    assert_null (json_object_get (event, "activity_id"));
    assert_string_equal (fx_str (event, "volunteer_id"), first);
    assert_string_equal (fx_str (event, "region"), REC_VILLAGE);
    assert_string_equal (fx_str (event, "category"), "助老");
    assert_true (json_number_value (json_object_get (event, "hours")) == 1.5);
    //  Whom it served, for ledger (no care tags: not in a group cared for first).
    assert_string_equal (fx_str (event, "resident_id"), resident);
    assert_true (json_is_false (json_object_get (event, "cared")));
    json_decref (event);
}

//  A request completes once its window is over and every record of it is confirmed; with a
//  record still open it stays staffed and cannot be rated.
static void
test_request_completion (void **state)
{
    (void) state;
    char resident[32], first[32], second[32], request[32], record[32], record2[32];
    s_rec_staffed ("c完成", resident, first, second, request);
    s_rec_checked_in (request, first, second, record, record2);
    fx_sql ("UPDATE match.service_records SET checkin_at = now () - interval '3 hours'"
            " WHERE id = %s",
            record);
    fx_sql ("UPDATE match.requests SET earliest_start = now () - interval '3 hours',"
            " latest_end = now () + interval '1 hour' WHERE id = %s",
            request);
    s_rec_served (first, request, record, NULL);
    msg_actor_t self = fx_resident (resident), v2 = fx_volunteer (second);

    //  The window is over but one record is still open: not completed, not rateable.
    fx_sql ("UPDATE match.requests SET latest_end = now () - interval '1 minute' WHERE id = %s",
            request);
    fx_sleep_ms (1000);
    json_t *got = fx_request_get (request);
    assert_string_equal (fx_str (got, "status"), "staffed");
    json_decref (got);
    assert_int_equal (fx_events ("request.completed", request), 0);
    char body[256];
    snprintf (body, sizeof body, "{\"id\": \"%s\", \"stars\": 5}", request);
    S_REFUSED (REC_TOWN, "rate before completed",
               fx_call ("match", &self, "request.rate", body, NULL, &err_), ST_FAILED_PRECONDITION,
               "id");
    st_error_t err;
    snprintf (body, sizeof body, "{\"request_id\": \"%s\"}", request);
    assert_int_equal (fx_call ("match", &v2, "record.checkout", body, NULL, &err), ST_OK);
    snprintf (body, sizeof body, "{\"id\": \"%s\", \"hours\": 0.5}", record2);
    assert_int_equal (fx_call ("match", &REC_STATION, "record.confirm", body, NULL, &err), ST_OK);
    fx_wait_request (request, "completed");
    assert_int_equal (fx_events ("request.completed", request), 1);
}

//  A request whose every accepted volunteer has had their hours confirmed is done before its
//  window ends (an "as soon as possible" order has a day-long window): the resident may rate
//  it at once. One volunteer confirmed of two is not done.
static void
test_request_completion_before_the_window_ends (void **state)
{
    (void) state;
    char resident[32], first[32], second[32], request[32], record[32], record2[32];
    s_rec_staffed ("c早完成", resident, first, second, request);
    s_rec_checked_in (request, first, second, record, record2);
    fx_sql ("UPDATE match.requests SET earliest_start = now () - interval '3 hours',"
            " latest_end = now () + interval '20 hours' WHERE id = %s",
            request);
    s_rec_served (first, request, record, "1.0");
    fx_sleep_ms (1000);
    json_t *got = fx_request_get (request);
    assert_string_equal (fx_str (got, "status"), "staffed");
    json_decref (got);
    s_rec_served (second, request, record2, "0.5");
    fx_wait_request (request, "completed");
    assert_int_equal (fx_events ("request.completed", request), 1);
    msg_actor_t self = fx_resident (resident);
    char body[256];
    snprintf (body, sizeof body, "{\"id\": \"%s\", \"stars\": 4}", request);
    json_decref (fx_call_ok ("match", &self, "request.rate", body));
}

//  A volunteer checked out of a request has served it: its window no longer holds them, so
//  they may sign up for an activity in the rest of it; one still serving may not.
static void
test_checkout_releases_the_window (void **state)
{
    (void) state;
    char resident[32], first[32], second[32], request[32], record[32], record2[32];
    s_rec_staffed ("c释放", resident, first, second, request);
    s_rec_checked_in (request, first, second, record, record2);
    s_rec_served (first, request, record, NULL);
    //  Inside the window the two accepted (day 2, 14:00 to 17:00).
    char start[64], end[64], closes[64], body[512], activity[32];
    fx_local (2, 15, 0, start, NULL);
    fx_local (2, 16, 0, end, NULL);
    fx_local (2, 12, 0, closes, NULL);
    snprintf (body, sizeof body,
              "{\"title\": \"重叠的活动\", \"category\": \"助老\", \"region\": \"%s\","
              " \"starts_at\": \"%s\", \"ends_at\": \"%s\", \"signup_closes_at\": \"%s\","
              " \"capacity\": 5}",
              REC_VILLAGE, start, end, closes);
    fx_activity_add (body, activity);
    msg_actor_t served = fx_volunteer (first), serving = fx_volunteer (second);
    snprintf (body, sizeof body, "{\"activity_id\": \"%s\"}", activity);
    json_decref (fx_call_ok ("match", &served, "activity.signup", body));
    st_error_t err;
    fx_expect ("sign up while serving a request at that time",
               fx_call ("match", &serving, "activity.signup", body, NULL, &err), &err, ST_CONFLICT,
               "activity_id");
}

//  Its resident rates a completed request once, 1 to 5 stars with a comment, told to ledger
//  with who served; nobody else rates it.
static void
test_request_rating (void **state)
{
    (void) state;
    char resident[32], neighbour[32], first[32], second[32], request[32], record[32], record2[32];
    s_rec_staffed ("c评单", resident, first, second, request);
    s_rec_checked_in (request, first, second, record, record2);
    fx_sql ("UPDATE match.requests SET earliest_start = now () - interval '3 hours',"
            " latest_end = now () + interval '1 hour' WHERE id = %s",
            request);
    s_rec_served (first, request, record, "1.0");
    s_rec_served (second, request, record2, "0.5");
    fx_sql ("UPDATE match.requests SET latest_end = now () - interval '1 minute' WHERE id = %s",
            request);
    fx_wait_request (request, "completed");
    fx_resident_add ("邻居", REC_VILLAGE, NULL, neighbour);
    msg_actor_t self = fx_resident (resident), other = fx_resident (neighbour);
    msg_actor_t v1 = fx_volunteer (first);

    //  Rated once, by its resident, 1 to 5 stars.
    char body[256];
    S_REFUSED (REC_TOWN, "0 stars", s_rate_unchecked (&self, request, 0, &err_),
               ST_INVALID_ARGUMENT, "stars");
    S_REFUSED (REC_TOWN, "6 stars", s_rate_unchecked (&self, request, 6, &err_),
               ST_INVALID_ARGUMENT, "stars");
    snprintf (body, sizeof body, "{\"id\": \"%s\", \"stars\": 6}", request);
    S_REFUSED (REC_TOWN, "6 stars (client)",
               fx_call ("match", &self, "request.rate", body, NULL, &err_), ST_INVALID_ARGUMENT,
               "stars");
    snprintf (body, sizeof body, "{\"id\": \"%s\", \"stars\": 4, \"comment\": \"来得及时\"}",
              request);
    S_REFUSED (REC_TOWN, "rated by another resident",
               fx_call ("match", &other, "request.rate", body, NULL, &err_), ST_NOT_FOUND, "id");
    S_REFUSED (REC_TOWN, "rated by a volunteer",
               fx_call ("match", &v1, "request.rate", body, NULL, &err_), ST_PERMISSION_DENIED,
               "actor.role");
    json_t *reply;
    st_error_t err;
    assert_int_equal (fx_call ("match", &self, "request.rate", body, &reply, &err), ST_OK);
    assert_int_equal (fx_int (reply, "rating"), 4);
    assert_string_equal (fx_str (reply, "comment"), "来得及时");
    json_decref (reply);
    json_t *got = fx_request_get (request);
    assert_string_equal (fx_str (got, "status"), "completed");
    assert_int_equal (fx_int (got, "rating"), 4);
    assert_string_equal (fx_str (got, "comment"), "来得及时");
    json_decref (got);
    json_t *event;
    assert_int_equal (fx_events_json ("service.rated", request, &event), 1);
    assert_int_equal (fx_int (event, "stars"), 4);
    assert_string_equal (fx_str (event, "comment"), "来得及时");
    assert_string_equal (fx_str (event, "resident_id"), resident);
    assert_string_equal (fx_str (event, "region"), REC_VILLAGE);
    assert_string_equal (fx_str (event, "category"), "助老");
    json_t *ids = json_object_get (event, "volunteer_ids");
    assert_int_equal (json_array_size (ids), 2);
    bool ordered = atoll (first) < atoll (second);
    assert_string_equal (json_string_value (json_array_get (ids, 0)), ordered ? first : second);
    assert_string_equal (json_string_value (json_array_get (ids, 1)), ordered ? second : first);
    json_decref (event);
    snprintf (body, sizeof body, "{\"id\": \"%s\", \"stars\": 2}", request);
    S_REFUSED (REC_TOWN, "rate twice", fx_call ("match", &self, "request.rate", body, NULL, &err_),
               ST_CONFLICT, "id");
}

//  ---------------------------------------------------------------------------------------
//  7. A region's figures

#define STAT_TOWN     "431022108000"
#define STAT_VILLAGE  "431022108201"
#define STAT_REVIEWED "431022108202" //  requires review
#define STAT_SIBLING  "431022109000"

//  Creates an activity of `project` in STAT_VILLAGE starting in 30 minutes for an hour; its id.
static void
s_stat_activity (const msg_actor_t *actor, const char *project, char id[32])
{
    char starts[40], ends[40], closes[40], body[512];
    int64_t now = st_now_ms () / 1000;
    st_time_format_utc ((now + 1800) * 1000000, starts);
    st_time_format_utc ((now + 5400) * 1000000, ends);
    st_time_format_utc ((now + 1740) * 1000000, closes);
    snprintf (body, sizeof body,
              "{\"title\": \"敬老院陪护\", \"category\": \"elderly\", \"region\": \"%s\","
              " \"project_id\": \"%s\", \"starts_at\": \"%s\", \"ends_at\": \"%s\","
              " \"signup_closes_at\": \"%s\", \"capacity\": 10, \"skills\": []}",
              STAT_VILLAGE, project, starts, ends, closes);
    json_t *reply;
    st_error_t err;
    if (fx_call ("match", actor, "activity.create", body, &reply, &err) != ST_OK)
        fail_msg ("activity.create: %s (%s)", err.message, err.field);
    snprintf (id, 32, "%s", fx_str (reply, "id"));
    json_decref (reply);
}

//  Signs `volunteer` up to `activity`, checks in and out; the record's id.
static void
s_stat_attend (const char *volunteer, const char *activity, char record[32])
{
    msg_actor_t actor = fx_volunteer (volunteer);
    char body[128];
    json_t *reply;
    st_error_t err;
    snprintf (body, sizeof body, "{\"activity_id\": \"%s\"}", activity);
    assert_int_equal (fx_call ("match", &actor, "activity.signup", body, NULL, &err), ST_OK);
    char check[FX_BODY_SIZE];
    fx_checkin_body (check, activity, "");
    assert_int_equal (fx_call ("match", &actor, "record.checkin", check, &reply, &err), ST_OK);
    snprintf (record, 32, "%s", fx_str (reply, "id"));
    json_decref (reply);
    assert_int_equal (fx_call ("match", &actor, "record.checkout", body, NULL, &err), ST_OK);
}

//  Confirms a record's hours as `actor`.
static void
s_stat_confirm (const msg_actor_t *actor, const char *record, const char *hours)
{
    char body[128];
    snprintf (body, sizeof body, "{\"id\": \"%s\", \"hours\": %s}", record, hours);
    st_error_t err;
    if (fx_call ("match", actor, "record.confirm", body, NULL, &err) != ST_OK)
        fail_msg ("record.confirm %s: %s", record, err.message);
}

//  The township's officials: its station admin, who reads its figures.
#define STAT_STATION                                                                               \
    {                                                                                              \
        .account = "station-stat", .role = "station_admin", .region = STAT_TOWN                    \
    }

//  A township's history, made once for the stats tests (the first that needs it): requests
//  in every state, a project with an activity held and one cancelled, confirmed hours of
//  both.
static void
s_stats_history (void)
{
    static bool made;
    if (made)
        return;
    made = true;
    const msg_actor_t station = STAT_STATION;
    json_decref (s_settings (&station, STAT_REVIEWED, "\"review_required\": true"));
    char start[64], end[64], slot[8], availability[64], later[64], later_end[64], later_slot[8];
    fx_local (2, 9, 0, start, slot);
    fx_local (2, 12, 0, end, NULL);
    fx_local (3, 9, 0, later, later_slot);
    fx_local (3, 12, 0, later_end, NULL);
    snprintf (availability, sizeof availability, "[\"%s\", \"%s\"]", slot, later_slot);
    char resident[32], reviewed[32], worker[32], helper[32];
    fx_resident_add ("统奶奶", STAT_VILLAGE, NULL, resident);
    fx_resident_add ("统爷爷", STAT_REVIEWED, NULL, reviewed);
    fx_volunteer_add ("统甲", STAT_VILLAGE, "[\"s甲\"]", availability, 25.40, 112.95, "", worker);
    fx_volunteer_add ("统乙", STAT_VILLAGE, "[\"s乙\"]", availability, 25.40, 112.95, "", helper);
    msg_actor_t self = fx_resident (resident), other = fx_resident (reviewed);
    char completed[32], staffed[32], unfilled[32], cancelled[32], open[32], rejected[32],
        waiting[32];
    fx_request_add (&self, STAT_VILLAGE, start, end, 1, "[\"s甲\"]", NULL, "", "open", completed);
    fx_request_add (&station, STAT_VILLAGE, later, later_end, 1, "[\"s乙\"]", NULL, "", "open",
                    staffed);
    fx_request_add (&station, STAT_VILLAGE, start, end, 1, "[\"s无人\"]", NULL, "", "open",
                    unfilled);
    fx_request_add (&station, STAT_VILLAGE, start, end, 1, "[\"s无人\"]", NULL, "", "open",
                    cancelled);
    fx_request_add (&station, STAT_VILLAGE, later, later_end, 1, "[\"s无人\"]", NULL, "", "open",
                    open);
    fx_request_add (&other, STAT_REVIEWED, start, end, 1, "[\"s无人\"]", NULL, "", "review",
                    rejected);
    fx_request_add (&other, STAT_REVIEWED, start, end, 1, "[\"s无人\"]", NULL, "", "review",
                    waiting);
    s_accept (worker, completed);
    s_accept (helper, staffed);
    //  Staffed 10 and 30 minutes after publication: the median is 20.
    fx_sql ("UPDATE match.requests SET published_at = staffed_at - interval '10 minutes'"
            " WHERE id = %s",
            completed);
    fx_sql ("UPDATE match.requests SET published_at = staffed_at - interval '30 minutes'"
            " WHERE id = %s",
            staffed);
    fx_sql ("UPDATE match.requests SET earliest_start = now () - interval '1 minute' WHERE id = %s",
            unfilled);
    char body[256];
    st_error_t err;
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", cancelled);
    assert_int_equal (fx_call ("match", &station, "request.cancel", body, NULL, &err), ST_OK);
    snprintf (body, sizeof body, "{\"id\": \"%s\", \"approve\": false, \"reason\": \"重复申请\"}",
              rejected);
    assert_int_equal (fx_call ("match", &station, "request.review", body, NULL, &err), ST_OK);
    //  The served request: 1.25 hours confirmed, over, completed, rated 4.
    fx_sql ("UPDATE match.requests SET earliest_start = now () - interval '10 minutes',"
            " latest_end = now () + interval '2 hours' WHERE id = %s",
            completed);
    msg_actor_t worker_actor = fx_volunteer (worker);
    snprintf (body, sizeof body, "{\"request_id\": \"%s\"}", completed);
    json_t *reply;
    assert_int_equal (fx_call ("match", &worker_actor, "record.checkin", body, &reply, &err),
                      ST_OK);
    char request_record[32];
    snprintf (request_record, sizeof request_record, "%s", fx_str (reply, "id"));
    json_decref (reply);
    assert_int_equal (fx_call ("match", &worker_actor, "record.checkout", body, NULL, &err), ST_OK);
    s_stat_confirm (&station, request_record, "1.25");
    fx_sql ("UPDATE match.requests SET earliest_start = now () - interval '2 hours',"
            " latest_end = now () - interval '1 minute' WHERE id = %s",
            completed);
    fx_wait_request (completed, "completed");
    snprintf (body, sizeof body, "{\"id\": \"%s\", \"stars\": 4}", completed);
    assert_int_equal (fx_call ("match", &self, "request.rate", body, NULL, &err), ST_OK);
    fx_wait_request (unfilled, "unfilled");
    //  A project with an activity held (0.5 hours confirmed for the same volunteer, the
    //  other's record left unconfirmed) and one cancelled.
    snprintf (body, sizeof body,
              "{\"name\": \"关爱老人\", \"category\": \"elderly\", \"region\": \"%s\"}",
              STAT_VILLAGE);
    assert_int_equal (fx_call ("match", &station, "project.create", body, &reply, &err), ST_OK);
    char project[32], held[32], dropped[32], record[32], unconfirmed[32];
    snprintf (project, sizeof project, "%s", fx_str (reply, "id"));
    json_decref (reply);
    s_stat_activity (&station, project, held);
    s_stat_activity (&station, project, dropped);
    snprintf (body, sizeof body, "{\"id\": \"%s\", \"reason\": \"下雨\"}", dropped);
    assert_int_equal (fx_call ("match", &station, "activity.cancel", body, NULL, &err), ST_OK);
    s_stat_attend (worker, held, record);
    s_stat_attend (helper, held, unconfirmed);
    s_stat_confirm (&station, record, "0.5");
}

//  The stats.region body of `region` for the day around now.
static void
s_stats_day (const char *region, char query[256])
{
    char from[40], to[40];
    int64_t now = st_now_ms () / 1000;
    st_time_format_utc ((now - 86400) * 1000000, from);
    st_time_format_utc ((now + 86400) * 1000000, to);
    snprintf (query, 256, "{\"region\": \"%s\", \"from\": \"%s\", \"to\": \"%s\"}", region, from,
              to);
}

//  A township's figures of its history, to the last digit: projects, activities, volunteers,
//  person-times, hours, requests by status, fill rate, median minutes to staff, ratings.
static void
test_stats_figures (void **state)
{
    (void) state;
    s_stats_history ();
    const msg_actor_t station = STAT_STATION;
    json_t *reply;
    st_error_t err;
    char query[256];
    //  The figures of the day around now.
    s_stats_day (STAT_TOWN, query);
    assert_int_equal (fx_call ("match", &station, "stats.region", query, &reply, &err), ST_OK);
    assert_string_equal (fx_str (reply, "region"), STAT_TOWN);
    assert_int_equal (fx_int (reply, "projects"), 1);
    assert_int_equal (fx_int (reply, "activities"), 1);
    assert_int_equal (fx_int (reply, "volunteers"), 1);
    assert_int_equal (fx_int (reply, "person_times"), 2);
    assert_true (json_number_value (json_object_get (reply, "hours")) == 1.75);
    assert_int_equal (fx_int (reply, "requests"), 7);
    static const char *statuses[] = {"cancelled", "completed", "open",    "rejected",
                                     "review",    "staffed",   "unfilled"};
    json_t *by_status = json_object_get (reply, "requests_by_status");
    assert_int_equal (json_array_size (by_status), 7);
    for (size_t i = 0; i < 7; i++) {
        assert_string_equal (fx_str (json_array_get (by_status, i), "status"), statuses[i]);
        assert_int_equal (fx_int (json_array_get (by_status, i), "count"), 1);
    }
    assert_true (fabs (json_number_value (json_object_get (reply, "fill_rate")) - 2.0 / 3) < 1e-9);
    assert_true (fabs (json_number_value (json_object_get (reply, "median_minutes_to_staff")) - 20)
                 < 1e-6);
    assert_int_equal (fx_int (reply, "ratings"), 1);
    assert_true (json_number_value (json_object_get (reply, "mean_rating")) == 4.0);
    json_decref (reply);
}

//  A sibling township's figures are all zero beside that history.
static void
test_stats_sibling (void **state)
{
    (void) state;
    s_stats_history ();
    json_t *reply;
    st_error_t err;
    char query[256];
    //  The sibling township: nothing at all.
    s_stats_day (STAT_SIBLING, query);
    assert_int_equal (fx_call ("match", &FX_SYSTEM, "stats.region", query, &reply, &err), ST_OK);
    static const char *zeros[] = {"projects",     "activities", "volunteers",
                                  "person_times", "requests",   "ratings"};
    for (size_t i = 0; i < sizeof zeros / sizeof zeros[0]; i++)
        assert_int_equal (fx_int (reply, zeros[i]), 0);
    assert_true (json_number_value (json_object_get (reply, "hours")) == 0);
    assert_int_equal (json_array_size (json_object_get (reply, "requests_by_status")), 0);
    assert_null (json_object_get (reply, "fill_rate"));
    assert_null (json_object_get (reply, "median_minutes_to_staff"));
    assert_null (json_object_get (reply, "mean_rating"));
    json_decref (reply);
}

//  Figures out of scope, and periods that are none, are refused naming the field.
static void
test_stats_refused (void **state)
{
    (void) state;
    const msg_actor_t station = STAT_STATION;
    char from[40], to[40], query[256];
    int64_t now = st_now_ms () / 1000;
    st_time_format_utc ((now - 86400) * 1000000, from);
    st_time_format_utc ((now + 86400) * 1000000, to);
    s_stats_day (STAT_SIBLING, query);
    //  Refused: another township, and a period that ends before it starts.
    S_REFUSED (STAT_TOWN, "figures out of scope",
               fx_call ("match", &station, "stats.region", query, NULL, &err_),
               ST_PERMISSION_DENIED, "region");
    snprintf (query, sizeof query, "{\"region\": \"%s\", \"from\": \"%s\", \"to\": \"%s\"}",
              STAT_TOWN, to, from);
    S_REFUSED (STAT_TOWN, "to before from",
               fx_call ("match", &station, "stats.region", query, NULL, &err_), ST_INVALID_ARGUMENT,
               "to");
    //  The defaults (this month to now) count too: a "to" before this month, or a "from" after
    //  now, leaves no period.
    snprintf (query, sizeof query, "{\"region\": \"%s\", \"to\": \"2020-01-01T00:00:00+08:00\"}",
              STAT_TOWN);
    S_REFUSED (STAT_TOWN, "to before this month",
               fx_call ("match", &station, "stats.region", query, NULL, &err_), ST_INVALID_ARGUMENT,
               "to");
    snprintf (query, sizeof query, "{\"region\": \"%s\", \"from\": \"2099-01-01T00:00:00+08:00\"}",
              STAT_TOWN);
    S_REFUSED (STAT_TOWN, "from after now",
               fx_call ("match", &station, "stats.region", query, NULL, &err_), ST_INVALID_ARGUMENT,
               "from");
}

#define PER_TOWN    "431022114000"
#define PER_VILLAGE "431022114201"

//  Creates a project in PER_VILLAGE created at `created` (SQL timestamptz text; NULL: now);
//  its id.
static void
s_period_project (const msg_actor_t *actor, const char *created, char id[32])
{
    char body[256];
    snprintf (body, sizeof body,
              "{\"name\": \"期内项目\", \"category\": \"elderly\", \"region\": \"%s\"}",
              PER_VILLAGE);
    json_t *reply;
    st_error_t err;
    if (fx_call ("match", actor, "project.create", body, &reply, &err) != ST_OK)
        fail_msg ("project.create: %s (%s)", err.message, err.field);
    snprintf (id, 32, "%s", fx_str (reply, "id"));
    json_decref (reply);
    if (created)
        fx_sql ("UPDATE match.projects SET created_at = '%s' WHERE id = %s", created, id);
}

//  Creates an activity in PER_VILLAGE of `project` (NULL: none) starting `days` days from now
//  for an hour, cancelled when `cancel`; then moved to start at `starts` (SQL timestamptz
//  text) unless NULL.
static void
s_period_activity (const msg_actor_t *actor, const char *project, int days, const char *starts,
                   bool cancel)
{
    char at[40], ends[40], closes[40], owner[64] = "", body[512];
    int64_t now = st_now_ms () / 1000;
    st_time_format_utc ((now + days * 86400) * 1000000, at);
    st_time_format_utc ((now + days * 86400 + 3600) * 1000000, ends);
    st_time_format_utc ((now + days * 86400 - 60) * 1000000, closes);
    if (project)
        snprintf (owner, sizeof owner, " \"project_id\": \"%s\",", project);
    snprintf (body, sizeof body,
              "{\"title\": \"期内活动\", \"category\": \"elderly\", \"region\": \"%s\",%s"
              " \"starts_at\": \"%s\", \"ends_at\": \"%s\", \"signup_closes_at\": \"%s\","
              " \"capacity\": 10, \"skills\": []}",
              PER_VILLAGE, owner, at, ends, closes);
    json_t *reply;
    st_error_t err;
    if (fx_call ("match", actor, "activity.create", body, &reply, &err) != ST_OK)
        fail_msg ("activity.create: %s (%s)", err.message, err.field);
    char id[32];
    snprintf (id, sizeof id, "%s", fx_str (reply, "id"));
    json_decref (reply);
    if (cancel) {
        snprintf (body, sizeof body, "{\"id\": \"%s\", \"reason\": \"下雨\"}", id);
        assert_int_equal (fx_call ("match", actor, "activity.cancel", body, NULL, &err), ST_OK);
    }
    if (starts)
        fx_sql ("UPDATE match.activities SET signup_closes_at = '%s'::timestamptz - interval"
                " '1 day', starts_at = '%s', ends_at = '%s'::timestamptz + interval '1 hour'"
                " WHERE id = %s",
                starts, starts, starts, id);
}

//  stats.region of PER_TOWN as `actor` over `period` (JSON members, NULL for the default)
//  counts `projects` projects and `activities` activities.
static void
s_expect_period (const msg_actor_t *actor, const char *period, long long projects,
                 long long activities)
{
    char query[256];
    snprintf (query, sizeof query, "{\"region\": \"%s\"%s%s}", PER_TOWN, period ? ", " : "",
              period ? period : "");
    json_t *reply;
    st_error_t err;
    if (fx_call ("match", actor, "stats.region", query, &reply, &err) != ST_OK)
        fail_msg ("stats.region %s: %s", query, err.message);
    if (fx_int (reply, "projects") != projects || fx_int (reply, "activities") != activities)
        fail_msg ("stats.region %s: %lld projects and %lld activities, not %lld and %lld", query,
                  fx_int (reply, "projects"), fx_int (reply, "activities"), projects, activities);
    json_decref (reply);
}

//  stats.region's projects and activities of [from, to) as a report counts them: an
//  activity when it starts in the period (not cancelled), a project when it was created in
//  the period or has such an activity; from counts, to does not. A project created now with
//  its activity next week (the demo's) counts this month, its activity in a period reaching
//  next week.
static void
test_stats_period (void **state)
{
    (void) state;
    const msg_actor_t station = {
        .account = "station-per", .role = "station_admin", .region = PER_TOWN};
    static const char *from = "2031-03-01 00:00:00+08", *to = "2031-04-01 00:00:00+08";
    char created_at_from[32], created_at_to[32], held_at_from[32], held_last[32], held_outside[32],
        only_cancelled[32], upcoming[32];
    //  Created in the period with no activity (at from exactly) and at to (not in it).
    s_period_project (&station, from, created_at_from);
    s_period_project (&station, to, created_at_to);
    //  Created before the period, with an activity at from exactly; another with one a second
    //  before to; one with activities a second before from and at to only; one whose only
    //  activity of the period is cancelled.
    s_period_project (&station, "2030-06-01 00:00:00+08", held_at_from);
    s_period_activity (&station, held_at_from, 2, from, false);
    s_period_project (&station, "2030-06-01 00:00:00+08", held_last);
    s_period_activity (&station, held_last, 2, "2031-03-31 23:59:59+08", false);
    s_period_project (&station, "2030-06-01 00:00:00+08", held_outside);
    s_period_activity (&station, held_outside, 2, "2031-02-28 23:59:59+08", false);
    s_period_activity (&station, held_outside, 2, to, false);
    s_period_project (&station, "2030-06-01 00:00:00+08", only_cancelled);
    s_period_activity (&station, only_cancelled, 2, "2031-03-15 10:00:00+08", true);
    //  An activity of no project in the middle of the period.
    s_period_activity (&station, NULL, 2, "2031-03-15 09:00:00+08", false);

    s_expect_period (&station,
                     "\"from\": \"2031-03-01T00:00:00+08:00\","
                     " \"to\": \"2031-04-01T00:00:00+08:00\"",
                     3, 3);
    //  The period before: the activity a second before from; the projects created before it
    //  have no activity there but held_outside's.
    s_expect_period (&station,
                     "\"from\": \"2031-02-01T00:00:00+08:00\","
                     " \"to\": \"2031-03-01T00:00:00+08:00\"",
                     1, 1);
    //  The period after: created_at_to, and held_outside's activity at to.
    s_expect_period (&station,
                     "\"from\": \"2031-04-01T00:00:00+08:00\","
                     " \"to\": \"2031-05-01T00:00:00+08:00\"",
                     2, 1);

    //  As the demo: a project created now, its activity a week from now. This month to now
    //  counts the project, not the activity (not held yet); a period reaching past next week
    //  counts both.
    s_period_project (&station, NULL, upcoming);
    s_period_activity (&station, upcoming, 7, NULL, false);
    s_expect_period (&station, NULL, 1, 0);
    char until[40], period[64];
    st_time_format_utc ((st_now_ms () / 1000 + 8 * 86400) * 1000000, until);
    snprintf (period, sizeof period, "\"to\": \"%s\"", until);
    s_expect_period (&station, period, 1, 1);
}

//  ---------------------------------------------------------------------------------------
//  8. request.list

#define LIST_TOWN    "431022111000"
#define LIST_VILLAGE "431022111201"
#define LIST_OTHER   "431022111202"

//  The ids of a request.list page as "a b c", and its next_cursor into `next` ("" for none).
static void
s_page (const msg_actor_t *actor, const char *body, char ids[256], char next[32])
{
    json_t *reply;
    st_error_t err;
    if (fx_call ("match", actor, "request.list", body, &reply, &err) != ST_OK)
        fail_msg ("request.list %s: %s (%s)", body, err.message, err.field);
    size_t used = 0;
    ids[0] = 0;
    json_t *items = json_object_get (reply, "items");
    for (size_t i = 0; i < json_array_size (items); i++)
        used += (size_t) snprintf (ids + used, 256 - used, "%s%s", i ? " " : "",
                                   fx_str (json_array_get (items, i), "id"));
    snprintf (next, 32, "%s", fx_str (reply, "next_cursor"));
    json_decref (reply);
}

//  Officials page through a subtree in scope newest first, narrowed by status; a resident
//  sees their own only; out of scope and bad input are refused naming the field.
static void
test_request_list (void **state)
{
    (void) state;
    const msg_actor_t town = {.account = "town-list", .role = "region_admin", .region = LIST_TOWN};
    const msg_actor_t outsider = {
        .account = "outsider-list", .role = "region_admin", .region = "431022110000"};
    char start[64], end[64], availability[64];
    fx_window (3, 9, 12, start, end, availability);
    char alice[32], bob[32], ids[5][32];
    fx_resident_add ("列表甲", LIST_VILLAGE, NULL, alice);
    fx_resident_add ("列表乙", LIST_OTHER, NULL, bob);
    msg_actor_t as_alice = fx_resident (alice), as_bob = fx_resident (bob);
    for (int i = 0; i < 5; i++)
        fx_request_add (i < 3 ? &as_alice : &as_bob, i < 3 ? LIST_VILLAGE : LIST_OTHER, start, end,
                        1, "[\"l无人会\"]", NULL, "", "open", ids[i]);
    char body[256];
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", ids[1]);
    st_error_t err;
    assert_int_equal (fx_call ("match", &as_alice, "request.cancel", body, NULL, &err), ST_OK);

    //  The township's admin, two at a time, newest first, across both villages.
    char page[256], next[32], want[256];
    s_page (&town, "{\"limit\": 2}", page, next);
    snprintf (want, sizeof want, "%s %s", ids[4], ids[3]);
    assert_string_equal (page, want);
    assert_string_equal (next, ids[3]);
    snprintf (body, sizeof body, "{\"limit\": 2, \"cursor\": \"%s\"}", next);
    s_page (&town, body, page, next);
    snprintf (want, sizeof want, "%s %s", ids[2], ids[1]);
    assert_string_equal (page, want);
    snprintf (body, sizeof body, "{\"limit\": 2, \"cursor\": \"%s\"}", next);
    s_page (&town, body, page, next);
    assert_string_equal (page, ids[0]);
    assert_string_equal (next, "");
    //  One village, one status.
    snprintf (body, sizeof body, "{\"region\": \"%s\", \"status\": \"open\"}", LIST_VILLAGE);
    s_page (&town, body, page, next);
    snprintf (want, sizeof want, "%s %s", ids[2], ids[0]);
    assert_string_equal (page, want);
    snprintf (body, sizeof body, "{\"region\": \"%s\", \"status\": \"cancelled\"}", LIST_VILLAGE);
    s_page (&town, body, page, next);
    assert_string_equal (page, ids[1]);
    //  A resident: their own, whatever region they name.
    s_page (&as_bob, "{}", page, next);
    snprintf (want, sizeof want, "%s %s", ids[4], ids[3]);
    assert_string_equal (page, want);
    //  Another township's admin sees none of it.
    snprintf (body, sizeof body, "{\"region\": \"%s\"}", LIST_TOWN);
    fx_expect ("list out of scope", fx_call ("match", &outsider, "request.list", body, NULL, &err),
               &err, ST_PERMISSION_DENIED, "region");
    s_page (&outsider, "{}", page, next);
    assert_string_equal (page, "");
    fx_expect ("a status of none",
               fx_call ("match", &town, "request.list", "{\"status\": \"maybe\"}", NULL, &err),
               &err, ST_INVALID_ARGUMENT, "status");
    fx_expect ("a cursor of letters",
               fx_call ("match", &town, "request.list", "{\"cursor\": \"abc\"}", NULL, &err), &err,
               ST_NOT_FOUND, "cursor");
    fx_expect ("a limit of zero",
               fx_call ("match", &town, "request.list", "{\"limit\": 0}", NULL, &err), &err,
               ST_INVALID_ARGUMENT, "limit");
    fx_expect ("a volunteer lists",
               fx_call ("match",
                        &(msg_actor_t){.account = "v", .role = "volunteer", .volunteer_id = "1"},
                        "request.list", "{}", NULL, &err),
               &err, ST_PERMISSION_DENIED, "actor.role");
}

//  ---------------------------------------------------------------------------------------
//  9. Guards: where residents may ask, whom officials may name, what a request shows

#define GUARD_TOWN    "431022112000"
#define GUARD_VILLAGE "431022112201"
#define GUARD_OTHER   "431022112202"

//  A resident asks within their own village only; an official names only residents of their
//  scope; half a location is refused; a resident sees who serves, not who was asked; a started
//  request can no longer be cancelled; an unfilled reason never outgrows what a request shows.
static void
test_request_guards (void **state)
{
    (void) state;
    const msg_actor_t town = {.account = "town-guard",
                              .role = "region_admin",
                              .region = GUARD_TOWN},
                      outsider = {.account = "outsider-guard",
                                  .role = "region_admin",
                                  .region = "431022111000"};
    char start[64], end[64], availability[64];
    fx_window (3, 9, 12, start, end, availability);
    char resident[32], volunteer[32], body[FX_BODY_SIZE], extra[64];
    fx_resident_add ("守门人", GUARD_VILLAGE, NULL, resident);
    fx_volunteer_add ("守门志愿", GUARD_VILLAGE, "[\"g守门\"]", availability, 25.40, 112.95, "",
                      volunteer);
    msg_actor_t self = fx_resident (resident);

    fx_request_body (body, "助老", "陪同就医", GUARD_OTHER, start, end, 1, "[]", NULL, "");
    S_REFUSED (GUARD_TOWN, "a resident asks in another village",
               fx_call ("match", &self, "request.create", body, NULL, &err_), ST_PERMISSION_DENIED,
               "region");
    snprintf (extra, sizeof extra, ", \"resident_id\": \"%s\"", resident);
    fx_request_body (body, "助老", "陪同就医", "431022111201", start, end, 1, "[]", NULL, extra);
    S_REFUSED (GUARD_TOWN, "an official names a resident out of scope",
               fx_call ("match", &outsider, "request.create", body, NULL, &err_), ST_NOT_FOUND,
               "resident_id");
    fx_request_body (body, "助老", "陪同就医", GUARD_VILLAGE, start, end, 1, "[]", NULL,
                     ", \"lat\": 25.4");
    S_REFUSED (GUARD_TOWN, "a latitude without longitude",
               fx_call ("match", &self, "request.create", body, NULL, &err_), ST_INVALID_ARGUMENT,
               "lon");

    //  Offered, the resident sees nobody yet; the official sees the offer pending. Accepted,
    //  both see who comes.
    char request[32], offer[32];
    fx_request_add (&self, GUARD_VILLAGE, start, end, 1, "[\"g守门\"]", NULL, "", "open", request);
    fx_wait_offer (volunteer, request, offer);
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", request);
    json_t *reply;
    st_error_t err;
    assert_int_equal (fx_call ("match", &self, "request.get", body, &reply, &err), ST_OK);
    assert_int_equal (json_array_size (json_object_get (reply, "assignments")), 0);
    json_decref (reply);
    assert_int_equal (fx_call ("match", &town, "request.get", body, &reply, &err), ST_OK);
    assert_int_equal (json_array_size (json_object_get (reply, "assignments")), 1);
    json_decref (reply);
    assert_int_equal (fx_answer ("offer.accept", volunteer, offer, &err), ST_OK);
    assert_int_equal (fx_call ("match", &self, "request.get", body, &reply, &err), ST_OK);
    json_t *who = json_array_get (json_object_get (reply, "assignments"), 0);
    assert_string_equal (fx_str (who, "volunteer_id"), volunteer);
    assert_string_equal (fx_str (who, "status"), "accepted");
    json_decref (reply);

    //  Begun, it is the records' business now.
    fx_sql ("UPDATE match.requests SET earliest_start = now () - interval '1 minute'"
            " WHERE id = %s",
            request);
    S_REFUSED (GUARD_TOWN, "cancel once started",
               fx_call ("match", &self, "request.cancel", body, NULL, &err_), ST_CONFLICT, "id");

    //  Twenty long skills nobody has: the reason is cut to what a request shows, and the
    //  request and its event stay readable.
    char skills[1024], big[4096];
    size_t used = (size_t) snprintf (skills, sizeof skills, "[");
    for (int i = 0; i < 20; i++)
        used += (size_t) snprintf (skills + used, sizeof skills - used,
                                   "%s\"g%02d_no_volunteer_has_this_skill\"", i ? ", " : "", i);
    snprintf (skills + used, sizeof skills - used, "]");
    snprintf (big, sizeof big,
              "{\"category\": \"助老\", \"title\": \"t\", \"description\": \"d\","
              " \"region\": \"%s\", \"earliest_start\": \"%s\", \"latest_end\": \"%s\","
              " \"duration_minutes\": 60, \"headcount\": 1, \"skills\": %s}",
              GUARD_VILLAGE, start, end, skills);
    char lonely[32];
    assert_int_equal (fx_call ("match", &self, "request.create", big, &reply, &err), ST_OK);
    snprintf (lonely, sizeof lonely, "%s", fx_str (reply, "id"));
    json_decref (reply);
    fx_sql ("UPDATE match.requests SET earliest_start = now () - interval '1 minute'"
            " WHERE id = %s",
            lonely);
    fx_wait_request (lonely, "unfilled");
    json_t *got = fx_request_get (lonely);
    assert_int_equal (strlen (fx_str (got, "reason")) > 0, 1);
    json_decref (got);
    assert_int_equal (fx_events ("request.unfilled", lonely), 1);
    snprintf (body, sizeof body, "{\"region\": \"%s\", \"status\": \"unfilled\"}", GUARD_TOWN);
    assert_int_equal (fx_call ("match", &town, "request.list", body, &reply, &err), ST_OK);
    assert_int_equal (json_array_size (json_object_get (reply, "items")), 1);
    json_decref (reply);
}

//  ---------------------------------------------------------------------------------------
//  10. A volunteer who stops being active

#define GONE_VILLAGE "431022113201"

//  Suspended in registry: their pending offer and their accepted one are withdrawn (each
//  told), the commitment released, the staffed request back to matching for someone else.
static void
test_volunteer_gone (void **state)
{
    (void) state;
    //  Free on two afternoons: one request each.
    char start[64], end[64], later_start[64], later_end[64], slot[8], later_slot[8];
    char availability[64];
    fx_local (4, 14, 0, start, slot);
    fx_local (4, 17, 0, end, NULL);
    fx_local (5, 14, 0, later_start, later_slot);
    fx_local (5, 17, 0, later_end, NULL);
    snprintf (availability, sizeof availability, "[\"%s\", \"%s\"]", slot, later_slot);
    char resident[32], leaving[32], staying[32];
    fx_resident_add ("离开者的邻居", GONE_VILLAGE, NULL, resident);
    fx_volunteer_add ("将离开", GONE_VILLAGE, "[\"z离开\"]", availability, 25.40, 112.95, "",
                      leaving);
    msg_actor_t self = fx_resident (resident);
    char first[32], second[32], offer[32];
    fx_request_add (&self, GONE_VILLAGE, start, end, 1, "[\"z离开\"]", NULL, "", "open", first);
    fx_wait_offer (leaving, first, offer);
    st_error_t err;
    assert_int_equal (fx_answer ("offer.accept", leaving, offer, &err), ST_OK);
    fx_wait_request (first, "staffed");
    //  request.staffed names who comes.
    json_t *staffed;
    assert_int_equal (fx_events_json ("request.staffed", first, &staffed), 1);
    json_t *ids = json_object_get (staffed, "volunteer_ids");
    assert_int_equal (json_array_size (ids), 1);
    assert_string_equal (json_string_value (json_array_get (ids, 0)), leaving);
    json_decref (staffed);
    char pending[32];
    fx_request_add (&self, GONE_VILLAGE, later_start, later_end, 1, "[\"z离开\"]", NULL, "", "open",
                    second);
    fx_wait_offer (leaving, second, pending);

    char body[128];
    snprintf (body, sizeof body, "{\"id\": \"%s\", \"status\": \"suspended\"}", leaving);
    assert_int_equal (fx_call ("registry", &FX_SYSTEM, "volunteer.set_status", body, NULL, &err),
                      ST_OK);
    fx_wait_offer_status (leaving, offer, "withdrawn");
    fx_wait_offer_status (leaving, pending, "withdrawn");
    assert_int_equal (fx_events ("offer.withdrawn", offer), 1);
    assert_int_equal (fx_events ("offer.withdrawn", pending), 1);
    assert_int_equal (
        fx_count ("SELECT count (*) FROM match.commitments WHERE volunteer_id = %s", leaving), 0);
    json_t *got = fx_request_get (first);
    assert_string_equal (fx_str (got, "status"), "matching");
    assert_int_equal (fx_int (got, "accepted"), 0);
    json_decref (got);
    //  Someone else may take it now: free on the first request's afternoon alone, so that
    //  the round has one request to offer them (both are open again and tie in cost).
    char first_only[64];
    snprintf (first_only, sizeof first_only, "[\"%s\"]", slot);
    fx_volunteer_add ("接替者", GONE_VILLAGE, "[\"z离开\"]", first_only, 25.40, 112.95, "",
                      staying);
    fx_wait_offer (staying, first, offer);
}

//  ---------------------------------------------------------------------------------------
//  11. Activities and requests never overlap for one volunteer

#define BOTH_VILLAGE "431022113202"

//  Confirmed for an activity, a volunteer is not offered a request at the same time; with a
//  request accepted, they cannot sign up for an activity at the same time.
static void
test_activity_overlap (void **state)
{
    (void) state;
    char start[64], end[64], availability[64], volunteer[32], resident[32];
    fx_window (6, 9, 12, start, end, availability);
    fx_volunteer_add ("两头忙", BOTH_VILLAGE, "[\"y两头\"]", availability, 25.40, 112.95, "",
                      volunteer);
    fx_resident_add ("两头的邻居", BOTH_VILLAGE, NULL, resident);
    msg_actor_t as_volunteer = fx_volunteer (volunteer), self = fx_resident (resident);
    char body[512], closes[64], activity[32], request[32], offer[32];
    json_t *reply;
    st_error_t err;
    fx_local (5, 20, 0, closes, NULL);
    snprintf (body, sizeof body,
              "{\"title\": \"义诊\", \"category\": \"助老\", \"region\": \"%s\","
              " \"starts_at\": \"%s\", \"ends_at\": \"%s\", \"signup_closes_at\": \"%s\","
              " \"capacity\": 5}",
              BOTH_VILLAGE, start, end, closes);
    assert_int_equal (fx_call ("match", &FX_SYSTEM, "activity.create", body, &reply, &err), ST_OK);
    snprintf (activity, sizeof activity, "%s", fx_str (reply, "id"));
    json_decref (reply);
    snprintf (body, sizeof body, "{\"activity_id\": \"%s\"}", activity);
    assert_int_equal (fx_call ("match", &as_volunteer, "activity.signup", body, NULL, &err), ST_OK);
    fx_request_add (&self, BOTH_VILLAGE, start, end, 1, "[\"y两头\"]", NULL, "", "open", request);
    fx_sleep_ms (1000); //  five rounds
    assert_int_equal (fx_offers (volunteer, NULL), 0);

    //  Withdrawn from the activity, they get the request; accepted, the activity is refused.
    assert_int_equal (fx_call ("match", &as_volunteer, "activity.withdraw", body, NULL, &err),
                      ST_OK);
    fx_wait_offer (volunteer, request, offer);
    assert_int_equal (fx_answer ("offer.accept", volunteer, offer, &err), ST_OK);
    fx_expect ("sign up over a request accepted",
               fx_call ("match", &as_volunteer, "activity.signup", body, NULL, &err), &err,
               ST_CONFLICT, "activity_id");
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", activity);
    reply = fx_call_ok ("match", &FX_SYSTEM, "activity.get", body);
    assert_int_equal (fx_int (reply, "confirmed"), 0);
    assert_int_equal (fx_int (reply, "waitlisted"), 0);
    json_decref (reply);

    //  Nobody checked in, and a day has passed since the window: not served after all.
    fx_wait_request (request, "staffed");
    fx_sql ("UPDATE match.requests SET earliest_start = now () - interval '2 days',"
            " latest_end = now () - interval '2 days' + interval '3 hours' WHERE id = %s",
            request);
    fx_wait_request (request, "unfilled");
    json_t *got = fx_request_get (request);
    assert_string_equal (fx_str (got, "reason"), "nobody checked in");
    json_decref (got);
    assert_int_equal (fx_events ("request.unfilled", request), 1);
}

//  ---------------------------------------------------------------------------------------
//  12. A place opened goes to the first in line free at that time

#define SKIP_TOWN    "431022115000"
#define SKIP_VILLAGE "431022115201"

//  Creates an activity in village `village` over [start, end) with `capacity` places; its id.
static void
s_skip_activity_in (const char *village, const char *title, const char *start, const char *end,
                    int capacity, char id[32])
{
    char body[512], closes[64];
    fx_local (8, 20, 0, closes, NULL);
    snprintf (body, sizeof body,
              "{\"title\": \"%s\", \"category\": \"助老\", \"region\": \"%s\","
              " \"starts_at\": \"%s\", \"ends_at\": \"%s\", \"signup_closes_at\": \"%s\","
              " \"capacity\": %d}",
              title, village, start, end, closes, capacity);
    json_t *reply;
    st_error_t err;
    if (fx_call ("match", &FX_SYSTEM, "activity.create", body, &reply, &err) != ST_OK)
        fail_msg ("activity.create: %s (%s)", err.message, err.field);
    snprintf (id, 32, "%s", fx_str (reply, "id"));
    json_decref (reply);
}

//  Signs `volunteer` up to `activity` (or withdraws them: `op`); the status it answers.
static void
s_skip_signup (const char *op, const char *volunteer, const char *activity, const char *status)
{
    msg_actor_t actor = fx_volunteer (volunteer);
    char body[128];
    snprintf (body, sizeof body, "{\"activity_id\": \"%s\"}", activity);
    json_t *reply;
    st_error_t err;
    if (fx_call ("match", &actor, op, body, &reply, &err) != ST_OK)
        fail_msg ("%s %s by %s: %s", op, activity, volunteer, err.message);
    assert_string_equal (fx_str (reply, "status"), status);
    json_decref (reply);
}

//  Who holds activity `activity`'s sign-ups, in arrival order: "volunteer:status ...".
static const char *
s_skip_line (const char *activity)
{
    return fx_value ("SELECT string_agg (volunteer_id::text || ':' || status, ' '"
                     " ORDER BY arrival)"
                     " FROM match.signups WHERE activity_id = %s AND status <> 'cancelled'",
                     activity);
}

//  Waitlisted for two activities, a volunteer accepts a request at the same time. A place
//  opening in either (a withdrawal, a larger capacity) passes them by: they stay first in
//  line, the next one takes the place, and they are told why (signup.skipped, busy, naming
//  the request). A confirmed sign-up is a commitment of the activity's time, so the database
//  itself refuses to book its volunteer twice.
static void
test_promotion_skips_busy (void **state)
{
    (void) state;
    fx_region_add (SKIP_TOWN, "跳过镇");
    fx_region_add (SKIP_VILLAGE, "跳过村");
    char start[64], end[64], availability[64], resident[32], request[32];
    fx_window (9, 9, 12, start, end, availability);
    char busy[32], first[32], next_a[32], next_b[32], other[32];
    fx_volunteer_add ("接了单", SKIP_VILLAGE, "[\"x跳过\"]", availability, 25.40, 112.95, "", busy);
    fx_volunteer_add ("先报名", SKIP_VILLAGE, "[]", "[]", 25.40, 112.95, "", first);
    fx_volunteer_add ("排第二甲", SKIP_VILLAGE, "[]", "[]", 25.40, 112.95, "", next_a);
    fx_volunteer_add ("排第二乙", SKIP_VILLAGE, "[]", "[]", 25.40, 112.95, "", next_b);
    fx_volunteer_add ("另一个", SKIP_VILLAGE, "[]", "[]", 25.40, 112.95, "", other);
    char a[32], b[32], c[32];
    s_skip_activity_in (SKIP_VILLAGE, "敬老院探访", start, end, 1, a);
    s_skip_activity_in (SKIP_VILLAGE, "义务理发", start, end, 1, b);
    s_skip_activity_in (SKIP_VILLAGE, "植树", start, end, 5, c);
    s_skip_signup ("activity.signup", first, a, "confirmed");
    s_skip_signup ("activity.signup", busy, a, "waitlisted");
    s_skip_signup ("activity.signup", next_a, a, "waitlisted");
    s_skip_signup ("activity.signup", other, b, "confirmed");
    s_skip_signup ("activity.signup", busy, b, "waitlisted");
    s_skip_signup ("activity.signup", next_b, b, "waitlisted");
    //  Only waitlisted, they are free to accept a request at the same time.
    fx_resident_add ("跳过的邻居", SKIP_VILLAGE, NULL, resident);
    msg_actor_t self = fx_resident (resident);
    fx_request_add (&self, SKIP_VILLAGE, start, end, 1, "[\"x跳过\"]", NULL, "", "open", request);
    s_accept (busy, request);

    //  A withdrawal: the busy volunteer is passed by and stays first in line.
    s_skip_signup ("activity.withdraw", first, a, "cancelled");
    char line[256];
    snprintf (line, sizeof line, "%s:waitlisted %s:confirmed", busy, next_a);
    assert_string_equal (s_skip_line (a), line);
    //  A larger capacity: the same.
    char body[128];
    st_error_t err;
    snprintf (body, sizeof body, "{\"id\": \"%s\", \"capacity\": 2}", b);
    json_t *reply;
    assert_int_equal (fx_call ("match", &FX_SYSTEM, "activity.update", body, &reply, &err), ST_OK);
    assert_int_equal (fx_int (reply, "confirmed"), 2);
    assert_int_equal (fx_int (reply, "waitlisted"), 1);
    json_decref (reply);
    snprintf (line, sizeof line, "%s:confirmed %s:waitlisted %s:confirmed", other, busy, next_b);
    assert_string_equal (s_skip_line (b), line);
    assert_int_equal (
        fx_count ("SELECT count (*) FROM match.commitments WHERE volunteer_id = %s", busy), 1);

    //  Each one promoted is told so as before; the one passed by is told why, each time.
    const char *activities[] = {a, b}, *promoted[] = {next_a, next_b};
    for (int i = 0; i < 2; i++) {
        json_t *event;
        assert_int_equal (fx_events_json ("signup.promoted", activities[i], &event), 1);
        assert_string_equal (fx_str (event, "volunteer_id"), promoted[i]);
        assert_string_equal (fx_str (event, "status"), "confirmed");
        json_decref (event);
        assert_int_equal (fx_events_json ("signup.skipped", activities[i], &event), 1);
        assert_string_equal (fx_str (event, "volunteer_id"), busy);
        assert_string_equal (fx_str (event, "status"), "waitlisted");
        assert_string_equal (fx_str (event, "reason"), "busy");
        assert_int_equal (fx_int (event, "position"), 1);
        assert_string_equal (fx_str (event, "busy_request_id"), request);
        assert_null (json_object_get (event, "busy_activity_id"));
        assert_non_null (strstr (fx_str (event, "starts_at"), "+08:00"));
        json_decref (event);
    }

    //  Those confirmed are committed for the activity's time: the database refuses a request
    //  over it, and a second activity over it, whatever path the row takes.
    assert_int_equal (fx_count ("SELECT count (*) FROM match.commitments WHERE activity_id = %s"
                                " AND volunteer_id = %s AND during = tstzrange ('%s', '%s')",
                                a, next_a, start, end),
                      1);
    PGconn *pg = harness_pg (fx_harness ());
    char sql[512];
    snprintf (sql, sizeof sql,
              "INSERT INTO match.commitments (volunteer_id, request_id, during)"
              " VALUES (%s, %s, tstzrange ('%s', '%s'))",
              next_a, request, start, end);
    PGresult *res = PQexec (pg, sql);
    assert_int_equal (PQresultStatus (res), PGRES_FATAL_ERROR);
    assert_string_equal (PQresultErrorField (res, PG_DIAG_SQLSTATE), "23P01");
    PQclear (res);
    snprintf (sql, sizeof sql,
              "INSERT INTO match.signups (activity_id, volunteer_id, arrival, status)"
              " VALUES (%s, %s, 100, 'confirmed')",
              c, next_a);
    res = PQexec (pg, sql);
    assert_int_equal (PQresultStatus (res), PGRES_FATAL_ERROR);
    assert_string_equal (PQresultErrorField (res, PG_DIAG_SQLSTATE), "23P01");
    PQclear (res);
    //  Through the ops, the clash is named.
    msg_actor_t confirmed = fx_volunteer (next_a);
    snprintf (body, sizeof body, "{\"activity_id\": \"%s\"}", c);
    fx_expect ("a sign-up over a confirmed activity",
               fx_call ("match", &confirmed, "activity.signup", body, NULL, &err), &err,
               ST_CONFLICT, "activity_id");
    char says[64];
    snprintf (says, sizeof says, "activity %s", a);
    if (!strstr (err.message, says))
        fail_msg ("\"%s\" does not name %s", err.message, says);
}

//  ---------------------------------------------------------------------------------------
//  A volunteer who stops being active keeps no place at activities to come

#define GONE_TOWN_ACT    "431022116000"
#define GONE_VILLAGE_ACT "431022116201"

//  Suspended in registry, a confirmed volunteer's sign-up ends (signup.cancelled, reason
//  volunteer_inactive) and the first in line takes the place; a waitlisted one's ends too.
//  A promotion passes by anyone match knows to be inactive (signup.skipped, inactive).
static void
test_inactive_volunteer_released (void **state)
{
    (void) state;
    fx_region_add (GONE_TOWN_ACT, "停用镇");
    fx_region_add (GONE_VILLAGE_ACT, "停用村");
    char start[64], end[64], availability[64];
    fx_window (9, 14, 16, start, end, availability);
    char held[32], next[32], after[32], last[32];
    fx_volunteer_add ("停用者", GONE_VILLAGE_ACT, "[]", "[]", 25.40, 112.95, "", held);
    fx_volunteer_add ("候补一", GONE_VILLAGE_ACT, "[]", "[]", 25.40, 112.95, "", next);
    fx_volunteer_add ("候补二", GONE_VILLAGE_ACT, "[]", "[]", 25.40, 112.95, "", after);
    fx_volunteer_add ("候补三", GONE_VILLAGE_ACT, "[]", "[]", 25.40, 112.95, "", last);
    char activity[32];
    s_skip_activity_in (GONE_VILLAGE_ACT, "社区义诊", start, end, 1, activity);
    s_skip_signup ("activity.signup", held, activity, "confirmed");
    s_skip_signup ("activity.signup", next, activity, "waitlisted");
    s_skip_signup ("activity.signup", after, activity, "waitlisted");
    s_skip_signup ("activity.signup", last, activity, "waitlisted");

    //  Suspended: their place goes to the first in line.
    char body[128];
    st_error_t err;
    snprintf (body, sizeof body, "{\"id\": \"%s\", \"status\": \"suspended\"}", held);
    assert_int_equal (fx_call ("registry", &FX_SYSTEM, "volunteer.set_status", body, NULL, &err),
                      ST_OK);
    fx_wait_for (1,
                 "SELECT count (*) FROM match.signups WHERE activity_id = %s AND volunteer_id = %s"
                 " AND status = 'confirmed'",
                 activity, next);
    char line[256];
    snprintf (line, sizeof line, "%s:confirmed %s:waitlisted %s:waitlisted", next, after, last);
    assert_string_equal (s_skip_line (activity), line);
    assert_int_equal (
        fx_count ("SELECT count (*) FROM match.commitments WHERE volunteer_id = %s", held), 0);
    json_t *event;
    assert_int_equal (fx_events_json ("signup.cancelled", activity, &event), 1);
    assert_string_equal (fx_str (event, "volunteer_id"), held);
    assert_string_equal (fx_str (event, "reason"), "volunteer_inactive");
    json_decref (event);
    assert_int_equal (fx_events_json ("signup.promoted", activity, &event), 1);
    assert_string_equal (fx_str (event, "volunteer_id"), next);
    json_decref (event);
    json_t *reply;
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", activity);
    assert_int_equal (fx_call ("match", &FX_SYSTEM, "activity.get", body, &reply, &err), ST_OK);
    assert_int_equal (fx_int (reply, "confirmed"), 1);
    assert_int_equal (fx_int (reply, "waitlisted"), 2);
    json_decref (reply);

    //  Known to match as inactive before their sign-ups end (registry's event on its way), a
    //  volunteer next in line is passed by, told why, and keeps their place in line.
    fx_sql ("UPDATE match.supply SET status = 'left' WHERE volunteer_id = %s", after);
    s_skip_signup ("activity.withdraw", next, activity, "cancelled");
    snprintf (line, sizeof line, "%s:waitlisted %s:confirmed", after, last);
    assert_string_equal (s_skip_line (activity), line);
    assert_int_equal (fx_events_json ("signup.skipped", activity, &event), 1);
    assert_string_equal (fx_str (event, "volunteer_id"), after);
    assert_string_equal (fx_str (event, "reason"), "inactive");
    assert_string_equal (fx_str (event, "status"), "waitlisted");
    assert_int_equal (fx_int (event, "position"), 1);
    json_decref (event);
}

int
main (void)
{
    st_log_init ("requests_test", "warn");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_settings),
        cmocka_unit_test (test_settings_clear_to_inherited),
        cmocka_unit_test (test_review),
        cmocka_unit_test (test_daily_limit),
        cmocka_unit_test (test_widening),
        cmocka_unit_test (test_hard_rules),
        cmocka_unit_test (test_request_checkin),
        cmocka_unit_test (test_request_hours),
        cmocka_unit_test (test_request_completion),
        cmocka_unit_test (test_request_completion_before_the_window_ends),
        cmocka_unit_test (test_checkout_releases_the_window),
        cmocka_unit_test (test_request_rating),
        cmocka_unit_test (test_stats_figures),
        cmocka_unit_test (test_stats_sibling),
        cmocka_unit_test (test_stats_refused),
        cmocka_unit_test (test_stats_period),
        cmocka_unit_test (test_request_list),
        cmocka_unit_test (test_request_guards),
        cmocka_unit_test (test_volunteer_gone),
        cmocka_unit_test (test_activity_overlap),
        cmocka_unit_test (test_promotion_skips_busy),
        cmocka_unit_test (test_inactive_volunteer_released),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
