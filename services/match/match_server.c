/*  match_server.c — the match service's ops and the events it applies  */
#include "match_server.h"
#include "match_util.h"
#include "st_checks.h"
#include "match_store.h"
#include "st_log.h"

#include <jansson.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

ST_MATCH_OPS (ST_ROUTE_THUNK)

const st_route_t match_routes[] = {ST_MATCH_OPS (ST_ROUTE_ROW)};
const size_t match_route_count = sizeof match_routes / sizeof match_routes[0];

//  ---------------------------------------------------------------------------------------
//  Rows into replies

//  Fills a project from a row of the MATCH_PROJECT_* columns; `out` owns what it holds.
static void
s_project_from_row (PGresult *res, int row, msg_project_t *out)
{
    out->id = st_strdup (PQgetvalue (res, row, MATCH_PROJECT_ID));
    out->name = st_strdup (PQgetvalue (res, row, MATCH_PROJECT_NAME));
    out->category = st_strdup (PQgetvalue (res, row, MATCH_PROJECT_CATEGORY));
    out->region = st_strdup (PQgetvalue (res, row, MATCH_PROJECT_REGION));
    out->theme = match_optional (res, row, MATCH_PROJECT_THEME);
    out->created_at = st_strdup (PQgetvalue (res, row, MATCH_PROJECT_CREATED_AT));
}

//  Fills an activity from a row of the MATCH_ACTIVITY_* columns; `out` owns what it holds.
static void
s_activity_from_row (PGresult *res, int row, msg_activity_t *out)
{
    out->id = st_strdup (PQgetvalue (res, row, MATCH_ACTIVITY_ID));
    out->title = st_strdup (PQgetvalue (res, row, MATCH_ACTIVITY_TITLE));
    out->category = st_strdup (PQgetvalue (res, row, MATCH_ACTIVITY_CATEGORY));
    out->theme = match_optional (res, row, MATCH_ACTIVITY_THEME);
    out->project_id = match_optional (res, row, MATCH_ACTIVITY_PROJECT_ID);
    out->site_id = match_optional (res, row, MATCH_ACTIVITY_SITE_ID);
    out->region = st_strdup (PQgetvalue (res, row, MATCH_ACTIVITY_REGION));
    out->starts_at = st_strdup (PQgetvalue (res, row, MATCH_ACTIVITY_STARTS_AT));
    out->ends_at = st_strdup (PQgetvalue (res, row, MATCH_ACTIVITY_ENDS_AT));
    out->capacity = match_int (res, row, MATCH_ACTIVITY_CAPACITY);
    out->signup_closes_at = st_strdup (PQgetvalue (res, row, MATCH_ACTIVITY_SIGNUP_CLOSES_AT));
    out->min_stars = match_int (res, row, MATCH_ACTIVITY_MIN_STARS);
    match_json_strings (PQgetvalue (res, row, MATCH_ACTIVITY_SKILLS), &out->skills);
    out->insurance_required = match_bool (res, row, MATCH_ACTIVITY_INSURANCE_REQUIRED);
    out->confirmed = match_int (res, row, MATCH_ACTIVITY_CONFIRMED);
    out->waitlisted = match_int (res, row, MATCH_ACTIVITY_WAITLISTED);
    out->status = st_strdup (PQgetvalue (res, row, MATCH_ACTIVITY_STATUS));
    out->cancel_reason = match_optional (res, row, MATCH_ACTIVITY_CANCEL_REASON);
    out->created_at = st_strdup (PQgetvalue (res, row, MATCH_ACTIVITY_CREATED_AT));
    if ((out->has_lat = !PQgetisnull (res, row, MATCH_ACTIVITY_LAT)))
        out->lat = atof (PQgetvalue (res, row, MATCH_ACTIVITY_LAT));
    if ((out->has_lon = !PQgetisnull (res, row, MATCH_ACTIVITY_LON)))
        out->lon = atof (PQgetvalue (res, row, MATCH_ACTIVITY_LON));
    out->has_capacity = out->has_min_stars = out->has_skills = out->has_insurance_required = true;
    out->has_confirmed = out->has_waitlisted = true;
}

//  Fills a wish from a row of the MATCH_WISH_* columns; `out` owns what it holds.
static void
s_wish_from_row (PGresult *res, int row, msg_wish_t *out)
{
    out->id = st_strdup (PQgetvalue (res, row, MATCH_WISH_ID));
    out->title = st_strdup (PQgetvalue (res, row, MATCH_WISH_TITLE));
    out->description = st_strdup (PQgetvalue (res, row, MATCH_WISH_DESCRIPTION));
    out->region = st_strdup (PQgetvalue (res, row, MATCH_WISH_REGION));
    out->resident_id = st_strdup (PQgetvalue (res, row, MATCH_WISH_RESIDENT_ID));
    out->volunteer_id = match_optional (res, row, MATCH_WISH_VOLUNTEER_ID);
    out->status = st_strdup (PQgetvalue (res, row, MATCH_WISH_STATUS));
    out->created_at = st_strdup (PQgetvalue (res, row, MATCH_WISH_CREATED_AT));
    out->claimed_at = match_optional (res, row, MATCH_WISH_CLAIMED_AT);
    out->fulfilled_at = match_optional (res, row, MATCH_WISH_FULFILLED_AT);
    out->confirmed_at = match_optional (res, row, MATCH_WISH_CONFIRMED_AT);
}

