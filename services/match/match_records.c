/*  match_records.c — service records: check-in and check-out (签到签退) by the volunteer,
    hours confirmed (时长认定) and forgotten check-outs completed by an official in scope.
    Confirmed hours publish service.completed, which ledger turns into points and stars.  */
#include "match.h"
#include "match_util.h"
#include "st_checks.h"
#include "st_log.h"
#include "st_rows.h"
#include "st_time.h"

#include <math.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

ST_MATCH_RECORDS_OPS (ST_ROUTE_THUNK)

const st_route_t match_records_routes[] = {ST_MATCH_RECORDS_OPS (ST_ROUTE_ROW)};
const size_t match_records_route_count =
    sizeof match_records_routes / sizeof match_records_routes[0];

//  What a record is of: an activity or a request, exactly one of them named.
typedef struct {
    int64_t activity;
    int64_t request;
    const char *field; //  the one named
    const char *text;
} s_subject_t;

static int
s_require_subject (st_call_t *call, const char *activity_id, const char *request_id,
                   s_subject_t *subject)
{
    *subject = (s_subject_t){0};
    if (!activity_id == !request_id)
        return st_call_fail (call, ST_INVALID_ARGUMENT, activity_id ? "request_id" : "activity_id",
                             "name one of \"activity_id\" and \"request_id\"");
    if (activity_id) {
        subject->field = "activity_id";
        subject->text = activity_id;
        return st_require_id (call, "activity_id", "activity", activity_id, &subject->activity);
    }
    subject->field = "request_id";
    subject->text = request_id;
    return st_require_id (call, "request_id", "request", request_id, &subject->request);
}

//  Binds a subject as two parameters, the one not named NULL.
static void
s_params_subject (st_params_t *params, const s_subject_t *subject)
{
    st_params_int_or_null (params, subject->activity, subject->activity);
    st_params_int_or_null (params, subject->request, subject->request);
}

//  The volunteer acting as themself; their id into *volunteer.
static int
s_require_self (st_call_t *call, int64_t *volunteer)
{
    const msg_actor_t *actor;
    if (st_require_actor (call, &actor))
        return -1;
    if (strcmp (actor->role, "volunteer") != 0)
        return st_call_fail (call, ST_PERMISSION_DENIED, "actor.role",
                             "role \"%s\" may not do this: the volunteer may", actor->role);
    return st_require_id (call, "actor.volunteer_id", "volunteer", actor->volunteer_id, volunteer);
}

//  The instant `at` names, or now, as UTC text PostgreSQL reads exactly. A volunteer checks in
//  and out as it happens: `at` may differ from the server's clock by a few minutes of skew,
//  no more (an official completes a forgotten check-out instead).
#define S_SKEW_US (10 * 60 * INT64_C (1000000))
static int
s_when (st_call_t *call, const char *at, char utc[40])
{
    int64_t us, now = st_now_ms () * 1000;
    if (!at) {
        st_time_format_utc (now, utc);
        return 0;
    }
    if (st_require_time (call, "at", at, &us, utc))
        return -1;
    if (us < now - S_SKEW_US || us > now + S_SKEW_US)
        return st_call_fail (call, ST_FAILED_PRECONDITION, "at",
                             "\"at\" must be now, within 10 minutes of the server's clock");
    return 0;
}

//  Loads a record, locked, into `reply` when the actor is an official in its scope.
static int
s_load_for_official (st_call_t *call, const char *id_text, msg_service_record_t *reply,
                     PGresult **res)
{
    const msg_actor_t *actor;
    int64_t id = 0;
    if (st_require_actor (call, &actor) || st_require_official (call, actor)
        || st_require_id (call, "id", "service record", id_text, &id))
        return -1;
    st_params_t params = {0};
    st_params_int (&params, id);
    if (st_call_exec (call, "record_get", &params, res))
        return -1;
    if (PQntuples (*res) == 0 || !st_actor_in_scope (actor, st_row_text (*res, 0, "region"))) {
        PQclear (*res);
        return st_call_fail (call, ST_NOT_FOUND, "id", "no service record has id \"%s\"", id_text);
    }
    st_row_to_msg (*res, 0, &msg_service_record_desc, reply);
    return 0;
}

