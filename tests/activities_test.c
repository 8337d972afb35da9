/*  activities_test.c — projects, activities, sign-ups and micro-wishes in match, against a
    real database and a real match process: every op with good input, each kind of bad input
    answered with the field named, wrong actors refused, and a refused op changing nothing;
    the waitlist and its promotions, a cancelled activity telling everyone, the sign-up rush
    (200 volunteers for 50 places, from concurrent database connections and from as many rpc
    clients at once), the race for a wish, and the events each op writes.

    Worker threads use plain libpq or the rpc client and only record what they saw: cmocka is
    not thread-safe, so the main thread asserts once they are joined.  */
#include "fixture.h"
#include "st_scope.h"
#include "st_log.h"

#include <jansson.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <setjmp.h>
#include <cmocka.h>

#define REGION "431022101203"

//  ---------------------------------------------------------------------------------------
//  Fixture: match alone on a database of each test's own, stopped by the teardown even when
//  the test failed

//  Gives each test an empty slot for its fixture.
static int
s_setup (void **state)
{
    *state = NULL;
    return 0;
}

//  Stops whatever the test started, whether it passed or failed, and drops its database.
static int
s_teardown (void **state)
{
    fx_destroy ((fx_t **) state);
    return 0;
}

//  Starts match on a fresh database for the test `name`.
static void
s_start (void **state, const char *name)
{
    *state = fx_new (name, FX_MATCH);
}

//  The same with registry too, for tests that name a practice site: match knows a site only
//  from registry's site.created.
static void
s_start_with_registry (void **state, const char *name)
{
    *state = fx_new (name, FX_REGISTRY | FX_MATCH);
    fx_county_add ();
}

//  A practice site of REGION made through registry, once match knows it; its id into `id`.
static void
s_site_add (char id[32])
{
    json_t *reply = fx_call_ok ("registry", &FX_SYSTEM, "site.create",
                                "{\"name\": \"白石渡村新时代文明实践站\", \"kind\": \"station\","
                                " \"region\": \"" REGION "\", \"address\": \"村委会一楼\"}");
    snprintf (id, 32, "%s", fx_str (reply, "id"));
    json_decref (reply);
    fx_wait_for (1, "SELECT count (*) FROM match.sites WHERE site_id = %s", id);
}

//  Dumps a JSON body as text and releases it; the caller frees the text.
static char *
s_dump (json_t *body)
{
    char *text = json_dumps (body, 0);
    json_decref (body);
    return text;
}

//  A string member of the i-th event of a JSON array of events ("" when absent).
static const char *
s_event_str (json_t *events, size_t i, const char *key)
{
    return fx_str (json_array_get (events, i), key);
}

//  An integer member of the i-th event of a JSON array of events (-1 when absent).
static long long
s_event_int (json_t *events, size_t i, const char *key)
{
    return fx_int (json_array_get (events, i), key);
}

//  One bad body: the good one with `key` set to `value` (taken over; NULL leaves the key out),
//  which must fail with `code` naming `field`.
typedef struct {
    const char *key;
    json_t *value;
    st_status_t code;
    const char *field;
} s_case_t;

static char *s_state (void);

//  Sends the good body once, which must succeed (so that each refusal is the changed field's
//  doing), then each case as `actor`; the refused cases together must change nothing.
static void
s_bad_bodies (const char *op, const msg_actor_t *actor, const char *good, s_case_t *cases,
              size_t count)
{
    st_error_t err;
    json_t *body = json_loads (good, 0, NULL);
    assert_non_null (body);
    char *text = s_dump (body);
    if (fx_call_raw ("match", actor, op, text, NULL, &err) != ST_OK)
        fail_msg ("%s: the good body was refused: %s", op, err.message);
    free (text);
    char *before = s_state ();
    for (size_t i = 0; i < count; i++) {
        body = json_loads (good, 0, NULL);
        if (cases[i].value)
            json_object_set_new (body, cases[i].key, cases[i].value);
        else
            json_object_del (body, cases[i].key);
        cases[i].value = NULL;
        text = s_dump (body);
        st_status_t rc = fx_call_raw ("match", actor, op, text, NULL, &err);
        free (text);
        char what[128];
        snprintf (what, sizeof what, "%s, bad case %zu (\"%s\")", op, i, cases[i].key);
        fx_expect (what, rc, &err, cases[i].code, cases[i].field);
    }
    fx_unchanged (before, s_state (), op);
}

//  A JSON string of `unit` repeated `n` times.
static json_t *
s_long (const char *unit, int n)
{
    size_t len = strlen (unit);
    char *text = malloc (len * n + 1);
    for (int i = 0; i < n; i++)
        memcpy (text + i * len, unit, len);
    text[len * n] = 0;
    json_t *value = json_string (text);
    free (text);
    return value;
}

//  ---------------------------------------------------------------------------------------
//  The database

//  Writes the time `offset` seconds from now as RFC 3339 text in Beijing time.
static void
s_time (char out[40], int64_t offset)
{
    time_t t = time (NULL) + offset + 8 * 3600;
    struct tm tm;
    gmtime_r (&t, &tm);
    strftime (out, 40, "%Y-%m-%dT%H:%M:%S+08:00", &tm);
}

//  Everything an op could change, as counts and a digest of every row (the outbox without
//  the sequence numbers the relay adds later). The caller frees it.
static char *
s_state (void)
{
    return strdup (fx_value (
        "%s", "SELECT format ('projects=%s activities=%s signups=%s wishes=%s outbox=%s replies=%s "
              "digest=%s',"
              " (SELECT count (*) FROM match.projects), (SELECT count (*) FROM match.activities),"
              " (SELECT count (*) FROM match.signups), (SELECT count (*) FROM match.wishes),"
              " (SELECT count (*) FROM match.outbox), (SELECT count (*) FROM match.rpc_replies),"
              " (SELECT md5 (string_agg (r, ',' ORDER BY r)) FROM ("
              "   SELECT to_jsonb (x)::text AS r FROM match.projects x"
              "   UNION ALL SELECT to_jsonb (x)::text FROM match.activities x"
              "   UNION ALL SELECT to_jsonb (x)::text FROM match.signups x"
              "   UNION ALL SELECT to_jsonb (x)::text FROM match.wishes x"
              "   UNION ALL SELECT to_jsonb (x)::text FROM match.supply x"
              "   UNION ALL SELECT (to_jsonb (x) - 'seq')::text FROM match.outbox x) rows))"));
}

//  Puts volunteers first .. first + count - 1 into match's supply replica, as registry's
//  events would: skills as a text[] literal, stars, insurance as SQL ("NULL" for none).
static void
s_supply (int first, int count, const char *skills, int stars, const char *insurance)
{
    fx_sql ("INSERT INTO match.supply (volunteer_id, name, region, skills, status,"
            " registry_seq, stars, insurance_until)"
            " SELECT g, '志愿者' || g, '%s', '%s', 'active', 1, %d, %s"
            " FROM generate_series (%d, %d) g",
            REGION, skills, stars, insurance, first, first + count - 1);
}

//  ---------------------------------------------------------------------------------------
//  Activities and sign-ups

//  What an activity a week from now asks of volunteers; closes_in: seconds from now until
//  sign-up closes.
typedef struct {
    int64_t capacity;
    int64_t min_stars;
    char **skills;
    size_t skill_count;
    bool insurance;
    int64_t closes_in;
} s_plan_t;

//  Creates an activity as the system; returns its id (the caller frees it).
static char *
s_activity (const char *title, const s_plan_t *plan)
{
    char starts_at[40], ends_at[40], closes_at[40];
    s_time (starts_at, 7 * 86400);
    s_time (ends_at, 7 * 86400 + 3 * 3600);
    s_time (closes_at, plan->closes_in);
    msg_activity_create_t request = {.title = (char *) title,
                                     .category = "助老",
                                     .region = REGION,
                                     .starts_at = starts_at,
                                     .ends_at = ends_at,
                                     .capacity = plan->capacity,
                                     .has_capacity = true,
                                     .signup_closes_at = closes_at,
                                     .min_stars = plan->min_stars,
                                     .has_min_stars = true,
                                     .skills = {plan->skills, plan->skill_count},
                                     .has_skills = true,
                                     .insurance_required = plan->insurance,
                                     .has_insurance_required = true};
    msg_activity_t activity;
    st_error_t err;
    if (fx_call_msg ("match", &FX_SYSTEM, "activity.create", &request, &activity, &err) != ST_OK)
        fail_msg ("could not create an activity: %s", err.message);
    char *id = strdup (activity.id);
    st_msg_clear (&msg_activity_desc, &activity);
    return id;
}

//  activity.signup or activity.withdraw (`op`) as volunteer `volunteer`.
static st_status_t
s_signup (const char *op, const char *activity, const char *volunteer, msg_signup_t *reply,
          st_error_t *err)
{
    msg_actor_t actor = fx_volunteer (volunteer);
    msg_activity_signup_t request = {.activity_id = (char *) activity};
    return fx_call_msg ("match", &actor, op, &request, reply, err);
}

//  Signs a volunteer up and asserts the outcome (position 0: none).
static void
s_signup_as (const char *activity, const char *volunteer, const char *status, int64_t position)
{
    msg_signup_t reply;
    st_error_t err;
    if (s_signup ("activity.signup", activity, volunteer, &reply, &err) != ST_OK)
        fail_msg ("volunteer %s could not sign up: %s", volunteer, err.message);
    assert_string_equal (reply.status, status);
    assert_string_equal (reply.volunteer_id, volunteer);
    assert_string_equal (reply.activity_id, activity);
    assert_int_equal (reply.has_position, position > 0);
    if (position > 0)
        assert_int_equal (reply.position, position);
    st_msg_clear (&msg_signup_desc, &reply);
}

//  The activity as activity.get shows it to the system.
static void
s_get (const char *id, msg_activity_t *activity)
{
    msg_activity_get_t request = {.id = (char *) id};
    st_error_t err;
    if (fx_call_msg ("match", &FX_SYSTEM, "activity.get", &request, activity, &err) != ST_OK)
        fail_msg ("activity.get %s: %s", id, err.message);
}

//  Asserts an activity's counts through activity.get, and that they are the sign-ups' own.
static void
s_assert_counts (const char *id, int64_t confirmed, int64_t waitlisted)
{
    msg_activity_t activity;
    s_get (id, &activity);
    assert_int_equal (activity.confirmed, confirmed);
    assert_int_equal (activity.waitlisted, waitlisted);
    st_msg_clear (&msg_activity_desc, &activity);
    assert_int_equal (fx_count ("SELECT count (*) FROM match.signups WHERE activity_id = %s"
                                " AND status = 'confirmed'",
                                id),
                      confirmed);
    assert_int_equal (fx_count ("SELECT count (*) FROM match.signups WHERE activity_id = %s"
                                " AND status = 'waitlisted'",
                                id),
                      waitlisted);
}

//  ---------------------------------------------------------------------------------------
//  project.create

//  project.create: good input, bad bodies, wrong actors.
static void
test_project_create (void **state)
{
    s_start (state, "act_project");
    msg_actor_t county = fx_admin ("region_admin", "431022000000");
    msg_project_create_t request = {.name = "新时代文明实践志愿服务月",
                                    .category = "文明创建",
                                    .region = "431022000000",
                                    .theme = "移风易俗"};
    msg_project_t project;
    st_error_t err;
    assert_int_equal (fx_call_msg ("match", &county, "project.create", &request, &project, &err),
                      ST_OK);
    assert_string_equal (project.name, "新时代文明实践志愿服务月");
    assert_string_equal (project.category, "文明创建");
    assert_string_equal (project.region, "431022000000");
    assert_string_equal (project.theme, "移风易俗");
    assert_true (strtoll (project.id, NULL, 10) > 0);
    assert_non_null (strstr (project.created_at, "+08:00"));
    st_msg_clear (&msg_project_desc, &project);
    //  The system, too, and a station admin inside the county; theme is optional.
    request.theme = NULL;
    request.region = "431022101203";
    msg_actor_t station = fx_admin ("station_admin", "431022101203");
    assert_int_equal (fx_call_msg ("match", &station, "project.create", &request, &project, &err),
                      ST_OK);
    assert_null (project.theme);
    st_msg_clear (&msg_project_desc, &project);
    assert_int_equal (fx_call_msg ("match", &FX_SYSTEM, "project.create", &request, &project, &err),
                      ST_OK);
    st_msg_clear (&msg_project_desc, &project);
    assert_int_equal (fx_count ("SELECT count (*) FROM match.projects"), 3);

    s_case_t cases[] = {
        {"name", NULL, ST_INVALID_ARGUMENT, "name"},
        {"name", json_integer (5), ST_INVALID_ARGUMENT, "name"},
        {"name", json_string (""), ST_INVALID_ARGUMENT, "name"},
        {"name", s_long ("项", 101), ST_INVALID_ARGUMENT, "name"},
        {"category", NULL, ST_INVALID_ARGUMENT, "category"},
        {"category", json_true (), ST_INVALID_ARGUMENT, "category"},
        {"region", NULL, ST_INVALID_ARGUMENT, "region"},
        {"region", json_string ("43102200000"), ST_INVALID_ARGUMENT, "region"},
        {"region", json_string ("43102200000x"), ST_INVALID_ARGUMENT, "region"},
        {"region", json_string ("4310220000001"), ST_INVALID_ARGUMENT, "region"},
        {"region", json_integer (431022000000), ST_INVALID_ARGUMENT, "region"},
        {"region", json_string ("431021000000"), ST_PERMISSION_DENIED, "region"},
        {"theme", s_long ("题", 101), ST_INVALID_ARGUMENT, "theme"},
        {"theme", json_array (), ST_INVALID_ARGUMENT, "theme"},
    };
    s_bad_bodies ("project.create", &county,
                  "{\"name\": \"助老服务\", \"category\": \"助老\", \"region\": \"431022000000\"}",
                  cases, sizeof cases / sizeof cases[0]);
    char *before = s_state ();

    //  Wrong actors, with a good body.
    request.region = "431022000000";
    struct {
        msg_actor_t actor;
        st_status_t code;
        const char *field;
    } actors[] = {
        {fx_volunteer ("1"), ST_PERMISSION_DENIED, "actor.role"},
        {fx_resident ("1"), ST_PERMISSION_DENIED, "actor.role"},
        {fx_admin ("region_admin", "431021000000"), ST_PERMISSION_DENIED, "region"},
        {fx_admin ("station_admin", "431022101203"), ST_PERMISSION_DENIED, "region"},
        //  An official with no region, or none that is a code, is refused before the op runs.
        {fx_admin ("region_admin", NULL), ST_PERMISSION_DENIED, "actor.region"},
        {fx_admin ("region_admin", ""), ST_PERMISSION_DENIED, "actor.region"},
        {fx_admin ("janitor", "431022000000"), ST_PERMISSION_DENIED, "actor.role"},
    };
    for (size_t i = 0; i < sizeof actors / sizeof actors[0]; i++) {
        st_status_t rc =
            fx_call_msg ("match", &actors[i].actor, "project.create", &request, &project, &err);
        fx_expect (actors[i].actor.role, rc, &err, actors[i].code, actors[i].field);
    }
    st_status_t rc = fx_call_msg ("match", NULL, "project.create", &request, &project, &err);
    fx_expect ("no actor", rc, &err, ST_UNAUTHENTICATED, "actor");
    fx_unchanged (before, s_state (), "a refused project.create");
}

