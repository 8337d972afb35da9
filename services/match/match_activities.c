/*  match_activities.c — projects (项目), activities (活动) and their sign-ups (报名): an official
    in scope creates, changes or cancels an activity; volunteers sign up, confirmed while places
    are left and waitlisted after, the database deciding under the activity's row lock.  */
#include "match.h"
#include "match_store.h"
#include "match_util.h"
#include "st_checks.h"
#include "st_log.h"
#include "st_rows.h"

#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ST_MATCH_ACTIVITIES_OPS (ST_ROUTE_THUNK)

const st_route_t match_activities_routes[] = {ST_MATCH_ACTIVITIES_OPS (ST_ROUTE_ROW)};
const size_t match_activities_route_count =
    sizeof match_activities_routes / sizeof match_activities_routes[0];

//  ---------------------------------------------------------------------------------------
//  Sign-up events

st_status_t
match_signup_emit (st_db_t *db, const char *topic, const PGresult *res, int row,
                   const char *activity_id, const char *volunteer_id, const char *status,
                   const char *reason, st_error_t *err)
{
    msg_signup_event_t event = {0};
    st_row_to_msg (res, row, &msg_signup_event_desc, &event);
    free (event.activity_id);
    event.activity_id = st_strdup (activity_id);
    char *who = st_strdup (volunteer_id); //  may be the row's own, freed next
    free (event.volunteer_id);
    event.volunteer_id = who;
    free (event.status);
    event.status = st_strdup (status);
    free (event.reason);
    event.reason = reason ? st_strdup (reason) : NULL;
    st_status_t rc = st_outbox_append (db, topic, &msg_signup_event_desc, &event, err);
    st_msg_clear (&msg_signup_event_desc, &event);
    return rc;
}

st_status_t
match_promote (st_db_t *db, int64_t id, const char *text, int64_t places, st_error_t *err)
{
    st_params_t params = {0};
    st_params_int (&params, id);
    st_params_int (&params, places);
    PGresult *res = NULL;
    st_status_t rc = st_db_exec (db, "activity_promote", &params, &res, err);
    st_params_clear (&params);
    for (int i = 0; rc == ST_OK && i < PQntuples (res); i++) {
        const char *volunteer = st_row_text (res, i, "volunteer_id");
        const char *outcome = st_row_text (res, i, "outcome");
        if (strcmp (outcome, "promoted") == 0)
            rc = match_signup_emit (db, "signup.promoted", res, i, text, volunteer, "confirmed",
                                    NULL, err);
        else //  busy, or no longer active
            rc = match_signup_emit (db, "signup.skipped", res, i, text, volunteer, "waitlisted",
                                    outcome, err);
    }
    PQclear (res);
    return rc;
}

st_status_t
match_signups_release (st_db_t *db, int64_t volunteer, st_error_t *err)
{
    match_store_prepare (db);
    st_params_t params = {0};
    st_params_int (&params, volunteer);
    PGresult *res = NULL;
    st_status_t rc = st_db_exec (db, "signup_release_volunteer", &params, &res, err);
    st_params_clear (&params);
    for (int i = 0; rc == ST_OK && i < PQntuples (res); i++) {
        const char *activity = st_row_text (res, i, "activity_id");
        rc = match_signup_emit (db, "signup.cancelled", res, i, activity,
                                st_row_text (res, i, "volunteer_id"), "cancelled",
                                "volunteer_inactive", err);
        if (rc == ST_OK && strcmp (st_row_text (res, i, "was"), "confirmed") == 0)
            rc = match_promote (db, st_row_int (res, i, "activity_id"), activity, 1, err);
    }
    PQclear (res);
    return rc;
}

//  The sign-up events and promotions of a call (see match.h).
static void
s_emit_signup (st_call_t *call, const char *topic, const PGresult *res, int row,
               const char *activity_id, const char *volunteer_id, const char *status,
               const char *reason)
{
    st_error_t err;
    st_status_t rc = match_signup_emit (st_call_db (call), topic, res, row, activity_id,
                                        volunteer_id, status, reason, &err);
    if (rc != ST_OK)
        st_call_fail_db (call, rc, &err);
}