//  ---------------------------------------------------------------------------------------
//  record.checkin — at an activity the volunteer is confirmed for, or a request they
//  accepted, from an hour before its start to its end

//  Binds where the volunteer says they are ($4, $5), both NULL when not given whole.
static void
s_params_position (st_params_t *params, const msg_check_t *request)
{
    if (request->has_lat && request->has_lon) {
        st_params_double (params, request->lat);
        st_params_double (params, request->lon);
    } else {
        st_params_null (params);
        st_params_null (params);
    }
}

//  Where the region sets a check-in radius (column radius) and the place is known (placed),
//  the volunteer must say where they are and be within it (metres from the place). The
//  position is checked, never stored.
static int
s_require_near (st_call_t *call, PGresult *res, const msg_check_t *request)
{
    if (st_row_null (res, 0, "radius") || !st_row_bool (res, 0, "placed"))
        return 0;
    long radius = (long) st_row_int (res, 0, "radius");
    if (!(request->has_lat && request->has_lon))
        return st_call_fail (call, ST_INVALID_ARGUMENT, "lat",
                             "\"lat\" and \"lon\" are required: check-in here must be within"
                             " %ld m of the place",
                             radius);
    if (!st_row_null (res, 0, "metres") && st_row_int (res, 0, "metres") > radius)
        return st_call_fail (call, ST_FAILED_PRECONDITION, "lat",
                             "you are %s m from the place; check-in here must be within %ld m",
                             st_row_text (res, 0, "metres"), radius);
    return 0;
}

//  The activity's current check-in code (or the one before it), as its organiser shows it.
static int
s_require_code (st_call_t *call, int64_t activity, const char *code)
{
    const match_round_config_t *config = st_call_state (call);
    match_code_clock_t clock;
    if (match_code_clock (call, config->checkin_code_s, &clock))
        return -1;
    bool valid = match_code_valid (&clock, activity, code);
    sodium_memzero (clock.key, sizeof clock.key);
    if (!valid)
        return st_call_fail (call, ST_FAILED_PRECONDITION, "code",
                             "the check-in code is wrong or has expired: ask the organiser for"
                             " the current one");
    return 0;
}

//  Checks that the volunteer may check in to the activity at `when`; its region into `region`.
static int
s_checkin_activity (st_call_t *call, int64_t volunteer, const s_subject_t *subject,
                    const msg_check_t *request, const char *when, char region[ST_REGION_SIZE])
{
    st_params_t params = {0};
    st_params_int (&params, subject->activity);
    st_params_int (&params, volunteer);
    st_params_text (&params, when);
    s_params_position (&params, request);
    PGresult *res;
    if (st_call_exec (call, "record_activity", &params, &res))
        return -1;
    if (PQntuples (res) == 0)
        st_call_fail (call, ST_NOT_FOUND, "activity_id", "no activity has id \"%s\"",
                      subject->text);
    else if (strcmp (st_row_text (res, 0, "status"), "cancelled") == 0)
        st_call_fail (call, ST_FAILED_PRECONDITION, "activity_id", "the activity is cancelled");
    else if (strcmp (st_row_text (res, 0, "signup"), "confirmed") != 0)
        st_call_fail (call, ST_FAILED_PRECONDITION, "activity_id",
                      "only volunteers confirmed for the activity check in");
    else if (!st_row_bool (res, 0, "open"))
        st_call_fail (call, ST_FAILED_PRECONDITION, "at",
                      "check-in opens an hour before the start and closes at the end");
    else if (s_require_code (call, subject->activity, request->code) == 0
             && s_require_near (call, res, request) == 0)
        snprintf (region, ST_REGION_SIZE, "%s", st_row_text (res, 0, "region"));
    PQclear (res);
    return st_call_failed (call) ? -1 : 0;
}