//  ---------------------------------------------------------------------------------------
//  Scope: an admin acts inside its region subtree only

//  The region helper: a 12-digit code stands for its subtree, trailing zero groups dropped.
static void
test_region_scope (void **state)
{
    s_start (state, "act_scope");
    struct {
        const char *scope;  //  the admin's region
        const char *region; //  where it creates a project
        bool allowed;
    } cases[] = {
        //  A county code ending in zero: 360320 is the prefix, not 36032.
        {"360320000000", "360320001001", true},
        {"360320000000", "360321001001", false},
        {"360320000000", "360302001001", false},
        //  A city covers its counties, a province its cities.
        {"360300000000", "360321001001", true},
        {"360300000000", "360400000000", false},
        {"360000000000", "360400000000", true},
        //  A township and a village.
        {"360302001000", "360302001005", true},
        {"360302001000", "360302002001", false},
        {"360302001001", "360302001001", true},
        {"360302001001", "360302001002", false},
        //  A scope is an account's region, always a whole code: a bare prefix covers nothing
        //  (it can come from no account, so taking it would only widen what a forged actor
        //  reaches).
        {"360302001", "360302001005", false},
        {"360302001", "360302002001", false},
        //  A scope that is no code at all covers nothing.
        {"36030x", "360302001005", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        msg_actor_t admin = fx_admin ("region_admin", cases[i].scope);
        msg_project_create_t request = {
            .name = "文明实践", .category = "文明创建", .region = (char *) cases[i].region};
        msg_project_t project;
        st_error_t err;
        st_status_t rc = fx_call_msg ("match", &admin, "project.create", &request, &project, &err);
        char what[96];
        snprintf (what, sizeof what, "scope %s acting in %s", cases[i].scope, cases[i].region);
        if (cases[i].allowed && rc != ST_OK)
            fail_msg ("%s: refused: %s", what, err.message);
        //  A scope that is no whole code is refused before the op runs, naming the actor's.
        bool whole = st_region_level (cases[i].scope) >= 0;
        if (!cases[i].allowed)
            fx_expect (what, rc, &err, ST_PERMISSION_DENIED, whole ? "region" : "actor.region");
        st_msg_clear (&msg_project_desc, &project);
    }
    //  supply.stats counts a subtree with the same rule.
    fx_sql ("INSERT INTO match.supply (volunteer_id, name, region, status,"
            " registry_seq) VALUES (1, '甲', '360320001001', 'active', 1),"
            " (2, '乙', '360321001001', 'active', 1)");
    msg_supply_stats_t stats = {.region = "360320000000"};
    msg_supply_t supply;
    st_error_t err;
    assert_int_equal (fx_call_msg ("match", &FX_SYSTEM, "supply.stats", &stats, &supply, &err),
                      ST_OK);
    assert_int_equal (supply.volunteers, 1);
    stats.region = "360300000000";
    assert_int_equal (fx_call_msg ("match", &FX_SYSTEM, "supply.stats", &stats, &supply, &err),
                      ST_OK);
    assert_int_equal (supply.volunteers, 2);
    //  An official counts inside their scope only: their own subtree when they name none, a
    //  region of it when they do; outside it, or for a volunteer or a resident, nothing.
    msg_actor_t county = fx_admin ("region_admin", "360320000000");
    msg_supply_stats_t own = {0};
    assert_int_equal (fx_call_msg ("match", &county, "supply.stats", &own, &supply, &err), ST_OK);
    assert_int_equal (supply.volunteers, 1);
    stats.region = "360320001001";
    assert_int_equal (fx_call_msg ("match", &county, "supply.stats", &stats, &supply, &err), ST_OK);
    assert_int_equal (supply.volunteers, 1);
    stats.region = "360321000000";
    fx_expect ("a county counting its neighbour",
               fx_call_msg ("match", &county, "supply.stats", &stats, &supply, &err), &err,
               ST_PERMISSION_DENIED, "region");
    stats.region = "360300000000";
    fx_expect ("a county counting the city above it",
               fx_call_msg ("match", &county, "supply.stats", &stats, &supply, &err), &err,
               ST_PERMISSION_DENIED, "region");
    msg_actor_t volunteer = fx_volunteer ("1"), resident = fx_resident ("1");
    fx_expect ("a volunteer counting",
               fx_call_msg ("match", &volunteer, "supply.stats", &own, &supply, &err), &err,
               ST_PERMISSION_DENIED, "actor.role");
    fx_expect ("a resident counting",
               fx_call_msg ("match", &resident, "supply.stats", &stats, &supply, &err), &err,
               ST_PERMISSION_DENIED, "actor.role");
}

//  ---------------------------------------------------------------------------------------
//  activity.create and activity.get

//  Only what activity.create requires, by a team leader of the village.
static msg_activity_create_t
s_minimal (void)
{
    return (msg_activity_create_t){.title = "垃圾分类宣传",
                                   .category = "生态环保",
                                   .region = REGION,
                                   .starts_at = "2030-12-02T09:00:00+08:00",
                                   .ends_at = "2030-12-02T10:00:00+08:00",
                                   .capacity = 1,
                                   .has_capacity = true,
                                   .signup_closes_at = "2030-12-02T09:00:00+08:00"};
}

//  What the activity.create tests start from (registry and match, s_start_with_registry): a
//  project of the county (into *project) and two activities of it, one with every field (times
//  in two offsets, a site of the village) by the county's admin (into *full) and the minimal
//  one by a team leader of the village (into *minimal). The caller clears the three.
static void
s_create_two (msg_project_t *project, msg_activity_t *full, msg_activity_t *minimal)
{
    static char site[32];
    s_site_add (site);
    msg_actor_t county = fx_admin ("region_admin", "431022000000");
    msg_project_create_t project_request = {
        .name = "一月一主题", .category = "助老", .region = "431022000000"};
    st_error_t err;
    assert_int_equal (
        fx_call_msg ("match", &county, "project.create", &project_request, project, &err), ST_OK);
    char *skills[] = {"急救", "手语"};
    msg_activity_create_t request = {.title = "重阳节敬老院探访",
                                     .category = "助老",
                                     .theme = "孝老爱亲",
                                     .project_id = project->id,
                                     .site_id = site,
                                     .region = REGION,
                                     .starts_at = "2030-12-01T01:00:00Z",
                                     .ends_at = "2030-12-01T03:30:00.250Z",
                                     .capacity = 50,
                                     .has_capacity = true,
                                     .signup_closes_at = "2030-11-30T18:00:00+08:00",
                                     .min_stars = 2,
                                     .has_min_stars = true,
                                     .skills = {skills, 2},
                                     .has_skills = true,
                                     .insurance_required = true,
                                     .has_insurance_required = true};
    assert_int_equal (fx_call_msg ("match", &county, "activity.create", &request, full, &err),
                      ST_OK);
    msg_actor_t leader = fx_admin ("team_leader", REGION);
    msg_activity_create_t required = s_minimal ();
    assert_int_equal (fx_call_msg ("match", &leader, "activity.create", &required, minimal, &err),
                      ST_OK);
}

//  Releases what s_create_two filled.
static void
s_clear_two (msg_project_t *project, msg_activity_t *full, msg_activity_t *minimal)
{
    st_msg_clear (&msg_activity_desc, minimal);
    st_msg_clear (&msg_activity_desc, full);
    st_msg_clear (&msg_project_desc, project);
}

//  activity.create keeps every field given, times in any offset shown in Beijing time and
//  stored as the instant given; what is left out takes its default.
static void
test_activity_create (void **state)
{
    s_start_with_registry (state, "act_create");
    msg_project_t project;
    msg_activity_t activity, minimal;
    s_create_two (&project, &activity, &minimal);
    assert_string_equal (activity.title, "重阳节敬老院探访");
    assert_string_equal (activity.category, "助老");
    assert_string_equal (activity.theme, "孝老爱亲");
    assert_string_equal (activity.project_id, project.id);
    assert_string_equal (activity.site_id, fx_value ("SELECT max (id) FROM registry.sites"));
    assert_string_equal (activity.region, REGION);
    assert_string_equal (activity.starts_at, "2030-12-01T09:00:00+08:00");
    assert_string_equal (activity.ends_at, "2030-12-01T11:30:00+08:00");
    assert_string_equal (activity.signup_closes_at, "2030-11-30T18:00:00+08:00");
    assert_int_equal (activity.capacity, 50);
    assert_int_equal (activity.min_stars, 2);
    assert_int_equal (activity.skills.count, 2);
    assert_string_equal (activity.skills.items[0], "急救");
    assert_string_equal (activity.skills.items[1], "手语");
    assert_true (activity.insurance_required);
    assert_int_equal (activity.confirmed, 0);
    assert_int_equal (activity.waitlisted, 0);
    assert_string_equal (activity.status, "open");
    assert_null (activity.cancel_reason);
    //  Stored as the instant given, to the millisecond (activity.get shows whole seconds).
    assert_string_equal (fx_value ("SELECT extract (epoch FROM ends_at)::text"
                                   " FROM match.activities WHERE id = %s",
                                   activity.id),
                         "1922326200.250000");
    //  Only what is required: the defaults.
    assert_int_equal (minimal.min_stars, 0);
    assert_false (minimal.insurance_required);
    assert_int_equal (minimal.skills.count, 0);
    assert_null (minimal.theme);
    assert_null (minimal.project_id);
    s_clear_two (&project, &activity, &minimal);
}

//  activity.get: anyone signed in reads an activity; admins inside their scope only; an
//  unknown or malformed id is not found.
static void
test_activity_get (void **state)
{
    s_start_with_registry (state, "act_get");
    msg_project_t project;
    msg_activity_t activity, minimal;
    s_create_two (&project, &activity, &minimal);
    char *id = strdup (activity.id);
    s_clear_two (&project, &activity, &minimal);
    msg_activity_get_t get = {.id = id};
    msg_actor_t volunteer = fx_volunteer ("1");
    st_error_t err;
    assert_int_equal (fx_call_msg ("match", &volunteer, "activity.get", &get, &activity, &err),
                      ST_OK);
    assert_string_equal (activity.id, id);
    assert_string_equal (activity.starts_at, "2030-12-01T09:00:00+08:00");
    assert_int_equal (activity.capacity, 50);
    st_msg_clear (&msg_activity_desc, &activity);
    msg_actor_t other = fx_admin ("region_admin", "431021000000");
    st_status_t rc = fx_call_msg ("match", &other, "activity.get", &get, &activity, &err);
    fx_expect ("activity.get outside the scope", rc, &err, ST_PERMISSION_DENIED, "id");
    get.id = "999";
    rc = fx_call_msg ("match", &volunteer, "activity.get", &get, &activity, &err);
    fx_expect ("activity.get of no activity", rc, &err, ST_NOT_FOUND, "id");
    get.id = "12a";
    rc = fx_call_msg ("match", &volunteer, "activity.get", &get, &activity, &err);
    fx_expect ("activity.get of a malformed id", rc, &err, ST_NOT_FOUND, "id");
    get.id = id;
    rc = fx_call_msg ("match", NULL, "activity.get", &get, &activity, &err);
    fx_expect ("activity.get without an actor", rc, &err, ST_UNAUTHENTICATED, "actor");
    rc = fx_call_raw ("match", &volunteer, "activity.get", "{\"id\": 5}", NULL, &err);
    fx_expect ("activity.get with an integer id", rc, &err, ST_INVALID_ARGUMENT, "id");
    free (id);
}

//  Each activity created is an activity.created event, with what notify and ledger need.
static void
test_activity_created_event (void **state)
{
    s_start_with_registry (state, "act_created");
    msg_project_t project;
    msg_activity_t activity, minimal;
    s_create_two (&project, &activity, &minimal);
    json_t *created = fx_events_read ("activity.created");
    assert_int_equal (json_array_size (created), 2);
    json_t *first = json_array_get (created, 0);
    assert_string_equal (fx_str (first, "id"), activity.id);
    assert_string_equal (fx_str (first, "title"), "重阳节敬老院探访");
    assert_string_equal (fx_str (first, "region"), REGION);
    assert_string_equal (fx_str (first, "starts_at"), "2030-12-01T09:00:00+08:00");
    assert_string_equal (fx_str (first, "ends_at"), "2030-12-01T11:30:00+08:00");
    assert_string_equal (fx_str (first, "signup_closes_at"), "2030-11-30T18:00:00+08:00");
    assert_string_equal (fx_str (first, "project_id"), project.id);
    assert_int_equal (fx_int (first, "capacity"), 50);
    assert_int_equal (fx_int (first, "min_stars"), 2);
    assert_int_equal (json_array_size (json_object_get (first, "skills")), 2);
    assert_true (json_is_true (json_object_get (first, "insurance_required")));
    assert_string_equal (s_event_str (created, 1, "title"), "垃圾分类宣传");
    json_decref (created);
    s_clear_two (&project, &activity, &minimal);
}

//  Each bad activity.create body is answered with the field named, and wrong actors are
//  refused; none of them changes anything.
static void
test_activity_create_refused (void **state)
{
    s_start_with_registry (state, "act_refused");
    msg_project_t project;
    msg_activity_t activity, minimal;
    s_create_two (&project, &activity, &minimal);
    st_msg_clear (&msg_activity_desc, &minimal);
    st_msg_clear (&msg_activity_desc, &activity);
    msg_actor_t county = fx_admin ("region_admin", "431022000000");
    //  Bad bodies, each answered with the field named; the good one creates a third.
    s_case_t cases[] = {
        {"title", NULL, ST_INVALID_ARGUMENT, "title"},
        {"title", json_integer (7), ST_INVALID_ARGUMENT, "title"},
        {"title", json_string (""), ST_INVALID_ARGUMENT, "title"},
        {"title", s_long ("活", 101), ST_INVALID_ARGUMENT, "title"},
        {"category", NULL, ST_INVALID_ARGUMENT, "category"},
        {"theme", s_long ("题", 101), ST_INVALID_ARGUMENT, "theme"},
        {"project_id", json_string ("999"), ST_NOT_FOUND, "project_id"},
        {"project_id", json_string ("p-1"), ST_NOT_FOUND, "project_id"},
        {"project_id", json_integer (1), ST_INVALID_ARGUMENT, "project_id"},
        {"site_id", s_long ("9", 21), ST_INVALID_ARGUMENT, "site_id"},
        {"region", NULL, ST_INVALID_ARGUMENT, "region"},
        {"region", json_string ("4310221012"), ST_INVALID_ARGUMENT, "region"},
        {"region", json_string ("43102210120x"), ST_INVALID_ARGUMENT, "region"},
        {"region", json_string ("431021101203"), ST_PERMISSION_DENIED, "region"},
        {"capacity", NULL, ST_INVALID_ARGUMENT, "capacity"},
        {"capacity", json_string ("50"), ST_INVALID_ARGUMENT, "capacity"},
        {"capacity", json_real (2.5), ST_INVALID_ARGUMENT, "capacity"},
        {"capacity", json_integer (0), ST_INVALID_ARGUMENT, "capacity"},
        {"capacity", json_integer (-1), ST_INVALID_ARGUMENT, "capacity"},
        {"capacity", json_integer (10001), ST_INVALID_ARGUMENT, "capacity"},
        {"min_stars", json_integer (6), ST_INVALID_ARGUMENT, "min_stars"},
        {"min_stars", json_integer (-1), ST_INVALID_ARGUMENT, "min_stars"},
        {"skills", json_string ("急救"), ST_INVALID_ARGUMENT, "skills"},
        {"skills", json_pack ("[s,i]", "急救", 3), ST_INVALID_ARGUMENT, "skills[1]"},
        {"skills", json_pack ("[o]", s_long ("技", 33)), ST_INVALID_ARGUMENT, "skills[0]"},
        {"skills",
         json_pack ("[s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s]", "a", "b", "c", "d", "e", "f",
                    "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r", "s", "t", "u"),
         ST_INVALID_ARGUMENT, "skills"},
        {"insurance_required", json_string ("yes"), ST_INVALID_ARGUMENT, "insurance_required"},
        {"starts_at", NULL, ST_INVALID_ARGUMENT, "starts_at"},
        {"starts_at", json_integer (1922749200), ST_INVALID_ARGUMENT, "starts_at"},
        {"starts_at", json_string ("2030-12-01 09:00:00+08:00"), ST_INVALID_ARGUMENT, "starts_at"},
        {"starts_at", json_string ("2030-12-01T09:00:00"), ST_INVALID_ARGUMENT, "starts_at"},
        {"starts_at", json_string ("2030-12-01T09:00+08:00"), ST_INVALID_ARGUMENT, "starts_at"},
        {"starts_at", json_string ("2030-13-01T09:00:00+08:00"), ST_INVALID_ARGUMENT, "starts_at"},
        {"starts_at", json_string ("2031-02-29T09:00:00+08:00"), ST_INVALID_ARGUMENT, "starts_at"},
        {"starts_at", json_string ("2030-12-01T24:00:00+08:00"), ST_INVALID_ARGUMENT, "starts_at"},
        {"starts_at", json_string ("1999-12-01T09:00:00+08:00"), ST_INVALID_ARGUMENT, "starts_at"},
        {"starts_at", json_string ("2030-12-01T09:00:00+08:60"), ST_INVALID_ARGUMENT, "starts_at"},
        {"starts_at", json_string ("2030-12-01T09:00:00+0800"), ST_INVALID_ARGUMENT, "starts_at"},
        {"starts_at", json_string ("2030-12-01T09:00:00.+08:00"), ST_INVALID_ARGUMENT, "starts_at"},
        {"starts_at", json_string ("2030-12-01T09:00:00+08:00 "), ST_INVALID_ARGUMENT, "starts_at"},
        {"ends_at", json_string ("tomorrow"), ST_INVALID_ARGUMENT, "ends_at"},
        {"ends_at", json_string (""), ST_INVALID_ARGUMENT, "ends_at"},
        {"signup_closes_at", json_string ("2030-11-31T18:00:00+08:00"), ST_INVALID_ARGUMENT,
         "signup_closes_at"},
        //  The times together: the end after the start, sign-up closing no later than it.
        {"ends_at", json_string ("2030-12-01T08:00:00+08:00"), ST_INVALID_ARGUMENT, "ends_at"},
        {"ends_at", json_string ("2030-12-01T09:00:00+08:00"), ST_INVALID_ARGUMENT, "ends_at"},
        {"ends_at", json_string ("2030-12-01T09:30:00+09:00"), ST_INVALID_ARGUMENT, "ends_at"},
        {"signup_closes_at", json_string ("2030-12-01T09:00:01+08:00"), ST_INVALID_ARGUMENT,
         "signup_closes_at"},
        {"signup_closes_at", json_string ("2030-12-01T01:00:01Z"), ST_INVALID_ARGUMENT,
         "signup_closes_at"},
    };
    char good[512];
    snprintf (good, sizeof good,
              "{\"title\": \"义诊\", \"category\": \"卫生健康\", \"region\": \"%s\","
              " \"starts_at\": \"2030-12-01T09:00:00+08:00\","
              " \"ends_at\": \"2030-12-01T11:00:00+08:00\", \"capacity\": 10,"
              " \"signup_closes_at\": \"2030-12-01T09:00:00+08:00\", \"project_id\": \"%s\"}",
              REGION, project.id);
    s_bad_bodies ("activity.create", &county, good, cases, sizeof cases / sizeof cases[0]);
    assert_int_equal (fx_count ("SELECT count (*) FROM match.activities"), 3);

    //  Wrong actors with a good body.
    char *before = s_state ();
    struct {
        msg_actor_t actor;
        st_status_t code;
        const char *field;
    } actors[] = {
        {fx_volunteer ("1"), ST_PERMISSION_DENIED, "actor.role"},
        {fx_resident ("1"), ST_PERMISSION_DENIED, "actor.role"},
        {fx_admin ("region_admin", "431021000000"), ST_PERMISSION_DENIED, "region"},
        {fx_admin ("team_leader", "431022101204"), ST_PERMISSION_DENIED, "region"},
    };
    msg_activity_create_t required = s_minimal ();
    st_error_t err;
    for (size_t i = 0; i < sizeof actors / sizeof actors[0]; i++) {
        st_status_t rc =
            fx_call_msg ("match", &actors[i].actor, "activity.create", &required, &activity, &err);
        fx_expect (actors[i].actor.role, rc, &err, actors[i].code, actors[i].field);
    }
    st_status_t rc = fx_call_msg ("match", NULL, "activity.create", &required, &activity, &err);
    fx_expect ("no actor", rc, &err, ST_UNAUTHENTICATED, "actor");
    fx_unchanged (before, s_state (), "a refused activity.create");
    st_msg_clear (&msg_project_desc, &project);
}

//  ---------------------------------------------------------------------------------------
//  activity.update

//  activity.update: the fields given change and nothing else; a larger capacity confirms the
//  first in line in arrival order and each is told; a smaller one than those confirmed, an
//  end before the start, an activity of another region, one already started or cancelled,
//  and an update of nothing are refused naming the field and change nothing.
static void
test_update_activity (void **state)
{
    s_start (state, "act_update");
    s_supply (1, 5, "{}", 0, "NULL");
    s_plan_t plan = {.capacity = 2, .closes_in = 6 * 86400};
    char *id = s_activity ("社区义诊", &plan);
    for (int v = 1; v <= 5; v++) {
        char volunteer[4];
        snprintf (volunteer, sizeof volunteer, "%d", v);
        s_signup_as (id, volunteer, v <= 2 ? "confirmed" : "waitlisted", v <= 2 ? 0 : v - 2);
    }
    msg_activity_t activity;
    st_error_t err;
    msg_actor_t township = fx_admin ("region_admin", "431022101000");
    char *before = s_state ();
    struct {
        const char *what;
        const char *body;
        const msg_actor_t *actor;
        st_status_t code;
        const char *field;
    } refused[] = {
        {"a capacity below those confirmed", "{\"capacity\": 1}", &township, ST_FAILED_PRECONDITION,
         "capacity"},
        {"an end before the start", "{\"ends_at\": \"2020-01-01T08:00:00+08:00\"}", &township,
         ST_INVALID_ARGUMENT, "ends_at"},
        {"a start in the past", "{\"starts_at\": \"2020-01-01T08:00:00+08:00\"}", &township,
         ST_INVALID_ARGUMENT, "starts_at"},
        {"a latitude without longitude", "{\"lat\": 25.1}", &township, ST_INVALID_ARGUMENT, "lon"},
        {"nothing to change", "{}", &township, ST_INVALID_ARGUMENT, "id"},
        {"a capacity of zero", "{\"capacity\": 0}", &township, ST_INVALID_ARGUMENT, "capacity"},
        {"another county's admin", "{\"capacity\": 9}", NULL, ST_PERMISSION_DENIED, "id"},
    };
    msg_actor_t stranger = fx_admin ("region_admin", "431021000000");
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        json_t *body = json_loads (refused[i].body, 0, NULL);
        json_object_set_new (body, "id", json_string (id));
        char *text = s_dump (body);
        st_status_t rc = fx_call_raw ("match", refused[i].actor ? refused[i].actor : &stranger,
                                      "activity.update", text, NULL, &err);
        free (text);
        fx_expect (refused[i].what, rc, &err, refused[i].code, refused[i].field);
    }
    fx_unchanged (before, s_state (), "a refused activity.update");

    //  Two more places and a new place: volunteers 3 and 4 move up, 5 stays first in line.
    msg_activity_update_t update = {.id = id,
                                    .capacity = 4,
                                    .has_capacity = true,
                                    .lat = 25.40,
                                    .has_lat = true,
                                    .lon = 112.95,
                                    .has_lon = true,
                                    .reason = "场地扩大"};
    assert_int_equal (fx_call_msg ("match", &township, "activity.update", &update, &activity, &err),
                      ST_OK);
    assert_int_equal (activity.capacity, 4);
    assert_int_equal (activity.confirmed, 4);
    assert_int_equal (activity.waitlisted, 1);
    assert_string_equal (activity.title, "社区义诊");
    assert_true (activity.has_lat && activity.lat == 25.40);
    st_msg_clear (&msg_activity_desc, &activity);
    s_assert_counts (id, 4, 1);
    assert_string_equal (fx_value ("SELECT string_agg (volunteer_id::text || ':' ||"
                                   " status, ' ' ORDER BY arrival)"
                                   " FROM match.signups"),
                         "1:confirmed 2:confirmed 3:confirmed 4:confirmed 5:waitlisted");
    json_t *promoted = fx_events_read ("signup.promoted");
    assert_int_equal (json_array_size (promoted), 2);
    assert_string_equal (fx_str (json_array_get (promoted, 0), "volunteer_id"), "3");
    assert_string_equal (fx_str (json_array_get (promoted, 1), "volunteer_id"), "4");
    json_decref (promoted);
    json_t *changed = fx_events_read ("activity.changed");
    assert_int_equal (json_array_size (changed), 1);
    json_t *fields = json_object_get (json_array_get (changed, 0), "changed");
    assert_int_equal (json_array_size (fields), 2);
    assert_string_equal (json_string_value (json_array_get (fields, 0)), "capacity");
    assert_string_equal (json_string_value (json_array_get (fields, 1)), "place");
    assert_string_equal (fx_str (json_array_get (changed, 0), "reason"), "场地扩大");
    assert_int_equal (fx_int (json_array_get (changed, 0), "confirmed"), 4);
    json_decref (changed);

    //  A new title only: the times stay.
    char starts_before[64];
    s_get (id, &activity);
    snprintf (starts_before, sizeof starts_before, "%s", activity.starts_at);
    st_msg_clear (&msg_activity_desc, &activity);
    msg_activity_update_t rename = {.id = id, .title = "社区义诊 (二期)"};
    assert_int_equal (fx_call_msg ("match", &township, "activity.update", &rename, &activity, &err),
                      ST_OK);
    assert_string_equal (activity.title, "社区义诊 (二期)");
    assert_int_equal (activity.capacity, 4);
    assert_string_equal (activity.starts_at, starts_before);
    st_msg_clear (&msg_activity_desc, &activity);
    s_get (id, &activity);
    assert_string_equal (activity.starts_at, starts_before);
    st_msg_clear (&msg_activity_desc, &activity);

    //  Started, it can no longer change.
    fx_sql ("UPDATE match.activities SET signup_closes_at = now () - interval '2 h',"
            " starts_at = now () - interval '1 hour'");
    before = s_state ();
    assert_int_equal (fx_call_msg ("match", &township, "activity.update", &rename, &activity, &err),
                      ST_FAILED_PRECONDITION);
    assert_string_equal (err.field, "starts_at");
    fx_unchanged (before, s_state (), "updating a started activity");
    free (id);
}

