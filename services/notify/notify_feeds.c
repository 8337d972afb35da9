/*  notify_feeds.c — what registry's, match's and the ledger's events become: whom notify knows
    (ids and regions only), what people take part in, their reminders, and a notice for each
    person an event concerns. Each notice's source is the event (publisher:seq), so a replayed event
    makes none twice.  */
#include "notify.h"
#include "st_log.h"
#include "st_rows.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  ---------------------------------------------------------------------------------------
//  Helpers, inside the consumer's transaction

static st_status_t
s_exec (st_db_t *db, const char *statement, st_params_t *params, st_error_t *err)
{
    st_status_t rc = st_db_exec (db, statement, params, NULL, err);
    st_params_clear (params);
    return rc;
}

static st_status_t
s_subject (st_db_t *db, const char *kind, const char *id, const char *title, const char *region,
           const char *starts_at, const char *ends_at, const char *urgency, st_error_t *err)
{
    st_params_t params = {0};
    st_params_text (&params, kind);
    st_params_text (&params, id);
    st_params_text (&params, title);
    st_params_text (&params, region);
    st_params_text (&params, starts_at);
    st_params_text (&params, ends_at);
    if (urgency)
        st_params_bool (&params, strcmp (urgency, "urgent") == 0);
    else
        st_params_null (&params);
    return s_exec (db, "subject_upsert", &params, err);
}

static st_status_t
s_engage (st_db_t *db, const char *volunteer, const char *kind, const char *id, bool active,
          st_error_t *err)
{
    st_params_t params = {0};
    st_params_text (&params, "volunteer");
    st_params_text (&params, volunteer);
    st_params_text (&params, kind);
    st_params_text (&params, id);
    st_params_bool (&params, active);
    return s_exec (db, "engagement_set", &params, err);
}

static st_status_t
s_schedule (st_db_t *db, const char *kind, const char *id, st_error_t *err)
{
    st_params_t params = {0};
    st_params_text (&params, kind);
    st_params_text (&params, id);
    return s_exec (db, "reminders_schedule", &params, err);
}

static void
s_source (char out[64], const char *publisher, int64_t seq)
{
    snprintf (out, 64, "%s:%lld", publisher, (long long) seq);
}

//  ---------------------------------------------------------------------------------------
//  Registry's events

static st_status_t
s_recipient (st_db_t *db, const char *kind, const char *id, const char *region, int64_t seq,
             st_error_t *err)
{
    st_params_t params = {0};
    st_params_text (&params, kind);
    st_params_text (&params, id);
    st_params_text (&params, region);
    st_params_int (&params, seq);
    return s_exec (db, "recipient_upsert", &params, err);
}

static st_status_t
s_volunteer_registered (st_db_t *db, const char *topic, const void *body_, int64_t seq,
                        st_error_t *err)
{
    (void) topic;
    const msg_volunteer_registered_t *body = body_;
    return s_recipient (db, "volunteer", body->id, body->region, seq, err);
}

static st_status_t
s_volunteer_transferred (st_db_t *db, const char *topic, const void *body_, int64_t seq,
                         st_error_t *err)
{
    (void) topic;
    const msg_volunteer_transferred_t *body = body_;
    return s_recipient (db, "volunteer", body->id, body->to_region, seq, err);
}

static st_status_t
s_resident_registered (st_db_t *db, const char *topic, const void *body_, int64_t seq,
                       st_error_t *err)
{
    (void) topic;
    const msg_resident_registered_t *body = body_;
    return s_recipient (db, "resident", body->id, body->region, seq, err);
}

static st_status_t
s_invitation_created (st_db_t *db, const char *topic, const void *body_, int64_t seq,
                      st_error_t *err)
{
    const msg_invitation_t *body = body_;
    char source[64];
    s_source (source, "registry", seq);
    notify_notice_t notice = {.recipient_kind = "volunteer",
                              .recipient_id = body->volunteer_id,
                              .kind = topic,
                              .source = source,
                              .subject_id = body->team_id,
                              .title = body->team_name};
    return notify_notice_add (db, &notice, err);
}