//  Checks that the volunteer may check in to the request at `when`, from where they say they
//  are when the region sets a radius and the place is known; its region into `region`. (The
//  volunteer's position is checked, never stored.)
static int
s_checkin_request (st_call_t *call, int64_t volunteer, const s_subject_t *subject,
                   const msg_check_t *request, const char *when, char region[ST_REGION_SIZE])
{
    st_params_t params = {0};
    st_params_int (&params, subject->request);
    st_params_int (&params, volunteer);
    st_params_text (&params, when);
    s_params_position (&params, request);
    PGresult *res;
    if (st_call_exec (call, "record_request", &params, &res))
        return -1;
    //  Someone else's request reads as not found.
    if (PQntuples (res) == 0 || !st_row_bool (res, 0, "accepted"))
        st_call_fail (call, ST_NOT_FOUND, "request_id",
                      "you have no accepted offer of request \"%s\"", subject->text);
    else if (!st_row_bool (res, 0, "open"))
        st_call_fail (call, ST_FAILED_PRECONDITION, "at",
                      "check-in opens an hour before the window and closes at its end");
    else
        s_require_near (call, res, request);
    if (!st_call_failed (call))
        snprintf (region, ST_REGION_SIZE, "%s", st_row_text (res, 0, "region"));
    PQclear (res);
    return st_call_failed (call) ? -1 : 0;
}

static void
s_record_checkin (st_call_t *call, const msg_check_t *request, msg_service_record_t *reply)
{
    int64_t volunteer = 0;
    s_subject_t subject;
    char when[40], region[ST_REGION_SIZE] = "";
    if (s_require_self (call, &volunteer)
        || s_require_subject (call, request->activity_id, request->request_id, &subject)
        || s_when (call, request->at, when))
        return;
    if (subject.activity && !request->code) {
        st_call_fail (call, ST_INVALID_ARGUMENT, "code",
                      "\"code\" is required: an activity's check-in needs its current code");
        return;
    }
    if (subject.activity ? s_checkin_activity (call, volunteer, &subject, request, when, region)
                         : s_checkin_request (call, volunteer, &subject, request, when, region))
        return;
    st_params_t params = {0};
    st_params_int (&params, volunteer);
    st_params_int_or_null (&params, subject.activity, subject.activity);
    st_params_text (&params, region);
    st_params_text (&params, when);
    st_params_int_or_null (&params, subject.request, subject.request);
    PGresult *res;
    if (st_call_exec (call, "record_checkin", &params, &res)) {
        if (st_call_code (call) == ST_CONFLICT)
            st_call_fail (call, ST_CONFLICT, subject.field,
                          "you have checked in to this %s already",
                          subject.activity ? "activity" : "request");
        return;
    }
    st_row_to_msg (res, 0, &msg_service_record_desc, reply);
    PQclear (res);
}

//  ---------------------------------------------------------------------------------------
//  record.checkout — the minutes that count are those inside the schedule, plus a margin

//  A volunteer checked out of a request has served it: its window (a whole day, for "as soon
//  as possible") no longer holds them, and they may take on what overlaps the rest of it.
static void
s_release (st_call_t *call, const msg_service_record_t *record)
{
    if (st_call_failed (call) || !record->request_id)
        return;
    st_params_t params = {0};
    st_params_text (&params, record->volunteer_id);
    st_params_text (&params, record->request_id);
    st_call_exec (call, "record_release", &params, NULL);
}

static void
s_record_checkout (st_call_t *call, const msg_check_t *request, msg_service_record_t *reply)
{
    int64_t volunteer = 0;
    s_subject_t subject;
    char when[40];
    if (s_require_self (call, &volunteer)
        || s_require_subject (call, request->activity_id, request->request_id, &subject)
        || s_when (call, request->at, when))
        return;
    st_params_t params = {0};
    st_params_int (&params, volunteer);
    s_params_subject (&params, &subject);
    PGresult *res;
    if (st_call_exec (call, "record_open", &params, &res))
        return;
    bool open = PQntuples (res) == 1;
    char id[24] = "";
    if (open)
        snprintf (id, sizeof id, "%s", PQgetvalue (res, 0, 0));
    PQclear (res);
    if (!open) {
        st_call_fail (call, ST_FAILED_PRECONDITION, subject.field,
                      "you have not checked in to this %s",
                      subject.activity ? "activity" : "request");
        return;
    }
    st_params_text (&params, id);
    st_params_int (&params, volunteer);
    st_params_text (&params, when);
    st_params_null (&params);
    st_params_null (&params);
    if (st_call_exec (call, "record_checkout", &params, &res))
        return;
    if (PQntuples (res) == 0)
        st_call_fail (call, ST_FAILED_PRECONDITION, "at", "check-out comes after check-in");
    else
        st_row_to_msg (res, 0, &msg_service_record_desc, reply);
    PQclear (res);
    s_release (call, reply);
}

