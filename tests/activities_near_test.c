/*  activities_near_test.c — activities near a volunteer (activity.list with lat/lon), the
    teams ranked by their members' confirmed hours (stats.teams, from what registry's
    team.created and membership.changed tell match) and the themes of a month's activities
    (stats.themes), issue 23: the order and paging of each, scope (another region's admin is
    refused naming the region), and bad input named by field.  */
#include "fixture.h"

#include <jansson.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#define VILLAGE "431022100201"

static msg_actor_t COUNTY = {.account = "county", .role = "region_admin", .region = "431022000000"};
static msg_actor_t TOWN_A = {.account = "town-a", .role = "region_admin", .region = "431022100000"};
static msg_actor_t TOWN_B = {.account = "town-b", .role = "region_admin", .region = "431022101000"};

static int
s_setup (void **state)
{
    *state = fx_new ("activities_near_test", FX_REGISTRY | FX_MATCH);
    fx_county_add ();
    return 0;
}

static int
s_teardown (void **state)
{
    fx_destroy ((fx_t **) state);
    return 0;
}

//  Creates an activity `title` in `region` `days` from now, at lat/lon (NAN: no place) and
//  with `theme` (NULL: none); its id into `id`.
static void
s_activity (const char *title, const char *region, int days, double lat, double lon,
            const char *theme, char id[24])
{
    char starts[64], ends[64], closes[64], place[96] = "", themed[160] = "", body[1024];
    fx_local (days, 9, 0, starts, NULL);
    fx_local (days, 11, 0, ends, NULL);
    fx_local (days - 1, 18, 0, closes, NULL);
    if (!isnan (lat))
        snprintf (place, sizeof place, ", \"lat\": %.5f, \"lon\": %.5f", lat, lon);
    if (theme)
        snprintf (themed, sizeof themed, ", \"theme\": \"%s\"", theme);
    snprintf (body, sizeof body,
              "{\"title\": \"%s\", \"category\": \"elderly\", \"region\": \"%s\","
              " \"starts_at\": \"%s\", \"ends_at\": \"%s\", \"capacity\": 10,"
              " \"signup_closes_at\": \"%s\"%s%s}",
              title, region, starts, ends, closes, place, themed);
    json_t *reply = fx_call_ok ("match", &FX_SYSTEM, "activity.create", body);
    snprintf (id, 24, "%s", fx_str (reply, "id"));
    json_decref (reply);
}

//  The titles of a page of activity.list as `actor` with `query`, joined by spaces, into
//  `titles`; the next cursor into `next` ("" when none).
static void
s_titles (const msg_actor_t *actor, const char *query, char *titles, size_t size, char next[24])
{
    json_t *page = fx_call_ok ("match", actor, "activity.list", query);
    size_t i;
    json_t *item;
    double last = -1;
    titles[0] = '\0';
    json_array_foreach (json_object_get (page, "items"), i, item)
    {
        json_t *distance = json_object_get (item, "distance_m");
        //  Distances never decrease along a page.
        if (json_is_number (distance)) {
            assert_true (json_number_value (distance) >= last);
            last = json_number_value (distance);
        }
        snprintf (titles + strlen (titles), size - strlen (titles), "%s%s", i ? " " : "",
                  fx_str (item, "title"));
    }
    snprintf (next, 24, "%s", fx_str (page, "next_cursor"));
    json_decref (page);
}

