/*  match_dispatch.c — service requests (点单) and offers (派单 → 接单), and a region's own
    dispatch settings

    A resident (or an official for one) posts a request; a round (match_round.c) offers it to
    fitting volunteers; a volunteer accepts or declines; an accepted offer is a commitment the
    database keeps from overlapping any other of the same volunteer.  */
#include "match.h"
#include "match_dispatch_store.h"
#include "match_util.h"
#include "st_checks.h"
#include "st_log.h"
#include "st_rows.h"
#include "st_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

ST_MATCH_DISPATCH_OPS (ST_ROUTE_THUNK)

//  The sentinel keeps the table valid while it is empty.
const st_route_t match_dispatch_routes[] = {ST_MATCH_DISPATCH_OPS (ST_ROUTE_ROW){NULL, NULL}};
const size_t match_dispatch_route_count =
    sizeof match_dispatch_routes / sizeof match_dispatch_routes[0] - 1;

//  ---------------------------------------------------------------------------------------
//  Small helpers (regions, times and the common checks are common/'s st_scope, st_time and
//  st_checks)

//  True when the actor acts in `role`.
static bool
s_role (const msg_actor_t *actor, const char *role)
{
    return strcmp (actor->role, role) == 0;
}

//  Withdraws a request's pending offers inside the call (and its accepted ones when
//  `accepted_too`), each with its offer.withdrawn.
static int
s_withdraw (st_call_t *call, int64_t request_id, bool accepted_too)
{
    st_params_t params = {0};
    st_params_int (&params, request_id);
    st_params_bool (&params, accepted_too);
    PGresult *res;
    if (st_call_exec (call, "dispatch_withdraw", &params, &res))
        return -1;
    for (int row = 0; row < PQntuples (res); row++) {
        msg_offer_t offer = {0};
        st_row_to_msg (res, row, &msg_offer_desc, &offer);
        st_call_emit (call, "offer.withdrawn", &msg_offer_desc, &offer);
        st_msg_clear (&msg_offer_desc, &offer);
    }
    PQclear (res);
    return st_call_failed (call) ? -1 : 0;
}

//  ---------------------------------------------------------------------------------------
//  request.create — a resident's service request (点单)

//  Beneficiary fairness: a resident is served one category at most the region's daily limit
//  of times a local day (requests that are or may still be served count). The resident's
//  requests are serialised meanwhile, so two at once cannot both pass the count.
static int
s_daily_limit (st_call_t *call, int64_t resident_id, const char *category, const char *region,
               const char *start_utc)
{
    PGresult *res;
    if (match_exec_id (call, "dispatch_resident_lock", resident_id, NULL))
        return -1;
    st_params_t params = {0};
    st_params_int (&params, resident_id);
    st_params_text (&params, category);
    st_params_text (&params, region);
    st_params_text (&params, start_utc);
    if (st_call_exec (call, "dispatch_daily_count", &params, &res))
        return -1;
    int rc = 0;
    if (!st_row_null (res, 0, "daily_limit")
        && st_row_int (res, 0, "used") >= st_row_int (res, 0, "daily_limit"))
        rc = st_call_fail (call, ST_RESOURCE_EXHAUSTED, "category",
                           "resident has %s requests of category \"%s\" that day already,"
                           " the most region %s allows",
                           st_row_text (res, 0, "used"), category, region);
    PQclear (res);
    return rc;
}