//  ---------------------------------------------------------------------------------------
//  record.complete — an official completes a forgotten check-out, with the reason

static void
s_record_complete (st_call_t *call, const msg_record_complete_t *request,
                   msg_service_record_t *reply)
{
    PGresult *res;
    char when[40];
    int64_t us;
    msg_service_record_t current = {0};
    if (st_require_time (call, "checkout_at", request->checkout_at, &us, when)
        || s_load_for_official (call, request->id, &current, &res))
        return;
    PQclear (res);
    bool open = strcmp (current.status, "open") == 0;
    st_msg_clear (&msg_service_record_desc, &current);
    if (!open) {
        st_call_fail (call, ST_FAILED_PRECONDITION, "id", "the record is checked out already");
        return;
    }
    st_params_t params = {0};
    st_params_text (&params, request->id);
    st_params_null (&params);
    st_params_text (&params, when);
    st_params_text (&params, st_call_actor (call)->account);
    st_params_text (&params, request->reason);
    if (st_call_exec (call, "record_checkout", &params, &res))
        return;
    if (PQntuples (res) == 0)
        st_call_fail (call, ST_FAILED_PRECONDITION, "checkout_at",
                      "check-out comes after check-in");
    else
        st_row_to_msg (res, 0, &msg_service_record_desc, reply);
    PQclear (res);
    s_release (call, reply);
}

//  ---------------------------------------------------------------------------------------
//  record.confirm — only confirmed hours count towards stars and points

static void
s_record_confirm (st_call_t *call, const msg_record_confirm_t *request, msg_service_record_t *reply)
{
    PGresult *res;
    msg_service_record_t current = {0};
    if (s_load_for_official (call, request->id, &current, &res))
        return;
    char *category = st_strdup (st_row_text (res, 0, "category"));
    char *theme = st_row_null (res, 0, "theme") ? NULL : st_strdup (st_row_text (res, 0, "theme"));
    PQclear (res);
    bool closed = strcmp (current.status, "closed") == 0;
    const char *why = strcmp (current.status, "open") == 0 ? "the volunteer has not checked out"
                                                           : "the hours are confirmed already";
    st_msg_clear (&msg_service_record_desc, &current);
    st_params_t params = {0};
    if (!closed)
        st_call_fail (call, ST_FAILED_PRECONDITION, "id", "%s", why);
    else {
        st_params_text (&params, request->id);
        st_params_text (&params, st_call_actor (call)->account);
        st_params_double_or_null (&params, request->has_hours, request->hours);
        PGresult *whom = NULL;
        if (st_call_exec (call, "record_confirm", &params, &res) == 0) {
            st_row_to_msg (res, 0, &msg_service_record_desc, reply);
            PQclear (res);
            if (reply->request_id) {
                st_params_text (&params, reply->request_id);
                if (st_call_exec (call, "record_resident", &params, &whom))
                    whom = NULL;
            }
            msg_service_completed_t event = {.record_id = reply->id,
                                             .volunteer_id = reply->volunteer_id,
                                             .activity_id = reply->activity_id,
                                             .request_id = reply->request_id,
                                             .region = reply->region,
                                             .category = category,
                                             .theme = theme,
                                             .hours = reply->hours,
                                             .has_hours = true,
                                             .checkin_at = reply->checkin_at,
                                             .checkout_at = reply->checkout_at,
                                             //  What ledger posts: whole minutes.
                                             .minutes = llround (reply->hours * 60),
                                             .has_minutes = true};
            if (whom && PQntuples (whom) == 1) {
                event.resident_id = PQgetisnull (whom, 0, 0) ? NULL : PQgetvalue (whom, 0, 0);
                event.cared = PQgetvalue (whom, 0, 1)[0] == 't';
                event.has_cared = true;
            }
            if (!st_call_failed (call))
                st_call_emit (call, "service.completed", &msg_service_completed_desc, &event);
            PQclear (whom);
        }
    }
    free (category);
    free (theme);
}