//  volunteer.transfer_declined: the volunteer hears that the region they asked to move to
//  declined, and why.
static st_status_t
s_transfer_declined (st_db_t *db, const char *topic, const void *body_, int64_t seq,
                     st_error_t *err)
{
    const msg_transfer_declined_t *body = body_;
    char source[64];
    s_source (source, "registry", seq);
    notify_notice_t notice = {.recipient_kind = "volunteer",
                              .recipient_id = body->volunteer_id,
                              .kind = topic,
                              .source = source,
                              .subject_id = body->id,
                              .region = body->from_region,
                              .title = body->to_region,
                              .reason = body->reason};
    return notify_notice_add (db, &notice, err);
}

const st_subscription_t notify_registry_subscriptions[] = {
    {"volunteer.registered", s_volunteer_registered},
    {"volunteer.updated", s_volunteer_registered},
    {"volunteer.status_changed", s_volunteer_registered},
    {"volunteer.transferred", s_volunteer_transferred},
    {"resident.registered", s_resident_registered},
    {"resident.updated", s_resident_registered},
    {"invitation.created", s_invitation_created},
    {"volunteer.transfer_declined", s_transfer_declined},
};
const size_t notify_registry_subscription_count =
    sizeof notify_registry_subscriptions / sizeof notify_registry_subscriptions[0];

//  ---------------------------------------------------------------------------------------
//  Match's events: activities and sign-ups

static st_status_t
s_activity_created (st_db_t *db, const char *topic, const void *body_, int64_t seq, st_error_t *err)
{
    (void) topic, (void) seq;
    const msg_activity_created_t *body = body_;
    return s_subject (db, "activity", body->id, body->title, body->region, body->starts_at,
                      body->ends_at, NULL, err);
}

//  activity.changed: the reminders move with the times, and everyone confirmed is told.
static st_status_t
s_activity_changed (st_db_t *db, const char *topic, const void *body_, int64_t seq, st_error_t *err)
{
    const msg_activity_changed_t *body = body_;
    st_status_t rc = s_subject (db, "activity", body->id, body->title, body->region,
                                body->starts_at, body->ends_at, NULL, err);
    if (rc == ST_OK)
        rc = s_schedule (db, "activity", body->id, err);
    if (rc != ST_OK)
        return rc;
    st_params_t params = {0};
    st_params_text (&params, "activity");
    st_params_text (&params, body->id);
    PGresult *res;
    rc = st_db_exec (db, "engaged", &params, &res, err);
    st_params_clear (&params);
    if (rc != ST_OK)
        return rc;
    char source[64];
    s_source (source, "match", seq);
    for (int i = 0; i < PQntuples (res) && rc == ST_OK; i++) {
        notify_notice_t notice = {.recipient_kind = PQgetvalue (res, i, 0),
                                  .recipient_id = PQgetvalue (res, i, 1),
                                  .kind = topic,
                                  .source = source,
                                  .subject_id = body->id,
                                  .region = body->region,
                                  .title = body->title,
                                  .reason = body->reason,
                                  .start = body->starts_at,
                                  .end = body->ends_at};
        rc = notify_notice_add (db, &notice, err);
    }
    PQclear (res);
    return rc;
}

//  activity.cancelled: its reminders never fire; each volunteer hears of it through their
//  signup.cancelled.
static st_status_t
s_activity_cancelled (st_db_t *db, const char *topic, const void *body_, int64_t seq,
                      st_error_t *err)
{
    (void) topic, (void) seq;
    const msg_activity_cancelled_t *body = body_;
    st_status_t rc = s_subject (db, "activity", body->id, body->title, body->region,
                                body->starts_at, body->ends_at, NULL, err);
    st_params_t params = {0};
    st_params_text (&params, "activity");
    st_params_text (&params, body->id);
    if (rc == ST_OK)
        rc = s_exec (db, "subject_cancel", &params, err);
    else
        st_params_clear (&params);
    if (rc == ST_OK)
        rc = s_schedule (db, "activity", body->id, err);
    return rc;
}