//  ---------------------------------------------------------------------------------------
//  Events

//  Emits a signup.* event: one volunteer's sign-up to an activity, with what a notice or a
//  reminder tells of the activity; position 0 and reason NULL are left out.
static void
s_emit_signup (st_call_t *call, const char *topic, const char *activity_id,
               const char *volunteer_id, const char *title, const char *region,
               const char *starts_at, const char *ends_at, const char *status, int64_t position,
               const char *reason)
{
    msg_signup_event_t event = {.activity_id = (char *) activity_id,
                                .volunteer_id = (char *) volunteer_id,
                                .title = (char *) title,
                                .region = (char *) region,
                                .starts_at = (char *) starts_at,
                                .ends_at = (char *) ends_at,
                                .status = (char *) status,
                                .position = position,
                                .has_position = position > 0,
                                .reason = (char *) reason};
    //  `event` only borrows: not cleared.
    st_call_emit (call, topic, &msg_signup_event_desc, &event);
}

//  Emits a wish.* event from a wish as the reply shows it.
static void
s_emit_wish (st_call_t *call, const char *topic, const msg_wish_t *wish, const char *at)
{
    msg_wish_event_t event = {.id = wish->id,
                              .title = wish->title,
                              .region = wish->region,
                              .resident_id = wish->resident_id,
                              .volunteer_id = wish->volunteer_id,
                              .at = (char *) at};
    //  `event` only borrows: not cleared.
    st_call_emit (call, topic, &msg_wish_event_desc, &event);
}

//  ---------------------------------------------------------------------------------------
//  supply.stats — the supply replica within a region subtree

static void
s_supply_stats (st_call_t *call, const msg_supply_stats_t *request, msg_supply_t *reply)
{
    const char *region = request->region ? request->region : "";
    if (!match_all_digits (region)) {
        st_call_fail (call, ST_INVALID_ARGUMENT, "region",
                      "\"region\" must be a statistical division code");
        return;
    }
    char prefix[ST_REGION_SIZE];
    st_region_prefix (region, prefix);
    st_params_t params = {0};
    st_params_text (&params, prefix);
    PGresult *res;
    if (st_call_exec (call, "supply_stats", &params, &res))
        return;
    reply->volunteers = atoll (PQgetvalue (res, 0, 0));
    reply->active = atoll (PQgetvalue (res, 0, 1));
    reply->registry_seq = atoll (PQgetvalue (res, 0, 2));
    reply->has_volunteers = reply->has_active = reply->has_registry_seq = true;
    PQclear (res);
}

//  ---------------------------------------------------------------------------------------
//  project.create — a named series of activities (项目)

static void
s_project_create (st_call_t *call, const msg_project_create_t *request, msg_project_t *reply)
{
    const msg_actor_t *actor;
    if (st_require_actor (call, &actor) || st_require_official (call, actor)
        || st_require_code (call, "region", request->region)
        || st_require_scope (call, actor, "region", request->region))
        return;
    st_params_t params = {0};
    st_params_text (&params, request->name);
    st_params_text (&params, request->category);
    st_params_text (&params, request->region);
    st_params_text (&params, request->theme);
    st_params_text (&params, actor->account);
    PGresult *res;
    if (st_call_exec (call, "project_insert", &params, &res))
        return;
    s_project_from_row (res, 0, reply);
    PQclear (res);
}

//  ---------------------------------------------------------------------------------------
//  activity.create — an activity volunteers sign up for (活动)

//  A place as two parameters, both NULL when not given whole.
static void
s_params_place (st_params_t *params, bool given, double lat, double lon)
{
    if (given) {
        st_params_double (params, lat);
        st_params_double (params, lon);
    } else {
        st_params_text (params, NULL);
        st_params_text (params, NULL);
    }
}