//  ---------------------------------------------------------------------------------------
//  record.list — an activity's or a request's records: all of them for an official in scope,
//  their own for a volunteer

//  True when the official may see the subject's records (its region in scope).
static bool
s_subject_visible (st_call_t *call, const msg_actor_t *actor, const s_subject_t *subject)
{
    st_params_t params = {0};
    PGresult *res;
    char now[40];
    st_time_format_utc (st_now_ms () * 1000, now);
    st_params_int (&params, subject->activity ? subject->activity : subject->request);
    st_params_int (&params, 0);
    st_params_text (&params, now);
    st_params_null (&params);
    st_params_null (&params);
    if (st_call_exec (call, subject->activity ? "record_activity" : "record_request", &params,
                      &res))
        return false;
    bool visible = PQntuples (res) == 1 && st_actor_in_scope (actor, PQgetvalue (res, 0, 0));
    PQclear (res);
    return visible;
}

//  record.list by region: the records of a subtree for officials in its scope, a page at a
//  time in id order (the cursor is the last id shown).
static void
s_record_list_region (st_call_t *call, const msg_record_list_t *request,
                      msg_service_records_t *reply)
{
    const msg_actor_t *actor;
    int64_t from_us = 0, to_us = 0, after = 0;
    char from[40], to[40];
    if (request->activity_id || request->request_id) {
        st_call_fail (call, ST_INVALID_ARGUMENT, "region",
                      "name one of \"activity_id\", \"request_id\" and \"region\"");
        return;
    }
    if (st_require_actor (call, &actor) || st_require_official (call, actor)
        || st_require_code (call, "region", request->region)
        || st_require_scope (call, actor, "region", request->region)
        || (request->from && st_require_time (call, "from", request->from, &from_us, from))
        || (request->to && st_require_time (call, "to", request->to, &to_us, to)))
        return;
    if (request->from && request->to && from_us >= to_us) {
        st_call_fail (call, ST_INVALID_ARGUMENT, "to", "\"to\" (%s) must come after \"from\" (%s)",
                      to, from);
        return;
    }
    if (request->cursor && (!st_parse_id (request->cursor, &after) || after <= 0)) {
        st_call_fail (call, ST_INVALID_ARGUMENT, "cursor", "\"cursor\" is not one we gave");
        return;
    }
    int64_t limit = request->has_limit ? request->limit : 500;
    char prefix[ST_REGION_SIZE];
    st_region_prefix (request->region, prefix);
    st_params_t params = {0};
    st_params_text (&params, prefix);
    st_params_text (&params, request->from ? from : NULL);
    st_params_text (&params, request->to ? to : NULL);
    st_params_int (&params, after);
    st_params_int (&params, limit + 1); //  one more tells whether a next page exists
    PGresult *res;
    if (st_call_exec (call, "record_list_region", &params, &res))
        return;
    int rows = PQntuples (res);
    int shown = rows > limit ? (int) limit : rows;
    reply->items.items = st_calloc (shown ? (size_t) shown : 1, sizeof (msg_service_record_t));
    reply->has_items = true;
    for (int i = 0; i < shown; i++) {
        st_row_to_msg (res, i, &msg_service_record_desc, &reply->items.items[i]);
        reply->items.count = (size_t) i + 1;
    }
    if (rows > limit)
        reply->next_cursor = st_strdup (st_row_text (res, shown - 1, "id"));
    PQclear (res);
}