//  signup.*: the sign-up's volunteer is told; a confirmed place schedules their reminders, a
//  cancelled one cancels them.
static st_status_t
s_signup (st_db_t *db, const char *topic, const void *body_, int64_t seq, st_error_t *err)
{
    const msg_signup_event_t *body = body_;
    st_status_t rc = s_subject (db, "activity", body->activity_id, body->title, body->region,
                                body->starts_at, body->ends_at, NULL, err);
    bool confirmed =
        strcmp (topic, "signup.confirmed") == 0 || strcmp (topic, "signup.promoted") == 0;
    bool cancelled = strcmp (topic, "signup.cancelled") == 0;
    if (rc == ST_OK && (confirmed || cancelled))
        rc = s_engage (db, body->volunteer_id, "activity", body->activity_id, confirmed, err);
    if (rc == ST_OK && (confirmed || cancelled))
        rc = s_schedule (db, "activity", body->activity_id, err);
    if (rc != ST_OK)
        return rc;
    char source[64], position[24] = "";
    s_source (source, "match", seq);
    if (body->has_position)
        snprintf (position, sizeof position, "%lld", (long long) body->position);
    const char *kind = topic;
    if (cancelled && body->reason && strcmp (body->reason, "activity_cancelled") == 0)
        kind = "activity.cancelled";
    notify_notice_t notice = {.recipient_kind = "volunteer",
                              .recipient_id = body->volunteer_id,
                              .kind = kind,
                              .source = source,
                              .subject_id = body->activity_id,
                              .region = body->region,
                              .title = body->title,
                              .number = position,
                              .start = body->starts_at,
                              .end = body->ends_at};
    return notify_notice_add (db, &notice, err);
}

//  ---------------------------------------------------------------------------------------
//  Match's events: requests and offers

//  The delivery whose registry settings tell whom to ask who is coming (notify_main.c).
static notify_delivery_t *s_delivery;

void
notify_feeds_set_delivery (notify_delivery_t *delivery)
{
    s_delivery = delivery;
}

//  How long the consumer waits for registry's answer of who is coming (ms).
#define S_WHO_TIMEOUT_MS 3000

//  Who is coming to serve request `body` (request.staffed), from registry at this moment:
//  names and masked phones, never kept by notify beyond the notice's text. Registry silent,
//  the notice goes without them (the count still says how many come) rather than hold up
//  every notice of match's events behind it; the log says so. *who: malloc'd or NULL.
static void
s_who (const msg_request_event_t *body, char **who)
{
    *who = NULL;
    if (!s_delivery || !body->has_volunteer_ids || body->volunteer_ids.count == 0)
        return;
    st_error_t err = {0};
    if (notify_delivery_who (s_delivery, body->volunteer_ids.items, body->volunteer_ids.count,
                             S_WHO_TIMEOUT_MS, who, &err)
        != ST_OK)
        st_warn ("could not ask registry who serves request %s: %s (its notice names nobody)",
                 body->id, err.message);
}

//  request.*: the resident (where the request names one) is told; of a staffed one, who is
//  coming.
static st_status_t
s_request (st_db_t *db, const char *topic, const void *body_, int64_t seq, st_error_t *err)
{
    const msg_request_event_t *body = body_;
    st_status_t rc = s_subject (db, "request", body->id, body->title, body->region,
                                body->earliest_start, body->latest_end, body->urgency, err);
    if (rc == ST_OK && strcmp (topic, "request.cancelled") == 0) {
        st_params_t params = {0};
        st_params_text (&params, "request");
        st_params_text (&params, body->id);
        rc = s_exec (db, "subject_cancel", &params, err);
        if (rc == ST_OK)
            rc = s_schedule (db, "request", body->id, err);
    }
    if (rc != ST_OK || !body->resident_id)
        return rc;
    char *who = NULL;
    if (strcmp (topic, "request.staffed") == 0)
        s_who (body, &who);
    char source[64], accepted[24];
    s_source (source, "match", seq);
    snprintf (accepted, sizeof accepted, "%lld", (long long) body->accepted);
    notify_notice_t notice = {.recipient_kind = "resident",
                              .recipient_id = body->resident_id,
                              .kind = topic,
                              .source = source,
                              .subject_id = body->id,
                              .region = body->region,
                              .title = body->title,
                              .reason = body->reason,
                              .number = accepted,
                              .start = body->earliest_start,
                              .end = body->latest_end,
                              .who = who};
    rc = notify_notice_add (db, &notice, err);
    free (who);
    return rc;
}