static void
s_activity_create (st_call_t *call, const msg_activity_create_t *request, msg_activity_t *reply)
{
    const msg_actor_t *actor;
    if (st_require_actor (call, &actor) || st_require_official (call, actor)
        || st_require_code (call, "region", request->region)
        || st_require_scope (call, actor, "region", request->region))
        return;
    int64_t starts, ends, closes;
    char starts_at[64], ends_at[64], closes_at[64];
    if (st_require_time (call, "starts_at", request->starts_at, &starts, starts_at)
        || st_require_time (call, "ends_at", request->ends_at, &ends, ends_at)
        || st_require_time (call, "signup_closes_at", request->signup_closes_at, &closes,
                            closes_at))
        return;
    if (ends <= starts) {
        st_call_fail (call, ST_INVALID_ARGUMENT, "ends_at",
                      "\"ends_at\" must be after \"starts_at\"");
        return;
    }
    if (closes > starts) {
        st_call_fail (call, ST_INVALID_ARGUMENT, "signup_closes_at",
                      "\"signup_closes_at\" must be no later than \"starts_at\"");
        return;
    }
    int64_t project_id = 0;
    if (request->project_id) {
        PGresult *res;
        if (st_require_id (call, "project_id", "project", request->project_id, &project_id)
            || match_exec_id (call, "project_exists", project_id, &res))
            return;
        int found = PQntuples (res);
        PQclear (res);
        if (!found) {
            st_call_fail (call, ST_NOT_FOUND, "project_id", "no project has id \"%s\"",
                          request->project_id);
            return;
        }
    }

    st_params_t params = {0};
    st_params_text (&params, request->title);
    st_params_text (&params, request->category);
    st_params_text (&params, request->theme);
    if (project_id)
        st_params_int (&params, project_id);
    else
        st_params_text (&params, NULL);
    st_params_text (&params, request->site_id);
    st_params_text (&params, request->region);
    st_params_text (&params, starts_at);
    st_params_text (&params, ends_at);
    st_params_int (&params, request->capacity);
    st_params_text (&params, closes_at);
    st_params_int (&params, request->has_min_stars ? request->min_stars : 0);
    st_params_text_array (&params, request->skills.items, request->skills.count);
    st_params_bool (&params, request->has_insurance_required && request->insurance_required);
    st_params_text (&params, actor->account);
    s_params_place (&params, request->has_lat && request->has_lon, request->lat, request->lon);
    PGresult *res;
    if (st_call_exec (call, "activity_insert", &params, &res))
        return;
    s_activity_from_row (res, 0, reply);
    PQclear (res);

    msg_activity_created_t event = {.id = reply->id,
                                    .title = reply->title,
                                    .category = reply->category,
                                    .theme = reply->theme,
                                    .project_id = reply->project_id,
                                    .site_id = reply->site_id,
                                    .region = reply->region,
                                    .starts_at = reply->starts_at,
                                    .ends_at = reply->ends_at,
                                    .capacity = reply->capacity,
                                    .has_capacity = true,
                                    .signup_closes_at = reply->signup_closes_at,
                                    .min_stars = reply->min_stars,
                                    .has_min_stars = true,
                                    .skills = reply->skills,
                                    .has_skills = true,
                                    .insurance_required = reply->insurance_required,
                                    .has_insurance_required = true};
    //  `event` borrows from `reply`: not cleared.
    st_call_emit (call, "activity.created", &msg_activity_created_desc, &event);
}

//  ---------------------------------------------------------------------------------------
//  activity.get — one activity with its sign-up counts; admins see only their subtree

static void
s_activity_get (st_call_t *call, const msg_activity_get_t *request, msg_activity_t *reply)
{
    const msg_actor_t *actor;
    int64_t id;
    PGresult *res;
    if (st_require_actor (call, &actor) || st_require_id (call, "id", "activity", request->id, &id)
        || match_exec_id (call, "activity_get", id, &res))
        return;
    if (PQntuples (res) == 0) {
        PQclear (res);
        st_call_fail (call, ST_NOT_FOUND, "id", "no activity has id \"%s\"", request->id);
        return;
    }
    s_activity_from_row (res, 0, reply);
    PQclear (res);
    if (st_actor_is_official (actor))
        st_require_scope (call, actor, "id", reply->region);
}

//  Locks activity `text` for an official in its scope and checks it is open; into `before`
//  as it stands, into *id its id, into *started and *ended whether those times have passed.
//  Returns -1 when the call failed (`before` then holds nothing to clear).
static int
s_activity_lock (st_call_t *call, const char *text, int64_t *id, msg_activity_t *before,
                 bool *started, bool *ended)
{
    const msg_actor_t *actor;
    PGresult *res;
    if (st_require_actor (call, &actor) || st_require_official (call, actor)
        || st_require_id (call, "id", "activity", text, id)
        || match_exec_id (call, "activity_lock", *id, &res))
        return -1;
    if (PQntuples (res) == 0) {
        PQclear (res);
        return st_call_fail (call, ST_NOT_FOUND, "id", "no activity has id \"%s\"", text);
    }
    s_activity_from_row (res, 0, before);
    *started = match_bool (res, 0, MATCH_ACTIVITY_STARTED);
    *ended = match_bool (res, 0, MATCH_ACTIVITY_ENDED);
    PQclear (res);
    if (st_require_scope (call, actor, "id", before->region) == 0
        && strcmp (before->status, "open") != 0)
        st_call_fail (call, ST_FAILED_PRECONDITION, "status", "activity \"%s\" is %s already",
                      before->id, before->status);
    if (!st_call_failed (call))
        return 0;
    st_msg_clear (&msg_activity_desc, before);
    return -1;
}