static int
s_promote (st_call_t *call, int64_t id, const char *text, int64_t places)
{
    st_error_t err;
    st_status_t rc = match_promote (st_call_db (call), id, text, places, &err);
    return rc == ST_OK ? 0 : st_call_fail_db (call, rc, &err);
}

//  ---------------------------------------------------------------------------------------
//  project.create — a named series of activities (项目)

static void
s_project_create (st_call_t *call, const msg_project_create_t *request, msg_project_t *reply)
{
    const msg_actor_t *actor;
    if (st_require_actor (call, &actor) || st_require_official (call, actor)
        || st_require_code (call, "region", request->region)
        || st_require_scope (call, actor, "region", request->region)
        || match_require_category (call, actor, request->category, request->region))
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
    st_row_to_msg (res, 0, &msg_project_desc, reply);
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
        st_params_null (params);
        st_params_null (params);
    }
}

//  What an activity of `region` names must be the actor's to use: in their scope, or above
//  the activity's region (a county's project, a township's institute). The project's id into
//  *project_id (0: none). Returns -1 when the call failed.
static int
s_require_references (st_call_t *call, const msg_actor_t *actor, const char *project,
                      const char *site_id, const char *category, const char *region,
                      int64_t *project_id)
{
    *project_id = 0;
    if (project) {
        PGresult *res;
        if (st_require_id (call, "project_id", "project", project, project_id)
            || match_exec_id (call, "project_region", *project_id, &res))
            return -1;
        char where[ST_REGION_SIZE] = "";
        int found = PQntuples (res);
        if (found)
            snprintf (where, sizeof where, "%s", PQgetvalue (res, 0, 0));
        PQclear (res);
        if (!found)
            return st_call_fail (call, ST_NOT_FOUND, "project_id", "no project has id \"%s\"",
                                 project);
        if (st_require_reference (call, actor, "project_id", where, region))
            return -1;
    }
    return match_require_site (call, actor, site_id, region)
                   || match_require_category (call, actor, category, region)
               ? -1
               : 0;
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
    if (s_require_references (call, actor, request->project_id, request->site_id, request->category,
                              request->region, &project_id))
        return;

    st_params_t params = {0};
    st_params_text (&params, request->title);
    st_params_text (&params, request->category);
    st_params_text (&params, request->theme);
    st_params_int_or_null (&params, project_id, project_id);
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
    st_row_to_msg (res, 0, &msg_activity_desc, reply);
    //  The event: the same row, as notify and ledger read it.
    msg_activity_created_t event = {0};
    st_row_to_msg (res, 0, &msg_activity_created_desc, &event);
    PQclear (res);
    st_call_emit (call, "activity.created", &msg_activity_created_desc, &event);
    st_msg_clear (&msg_activity_created_desc, &event);
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
    st_row_to_msg (res, 0, &msg_activity_desc, reply);
    PQclear (res);
    if (st_actor_is_official (actor))
        st_require_scope (call, actor, "id", reply->region);
}

//  ---------------------------------------------------------------------------------------
//  activity.list — what a volunteer may sign up for near them; an official's subtree