static void
s_request_create (st_call_t *call, const msg_request_create_t *request,
                  msg_service_request_t *reply)
{
    const msg_actor_t *actor;
    if (st_require_actor (call, &actor))
        return;
    match_dispatch_store_prepare (st_call_db (call));
    if (st_require_code (call, "region", request->region))
        return;
    if (request->has_lat != request->has_lon) {
        st_call_fail (call, ST_INVALID_ARGUMENT, request->has_lat ? "lon" : "lat",
                      "\"lat\" and \"lon\" go together");
        return;
    }
    //  Whom the request is for: the acting resident, or the one an official names.
    int64_t resident_id = 0;
    if (s_role (actor, "resident")) {
        if (!st_parse_id (actor->resident_id, &resident_id)) {
            st_call_fail (call, ST_INVALID_ARGUMENT, "actor.resident_id",
                          "\"actor.resident_id\" must name whom the account stands for");
            return;
        }
        if (request->resident_id && strcmp (request->resident_id, actor->resident_id) != 0) {
            st_call_fail (call, ST_PERMISSION_DENIED, "resident_id",
                          "a resident posts requests only for themselves");
            return;
        }
        if (match_require_home (call, resident_id, "region", request->region))
            return;
    } else if (st_actor_is_system (actor) || st_actor_is_official (actor)) {
        if (!st_actor_in_scope (actor, request->region)) {
            st_call_fail (call, ST_PERMISSION_DENIED, "region",
                          "region \"%s\" is outside the scope \"%s\" of account \"%s\"",
                          request->region, actor->region ? actor->region : "", actor->account);
            return;
        }
        if (request->resident_id && !st_parse_id (request->resident_id, &resident_id)) {
            st_call_fail (call, ST_INVALID_ARGUMENT, "resident_id",
                          "\"resident_id\" must be a resident's id");
            return;
        }
        //  Whom an official names lives in their scope (out of scope reads as not known).
        char home[ST_REGION_SIZE];
        if (resident_id && match_resident_home (call, resident_id, "resident_id", home))
            return;
        if (resident_id && !st_actor_in_scope (actor, home)) {
            st_call_fail (call, ST_NOT_FOUND, "resident_id", "no resident \"%s\" is known here",
                          request->resident_id);
            return;
        }
    } else {
        st_call_fail (call, ST_PERMISSION_DENIED, "actor.role",
                      "role \"%s\" may not do this: a resident or an official may", actor->role);
        return;
    }
    int64_t start, end;
    char start_utc[40], end_utc[40];
    if (st_require_time (call, "earliest_start", request->earliest_start, &start, start_utc)
        || st_require_time (call, "latest_end", request->latest_end, &end, end_utc))
        return;
    if (start <= (int64_t) time (NULL) * 1000000) {
        st_call_fail (call, ST_INVALID_ARGUMENT, "earliest_start",
                      "\"earliest_start\" must be in the future");
        return;
    }
    //  Dispatch looks ahead only so far (a request for next year waits in nobody's round), and
    //  a window is what a volunteer commits to whole: both bounded (STATION_DISPATCH_HORIZON_DAYS,
    //  STATION_DISPATCH_WINDOW_DAYS).
    const match_round_config_t *platform = st_call_state (call);
    const int64_t day = INT64_C (86400000000);
    if (start > (int64_t) time (NULL) * 1000000 + platform->horizon_days * day) {
        st_call_fail (call, ST_INVALID_ARGUMENT, "earliest_start",
                      "\"earliest_start\" must be at most %lld days from now",
                      (long long) platform->horizon_days);
        return;
    }
    if (end - start > platform->window_days * day) {
        st_call_fail (call, ST_INVALID_ARGUMENT, "latest_end",
                      "\"latest_end\" must be at most %lld days after \"earliest_start\"",
                      (long long) platform->window_days);
        return;
    }
    if (end - start < request->duration_minutes * 60 * 1000000) {
        st_call_fail (call, ST_INVALID_ARGUMENT, "latest_end",
                      "\"latest_end\" must leave \"duration_minutes\" after \"earliest_start\"");
        return;
    }
    static const char *const urgencies[] = {"normal", "urgent", NULL};
    const char *urgency = request->urgency ? request->urgency : "normal";
    if (st_require_one_of (call, "urgency", urgency, urgencies)
        || match_require_category (call, actor, request->category, request->region))
        return;
    if (resident_id
        && s_daily_limit (call, resident_id, request->category, request->region, start_utc))
        return;

    st_params_t params = {0};
    st_params_text (&params, request->category);
    st_params_text (&params, request->title);
    st_params_text (&params, request->description);
    st_params_text (&params, request->region);
    st_params_double_or_null (&params, request->has_lat, request->lat);
    st_params_double_or_null (&params, request->has_lon, request->lon);
    st_params_text (&params, start_utc);
    st_params_text (&params, end_utc);
    st_params_int (&params, request->duration_minutes);
    st_params_int (&params, request->headcount);
    st_params_text_array (&params, request->skills.items, request->skills.count);
    st_params_text (&params, urgency);
    st_params_int_or_null (&params, resident_id, resident_id);
    st_params_text (&params, actor->account);
    st_params_int (&params, request->has_min_stars ? request->min_stars : 0);
    st_params_bool (&params, request->has_insurance_required && request->insurance_required);
    //  A request an official posts is reviewed by posting it.
    st_params_bool (&params, s_role (actor, "resident"));
    st_params_text (&params, request->address);
    if (st_call_exec_reply (call, "dispatch_request_insert", &params, &msg_service_request_desc,
                            reply)
        < 0)
        return;
    msg_request_event_t event = match_request_event (reply);
    //  `event` borrows from `reply`: not cleared.
    bool review = strcmp (reply->status, "review") == 0;
    st_call_emit (call, review ? "request.submitted" : "request.published", &msg_request_event_desc,
                  &event);
}

//  ---------------------------------------------------------------------------------------
//  request.get — a request with who was offered it and where each offer stands

//  Fills `reply` from `res` (dispatch_request_get's or _lock's answer, borrowed) when the
//  actor may see request `text`: its resident, officials in scope, the system. Out of scope
//  reads as not found. Returns -1 when the call failed.
static int
s_request_seen (st_call_t *call, const msg_actor_t *actor, const char *text, PGresult *res,
                msg_service_request_t *reply)
{
    if (PQntuples (res) == 0)
        return st_call_fail (call, ST_NOT_FOUND, "id", "no request has id \"%s\"", text);
    st_row_to_msg (res, 0, &msg_service_request_desc, reply);
    bool own = reply->resident_id && st_actor_is_resident (actor, reply->resident_id);
    if (!own && !st_actor_in_scope (actor, reply->region))
        return st_call_fail (call, ST_NOT_FOUND, "id", "no request has id \"%s\"", text);
    return 0;
}