//  ---------------------------------------------------------------------------------------
//  activity.update — an official in scope changes an activity before it starts; everyone
//  signed up is told what changed, and a larger capacity confirms the first in line

//  Checks an update against the activity `before` and binds its parameters; the names of the
//  fields it changes into `changed`. Returns -1 when the call failed.
static int
s_activity_changes (st_call_t *call, const msg_activity_update_t *request,
                    const msg_activity_t *before, st_params_t *params, st_strs_t *changed)
{
    int64_t starts, ends, closes, now = st_now_ms () * 1000;
    char starts_at[40], ends_at[40], closes_at[40];
    if (st_require_time (call, "starts_at",
                         request->starts_at ? request->starts_at : before->starts_at, &starts,
                         starts_at)
        || st_require_time (call, "ends_at", request->ends_at ? request->ends_at : before->ends_at,
                            &ends, ends_at)
        || st_require_time (call, "signup_closes_at",
                            request->signup_closes_at ? request->signup_closes_at
                                                      : before->signup_closes_at,
                            &closes, closes_at))
        return -1;
    if (request->starts_at && starts <= now)
        return st_call_fail (call, ST_INVALID_ARGUMENT, "starts_at",
                             "\"starts_at\" must be in the future");
    if (ends <= starts)
        return st_call_fail (call, ST_INVALID_ARGUMENT, request->ends_at ? "ends_at" : "starts_at",
                             "\"ends_at\" must be after \"starts_at\"");
    if (closes > starts)
        return st_call_fail (call, ST_INVALID_ARGUMENT,
                             request->signup_closes_at ? "signup_closes_at" : "starts_at",
                             "\"signup_closes_at\" must be no later than \"starts_at\"");
    if (request->has_capacity && request->capacity < before->confirmed)
        return st_call_fail (call, ST_FAILED_PRECONDITION, "capacity",
                             "%lld volunteers are confirmed: the capacity cannot go below that",
                             (long long) before->confirmed);
    if (request->has_lat != request->has_lon)
        return st_call_fail (call, ST_INVALID_ARGUMENT, request->has_lat ? "lon" : "lat",
                             "\"lat\" and \"lon\" go together");
    static const char *names[] = {"title",    "starts_at", "ends_at", "signup_closes_at",
                                  "capacity", "place"};
    bool given[] = {request->title,        request->starts_at,
                    request->ends_at,      request->signup_closes_at,
                    request->has_capacity, request->has_lat};
    changed->items = st_calloc (7, sizeof (char *));
    for (size_t i = 0; i < 6; i++)
        if (given[i])
            changed->items[changed->count++] = (char *) names[i];
    if (changed->count == 0)
        return st_call_fail (call, ST_INVALID_ARGUMENT, "id", "the update changes nothing");
    st_params_text (params, before->id);
    st_params_text (params, request->title);
    st_params_text (params, request->starts_at ? starts_at : NULL);
    st_params_text (params, request->ends_at ? ends_at : NULL);
    st_params_text (params, request->signup_closes_at ? closes_at : NULL);
    if (request->has_capacity)
        st_params_int (params, request->capacity);
    else
        st_params_text (params, NULL);
    s_params_place (params, request->has_lat && request->has_lon, request->lat, request->lon);
    return 0;
}

static void
s_activity_update (st_call_t *call, const msg_activity_update_t *request, msg_activity_t *reply)
{
    int64_t id;
    bool started, ended;
    msg_activity_t before = {0};
    if (s_activity_lock (call, request->id, &id, &before, &started, &ended))
        return;
    PGresult *res;
    st_strs_t changed = {0};
    st_params_t params = {0};
    if (started) {
        st_call_fail (call, ST_FAILED_PRECONDITION, "starts_at",
                      "activity \"%s\" started at %s: it can no longer change", before.id,
                      before.starts_at);
        goto done;
    }
    if (s_activity_changes (call, request, &before, &params, &changed)
        || st_call_exec (call, "activity_update", &params, &res))
        goto done;
    s_activity_from_row (res, 0, reply);
    PQclear (res);
    //  Places opened: the first in line take them, in arrival order.
    int64_t places = reply->capacity - reply->confirmed;
    if (places > 0 && reply->waitlisted > 0) {
        st_params_int (&params, id);
        st_params_int (&params, places);
        if (st_call_exec (call, "activity_promote", &params, &res))
            goto done;
        for (int i = 0; i < PQntuples (res) && !st_call_failed (call); i++)
            s_emit_signup (call, "signup.promoted", reply->id, PQgetvalue (res, i, 0), reply->title,
                           reply->region, reply->starts_at, reply->ends_at, "confirmed", 0, NULL);
        PQclear (res);
        st_msg_clear (&msg_activity_desc, reply);
        memset (reply, 0, sizeof *reply);
        if (match_exec_id (call, "activity_get", id, &res))
            goto done;
        s_activity_from_row (res, 0, reply);
        PQclear (res);
    }
    msg_activity_changed_t event = {.id = reply->id,
                                    .title = reply->title,
                                    .region = reply->region,
                                    .starts_at = reply->starts_at,
                                    .ends_at = reply->ends_at,
                                    .signup_closes_at = reply->signup_closes_at,
                                    .capacity = reply->capacity,
                                    .has_capacity = true,
                                    .confirmed = reply->confirmed,
                                    .has_confirmed = true,
                                    .waitlisted = reply->waitlisted,
                                    .has_waitlisted = true,
                                    .changed = changed,
                                    .has_changed = true,
                                    .reason = request->reason};
    //  `event` borrows from `reply`, `changed` and the request: not cleared.
    st_call_emit (call, "activity.changed", &msg_activity_changed_desc, &event);
done:
    free (changed.items);
    st_params_clear (&params);
    st_msg_clear (&msg_activity_desc, &before);
}

