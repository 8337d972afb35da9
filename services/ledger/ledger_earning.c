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
#include <stdarg.h>
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

//  A service.completed as the ledger posts it.
typedef struct {
    int64_t record, volunteer, request; //  request 0: none
    int64_t minutes;
} s_completion_t;

//  Reads a completion's ids, region and check-out; a malformed one is refused naming the
//  field (and parked).
static st_status_t
s_completion_parse (const msg_service_completed_t *body, s_completion_t *c, st_error_t *err)
{
    c->request = 0;
    if (!st_parse_id (body->record_id, &c->record))
        return st_error_set (err, ST_INVALID_ARGUMENT, "record_id",
                             "record id \"%s\" is not a number", body->record_id);
    if (!st_parse_id (body->volunteer_id, &c->volunteer))
        return st_error_set (err, ST_INVALID_ARGUMENT, "volunteer_id",
                             "volunteer id \"%s\" is not a number", body->volunteer_id);
    if (body->request_id && !st_parse_id (body->request_id, &c->request))
        return st_error_set (err, ST_INVALID_ARGUMENT, "request_id",
                             "request id \"%s\" is not a number", body->request_id);
    if (st_region_level (body->region) < 0)
        return st_error_set (err, ST_INVALID_ARGUMENT, "region", "region \"%s\" is no region code",
                             body->region);
    if (!st_time_parse (body->checkout_at, &(int64_t){0}))
        return st_error_set (err, ST_INVALID_ARGUMENT, "checkout_at",
                             "check-out time \"%s\" is no RFC 3339 time", body->checkout_at);
    //  An older match sends hours only: the same rounding match uses for minutes.
    c->minutes = body->has_minutes ? body->minutes : llround (body->hours * 60);
    return ST_OK;
}

//  service.completed: credit hours and points for one confirmed record (and the rating's
//  adjustment when the rating came first), then any star level the hours reach.
static st_status_t
s_service_completed (st_db_t *db, const char *topic, const void *body_, int64_t seq,
                     st_error_t *err)
{
    (void) topic;
    const msg_service_completed_t *body = body_;
    s_completion_t c;
    st_status_t rc = s_completion_parse (body, &c, err);
    if (rc != ST_OK)
        return rc;
    rc = ledger_volunteer_require (db, c.volunteer, body->volunteer_id, err);
    if (rc != ST_OK)
        return rc;
    st_params_t params = {0};
    st_params_int (&params, c.record);
    st_params_int (&params, c.volunteer);
    st_params_int_or_null (&params, c.request != 0, c.request);
    st_params_text (&params, body->region);
    st_params_int (&params, c.minutes);
    st_params_text (&params, body->checkout_at);
    st_params_bool (&params, body->has_cared && body->cared);
    st_params_int (&params, seq);
    PGresult *res;
    rc = st_db_exec (db, "ledger_earn_completion", &params, &res, err);
    st_params_clear (&params);
    if (rc != ST_OK)
        return rc;
    rc = s_awarded (db, res, err);
    PQclear (res);
    if (rc == ST_OK)
        rc = ledger_stars (db, c.volunteer, err);
    return rc;
}

//  Column `column` of each of `count` completions as text, for an array parameter: the
//  strings are the caller's to free.
typedef struct {
    char **items;
    size_t count;
} s_column_t;

static void s_column_add (s_column_t *column, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));

static void
s_column_add (s_column_t *column, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    column->items[column->count++] = zsys_vprintf (format, args);
    va_end (args);
}