//  Reads request `text` into `reply` for an actor who may see it (s_request_seen). `lock`
//  takes the row lock. Returns -1 when the call failed.
static int
s_request_load (st_call_t *call, const char *text, bool lock, msg_service_request_t *reply)
{
    const msg_actor_t *actor;
    int64_t id;
    if (st_require_actor (call, &actor))
        return -1;
    match_dispatch_store_prepare (st_call_db (call));
    if (!st_parse_id (text, &id))
        return st_call_fail (call, ST_NOT_FOUND, "id", "no request has id \"%s\"", text);
    PGresult *res;
    if (match_exec_id (call, lock ? "dispatch_request_lock" : "dispatch_request_get", id, &res))
        return -1;
    int rc = s_request_seen (call, actor, text, res, reply);
    PQclear (res);
    return rc;
}

//  Who serves a request (dispatch_assignments' answer, borrowed) into `reply`: the accepted
//  volunteers, and for officials the offers pending too.
static void
s_request_serving (PGresult *res, msg_service_request_t *reply)
{
    st_rows_to_list (res, &msg_assignment_desc, (st_list_t *) &reply->assignments,
                     &reply->has_assignments);
}

//  The parameters of dispatch_assignments for request `id` read by `actor`.
static void
s_serving_params (st_params_t *params, int64_t id, const msg_actor_t *actor)
{
    st_params_int (params, id);
    st_params_bool (params, !s_role (actor, "resident"));
}

//  Adds who serves the request to `reply` (s_request_serving).
static int
s_request_assignments (st_call_t *call, msg_service_request_t *reply)
{
    st_params_t params = {0};
    s_serving_params (&params, atoll (reply->id), st_call_actor (call));
    PGresult *res;
    if (st_call_exec (call, "dispatch_assignments", &params, &res))
        return -1;
    s_request_serving (res, reply);
    PQclear (res);
    return 0;
}

//  The request and who serves it, asked together (one round trip, one snapshot): who serves
//  it is dropped unseen when the request is not the actor's to see.
static void
s_request_get (st_call_t *call, const msg_dispatch_ref_t *request, msg_service_request_t *reply)
{
    const msg_actor_t *actor;
    int64_t id;
    if (st_require_actor (call, &actor))
        return;
    match_dispatch_store_prepare (st_call_db (call));
    if (!st_parse_id (request->id, &id)) {
        st_call_fail (call, ST_NOT_FOUND, "id", "no request has id \"%s\"", request->id);
        return;
    }
    st_params_t one = {0}, serving = {0};
    st_params_int (&one, id);
    s_serving_params (&serving, id, actor);
    PGresult *found = NULL, *who = NULL;
    st_db_step_t steps[] = {{.name = "dispatch_request_get", .params = &one, .result = &found},
                            {.name = "dispatch_assignments", .params = &serving, .result = &who}};
    if (st_call_exec_steps (call, steps, 2) == 0
        && s_request_seen (call, actor, request->id, found, reply) == 0)
        s_request_serving (who, reply);
    st_params_clear (&one);
    st_params_clear (&serving);
    PQclear (found);
    PQclear (who);
}

//  ---------------------------------------------------------------------------------------
//  request.list — a page of requests, newest first: a region's for officials, a resident's
//  own

static void
s_request_list (st_call_t *call, const msg_request_list_t *request, msg_request_page_t *reply)
{
    const msg_actor_t *actor;
    int64_t resident = 0, cursor = 0;
    if (st_require_actor (call, &actor))
        return;
    match_dispatch_store_prepare (st_call_db (call));
    static const char *const statuses[] = {"review",   "open",      "matching",
                                           "staffed",  "completed", "unfilled",
                                           "rejected", "cancelled", NULL};
    if ((request->status && st_require_one_of (call, "status", request->status, statuses))
        || (request->cursor && st_require_id (call, "cursor", "page", request->cursor, &cursor)))
        return;
    //  Whose: a resident's own, or a subtree an official may see (their whole scope unless
    //  narrowed).
    const char *region = request->region;
    if (s_role (actor, "resident")) {
        if (match_require_resident (call, actor, &resident))
            return;
    } else if (st_require_official (call, actor)
               || (region
                   && (st_require_code (call, "region", region)
                       || st_require_scope (call, actor, "region", region))))
        return;
    else if (!region)
        region = actor->region;
    char prefix[ST_REGION_SIZE] = "";
    if (region)
        st_region_prefix (region, prefix);
    int64_t limit = request->has_limit ? request->limit : 50;
    st_params_t params = {0};
    st_params_text (&params, region ? prefix : NULL);
    st_params_int_or_null (&params, resident, resident);
    st_params_text (&params, request->status);
    st_params_int (&params, request->cursor ? cursor : INT64_MAX);
    st_params_int (&params, limit);
    //  An official's county or township subtree along its own index
    //  (0022_request_list_subtree.sql), of one status along another
    //  (0028_request_list_status.sql).
    const char *statement = "dispatch_request_list";
    if (region && !resident && strlen (prefix) == 6)
        statement = request->status ? "dispatch_request_list_6s" : "dispatch_request_list_6";
    else if (region && !resident && strlen (prefix) == 9)
        statement = request->status ? "dispatch_request_list_9s" : "dispatch_request_list_9";
    PGresult *res;
    if (st_call_exec (call, statement, &params, &res))
        return;
    size_t count = (size_t) PQntuples (res);
    st_rows_to_list (res, &msg_service_request_desc, (st_list_t *) &reply->items,
                     &reply->has_items);
    //  A full page may have a next one.
    if ((int64_t) count == limit)
        reply->next_cursor = st_strdup (reply->items.items[count - 1].id);
    PQclear (res);
}