//  ---------------------------------------------------------------------------------------
//  activity.cancel — the activity is off; every sign-up ends and each volunteer is told

static void
s_activity_cancel (st_call_t *call, const msg_activity_cancel_t *request, msg_activity_t *reply)
{
    int64_t id;
    bool started, ended;
    msg_activity_t before = {0};
    if (s_activity_lock (call, request->id, &id, &before, &started, &ended))
        return;
    PGresult *res;
    if (ended) {
        st_call_fail (call, ST_FAILED_PRECONDITION, "ends_at", "activity \"%s\" ended at %s",
                      before.id, before.ends_at);
        goto done;
    }
    PGresult *ended_signups;
    if (match_exec_id (call, "activity_cancel_signups", id, &ended_signups))
        goto done;
    st_params_t params = {0};
    st_params_int (&params, id);
    st_params_text (&params, request->reason);
    if (st_call_exec (call, "activity_cancel", &params, &res))
        goto release_signups;
    s_activity_from_row (res, 0, reply);
    PQclear (res);

    msg_activity_cancelled_t event = {.id = before.id,
                                      .title = before.title,
                                      .region = before.region,
                                      .starts_at = before.starts_at,
                                      .ends_at = before.ends_at,
                                      .reason = request->reason,
                                      .confirmed = before.confirmed,
                                      .has_confirmed = true,
                                      .waitlisted = before.waitlisted,
                                      .has_waitlisted = true};
    //  `event` borrows from `before` and the request: not cleared.
    if (st_call_emit (call, "activity.cancelled", &msg_activity_cancelled_desc, &event))
        goto release_signups;
    for (int i = 0; i < PQntuples (ended_signups) && !st_call_failed (call); i++)
        s_emit_signup (call, "signup.cancelled", before.id, PQgetvalue (ended_signups, i, 0),
                       before.title, before.region, before.starts_at, before.ends_at, "cancelled",
                       0, "activity_cancelled");
release_signups:
    PQclear (ended_signups);
done:
    st_msg_clear (&msg_activity_desc, &before);
}

//  ---------------------------------------------------------------------------------------
//  activity.signup — the acting volunteer signs up (报名): confirmed while places are left,
//  waitlisted (候补) after; the database function decides under the activity's row lock