//  ---------------------------------------------------------------------------------------
//  activity.signup: who may sign up, and who may not

//  Every reason a sign-up is refused, each naming its field and changing nothing.
static void
test_signup_rules (void **state)
{
    s_start (state, "act_rules");
    s_supply (1, 1, "{急救,手语,驾驶}", 3, "current_date + 365");
    s_supply (2, 1, "{急救}", 3, "current_date + 365");
    s_supply (3, 1, "{急救,手语}", 1, "current_date + 365");
    s_supply (4, 1, "{急救,手语}", 3, "NULL");
    s_supply (5, 1, "{急救,手语}", 3, "current_date");
    s_supply (6, 1, "{急救,手语}", 3, "current_date + 365");
    fx_sql ("UPDATE match.supply SET status = 'suspended' WHERE volunteer_id = 6");
    char *skills[] = {"急救", "手语"};
    s_plan_t plan = {.capacity = 10,
                     .min_stars = 2,
                     .skills = skills,
                     .skill_count = 2,
                     .insurance = true,
                     .closes_in = 6 * 86400};
    char *open = s_activity ("应急救护培训", &plan);
    s_plan_t plain = {.capacity = 10, .closes_in = -3600};
    char *closed = s_activity ("报名已截止的活动", &plain);
    plain.closes_in = 6 * 86400;
    char *cancelled = s_activity ("取消的活动", &plain);
    msg_activity_cancel_t cancel = {.id = cancelled};
    msg_activity_t activity;
    st_error_t err;
    assert_int_equal (
        fx_call_msg ("match", &FX_SYSTEM, "activity.cancel", &cancel, &activity, &err), ST_OK);
    st_msg_clear (&msg_activity_desc, &activity);

    //  Volunteer 5's insurance ends the day before the activity does.
    char sql[512];
    snprintf (sql, sizeof sql,
              "UPDATE match.supply SET insurance_until = (SELECT (ends_at AT TIME ZONE"
              " 'Asia/Shanghai')::date - 1 FROM match.activities WHERE id = %s)"
              " WHERE volunteer_id = 5",
              open);
    fx_sql ("%s", sql);
    s_signup_as (open, "1", "confirmed", 0);
    char *before = s_state ();
    msg_signup_t reply;
    struct {
        const char *activity;
        msg_actor_t actor;
        st_status_t code;
        const char *field;
        const char *says; //  what the message must mention
    } cases[] = {
        {open, fx_volunteer ("1"), ST_CONFLICT, "activity_id", "already signed up"},
        {open, fx_volunteer ("2"), ST_FAILED_PRECONDITION, "skills", "手语"},
        {open, fx_volunteer ("3"), ST_FAILED_PRECONDITION, "min_stars", "stars"},
        {open, fx_volunteer ("4"), ST_FAILED_PRECONDITION, "insurance_required", "none"},
        {open, fx_volunteer ("5"), ST_FAILED_PRECONDITION, "insurance_required", "until"},
        {open, fx_volunteer ("6"), ST_FAILED_PRECONDITION, "actor.volunteer_id", "suspended"},
        {open, fx_volunteer ("99"), ST_FAILED_PRECONDITION, "actor.volunteer_id", "not known"},
        {closed, fx_volunteer ("1"), ST_FAILED_PRECONDITION, "signup_closes_at", "closed"},
        {cancelled, fx_volunteer ("1"), ST_FAILED_PRECONDITION, "status", "cancelled"},
        {"999", fx_volunteer ("1"), ST_NOT_FOUND, "activity_id", "999"},
        {"abc", fx_volunteer ("1"), ST_NOT_FOUND, "activity_id", "abc"},
        {open, fx_resident ("1"), ST_PERMISSION_DENIED, "actor.role", "resident"},
        {open, fx_admin ("region_admin", "431022000000"), ST_PERMISSION_DENIED, "actor.role", ""},
        {open, fx_volunteer (NULL), ST_INVALID_ARGUMENT, "actor.volunteer_id", ""},
        {open, fx_volunteer ("v7"), ST_INVALID_ARGUMENT, "actor.volunteer_id", ""},
        {open, FX_SYSTEM, ST_INVALID_ARGUMENT, "actor.volunteer_id", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        msg_activity_signup_t request = {.activity_id = (char *) cases[i].activity};
        st_status_t rc =
            fx_call_msg ("match", &cases[i].actor, "activity.signup", &request, &reply, &err);
        char what[64];
        snprintf (what, sizeof what, "sign-up case %zu", i);
        fx_expect (what, rc, &err, cases[i].code, cases[i].field);
        if (!strstr (err.message, cases[i].says))
            fail_msg ("%s: \"%s\" does not say \"%s\"", what, err.message, cases[i].says);
    }
    msg_activity_signup_t request = {.activity_id = open};
    st_status_t rc = fx_call_msg ("match", NULL, "activity.signup", &request, &reply, &err);
    fx_expect ("no actor", rc, &err, ST_UNAUTHENTICATED, "actor");
    msg_actor_t v2 = fx_volunteer ("2");
    s_case_t bodies[] = {
        {"activity_id", NULL, ST_INVALID_ARGUMENT, "activity_id"},
        {"activity_id", json_integer (1), ST_INVALID_ARGUMENT, "activity_id"},
        {"activity_id", json_string (""), ST_INVALID_ARGUMENT, "activity_id"},
        {"activity_id", s_long ("1", 21), ST_INVALID_ARGUMENT, "activity_id"},
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        json_t *body = json_pack ("{s:s}", "activity_id", open);
        if (bodies[i].value)
            json_object_set_new (body, "activity_id", bodies[i].value);
        else
            json_object_del (body, "activity_id");
        char *text = s_dump (body);
        rc = fx_call_raw ("match", &v2, "activity.signup", text, NULL, &err);
        free (text);
        fx_expect ("a bad sign-up body", rc, &err, bodies[i].code, bodies[i].field);
    }
    //  Withdrawing what one never signed up for.
    rc = s_signup ("activity.withdraw", open, "2", &reply, &err);
    fx_expect ("withdraw without a sign-up", rc, &err, ST_NOT_FOUND, "activity_id");
    rc = s_signup ("activity.withdraw", "999", "1", &reply, &err);
    fx_expect ("withdraw from no activity", rc, &err, ST_NOT_FOUND, "activity_id");
    rc = s_signup ("activity.withdraw", closed, "1", &reply, &err);
    fx_expect ("withdraw from another activity", rc, &err, ST_NOT_FOUND, "activity_id");
    fx_unchanged (before, s_state (), "a refused sign-up");
    s_assert_counts (open, 1, 0);

    //  The checks hold exactly at their edges: the stars asked for, insurance through the
    //  activity's last day, every skill.
    fx_sql ("UPDATE match.supply SET stars = 2 WHERE volunteer_id = 3");
    s_signup_as (open, "3", "confirmed", 0);
    snprintf (sql, sizeof sql,
              "UPDATE match.supply SET insurance_until = (SELECT (ends_at AT TIME ZONE"
              " 'Asia/Shanghai')::date FROM match.activities WHERE id = %s)"
              " WHERE volunteer_id IN (4, 5)",
              open);
    fx_sql ("%s", sql);
    s_signup_as (open, "4", "confirmed", 0);
    s_signup_as (open, "5", "confirmed", 0);
    fx_sql ("UPDATE match.supply SET skills = '{急救,手语}' WHERE volunteer_id = 2");
    s_signup_as (open, "2", "confirmed", 0);
    s_assert_counts (open, 5, 0);
    free (open);
    free (closed);
    free (cancelled);
}

//  ---------------------------------------------------------------------------------------
//  The waitlist: arrival order, withdrawals and promotion, idempotent retries

//  Confirmed up to capacity, then waitlisted in order; a freed place goes to the first.
static void
test_waitlist_and_withdraw (void **state)
{
    s_start (state, "act_waitlist");
    s_supply (1, 6, "{}", 0, "NULL");
    s_plan_t plan = {.capacity = 2, .closes_in = 6 * 86400};
    char *id = s_activity ("社区义诊", &plan);
    s_signup_as (id, "1", "confirmed", 0);
    s_signup_as (id, "2", "confirmed", 0);
    s_signup_as (id, "3", "waitlisted", 1);
    s_signup_as (id, "4", "waitlisted", 2);
    s_signup_as (id, "5", "waitlisted", 3);
    s_assert_counts (id, 2, 3);

    //  A waitlisted volunteer leaves: nobody moves up, those behind move forward.
    msg_signup_t reply;
    st_error_t err;
    assert_int_equal (s_signup ("activity.withdraw", id, "4", &reply, &err), ST_OK);
    assert_string_equal (reply.status, "cancelled");
    st_msg_clear (&msg_signup_desc, &reply);
    s_assert_counts (id, 2, 2);
    //  A confirmed one leaves: the first on the waitlist takes the place.
    assert_int_equal (s_signup ("activity.withdraw", id, "1", &reply, &err), ST_OK);
    st_msg_clear (&msg_signup_desc, &reply);
    s_assert_counts (id, 2, 1);
    assert_string_equal (fx_value ("SELECT string_agg (volunteer_id::text || ':' ||"
                                   " status, ' ' ORDER BY arrival)"
                                   " FROM match.signups"),
                         "1:cancelled 2:confirmed 3:confirmed 4:cancelled 5:waitlisted");
    st_status_t rc = s_signup ("activity.withdraw", id, "1", &reply, &err);
    fx_expect ("withdrawing twice", rc, &err, ST_NOT_FOUND, "activity_id");
    //  Back again: at the end of the line.
    s_signup_as (id, "1", "waitlisted", 2);
    s_assert_counts (id, 2, 2);

    //  A retried sign-up (same request id) takes effect once and gets the same answer.
    uint8_t request_id[16] = {0x51, 0x6e, 6};
    msg_actor_t six = fx_volunteer ("6");
    char body[64];
    snprintf (body, sizeof body, "{\"activity_id\": \"%s\"}", id);
    json_t *first, *second;
    assert_int_equal (
        fx_call_id ("match", &six, "activity.signup", body, request_id, FX_CALL_MS, &first, &err),
        ST_OK);
    assert_int_equal (
        fx_call_id ("match", &six, "activity.signup", body, request_id, FX_CALL_MS, &second, &err),
        ST_OK);
    assert_string_equal (fx_str (first, "status"), "waitlisted");
    assert_int_equal (fx_int (first, "position"), 3);
    assert_string_equal (fx_str (second, "status"), fx_str (first, "status"));
    assert_int_equal (fx_int (second, "position"), fx_int (first, "position"));
    json_decref (first);
    json_decref (second);
    assert_int_equal (fx_count ("SELECT count (*) FROM match.signups WHERE volunteer_id = 6"), 1);

    //  The events, in order, with what a notice needs.
    json_t *events = fx_events_read ("signup.confirmed");
    assert_int_equal (json_array_size (events), 2);
    assert_string_equal (s_event_str (events, 0, "volunteer_id"), "1");
    assert_string_equal (s_event_str (events, 1, "volunteer_id"), "2");
    assert_string_equal (s_event_str (events, 0, "activity_id"), id);
    assert_string_equal (s_event_str (events, 0, "title"), "社区义诊");
    assert_string_equal (s_event_str (events, 0, "region"), REGION);
    assert_non_null (strstr (s_event_str (events, 0, "starts_at"), "+08:00"));
    assert_non_null (strstr (s_event_str (events, 0, "ends_at"), "+08:00"));
    assert_string_equal (s_event_str (events, 0, "status"), "confirmed");
    json_decref (events);
    events = fx_events_read ("signup.waitlisted");
    assert_int_equal (json_array_size (events), 5);
    const char *waited[] = {"3", "4", "5", "1", "6"};
    const int64_t positions[] = {1, 2, 3, 2, 3};
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal (s_event_str (events, i, "volunteer_id"), waited[i]);
        assert_int_equal (s_event_int (events, i, "position"), positions[i]);
        assert_string_equal (s_event_str (events, i, "status"), "waitlisted");
    }
    json_decref (events);
    events = fx_events_read ("signup.cancelled");
    assert_int_equal (json_array_size (events), 2);
    assert_string_equal (s_event_str (events, 0, "volunteer_id"), "4");
    assert_string_equal (s_event_str (events, 1, "volunteer_id"), "1");
    assert_string_equal (s_event_str (events, 0, "reason"), "withdrawn");
    assert_string_equal (s_event_str (events, 1, "status"), "cancelled");
    json_decref (events);
    events = fx_events_read ("signup.promoted");
    assert_int_equal (json_array_size (events), 1);
    assert_string_equal (s_event_str (events, 0, "volunteer_id"), "3");
    assert_string_equal (s_event_str (events, 0, "status"), "confirmed");
    assert_string_equal (s_event_str (events, 0, "title"), "社区义诊");
    json_decref (events);
    free (id);
}