//  ---------------------------------------------------------------------------------------
//  request.cancel — pending and accepted offers withdrawn (their volunteers are told),
//  the accepted volunteers' time released

static void
s_request_cancel (st_call_t *call, const msg_dispatch_ref_t *request, msg_service_request_t *reply)
{
    msg_service_request_t current = {0};
    if (s_request_load (call, request->id, true, &current)) {
        st_msg_clear (&msg_service_request_desc, &current);
        return;
    }
    bool live = strcmp (current.status, "review") == 0 || strcmp (current.status, "open") == 0
                || strcmp (current.status, "matching") == 0
                || strcmp (current.status, "staffed") == 0;
    char status[16];
    snprintf (status, sizeof status, "%s", current.status);
    int64_t id = atoll (current.id), starts = 0;
    bool started = st_time_parse (current.earliest_start, &starts) && starts <= st_now_ms () * 1000;
    st_msg_clear (&msg_service_request_desc, &current);
    if (!live) {
        st_call_fail (call, ST_CONFLICT, "id", "request \"%s\" is %s already", request->id, status);
        return;
    }
    //  Once its window has begun the volunteers may be on their way or at work: what happens
    //  then is for the service records, not a cancellation.
    if (started) {
        st_call_fail (call, ST_CONFLICT, "id", "request \"%s\" has started", request->id);
        return;
    }
    PGresult *res;
    if (s_withdraw (call, id, true) || match_exec_id (call, "dispatch_release", id, NULL)
        || match_exec_id (call, "dispatch_request_cancel", id, &res))
        return;
    st_row_to_msg (res, 0, &msg_service_request_desc, reply);
    PQclear (res);
    if (s_request_assignments (call, reply))
        return;
    msg_request_event_t event = match_request_event (reply);
    //  `event` borrows from `reply`: not cleared.
    st_call_emit (call, "request.cancelled", &msg_request_event_desc, &event);
}

//  A region or station admin: a team leader leads people, not a region's dispatch.
static int
s_require_admin_role (st_call_t *call, const msg_actor_t *actor)
{
    if (st_require_official (call, actor))
        return -1;
    if (s_role (actor, "team_leader"))
        return st_call_fail (call, ST_PERMISSION_DENIED, "actor.role",
                             "role \"team_leader\" may not do this: a region or station admin may");
    return 0;
}

//  A region or station admin in whose scope `region` lies.
static int
s_require_admin (st_call_t *call, const char *region)
{
    const msg_actor_t *actor;
    if (st_require_actor (call, &actor) || s_require_admin_role (call, actor)
        || st_require_code (call, "region", region))
        return -1;
    match_dispatch_store_prepare (st_call_db (call));
    return st_require_scope (call, actor, "region", region);
}

//  ---------------------------------------------------------------------------------------
//  request.review — a station admin approves (it enters dispatch) or rejects (审单)

static void
s_request_review (st_call_t *call, const msg_request_review_t *request,
                  msg_service_request_t *reply)
{
    const msg_actor_t *actor;
    if (st_require_actor (call, &actor) || s_require_admin_role (call, actor))
        return;
    if (!request->approve && !request->reason) {
        st_call_fail (call, ST_INVALID_ARGUMENT, "reason",
                      "\"reason\" is required to reject: the resident is told it");
        return;
    }
    msg_service_request_t current = {0};
    if (s_request_load (call, request->id, true, &current)) {
        st_msg_clear (&msg_service_request_desc, &current);
        return;
    }
    bool waiting = strcmp (current.status, "review") == 0;
    if (!waiting)
        st_call_fail (call, ST_CONFLICT, "id", "request \"%s\" is %s, not waiting for review",
                      request->id, current.status);
    int64_t id = atoll (current.id);
    st_msg_clear (&msg_service_request_desc, &current);
    if (!waiting)
        return;
    st_params_t params = {0};
    st_params_int (&params, id);
    st_params_bool (&params, request->approve);
    st_params_text (&params, request->reason);
    st_params_text (&params, actor->account);
    if (st_call_exec_reply (call, "dispatch_request_review", &params, &msg_service_request_desc,
                            reply)
        < 0)
        return;
    msg_request_event_t event = match_request_event (reply);
    st_call_emit (call, request->approve ? "request.published" : "request.rejected",
                  &msg_request_event_desc, &event);
}

//  ---------------------------------------------------------------------------------------
//  request.rate — the resident rates a completed request once (评单)