static void
s_activity_signup (st_call_t *call, const msg_activity_signup_t *request, msg_signup_t *reply)
{
    const msg_actor_t *actor;
    int64_t volunteer, activity;
    if (st_require_actor (call, &actor) || match_require_volunteer (call, actor, &volunteer)
        || st_require_id (call, "activity_id", "activity", request->activity_id, &activity))
        return;
    st_params_t params = {0};
    PGresult *res;
    //  A request the volunteer accepted for the same time comes first (an accept in flight
    //  finishes before we look).
    if (match_require_free (call, volunteer, "activity_busy", activity, "activity_id"))
        return;
    st_params_int (&params, activity);
    st_params_int (&params, volunteer);
    if (st_call_exec (call, "activity_signup_run", &params, &res))
        return;
    const char *outcome = PQgetvalue (res, 0, MATCH_SIGNUP_OUTCOME);
    const char *detail = PQgetvalue (res, 0, MATCH_SIGNUP_DETAIL);
    const char *id = request->activity_id, *who = actor->volunteer_id;
    if (strcmp (outcome, "no_activity") == 0)
        st_call_fail (call, ST_NOT_FOUND, "activity_id", "no activity has id \"%s\"", id);
    else if (strcmp (outcome, "cancelled") == 0)
        st_call_fail (call, ST_FAILED_PRECONDITION, "status", "activity \"%s\" is %s", id, detail);
    else if (strcmp (outcome, "closed") == 0)
        st_call_fail (call, ST_FAILED_PRECONDITION, "signup_closes_at",
                      "sign-up for activity \"%s\" is closed", id);
    else if (strcmp (outcome, "no_volunteer") == 0)
        st_call_fail (call, ST_FAILED_PRECONDITION, "actor.volunteer_id",
                      "volunteer \"%s\" is not known to match yet", who);
    else if (strcmp (outcome, "inactive") == 0)
        st_call_fail (call, ST_FAILED_PRECONDITION, "actor.volunteer_id",
                      "volunteer \"%s\" is %s, not active", who, detail);
    else if (strcmp (outcome, "stars") == 0)
        st_call_fail (call, ST_FAILED_PRECONDITION, "min_stars",
                      "activity \"%s\" needs more stars than volunteer \"%s\" has (%s)", id, who,
                      detail);
    else if (strcmp (outcome, "skill") == 0)
        st_call_fail (call, ST_FAILED_PRECONDITION, "skills",
                      "activity \"%s\" needs the skill \"%s\", which volunteer \"%s\" lacks", id,
                      detail, who);
    else if (strcmp (outcome, "insurance") == 0)
        st_call_fail (call, ST_FAILED_PRECONDITION, "insurance_required",
                      "activity \"%s\" needs insurance valid through its end; volunteer \"%s\" "
                      "has %s%s",
                      id, who, *detail ? "insurance until " : "none", detail);
    else if (strcmp (outcome, "duplicate") == 0)
        st_call_fail (call, ST_CONFLICT, "activity_id",
                      "volunteer \"%s\" is already signed up for activity \"%s\" (%s)", who, id,
                      detail);
    else if (strcmp (outcome, "confirmed") != 0 && strcmp (outcome, "waitlisted") != 0)
        st_call_fail (call, ST_INTERNAL, NULL, "unknown sign-up outcome \"%s\"", outcome);
    if (st_call_failed (call)) {
        PQclear (res);
        return;
    }
    int64_t position =
        PQgetisnull (res, 0, MATCH_SIGNUP_NUMBER) ? 0 : match_int (res, 0, MATCH_SIGNUP_NUMBER);
    reply->activity_id = st_strdup (id);
    reply->volunteer_id = st_strdup (who);
    reply->status = st_strdup (outcome);
    reply->position = position;
    reply->has_position = position > 0;
    char topic[32];
    snprintf (topic, sizeof topic, "signup.%s", outcome);
    s_emit_signup (call, topic, id, who, PQgetvalue (res, 0, MATCH_SIGNUP_TITLE),
                   PQgetvalue (res, 0, MATCH_SIGNUP_REGION),
                   PQgetvalue (res, 0, MATCH_SIGNUP_STARTS_AT),
                   PQgetvalue (res, 0, MATCH_SIGNUP_ENDS_AT), outcome, position, NULL);
    PQclear (res);
}

//  ---------------------------------------------------------------------------------------
//  activity.withdraw — the acting volunteer withdraws; the first on the waitlist moves up

static void
s_activity_withdraw (st_call_t *call, const msg_activity_signup_t *request, msg_signup_t *reply)
{
    const msg_actor_t *actor;
    int64_t volunteer, activity;
    if (st_require_actor (call, &actor) || match_require_volunteer (call, actor, &volunteer)
        || st_require_id (call, "activity_id", "activity", request->activity_id, &activity))
        return;
    st_params_t params = {0};
    st_params_int (&params, activity);
    st_params_int (&params, volunteer);
    PGresult *res;
    if (st_call_exec (call, "activity_withdraw_run", &params, &res))
        return;
    const char *outcome = PQgetvalue (res, 0, MATCH_SIGNUP_OUTCOME);
    const char *detail = PQgetvalue (res, 0, MATCH_SIGNUP_DETAIL);
    const char *id = request->activity_id, *who = actor->volunteer_id;
    if (strcmp (outcome, "no_activity") == 0)
        st_call_fail (call, ST_NOT_FOUND, "activity_id", "no activity has id \"%s\"", id);
    else if (strcmp (outcome, "cancelled") == 0)
        st_call_fail (call, ST_FAILED_PRECONDITION, "status", "activity \"%s\" is %s", id, detail);
    else if (strcmp (outcome, "started") == 0)
        st_call_fail (call, ST_FAILED_PRECONDITION, "starts_at", "activity \"%s\" has started", id);
    else if (strcmp (outcome, "not_signed_up") == 0)
        st_call_fail (call, ST_NOT_FOUND, "activity_id",
                      "volunteer \"%s\" is not signed up for activity \"%s\"", who, id);
    else if (strcmp (outcome, "withdrawn") != 0)
        st_call_fail (call, ST_INTERNAL, NULL, "unknown withdrawal outcome \"%s\"", outcome);
    if (st_call_failed (call)) {
        PQclear (res);
        return;
    }
    reply->activity_id = st_strdup (id);
    reply->volunteer_id = st_strdup (who);
    reply->status = st_strdup ("cancelled");
    const char *title = PQgetvalue (res, 0, MATCH_SIGNUP_TITLE);
    const char *region = PQgetvalue (res, 0, MATCH_SIGNUP_REGION);
    const char *starts_at = PQgetvalue (res, 0, MATCH_SIGNUP_STARTS_AT);
    const char *ends_at = PQgetvalue (res, 0, MATCH_SIGNUP_ENDS_AT);
    s_emit_signup (call, "signup.cancelled", id, who, title, region, starts_at, ends_at,
                   "cancelled", 0, "withdrawn");
    if (!PQgetisnull (res, 0, MATCH_SIGNUP_NUMBER) && !st_call_failed (call))
        s_emit_signup (call, "signup.promoted", id, PQgetvalue (res, 0, MATCH_SIGNUP_NUMBER), title,
                       region, starts_at, ends_at, "confirmed", 0, NULL);
    PQclear (res);
}