//  ---------------------------------------------------------------------------------------
//  activity.cancel: everyone signed up is told

//  Cancelling tells everyone signed up, and nothing more happens to the activity.
static void
test_cancel_activity (void **state)
{
    s_start (state, "act_cancel");
    s_supply (1, 4, "{}", 0, "NULL");
    s_plan_t plan = {.capacity = 2, .closes_in = 6 * 86400};
    char *id = s_activity ("河道清理", &plan);
    s_signup_as (id, "1", "confirmed", 0);
    s_signup_as (id, "2", "confirmed", 0);
    s_signup_as (id, "3", "waitlisted", 1);
    s_signup_as (id, "4", "waitlisted", 2);
    msg_signup_t signup;
    st_error_t err;
    assert_int_equal (s_signup ("activity.withdraw", id, "4", &signup, &err), ST_OK);
    st_msg_clear (&msg_signup_desc, &signup);

    char *before = s_state ();
    msg_activity_cancel_t request = {.id = id, .reason = "暴雨预警"};
    msg_activity_t activity;
    struct {
        msg_actor_t actor;
        st_status_t code;
        const char *field;
    } actors[] = {
        {fx_volunteer ("1"), ST_PERMISSION_DENIED, "actor.role"},
        {fx_resident ("1"), ST_PERMISSION_DENIED, "actor.role"},
        {fx_admin ("region_admin", "431021000000"), ST_PERMISSION_DENIED, "id"},
        {fx_admin ("station_admin", "431022101204"), ST_PERMISSION_DENIED, "id"},
    };
    for (size_t i = 0; i < sizeof actors / sizeof actors[0]; i++) {
        st_status_t rc =
            fx_call_msg ("match", &actors[i].actor, "activity.cancel", &request, &activity, &err);
        fx_expect (actors[i].actor.role, rc, &err, actors[i].code, actors[i].field);
    }
    st_status_t rc = fx_call_msg ("match", NULL, "activity.cancel", &request, &activity, &err);
    fx_expect ("no actor", rc, &err, ST_UNAUTHENTICATED, "actor");
    msg_actor_t township = fx_admin ("region_admin", "431022101000");
    msg_activity_cancel_t nothing = {.id = "999"};
    rc = fx_call_msg ("match", &township, "activity.cancel", &nothing, &activity, &err);
    fx_expect ("cancelling no activity", rc, &err, ST_NOT_FOUND, "id");
    char *body = s_dump (json_pack ("{s:s,s:o}", "id", id, "reason", s_long ("雨", 201)));
    rc = fx_call_raw ("match", &township, "activity.cancel", body, NULL, &err);
    free (body);
    fx_expect ("a reason too long", rc, &err, ST_INVALID_ARGUMENT, "reason");
    rc = fx_call_raw ("match", &township, "activity.cancel", "{\"id\": 1}", NULL, &err);
    fx_expect ("an integer id", rc, &err, ST_INVALID_ARGUMENT, "id");
    fx_unchanged (before, s_state (), "a refused activity.cancel");

    //  The township's admin cancels it.
    assert_int_equal (
        fx_call_msg ("match", &township, "activity.cancel", &request, &activity, &err), ST_OK);
    assert_string_equal (activity.status, "cancelled");
    assert_string_equal (activity.cancel_reason, "暴雨预警");
    assert_int_equal (activity.confirmed, 0);
    assert_int_equal (activity.waitlisted, 0);
    st_msg_clear (&msg_activity_desc, &activity);
    assert_string_equal (fx_value ("SELECT string_agg (volunteer_id::text || ':' ||"
                                   " cancel_reason, ' ' ORDER BY arrival)"
                                   " FROM match.signups"),
                         "1:activity_cancelled 2:activity_cancelled 3:activity_cancelled"
                         " 4:withdrawn");

    //  Everyone who was signed up is told; the one who had withdrawn is not told again.
    json_t *cancelled = fx_events_read ("activity.cancelled");
    assert_int_equal (json_array_size (cancelled), 1);
    assert_string_equal (s_event_str (cancelled, 0, "id"), id);
    assert_string_equal (s_event_str (cancelled, 0, "title"), "河道清理");
    assert_string_equal (s_event_str (cancelled, 0, "reason"), "暴雨预警");
    assert_string_equal (s_event_str (cancelled, 0, "region"), REGION);
    assert_int_equal (s_event_int (cancelled, 0, "confirmed"), 2);
    assert_int_equal (s_event_int (cancelled, 0, "waitlisted"), 1);
    json_decref (cancelled);
    json_t *told = fx_events_read ("signup.cancelled");
    assert_int_equal (json_array_size (told), 4);
    assert_string_equal (s_event_str (told, 0, "reason"), "withdrawn");
    for (size_t i = 1; i < 4; i++) {
        char volunteer[4];
        snprintf (volunteer, sizeof volunteer, "%zu", i);
        assert_string_equal (s_event_str (told, i, "volunteer_id"), volunteer);
        assert_string_equal (s_event_str (told, i, "reason"), "activity_cancelled");
        assert_string_equal (s_event_str (told, i, "title"), "河道清理");
        assert_string_equal (s_event_str (told, i, "activity_id"), id);
    }
    json_decref (told);

    //  Nothing more happens to a cancelled activity.
    before = s_state ();
    rc = fx_call_msg ("match", &township, "activity.cancel", &request, &activity, &err);
    fx_expect ("cancelling twice", rc, &err, ST_FAILED_PRECONDITION, "status");
    assert_non_null (strstr (err.message, "cancelled"));
    rc = s_signup ("activity.signup", id, "4", &signup, &err);
    fx_expect ("signing up for a cancelled activity", rc, &err, ST_FAILED_PRECONDITION, "status");
    rc = s_signup ("activity.withdraw", id, "1", &signup, &err);
    fx_expect ("withdrawing from a cancelled activity", rc, &err, ST_FAILED_PRECONDITION, "status");
    fx_unchanged (before, s_state (), "an op on a cancelled activity");

    //  An activity that is over cannot be cancelled.
    char starts_at[40], ends_at[40], closes_at[40];
    s_time (starts_at, -2 * 86400);
    s_time (ends_at, -86400);
    s_time (closes_at, -3 * 86400);
    msg_activity_create_t past = {.title = "上周的活动",
                                  .category = "助老",
                                  .region = REGION,
                                  .starts_at = starts_at,
                                  .ends_at = ends_at,
                                  .capacity = 5,
                                  .has_capacity = true,
                                  .signup_closes_at = closes_at};
    assert_int_equal (fx_call_msg ("match", &township, "activity.create", &past, &activity, &err),
                      ST_OK);
    msg_activity_cancel_t over = {.id = activity.id};
    msg_activity_t refused;
    before = s_state ();
    rc = fx_call_msg ("match", &township, "activity.cancel", &over, &refused, &err);
    fx_expect ("cancelling an activity that is over", rc, &err, ST_FAILED_PRECONDITION, "ends_at");
    fx_unchanged (before, s_state (), "cancelling an activity that is over");
    st_msg_clear (&msg_activity_desc, &activity);
    free (id);
}