static void
s_request_rate (st_call_t *call, const msg_request_rate_t *request, msg_service_request_t *reply)
{
    const msg_actor_t *actor;
    int64_t resident;
    if (st_require_actor (call, &actor) || match_require_resident (call, actor, &resident))
        return;
    msg_service_request_t current = {0};
    if (s_request_load (call, request->id, true, &current)) {
        st_msg_clear (&msg_service_request_desc, &current);
        return;
    }
    //  Only the resident the request was for rates it; to anyone else it does not exist.
    int64_t owner = 0;
    bool own =
        current.resident_id && st_parse_id (current.resident_id, &owner) && owner == resident;
    if (!own)
        st_call_fail (call, ST_NOT_FOUND, "id", "no request has id \"%s\"", request->id);
    else if (current.has_rating)
        st_call_fail (call, ST_CONFLICT, "id", "request \"%s\" is rated already", request->id);
    else if (strcmp (current.status, "completed") != 0)
        st_call_fail (call, ST_FAILED_PRECONDITION, "id",
                      "request \"%s\" is %s: a request is rated once its service is confirmed",
                      request->id, current.status);
    int64_t id = atoll (current.id);
    st_msg_clear (&msg_service_request_desc, &current);
    if (st_call_failed (call))
        return;
    st_params_t params = {0};
    st_params_int (&params, id);
    st_params_int (&params, request->stars);
    st_params_text (&params, request->comment);
    PGresult *res;
    if (st_call_exec_reply (call, "dispatch_request_rate", &params, &msg_service_request_desc,
                            reply)
        < 0)
        return;
    if (match_exec_id (call, "dispatch_request_served", id, &res))
        return;
    msg_service_rated_t event = {.request_id = reply->id,
                                 .resident_id = reply->resident_id,
                                 .region = reply->region,
                                 .category = reply->category,
                                 .stars = request->stars,
                                 .has_stars = true,
                                 .comment = request->comment,
                                 .volunteer_ids = match_ids_of (res),
                                 .has_volunteer_ids = true};
    st_call_emit (call, "service.rated", &msg_service_rated_desc, &event);
    //  The event borrows its strings from `reply`, `request` and `res`.
    free (event.volunteer_ids.items);
    PQclear (res);
}

//  ---------------------------------------------------------------------------------------
//  settings.set and settings.get — what a region decides for its own dispatch

//  The settings in force at `region` into `reply`.
static int
s_settings_read (st_call_t *call, const char *region, msg_region_settings_t *reply)
{
    st_params_t params = {0};
    st_params_text (&params, region);
    PGresult *res;
    if (st_call_exec (call, "dispatch_settings_get", &params, &res))
        return -1;
    reply->region = st_strdup (region);
    st_row_to_msg (res, 0, &msg_region_settings_desc, reply);
    PQclear (res);
    return 0;
}

//  Fails the call unless every name in settings.set's clear is a setting the request does
//  not also give; 0 when all are. *widen: whether a widening delay is among them.
static int
s_require_clear (st_call_t *call, const msg_region_settings_t *request, bool *widen)
{
    const struct {
        const char *name;
        bool given;
    } settings[] = {{"review_required", request->has_review_required},
                    {"daily_limit", request->has_daily_limit},
                    {"widen_township_s", request->has_widen_township_s},
                    {"widen_county_s", request->has_widen_county_s},
                    {"checkin_radius_m", request->has_checkin_radius_m}};
    *widen = false;
    for (size_t i = 0; i < request->clear.count; i++) {
        const char *name = request->clear.items[i];
        size_t s = 0;
        while (s < sizeof settings / sizeof settings[0] && strcmp (settings[s].name, name) != 0)
            s++;
        if (s == sizeof settings / sizeof settings[0]) {
            st_call_fail (call, ST_INVALID_ARGUMENT, "clear",
                          "could not clear \"%s\": not a setting (review_required, daily_limit,"
                          " widen_township_s, widen_county_s, checkin_radius_m)",
                          name);
            return -1;
        }
        if (settings[s].given) {
            st_call_fail (call, ST_INVALID_ARGUMENT, name, "\"%s\" is both given and cleared",
                          name);
            return -1;
        }
        if (strncmp (name, "widen_", 6) == 0)
            *widen = true;
    }
    return 0;
}

static void
s_settings_set (st_call_t *call, const msg_region_settings_t *request, msg_region_settings_t *reply)
{
    bool cleared_widen;
    if (s_require_admin (call, request->region) || s_require_clear (call, request, &cleared_widen))
        return;
    st_params_t params = {0};
    st_params_text (&params, request->region);
    st_params_bool_or_null (&params, request->has_review_required, request->review_required);
    st_params_int_or_null (&params, request->has_daily_limit, request->daily_limit);
    st_params_int_or_null (&params, request->has_widen_township_s, request->widen_township_s);
    st_params_int_or_null (&params, request->has_widen_county_s, request->widen_county_s);
    st_params_int_or_null (&params, request->has_checkin_radius_m, request->checkin_radius_m);
    st_params_text (&params, st_call_actor (call)->account);
    st_params_text_array (&params, request->clear.items, request->clear.count);
    if (st_call_exec (call, "dispatch_settings_set", &params, NULL)
        || s_settings_read (call, request->region, reply))
        return;
    //  What is in force now, inherited and default values included, must widen in order
    //  (the call failing takes the change back); the error names what the request gave, or
    //  clear when it only cleared a delay.
    const match_round_config_t *platform = st_call_state (call);
    int township =
        (int) (reply->has_widen_township_s ? reply->widen_township_s : platform->township_s);
    int county = (int) (reply->has_widen_county_s ? reply->widen_county_s : platform->county_s);
    const char *field = request->has_widen_county_s     ? "widen_county_s"
                        : request->has_widen_township_s ? "widen_township_s"
                        : cleared_widen                 ? "clear"
                                                        : "widen_township_s";
    if (county < township)
        st_call_fail (call, ST_INVALID_ARGUMENT, field,
                      "the search would widen to the county (after %d s) before the township"
                      " (after %d s)",
                      county, township);
}

