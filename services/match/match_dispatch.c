/*  match_dispatch.c — service requests (点单), dispatch rounds and offers (派单 → 接单)

    A resident (or an official for one) posts a request; every round (match_dispatch_tick) the
    replica holding an advisory lock expires lapsed offers, gives up on requests whose start has
    come, and offers the open demand to fitting volunteers by a minimum-cost flow
    (matching.md). A volunteer accepts or declines; an accepted offer is a commitment the
    database keeps from overlapping any other of the same volunteer.  */
#include "match_dispatch_store.h"
#include "match_plan.h"
#include "match_server.h"
#include "match_util.h"
#include "solver/mcf.h"
#include "st_checks.h"
#include "st_log.h"
#include "st_time.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

ST_DISPATCH_OPS (ST_ROUTE_THUNK)

//  The sentinel keeps the table valid while it is empty.
const st_route_t match_dispatch_routes[] = {ST_DISPATCH_OPS (ST_ROUTE_ROW){NULL, NULL}};
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

//  The platform's widening delays, where no region sets its own.
#define S_WIDEN_TOWNSHIP_ENV "STATION_DISPATCH_WIDEN_TOWNSHIP_S"
#define S_WIDEN_COUNTY_ENV   "STATION_DISPATCH_WIDEN_COUNTY_S"

//  A whole number of seconds from the environment, `fallback` when unset or out of range.
static int
s_env_seconds (const char *name, int fallback)
{
    const char *value = getenv (name);
    int seconds = value ? atoi (value) : -1;
    return seconds >= 1 && seconds <= 30 * 86400 ? seconds : fallback;
}

//  Fills a request from a row of the DISPATCH_REQ_* columns; `out` owns what it holds.
static void
s_request_from_row (PGresult *res, int row, msg_service_request_t *out)
{
    out->id = match_text (res, row, DISPATCH_REQ_ID);
    out->category = match_text (res, row, DISPATCH_REQ_CATEGORY);
    out->title = match_text (res, row, DISPATCH_REQ_TITLE);
    out->description = match_text (res, row, DISPATCH_REQ_DESCRIPTION);
    out->region = match_text (res, row, DISPATCH_REQ_REGION);
    if ((out->has_lat = !PQgetisnull (res, row, DISPATCH_REQ_LAT)))
        out->lat = atof (PQgetvalue (res, row, DISPATCH_REQ_LAT));
    if ((out->has_lon = !PQgetisnull (res, row, DISPATCH_REQ_LON)))
        out->lon = atof (PQgetvalue (res, row, DISPATCH_REQ_LON));
    out->earliest_start = match_text (res, row, DISPATCH_REQ_EARLIEST_START);
    out->latest_end = match_text (res, row, DISPATCH_REQ_LATEST_END);
    out->duration_minutes = match_int (res, row, DISPATCH_REQ_DURATION);
    out->headcount = match_int (res, row, DISPATCH_REQ_HEADCOUNT);
    match_json_strings (PQgetvalue (res, row, DISPATCH_REQ_SKILLS), &out->skills);
    out->urgency = match_text (res, row, DISPATCH_REQ_URGENCY);
    out->resident_id = match_optional (res, row, DISPATCH_REQ_RESIDENT_ID);
    out->status = match_text (res, row, DISPATCH_REQ_STATUS);
    out->accepted = match_int (res, row, DISPATCH_REQ_ACCEPTED);
    out->reason = match_optional (res, row, DISPATCH_REQ_REASON);
    out->created_at = match_text (res, row, DISPATCH_REQ_CREATED_AT);
    out->min_stars = match_int (res, row, DISPATCH_REQ_MIN_STARS);
    out->insurance_required = match_bool (res, row, DISPATCH_REQ_INSURANCE_REQUIRED);
    out->staffed_at = match_optional (res, row, DISPATCH_REQ_STAFFED_AT);
    if ((out->has_rating = !PQgetisnull (res, row, DISPATCH_REQ_RATING)))
        out->rating = match_int (res, row, DISPATCH_REQ_RATING);
    out->comment = match_optional (res, row, DISPATCH_REQ_COMMENT);
    out->has_duration_minutes = out->has_headcount = out->has_skills = true;
    out->has_accepted = out->has_min_stars = out->has_insurance_required = true;
}

