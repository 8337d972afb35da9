/*  registry_teams_test.c — the teams an actor sees (team.list), issue 23: an official's region
    subtree paged by cursor with member counts, a volunteer's own teams with their role, what
    a member sees of the others (names masked), scope (another township's teams are not
    found, creating there is refused) and bad input named by field.  */
#include "fixture.h"

#include <jansson.h>
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
    *state = fx_new ("registry_teams_test", FX_REGISTRY);
    fx_county_add ();
    return 0;
}

static int
s_teardown (void **state)
{
    fx_destroy ((fx_t **) state);
    return 0;
}

static void
s_team (const msg_actor_t *actor, const char *name, const char *region, char id[24])
{
    char body[256];
    snprintf (body, sizeof body,
              "{\"name\": \"%s\", \"level\": \"squad\", \"category\": \"elderly\","
              " \"region\": \"%s\"}",
              name, region);
    json_t *team = fx_call_ok ("registry", actor, "team.create", body);
    snprintf (id, 24, "%s", fx_str (team, "id"));
    json_decref (team);
}

static void
s_join (const char *team, const char *volunteer, const char *role)
{
    char body[200];
    snprintf (body, sizeof body,
              "{\"team_id\": \"%s\", \"volunteer_id\": \"%s\", \"role\": \"%s\"}", team, volunteer,
              role);
    json_t *invitation = fx_call_ok ("registry", &COUNTY, "team.invite", body);
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", fx_str (invitation, "id"));
    json_decref (invitation);
    msg_actor_t me = fx_volunteer (volunteer);
    json_decref (fx_call_ok ("registry", &me, "invitation.accept", body));
}

//  The names of a team.list page, joined by spaces, and its next cursor.
static void
s_names (const msg_actor_t *actor, const char *query, char *names, size_t size, char next[24])
{
    json_t *page = fx_call_ok ("registry", actor, "team.list", query);
    size_t i;
    json_t *item;
    names[0] = '\0';
    json_array_foreach (json_object_get (page, "items"), i, item)
        snprintf (names + strlen (names), size - strlen (names), "%s%s:%lld%s%s", i ? " " : "",
                  fx_str (item, "name"), fx_int (item, "members"),
                  *fx_str (item, "my_role") ? ":" : "", fx_str (item, "my_role"));
    snprintf (next, 24, "%s", fx_str (page, "next_cursor"));
    json_decref (page);
}