static void
s_settings_get (st_call_t *call, const msg_region_ref_t *request, msg_region_settings_t *reply)
{
    if (s_require_admin (call, request->region) == 0)
        s_settings_read (call, request->region, reply);
}

//  ---------------------------------------------------------------------------------------
//  offer.list — the acting volunteer's offers

static void
s_offer_list (st_call_t *call, const msg_offer_list_t *request, msg_offers_t *reply)
{
    const msg_actor_t *actor;
    int64_t volunteer;
    if (st_require_actor (call, &actor) || match_require_volunteer (call, actor, &volunteer))
        return;
    match_dispatch_store_prepare (st_call_db (call));
    static const char *const statuses[] = {"pending", "accepted",  "declined",
                                           "expired", "withdrawn", NULL};
    if (request->status && st_require_one_of (call, "status", request->status, statuses))
        return;
    st_params_t params = {0};
    st_params_int (&params, volunteer);
    st_params_text (&params, request->status);
    PGresult *res;
    if (st_call_exec (call, "dispatch_offer_list", &params, &res))
        return;
    st_rows_to_list (res, &msg_offer_desc, (st_list_t *) &reply->items, &reply->has_items);
    //  Each offer with its request's summary, from the same rows.
    for (size_t i = 0; i < reply->items.count; i++) {
        st_row_to_msg (res, (int) i, &msg_offer_request_desc, &reply->items.items[i].request);
        reply->items.items[i].has_request = true;
    }
    PQclear (res);
}

//  ---------------------------------------------------------------------------------------
//  offer.accept and offer.decline — the offered volunteer answers (接单)

//  Locks the offer and its request for the acting volunteer and checks it can still be
//  answered: pending and within its deadline. Fills *volunteer. Returns -1 when it failed.
static int
s_offer_answerable (st_call_t *call, const char *text, int64_t *offer_id, int64_t *volunteer,
                    int64_t *request_id)
{
    const msg_actor_t *actor;
    if (st_require_actor (call, &actor) || match_require_volunteer (call, actor, volunteer))
        return -1;
    match_dispatch_store_prepare (st_call_db (call));
    if (!st_parse_id (text, offer_id))
        return st_call_fail (call, ST_NOT_FOUND, "id", "no offer has id \"%s\"", text);
    PGresult *res;
    if (match_exec_id (call, "dispatch_offer_lock", *offer_id, &res))
        return -1;
    //  Someone else's offer reads as not found.
    if (PQntuples (res) == 0 || st_row_int (res, 0, "volunteer_id") != *volunteer) {
        PQclear (res);
        return st_call_fail (call, ST_NOT_FOUND, "id", "no offer has id \"%s\"", text);
    }
    *request_id = st_row_int (res, 0, "request_id");
    const char *status = st_row_text (res, 0, "status");
    int rc = 0;
    if (strcmp (status, "pending") != 0)
        rc = st_call_fail (call, ST_CONFLICT, "id", "offer \"%s\" is %s already", text, status);
    else if (st_row_bool (res, 0, "lapsed"))
        rc = st_call_fail (call, ST_CONFLICT, "id", "offer \"%s\" expired at %s", text,
                           st_row_text (res, 0, "deadline"));
    else if (!st_row_bool (res, 0, "live"))
        rc = st_call_fail (call, ST_CONFLICT, "id", "the request of offer \"%s\" is closed", text);
    PQclear (res);
    return rc;
}

//  Sets a pending offer's answer into `reply`.
static int
s_offer_answer (st_call_t *call, int64_t offer_id, const char *status, msg_offer_t *reply)
{
    st_params_t params = {0};
    st_params_int (&params, offer_id);
    st_params_text (&params, status);
    PGresult *res;
    if (st_call_exec (call, "dispatch_offer_answer", &params, &res))
        return -1;
    st_row_to_msg (res, 0, &msg_offer_desc, reply);
    PQclear (res);
    return 0;
}

