/*  notify_reminders.c — reminders: a region's notice settings (notify.settings.get/set), an
    activity's own offsets (reminder.offsets.set), reminder.list, and the worker that fires
    the reminders due and releases the notices held through quiet hours. The worker claims
    due rows with FOR UPDATE SKIP LOCKED in batches, each batch one transaction with the
    notices it makes, so replicas share the work and a crash before the commit leaves the
    batch to be claimed again: every reminder fires once.  */
#include "notify.h"
#include "st_checks.h"
#include "st_log.h"
#include "st_rows.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ST_NOTIFY_REMINDERS_OPS (ST_ROUTE_THUNK)

const st_route_t notify_reminders_routes[] = {ST_NOTIFY_REMINDERS_OPS (ST_ROUTE_ROW)};
const size_t notify_reminders_route_count =
    sizeof notify_reminders_routes / sizeof notify_reminders_routes[0];

const st_option_t notify_options[] = {
    ST_OPTION_WHOLE ("notify-wait-ms", "STATION_NOTIFY_WAIT_MS", "10000", 10, 600000,
                     "the reminder worker runs at least this often (ms); the next due time"
                     " and a notification wake it sooner"),
    ST_OPTION_WHOLE ("notify-batch", "STATION_NOTIFY_BATCH", "200", 1, 10000,
                     "reminders and held notices the worker claims per transaction"),
    ST_OPTION ("notify-retry-s", "STATION_NOTIFY_RETRY_S", "5,300,1800,7200,18000",
               "seconds before each new attempt of a failed e-mail or webhook delivery (±20%"
               " jitter; the first goes at once); after the last it is dead"),
    ST_OPTION_WHOLE ("notify-send-timeout-ms", "STATION_NOTIFY_SEND_TIMEOUT_MS", "10000", 100,
                     300000, "the longest one e-mail or webhook POST may take (ms)"),
    ST_OPTION ("smtp-url", "STATION_SMTP_URL", "",
               "SMTP server for e-mail (smtp://host:port, STARTTLS when offered, or"
               " smtps://); empty: no e-mail. User and password: KEYS/smtp.auth"),
    ST_OPTION ("smtp-from", "STATION_SMTP_FROM", "Station <notify@station.invalid>",
               "the From of e-mails"),
};
const size_t notify_option_count = sizeof notify_options / sizeof notify_options[0];

//  Offsets given as text ("86400"), each 1 s to 30 days, into params as an integer array
//  literal. Fails the call naming `field`.
static int
s_offsets (st_call_t *call, const char *field, const st_strs_t *offsets, st_params_t *params)
{
    char literal[8 * 12 + 4] = "{";
    for (size_t i = 0; i < offsets->count; i++) {
        const char *text = offsets->items[i];
        char *end;
        long long value = strtoll (text, &end, 10);
        if (!*text || *end || value < 1 || value > 30 * 86400)
            return st_call_fail (call, ST_INVALID_ARGUMENT, field,
                                 "\"%s\" must be whole seconds from 1 to 2592000", text);
        size_t len = strlen (literal);
        snprintf (literal + len, sizeof literal - len, "%s%lld", i ? "," : "", value);
    }
    strcat (literal, "}");
    st_params_text (params, literal);
    return 0;
}

//  ---------------------------------------------------------------------------------------
//  notify.settings.set, notify.settings.get — a region's, by an official in scope

static int
s_settings_reply (st_call_t *call, const char *region, msg_notify_settings_t *reply)
{
    st_params_t params = {0};
    st_params_text (&params, region);
    return st_call_exec_reply (call, "settings_get", &params, &msg_notify_settings_desc, reply) < 0
               ? -1
               : 0;
}