//  A volunteer near the village sees the activities of their region and above nearest first,
//  those with no place after (the nearer region first), the same in pages as in one.
static void
test_near_me (void **state)
{
    (void) state;
    char volunteer[32], id[24];
    fx_volunteer_add ("近者", VILLAGE, "[]", "[]", 25.40, 112.95, "", volunteer);
    //  Soonest first would be: far, county-none, mid, village-none, near.
    s_activity ("far", "431022000000", 2, 25.60, 113.20, NULL, id);
    s_activity ("county-none", "431022000000", 3, NAN, NAN, NULL, id);
    s_activity ("mid", "431022100000", 4, 25.45, 112.99, NULL, id);
    s_activity ("village-none", VILLAGE, 5, NAN, NAN, NULL, id);
    s_activity ("near", VILLAGE, 6, 25.401, 112.951, NULL, id);
    s_activity ("elsewhere", "431022101203", 1, 25.40, 112.95, NULL, id);
    msg_actor_t me = fx_volunteer (volunteer);
    char titles[512], next[24];
    s_titles (&me, "{}", titles, sizeof titles, next);
    assert_string_equal (titles, "far county-none mid village-none near");
    const char *near = "{\"lat\": 25.40, \"lon\": 112.95";
    char query[256];
    snprintf (query, sizeof query, "%s}", near);
    s_titles (&me, query, titles, sizeof titles, next);
    assert_string_equal (titles, "near mid far village-none county-none");
    assert_string_equal (next, "");
    //  Its distances: about 150 m, 6.6 km and 38 km.
    json_t *page = fx_call_ok ("match", &me, "activity.list", query);
    json_t *items = json_object_get (page, "items");
    double d0 = json_number_value (json_object_get (json_array_get (items, 0), "distance_m"));
    double d2 = json_number_value (json_object_get (json_array_get (items, 2), "distance_m"));
    assert_true (d0 > 100 && d0 < 200);
    assert_true (d2 > 30000 && d2 < 45000);
    assert_null (json_object_get (json_array_get (items, 3), "distance_m"));
    json_decref (page);
    //  Two at a time: the same order across pages.
    char all[1100] = "", cursor[24] = "";
    char page_query[320];
    for (int n = 0; n < 4; n++) {
        if (*cursor)
            snprintf (page_query, sizeof page_query, "%s, \"limit\": 2, \"cursor\": \"%s\"}", near,
                      cursor);
        else
            snprintf (page_query, sizeof page_query, "%s, \"limit\": 2}", near);
        s_titles (&me, page_query, titles, sizeof titles, cursor);
        if (*all && *titles)
            strcat (all, " ");
        strcat (all, titles);
        if (!*cursor)
            break;
    }
    assert_string_equal (all, "near mid far village-none county-none");
    //  No location to be had: the volunteer's own region first, then those above.
    s_titles (&me, "{\"near\": true}", titles, sizeof titles, next);
    assert_string_equal (titles, "village-none near mid far county-none");
    //  An official sees their subtree nearest first too.
    snprintf (query, sizeof query, "%s, \"region\": \"431022100000\"}", near);
    s_titles (&TOWN_A, query, titles, sizeof titles, next);
    assert_string_equal (titles, "near mid village-none");
    //  Bad input, named.
    st_error_t err;
    fx_expect ("lat without lon",
               fx_call ("match", &me, "activity.list", "{\"lat\": 25.4}", NULL, &err), &err,
               ST_INVALID_ARGUMENT, "lon");
    fx_expect ("lon without lat",
               fx_call ("match", &me, "activity.list", "{\"lon\": 112.9}", NULL, &err), &err,
               ST_INVALID_ARGUMENT, "lat");
    fx_expect (
        "lat out of range",
        fx_call_raw ("match", &me, "activity.list", "{\"lat\": 95, \"lon\": 112.9}", NULL, &err),
        &err, ST_INVALID_ARGUMENT, "lat");
    fx_expect ("another township", fx_call ("match", &TOWN_B, "activity.list", query, NULL, &err),
               &err, ST_PERMISSION_DENIED, "region");
}

//  Invites volunteer `volunteer` to team `team` and accepts as them.
static void
s_join (const char *team, const char *volunteer)
{
    char body[160];
    snprintf (body, sizeof body, "{\"team_id\": \"%s\", \"volunteer_id\": \"%s\"}", team,
              volunteer);
    json_t *invitation = fx_call_ok ("registry", &COUNTY, "team.invite", body);
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", fx_str (invitation, "id"));
    json_decref (invitation);
    msg_actor_t me = fx_volunteer (volunteer);
    json_decref (fx_call_ok ("registry", &me, "invitation.accept", body));
}

static void
s_team (const char *name, const char *region, char id[24])
{
    char body[256];
    snprintf (body, sizeof body,
              "{\"name\": \"%s\", \"level\": \"squad\", \"category\": \"elderly\","
              " \"region\": \"%s\"}",
              name, region);
    json_t *team = fx_call_ok ("registry", &COUNTY, "team.create", body);
    snprintf (id, 24, "%s", fx_str (team, "id"));
    json_decref (team);
}