//  What follows an accepted offer `offer` of request `request_id` (its commitment made): the
//  request counts it (staffed when full: its pending offers withdrawn), offer.accepted and
//  request.staffed go out. The request as it is now into `now` when not NULL. Returns -1 when
//  the call failed.
static int
s_offer_accepted (st_call_t *call, int64_t request_id, const msg_offer_t *offer,
                  msg_service_request_t *now)
{
    PGresult *res;
    if (match_exec_id (call, "dispatch_request_accepted", request_id, &res))
        return -1;
    msg_service_request_t staffed = {0};
    st_row_to_msg (res, 0, &msg_service_request_desc, &staffed);
    PQclear (res);
    st_call_emit (call, "offer.accepted", &msg_offer_desc, offer);
    if (strcmp (staffed.status, "staffed") == 0 && s_withdraw (call, request_id, false) == 0
        && match_exec_id (call, "dispatch_request_serving", request_id, &res) == 0) {
        msg_request_event_t event = match_request_event (&staffed);
        event.volunteer_ids = match_ids_of (res);
        event.has_volunteer_ids = true;
        st_call_emit (call, "request.staffed", &msg_request_event_desc, &event);
        free (event.volunteer_ids.items);
        PQclear (res);
    }
    if (now)
        *now = staffed;
    else
        st_msg_clear (&msg_service_request_desc, &staffed);
    return st_call_failed (call) ? -1 : 0;
}

static void
s_offer_accept (st_call_t *call, const msg_dispatch_ref_t *request, msg_offer_t *reply)
{
    int64_t offer_id, volunteer, request_id;
    if (s_offer_answerable (call, request->id, &offer_id, &volunteer, &request_id))
        return;
    //  The exclusion constraint refuses an overlap with a request anyway; this names it for
    //  the volunteer, and an activity too (a sign-up in flight finishes before we look).
    if (match_require_free (call, volunteer, "dispatch_overlap", request_id, "id"))
        return;
    st_params_t params = {0};
    st_params_int (&params, volunteer);
    st_params_int (&params, request_id);
    if (st_call_exec (call, "dispatch_commit", &params, NULL)
        || s_offer_answer (call, offer_id, "accepted", reply))
        return;
    s_offer_accepted (call, request_id, reply, NULL);
}

static void
s_offer_decline (st_call_t *call, const msg_dispatch_ref_t *request, msg_offer_t *reply)
{
    int64_t offer_id, volunteer, request_id;
    if (s_offer_answerable (call, request->id, &offer_id, &volunteer, &request_id)
        || s_offer_answer (call, offer_id, "declined", reply))
        return;
    st_call_emit (call, "offer.declined", &msg_offer_desc, reply);
}

//  ---------------------------------------------------------------------------------------
//  offer.assign — a region or station admin assigns a volunteer by hand where the rules allow

//  Checks that volunteer `volunteer` (text `text`) may be assigned request `current` by
//  `actor`: known to match and in the actor's scope (not found otherwise, as if unknown),
//  active, with the stars and the insurance the request asks, not assigned already. Returns
//  -1 when the call failed.
static int
s_assignable (st_call_t *call, const msg_actor_t *actor, int64_t volunteer, const char *text,
              int64_t request_id)
{
    st_params_t params = {0};
    st_params_int (&params, volunteer);
    st_params_int (&params, request_id);
    PGresult *res;
    if (st_call_exec (call, "dispatch_assign_volunteer", &params, &res))
        return -1;
    if (PQntuples (res) == 0 || !st_actor_in_scope (actor, st_row_text (res, 0, "region")))
        st_call_fail (call, ST_NOT_FOUND, "volunteer_id", "no volunteer has id \"%s\"", text);
    else if (strcmp (st_row_text (res, 0, "status"), "active") != 0)
        st_call_fail (call, ST_FAILED_PRECONDITION, "volunteer_id", "volunteer \"%s\" is %s", text,
                      st_row_text (res, 0, "status"));
    else if (!st_row_bool (res, 0, "stars_ok"))
        st_call_fail (call, ST_FAILED_PRECONDITION, "volunteer_id",
                      "volunteer \"%s\" has fewer stars than the request asks", text);
    else if (!st_row_bool (res, 0, "insured"))
        st_call_fail (call, ST_FAILED_PRECONDITION, "volunteer_id",
                      "volunteer \"%s\" is not insured over the request's time, which it asks",
                      text);
    else if (strcmp (st_row_text (res, 0, "offer"), "accepted") == 0)
        st_call_fail (call, ST_FAILED_PRECONDITION, "volunteer_id",
                      "volunteer \"%s\" serves this request already", text);
    PQclear (res);
    return st_call_failed (call) ? -1 : 0;
}