//  The page path of service.completed: each completion checked in C (a malformed one, or one
//  naming a volunteer registry never told of, given back to be parked with the reason the
//  one-event path gives), then the rest priced and posted by earn_completions
//  (sql/0006_batch_post.sql) in one statement: the completions, their transfers, the
//  balances by their sums, ratings that came first, the star levels reached; and one
//  points.awarded per points transfer, one star.reached per level, appended together.
static st_status_t
s_service_completed_batch (st_db_t *db, const char *topic, const void *const *bodies,
                           const int64_t *seqs, size_t count, st_error_t *parked, st_error_t *err)
{
    (void) topic;
    enum { RECORD, VOLUNTEER, REQUEST, REGION, MINUTES, CHECKOUT, CARED, SEQ, COLUMNS };
    s_column_t columns[COLUMNS];
    for (int k = 0; k < COLUMNS; k++)
        columns[k] = (s_column_t){st_calloc (count + 1, sizeof (char *)), 0};
    s_completion_t *parsed = st_calloc (count, sizeof *parsed);
    bool *good = st_calloc (count, sizeof *good);
    PGresult *res = NULL;
    st_status_t rc = ST_OK;
    //  Which of the volunteers named the ledger knows, in one query.
    for (size_t i = 0; i < count; i++)
        if (s_completion_parse (bodies[i], &parsed[i], &parked[i]) == ST_OK) {
            good[i] = true;
            s_column_add (&columns[VOLUNTEER], "%lld", (long long) parsed[i].volunteer);
        }
    st_params_t params = {0};
    st_params_text_array (&params, columns[VOLUNTEER].items, columns[VOLUNTEER].count);
    rc = st_db_exec (db, "ledger_volunteers_known", &params, &res, err);
    st_params_clear (&params);
    if (rc != ST_OK)
        goto done;
    for (int k = 0; k < COLUMNS; k++)
        while (columns[k].count)
            zstr_free (&columns[k].items[--columns[k].count]);
    int known = 0;
    for (size_t i = 0; i < count; i++) {
        if (!good[i])
            continue;
        if (!st_row_bool (res, known++, "known")) {
            good[i] = false;
            ledger_volunteer_unknown (((const msg_service_completed_t *) bodies[i])->volunteer_id,
                                      &parked[i]);
            continue;
        }
        const msg_service_completed_t *body = bodies[i];
        s_column_add (&columns[RECORD], "%lld", (long long) parsed[i].record);
        s_column_add (&columns[VOLUNTEER], "%lld", (long long) parsed[i].volunteer);
        s_column_add (&columns[REQUEST], "%lld", (long long) parsed[i].request);
        s_column_add (&columns[REGION], "%s", body->region);
        s_column_add (&columns[MINUTES], "%lld", (long long) parsed[i].minutes);
        s_column_add (&columns[CHECKOUT], "%s", body->checkout_at);
        s_column_add (&columns[CARED], "%s", body->has_cared && body->cared ? "t" : "f");
        s_column_add (&columns[SEQ], "%lld", (long long) seqs[i]);
    }
    PQclear (res);
    res = NULL;
    if (columns[RECORD].count == 0)
        goto done;
    for (int k = 0; k < COLUMNS; k++)
        st_params_text_array (&params, columns[k].items, columns[k].count);
    rc = st_db_exec (db, "ledger_earn_completions", &params, &res, err);
    st_params_clear (&params);
    if (rc != ST_OK)
        goto done;
    //  The events, each topic appended in one statement, in the order the rows came.
    int n = PQntuples (res);
    msg_points_awarded_t *awards = st_calloc ((size_t) n + 1, sizeof *awards);
    msg_star_reached_t *stars = st_calloc ((size_t) n + 1, sizeof *stars);
    const void **award_bodies = st_calloc ((size_t) n + 1, sizeof *award_bodies);
    const void **star_bodies = st_calloc ((size_t) n + 1, sizeof *star_bodies);
    size_t award_count = 0, star_count = 0;
    for (int i = 0; i < n; i++) {
        if (strcmp (st_row_text (res, i, "event"), "star.reached") == 0) {
            msg_star_reached_t *star = &stars[star_count];
            star->volunteer_id = (char *) st_row_text (res, i, "volunteer_id");
            star->level = st_row_int (res, i, "level");
            star->has_level = true;
            star->hours = (double) st_row_int (res, i, "minutes") / 60.0;
            star->has_hours = true;
            star_bodies[star_count++] = star;
        } else {
            st_row_to_msg (res, i, &msg_points_awarded_desc, &awards[award_count]);
            award_bodies[award_count] = &awards[award_count];
            award_count++;
        }
    }
    rc = st_outbox_append_many (db, "points.awarded", &msg_points_awarded_desc, award_bodies,
                                award_count, err);
    if (rc == ST_OK)
        rc = st_outbox_append_many (db, "star.reached", &msg_star_reached_desc, star_bodies,
                                    star_count, err);
    for (size_t i = 0; i < award_count; i++)
        st_msg_clear (&msg_points_awarded_desc, &awards[i]);
    free (awards);
    free (stars);
    free (award_bodies);
    free (star_bodies);
done:
    PQclear (res);
    for (int k = 0; k < COLUMNS; k++) {
        for (size_t i = 0; i < columns[k].count; i++)
            zstr_free (&columns[k].items[i]);
        free (columns[k].items);
    }
    free (parsed);
    free (good);
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

const st_batch_subscription_t ledger_batches[] = {
    {"match", "service.completed", s_service_completed_batch},
};
const size_t ledger_batch_count = sizeof ledger_batches / sizeof ledger_batches[0];
