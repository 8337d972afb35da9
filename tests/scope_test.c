/*  scope_test.c — what an op names must be its caller's to use: every op of registry and match
    that takes the id of another row (a site, a parent team, a team, a project, a local service
    category, a resident) refuses an official of one township naming a row of another, with
    the field named, and takes the same call naming the caller's own row, or a row above the
    region the call is for (a county's brigade, centre, project or category).  */
#include "fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define TOWN_A    "431022100000"
#define TOWN_B    "431022101000"
#define VILLAGE_A "431022100201"
#define VILLAGE_B "431022101203"
#define COUNTY    "431022000000"

//  The rows each township (and the county) owns, made once for every test.
typedef struct {
    char site[32], team[32], category[32], project[32], resident[32], volunteer[32];
} s_owned_t;

static s_owned_t s_a, s_b, s_county;
static char s_mover[32]; //  a volunteer of town A who asked to move to village B

static msg_actor_t s_official_a, s_official_b, s_official_county;

//  The id in a reply of op `op` called with `body` as `actor`, into `id`.
static void
s_make (const char *service, const msg_actor_t *actor, const char *op, const char *body,
        const char *key, char id[32])
{
    json_t *reply = fx_call_ok (service, actor, op, body);
    snprintf (id, 32, "%s", fx_str (reply, key));
    json_decref (reply);
}

//  What `actor` owns in `region` (a township, or the county), with `village` for its people
//  and squad; `tag` tells its rows apart.
static void
s_own (const msg_actor_t *actor, const char *region, const char *village, const char *team_region,
       const char *tag, s_owned_t *owned)
{
    char body[512];
    snprintf (body, sizeof body,
              "{\"name\": \"%s文明实践所\", \"kind\": \"institute\", \"region\": \"%s\","
              " \"address\": \"%s镇政府\"}",
              tag, region, tag);
    s_make ("registry", actor, "site.create", body, "id", owned->site);
    snprintf (body, sizeof body,
              "{\"name\": \"%s助老队\", \"level\": \"squad\", \"category\": \"elderly\","
              " \"region\": \"%s\"}",
              tag, team_region);
    s_make ("registry", actor, "team.create", body, "id", owned->team);
    snprintf (owned->category, sizeof owned->category, "meals_%s", tag);
    snprintf (body, sizeof body, "{\"code\": \"%s\", \"name\": \"%s助餐\"}", owned->category, tag);
    json_decref (fx_call_ok ("registry", actor, "category.create", body));
    snprintf (body, sizeof body,
              "{\"name\": \"%s一月一主题\", \"category\": \"助老\", \"region\": \"%s\"}", tag,
              region);
    s_make ("match", actor, "project.create", body, "id", owned->project);
    fx_resident_add ("张奶奶", village, NULL, owned->resident);
}

static int
s_setup (void **state)
{
    fx_t *fx = fx_new ("scope", FX_REGISTRY | FX_MATCH);
    fx_county_add ();
    s_official_a = fx_admin ("region_admin", TOWN_A);
    s_official_a.account = "town-a";
    s_official_b = fx_admin ("region_admin", TOWN_B);
    s_official_b.account = "town-b";
    s_official_county = fx_admin ("region_admin", COUNTY);
    s_official_county.account = "county";
    s_own (&s_official_a, TOWN_A, VILLAGE_A, VILLAGE_A, "a", &s_a);
    s_own (&s_official_b, TOWN_B, VILLAGE_B, VILLAGE_B, "b", &s_b);
    s_own (&s_official_county, COUNTY, VILLAGE_A, COUNTY, "county", &s_county);
    //  Volunteers last: when match has them it has applied every event registry wrote before
    //  (its sites and categories too).
    fx_volunteer_add ("李甲", VILLAGE_A, "[]", "[]", 25.4, 112.95, "", s_a.volunteer);
    fx_volunteer_add ("王乙", VILLAGE_B, "[]", "[]", 25.4, 112.95, "", s_b.volunteer);
    fx_volunteer_add ("赵迁", "431022100202", "[]", "[]", 25.4, 112.95, "", s_mover);
    char body[128];
    snprintf (body, sizeof body, "{\"id\": \"%s\", \"region\": \"%s\"}", s_mover, VILLAGE_B);
    msg_actor_t mover = fx_volunteer (s_mover);
    json_decref (fx_call_ok ("registry", &mover, "volunteer.request_transfer", body));
    *state = fx;
    return 0;
}