static void
s_record_list (st_call_t *call, const msg_record_list_t *request, msg_service_records_t *reply)
{
    if (request->region) {
        s_record_list_region (call, request, reply);
        return;
    }
    const msg_actor_t *actor;
    int64_t volunteer = 0;
    s_subject_t subject;
    if (st_require_actor (call, &actor)
        || s_require_subject (call, request->activity_id, request->request_id, &subject))
        return;
    bool self = strcmp (actor->role, "volunteer") == 0;
    if (self
        && st_require_id (call, "actor.volunteer_id", "volunteer", actor->volunteer_id, &volunteer))
        return;
    if (!self && !s_subject_visible (call, actor, &subject)) {
        if (!st_call_failed (call))
            st_call_fail (call, ST_NOT_FOUND, subject.field, "no %s has id \"%s\"",
                          subject.activity ? "activity" : "request", subject.text);
        return;
    }
    st_params_t params = {0};
    PGresult *res;
    st_params_int (&params, subject.activity ? subject.activity : subject.request);
    st_params_int_or_null (&params, self, volunteer);
    if (st_call_exec (call, subject.activity ? "record_list" : "record_list_request", &params,
                      &res))
        return;
    st_rows_to_list (res, &msg_service_record_desc, (st_list_t *) &reply->items, &reply->has_items);
    PQclear (res);
}

//  ---------------------------------------------------------------------------------------
//  stats.region — a region's figures for officials in its scope

//  The figures of [from, to) (default this month, Beijing time, to now) as a county's report
//  counts them: an activity in the period when it starts in it (starts_at, not cancelled:
//  held, or to be held when the period reaches ahead), a project when it was created in the
//  period or has such an activity; records by check-in, requests by creation.
//  ---------------------------------------------------------------------------------------
//  digest.region — what waits for a region's officials, for their daily digest: asked by an
//  official in scope, or by the notify service (its key's name, not any service key)

static void
s_digest_region (st_call_t *call, const msg_digest_query_t *request, msg_region_digest_t *reply)
{
    const msg_actor_t *actor = st_call_actor (call);
    if (st_require_code (call, "region", request->region))
        return;
    if (st_call_peer_role (call) == ST_PEER_SERVICE) {
        if (strcmp (st_call_peer (call), "notify") != 0) {
            st_call_fail (call, ST_PERMISSION_DENIED, "op",
                          "peer \"%s\" may not call \"digest.region\": only the notify service"
                          " may",
                          st_call_peer (call));
            return;
        }
    } else if (st_require_actor (call, &actor) || st_require_official (call, actor)
               || st_require_scope (call, actor, "region", request->region))
        return;
    int64_t since_us;
    char since[40];
    if (request->since) {
        if (st_require_time (call, "since", request->since, &since_us, since))
            return;
    } else
        st_time_format_utc ((st_now_ms () - 86400 * 1000LL) * 1000, since);
    char prefix[ST_REGION_SIZE];
    st_region_prefix (request->region, prefix);
    st_params_t params = {0};
    st_params_text (&params, prefix);
    st_params_text (&params, since);
    st_params_text (&params, request->region);
    st_call_exec_reply (call, "digest_region", &params, &msg_region_digest_desc, reply);
}

static void
s_stats_region (st_call_t *call, const msg_stats_query_t *request, msg_region_stats_t *reply)
{
    const msg_actor_t *actor;
    int64_t from_us, to_us;
    char from[40], to[40];
    if (st_require_actor (call, &actor) || st_require_official (call, actor)
        || st_require_code (call, "region", request->region)
        || st_require_scope (call, actor, "region", request->region))
        return;
    if ((request->from && st_require_time (call, "from", request->from, &from_us, from))
        || (request->to && st_require_time (call, "to", request->to, &to_us, to)))
        return;
    if (!request->to)
        st_time_format_utc (st_now_ms () * 1000, to);
    PGresult *res;
    if (!request->from) {
        if (st_call_exec (call, "stats_month", NULL, &res))
            return;
        snprintf (from, sizeof from, "%s", PQgetvalue (res, 0, 0));
        PQclear (res);
    }
    //  Compared once the defaults are in: the period is never empty or backwards.
    if (!st_time_parse (from, &from_us) || !st_time_parse (to, &to_us) || from_us >= to_us) {
        st_call_fail (call, ST_INVALID_ARGUMENT, request->to ? "to" : "from",
                      "\"to\" (%s) must come after \"from\" (%s)", to, from);
        return;
    }
    char prefix[ST_REGION_SIZE];
    st_region_prefix (request->region, prefix);
    st_params_t params = {0};
    st_params_text (&params, prefix);
    st_params_text (&params, from);
    st_params_text (&params, to);
    st_params_text (&params, request->region);
    if (st_call_exec_reply (call, "stats_region", &params, &msg_region_stats_desc, reply) < 0)
        return;
    st_params_text (&params, prefix);
    st_params_text (&params, from);
    st_params_text (&params, to);
    if (st_call_exec (call, "stats_requests", &params, &res))
        return;
    st_rows_to_list (res, &msg_status_count_desc, (st_list_t *) &reply->requests_by_status,
                     &reply->has_requests_by_status);
    PQclear (res);
}