//  Fills an offer from a row of the DISPATCH_OFFER_* columns; `out` owns what it holds.
static void
s_offer_from_row (PGresult *res, int row, msg_offer_t *out)
{
    out->id = match_text (res, row, DISPATCH_OFFER_ID);
    out->request_id = match_text (res, row, DISPATCH_OFFER_REQUEST_ID);
    out->volunteer_id = match_text (res, row, DISPATCH_OFFER_VOLUNTEER_ID);
    out->title = match_text (res, row, DISPATCH_OFFER_TITLE);
    out->region = match_text (res, row, DISPATCH_OFFER_REGION);
    out->earliest_start = match_text (res, row, DISPATCH_OFFER_EARLIEST_START);
    out->latest_end = match_text (res, row, DISPATCH_OFFER_LATEST_END);
    out->deadline = match_text (res, row, DISPATCH_OFFER_DEADLINE);
    out->status = match_text (res, row, DISPATCH_OFFER_STATUS);
    out->created_at = match_text (res, row, DISPATCH_OFFER_CREATED_AT);
}

//  The request.* event of a request as a reply shows it; `out` borrows from `request`.
static msg_request_event_t
s_request_event (const msg_service_request_t *request)
{
    return (msg_request_event_t){.id = request->id,
                                 .title = request->title,
                                 .region = request->region,
                                 .resident_id = request->resident_id,
                                 .earliest_start = request->earliest_start,
                                 .latest_end = request->latest_end,
                                 .urgency = request->urgency,
                                 .headcount = request->headcount,
                                 .has_headcount = true,
                                 .accepted = request->accepted,
                                 .has_accepted = true,
                                 .status = request->status,
                                 .reason = request->reason,
                                 .category = request->category};
}