static int
s_teardown (void **state)
{
    fx_destroy ((fx_t **) state);
    return 0;
}

//  ---------------------------------------------------------------------------------------
//  The table: each op with a referenced id, the body it is called with (made from the row it
//  names), the field a refusal names and its code.

typedef struct {
    const char *service;
    const char *op;
    const char *field;
    st_status_t refused;                          //  the code naming another township's row
    const char *(*pick) (const s_owned_t *owned); //  which row of an owner the body names
    const char *format;                           //  the body, %s the row's id (once)
} s_case_t;

static const char *
s_site (const s_owned_t *o)
{
    return o->site;
}
static const char *
s_team (const s_owned_t *o)
{
    return o->team;
}
static const char *
s_category (const s_owned_t *o)
{
    return o->category;
}
static const char *
s_project (const s_owned_t *o)
{
    return o->project;
}
static const char *
s_resident (const s_owned_t *o)
{
    return o->resident;
}

//  Times of an activity and a request a week ahead (filled by s_bodies).
static char s_starts[64], s_ends[64], s_closes[64];
static char s_activity[1024], s_request[FX_BODY_SIZE], s_request_for[FX_BODY_SIZE];
static char s_register[512], s_update[256], s_invite[256], s_transfer[256];

//  Bodies that need times or the people made at set-up.
static void
s_bodies (void)
{
    fx_local (7, 9, 0, s_starts, NULL);
    fx_local (7, 11, 0, s_ends, NULL);
    fx_local (6, 18, 0, s_closes, NULL);
    snprintf (s_activity, sizeof s_activity,
              "{\"title\": \"越界活动\", \"category\": \"%%s\", \"region\": \"%s\","
              " \"starts_at\": \"%s\", \"ends_at\": \"%s\", \"signup_closes_at\": \"%s\","
              " \"capacity\": 5, %%s}",
              VILLAGE_B, s_starts, s_ends, s_closes);
    fx_request_body (s_request, "%s", "陪同就医", VILLAGE_B, s_starts, s_ends, 1, "[]", NULL, "");
    fx_request_body (s_request_for, "助老", "陪同就医", VILLAGE_B, s_starts, s_ends, 1, "[]", NULL,
                     ", \"resident_id\": \"%s\"");
    char number[19];
    fx_nth_id_number (11000, number);
    snprintf (s_register, sizeof s_register,
              "{\"name\": \"新人\", \"id_number\": \"%s\", \"phone\": \"13711000000\","
              " \"region\": \"%s\", \"categories\": [\"%%s\"]}",
              number, VILLAGE_B);
    snprintf (s_update, sizeof s_update, "{\"id\": \"%s\", \"categories\": [\"%%s\"]}",
              s_b.volunteer);
    snprintf (s_invite, sizeof s_invite, "{\"team_id\": \"%%s\", \"volunteer_id\": \"%s\"}",
              s_b.volunteer);
    snprintf (s_transfer, sizeof s_transfer,
              "{\"id\": \"%s\", \"region\": \"%s\", \"team_ids\": [\"%%s\"]}", s_mover, VILLAGE_B);
}

static const char *S_TEAM_SITE =
    "{\"name\": \"越界队\", \"level\": \"squad\", \"category\":"
    " \"elderly\", \"region\": \"" VILLAGE_B "\", \"site_id\": \"%s\"}";
static const char *S_TEAM_PARENT =
    "{\"name\": \"越界队\", \"level\": \"squad\", \"category\":"
    " \"elderly\", \"region\": \"" VILLAGE_B "\", \"parent_id\": \"%s\"}";