//  A back-entered activity yesterday in `region` of `project` (NULL: none) with one record
//  of `hours` for each volunteer of `volunteers` (a JSON array of ids).
static void
s_backfill (const char *region, const char *project, const char *volunteers_json, double hours)
{
    char starts[64], ends[64], body[2048], records[1024] = "[", of[64] = "";
    fx_local (-1, 9, 0, starts, NULL);
    fx_local (-1, 13, 0, ends, NULL);
    json_t *ids = json_loads (volunteers_json, 0, NULL);
    size_t i;
    json_t *v;
    json_array_foreach (ids, i, v)
        snprintf (records + strlen (records), sizeof records - strlen (records),
                  "%s{\"volunteer_id\": \"%s\", \"hours\": %.2f}", i ? ", " : "",
                  json_string_value (v), hours);
    json_decref (ids);
    strcat (records, "]");
    if (project)
        snprintf (of, sizeof of, ", \"project_id\": \"%s\"", project);
    snprintf (body, sizeof body,
              "{\"title\": \"补录\", \"category\": \"elderly\", \"region\": \"%s\","
              " \"starts_at\": \"%s\", \"ends_at\": \"%s\", \"reason\": \"纸质签到表补录\","
              " \"records\": %s%s}",
              region, starts, ends, records, of);
    json_decref (fx_call_ok ("match", &COUNTY, "activity.backfill", body));
}