static void
s_activity_list (st_call_t *call, const msg_activity_list_t *request, msg_activity_page_t *reply)
{
    const msg_actor_t *actor;
    int64_t cursor = 0, volunteer = 0, us;
    char from[40] = "", to[40] = "";
    if (st_require_actor (call, &actor)
        || (request->cursor && st_require_id (call, "cursor", "page", request->cursor, &cursor))
        || (request->from && st_require_time (call, "from", request->from, &us, from))
        || (request->to && st_require_time (call, "to", request->to, &us, to))
        || (request->region && st_require_code (call, "region", request->region)))
        return;
    //  Where: below an official's region, above a volunteer's (or one named).
    char below[ST_REGION_SIZE] = "", above[16] = "";
    bool open_only = true;
    if (st_actor_is_official (actor)) {
        const char *region = request->region ? request->region : actor->region;
        if (st_require_scope (call, actor, "region", region))
            return;
        st_region_prefix (region, below);
        open_only = false;
    } else if (actor->role && strcmp (actor->role, "volunteer") == 0) {
        if (match_require_volunteer (call, actor, &volunteer))
            return;
        if (request->region)
            snprintf (above, sizeof above, "%s", request->region);
        else {
            PGresult *res;
            if (match_exec_id (call, "supply_region", volunteer, &res))
                return;
            if (PQntuples (res) == 1)
                snprintf (above, sizeof above, "%s", PQgetvalue (res, 0, 0));
            PQclear (res);
            if (!*above) {
                st_call_fail (call, ST_NOT_FOUND, "actor.volunteer_id",
                              "volunteer \"%s\" is not known to match", actor->volunteer_id);
                return;
            }
        }
    } else if (!request->region) {
        st_call_fail (call, ST_INVALID_ARGUMENT, "region", "\"region\" must name where to look");
        return;
    } else
        snprintf (above, sizeof above, "%s", request->region);
    //  Near a place: both coordinates or neither.
    if (request->has_lat != request->has_lon) {
        st_call_fail (call, ST_INVALID_ARGUMENT, request->has_lat ? "lon" : "lat",
                      "\"lat\" and \"lon\" come together: give both or neither");
        return;
    }
    int64_t limit = request->has_limit ? request->limit : 50;
    st_params_t params = {0};
    st_params_int_or_null (&params, volunteer != 0, volunteer);
    st_params_text (&params, *below ? below : NULL);
    st_params_text (&params, *above ? above : NULL);
    st_params_text (&params, request->category);
    st_params_text (&params, *from ? from : NULL);
    st_params_text (&params, *to ? to : NULL);
    st_params_int_or_null (&params, cursor != 0, cursor);
    st_params_int (&params, limit);
    st_params_bool (&params, open_only);
    bool near = request->has_lat || (request->has_near && request->near);
    if (near) {
        st_params_double_or_null (&params, request->has_lat, request->lat);
        st_params_double_or_null (&params, request->has_lon, request->lon);
    }
    PGresult *res;
    if (st_call_exec (call, near ? "activity_near" : "activity_list", &params, &res))
        return;
    size_t count = (size_t) PQntuples (res);
    st_rows_to_list (res, &msg_activity_desc, (st_list_t *) &reply->items, &reply->has_items);
    if ((int64_t) count == limit)
        reply->next_cursor = st_strdup (reply->items.items[count - 1].id);
    PQclear (res);
}

//  ---------------------------------------------------------------------------------------
//  schedule.list — a volunteer's promises to come

static void
s_schedule_list (st_call_t *call, const msg_schedule_list_t *request, msg_schedule_page_t *reply)
{
    const msg_actor_t *actor;
    int64_t volunteer = 0, cursor = 0;
    if (st_require_actor (call, &actor)
        || (request->cursor && st_require_id (call, "cursor", "page", request->cursor, &cursor)))
        return;
    if (st_actor_is_official (actor) || st_actor_is_system (actor)) {
        //  An official names the volunteer, who must be in their scope (else not found).
        PGresult *res;
        if (!request->volunteer_id) {
            st_call_fail (call, ST_INVALID_ARGUMENT, "volunteer_id",
                          "\"volunteer_id\" must name whose schedule");
            return;
        }
        if (st_require_id (call, "volunteer_id", "volunteer", request->volunteer_id, &volunteer)
            || match_exec_id (call, "supply_region", volunteer, &res))
            return;
        bool known = PQntuples (res) == 1;
        bool in_scope = known && st_actor_in_scope (actor, PQgetvalue (res, 0, 0));
        PQclear (res);
        if (!in_scope) {
            st_call_fail (call, ST_NOT_FOUND, "volunteer_id", "no volunteer has id \"%s\"",
                          request->volunteer_id);
            return;
        }
    } else if (match_require_volunteer (call, actor, &volunteer))
        return;
    else if (request->volunteer_id && strcmp (request->volunteer_id, actor->volunteer_id) != 0) {
        st_call_fail (call, ST_NOT_FOUND, "volunteer_id", "no volunteer has id \"%s\"",
                      request->volunteer_id);
        return;
    }
    int64_t limit = request->has_limit ? request->limit : 50;
    st_params_t params = {0};
    st_params_int (&params, volunteer);
    st_params_int_or_null (&params, cursor != 0, cursor);
    st_params_int (&params, limit);
    PGresult *res;
    if (st_call_exec (call, "schedule_list", &params, &res))
        return;
    int count = PQntuples (res);
    st_rows_to_list (res, &msg_schedule_item_desc, (st_list_t *) &reply->items, &reply->has_items);
    if (count == limit)
        reply->next_cursor = st_strdup (PQgetvalue (res, count - 1, PQfnumber (res, "commitment")));
    PQclear (res);
}