//  ---------------------------------------------------------------------------------------
//  A confirmed sign-up is a commitment of the activity's time

//  Creates an activity as the system from `from` to `to` seconds from now; its id (the
//  caller frees it).
static char *
s_activity_at (const char *title, int64_t from, int64_t to, int64_t capacity)
{
    char starts_at[40], ends_at[40], closes_at[40];
    s_time (starts_at, from);
    s_time (ends_at, to);
    s_time (closes_at, from - 86400);
    msg_activity_create_t request = {.title = (char *) title,
                                     .category = "助老",
                                     .region = REGION,
                                     .starts_at = starts_at,
                                     .ends_at = ends_at,
                                     .capacity = capacity,
                                     .has_capacity = true,
                                     .signup_closes_at = closes_at};
    msg_activity_t activity;
    st_error_t err;
    if (fx_call_msg ("match", &FX_SYSTEM, "activity.create", &request, &activity, &err) != ST_OK)
        fail_msg ("could not create an activity: %s", err.message);
    char *id = strdup (activity.id);
    st_msg_clear (&msg_activity_desc, &activity);
    return id;
}

//  The commitments of activity `id` as "volunteer:whether over the activity's time", by
//  volunteer.
static const char *
s_commitments (const char *id)
{
    return fx_value ("SELECT coalesce (string_agg (c.volunteer_id || ':'"
                     " || (c.during = tstzrange (a.starts_at, a.ends_at)), ' '"
                     " ORDER BY c.volunteer_id), '')"
                     " FROM match.commitments c JOIN match.activities a ON a.id = c.activity_id"
                     " WHERE c.activity_id = %s",
                     id);
}

//  Confirming, promoting, withdrawing, moving and cancelling keep the commitments exactly the
//  confirmed sign-ups, over the activity's time as it stands; a volunteer confirmed for one
//  activity cannot sign up for another at an overlapping time, nor can the other be moved
//  onto it.
static void
test_signup_commitments (void **state)
{
    s_start (state, "act_commit");
    s_supply (1, 3, "{}", 0, "NULL");
    char *morning = s_activity_at ("晨练", 7 * 86400, 7 * 86400 + 7200, 1);
    char *evening = s_activity_at ("晚会", 7 * 86400 + 7200, 7 * 86400 + 10800, 5);
    s_signup_as (morning, "1", "confirmed", 0);
    s_signup_as (morning, "2", "waitlisted", 1);
    s_signup_as (evening, "1", "confirmed", 0);
    assert_string_equal (s_commitments (morning), "1:true");
    assert_string_equal (s_commitments (evening), "1:true");
    //  Back to back is no overlap; the same time is.
    char *overlapping = s_activity_at ("重叠", 7 * 86400 + 3600, 7 * 86400 + 9000, 5);
    msg_signup_t reply;
    st_error_t err;
    char *before = s_state ();
    fx_expect ("a sign-up over two confirmed ones",
               s_signup ("activity.signup", overlapping, "1", &reply, &err), &err, ST_CONFLICT,
               "activity_id");
    assert_non_null (strstr (err.message, "activity"));
    fx_unchanged (before, s_state (), "a sign-up over a confirmed one");

    //  Promoted, the next one is committed; the one who left is not.
    assert_int_equal (s_signup ("activity.withdraw", morning, "1", &reply, &err), ST_OK);
    st_msg_clear (&msg_signup_desc, &reply);
    assert_string_equal (s_commitments (morning), "2:true");

    //  Moved, the commitments move with it; moved onto another of its volunteers' times,
    //  it is refused naming the volunteer and what they are committed to.
    char starts_at[40], ends_at[40];
    s_time (starts_at, 8 * 86400);
    s_time (ends_at, 8 * 86400 + 3600);
    msg_actor_t township = fx_admin ("region_admin", "431022101000");
    msg_activity_update_t move = {.id = morning, .starts_at = starts_at, .ends_at = ends_at};
    msg_activity_t activity;
    if (fx_call_msg ("match", &township, "activity.update", &move, &activity, &err) != ST_OK)
        fail_msg ("moving an activity: %s", err.message);
    st_msg_clear (&msg_activity_desc, &activity);
    assert_string_equal (s_commitments (morning), "2:true");
    s_signup_as (evening, "2", "confirmed", 0);
    s_time (starts_at, 7 * 86400 + 7200);
    s_time (ends_at, 7 * 86400 + 9000);
    before = s_state ();
    fx_expect ("moving an activity onto its volunteer's other one",
               fx_call_msg ("match", &township, "activity.update", &move, &activity, &err), &err,
               ST_CONFLICT, "starts_at");
    char says[64];
    snprintf (says, sizeof says, "activity %s", evening);
    if (!strstr (err.message, says) || !strstr (err.message, "\"2\""))
        fail_msg ("\"%s\" does not name volunteer \"2\" and %s", err.message, says);
    fx_unchanged (before, s_state (), "a move onto a volunteer's other activity");

    //  Cancelled, nobody is committed any more.
    msg_activity_cancel_t cancel = {.id = evening};
    assert_int_equal (fx_call_msg ("match", &township, "activity.cancel", &cancel, &activity, &err),
                      ST_OK);
    st_msg_clear (&msg_activity_desc, &activity);
    assert_string_equal (s_commitments (evening), "");
    assert_int_equal (fx_count ("SELECT count (*) FROM match.commitments"), 1);
    free (morning);
    free (evening);
    free (overlapping);
}

//  ---------------------------------------------------------------------------------------
//  The sign-up rush at the SQL level: concurrent transactions from several connections, as
//  role match, calling the function the handler calls

#define RUSH_VOLUNTEERS 200
#define RUSH_PLACES     50
#define RUSH_THREADS    25
#define RUSH_EACH       (RUSH_VOLUNTEERS / RUSH_THREADS)