//  The warning of an offer (three quarters of its reply window gone unanswered): made with
//  the offer, dropped while pending once the offer is answered, withdrawn or expired.
static st_status_t
s_offer_warning (st_db_t *db, const msg_offer_t *offer, bool made, st_error_t *err)
{
    st_params_t params = {0};
    st_params_text (&params, offer->volunteer_id);
    st_params_text (&params, offer->request_id);
    if (!made)
        return s_exec (db, "offer_warning_drop", &params, err);
    st_params_text (&params, offer->created_at);
    st_params_text (&params, offer->deadline);
    return s_exec (db, "offer_warning_schedule", &params, err);
}

//  offer.*: the volunteer is told; an accepted offer schedules their reminders, a withdrawn
//  one cancels them; a new one schedules its warning, which any answer or end takes away. A
//  dispatch of an urgent request is urgent.
static st_status_t
s_offer (st_db_t *db, const char *topic, const void *body_, int64_t seq, st_error_t *err)
{
    const msg_offer_t *body = body_;
    st_status_t rc = s_subject (db, "request", body->request_id, body->title, body->region,
                                body->earliest_start, body->latest_end, NULL, err);
    bool accepted = strcmp (topic, "offer.accepted") == 0;
    bool withdrawn = strcmp (topic, "offer.withdrawn") == 0;
    if (rc == ST_OK && (accepted || withdrawn))
        rc = s_engage (db, body->volunteer_id, "request", body->request_id, accepted, err);
    if (rc == ST_OK && (accepted || withdrawn))
        rc = s_schedule (db, "request", body->request_id, err);
    if (rc == ST_OK)
        rc = s_offer_warning (db, body, strcmp (topic, "offer.made") == 0, err);
    if (rc != ST_OK)
        return rc;
    bool urgent = false;
    if (strcmp (topic, "offer.made") == 0) {
        st_params_t params = {0};
        st_params_text (&params, "request");
        st_params_text (&params, body->request_id);
        PGresult *res;
        rc = st_db_exec (db, "subject_get", &params, &res, err);
        st_params_clear (&params);
        if (rc != ST_OK)
            return rc;
        urgent = PQntuples (res) == 1 && st_row_bool (res, 0, "urgent");
        PQclear (res);
    }
    char source[64];
    s_source (source, "match", seq);
    notify_notice_t notice = {.recipient_kind = "volunteer",
                              .recipient_id = body->volunteer_id,
                              .kind = topic,
                              .source = source,
                              .subject_id = body->request_id,
                              .region = body->region,
                              .urgent = urgent,
                              .title = body->title,
                              .start = body->earliest_start,
                              .end = body->latest_end,
                              .deadline = body->deadline};
    return notify_notice_add (db, &notice, err);
}

//  offer.declined: the volunteer answered; nothing to tell them, their warning goes.
static st_status_t
s_offer_declined (st_db_t *db, const char *topic, const void *body_, int64_t seq, st_error_t *err)
{
    (void) topic, (void) seq;
    return s_offer_warning (db, body_, false, err);
}

//  service.completed: the volunteer hears of the hours confirmed.
static st_status_t
s_service_completed (st_db_t *db, const char *topic, const void *body_, int64_t seq,
                     st_error_t *err)
{
    const msg_service_completed_t *body = body_;
    char source[64], hours[32];
    s_source (source, "match", seq);
    snprintf (hours, sizeof hours, "%g", body->hours);
    notify_notice_t notice = {.recipient_kind = "volunteer",
                              .recipient_id = body->volunteer_id,
                              .kind = topic,
                              .source = source,
                              .subject_id =
                                  body->activity_id ? body->activity_id : body->request_id,
                              .region = body->region,
                              .number = hours};
    return notify_notice_add (db, &notice, err);
}