//  ---------------------------------------------------------------------------------------
//  wish.create — a resident's micro-wish (微心愿)

static void
s_wish_create (st_call_t *call, const msg_wish_create_t *request, msg_wish_t *reply)
{
    const msg_actor_t *actor;
    int64_t resident;
    if (st_require_actor (call, &actor) || match_require_resident (call, actor, &resident)
        || st_require_code (call, "region", request->region)
        || match_require_home (call, resident, "region", request->region))
        return;
    st_params_t params = {0};
    st_params_text (&params, request->title);
    st_params_text (&params, request->description);
    st_params_text (&params, request->region);
    st_params_int (&params, resident);
    PGresult *res;
    if (st_call_exec (call, "wish_insert", &params, &res))
        return;
    s_wish_from_row (res, 0, reply);
    PQclear (res);
}

//  ---------------------------------------------------------------------------------------
//  wish.claim — a volunteer claims an open wish (认领); of two at once exactly one wins

static void
s_wish_claim (st_call_t *call, const msg_wish_ref_t *request, msg_wish_t *reply)
{
    const msg_actor_t *actor;
    int64_t volunteer, wish;
    if (st_require_actor (call, &actor) || match_require_volunteer (call, actor, &volunteer)
        || st_require_id (call, "id", "wish", request->id, &wish))
        return;
    st_params_t params = {0};
    st_params_int (&params, wish);
    st_params_int (&params, volunteer);
    PGresult *res;
    if (st_call_exec (call, "wish_claim_run", &params, &res))
        return;
    const char *outcome = PQgetvalue (res, 0, 0), *detail = PQgetvalue (res, 0, 1);
    if (strcmp (outcome, "no_wish") == 0)
        st_call_fail (call, ST_NOT_FOUND, "id", "no wish has id \"%s\"", request->id);
    else if (strcmp (outcome, "state") == 0)
        st_call_fail (call, ST_FAILED_PRECONDITION, "status", "wish \"%s\" is %s, not open",
                      request->id, detail);
    else if (strcmp (outcome, "no_volunteer") == 0)
        st_call_fail (call, ST_FAILED_PRECONDITION, "actor.volunteer_id",
                      "volunteer \"%s\" is not known to match yet", actor->volunteer_id);
    else if (strcmp (outcome, "inactive") == 0)
        st_call_fail (call, ST_FAILED_PRECONDITION, "actor.volunteer_id",
                      "volunteer \"%s\" is %s, not active", actor->volunteer_id, detail);
    else if (strcmp (outcome, "claimed") != 0)
        st_call_fail (call, ST_INTERNAL, NULL, "unknown claim outcome \"%s\"", outcome);
    PQclear (res);
    if (st_call_failed (call) || match_exec_id (call, "wish_get", wish, &res))
        return;
    s_wish_from_row (res, 0, reply);
    PQclear (res);
    s_emit_wish (call, "wish.claimed", reply, reply->claimed_at);
}