static void
s_offer_assign (st_call_t *call, const msg_offer_assign_t *request, msg_service_request_t *reply)
{
    const msg_actor_t *actor;
    int64_t volunteer = 0, request_id = 0, start = 0;
    if (st_require_actor (call, &actor) || s_require_admin_role (call, actor))
        return;
    msg_service_request_t current = {0};
    if (s_request_load (call, request->id, true, &current))
        goto done;
    request_id = atoll (current.id);
    if (strcmp (current.status, "open") != 0 && strcmp (current.status, "matching") != 0)
        st_call_fail (call, ST_FAILED_PRECONDITION, "id",
                      "request \"%s\" is %s: only one in dispatch takes a volunteer", request->id,
                      current.status);
    else if (current.accepted >= current.headcount)
        st_call_fail (call, ST_FAILED_PRECONDITION, "id", "request \"%s\" has no place left",
                      request->id);
    else if (!st_time_parse (current.earliest_start, &start) || start <= st_now_ms () * 1000)
        st_call_fail (call, ST_FAILED_PRECONDITION, "id", "request \"%s\" started at %s",
                      request->id, current.earliest_start);
    else if (!st_parse_id (request->volunteer_id, &volunteer))
        st_call_fail (call, ST_NOT_FOUND, "volunteer_id", "no volunteer has id \"%s\"",
                      request->volunteer_id);
    if (st_call_failed (call)
        || s_assignable (call, actor, volunteer, request->volunteer_id, request_id))
        goto done;
    //  Free at the request's time: the rules' word, so 422 rather than accept's conflict.
    if (match_exec_id (call, "volunteer_lock", volunteer, NULL))
        goto done;
    st_params_t params = {0};
    st_params_int (&params, volunteer);
    st_params_int (&params, request_id);
    PGresult *res;
    if (st_call_exec (call, "dispatch_overlap", &params, &res))
        goto done;
    if (PQntuples (res) > 0)
        st_call_fail (call, ST_FAILED_PRECONDITION, "volunteer_id",
                      "volunteer \"%s\" is committed to %s at an overlapping time",
                      request->volunteer_id, PQgetvalue (res, 0, 0));
    PQclear (res);
    if (st_call_failed (call))
        goto done;
    st_params_int (&params, volunteer);
    st_params_int (&params, request_id);
    if (st_call_exec (call, "dispatch_commit", &params, NULL))
        goto done;
    st_params_int (&params, volunteer);
    st_params_int (&params, request_id);
    st_params_text (&params, actor->account);
    st_params_text (&params, actor->role);
    st_params_text (&params, request->reason);
    if (st_call_exec (call, "dispatch_assign", &params, &res))
        goto done;
    msg_offer_t offer = {0};
    if (PQntuples (res) == 1)
        st_row_to_msg (res, 0, &msg_offer_desc, &offer);
    else
        st_call_fail (call, ST_FAILED_PRECONDITION, "volunteer_id",
                      "volunteer \"%s\" serves this request already", request->volunteer_id);
    PQclear (res);
    if (!st_call_failed (call) && s_offer_accepted (call, request_id, &offer, reply) == 0)
        s_request_assignments (call, reply);
    st_msg_clear (&msg_offer_desc, &offer);
done:
    st_msg_clear (&msg_service_request_desc, &current);
}

//  ---------------------------------------------------------------------------------------
//  dispatch.rounds — what recent rounds offered, left waiting and gave up on, in a region

static void
s_dispatch_rounds (st_call_t *call, const msg_rounds_query_t *request, msg_round_page_t *reply)
{
    const msg_actor_t *actor;
    int64_t cursor = 0;
    if (st_require_actor (call, &actor) || s_require_admin_role (call, actor)
        || (request->cursor && st_require_id (call, "cursor", "page", request->cursor, &cursor)))
        return;
    const char *region = request->region ? request->region : actor->region;
    if (!region || !*region) {
        st_call_fail (call, ST_INVALID_ARGUMENT, "region", "\"region\" is required");
        return;
    }
    if (s_require_admin (call, region))
        return;
    char prefix[ST_REGION_SIZE];
    st_region_prefix (region, prefix);
    int64_t limit = request->has_limit ? request->limit : 20;
    st_params_t params = {0};
    st_params_text (&params, prefix);
    st_params_int_or_null (&params, cursor, cursor);
    st_params_int (&params, limit);
    PGresult *rounds, *res;
    if (st_call_exec (call, "dispatch_rounds", &params, &rounds))
        return;
    size_t count = (size_t) PQntuples (rounds);
    st_rows_to_list (rounds, &msg_round_desc, (st_list_t *) &reply->items, &reply->has_items);
    int64_t *ids = st_calloc (count + 1, sizeof (int64_t));
    for (size_t i = 0; i < count; i++)
        ids[i] = atoll (reply->items.items[i].id);
    //  The requests of every round of the page in one query, newest round first as the page.
    size_t room = 3 + count * 21, length = 1;
    char *list = st_malloc (room);
    list[0] = '{';
    for (size_t i = 0; i < count; i++)
        length += (size_t) snprintf (list + length, room - length, "%s%lld", i ? "," : "",
                                     (long long) ids[i]);
    snprintf (list + length, room - length, "}");
    st_params_text (&params, prefix);
    st_params_text (&params, list);
    int rc = st_call_exec (call, "dispatch_round_requests", &params, &res);
    free (list);
    if (rc == 0) {
        int rows = PQntuples (res), row = 0;
        for (size_t i = 0; i < count; i++) {
            msg_round_t *round = &reply->items.items[i];
            int first = row;
            while (row < rows && st_row_int (res, row, "round_id") == ids[i])
                row++;
            round->requests.items =
                st_calloc ((size_t) (row - first) + 1, sizeof (msg_round_request_t));
            round->requests.count = (size_t) (row - first);
            round->has_requests = true;
            for (int k = first; k < row; k++)
                st_row_to_msg (res, k, &msg_round_request_desc, &round->requests.items[k - first]);
        }
        PQclear (res);
        //  A full page may have a next one.
        if ((int64_t) count == limit)
            reply->next_cursor = st_strdup (reply->items.items[count - 1].id);
    }
    free (ids);
    PQclear (rounds);
}