static void
s_settings_set (st_call_t *call, const msg_notify_settings_t *request, msg_notify_settings_t *reply)
{
    const msg_actor_t *actor;
    if (st_require_actor (call, &actor) || st_require_official (call, actor)
        || st_require_code (call, "region", request->region)
        || st_require_scope (call, actor, "region", request->region))
        return;
    if (request->quiet_from && !notify_clock_valid (request->quiet_from))
        return (void) st_call_fail (call, ST_INVALID_ARGUMENT, "quiet_from",
                                    "\"quiet_from\" must be a time of day as HH:MM");
    if (request->quiet_to && !notify_clock_valid (request->quiet_to))
        return (void) st_call_fail (call, ST_INVALID_ARGUMENT, "quiet_to",
                                    "\"quiet_to\" must be a time of day as HH:MM");
    st_params_t params = {0};
    st_params_text (&params, request->region);
    if (request->has_reminder_offsets_s) {
        if (s_offsets (call, "reminder_offsets_s", &request->reminder_offsets_s, &params)) {
            st_params_clear (&params);
            return;
        }
    } else
        st_params_null (&params);
    st_params_text (&params, request->quiet_from);
    st_params_text (&params, request->quiet_to);
    st_params_text (&params, actor->account ? actor->account : "system");
    st_params_int_or_null (&params, request->has_digest_hour, request->digest_hour);
    if (st_call_exec (call, "settings_set", &params, NULL))
        return;
    if (request->has_digest_hour) {
        st_params_int (&params, request->digest_hour);
        if (st_call_exec (call, "settings_digest_hour", &params, NULL))
            return;
    }
    char prefix[ST_REGION_SIZE];
    st_region_prefix (request->region, prefix);
    st_params_text (&params, prefix);
    if (st_call_exec (call, "settings_reschedule", &params, NULL))
        return;
    s_settings_reply (call, request->region, reply);
}

static void
s_settings_get (st_call_t *call, const msg_notify_region_t *request, msg_notify_settings_t *reply)
{
    const msg_actor_t *actor;
    if (st_require_actor (call, &actor) || st_require_official (call, actor)
        || st_require_code (call, "region", request->region)
        || st_require_scope (call, actor, "region", request->region))
        return;
    s_settings_reply (call, request->region, reply);
}

//  ---------------------------------------------------------------------------------------
//  reminder.offsets.set — an activity's own, by an official in scope of its region

//  The region of subject (kind, id) as notify knows it, into `region`; not found (naming
//  `field`) when notify has not heard of it, or it is out of the actor's scope.
static int
s_subject_in_scope (st_call_t *call, const msg_actor_t *actor, const char *field, const char *kind,
                    const char *id, char region[32])
{
    st_params_t params = {0};
    st_params_text (&params, kind);
    st_params_text (&params, id);
    PGresult *res;
    if (st_call_exec (call, "subject_get", &params, &res))
        return -1;
    bool found = PQntuples (res) == 1;
    snprintf (region, 32, "%s", found ? PQgetvalue (res, 0, 0) : "");
    PQclear (res);
    if (!found || (!st_actor_is_system (actor) && !st_actor_in_scope (actor, region)))
        return st_call_fail (call, ST_NOT_FOUND, field, "no %s %s", kind, id);
    return 0;
}

static void
s_reminder_offsets_set (st_call_t *call, const msg_reminder_offsets_t *request,
                        msg_reminder_offsets_t *reply)
{
    const msg_actor_t *actor;
    char region[32];
    if (st_require_actor (call, &actor) || st_require_official (call, actor)
        || s_subject_in_scope (call, actor, "activity_id", "activity", request->activity_id,
                               region))
        return;
    st_params_t params = {0};
    st_params_text (&params, request->activity_id);
    if (s_offsets (call, "offsets_s", &request->offsets_s, &params)) {
        st_params_clear (&params);
        return;
    }
    st_params_text (&params, actor->account ? actor->account : "system");
    if (st_call_exec (call, "activity_offsets_set", &params, NULL))
        return;
    st_params_text (&params, "activity");
    st_params_text (&params, request->activity_id);
    if (st_call_exec (call, "reminders_schedule", &params, NULL))
        return;
    reply->activity_id = st_strdup (request->activity_id);
    reply->offsets_s.items = st_calloc (request->offsets_s.count, sizeof (char *));
    for (size_t i = 0; i < request->offsets_s.count; i++)
        reply->offsets_s.items[i] = st_strdup (request->offsets_s.items[i]);
    reply->offsets_s.count = request->offsets_s.count;
    reply->has_offsets_s = true;
}

//  ---------------------------------------------------------------------------------------
//  reminder.list — of an activity, a request or a volunteer