const st_subscription_t notify_match_subscriptions[] = {
    {"activity.created", s_activity_created},
    {"activity.changed", s_activity_changed},
    {"activity.cancelled", s_activity_cancelled},
    {"signup.confirmed", s_signup},
    {"signup.waitlisted", s_signup},
    {"signup.promoted", s_signup},
    {"signup.cancelled", s_signup},
    {"signup.skipped", s_signup},
    {"request.submitted", s_request},
    {"request.published", s_request},
    {"request.rejected", s_request},
    {"request.staffed", s_request},
    {"request.unfilled", s_request},
    {"request.cancelled", s_request},
    {"request.completed", s_request},
    {"offer.made", s_offer},
    {"offer.accepted", s_offer},
    {"offer.expired", s_offer},
    {"offer.withdrawn", s_offer},
    {"service.completed", s_service_completed},
    {"offer.declined", s_offer_declined},
};
const size_t notify_match_subscription_count =
    sizeof notify_match_subscriptions / sizeof notify_match_subscriptions[0];

//  ---------------------------------------------------------------------------------------
//  The ledger's events: points, stars and the points store's redemptions

//  points.awarded: the volunteer hears of the points, signed, and the balance after.
static st_status_t
s_points_awarded (st_db_t *db, const char *topic, const void *body_, int64_t seq, st_error_t *err)
{
    const msg_points_awarded_t *body = body_;
    char source[64], amount[32], balance[32];
    s_source (source, "ledger", seq);
    snprintf (amount, sizeof amount, "%+lld", (long long) body->amount);
    snprintf (balance, sizeof balance, "%lld", (long long) body->balance);
    notify_notice_t notice = {.recipient_kind = "volunteer",
                              .recipient_id = body->volunteer_id,
                              .kind = topic,
                              .source = source,
                              .subject_id = body->record_id ? body->record_id : body->request_id,
                              .number = amount,
                              .balance = balance};
    return notify_notice_add (db, &notice, err);
}

//  star.reached: the volunteer hears of the new star level and the hours it took.
static st_status_t
s_star_reached (st_db_t *db, const char *topic, const void *body_, int64_t seq, st_error_t *err)
{
    const msg_star_reached_t *body = body_;
    char source[64], level[16], hours[32];
    s_source (source, "ledger", seq);
    snprintf (level, sizeof level, "%lld", (long long) body->level);
    snprintf (hours, sizeof hours, "%g", body->hours);
    notify_notice_t notice = {.recipient_kind = "volunteer",
                              .recipient_id = body->volunteer_id,
                              .kind = topic,
                              .source = source,
                              .number = hours,
                              .level = level};
    return notify_notice_add (db, &notice, err);
}

//  redemption.*: the volunteer hears where their redemption stands: what, how many, for how
//  many points (held, spent or given back).
static st_status_t
s_redemption (st_db_t *db, const char *topic, const void *body_, int64_t seq, st_error_t *err)
{
    const msg_redemption_event_t *body = body_;
    char source[64], quantity[24], points[32];
    s_source (source, "ledger", seq);
    snprintf (quantity, sizeof quantity, "%lld", (long long) body->quantity);
    snprintf (points, sizeof points, "%lld", (long long) body->points);
    notify_notice_t notice = {.recipient_kind = "volunteer",
                              .recipient_id = body->volunteer_id,
                              .kind = topic,
                              .source = source,
                              .subject_id = body->id,
                              .title = body->item_name,
                              .number = quantity,
                              .points = points};
    return notify_notice_add (db, &notice, err);
}

const st_subscription_t notify_ledger_subscriptions[] = {
    {"points.awarded", s_points_awarded},   {"star.reached", s_star_reached},
    {"redemption.reserved", s_redemption},  {"redemption.fulfilled", s_redemption},
    {"redemption.cancelled", s_redemption}, {"redemption.expired", s_redemption},
};
const size_t notify_ledger_subscription_count =
    sizeof notify_ledger_subscriptions / sizeof notify_ledger_subscriptions[0];