//  What an official may still do to an activity: change it before it starts, cancel it
//  before it ends.
typedef enum { S_BEFORE_START, S_BEFORE_END } s_until_t;

//  Locks activity `text` for an official in its scope and checks it is open and `until` has
//  not passed; into `before` as it stands, into *id its id. Returns -1 when the call failed
//  (`before` then holds nothing to clear).
static int
s_activity_lock (st_call_t *call, const char *text, s_until_t until, int64_t *id,
                 msg_activity_t *before)
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
    st_row_to_msg (res, 0, &msg_activity_desc, before);
    bool started = st_row_bool (res, 0, "started"), ended = st_row_bool (res, 0, "ended");
    PQclear (res);
    bool in_scope = st_require_scope (call, actor, "id", before->region) == 0;
    if (in_scope && strcmp (before->status, "open") != 0)
        st_call_fail (call, ST_FAILED_PRECONDITION, "status", "activity \"%s\" is %s already",
                      before->id, before->status);
    else if (in_scope && until == S_BEFORE_START && started)
        st_call_fail (call, ST_FAILED_PRECONDITION, "starts_at",
                      "activity \"%s\" started at %s: it can no longer change", before->id,
                      before->starts_at);
    else if (in_scope && until == S_BEFORE_END && ended)
        st_call_fail (call, ST_FAILED_PRECONDITION, "ends_at", "activity \"%s\" ended at %s",
                      before->id, before->ends_at);
    if (!st_call_failed (call))
        return 0;
    st_msg_clear (&msg_activity_desc, before);
    return -1;
}

//  ---------------------------------------------------------------------------------------
//  activity.update — an official in scope changes an activity before it starts; everyone
//  signed up is told what changed, and a larger capacity confirms the first in line

//  The times of an activity as an update leaves them, as PostgreSQL reads them.
typedef struct {
    char starts_at[40];
    char ends_at[40];
    char closes_at[40];
} s_times_t;

//  Checks an update against the activity `before` and binds its parameters, which borrow from
//  `times` (the caller's, kept while `params` lives); the names of the fields it changes into
//  `changed`. Returns -1 when the call failed.
static int
s_activity_changes (st_call_t *call, const msg_activity_update_t *request,
                    const msg_activity_t *before, s_times_t *times, st_params_t *params,
                    st_strs_t *changed)
{
    int64_t starts, ends, closes, now = st_now_ms () * 1000;
    char *starts_at = times->starts_at, *ends_at = times->ends_at, *closes_at = times->closes_at;
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
    st_params_int_or_null (params, request->has_capacity, request->capacity);
    s_params_place (params, request->has_lat && request->has_lon, request->lat, request->lon);
    return 0;
}

//  An activity moved to `times` keeps its volunteers confirmed: refuses the move (a conflict
//  naming the field moved) when one of them is committed to something else at the new time.
//  The exclusion constraint would refuse it too; this names whom and what.
static int
s_activity_clash (st_call_t *call, const msg_activity_update_t *request,
                  const msg_activity_t *before, int64_t id, const s_times_t *times)
{
    st_params_t params = {0};
    st_params_int (&params, id);
    st_params_text (&params, times->starts_at);
    st_params_text (&params, times->ends_at);
    PGresult *res;
    if (st_call_exec (call, "activity_clash", &params, &res))
        return -1;
    int rc = 0;
    if (PQntuples (res) > 0)
        rc = st_call_fail (call, ST_CONFLICT, request->starts_at ? "starts_at" : "ends_at",
                           "volunteer \"%s\" confirmed for activity \"%s\" is committed to %s at"
                           " the new time",
                           PQgetvalue (res, 0, 0), before->id, PQgetvalue (res, 0, 1));
    PQclear (res);
    return rc;
}