typedef struct {
    char conninfo[800];
    const char *activity;
    int first; //  the first of this thread's volunteers
    pthread_barrier_t *start;
    char status[RUSH_EACH][16];
    long long position[RUSH_EACH];
    char error[512];
} s_sql_signer_t;

//  Runs a statement with parameters a and b in its own transaction, as the rpc server runs a
//  write op, then `then` (plain SQL, or NULL) before the commit; copies the first row's
//  values into out[] (up to `columns`). Returns false with `error` filled.
static bool
s_sql_transaction (PGconn *conn, const char *sql, const char *a, const char *b, const char *then,
                   char out[][16], int columns, char *error, size_t error_size)
{
    const char *values[] = {a, b};
    const char *step = "BEGIN";
    PGresult *res = PQexec (conn, "BEGIN");
    bool ok = PQresultStatus (res) == PGRES_COMMAND_OK;
    if (ok) {
        PQclear (res);
        step = sql;
        res = PQexecParams (conn, sql, 2, NULL, values, NULL, NULL, 0);
        ok = PQresultStatus (res) == PGRES_TUPLES_OK && PQntuples (res) == 1;
        for (int i = 0; ok && i < columns; i++)
            snprintf (out[i], 16, "%s", PQgetvalue (res, 0, i));
    }
    if (ok && then) {
        PQclear (res);
        step = then;
        res = PQexec (conn, then);
        ok = PQresultStatus (res) == PGRES_TUPLES_OK;
    }
    if (ok) {
        PQclear (res);
        step = "COMMIT";
        res = PQexec (conn, "COMMIT");
        ok = PQresultStatus (res) == PGRES_COMMAND_OK;
    }
    //  What went wrong is read before the rollback, which would clear it.
    if (!ok)
        snprintf (error, error_size, "%s: %s (%s)", step, PQresultErrorMessage (res),
                  PQresStatus (PQresultStatus (res)));
    PQclear (res);
    if (!ok)
        PQclear (PQexec (conn, "ROLLBACK"));
    return ok;
}

//  A thread of the SQL rush: connects as match, waits for the others, then signs its
//  volunteers up one after another, each in its own transaction.
static void *
s_sql_signer (void *arg)
{
    s_sql_signer_t *self = arg;
    PGconn *conn = PQconnectdb (self->conninfo);
    if (PQstatus (conn) != CONNECTION_OK)
        snprintf (self->error, sizeof self->error, "could not connect: %s", PQerrorMessage (conn));
    pthread_barrier_wait (self->start);
    for (int i = 0; i < RUSH_EACH && !self->error[0]; i++) {
        char volunteer[16], out[2][16];
        snprintf (volunteer, sizeof volunteer, "%d", self->first + i);
        if (s_sql_transaction (conn,
                               "SELECT outcome, coalesce (queue_position, 0)"
                               " FROM activity_signup ($1, $2)",
                               self->activity, volunteer, NULL, out, 2, self->error,
                               sizeof self->error)) {
            snprintf (self->status[i], sizeof self->status[i], "%s", out[0]);
            self->position[i] = atoll (out[1]);
        }
    }
    PQfinish (conn);
    return NULL;
}

//  The connection string for role match in its own schema (its password from PGPASSFILE).
static void
s_match_conninfo (char *out, size_t size)
{
    snprintf (out, size, "%s user=match options='-c search_path=match'",
              harness_conninfo (fx_harness ()));
}

//  Checks the outcome of a rush of RUSH_VOLUNTEERS for RUSH_PLACES: exactly the places
//  confirmed, the rest waitlisted, each waitlist position given once, and each one in
//  arrival order (the database's arrival numbers). status[v - 1], position[v - 1] are what
//  volunteer v was told.
static void
s_assert_rush (const char *activity, char status[][16], const long long *position)
{
    int confirmed = 0, waitlisted = 0;
    bool seen[RUSH_VOLUNTEERS + 1] = {false};
    for (int v = 0; v < RUSH_VOLUNTEERS; v++) {
        if (strcmp (status[v], "confirmed") == 0) {
            confirmed++;
            assert_int_equal (position[v], 0);
        } else {
            assert_string_equal (status[v], "waitlisted");
            waitlisted++;
            assert_true (position[v] >= 1 && position[v] <= RUSH_VOLUNTEERS - RUSH_PLACES);
            assert_false (seen[position[v]]);
            seen[position[v]] = true;
        }
    }
    assert_int_equal (confirmed, RUSH_PLACES);
    assert_int_equal (waitlisted, RUSH_VOLUNTEERS - RUSH_PLACES);
    s_assert_counts (activity, RUSH_PLACES, RUSH_VOLUNTEERS - RUSH_PLACES);
    //  Arrival order: the first RUSH_PLACES to arrive hold the places, and each waitlisted
    //  volunteer's position is its place in the line after them.
    PGresult *res =
        fx_query ("SELECT volunteer_id, arrival, status FROM match.signups ORDER BY arrival");
    assert_int_equal (PQntuples (res), RUSH_VOLUNTEERS);
    for (int i = 0; i < PQntuples (res); i++) {
        int v = atoi (PQgetvalue (res, i, 0));
        long long arrival = atoll (PQgetvalue (res, i, 1));
        assert_int_equal (arrival, i + 1);
        assert_string_equal (PQgetvalue (res, i, 2), status[v - 1]);
        assert_string_equal (status[v - 1], arrival <= RUSH_PLACES ? "confirmed" : "waitlisted");
        if (arrival > RUSH_PLACES)
            assert_int_equal (position[v - 1], arrival - RUSH_PLACES);
    }
    PQclear (res);
}

//  200 volunteers for 50 places from 25 connections at once: the database decides.
static void
test_signup_rush_sql (void **state)
{
    s_start (state, "act_rush_sql");
    s_supply (1, RUSH_VOLUNTEERS + 1, "{}", 0, "NULL");
    s_plan_t plan = {.capacity = RUSH_PLACES, .closes_in = 6 * 86400};
    char *activity = s_activity ("重阳节登山活动", &plan);
    pthread_barrier_t start;
    pthread_barrier_init (&start, NULL, RUSH_THREADS);
    s_sql_signer_t *signers = calloc (RUSH_THREADS, sizeof *signers);
    pthread_t threads[RUSH_THREADS];
    int64_t began = st_clock_ms ();
    for (int t = 0; t < RUSH_THREADS; t++) {
        s_match_conninfo (signers[t].conninfo, sizeof signers[t].conninfo);
        signers[t].activity = activity;
        signers[t].first = 1 + t * RUSH_EACH;
        signers[t].start = &start;
        assert_int_equal (pthread_create (&threads[t], NULL, s_sql_signer, &signers[t]), 0);
    }
    for (int t = 0; t < RUSH_THREADS; t++)
        pthread_join (threads[t], NULL);
    print_message ("%d sign-ups from %d connections in %lld ms\n", RUSH_VOLUNTEERS, RUSH_THREADS,
                   (long long) (st_clock_ms () - began));
    pthread_barrier_destroy (&start);
    char status[RUSH_VOLUNTEERS][16];
    long long position[RUSH_VOLUNTEERS];
    for (int t = 0; t < RUSH_THREADS; t++) {
        if (signers[t].error[0])
            fail_msg ("connection %d: %s", t, signers[t].error);
        //  Each connection's own sign-ups arrived one after another: once one of them was
        //  waitlisted, the later ones are too, further back.
        for (int i = 0; i < RUSH_EACH; i++) {
            memcpy (status[signers[t].first - 1 + i], signers[t].status[i], 16);
            position[signers[t].first - 1 + i] = signers[t].position[i];
            if (i > 0 && strcmp (signers[t].status[i - 1], "waitlisted") == 0) {
                assert_string_equal (signers[t].status[i], "waitlisted");
                assert_true (signers[t].position[i] > signers[t].position[i - 1]);
            }
        }
    }
    s_assert_rush (activity, status, position);

    //  The database itself refuses a confirmed sign-up past capacity, whatever path it takes.
    char sql[256];
    snprintf (sql, sizeof sql,
              "INSERT INTO match.signups (activity_id, volunteer_id, arrival, status)"
              " VALUES (%s, %d, 1000, 'confirmed')",
              activity, RUSH_VOLUNTEERS + 1);
    PGresult *res = PQexec (harness_pg (fx_harness ()), sql);
    assert_int_equal (PQresultStatus (res), PGRES_FATAL_ERROR);
    assert_string_equal (PQresultErrorField (res, PG_DIAG_SQLSTATE), "23514");
    assert_string_equal (PQresultErrorField (res, PG_DIAG_CONSTRAINT_NAME), "activities_capacity");
    PQclear (res);
    s_assert_counts (activity, RUSH_PLACES, RUSH_VOLUNTEERS - RUSH_PLACES);
    free (signers);
    free (activity);
}

//  ---------------------------------------------------------------------------------------
//  The sign-up rush through rpc: as many clients at once

typedef struct {
    st_client_t *client;
    const char *activity;
    char volunteer[16];
    pthread_barrier_t *start;
    st_status_t rc;
    char status[16];
    long long position;
    char error[256];
} s_rpc_signer_t;

//  A thread of the rpc rush: waits for the others, then signs its volunteer up.
static void *
s_rpc_signer (void *arg)
{
    s_rpc_signer_t *self = arg;
    msg_actor_t actor = fx_volunteer (self->volunteer);
    msg_activity_signup_t request = {.activity_id = (char *) self->activity};
    msg_signup_t reply = {0};
    st_error_t err = {0};
    pthread_barrier_wait (self->start);
    self->rc =
        st_client_call (self->client, "activity.signup", &actor, NULL, &msg_activity_signup_desc,
                        &request, &msg_signup_desc, &reply, FX_CALL_MS, &err);
    if (self->rc == ST_OK) {
        snprintf (self->status, sizeof self->status, "%s", reply.status);
        self->position = reply.has_position ? reply.position : 0;
    } else
        snprintf (self->error, sizeof self->error, "%s", err.message);
    st_msg_clear (&msg_signup_desc, &reply);
    return NULL;
}

//  200 volunteers for 50 places from 200 rpc clients at once.
static void
test_signup_rush_rpc (void **state)
{
    s_start (state, "act_rush_rpc");
    s_supply (1, RUSH_VOLUNTEERS, "{}", 0, "NULL");
    s_plan_t plan = {.capacity = RUSH_PLACES, .closes_in = 6 * 86400};
    char *activity = s_activity ("文明交通劝导", &plan);
    pthread_barrier_t start;
    pthread_barrier_init (&start, NULL, RUSH_VOLUNTEERS);
    s_rpc_signer_t *signers = calloc (RUSH_VOLUNTEERS, sizeof *signers);
    pthread_t *threads = calloc (RUSH_VOLUNTEERS, sizeof *threads);
    //  The clients are made here (the harness is not thread-safe) and each is then used by
    //  its thread alone; thread creation is the memory barrier ZeroMQ asks for.
    for (int v = 0; v < RUSH_VOLUNTEERS; v++) {
        signers[v].client = harness_client (fx_harness (), "match", "gateway");
        st_client_set_retry (signers[v].client, 10000);
        signers[v].activity = activity;
        snprintf (signers[v].volunteer, sizeof signers[v].volunteer, "%d", v + 1);
        signers[v].start = &start;
    }
    int64_t began = st_clock_ms ();
    for (int v = 0; v < RUSH_VOLUNTEERS; v++)
        assert_int_equal (pthread_create (&threads[v], NULL, s_rpc_signer, &signers[v]), 0);
    for (int v = 0; v < RUSH_VOLUNTEERS; v++)
        pthread_join (threads[v], NULL);
    print_message ("%d sign-ups from %d rpc clients at once in %lld ms\n", RUSH_VOLUNTEERS,
                   RUSH_VOLUNTEERS, (long long) (st_clock_ms () - began));
    pthread_barrier_destroy (&start);
    char status[RUSH_VOLUNTEERS][16];
    long long position[RUSH_VOLUNTEERS];
    for (int v = 0; v < RUSH_VOLUNTEERS; v++) {
        st_client_destroy (&signers[v].client);
        if (signers[v].rc != ST_OK)
            fail_msg ("volunteer %d: %s: %s", v + 1, st_status_name (signers[v].rc),
                      signers[v].error);
        memcpy (status[v], signers[v].status, 16);
        position[v] = signers[v].position;
    }
    s_assert_rush (activity, status, position);

    //  Every one of them heard how it went.
    json_t *events = fx_events_read ("signup.confirmed");
    assert_int_equal (json_array_size (events), RUSH_PLACES);
    json_decref (events);
    events = fx_events_read ("signup.waitlisted");
    assert_int_equal (json_array_size (events), RUSH_VOLUNTEERS - RUSH_PLACES);
    for (size_t i = 0; i < RUSH_VOLUNTEERS - RUSH_PLACES; i++)
        assert_int_equal (s_event_int (events, i, "position"), (int64_t) i + 1);
    json_decref (events);

    //  A place freed goes to the first in line: the one who arrived 51st.
    char leaving[16], next[16];
    snprintf (leaving, sizeof leaving, "%s",
              fx_value ("SELECT volunteer_id FROM match.signups WHERE arrival = 1"));
    snprintf (next, sizeof next, "%s",
              fx_value ("SELECT volunteer_id FROM match.signups WHERE arrival = 51"));
    msg_signup_t reply;
    st_error_t err;
    assert_int_equal (s_signup ("activity.withdraw", activity, leaving, &reply, &err), ST_OK);
    st_msg_clear (&msg_signup_desc, &reply);
    assert_string_equal (
        fx_value ("SELECT status FROM match.signups WHERE volunteer_id = %s", next), "confirmed");
    s_assert_counts (activity, RUSH_PLACES, RUSH_VOLUNTEERS - RUSH_PLACES - 1);
    free (threads);
    free (signers);
    free (activity);
}