static void
s_reminder_list (st_call_t *call, const msg_reminder_list_t *request, msg_reminders_t *reply)
{
    const msg_actor_t *actor;
    if (st_require_actor (call, &actor))
        return;
    int given = !!request->activity_id + !!request->request_id + !!request->volunteer_id;
    if (given != 1)
        return (void) st_call_fail (
            call, ST_INVALID_ARGUMENT, "activity_id",
            "give one of \"activity_id\", \"request_id\", \"volunteer_id\"");
    const char *kind = request->activity_id ? "activity" : request->request_id ? "request" : NULL;
    const char *id = request->activity_id ? request->activity_id : request->request_id;
    char region[32];
    if (kind) {
        if (st_require_official (call, actor)
            || s_subject_in_scope (call, actor,
                                   kind == request->activity_id ? "activity_id"
                                   : request->activity_id       ? "activity_id"
                                                                : "request_id",
                                   kind, id, region))
            return;
    } else if (!st_actor_is_volunteer (actor, request->volunteer_id)) {
        //  An official in scope of where the volunteer belongs.
        if (st_require_official (call, actor))
            return;
        st_params_t params = {0};
        st_params_text (&params, "volunteer");
        st_params_text (&params, request->volunteer_id);
        PGresult *res;
        if (st_call_exec (call, "recipient_region", &params, &res))
            return;
        bool in_scope =
            PQntuples (res) == 1
            && (st_actor_is_system (actor) || st_actor_in_scope (actor, PQgetvalue (res, 0, 0)));
        PQclear (res);
        if (!in_scope)
            return (void) st_call_fail (call, ST_NOT_FOUND, "volunteer_id", "no volunteer %s",
                                        request->volunteer_id);
    }
    st_params_t params = {0};
    st_params_text (&params, kind);
    st_params_text (&params, id);
    st_params_text (&params, request->volunteer_id);
    PGresult *res;
    if (st_call_exec (call, "reminder_list", &params, &res))
        return;
    st_rows_to_list (res, &msg_reminder_desc, (st_list_t *) &reply->items, &reply->has_items);
    PQclear (res);
}

//  ---------------------------------------------------------------------------------------
//  The worker

//  One batch of due reminders in one statement (notify_store.c, "reminder_fire"): each
//  becomes its notice (source: the reminder and its due time, so a reminder moved and due
//  again is a new notice, and one claimed again after a crash is not) and is marked sent;
//  a crash before the commit leaves the whole batch pending. Returns how many, or -1.
static int
s_fire_batch (st_db_t *db, int64_t batch)
{
    static const char *const kinds[] = {"reminder.before", "reminder.after", "offer.warning"};
    const char *zh[3], *en[3];
    for (size_t i = 0; i < 3; i++) {
        zh[i] = notify_template (kinds[i], false);
        en[i] = notify_template (kinds[i], true);
    }
    st_params_t params = {0};
    st_params_int (&params, batch);
    st_params_text_array (&params, (char *const *) kinds, 3);
    st_params_text_array (&params, (char *const *) zh, 3);
    st_params_text_array (&params, (char *const *) en, 3);
    PGresult *res = NULL;
    st_error_t err = {0};
    st_status_t rc = st_db_exec (db, "reminder_fire", &params, &res, &err);
    st_params_clear (&params);
    if (rc != ST_OK) {
        st_warn ("reminders not fired: %s", err.message);
        return -1;
    }
    int count = atoi (PQgetvalue (res, 0, 0));
    PQclear (res);
    return count;
}

int64_t
notify_tick (st_db_t *db, void *state)
{
    const notify_config_t *config = state;
    notify_store_prepare (db); //  the ticker's own connection (registering again is a no-op)
    int fired;
    do
        fired = s_fire_batch (db, config->batch);
    while (fired == config->batch);
    //  Held notices whose quiet hours ended, a batch per statement.
    st_error_t err;
    PGresult *res = NULL;
    int released;
    do {
        st_params_t params = {0};
        st_params_int (&params, config->batch);
        released = -1;
        if (st_db_exec (db, "delivery_inbox", &params, &res, &err) == ST_OK) {
            released = atoi (PQcmdTuples (res));
            PQclear (res);
        } else
            st_warn ("held notices not released: %s", err.message);
        st_params_clear (&params);
    } while (released == config->batch);
    //  The officials' digests whose time has come (notify_digest.c), their notices delivered
    //  below with the rest.
    int64_t digest = notify_digest_tick (db, config->digest);
    //  E-mail and webhooks due (notify_delivery.c).
    int64_t out = notify_delivery_tick (db, config->delivery, config->batch);
    if (fired < 0 || released < 0)
        return 1000; //  the database is away: try again in a second
    if (st_db_exec (db, "next_due", NULL, &res, &err) != ST_OK)
        return 1000;
    int64_t wait = PQgetisnull (res, 0, 0) ? -1 : atoll (PQgetvalue (res, 0, 0));
    PQclear (res);
    if (digest >= 0 && (wait < 0 || digest < wait))
        wait = digest;
    return out >= 0 && (wait < 0 || out < wait) ? out : wait;
}
