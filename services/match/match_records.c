/*  match_records.c — service records: check-in and check-out (签到签退) by the volunteer,
    hours confirmed (时长认定) and forgotten check-outs completed by an official in scope.
    Confirmed hours publish service.completed, which ledger turns into points and stars.  */
#include "match_server.h"
#include "st_checks.h"
#include "st_log.h"
#include "st_rows.h"
#include "st_time.h"

#include <stdlib.h>
#include <string.h>

ST_RECORDS_OPS (ST_ROUTE_THUNK)

const st_route_t match_records_routes[] = {ST_RECORDS_OPS (ST_ROUTE_ROW)};
const size_t match_records_route_count =
    sizeof match_records_routes / sizeof match_records_routes[0];

//  Columns of record_get past those of msg_service_record.
enum { G_CATEGORY = 12, G_THEME = 13 };

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
    if (PQntuples (*res) == 0 || !st_actor_in_scope (actor, PQgetvalue (*res, 0, 3))) {
        PQclear (*res);
        return st_call_fail (call, ST_NOT_FOUND, "id", "no service record has id \"%s\"", id_text);
    }
    st_row_to_msg (*res, 0, &msg_service_record_desc, reply);
    return 0;
}

//  ---------------------------------------------------------------------------------------
//  record.checkin — at an activity the volunteer is confirmed for, from an hour before its
//  start to its end

static void
s_record_checkin (st_call_t *call, const msg_check_t *request, msg_service_record_t *reply)
{
    int64_t volunteer = 0, activity = 0;
    char when[40];
    if (s_require_self (call, &volunteer)
        || st_require_id (call, "activity_id", "activity", request->activity_id, &activity)
        || s_when (call, request->at, when))
        return;
    st_params_t params = {0};
    st_params_int (&params, activity);
    st_params_int (&params, volunteer);
    st_params_text (&params, when);
    PGresult *res;
    if (st_call_exec (call, "record_activity", &params, &res))
        return;
    if (PQntuples (res) == 0)
        st_call_fail (call, ST_NOT_FOUND, "activity_id", "no activity has id \"%s\"",
                      request->activity_id);
    else if (strcmp (PQgetvalue (res, 0, 1), "cancelled") == 0)
        st_call_fail (call, ST_FAILED_PRECONDITION, "activity_id", "the activity is cancelled");
    else if (PQgetisnull (res, 0, 2) || strcmp (PQgetvalue (res, 0, 2), "confirmed") != 0)
        st_call_fail (call, ST_FAILED_PRECONDITION, "activity_id",
                      "only volunteers confirmed for the activity check in");
    else if (PQgetvalue (res, 0, 3)[0] != 't')
        st_call_fail (call, ST_FAILED_PRECONDITION, "at",
                      "check-in opens an hour before the start and closes at the end");
    char region[ST_REGION_SIZE] = "";
    if (!st_call_failed (call))
        snprintf (region, sizeof region, "%s", PQgetvalue (res, 0, 0));
    PQclear (res);
    if (st_call_failed (call))
        return;
    st_params_int (&params, volunteer);
    st_params_int (&params, activity);
    st_params_text (&params, region);
    st_params_text (&params, when);
    if (st_call_exec (call, "record_checkin", &params, &res)) {
        if (st_call_code (call) == ST_CONFLICT)
            st_call_fail (call, ST_CONFLICT, "activity_id",
                          "you have checked in to this activity already");
        return;
    }
    st_row_to_msg (res, 0, &msg_service_record_desc, reply);
    PQclear (res);
}

//  ---------------------------------------------------------------------------------------
//  record.checkout — the minutes that count are those inside the schedule, plus a margin