//  ---------------------------------------------------------------------------------------
//  Micro-wishes: post, claim, fulfil, confirm

//  Calls a wish op (`op`) on wish `id` as `actor`.
static st_status_t
s_wish (const char *op, const char *id, const msg_actor_t *actor, msg_wish_t *reply,
        st_error_t *err)
{
    msg_wish_ref_t request = {.id = (char *) id};
    return fx_call_msg ("match", actor, op, &request, reply, err);
}

//  Residents 7 (of REGION) and 8 (of the next village) in match's replica, as registry's
//  resident.registered would put them.
static void
s_residents (void)
{
    fx_sql ("%s", "INSERT INTO match.residents (id, region, registry_seq)"
                  " VALUES (7, '" REGION "', 1), (8, '431022101204', 2)");
}

//  Posts a wish as resident 7; returns its id (the caller frees it).
static char *
s_post_wish (const char *title)
{
    msg_actor_t resident = fx_resident ("7");
    msg_wish_create_t request = {
        .title = (char *) title, .description = "希望有人帮忙", .region = REGION};
    msg_wish_t wish;
    st_error_t err;
    if (fx_call_msg ("match", &resident, "wish.create", &request, &wish, &err) != ST_OK)
        fail_msg ("could not post a wish: %s", err.message);
    char *id = strdup (wish.id);
    st_msg_clear (&msg_wish_desc, &wish);
    return id;
}

//  The people of the wish tests: residents 7 and 8, volunteers 1 and 2 active and 3 left.
static void
s_wish_people (void)
{
    s_residents ();
    s_supply (1, 2, "{}", 0, "NULL");
    s_supply (3, 1, "{}", 0, "NULL");
    fx_sql ("UPDATE match.supply SET status = 'left' WHERE volunteer_id = 3");
}

//  A resident posts a wish in their own village and it is open; bad posts are answered with
//  the field named, wrong posters are refused, and none of them changes anything.
static void
test_wish_create (void **state)
{
    s_start (state, "act_wish_create");
    s_wish_people ();
    msg_actor_t resident = fx_resident ("7"), stranger = fx_resident ("8");
    msg_actor_t v1 = fx_volunteer ("1");
    msg_wish_create_t request = {.title = "想要一个新书包",
                                 .description = "孩子的书包破了, 希望有一个新书包上学",
                                 .region = REGION};
    msg_wish_t wish;
    st_error_t err;
    assert_int_equal (fx_call_msg ("match", &resident, "wish.create", &request, &wish, &err),
                      ST_OK);
    assert_string_equal (wish.title, "想要一个新书包");
    assert_string_equal (wish.description, "孩子的书包破了, 希望有一个新书包上学");
    assert_string_equal (wish.region, REGION);
    assert_string_equal (wish.resident_id, "7");
    assert_string_equal (wish.status, "open");
    assert_null (wish.volunteer_id);
    assert_null (wish.claimed_at);
    assert_non_null (strstr (wish.created_at, "+08:00"));
    st_msg_clear (&msg_wish_desc, &wish);

    //  Bad posts and wrong posters.
    s_case_t cases[] = {
        {"title", NULL, ST_INVALID_ARGUMENT, "title"},
        {"title", json_integer (1), ST_INVALID_ARGUMENT, "title"},
        {"title", s_long ("愿", 101), ST_INVALID_ARGUMENT, "title"},
        {"description", NULL, ST_INVALID_ARGUMENT, "description"},
        {"description", json_string (""), ST_INVALID_ARGUMENT, "description"},
        {"description", s_long ("说", 1001), ST_INVALID_ARGUMENT, "description"},
        {"region", json_string ("4310221012"), ST_INVALID_ARGUMENT, "region"},
        {"region", json_null (), ST_INVALID_ARGUMENT, "region"},
    };
    s_bad_bodies ("wish.create", &resident,
                  "{\"title\": \"修收音机\", \"description\": \"收音机坏了\","
                  " \"region\": \"431022101203\"}",
                  cases, sizeof cases / sizeof cases[0]);
    char *before = s_state ();
    msg_actor_t admin = fx_admin ("region_admin", "431022000000");
    msg_actor_t nobody = fx_resident (NULL), unknown = fx_resident ("9");
    struct {
        const msg_actor_t *actor;
        st_status_t code;
        const char *field;
    } posters[] = {
        {&stranger, ST_PERMISSION_DENIED, "region"},
        {&unknown, ST_NOT_FOUND, "actor.resident_id"},
        {&v1, ST_PERMISSION_DENIED, "actor.role"},
        {&admin, ST_PERMISSION_DENIED, "actor.role"},
        {&nobody, ST_INVALID_ARGUMENT, "actor.resident_id"},
        {NULL, ST_UNAUTHENTICATED, "actor"},
    };
    for (size_t i = 0; i < sizeof posters / sizeof posters[0]; i++) {
        st_status_t rc =
            fx_call_msg ("match", posters[i].actor, "wish.create", &request, &wish, &err);
        fx_expect ("a wrong poster", rc, &err, posters[i].code, posters[i].field);
    }
    fx_unchanged (before, s_state (), "a refused wish.create");
}

//  Nothing can happen to an open wish but a claim by an active volunteer: every other op,
//  actor or id is refused naming the field, saying why, and changing nothing.
static void
test_wish_open_refused (void **state)
{
    s_start (state, "act_wish_open");
    s_wish_people ();
    char *id = s_post_wish ("想要一个新书包");
    msg_actor_t resident = fx_resident ("7");
    msg_actor_t v1 = fx_volunteer ("1"), v3 = fx_volunteer ("3");
    msg_actor_t admin = fx_admin ("region_admin", "431022000000");
    char *before = s_state ();
    struct {
        const char *op;
        const char *id;
        const msg_actor_t *actor;
        st_status_t code;
        const char *field;
        const char *says;
    } refused[] = {
        {"wish.claim", id, &resident, ST_PERMISSION_DENIED, "actor.role", "resident"},
        {"wish.claim", id, &admin, ST_PERMISSION_DENIED, "actor.role", "region_admin"},
        {"wish.claim", id, &v3, ST_FAILED_PRECONDITION, "actor.volunteer_id", "left"},
        {"wish.claim", "999", &v1, ST_NOT_FOUND, "id", "999"},
        {"wish.claim", "x", &v1, ST_NOT_FOUND, "id", "x"},
        {"wish.fulfil", id, &v1, ST_FAILED_PRECONDITION, "status", "open"},
        {"wish.fulfil", id, &resident, ST_PERMISSION_DENIED, "actor.role", "resident"},
        {"wish.confirm", id, &resident, ST_FAILED_PRECONDITION, "status", "open"},
        {"wish.confirm", id, &v1, ST_PERMISSION_DENIED, "actor.role", "volunteer"},
        {"wish.confirm", "999", &resident, ST_NOT_FOUND, "id", "999"},
        {"wish.fulfil", id, NULL, ST_UNAUTHENTICATED, "actor", ""},
    };
    msg_wish_t wish;
    st_error_t err;
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        st_status_t rc = s_wish (refused[i].op, refused[i].id, refused[i].actor, &wish, &err);
        char what[64];
        snprintf (what, sizeof what, "%s case %zu", refused[i].op, i);
        fx_expect (what, rc, &err, refused[i].code, refused[i].field);
        if (!strstr (err.message, refused[i].says))
            fail_msg ("%s: \"%s\" does not say \"%s\"", what, err.message, refused[i].says);
    }
    st_status_t rc = fx_call_raw ("match", &v1, "wish.claim", "{\"id\": 1}", NULL, &err);
    fx_expect ("an integer wish id", rc, &err, ST_INVALID_ARGUMENT, "id");
    fx_unchanged (before, s_state (), "a refused wish op");
    free (id);
}

//  A wish's life: claimed by a volunteer, fulfilled by that volunteer only, confirmed by its
//  resident only, each step told with who and when, and nothing out of order.
static void
test_wish_life (void **state)
{
    s_start (state, "act_wish_life");
    s_wish_people ();
    char *id = s_post_wish ("想要一个新书包");
    msg_actor_t resident = fx_resident ("7"), stranger = fx_resident ("8");
    msg_actor_t v1 = fx_volunteer ("1"), v2 = fx_volunteer ("2");
    msg_wish_t wish;
    st_error_t err;

    //  Volunteer 1 claims it; then only volunteer 1 may fulfil it, only resident 7 confirm it.
    assert_int_equal (s_wish ("wish.claim", id, &v1, &wish, &err), ST_OK);
    assert_string_equal (wish.status, "claimed");
    assert_string_equal (wish.volunteer_id, "1");
    assert_non_null (wish.claimed_at);
    char claimed_at[40];
    snprintf (claimed_at, sizeof claimed_at, "%s", wish.claimed_at);
    st_msg_clear (&msg_wish_desc, &wish);
    char *before = s_state ();
    st_status_t rc = s_wish ("wish.claim", id, &v2, &wish, &err);
    fx_expect ("claiming a claimed wish", rc, &err, ST_FAILED_PRECONDITION, "status");
    assert_non_null (strstr (err.message, "claimed"));
    rc = s_wish ("wish.fulfil", id, &v2, &wish, &err);
    fx_expect ("fulfilling another's claim", rc, &err, ST_PERMISSION_DENIED, "actor");
    rc = s_wish ("wish.confirm", id, &resident, &wish, &err);
    fx_expect ("confirming an unfulfilled wish", rc, &err, ST_FAILED_PRECONDITION, "status");
    assert_non_null (strstr (err.message, "claimed"));
    fx_unchanged (before, s_state (), "a refused wish op on a claimed wish");

    assert_int_equal (s_wish ("wish.fulfil", id, &v1, &wish, &err), ST_OK);
    assert_string_equal (wish.status, "fulfilled");
    assert_non_null (wish.fulfilled_at);
    char fulfilled_at[40];
    snprintf (fulfilled_at, sizeof fulfilled_at, "%s", wish.fulfilled_at);
    st_msg_clear (&msg_wish_desc, &wish);
    before = s_state ();
    rc = s_wish ("wish.fulfil", id, &v1, &wish, &err);
    fx_expect ("fulfilling twice", rc, &err, ST_FAILED_PRECONDITION, "status");
    assert_non_null (strstr (err.message, "fulfilled"));
    rc = s_wish ("wish.confirm", id, &stranger, &wish, &err);
    fx_expect ("confirming another's wish", rc, &err, ST_PERMISSION_DENIED, "actor");
    fx_unchanged (before, s_state (), "a refused wish op on a fulfilled wish");

    assert_int_equal (s_wish ("wish.confirm", id, &resident, &wish, &err), ST_OK);
    assert_string_equal (wish.status, "confirmed");
    assert_non_null (wish.confirmed_at);
    assert_string_equal (wish.volunteer_id, "1");
    st_msg_clear (&msg_wish_desc, &wish);
    rc = s_wish ("wish.claim", id, &v2, &wish, &err);
    fx_expect ("claiming a confirmed wish", rc, &err, ST_FAILED_PRECONDITION, "status");
    assert_non_null (strstr (err.message, "confirmed"));

    //  The events: who claimed and fulfilled whose wish, and when.
    json_t *events = fx_events_read ("wish.claimed");
    assert_int_equal (json_array_size (events), 1);
    assert_string_equal (s_event_str (events, 0, "id"), id);
    assert_string_equal (s_event_str (events, 0, "title"), "想要一个新书包");
    assert_string_equal (s_event_str (events, 0, "region"), REGION);
    assert_string_equal (s_event_str (events, 0, "resident_id"), "7");
    assert_string_equal (s_event_str (events, 0, "volunteer_id"), "1");
    assert_string_equal (s_event_str (events, 0, "at"), claimed_at);
    json_decref (events);
    events = fx_events_read ("wish.fulfilled");
    assert_int_equal (json_array_size (events), 1);
    assert_string_equal (s_event_str (events, 0, "id"), id);
    assert_string_equal (s_event_str (events, 0, "volunteer_id"), "1");
    assert_string_equal (s_event_str (events, 0, "at"), fulfilled_at);
    json_decref (events);
    free (id);
}

//  The system may do anything to a wish, within the order of things: claim it for a
//  volunteer it names, fulfil and confirm it, but not fulfil one unclaimed.
static void
test_wish_by_system (void **state)
{
    s_start (state, "act_wish_system");
    s_wish_people ();
    char *id = s_post_wish ("修收音机");
    msg_wish_t wish;
    st_error_t err;
    assert_int_equal (s_wish ("wish.fulfil", id, &FX_SYSTEM, &wish, &err), ST_FAILED_PRECONDITION);
    msg_actor_t system_for_2 = {.account = "operator-1", .role = "system", .volunteer_id = "2"};
    assert_int_equal (s_wish ("wish.claim", id, &system_for_2, &wish, &err), ST_OK);
    st_msg_clear (&msg_wish_desc, &wish);
    assert_int_equal (s_wish ("wish.fulfil", id, &FX_SYSTEM, &wish, &err), ST_OK);
    st_msg_clear (&msg_wish_desc, &wish);
    assert_int_equal (s_wish ("wish.confirm", id, &FX_SYSTEM, &wish, &err), ST_OK);
    assert_string_equal (wish.volunteer_id, "2");
    st_msg_clear (&msg_wish_desc, &wish);
    json_t *events = fx_events_read ("wish.claimed");
    assert_int_equal (json_array_size (events), 1);
    assert_string_equal (s_event_str (events, 0, "id"), id);
    assert_string_equal (s_event_str (events, 0, "volunteer_id"), "2");
    json_decref (events);
    events = fx_events_read ("wish.fulfilled");
    assert_int_equal (json_array_size (events), 1);
    assert_string_equal (s_event_str (events, 0, "volunteer_id"), "2");
    json_decref (events);
    free (id);
}