//  The teams of a region ranked by their current members' confirmed hours this quarter,
//  from registry's events; and the month's themes with their activities and hours.
static void
test_team_and_theme_figures (void **state)
{
    (void) state;
    char a[32], b[32], c[32], red[24], blue[24], other[24];
    fx_volunteer_add ("甲", VILLAGE, "[]", "[]", 25.40, 112.95, "", a);
    fx_volunteer_add ("乙", VILLAGE, "[]", "[]", 25.40, 112.95, "", b);
    fx_volunteer_add ("丙", "431022101203", "[]", "[]", 25.40, 112.95, "", c);
    s_team ("红队", VILLAGE, red);
    s_team ("蓝队", "431022100000", blue);
    s_team ("白队", "431022101203", other);
    s_join (red, a);
    s_join (blue, a);
    s_join (blue, b);
    s_join (other, c);
    fx_wait_for (4, "SELECT count (*) FROM match.team_members WHERE role IS NOT NULL");
    assert_int_equal (fx_count ("SELECT count (*) FROM match.teams"), 3);
    //  A project with a theme, its back-entered activity; an activity with its own theme.
    json_t *project = fx_call_ok (
        "match", &COUNTY, "project.create",
        "{\"name\": \"孝老爱亲\", \"category\": \"elderly\", \"region\": \"431022000000\","
        " \"theme\": \"敬老月\"}");
    char project_id[24];
    snprintf (project_id, sizeof project_id, "%s", fx_str (project, "id"));
    json_decref (project);
    char json[128];
    snprintf (json, sizeof json, "[\"%s\", \"%s\"]", a, b);
    s_backfill (VILLAGE, project_id, json, 3);
    snprintf (json, sizeof json, "[\"%s\"]", b);
    s_backfill (VILLAGE, NULL, json, 2);
    snprintf (json, sizeof json, "[\"%s\"]", c);
    s_backfill ("431022101203", project_id, json, 1.5);
    char id[24];
    s_activity ("重阳登高", VILLAGE, 3, NAN, NAN, "重阳", id);

    //  Blue: a 3 + b 3 + b 2 = 8; red: a 3; white: c 1.5; the township sees red and blue.
    json_t *stats = fx_call_ok ("match", &COUNTY, "stats.teams", "{\"region\": \"431022000000\"}");
    json_t *items = json_object_get (stats, "items");
    assert_int_equal (json_array_size (items), 3);
    const char *names[] = {"蓝队", "红队", "白队"};
    const double hours[] = {8, 3, 1.5};
    const long long members[] = {2, 1, 1};
    for (size_t i = 0; i < 3; i++) {
        json_t *item = json_array_get (items, i);
        assert_string_equal (fx_str (item, "name"), names[i]);
        assert_int_equal (fx_int (item, "rank"), (long long) i + 1);
        assert_int_equal (fx_int (item, "members"), members[i]);
        assert_true (fabs (json_number_value (json_object_get (item, "hours")) - hours[i]) < 1e-9);
    }
    assert_string_not_equal (fx_str (stats, "from"), "");
    json_decref (stats);
    stats = fx_call_ok ("match", &TOWN_A, "stats.teams",
                        "{\"region\": \"431022100000\", \"limit\": 1}");
    items = json_object_get (stats, "items");
    assert_int_equal (json_array_size (items), 1);
    assert_string_equal (fx_str (json_array_get (items, 0), "name"), "蓝队");
    json_decref (stats);
    //  A member who leaves takes their hours along.
    char body[160];
    snprintf (body, sizeof body, "{\"team_id\": \"%s\", \"volunteer_id\": \"%s\"}", blue, b);
    json_decref (fx_call_ok ("registry", &COUNTY, "team.remove_member", body));
    fx_wait_for (3, "SELECT count (*) FROM match.team_members WHERE role IS NOT NULL");
    stats = fx_call_ok ("match", &COUNTY, "stats.teams", "{\"region\": \"431022000000\"}");
    items = json_object_get (stats, "items");
    assert_true (fabs (json_number_value (json_object_get (json_array_get (items, 0), "hours")) - 3)
                 < 1e-9);
    json_decref (stats);

    //  The themes of a period: 敬老月 two activities (a 3, b 3, c 1.5), 重阳 one (to come).
    char from[64], to[64], query[256];
    fx_local (-2, 0, 0, from, NULL);
    fx_local (10, 0, 0, to, NULL);
    snprintf (query, sizeof query,
              "{\"region\": \"431022000000\", \"from\": \"%s\", \"to\": \"%s\"}", from, to);
    stats = fx_call_ok ("match", &COUNTY, "stats.themes", query);
    items = json_object_get (stats, "items");
    json_t *first = json_array_get (items, 0);
    assert_int_equal (json_array_size (items), 2);
    assert_string_equal (fx_str (first, "theme"), "敬老月");
    assert_int_equal (fx_int (first, "activities"), 2);
    assert_int_equal (fx_int (first, "person_times"), 3);
    assert_true (fabs (json_number_value (json_object_get (first, "hours")) - 7.5) < 1e-9);
    assert_string_equal (fx_str (json_array_get (items, 1), "theme"), "重阳");
    assert_int_equal (fx_int (json_array_get (items, 1), "person_times"), 0);
    json_decref (stats);
    snprintf (query, sizeof query,
              "{\"region\": \"431022101000\", \"from\": \"%s\", \"to\": \"%s\"}", from, to);
    stats = fx_call_ok ("match", &TOWN_B, "stats.themes", query);
    items = json_object_get (stats, "items");
    assert_int_equal (json_array_size (items), 1);
    assert_int_equal (fx_int (json_array_get (items, 0), "person_times"), 1);
    json_decref (stats);

    //  Scope and bad input, named.
    st_error_t err;
    fx_expect (
        "teams above the admin",
        fx_call ("match", &TOWN_A, "stats.teams", "{\"region\": \"431022000000\"}", NULL, &err),
        &err, ST_PERMISSION_DENIED, "region");
    fx_expect (
        "themes of another township",
        fx_call ("match", &TOWN_B, "stats.themes", "{\"region\": \"431022100000\"}", NULL, &err),
        &err, ST_PERMISSION_DENIED, "region");
    msg_actor_t volunteer = fx_volunteer (a);
    fx_expect (
        "a volunteer",
        fx_call ("match", &volunteer, "stats.teams", "{\"region\": \"431022000000\"}", NULL, &err),
        &err, ST_PERMISSION_DENIED, "actor.role");
    fx_expect ("a bad from",
               fx_call ("match", &COUNTY, "stats.teams",
                        "{\"region\": \"431022000000\", \"from\": \"yesterday\"}", NULL, &err),
               &err, ST_INVALID_ARGUMENT, "from");
    fx_expect ("a period backwards",
               fx_call ("match", &COUNTY, "stats.themes",
                        "{\"region\": \"431022000000\", \"from\": \"2026-02-01T00:00:00Z\","
                        " \"to\": \"2026-01-01T00:00:00Z\"}",
                        NULL, &err),
               &err, ST_INVALID_ARGUMENT, "to");
    fx_expect ("a limit of 0",
               fx_call_raw ("match", &COUNTY, "stats.teams",
                            "{\"region\": \"431022000000\", \"limit\": 0}", NULL, &err),
               &err, ST_INVALID_ARGUMENT, "limit");
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_near_me),
        cmocka_unit_test (test_team_and_theme_figures),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