//  ---------------------------------------------------------------------------------------
//  stats.teams, stats.themes — the dashboard's top teams and the month's themes

//  An official in scope of `region`, and the period [from, to) a stats op covers: to now by
//  default, from the start of the month or quarter (`since`: stats_month, stats_quarter) in
//  Shanghai. Fills `prefix` with the region's subtree prefix; -1 when the call failed.
static int
s_stats_period (st_call_t *call, const char *region, const char *from_text, const char *to_text,
                const char *since, char prefix[ST_REGION_SIZE], char from[40], char to[40])
{
    const msg_actor_t *actor;
    int64_t from_us, to_us;
    if (st_require_actor (call, &actor) || st_require_official (call, actor)
        || st_require_code (call, "region", region)
        || st_require_scope (call, actor, "region", region)
        || (from_text && st_require_time (call, "from", from_text, &from_us, from))
        || (to_text && st_require_time (call, "to", to_text, &to_us, to)))
        return -1;
    if (!to_text)
        st_time_format_utc (st_now_ms () * 1000, to);
    if (!from_text) {
        PGresult *res;
        if (st_call_exec (call, since, NULL, &res))
            return -1;
        snprintf (from, 40, "%s", PQgetvalue (res, 0, 0));
        PQclear (res);
    }
    if (!st_time_parse (from, &from_us) || !st_time_parse (to, &to_us) || from_us >= to_us)
        return st_call_fail (call, ST_INVALID_ARGUMENT, to_text ? "to" : "from",
                             "\"to\" (%s) must come after \"from\" (%s)", to, from);
    st_region_prefix (region, prefix);
    return 0;
}

static void
s_stats_teams (st_call_t *call, const msg_team_stats_query_t *request, msg_team_stats_t *reply)
{
    char prefix[ST_REGION_SIZE], from[40], to[40];
    if (s_stats_period (call, request->region, request->from, request->to, "stats_quarter", prefix,
                        from, to))
        return;
    st_params_t params = {0};
    st_params_text (&params, prefix);
    st_params_text (&params, from);
    st_params_text (&params, to);
    st_params_int (&params, request->has_limit ? request->limit : 10);
    PGresult *res;
    if (st_call_exec (call, "stats_teams", &params, &res))
        return;
    st_rows_to_list (res, &msg_team_hours_desc, (st_list_t *) &reply->items, &reply->has_items);
    PQclear (res);
    reply->region = st_strdup (request->region);
    reply->from = st_strdup (from);
    reply->to = st_strdup (to);
}

static void
s_stats_themes (st_call_t *call, const msg_stats_query_t *request, msg_theme_stats_t *reply)
{
    char prefix[ST_REGION_SIZE], from[40], to[40];
    if (s_stats_period (call, request->region, request->from, request->to, "stats_month", prefix,
                        from, to))
        return;
    st_params_t params = {0};
    st_params_text (&params, prefix);
    st_params_text (&params, from);
    st_params_text (&params, to);
    PGresult *res;
    if (st_call_exec (call, "stats_themes", &params, &res))
        return;
    st_rows_to_list (res, &msg_theme_hours_desc, (st_list_t *) &reply->items, &reply->has_items);
    PQclear (res);
    reply->region = st_strdup (request->region);
    reply->from = st_strdup (from);
    reply->to = st_strdup (to);
}