static const char *S_TEAM_CATEGORY = "{\"name\": \"越界队\", \"level\": \"squad\", \"category\":"
                                     " \"%s\", \"region\": \"" VILLAGE_B "\"}";
static const char *S_PROJECT =
    "{\"name\": \"越界项目\", \"category\": \"%s\", \"region\": \"" TOWN_B "\"}";

//  The cases, their bodies pointing at the buffers s_bodies fills.
static s_case_t s_cases[16];
static size_t s_case_count;

static void
s_table (void)
{
    s_bodies ();
    static char activity_project[1024], activity_site[1024], activity_category[1024];
    snprintf (activity_project, sizeof activity_project, s_activity, "助老",
              "\"project_id\": \"%s\"");
    snprintf (activity_site, sizeof activity_site, s_activity, "助老", "\"site_id\": \"%s\"");
    snprintf (activity_category, sizeof activity_category, s_activity, "%s", "\"theme\": \"越界\"");
    s_case_t cases[] = {
        {"registry", "team.create", "site_id", ST_PERMISSION_DENIED, s_site, S_TEAM_SITE},
        {"registry", "team.create", "parent_id", ST_PERMISSION_DENIED, s_team, S_TEAM_PARENT},
        {"registry", "team.create", "category", ST_PERMISSION_DENIED, s_category, S_TEAM_CATEGORY},
        {"registry", "volunteer.register", "categories", ST_PERMISSION_DENIED, s_category,
         s_register},
        {"registry", "volunteer.update", "categories", ST_PERMISSION_DENIED, s_category, s_update},
        {"registry", "team.invite", "team_id", ST_PERMISSION_DENIED, s_team, s_invite},
        {"registry", "volunteer.transfer", "team_ids", ST_PERMISSION_DENIED, s_team, s_transfer},
        {"match", "project.create", "category", ST_PERMISSION_DENIED, s_category, S_PROJECT},
        {"match", "activity.create", "project_id", ST_PERMISSION_DENIED, s_project,
         activity_project},
        {"match", "activity.create", "site_id", ST_PERMISSION_DENIED, s_site, activity_site},
        {"match", "activity.create", "category", ST_PERMISSION_DENIED, s_category,
         activity_category},
        {"match", "request.create", "category", ST_PERMISSION_DENIED, s_category, s_request},
        //  A person out of scope reads as one not known (as volunteer.get does), never as a
        //  refusal that tells them apart from nobody.
        {"match", "request.create", "resident_id", ST_NOT_FOUND, s_resident, s_request_for},
    };
    s_case_count = sizeof cases / sizeof cases[0];
    assert_true (s_case_count <= sizeof s_cases / sizeof s_cases[0]);
    memcpy (s_cases, cases, sizeof cases);
}

//  A case's body naming `owned`'s row.
static void
s_body (const s_case_t *c, const s_owned_t *owned, char *body, size_t size)
{
    snprintf (body, size, c->format, c->pick (owned));
}

//  An official of town B naming town A's row is refused, the field named, and nothing changes;
//  every case is tried, and every miss reported, before the test fails.
static void
test_other_township_refused (void **state)
{
    (void) state;
    s_table ();
    int misses = 0;
    for (size_t i = 0; i < s_case_count; i++) {
        const s_case_t *c = &s_cases[i];
        char body[FX_BODY_SIZE * 2], what[128];
        s_body (c, &s_a, body, sizeof body);
        snprintf (what, sizeof what, "%s naming town A's %s", c->op, c->field);
        st_error_t err = {0};
        st_status_t rc = fx_call (c->service, &s_official_b, c->op, body, NULL, &err);
        if (rc != c->refused || strcmp (err.field, c->field) != 0) {
            print_message ("MISS %s %s: expected %s naming \"%s\", got %s naming \"%s\": %s\n",
                           c->service, what, st_status_name (c->refused), c->field,
                           st_status_name (rc), err.field, err.message);
            misses++;
        } else
            fx_expect (what, rc, &err, c->refused, c->field);
    }
    //  Nothing was made or joined by the calls refused.
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.teams WHERE name = '越界队'"), 0);
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.volunteers WHERE name = '新人'"),
                      0);
    assert_int_equal (fx_count ("SELECT count (*) FROM match.activities WHERE title = '越界活动'"),
                      0);
    assert_int_equal (fx_count ("SELECT count (*) FROM match.projects WHERE name = '越界项目'"), 0);
    assert_string_equal (fx_value ("SELECT region FROM registry.volunteers WHERE id = %s", s_mover),
                         "431022100202");
    assert_int_equal (misses, 0);
}