//  ---------------------------------------------------------------------------------------
//  The race for a wish: two volunteers claim at once, exactly one wins

#define RACE_WISHES 20

typedef struct {
    char conninfo[800];
    char volunteer[16];
    char *const *wishes;
    pthread_barrier_t *round;
    char outcome[RACE_WISHES][16];
    char error[512];
} s_claimer_t;

//  Claims each wish in turn as soon as the other claimer is ready too, holding the
//  transaction open a moment after the claim so that the other's claim meets it.
static void *
s_sql_claimer (void *arg)
{
    s_claimer_t *self = arg;
    PGconn *conn = PQconnectdb (self->conninfo);
    if (PQstatus (conn) != CONNECTION_OK)
        snprintf (self->error, sizeof self->error, "could not connect: %s", PQerrorMessage (conn));
    for (int i = 0; i < RACE_WISHES; i++) {
        pthread_barrier_wait (self->round);
        char out[2][16];
        if (!self->error[0]
            && s_sql_transaction (conn,
                                  "SELECT outcome, coalesce (detail, '') FROM wish_claim ($1, $2)",
                                  self->wishes[i], self->volunteer, "SELECT pg_sleep (0.02)", out,
                                  2, self->error, sizeof self->error))
            snprintf (self->outcome[i], sizeof self->outcome[i], "%s", out[0]);
    }
    PQfinish (conn);
    return NULL;
}

typedef struct {
    st_client_t *client;
    msg_actor_t actor;
    char *const *wishes;
    pthread_barrier_t *round;
    st_status_t rc[RACE_WISHES];
    char field[RACE_WISHES][96];
} s_rpc_claimer_t;

//  A thread of the rpc race: claims each wish as soon as the other claimer is ready too.
static void *
s_rpc_claimer (void *arg)
{
    s_rpc_claimer_t *self = arg;
    for (int i = 0; i < RACE_WISHES; i++) {
        pthread_barrier_wait (self->round);
        msg_wish_ref_t request = {.id = self->wishes[i]};
        msg_wish_t reply = {0};
        st_error_t err = {0};
        self->rc[i] =
            st_client_call (self->client, "wish.claim", &self->actor, NULL, &msg_wish_ref_desc,
                            &request, &msg_wish_desc, &reply, FX_CALL_MS, &err);
        snprintf (self->field[i], sizeof self->field[i], "%s", err.field);
        st_msg_clear (&msg_wish_desc, &reply);
    }
    return NULL;
}

//  Two volunteers claim each wish at once, from the database and through rpc.
static void
test_wish_race (void **state)
{
    s_start (state, "act_race");
    s_residents ();
    s_supply (1, 2, "{}", 0, "NULL");
    char *sql_wishes[RACE_WISHES], *rpc_wishes[RACE_WISHES];
    for (int i = 0; i < RACE_WISHES; i++) {
        sql_wishes[i] = s_post_wish ("陪老人聊天");
        rpc_wishes[i] = s_post_wish ("修自行车");
    }
    pthread_barrier_t round;
    pthread_barrier_init (&round, NULL, 2);

    //  From two database connections, through the function the handler calls.
    s_claimer_t claimers[2] = {{.wishes = sql_wishes, .round = &round},
                               {.wishes = sql_wishes, .round = &round}};
    pthread_t threads[2];
    for (int t = 0; t < 2; t++) {
        s_match_conninfo (claimers[t].conninfo, sizeof claimers[t].conninfo);
        snprintf (claimers[t].volunteer, sizeof claimers[t].volunteer, "%d", t + 1);
        assert_int_equal (pthread_create (&threads[t], NULL, s_sql_claimer, &claimers[t]), 0);
    }
    for (int t = 0; t < 2; t++)
        pthread_join (threads[t], NULL);
    int wins[2] = {0, 0};
    for (int i = 0; i < RACE_WISHES; i++) {
        for (int t = 0; t < 2; t++)
            if (claimers[t].error[0])
                fail_msg ("claimer %d: %s", t + 1, claimers[t].error);
        bool first = strcmp (claimers[0].outcome[i], "claimed") == 0;
        bool second = strcmp (claimers[1].outcome[i], "claimed") == 0;
        if (first == second)
            fail_msg ("wish %s: claimers said \"%s\" and \"%s\"", sql_wishes[i],
                      claimers[0].outcome[i], claimers[1].outcome[i]);
        assert_string_equal (first ? claimers[1].outcome[i] : claimers[0].outcome[i], "state");
        wins[!first]++;
        assert_string_equal (
            fx_value ("SELECT volunteer_id FROM match.wishes WHERE id = %s", sql_wishes[i]),
            first ? "1" : "2");
    }
    print_message ("database race: volunteer 1 won %d wishes, volunteer 2 won %d\n", wins[0],
                   wins[1]);

    //  Through rpc, two clients at once.
    s_rpc_claimer_t rpc[2] = {{.actor = fx_volunteer ("1"), .wishes = rpc_wishes, .round = &round},
                              {.actor = fx_volunteer ("2"), .wishes = rpc_wishes, .round = &round}};
    for (int t = 0; t < 2; t++) {
        rpc[t].client = harness_client (fx_harness (), "match", "gateway");
        assert_int_equal (pthread_create (&threads[t], NULL, s_rpc_claimer, &rpc[t]), 0);
    }
    for (int t = 0; t < 2; t++) {
        pthread_join (threads[t], NULL);
        st_client_destroy (&rpc[t].client);
    }
    pthread_barrier_destroy (&round);
    for (int i = 0; i < RACE_WISHES; i++) {
        int winner = rpc[0].rc[i] == ST_OK ? 0 : 1;
        assert_int_equal (rpc[winner].rc[i], ST_OK);
        assert_int_equal (rpc[!winner].rc[i], ST_FAILED_PRECONDITION);
        assert_string_equal (rpc[!winner].field[i], "status");
        assert_string_equal (
            fx_value ("SELECT volunteer_id FROM match.wishes WHERE id = %s", rpc_wishes[i]),
            winner == 0 ? "1" : "2");
    }
    //  One wish.claimed per wish claimed through rpc, none for the losers.
    json_t *events = fx_events_read ("wish.claimed");
    assert_int_equal (json_array_size (events), RACE_WISHES);
    json_decref (events);
    assert_int_equal (fx_count ("SELECT count (*) FROM match.wishes WHERE status = 'open'"), 0);
    for (int i = 0; i < RACE_WISHES; i++) {
        free (sql_wishes[i]);
        free (rpc_wishes[i]);
    }
}

//  activity.list: a volunteer sees what is open in their region and above, with their own
//  place in line; another village's is not theirs to see; an official sees their subtree;
//  bad filters are named.
static void
test_activity_list (void **state)
{
    s_start (state, "activity_list");
    s_supply (1, 3, "{}", 0, "NULL");
    s_plan_t plan = {.capacity = 1, .closes_in = 6 * 86400};
    char *here = s_activity ("村里的活动", &plan);
    //  One of the county (above the village), one of another village, one closed to sign-ups.
    char starts_at[40], ends_at[40], closes_at[40], body[1024];
    s_time (starts_at, 3 * 86400);
    s_time (ends_at, 3 * 86400 + 3600);
    s_time (closes_at, 2 * 86400);
    const char *regions[] = {"431022000000", "431022100201"};
    char ids[2][32];
    for (int i = 0; i < 2; i++) {
        snprintf (body, sizeof body,
                  "{\"title\": \"活动 %d\", \"category\": \"助学\", \"region\": \"%s\","
                  " \"starts_at\": \"%s\", \"ends_at\": \"%s\", \"capacity\": 5,"
                  " \"signup_closes_at\": \"%s\"}",
                  i, regions[i], starts_at, ends_at, closes_at);
        json_t *made = fx_call_ok ("match", &FX_SYSTEM, "activity.create", body);
        snprintf (ids[i], sizeof ids[i], "%s", fx_str (made, "id"));
        json_decref (made);
    }
    plan.closes_in = 1;
    char *closed = s_activity ("报名已截止", &plan);
    fx_sleep_ms (1500);
    s_signup_as (here, "1", "confirmed", 0);
    s_signup_as (here, "2", "waitlisted", 1);
    s_signup_as (here, "3", "waitlisted", 2);

    msg_actor_t third = fx_volunteer ("3");
    json_t *page = fx_call_ok ("match", &third, "activity.list", "{}");
    json_t *items = json_object_get (page, "items");
    //  Soonest first: the county's (in three days), then the village's (in a week).
    assert_int_equal (json_array_size (items), 2);
    assert_string_equal (fx_str (json_array_get (items, 0), "id"), ids[0]);
    assert_string_equal (fx_str (json_array_get (items, 1), "id"), here);
    assert_string_equal (fx_str (json_array_get (items, 1), "my_signup"), "waitlisted");
    assert_int_equal (fx_int (json_array_get (items, 1), "my_position"), 2);
    assert_null (json_object_get (json_array_get (items, 0), "my_signup"));
    json_decref (page);

    //  Filters and pages.
    page = fx_call_ok ("match", &third, "activity.list", "{\"category\": \"助学\"}");
    assert_int_equal (json_array_size (json_object_get (page, "items")), 1);
    json_decref (page);
    page = fx_call_ok ("match", &third, "activity.list", "{\"limit\": 1}");
    assert_string_equal (fx_str (page, "next_cursor"), ids[0]);
    snprintf (body, sizeof body, "{\"limit\": 1, \"cursor\": \"%s\"}", ids[0]);
    json_decref (page);
    page = fx_call_ok ("match", &third, "activity.list", body);
    assert_string_equal (fx_str (json_array_get (json_object_get (page, "items"), 0), "id"), here);
    json_decref (page);
    snprintf (body, sizeof body, "{\"from\": \"%s\"}", ends_at);
    page = fx_call_ok ("match", &third, "activity.list", body);
    assert_int_equal (json_array_size (json_object_get (page, "items")), 1);
    json_decref (page);

    //  The township's official sees its subtree, closed sign-ups included; not the county's.
    msg_actor_t town = fx_admin ("station_admin", "431022101000");
    page = fx_call_ok ("match", &town, "activity.list", "{}");
    assert_int_equal (json_array_size (json_object_get (page, "items")), 2);
    json_decref (page);
    st_error_t err;
    //  A filter outside one's scope is refused as request.list refuses it.
    fx_expect (
        "another township",
        fx_call ("match", &town, "activity.list", "{\"region\": \"431022100000\"}", NULL, &err),
        &err, ST_PERMISSION_DENIED, "region");
    fx_expect ("a bad time",
               fx_call ("match", &third, "activity.list", "{\"from\": \"tomorrow\"}", NULL, &err),
               &err, ST_INVALID_ARGUMENT, "from");
    fx_expect ("a bad cursor",
               fx_call ("match", &third, "activity.list", "{\"cursor\": \"x\"}", NULL, &err), &err,
               ST_NOT_FOUND, "cursor");
    //  schedule.list: the confirmed sign-up is volunteer 1's promise; a waitlisted one none.
    msg_actor_t first = fx_volunteer ("1");
    page = fx_call_ok ("match", &first, "schedule.list", "{}");
    items = json_object_get (page, "items");
    assert_int_equal (json_array_size (items), 1);
    assert_string_equal (fx_str (json_array_get (items, 0), "kind"), "activity");
    assert_string_equal (fx_str (json_array_get (items, 0), "id"), here);
    assert_string_equal (fx_str (json_array_get (items, 0), "title"), "村里的活动");
    json_decref (page);
    msg_actor_t second = fx_volunteer ("2");
    page = fx_call_ok ("match", &second, "schedule.list", "{}");
    assert_int_equal (json_array_size (json_object_get (page, "items")), 0);
    json_decref (page);
    page = fx_call_ok ("match", &town, "schedule.list", "{\"volunteer_id\": \"1\"}");
    assert_int_equal (json_array_size (json_object_get (page, "items")), 1);
    json_decref (page);
    msg_actor_t elsewhere = fx_admin ("station_admin", "431022100000");
    fx_expect (
        "another township's volunteer",
        fx_call ("match", &elsewhere, "schedule.list", "{\"volunteer_id\": \"1\"}", NULL, &err),
        &err, ST_NOT_FOUND, "volunteer_id");
    fx_expect ("another volunteer's schedule",
               fx_call ("match", &second, "schedule.list", "{\"volunteer_id\": \"1\"}", NULL, &err),
               &err, ST_NOT_FOUND, "volunteer_id");
    msg_actor_t resident = fx_resident ("9");
    fx_expect ("a resident naming nowhere",
               fx_call ("match", &resident, "activity.list", "{}", NULL, &err), &err,
               ST_INVALID_ARGUMENT, "region");
    free (here);
    free (closed);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_project_create, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_region_scope, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_activity_create, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_activity_get, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_activity_list, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_activity_created_event, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_activity_create_refused, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_signup_rules, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_waitlist_and_withdraw, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_cancel_activity, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_update_activity, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_signup_commitments, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_signup_rush_sql, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_signup_rush_rpc, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_wish_create, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_wish_open_refused, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_wish_life, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_wish_by_system, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_wish_race, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