static void
test_team_list (void **state)
{
    (void) state;
    char a[32], b[32], c[32], t1[24], t2[24], t3[24], t4[24];
    fx_volunteer_add ("王小明", VILLAGE, "[]", "[]", 25.40, 112.95, "", a);
    fx_volunteer_add ("李大红", VILLAGE, "[]", "[]", 25.40, 112.95, "", b);
    fx_volunteer_add ("赵丙", "431022101203", "[]", "[]", 25.40, 112.95, "", c);
    s_team (&TOWN_A, "一队", VILLAGE, t1);
    s_team (&TOWN_A, "二队", "431022100000", t2);
    s_team (&COUNTY, "县队", "431022000000", t3);
    s_team (&TOWN_B, "外镇队", "431022101203", t4);
    s_join (t1, a, "leader");
    s_join (t1, b, "member");
    s_join (t3, a, "member");
    s_join (t4, c, "member");

    char names[512], next[24];
    s_names (&COUNTY, "{}", names, sizeof names, next);
    assert_string_equal (names, "一队:2 二队:0 县队:1 外镇队:1");
    s_names (&TOWN_A, "{}", names, sizeof names, next);
    assert_string_equal (names, "一队:2 二队:0");
    s_names (&COUNTY, "{\"region\": \"431022101000\"}", names, sizeof names, next);
    assert_string_equal (names, "外镇队:1");
    //  Paged: two and two, by cursor.
    s_names (&COUNTY, "{\"limit\": 2}", names, sizeof names, next);
    assert_string_equal (names, "一队:2 二队:0");
    assert_string_equal (next, t2);
    char query[128];
    snprintf (query, sizeof query, "{\"limit\": 2, \"cursor\": \"%s\"}", next);
    s_names (&COUNTY, query, names, sizeof names, next);
    assert_string_equal (names, "县队:1 外镇队:1");
    snprintf (query, sizeof query, "{\"limit\": 2, \"cursor\": \"%s\"}", next);
    s_names (&COUNTY, query, names, sizeof names, next);
    assert_string_equal (names, "");
    assert_string_equal (next, "");
    //  A volunteer: their own teams, with their role in each.
    msg_actor_t va = fx_volunteer (a), vc = fx_volunteer (c);
    s_names (&va, "{}", names, sizeof names, next);
    assert_string_equal (names, "一队:2:leader 县队:1:member");
    s_names (&vc, "{}", names, sizeof names, next);
    assert_string_equal (names, "外镇队:1:member");

    //  What a member sees of the team: their own name, the others' masked.
    snprintf (query, sizeof query, "{\"id\": \"%s\"}", t1);
    msg_actor_t vb = fx_volunteer (b);
    json_t *team = fx_call_ok ("registry", &vb, "team.get", query);
    json_t *members = json_object_get (team, "members");
    assert_string_equal (fx_str (json_array_get (members, 0), "name"), "王**");
    assert_string_equal (fx_str (json_array_get (members, 1), "name"), "李大红");
    json_decref (team);
    team = fx_call_ok ("registry", &TOWN_A, "team.get", query);
    members = json_object_get (team, "members");
    assert_string_equal (fx_str (json_array_get (members, 0), "name"), "王小明");
    json_decref (team);

    //  Scope: another township's team is not found, creating there is refused, listing its
    //  region refused naming it.
    st_error_t err;
    snprintf (query, sizeof query, "{\"id\": \"%s\"}", t4);
    fx_expect ("another township's team",
               fx_call ("registry", &TOWN_A, "team.get", query, NULL, &err), &err, ST_NOT_FOUND,
               "id");
    fx_expect ("a team of another's team for a volunteer",
               fx_call ("registry", &va, "team.get", query, NULL, &err), &err, ST_NOT_FOUND, "id");
    fx_expect ("creating in another township",
               fx_call ("registry", &TOWN_A, "team.create",
                        "{\"name\": \"越界队\", \"level\": \"squad\", \"category\": \"elderly\","
                        " \"region\": \"431022101203\"}",
                        NULL, &err),
               &err, ST_PERMISSION_DENIED, "region");
    fx_expect (
        "listing another township",
        fx_call ("registry", &TOWN_A, "team.list", "{\"region\": \"431022101000\"}", NULL, &err),
        &err, ST_PERMISSION_DENIED, "region");
    //  Bad input, named.
    fx_expect ("a volunteer naming a region",
               fx_call ("registry", &va, "team.list", "{\"region\": \"431022100000\"}", NULL, &err),
               &err, ST_INVALID_ARGUMENT, "region");
    fx_expect ("a bad region",
               fx_call ("registry", &COUNTY, "team.list", "{\"region\": \"4310\"}", NULL, &err),
               &err, ST_INVALID_ARGUMENT, "region");
    fx_expect ("a bad cursor",
               fx_call ("registry", &COUNTY, "team.list", "{\"cursor\": \"x\"}", NULL, &err), &err,
               ST_NOT_FOUND, "cursor");
    fx_expect ("a limit of 0",
               fx_call_raw ("registry", &COUNTY, "team.list", "{\"limit\": 0}", NULL, &err), &err,
               ST_INVALID_ARGUMENT, "limit");
    msg_actor_t resident = fx_resident ("1");
    fx_expect ("a resident", fx_call ("registry", &resident, "team.list", "{}", NULL, &err), &err,
               ST_PERMISSION_DENIED, "actor.role");
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_team_list),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