//  The volunteer ids of a result's first column as a list borrowing from it (the caller frees
//  the list's array only).
static st_strs_t
s_ids_of (PGresult *res)
{
    st_strs_t ids = {0};
    ids.count = (size_t) PQntuples (res);
    ids.items = st_calloc (ids.count + 1, sizeof (char *));
    for (size_t i = 0; i < ids.count; i++)
        ids.items[i] = PQgetvalue (res, (int) i, 0);
    return ids;
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
        s_offer_from_row (res, row, &offer);
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
    if (!PQgetisnull (res, 0, 1) && match_int (res, 0, 0) >= match_int (res, 0, 1))
        rc = st_call_fail (call, ST_RESOURCE_EXHAUSTED, "category",
                           "resident has %s requests of category \"%s\" that day already,"
                           " the most region %s allows",
                           PQgetvalue (res, 0, 0), category, region);
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
    if (strlen (request->region) != 12 || !match_all_digits (request->region)) {
        st_call_fail (call, ST_INVALID_ARGUMENT, "region",
                      "\"region\" must be a 12-digit statistical division code");
        return;
    }
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
        if (!match_parse_id (actor->resident_id, &resident_id)) {
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
        if (request->resident_id && !match_parse_id (request->resident_id, &resident_id)) {
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
    if (end - start < request->duration_minutes * 60 * 1000000) {
        st_call_fail (call, ST_INVALID_ARGUMENT, "latest_end",
                      "\"latest_end\" must leave \"duration_minutes\" after \"earliest_start\"");
        return;
    }
    static const char *const urgencies[] = {"normal", "urgent", NULL};
    const char *urgency = request->urgency ? request->urgency : "normal";
    if (st_require_one_of (call, "urgency", urgency, urgencies))
        return;
    if (resident_id
        && s_daily_limit (call, resident_id, request->category, request->region, start_utc))
        return;

    st_params_t params = {0};
    st_params_text (&params, request->category);
    st_params_text (&params, request->title);
    st_params_text (&params, request->description);
    st_params_text (&params, request->region);
    if (request->has_lat)
        st_params_double (&params, request->lat);
    else
        st_params_text (&params, NULL);
    if (request->has_lon)
        st_params_double (&params, request->lon);
    else
        st_params_text (&params, NULL);
    st_params_text (&params, start_utc);
    st_params_text (&params, end_utc);
    st_params_int (&params, request->duration_minutes);
    st_params_int (&params, request->headcount);
    st_params_text_array (&params, request->skills.items, request->skills.count);
    st_params_text (&params, urgency);
    if (resident_id)
        st_params_int (&params, resident_id);
    else
        st_params_text (&params, NULL);
    st_params_text (&params, actor->account);
    st_params_int (&params, request->has_min_stars ? request->min_stars : 0);
    st_params_bool (&params, request->has_insurance_required && request->insurance_required);
    //  A request an official posts is reviewed by posting it.
    st_params_bool (&params, s_role (actor, "resident"));
    PGresult *res;
    if (st_call_exec (call, "dispatch_request_insert", &params, &res))
        return;
    s_request_from_row (res, 0, reply);
    PQclear (res);
    msg_request_event_t event = s_request_event (reply);
    //  `event` borrows from `reply`: not cleared.
    bool review = strcmp (reply->status, "review") == 0;
    st_call_emit (call, review ? "request.submitted" : "request.published", &msg_request_event_desc,
                  &event);
}

//  ---------------------------------------------------------------------------------------
//  request.get — a request with who was offered it and where each offer stands

//  Reads request `text` into `reply` for an actor who may see it: its resident, officials in
//  scope, the system. `lock` takes the row lock. Returns -1 when the call failed.
static int
s_request_load (st_call_t *call, const char *text, bool lock, msg_service_request_t *reply)
{
    const msg_actor_t *actor;
    int64_t id;
    if (st_require_actor (call, &actor))
        return -1;
    match_dispatch_store_prepare (st_call_db (call));
    if (!match_parse_id (text, &id))
        return st_call_fail (call, ST_NOT_FOUND, "id", "no request has id \"%s\"", text);
    PGresult *res;
    if (match_exec_id (call, lock ? "dispatch_request_lock" : "dispatch_request_get", id, &res))
        return -1;
    if (PQntuples (res) == 0) {
        PQclear (res);
        return st_call_fail (call, ST_NOT_FOUND, "id", "no request has id \"%s\"", text);
    }
    s_request_from_row (res, 0, reply);
    PQclear (res);
    bool own = reply->resident_id && st_actor_is_resident (actor, reply->resident_id);
    //  Out of scope reads as not found.
    if (!own && !st_actor_in_scope (actor, reply->region))
        return st_call_fail (call, ST_NOT_FOUND, "id", "no request has id \"%s\"", text);
    return 0;
}

//  Adds who serves the request to `reply`: the accepted volunteers, and for officials the
//  offers pending too.
static int
s_request_assignments (st_call_t *call, msg_service_request_t *reply)
{
    st_params_t params = {0};
    st_params_int (&params, atoll (reply->id));
    st_params_bool (&params, !s_role (st_call_actor (call), "resident"));
    PGresult *res;
    if (st_call_exec (call, "dispatch_assignments", &params, &res))
        return -1;
    size_t count = (size_t) PQntuples (res);
    reply->assignments.items = st_calloc (count + 1, sizeof (msg_assignment_t));
    reply->assignments.count = count;
    reply->has_assignments = true;
    for (size_t i = 0; i < count; i++) {
        reply->assignments.items[i].volunteer_id = match_text (res, (int) i, 0);
        reply->assignments.items[i].name = match_text (res, (int) i, 1);
        reply->assignments.items[i].status = match_text (res, (int) i, 2);
    }
    PQclear (res);
    return 0;
}

static void
s_request_get (st_call_t *call, const msg_dispatch_ref_t *request, msg_service_request_t *reply)
{
    if (s_request_load (call, request->id, false, reply))
        return;
    s_request_assignments (call, reply);
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
    if (resident)
        st_params_int (&params, resident);
    else
        st_params_text (&params, NULL);
    st_params_text (&params, request->status);
    if (cursor)
        st_params_int (&params, cursor);
    else
        st_params_text (&params, NULL);
    st_params_int (&params, limit);
    PGresult *res;
    if (st_call_exec (call, "dispatch_request_list", &params, &res))
        return;
    size_t count = (size_t) PQntuples (res);
    reply->items.items = st_calloc (count + 1, sizeof (msg_service_request_t));
    reply->items.count = count;
    reply->has_items = true;
    for (size_t i = 0; i < count; i++)
        s_request_from_row (res, (int) i, &reply->items.items[i]);
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
    s_request_from_row (res, 0, reply);
    PQclear (res);
    if (s_request_assignments (call, reply))
        return;
    msg_request_event_t event = s_request_event (reply);
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
    PGresult *res;
    if (st_call_exec (call, "dispatch_request_review", &params, &res))
        return;
    s_request_from_row (res, 0, reply);
    PQclear (res);
    msg_request_event_t event = s_request_event (reply);
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
        current.resident_id && match_parse_id (current.resident_id, &owner) && owner == resident;
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
    if (st_call_exec (call, "dispatch_request_rate", &params, &res))
        return;
    s_request_from_row (res, 0, reply);
    PQclear (res);
    if (match_exec_id (call, "dispatch_request_served", id, &res))
        return;
    msg_service_rated_t event = {.request_id = reply->id,
                                 .resident_id = reply->resident_id,
                                 .region = reply->region,
                                 .category = reply->category,
                                 .stars = request->stars,
                                 .has_stars = true,
                                 .comment = request->comment,
                                 .volunteer_ids = s_ids_of (res),
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
    if ((reply->has_review_required = !PQgetisnull (res, 0, 0)))
        reply->review_required = match_bool (res, 0, 0);
    if ((reply->has_daily_limit = !PQgetisnull (res, 0, 1)))
        reply->daily_limit = match_int (res, 0, 1);
    if ((reply->has_widen_township_s = !PQgetisnull (res, 0, 2)))
        reply->widen_township_s = match_int (res, 0, 2);
    if ((reply->has_widen_county_s = !PQgetisnull (res, 0, 3)))
        reply->widen_county_s = match_int (res, 0, 3);
    if ((reply->has_checkin_radius_m = !PQgetisnull (res, 0, 4)))
        reply->checkin_radius_m = match_int (res, 0, 4);
    PQclear (res);
    return 0;
}

static void
s_settings_set (st_call_t *call, const msg_region_settings_t *request, msg_region_settings_t *reply)
{
    if (s_require_admin (call, request->region))
        return;
    st_params_t params = {0};
    st_params_text (&params, request->region);
    if (request->has_review_required)
        st_params_bool (&params, request->review_required);
    else
        st_params_text (&params, NULL);
    const int64_t *numbers[] = {
        request->has_daily_limit ? &request->daily_limit : NULL,
        request->has_widen_township_s ? &request->widen_township_s : NULL,
        request->has_widen_county_s ? &request->widen_county_s : NULL,
        request->has_checkin_radius_m ? &request->checkin_radius_m : NULL,
    };
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++)
        if (numbers[i])
            st_params_int (&params, *numbers[i]);
        else
            st_params_text (&params, NULL);
    st_params_text (&params, st_call_actor (call)->account);
    if (st_call_exec (call, "dispatch_settings_set", &params, NULL)
        || s_settings_read (call, request->region, reply))
        return;
    //  What is in force now, inherited and default values included, must widen in order
    //  (the call failing takes the change back).
    int township = reply->has_widen_township_s ? (int) reply->widen_township_s
                                               : s_env_seconds (S_WIDEN_TOWNSHIP_ENV, 60);
    int county = reply->has_widen_county_s ? (int) reply->widen_county_s
                                           : s_env_seconds (S_WIDEN_COUNTY_ENV, 300);
    if (county < township)
        st_call_fail (call, ST_INVALID_ARGUMENT,
                      request->has_widen_county_s ? "widen_county_s" : "widen_township_s",
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
    size_t count = (size_t) PQntuples (res);
    reply->items.items = st_calloc (count + 1, sizeof (msg_offer_t));
    reply->items.count = count;
    reply->has_items = true;
    for (size_t i = 0; i < count; i++)
        s_offer_from_row (res, (int) i, &reply->items.items[i]);
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
    if (!match_parse_id (text, offer_id))
        return st_call_fail (call, ST_NOT_FOUND, "id", "no offer has id \"%s\"", text);
    PGresult *res;
    if (match_exec_id (call, "dispatch_offer_lock", *offer_id, &res))
        return -1;
    //  Someone else's offer reads as not found.
    if (PQntuples (res) == 0 || match_int (res, 0, DISPATCH_OFFER_VOLUNTEER_ID) != *volunteer) {
        PQclear (res);
        return st_call_fail (call, ST_NOT_FOUND, "id", "no offer has id \"%s\"", text);
    }
    *request_id = match_int (res, 0, DISPATCH_OFFER_REQUEST_ID);
    const char *status = PQgetvalue (res, 0, DISPATCH_OFFER_STATUS);
    int rc = 0;
    if (strcmp (status, "pending") != 0)
        rc = st_call_fail (call, ST_CONFLICT, "id", "offer \"%s\" is %s already", text, status);
    else if (PQgetvalue (res, 0, DISPATCH_OFFER_LAPSED)[0] == 't')
        rc = st_call_fail (call, ST_CONFLICT, "id", "offer \"%s\" expired at %s", text,
                           PQgetvalue (res, 0, DISPATCH_OFFER_DEADLINE));
    else if (PQgetvalue (res, 0, DISPATCH_OFFER_LIVE)[0] != 't')
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
    s_offer_from_row (res, 0, reply);
    PQclear (res);
    return 0;
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
    PGresult *res;
    st_params_int (&params, volunteer);
    st_params_int (&params, request_id);
    if (st_call_exec (call, "dispatch_commit", &params, NULL)
        || s_offer_answer (call, offer_id, "accepted", reply)
        || match_exec_id (call, "dispatch_request_accepted", request_id, &res))
        return;
    msg_service_request_t staffed = {0};
    s_request_from_row (res, 0, &staffed);
    PQclear (res);
    st_call_emit (call, "offer.accepted", &msg_offer_desc, reply);
    if (strcmp (staffed.status, "staffed") == 0 && s_withdraw (call, request_id, false) == 0
        && match_exec_id (call, "dispatch_request_serving", request_id, &res) == 0) {
        msg_request_event_t event = s_request_event (&staffed);
        event.volunteer_ids = s_ids_of (res);
        event.has_volunteer_ids = true;
        st_call_emit (call, "request.staffed", &msg_request_event_desc, &event);
        free (event.volunteer_ids.items);
        PQclear (res);
    }
    st_msg_clear (&msg_service_request_desc, &staffed);
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
//  Registry's events dispatch acts on

//  resident.registered: where a resident lives and whether a group cared for first.
static st_status_t
s_resident_registered (st_db_t *db, const char *topic, const void *body_, int64_t seq,
                       st_error_t *err)
{
    (void) topic;
    const msg_resident_registered_t *body = body_;
    int64_t id;
    if (!match_parse_id (body->id, &id))
        return st_error_set (err, ST_INVALID_ARGUMENT, "id", "resident id \"%s\" is not a number",
                             body->id);
    match_dispatch_store_prepare (db);
    st_params_t params = {0};
    st_params_int (&params, id);
    st_params_text (&params, body->region);
    if (body->has_lat)
        st_params_double (&params, body->lat);
    else
        st_params_text (&params, NULL);
    if (body->has_lon)
        st_params_double (&params, body->lon);
    else
        st_params_text (&params, NULL);
    st_params_text_array (&params, body->care_tags.items, body->care_tags.count);
    st_params_int (&params, seq);
    st_status_t rc = st_db_exec (db, "dispatch_resident_upsert", &params, NULL, err);
    st_params_clear (&params);
    return rc;
}

const st_subscription_t match_dispatch_subscriptions[] = {
    {"resident.registered", s_resident_registered}, {NULL, NULL}};
const size_t match_dispatch_subscription_count =
    sizeof match_dispatch_subscriptions / sizeof match_dispatch_subscriptions[0] - 1;

//  ---------------------------------------------------------------------------------------
//  The dispatch round

int
match_dispatch_round_ms (void)
{
    const char *value = getenv ("STATION_DISPATCH_ROUND_MS");
    int ms = value ? atoi (value) : 0;
    return ms >= 50 && ms <= 600000 ? ms : 2000;
}

//  The round's settings (STATION_DISPATCH_*), read once per round.
typedef struct {
    int township_s; //  a request's search widens to its township after this age
    int county_s;   //  and to its county after this one
    int urgent_s;   //  an urgent request's offer is answered within this
    int normal_s;   //  a normal one's within this
    match_weights_t weights;
} s_settings_t;

//  Appends an event to the outbox inside the round's transaction.
static st_status_t
s_round_emit (st_db_t *db, const char *topic, const st_desc_t *desc, const void *body,
              st_error_t *err)
{
    st_error_t invalid;
    if (st_validate (desc, body, &invalid))
        return st_error_set (err, ST_INTERNAL, NULL, "event %s would be invalid: %s", topic,
                             invalid.message);
    uint8_t *data;
    size_t size;
    if (st_encode (desc, body, &data, &size))
        return st_error_set (err, ST_INTERNAL, NULL, "could not encode event %s", topic);
    st_params_t params = {0};
    st_params_text (&params, topic);
    st_params_bin (&params, data, size);
    st_status_t rc = st_db_exec (db, "dispatch_outbox_append", &params, NULL, err);
    st_params_clear (&params);
    free (data);
    return rc;
}

//  Emits `topic` for every offer a statement returned.
static st_status_t
s_round_emit_offers (st_db_t *db, PGresult *res, const char *topic, st_error_t *err)
{
    st_status_t rc = ST_OK;
    for (int row = 0; row < PQntuples (res) && rc == ST_OK; row++) {
        msg_offer_t offer = {0};
        s_offer_from_row (res, row, &offer);
        rc = s_round_emit (db, topic, &msg_offer_desc, &offer, err);
        st_msg_clear (&msg_offer_desc, &offer);
    }
    return rc;
}

st_status_t
match_dispatch_volunteer_gone (st_db_t *db, int64_t volunteer, st_error_t *err)
{
    match_dispatch_store_prepare (db);
    static const char *const statements[] = {"dispatch_withdraw_volunteer",
                                             "dispatch_release_volunteer"};
    st_status_t rc = ST_OK;
    for (size_t i = 0; i < 2 && rc == ST_OK; i++) {
        st_params_t params = {0};
        st_params_int (&params, volunteer);
        PGresult *res;
        rc = st_db_exec (db, statements[i], &params, &res, err);
        st_params_clear (&params);
        if (rc == ST_OK) {
            rc = s_round_emit_offers (db, res, "offer.withdrawn", err);
            PQclear (res);
        }
    }
    return rc;
}

//  Offers past their deadline expire; their requests stay in matching for the next offer.
static st_status_t
s_round_expire (st_db_t *db, st_error_t *err)
{
    PGresult *res;
    st_status_t rc = st_db_exec (db, "dispatch_expire", NULL, &res, err);
    if (rc != ST_OK)
        return rc;
    rc = s_round_emit_offers (db, res, "offer.expired", err);
    PQclear (res);
    return rc;
}

//  Requests whose start has come without full staffing become unfilled, with a reason; their
//  pending offers are withdrawn.
static st_status_t
s_round_unfill (st_db_t *db, const s_settings_t *settings, st_error_t *err)
{
    st_params_t params = {0};
    st_params_int (&params, settings->township_s);
    st_params_int (&params, settings->county_s);
    PGresult *res;
    st_status_t rc = st_db_exec (db, "dispatch_unfill", &params, &res, err);
    st_params_clear (&params);
    if (rc != ST_OK)
        return rc;
    for (int row = 0; row < PQntuples (res) && rc == ST_OK; row++) {
        msg_service_request_t request = {0};
        s_request_from_row (res, row, &request);
        st_params_int (&params, atoll (request.id));
        st_params_bool (&params, false);
        PGresult *withdrawn;
        rc = st_db_exec (db, "dispatch_withdraw", &params, &withdrawn, err);
        st_params_clear (&params);
        if (rc == ST_OK) {
            rc = s_round_emit_offers (db, withdrawn, "offer.withdrawn", err);
            PQclear (withdrawn);
        }
        msg_request_event_t event = s_request_event (&request);
        if (rc == ST_OK)
            rc = s_round_emit (db, "request.unfilled", &msg_request_event_desc, &event, err);
        st_msg_clear (&msg_service_request_desc, &request);
    }
    PQclear (res);
    return rc;
}

//  Candidates per request, nearest first.
#define S_CANDIDATES_MAX 50

//  Milliseconds of a monotonic clock, for the round's figures.
static double
s_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
s_compare_ids (const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return (x > y) - (x < y);
}

//  An array literal of numbers, "{1,2,3}", the caller frees.
static char *
s_literal (const int64_t *values, int32_t count)
{
    size_t room = 3 + (size_t) count * 21, length = 1;
    char *text = st_malloc (room);
    text[0] = '{';
    for (int32_t i = 0; i < count; i++)
        length += (size_t) snprintf (text + length, room - length, "%s%lld", i ? "," : "",
                                     (long long) values[i]);
    snprintf (text + length, room - length, "}");
    return text;
}

//  Makes the offers chosen (parallel arrays) with their deadlines, each with offer.made.
static st_status_t
s_round_make (st_db_t *db, const s_settings_t *settings, const int64_t *requests,
              const int64_t *volunteers, const int64_t *costs, int32_t count, st_error_t *err)
{
    char *lists[3] = {s_literal (requests, count), s_literal (volunteers, count),
                      s_literal (costs, count)};
    st_params_t params = {0};
    for (int k = 0; k < 3; k++)
        st_params_text (&params, lists[k]);
    st_params_int (&params, settings->normal_s);
    st_params_int (&params, settings->urgent_s);
    PGresult *res;
    st_status_t rc = st_db_exec (db, "dispatch_offer_insert", &params, &res, err);
    st_params_clear (&params);
    for (int k = 0; k < 3; k++)
        free (lists[k]);
    if (rc != ST_OK)
        return rc;
    rc = s_round_emit_offers (db, res, "offer.made", err);
    PQclear (res);
    return rc;
}

//  Staffed requests whose service is over and confirmed become completed (the resident may
//  rate them now), each with request.completed.
static st_status_t
s_round_complete (st_db_t *db, st_error_t *err)
{
    PGresult *res;
    st_status_t rc = st_db_exec (db, "dispatch_complete", NULL, &res, err);
    for (int row = 0; rc == ST_OK && row < PQntuples (res); row++) {
        msg_service_request_t request = {0};
        s_request_from_row (res, row, &request);
        st_params_t params = {0};
        st_params_int (&params, atoll (request.id));
        PGresult *served;
        rc = st_db_exec (db, "dispatch_request_served", &params, &served, err);
        st_params_clear (&params);
        if (rc == ST_OK) {
            msg_request_event_t event = s_request_event (&request);
            event.volunteer_ids = s_ids_of (served);
            event.has_volunteer_ids = true;
            rc = s_round_emit (db, "request.completed", &msg_request_event_desc, &event, err);
            free (event.volunteer_ids.items);
            PQclear (served);
        }
        st_msg_clear (&msg_service_request_desc, &request);
    }
    PQclear (res);
    return rc;
}

//  Staffed requests nobody turned up to, a day after their window, end unfilled, each with
//  request.unfilled (the resident is told; the reliability cost counts the no-shows).
static st_status_t
s_round_no_show (st_db_t *db, st_error_t *err)
{
    PGresult *res;
    st_status_t rc = st_db_exec (db, "dispatch_no_show", NULL, &res, err);
    for (int row = 0; rc == ST_OK && row < PQntuples (res); row++) {
        msg_service_request_t request = {0};
        s_request_from_row (res, row, &request);
        msg_request_event_t event = s_request_event (&request);
        rc = s_round_emit (db, "request.unfilled", &msg_request_event_desc, &event, err);
        st_msg_clear (&msg_service_request_desc, &request);
    }
    PQclear (res);
    return rc;
}

//  Builds the round's plan (open demand, candidates and their costs: match_plan), solves
//  the network and makes an offer for every pairing with flow.
static st_status_t
s_round_offer (st_db_t *db, const s_settings_t *settings, match_dispatch_stats_t *stats,
               st_error_t *err)
{
    double began = s_ms ();
    match_plan_t plan;
    st_status_t rc = match_plan_build (db, &settings->weights, settings->township_s,
                                       settings->county_s, S_CANDIDATES_MAX, &plan, err);
    if (rc != ST_OK)
        return rc;
    stats->candidate_ms = s_ms () - began;
    stats->requests = plan.requests;
    stats->pairs = plan.pair_count;
    if (plan.requests == 0) {
        match_plan_clear (&plan);
        return ST_OK;
    }
    //  Nodes: 0 source, 1 sink, 2.. requests (the plan's order), then volunteers (sorted).
    int32_t pairs = plan.pair_count, requests = plan.requests;
    int64_t *volunteer_ids = st_calloc ((size_t) pairs + 1, sizeof (int64_t));
    for (int32_t i = 0; i < pairs; i++)
        volunteer_ids[i] = plan.pairs[i].volunteer_id;
    qsort (volunteer_ids, (size_t) pairs, sizeof (int64_t), s_compare_ids);
    int32_t volunteers = 0;
    for (int32_t i = 0; i < pairs; i++)
        if (volunteers == 0 || volunteer_ids[volunteers - 1] != volunteer_ids[i])
            volunteer_ids[volunteers++] = volunteer_ids[i];

    mcf_t *network = mcf_new (2 + requests + volunteers, 2 * requests + pairs + volunteers);
    int64_t total = 0;
    for (int32_t i = 0; i < requests; i++) {
        const match_demand_t *demand = &plan.demand[i];
        if (demand->cared)
            stats->cared_missing += demand->missing;
        mcf_add_arc (network, 0, 2 + i, demand->missing, 0);
        mcf_add_arc (network, 2 + i, 1, demand->missing, demand->penalty);
        total += demand->missing;
    }
    stats->missing = total;
    int32_t first_pair_arc = mcf_arcs (network);
    for (int32_t i = 0; i < pairs; i++) {
        const match_pair_t *pair = &plan.pairs[i];
        int64_t *at = bsearch (&pair->volunteer_id, volunteer_ids, (size_t) volunteers,
                               sizeof (int64_t), s_compare_ids);
        mcf_add_arc (network, 2 + pair->request, 2 + requests + (int32_t) (at - volunteer_ids), 1,
                     pair->cost);
    }
    for (int32_t v = 0; v < volunteers; v++)
        mcf_add_arc (network, 2 + requests + v, 1, 1, 0);
    mcf_set_supply (network, 0, total);
    mcf_set_supply (network, 1, -total);
    began = s_ms ();
    mcf_status_t solved = mcf_solve (network);
    stats->solve_ms = s_ms () - began;

    //  An offer for every pairing with flow.
    int64_t *chosen[3];
    for (int k = 0; k < 3; k++)
        chosen[k] = st_calloc ((size_t) pairs + 1, sizeof (int64_t));
    int32_t made = 0;
    if (solved == MCF_OPTIMAL) {
        for (int32_t i = 0; i < pairs; i++)
            if (mcf_flow (network, first_pair_arc + i) > 0) {
                const match_pair_t *pair = &plan.pairs[i];
                chosen[0][made] = plan.demand[pair->request].id;
                chosen[1][made] = pair->volunteer_id;
                chosen[2][made] = pair->cost;
                made++;
                if (plan.demand[pair->request].cared)
                    stats->cared_served++;
            }
        stats->cost = mcf_total_cost (network);
    } else
        rc = st_error_set (err, ST_INTERNAL, NULL, "dispatch network: %s", mcf_status_str (solved));
    mcf_destroy (&network);
    match_plan_clear (&plan);
    free (volunteer_ids);
    stats->offers = stats->served = made;
    if (rc == ST_OK && made > 0)
        rc = s_round_make (db, settings, chosen[0], chosen[1], chosen[2], made, err);
    for (int k = 0; k < 3; k++)
        free (chosen[k]);
    return rc;
}

//  One round: expire, give up, offer. Returns ST_OK also when another replica holds the
//  lock (and this one does nothing).
static st_status_t
s_round (st_db_t *db, match_dispatch_stats_t *stats, st_error_t *err)
{
    s_settings_t settings = {
        .township_s = s_env_seconds (S_WIDEN_TOWNSHIP_ENV, 60),
        .county_s = s_env_seconds (S_WIDEN_COUNTY_ENV, 300),
        .urgent_s = s_env_seconds ("STATION_DISPATCH_REPLY_URGENT_S", 600),
        .normal_s = s_env_seconds ("STATION_DISPATCH_REPLY_NORMAL_S", 7200),
    };
    match_weights_load (&settings.weights);
    PGresult *res;
    st_status_t rc = st_db_exec (db, "dispatch_limits", NULL, NULL, err);
    if (rc == ST_OK)
        rc = st_db_exec (db, "dispatch_lock", NULL, &res, err);
    if (rc != ST_OK)
        return rc;
    bool held = PQgetvalue (res, 0, 0)[0] == 't';
    PQclear (res);
    if (!held)
        return ST_OK;
    rc = s_round_expire (db, err);
    if (rc == ST_OK)
        rc = s_round_unfill (db, &settings, err);
    if (rc == ST_OK)
        rc = s_round_complete (db, err);
    if (rc == ST_OK)
        rc = s_round_no_show (db, err);
    if (rc == ST_OK)
        rc = s_round_offer (db, &settings, stats, err);
    return rc;
}

st_status_t
match_dispatch_round (st_db_t *db, match_dispatch_stats_t *stats, st_error_t *err)
{
    match_dispatch_stats_t ignored;
    if (!stats)
        stats = &ignored;
    memset (stats, 0, sizeof *stats);
    match_dispatch_store_prepare (db);
    st_status_t rc = st_db_run (db, "BEGIN", err);
    if (rc != ST_OK)
        return rc;
    rc = s_round (db, stats, err);
    st_error_t ended;
    if (rc != ST_OK) {
        st_db_run (db, "ROLLBACK", &ended);
        return rc;
    }
    return st_db_run (db, "COMMIT", err);
}

void
match_dispatch_tick (st_db_t *db)
{
    st_error_t err = {0};
    match_dispatch_stats_t stats;
    if (match_dispatch_round (db, &stats, &err) != ST_OK)
        st_warn ("dispatch round rolled back: %s", err.message);
    else if (stats.offers > 0)
        st_debug ("dispatch round: %lld requests, %lld candidates, %lld offers",
                  (long long) stats.requests, (long long) stats.pairs, (long long) stats.offers);
}