static void
s_record_checkout (st_call_t *call, const msg_check_t *request, msg_service_record_t *reply)
{
    int64_t volunteer = 0, activity = 0;
    char when[40];
    if (s_require_self (call, &volunteer)
        || st_require_id (call, "activity_id", "activity", request->activity_id, &activity)
        || s_when (call, request->at, when))
        return;
    st_params_t params = {0};
    st_params_int (&params, volunteer);
    st_params_int (&params, activity);
    PGresult *res;
    if (st_call_exec (call, "record_open", &params, &res))
        return;
    bool open = PQntuples (res) == 1;
    char id[24] = "";
    if (open)
        snprintf (id, sizeof id, "%s", PQgetvalue (res, 0, 0));
    PQclear (res);
    if (!open) {
        st_call_fail (call, ST_FAILED_PRECONDITION, "activity_id",
                      "you have not checked in to this activity");
        return;
    }
    st_params_text (&params, id);
    st_params_int (&params, volunteer);
    st_params_text (&params, when);
    st_params_text (&params, NULL);
    st_params_text (&params, NULL);
    if (st_call_exec (call, "record_checkout", &params, &res))
        return;
    if (PQntuples (res) == 0)
        st_call_fail (call, ST_FAILED_PRECONDITION, "at", "check-out comes after check-in");
    else
        st_row_to_msg (res, 0, &msg_service_record_desc, reply);
    PQclear (res);
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
    st_params_text (&params, NULL);
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
    char *category = st_strdup (PQgetvalue (res, 0, G_CATEGORY));
    char *theme = PQgetisnull (res, 0, G_THEME) ? NULL : st_strdup (PQgetvalue (res, 0, G_THEME));
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
        if (request->has_hours)
            st_params_double (&params, request->hours);
        else
            st_params_text (&params, NULL);
        if (st_call_exec (call, "record_confirm", &params, &res) == 0) {
            st_row_to_msg (res, 0, &msg_service_record_desc, reply);
            PQclear (res);
            msg_service_completed_t event = {.record_id = reply->id,
                                             .volunteer_id = reply->volunteer_id,
                                             .activity_id = reply->activity_id,
                                             .region = reply->region,
                                             .category = category,
                                             .theme = theme,
                                             .hours = reply->hours,
                                             .has_hours = true,
                                             .checkin_at = reply->checkin_at,
                                             .checkout_at = reply->checkout_at};
            st_call_emit (call, "service.completed", &msg_service_completed_desc, &event);
        }
    }
    free (category);
    free (theme);
}

//  ---------------------------------------------------------------------------------------
//  record.list — an activity's records: all of them for an official in scope, their own for
//  a volunteer

static void
s_record_list (st_call_t *call, const msg_record_list_t *request, msg_service_records_t *reply)
{
    const msg_actor_t *actor;
    int64_t activity = 0, volunteer = 0;
    if (st_require_actor (call, &actor)
        || st_require_id (call, "activity_id", "activity", request->activity_id, &activity))
        return;
    bool self = strcmp (actor->role, "volunteer") == 0;
    if (self
        && st_require_id (call, "actor.volunteer_id", "volunteer", actor->volunteer_id, &volunteer))
        return;
    st_params_t params = {0};
    PGresult *res;
    if (!self) {
        char now[40];
        st_time_format_utc (st_now_ms () * 1000, now);
        st_params_int (&params, activity);
        st_params_int (&params, 0);
        st_params_text (&params, now);
        if (st_call_exec (call, "record_activity", &params, &res))
            return;
        bool visible = PQntuples (res) == 1 && st_actor_in_scope (actor, PQgetvalue (res, 0, 0));
        PQclear (res);
        if (!visible) {
            st_call_fail (call, ST_NOT_FOUND, "activity_id", "no activity has id \"%s\"",
                          request->activity_id);
            return;
        }
    }
    st_params_int (&params, activity);
    if (self)
        st_params_int (&params, volunteer);
    else
        st_params_text (&params, NULL);
    if (st_call_exec (call, "record_list", &params, &res))
        return;
    st_rows_to_list (res, &msg_service_record_desc, (st_list_t *) &reply->items, &reply->has_items);
    PQclear (res);
}
