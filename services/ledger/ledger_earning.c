/*  ledger_earning.c — what the ledger does with other services' events: registry's tell it
    where each volunteer belongs (scope checks, whose rule sets their stars; a transferred
    volunteer keeps every account, which belong to the volunteer, not to a region); match's
    service.completed posts the confirmed minutes as credit hours and their points, and
    service.rated the rating's adjustment of them, in whichever order the two arrive. Each
    transfer is sourced by the record and the request, never by delivery, so an event applied
    twice posts nothing new (transfers_source, sql/0002_books.sql).  */
#include "ledger.h"
#include "st_checks.h"
#include "st_rows.h"
#include "st_time.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

//  ---------------------------------------------------------------------------------------
//  Registry's events

//  volunteer.transferred: the volunteer's new region; their accounts stay theirs.
static st_status_t
s_volunteer_transferred (st_db_t *db, const char *topic, const void *body_, int64_t seq,
                         st_error_t *err)
{
    (void) topic;
    const msg_volunteer_transferred_t *body = body_;
    return st_event_place (db, "ledger_volunteer_upsert", "id", body->id, body->to_region, seq,
                           err);
}

const st_subscription_t ledger_registry_subscriptions[] = {
    {"volunteer.registered", ledger_volunteer_status},
    {"volunteer.updated", ledger_volunteer_status},
    {"volunteer.transferred", s_volunteer_transferred},
    {"volunteer.status_changed", ledger_volunteer_status},
};
const size_t ledger_registry_subscription_count =
    sizeof ledger_registry_subscriptions / sizeof ledger_registry_subscriptions[0];

//  ---------------------------------------------------------------------------------------
//  Stars

st_status_t
ledger_stars (st_db_t *db, int64_t volunteer, st_error_t *err)
{
    st_params_t params = {0};
    st_params_int (&params, volunteer);
    PGresult *res;
    st_status_t rc = st_db_exec (db, "ledger_stars_reach", &params, &res, err);
    st_params_clear (&params);
    if (rc != ST_OK)
        return rc;
    char id[24];
    snprintf (id, sizeof id, "%lld", (long long) volunteer);
    for (int i = 0; rc == ST_OK && i < PQntuples (res); i++) {
        msg_star_reached_t event = {.volunteer_id = id,
                                    .level = st_row_int (res, i, "level"),
                                    .has_level = true,
                                    .hours = (double) st_row_int (res, i, "minutes") / 60.0,
                                    .has_hours = true};
        rc = st_outbox_append (db, "star.reached", &msg_star_reached_desc, &event, err);
    }
    PQclear (res);
    return rc;
}

//  ---------------------------------------------------------------------------------------
//  Match's events

//  One points.awarded per points transfer an earning function returned.
static st_status_t
s_awarded (st_db_t *db, PGresult *res, st_error_t *err)
{
    st_status_t rc = ST_OK;
    for (int i = 0; rc == ST_OK && i < PQntuples (res); i++) {
        msg_points_awarded_t event = {0};
        st_row_to_msg (res, i, &msg_points_awarded_desc, &event);
        rc = st_outbox_append (db, "points.awarded", &msg_points_awarded_desc, &event, err);
        st_msg_clear (&msg_points_awarded_desc, &event);
    }
    return rc;
}

//  service.completed: credit hours and points for one confirmed record (and the rating's
//  adjustment when the rating came first), then any star level the hours reach.
static st_status_t
s_service_completed (st_db_t *db, const char *topic, const void *body_, int64_t seq,
                     st_error_t *err)
{
    (void) topic;
    const msg_service_completed_t *body = body_;
    int64_t record, volunteer, request = 0;
    if (!st_parse_id (body->record_id, &record))
        return st_error_set (err, ST_INVALID_ARGUMENT, "record_id",
                             "record id \"%s\" is not a number", body->record_id);
    if (!st_parse_id (body->volunteer_id, &volunteer))
        return st_error_set (err, ST_INVALID_ARGUMENT, "volunteer_id",
                             "volunteer id \"%s\" is not a number", body->volunteer_id);
    if (body->request_id && !st_parse_id (body->request_id, &request))
        return st_error_set (err, ST_INVALID_ARGUMENT, "request_id",
                             "request id \"%s\" is not a number", body->request_id);
    if (st_region_level (body->region) < 0)
        return st_error_set (err, ST_INVALID_ARGUMENT, "region", "region \"%s\" is no region code",
                             body->region);
    if (!st_time_parse (body->checkout_at, &(int64_t){0}))
        return st_error_set (err, ST_INVALID_ARGUMENT, "checkout_at",
                             "check-out time \"%s\" is no RFC 3339 time", body->checkout_at);
    st_status_t known = ledger_volunteer_require (db, volunteer, body->volunteer_id, err);
    if (known != ST_OK)
        return known;
    //  An older match sends hours only: the same rounding match uses for minutes.
    int64_t minutes = body->has_minutes ? body->minutes : llround (body->hours * 60);
    st_params_t params = {0};
    st_params_int (&params, record);
    st_params_int (&params, volunteer);
    st_params_int_or_null (&params, body->request_id != NULL, request);
    st_params_text (&params, body->region);
    st_params_int (&params, minutes);
    st_params_text (&params, body->checkout_at);
    st_params_bool (&params, body->has_cared && body->cared);
    st_params_int (&params, seq);
    PGresult *res;
    st_status_t rc = st_db_exec (db, "ledger_earn_completion", &params, &res, err);
    st_params_clear (&params);
    if (rc != ST_OK)
        return rc;
    rc = s_awarded (db, res, err);
    PQclear (res);
    if (rc == ST_OK)
        rc = ledger_stars (db, volunteer, err);
    return rc;
}

//  service.rated: the rating kept, and each completion of its request adjusted by it.
static st_status_t
s_service_rated (st_db_t *db, const char *topic, const void *body_, int64_t seq, st_error_t *err)
{
    (void) topic;
    const msg_service_rated_t *body = body_;
    int64_t request;
    if (!st_parse_id (body->request_id, &request))
        return st_error_set (err, ST_INVALID_ARGUMENT, "request_id",
                             "request id \"%s\" is not a number", body->request_id);
    st_params_t params = {0};
    st_params_int (&params, request);
    st_params_int (&params, body->stars);
    st_params_int (&params, seq);
    PGresult *res;
    st_status_t rc = st_db_exec (db, "ledger_rate_request", &params, &res, err);
    st_params_clear (&params);
    if (rc != ST_OK)
        return rc;
    rc = s_awarded (db, res, err);
    PQclear (res);
    return rc;
}

const st_subscription_t ledger_match_subscriptions[] = {
    {"service.completed", s_service_completed},
    {"service.rated", s_service_rated},
};
const size_t ledger_match_subscription_count =
    sizeof ledger_match_subscriptions / sizeof ledger_match_subscriptions[0];