static void
s_activity_update (st_call_t *call, const msg_activity_update_t *request, msg_activity_t *reply)
{
    int64_t id;
    msg_activity_t before = {0};
    if (s_activity_lock (call, request->id, S_BEFORE_START, &id, &before))
        return;
    PGresult *res;
    st_strs_t changed = {0};
    s_times_t times;
    st_params_t params = {0};
    if (s_activity_changes (call, request, &before, &times, &params, &changed)
        || ((request->starts_at || request->ends_at)
            && s_activity_clash (call, request, &before, id, &times))
        || st_call_exec (call, "activity_update", &params, &res))
        goto done;
    st_row_to_msg (res, 0, &msg_activity_desc, reply);
    PQclear (res);
    //  Places opened: the first in line free then take them, in arrival order.
    int64_t places = reply->capacity - reply->confirmed;
    if (places > 0 && reply->waitlisted > 0) {
        if (s_promote (call, id, reply->id, places))
            goto done;
        st_msg_clear (&msg_activity_desc, reply);
        memset (reply, 0, sizeof *reply);
        if (match_exec_id (call, "activity_get", id, &res))
            goto done;
        st_row_to_msg (res, 0, &msg_activity_desc, reply);
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
    msg_activity_t before = {0};
    if (s_activity_lock (call, request->id, S_BEFORE_END, &id, &before))
        return;
    PGresult *res;
    PGresult *ended_signups;
    if (match_exec_id (call, "activity_cancel_signups", id, &ended_signups))
        goto done;
    st_params_t params = {0};
    st_params_int (&params, id);
    st_params_text (&params, request->reason);
    if (st_call_exec (call, "activity_cancel", &params, &res))
        goto release_signups;
    st_row_to_msg (res, 0, &msg_activity_desc, reply);
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
        s_emit_signup (call, "signup.cancelled", ended_signups, i, before.id,
                       st_row_text (ended_signups, i, "volunteer_id"), "cancelled",
                       "activity_cancelled");
release_signups:
    PQclear (ended_signups);
done:
    st_msg_clear (&msg_activity_desc, &before);
}

//  ---------------------------------------------------------------------------------------
//  activity.checkin_code — the short signed code volunteers type or scan at the activity

static void
s_activity_checkin_code (st_call_t *call, const msg_activity_get_t *request,
                         msg_checkin_code_t *reply)
{
    const msg_actor_t *actor;
    int64_t id;
    PGresult *res;
    if (st_require_actor (call, &actor) || st_require_official (call, actor)
        || st_require_id (call, "id", "activity", request->id, &id)
        || match_exec_id (call, "activity_get", id, &res))
        return;
    //  One outside the organiser's scope reads as not found.
    if (PQntuples (res) == 0 || !st_actor_in_scope (actor, st_row_text (res, 0, "region")))
        st_call_fail (call, ST_NOT_FOUND, "id", "no activity has id \"%s\"", request->id);
    else if (strcmp (st_row_text (res, 0, "status"), "open") != 0)
        st_call_fail (call, ST_FAILED_PRECONDITION, "id", "activity \"%s\" is %s", request->id,
                      st_row_text (res, 0, "status"));
    else if (st_row_bool (res, 0, "ended"))
        st_call_fail (call, ST_FAILED_PRECONDITION, "id", "activity \"%s\" ended at %s",
                      request->id, st_row_text (res, 0, "ends_at"));
    PQclear (res);
    const match_round_config_t *config = st_call_state (call);
    match_code_clock_t clock;
    if (st_call_failed (call) || match_code_clock (call, config->checkin_code_s, &clock))
        return;
    char code[MATCH_CODE_LENGTH + 1];
    match_code_of (&clock, id, clock.window, code);
    sodium_memzero (clock.key, sizeof clock.key);
    reply->code = st_strdup (code);
    reply->expires_at = st_strdup (clock.expires_at);
}

//  The volunteer acting for themself on activity `request->activity_id`: into *actor, their
//  id into *volunteer and the activity's into *activity. Returns -1 when the call failed.
static int
s_require_signer (st_call_t *call, const msg_activity_signup_t *request, const msg_actor_t **actor,
                  int64_t *volunteer, int64_t *activity)
{
    return st_require_actor (call, actor) || match_require_volunteer (call, *actor, volunteer)
                   || st_require_id (call, "activity_id", "activity", request->activity_id,
                                     activity)
               ? -1
               : 0;
}

//  Runs `statement` (activity_signup_run, activity_withdraw_run: a database function that
//  decides under the activity's row lock) for `volunteer` at activity `activity` (`text` as
//  given) into *res; fails the call for the outcomes both share (no such activity, not open).
//  Returns -1 when the call failed (*res then cleared).
static int
s_run_signup (st_call_t *call, const char *statement, int64_t activity, int64_t volunteer,
              const char *text, PGresult **res)
{
    st_params_t params = {0};
    st_params_int (&params, activity);
    st_params_int (&params, volunteer);
    if (st_call_exec (call, statement, &params, res))
        return -1;
    const char *outcome = st_row_text (*res, 0, "outcome");
    if (strcmp (outcome, "no_activity") == 0)
        st_call_fail (call, ST_NOT_FOUND, "activity_id", "no activity has id \"%s\"", text);
    else if (strcmp (outcome, "cancelled") == 0)
        st_call_fail (call, ST_FAILED_PRECONDITION, "status", "activity \"%s\" is %s", text,
                      st_row_text (*res, 0, "detail"));
    if (!st_call_failed (call))
        return 0;
    PQclear (*res);
    *res = NULL;
    return -1;
}

//  ---------------------------------------------------------------------------------------
//  activity.signup — the acting volunteer signs up (报名): confirmed while places are left,
//  waitlisted (候补) after; the database function decides under the activity's row lock

static void
s_activity_signup (st_call_t *call, const msg_activity_signup_t *request, msg_signup_t *reply)
{
    const msg_actor_t *actor;
    int64_t volunteer, activity;
    if (s_require_signer (call, request, &actor, &volunteer, &activity))
        return;
    PGresult *res;
    //  A request the volunteer accepted for the same time comes first (an accept in flight
    //  finishes before we look).
    if (match_require_free (call, volunteer, "activity_busy", activity, "activity_id"))
        return;
    if (s_run_signup (call, "activity_signup_run", activity, volunteer, request->activity_id, &res))
        return;
    const char *outcome = st_row_text (res, 0, "outcome");
    const char *detail = st_row_text (res, 0, "detail");
    const char *id = request->activity_id, *who = actor->volunteer_id;
    if (strcmp (outcome, "closed") == 0)
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
    else if (strcmp (outcome, "busy") == 0)
        st_call_fail (call, ST_CONFLICT, "activity_id",
                      "volunteer is committed to %s at an overlapping time", detail);
    else if (strcmp (outcome, "confirmed") != 0 && strcmp (outcome, "waitlisted") != 0)
        st_call_fail (call, ST_INTERNAL, NULL, "unknown sign-up outcome \"%s\"", outcome);
    if (st_call_failed (call)) {
        PQclear (res);
        return;
    }
    st_row_to_msg (res, 0, &msg_signup_desc, reply);
    reply->activity_id = st_strdup (id);
    reply->volunteer_id = st_strdup (who);
    reply->status = st_strdup (outcome);
    char topic[32];
    snprintf (topic, sizeof topic, "signup.%s", outcome);
    s_emit_signup (call, topic, res, 0, id, who, outcome, NULL);
    PQclear (res);
}

//  ---------------------------------------------------------------------------------------
//  activity.withdraw — the acting volunteer withdraws; the first on the waitlist free then
//  moves up

static void
s_activity_withdraw (st_call_t *call, const msg_activity_signup_t *request, msg_signup_t *reply)
{
    const msg_actor_t *actor;
    int64_t volunteer, activity;
    if (s_require_signer (call, request, &actor, &volunteer, &activity))
        return;
    PGresult *res;
    if (s_run_signup (call, "activity_withdraw_run", activity, volunteer, request->activity_id,
                      &res))
        return;
    const char *outcome = st_row_text (res, 0, "outcome");
    const char *detail = st_row_text (res, 0, "detail");
    const char *id = request->activity_id, *who = actor->volunteer_id;
    if (strcmp (outcome, "started") == 0)
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
    s_emit_signup (call, "signup.cancelled", res, 0, id, who, "cancelled", "withdrawn");
    //  A place freed: the first in line free then takes it.
    if (strcmp (detail, "confirmed") == 0 && !st_call_failed (call))
        s_promote (call, activity, id, 1);
    PQclear (res);
}

//  ---------------------------------------------------------------------------------------
//  activity.backfill — a region admin enters a past activity and its hours at once (补录)

//  Checks the records of a back-entry against the activity's length (`length_us`): each
//  volunteer named once, known here and in the actor's scope (not found otherwise), hours
//  within the activity. Their ids and hours into `ids` and `hours` (text arrays the caller
//  frees). Returns -1 when the call failed.
static int
s_backfill_records (st_call_t *call, const msg_actor_t *actor,
                    const msg_activity_backfill_t *request, int64_t length_us, char **ids,
                    char **hours)
{
    size_t count = request->records.count;
    if (count == 0)
        return st_call_fail (call, ST_INVALID_ARGUMENT, "records",
                             "\"records\" must name at least one volunteer");
    int64_t *volunteers = st_calloc (count, sizeof (int64_t));
    char field[64];
    for (size_t i = 0; i < count && !st_call_failed (call); i++) {
        const msg_backfill_record_t *record = &request->records.items[i];
        snprintf (field, sizeof field, "records[%zu].volunteer_id", i);
        if (st_require_id (call, field, "volunteer", record->volunteer_id, &volunteers[i]))
            break;
        for (size_t k = 0; k < i; k++)
            if (volunteers[k] == volunteers[i]) {
                st_call_fail (call, ST_INVALID_ARGUMENT, field, "volunteer \"%s\" is named twice",
                              record->volunteer_id);
                break;
            }
        if (!st_call_failed (call) && record->hours * 3600e6 > (double) length_us + 1) {
            snprintf (field, sizeof field, "records[%zu].hours", i);
            st_call_fail (call, ST_FAILED_PRECONDITION, field,
                          "%.2f hours is more than the activity lasted", record->hours);
        }
    }
    size_t room = 3 + count * 21, length = 1;
    *ids = st_malloc (room);
    *hours = st_malloc (room);
    (*ids)[0] = (*hours)[0] = '{';
    for (size_t i = 0; i < count; i++)
        length += (size_t) snprintf (*ids + length, room - length, "%s%lld", i ? "," : "",
                                     (long long) volunteers[i]);
    snprintf (*ids + length, room - length, "}");
    length = 1;
    for (size_t i = 0; i < count; i++)
        length += (size_t) snprintf (*hours + length, room - length, "%s%.2f", i ? "," : "",
                                     request->records.items[i].hours);
    snprintf (*hours + length, room - length, "}");
    free (volunteers);
    if (st_call_failed (call))
        return -1;
    st_params_t params = {0};
    st_params_text (&params, *ids);
    PGresult *res;
    if (st_call_exec (call, "backfill_volunteers", &params, &res))
        return -1;
    for (int i = 0; i < PQntuples (res); i++)
        if (st_row_null (res, i, "region")
            || !st_actor_in_scope (actor, st_row_text (res, i, "region"))) {
            snprintf (field, sizeof field, "records[%d].volunteer_id", i);
            st_call_fail (call, ST_NOT_FOUND, field, "no volunteer has id \"%s\"",
                          request->records.items[i].volunteer_id);
            break;
        }
    PQclear (res);
    return st_call_failed (call) ? -1 : 0;
}

static void
s_activity_backfill (st_call_t *call, const msg_activity_backfill_t *request, msg_backfill_t *reply)
{
    const msg_actor_t *actor;
    if (st_require_actor (call, &actor) || st_require_official (call, actor))
        return;
    if (strcmp (actor->role, "region_admin") != 0 && !st_actor_is_system (actor)) {
        st_call_fail (call, ST_PERMISSION_DENIED, "actor.role",
                      "role \"%s\" may not do this: a region admin may", actor->role);
        return;
    }
    if (st_require_code (call, "region", request->region)
        || st_require_scope (call, actor, "region", request->region))
        return;
    int64_t starts, ends, now = st_now_ms () * 1000;
    char starts_at[64], ends_at[64];
    if (st_require_time (call, "starts_at", request->starts_at, &starts, starts_at)
        || st_require_time (call, "ends_at", request->ends_at, &ends, ends_at))
        return;
    if (ends <= starts) {
        st_call_fail (call, ST_INVALID_ARGUMENT, "ends_at",
                      "\"ends_at\" must be after \"starts_at\"");
        return;
    }
    if (ends > now) {
        st_call_fail (call, ST_INVALID_ARGUMENT, "ends_at",
                      "\"ends_at\" must be past: a back-entry is of an activity that is over");
        return;
    }
    int64_t project_id = 0;
    char *ids = NULL, *hours = NULL;
    if (s_require_references (call, actor, request->project_id, request->site_id, request->category,
                              request->region, &project_id)
        || s_backfill_records (call, actor, request, ends - starts, &ids, &hours))
        goto done;
    st_params_t params = {0};
    st_params_text (&params, request->title);
    st_params_text (&params, request->category);
    st_params_int_or_null (&params, project_id, project_id);
    st_params_text (&params, request->site_id);
    st_params_text (&params, request->region);
    st_params_text (&params, starts_at);
    st_params_text (&params, ends_at);
    st_params_int (&params, (int64_t) request->records.count);
    st_params_text (&params, actor->account);
    PGresult *res;
    if (st_call_exec (call, "backfill_activity", &params, &res))
        goto done;
    st_row_to_msg (res, 0, &msg_activity_desc, &reply->activity);
    reply->has_activity = true;
    PQclear (res);
    int64_t activity = atoll (reply->activity.id);
    st_params_int (&params, activity);
    st_params_text (&params, actor->account);
    st_params_text (&params, actor->role);
    st_params_text (&params, request->reason);
    st_params_int (&params, (int64_t) request->records.count);
    if (st_call_exec (call, "backfill_audit", &params, NULL))
        goto done;
    st_params_int (&params, activity);
    st_params_text (&params, ids);
    st_params_text (&params, hours);
    st_params_text (&params, actor->account);
    if (st_call_exec (call, "backfill_records", &params, &res))
        goto done;
    st_rows_to_list (res, &msg_service_record_desc, (st_list_t *) &reply->records,
                     &reply->has_records);
    PQclear (res);
    //  Each record's hours go to the ledger as any confirmed hours do.
    for (size_t i = 0; i < reply->records.count && !st_call_failed (call); i++) {
        const msg_service_record_t *record = &reply->records.items[i];
        msg_service_completed_t event = {.record_id = record->id,
                                         .volunteer_id = record->volunteer_id,
                                         .activity_id = record->activity_id,
                                         .region = record->region,
                                         .category = request->category,
                                         .hours = record->hours,
                                         .has_hours = true,
                                         .checkin_at = record->checkin_at,
                                         .checkout_at = record->checkout_at,
                                         .minutes = llround (record->hours * 60),
                                         .has_minutes = true};
        st_call_emit (call, "service.completed", &msg_service_completed_desc, &event);
    }
done:
    free (ids);
    free (hours);
}

//  ---------------------------------------------------------------------------------------
//  activity.roster — who signed up for an activity and where each stands on the day

static void
s_activity_roster (st_call_t *call, const msg_roster_list_t *request, msg_roster_page_t *reply)
{
    const msg_actor_t *actor;
    int64_t id, after = 0;
    PGresult *res;
    if (st_require_actor (call, &actor) || st_require_official (call, actor)
        || st_require_id (call, "activity_id", "activity", request->activity_id, &id)
        || (request->cursor && st_require_id (call, "cursor", "page", request->cursor, &after))
        || match_exec_id (call, "activity_get", id, &res))
        return;
    //  Out of scope reads as not known, as activity.get's does not.
    bool known = PQntuples (res) == 1 && st_actor_in_scope (actor, st_row_text (res, 0, "region"));
    PQclear (res);
    if (!known) {
        st_call_fail (call, ST_NOT_FOUND, "activity_id", "no activity has id \"%s\"",
                      request->activity_id);
        return;
    }
    int64_t limit = request->has_limit ? request->limit : 100;
    st_params_t params = {0};
    st_params_int (&params, id);
    st_params_int (&params, after);
    st_params_int (&params, limit + 1); //  one more tells whether a next page exists
    if (st_call_exec (call, "activity_roster", &params, &res))
        return;
    int rows = PQntuples (res);
    int shown = rows > limit ? (int) limit : rows;
    reply->items.items = st_calloc (shown ? (size_t) shown : 1, sizeof (msg_roster_entry_t));
    reply->has_items = true;
    for (int i = 0; i < shown; i++) {
        st_row_to_msg (res, i, &msg_roster_entry_desc, &reply->items.items[i]);
        reply->items.count = (size_t) i + 1;
    }
    if (rows > limit)
        reply->next_cursor = st_strdup (st_row_text (res, shown - 1, "k"));
    PQclear (res);
}