//  Locks a wish for a change by `statement` (wish_fulfil, wish_confirm), which it takes from
//  state `from`; `owner` is the id the actor must match in column `owner_col` (0 for the
//  system, who may do anything). Fills the reply with the changed wish.
static void
s_wish_advance (st_call_t *call, const msg_wish_ref_t *request, const char *statement,
                const char *from, int owner_col, int64_t owner, msg_wish_t *reply)
{
    int64_t wish;
    PGresult *res;
    if (st_require_id (call, "id", "wish", request->id, &wish)
        || match_exec_id (call, "wish_lock", wish, &res))
        return;
    if (PQntuples (res) == 0) {
        PQclear (res);
        st_call_fail (call, ST_NOT_FOUND, "id", "no wish has id \"%s\"", request->id);
        return;
    }
    bool has_owner = !PQgetisnull (res, 0, owner_col);
    bool mine = owner == 0 || (has_owner && match_int (res, 0, owner_col) == owner);
    char status[16];
    snprintf (status, sizeof status, "%s", PQgetvalue (res, 0, MATCH_WISH_STATUS));
    PQclear (res);
    if (has_owner && !mine) {
        st_call_fail (call, ST_PERMISSION_DENIED, "actor",
                      owner_col == MATCH_WISH_VOLUNTEER_ID
                          ? "wish \"%s\" was claimed by another volunteer"
                          : "wish \"%s\" was posted by another resident",
                      request->id);
        return;
    }
    if (strcmp (status, from) != 0) {
        st_call_fail (call, ST_FAILED_PRECONDITION, "status", "wish \"%s\" is %s, not %s",
                      request->id, status, from);
        return;
    }
    if (match_exec_id (call, statement, wish, &res))
        return;
    s_wish_from_row (res, 0, reply);
    PQclear (res);
}

//  ---------------------------------------------------------------------------------------
//  wish.fulfil — the claimant has fulfilled the wish

static void
s_wish_fulfil (st_call_t *call, const msg_wish_ref_t *request, msg_wish_t *reply)
{
    const msg_actor_t *actor;
    int64_t volunteer = 0;
    if (st_require_actor (call, &actor)
        || (!st_actor_is_system (actor) && match_require_volunteer (call, actor, &volunteer)))
        return;
    s_wish_advance (call, request, "wish_fulfil", "claimed", MATCH_WISH_VOLUNTEER_ID, volunteer,
                    reply);
    if (!st_call_failed (call))
        s_emit_wish (call, "wish.fulfilled", reply, reply->fulfilled_at);
}

//  ---------------------------------------------------------------------------------------
//  wish.confirm — the resident who posted the wish confirms it was fulfilled

static void
s_wish_confirm (st_call_t *call, const msg_wish_ref_t *request, msg_wish_t *reply)
{
    const msg_actor_t *actor;
    int64_t resident = 0;
    if (st_require_actor (call, &actor)
        || (!st_actor_is_system (actor) && match_require_resident (call, actor, &resident)))
        return;
    s_wish_advance (call, request, "wish_confirm", "fulfilled", MATCH_WISH_RESIDENT_ID, resident,
                    reply);
}

//  ---------------------------------------------------------------------------------------
//  Registry's events

//  volunteer.registered, volunteer.updated, volunteer.status_changed: each carries the
//  volunteer's whole supply-relevant state, so one upsert serves all three; a late event never
//  overwrites a newer one (registry_seq). A volunteer who is no longer active is released from
//  what dispatch offered them.
static st_status_t
s_volunteer_registered (st_db_t *db, const char *topic, const void *body_, int64_t seq,
                        st_error_t *err)
{
    const msg_volunteer_registered_t *body = body_;
    char *end;
    long long id = strtoll (body->id, &end, 10);
    if (*end || id <= 0)
        return st_error_set (err, ST_INVALID_ARGUMENT, "id", "volunteer id \"%s\" is not a number",
                             body->id);
    st_params_t params = {0};
    st_params_int (&params, id);
    st_params_text (&params, body->name);
    st_params_text (&params, body->region);
    st_params_text_array (&params, body->skills.items, body->skills.count);
    st_params_text (&params, body->gender);
    if (body->has_birth_year)
        st_params_int (&params, body->birth_year);
    else
        st_params_text (&params, NULL);
    st_params_text (&params, body->status);
    st_params_int (&params, seq);
    if (body->has_categories)
        st_params_text_array (&params, body->categories.items, body->categories.count);
    else
        st_params_text (&params, NULL);
    if (body->has_availability)
        st_params_text_array (&params, body->availability.items, body->availability.count);
    else
        st_params_text (&params, NULL);
    if (body->has_lat)
        st_params_double (&params, body->lat);
    else
        st_params_text (&params, NULL);
    if (body->has_lon)
        st_params_double (&params, body->lon);
    else
        st_params_text (&params, NULL);
    st_params_text (&params, body->insurance_until);
    PGresult *res;
    st_status_t rc = st_db_exec (db, "supply_upsert", &params, &res, err);
    st_params_clear (&params);
    if (rc != ST_OK)
        return rc;
    //  Applied (not a late event) and no longer active: nobody counts on them any more.
    bool gone = PQntuples (res) == 1 && strcmp (PQgetvalue (res, 0, 0), "active") != 0;
    PQclear (res);
    return gone ? match_dispatch_volunteer_gone (db, id, err) : ST_OK;
}

const st_subscription_t match_registry_subscriptions[] = {
    {"volunteer.registered", s_volunteer_registered},
    {"volunteer.updated", s_volunteer_registered},
    {"volunteer.status_changed", s_volunteer_registered},
};
const size_t match_registry_subscription_count =
    sizeof match_registry_subscriptions / sizeof match_registry_subscriptions[0];