//  The same calls naming town B's own rows succeed.
static void
test_own_rows_taken (void **state)
{
    (void) state;
    s_table ();
    for (size_t i = 0; i < s_case_count; i++) {
        const s_case_t *c = &s_cases[i];
        char body[FX_BODY_SIZE * 2];
        s_body (c, &s_b, body, sizeof body);
        st_error_t err = {0};
        st_status_t rc = fx_call (c->service, &s_official_b, c->op, body, NULL, &err);
        if (rc != ST_OK)
            fail_msg ("%s %s naming town B's own %s: %s naming \"%s\": %s", c->service, c->op,
                      c->field, st_status_name (rc), err.field, err.message);
    }
}

//  Rows above the region a call is for are the caller's to use: town B's detachment under the
//  county's brigade, at the county's centre, in a county project, of the county's category.
static void
test_rows_above_taken (void **state)
{
    (void) state;
    char body[1024];
    snprintf (body, sizeof body,
              "{\"name\": \"白石渡分队\", \"level\": \"detachment\", \"category\": \"%s\","
              " \"region\": \"%s\", \"site_id\": \"%s\", \"parent_id\": \"%s\"}",
              s_county.category, TOWN_B, s_county.site, s_county.team);
    json_decref (fx_call_ok ("registry", &s_official_b, "team.create", body));
    s_bodies ();
    char extra[128];
    snprintf (extra, sizeof extra, "\"project_id\": \"%s\", \"site_id\": \"%s\"", s_county.project,
              s_county.site);
    snprintf (body, sizeof body, s_activity, s_county.category, extra);
    json_decref (fx_call_ok ("match", &s_official_b, "activity.create", body));
    //  And the county's admin uses a township's rows: they lie in its scope.
    snprintf (body, sizeof body,
              "{\"name\": \"县级队\", \"level\": \"brigade\", \"category\": \"%s\","
              " \"region\": \"%s\", \"site_id\": \"%s\", \"parent_id\": \"%s\"}",
              s_a.category, COUNTY, s_a.site, s_a.team);
    json_decref (fx_call_ok ("registry", &s_official_county, "team.create", body));
    //  A volunteer registering themself picks a category of their own region or above, never
    //  another township's.
    char number[19];
    fx_nth_id_number (11001, number);
    snprintf (body, sizeof body,
              "{\"name\": \"自助\", \"id_number\": \"%s\", \"phone\": \"13711000001\","
              " \"region\": \"%s\", \"categories\": [\"%s\"]}",
              number, VILLAGE_B, s_a.category);
    st_error_t err;
    fx_expect ("self-registration with another township's category",
               fx_call ("registry", NULL, "volunteer.register", body, NULL, &err), &err,
               ST_PERMISSION_DENIED, "categories");
    snprintf (body, sizeof body,
              "{\"name\": \"自助\", \"id_number\": \"%s\", \"phone\": \"13711000001\","
              " \"region\": \"%s\", \"categories\": [\"%s\", \"%s\"]}",
              number, VILLAGE_B, s_b.category, s_county.category);
    json_decref (fx_call_ok ("registry", NULL, "volunteer.register", body));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_other_township_refused),
        cmocka_unit_test (test_own_rows_taken),
        cmocka_unit_test (test_rows_above_taken),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
