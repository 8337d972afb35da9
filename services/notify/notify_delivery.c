/*  notify_delivery.c — deliveries beyond the inbox: e-mail over SMTP and a region's webhook
    (for sms and wechat), their ops (delivery.list, delivery.resend, notify.stats) and the
    worker that sends them.

    The worker claims due rows in batches with FOR UPDATE SKIP LOCKED and, in the same
    statement, moves each row's next_at past a lease (the registry's calls, a send timeout and
    a margin) and
    counts the attempt: the claim commits at once, so another replica skips the rows while they
    are locked and finds them not due once committed. Then it asks registry for the batch's
    phones and addresses (contact.list; notify keeps none) and sends the batch through one curl
    multi handle (its connection cache reuses the SMTP and HTTP connections from batch to
    batch), at most S_HOST_CONNECTIONS transfers at once to one receiver, each bounded by
    STATION_NOTIFY_SEND_TIMEOUT_MS from its start, so a slow or dead receiver holds up no
    other. A transfer starts only while the lease covers its whole timeout; when it no longer
    does, the lease of the batch's rest is renewed (for twice the send timeout and a margin),
    and a row no longer this claim's (its lease ran out and another worker took it) is not
    sent: no row is claimed by another worker while its send is in flight. Outcomes and their
    events are recorded as transfers finish: whatever finished, in one statement of its own,
    S_RECORD_MS after the first of it finished (or S_RECORD_EVERY of them).

    A worker that dies between a send and its record (at most the transfers in flight and
    S_RECORD_MS of finished ones) leaves the row to be claimed again when the lease ends, and
    sent again: a receiver may see a copy. So may a receiver that took a send but answered
    after the send timeout. The copy carries the same Message-ID (e-mail) or webhook-id
    (webhook) as the first, both made from the delivery's id, so that the receiver can drop
    it.

    Failures: a 2xx is sent; a 4xx other than 408 and 429 (or an SMTP 5xx reply, or no address
    to send to) is permanent and the delivery dead at once; anything else is tried again after
    the next delay of STATION_NOTIFY_RETRY_S (each with ±20% jitter), and dead after the last.
    A dead delivery keeps its reason and may be sent again (delivery.resend).  */
#include "notify.h"
#include "st_checks.h"
#include "st_client.h"
#include "st_crypto.h"
#include "st_keys.h"
#include "st_log.h"
#include "st_rows.h"

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

ST_NOTIFY_DELIVERY_OPS (ST_ROUTE_THUNK)

const st_route_t notify_delivery_routes[] = {ST_NOTIFY_DELIVERY_OPS (ST_ROUTE_ROW)};
const size_t notify_delivery_route_count =
    sizeof notify_delivery_routes / sizeof notify_delivery_routes[0];

//  The worker's transfers at once to one receiver (a webhook's host, the SMTP server), and
//  the connections its curl multi handle keeps open between them.
#define S_HOST_CONNECTIONS 64
#define S_CONNECTIONS      256
//  Outcomes are recorded as transfers finish: whatever finished, once this many wait or the
//  first of them has waited this long (ms), and when the last transfer ends.
#define S_RECORD_EVERY 256
#define S_RECORD_MS    20
//  The margin (ms) of a lease beyond what it covers.
#define S_LEASE_MARGIN 2000

#define S_DELIVERY_COLUMNS                                                                         \
    "d.id, d.notice_id, n.recipient_kind, n.recipient_id, n.kind, d.channel, d.status,"            \
    " d.attempts, d.last_error,"                                                                   \
    " CASE WHEN d.status IN ('pending', 'failed') THEN rfc3339 (d.next_at) END AS next_at,"        \
    " rfc3339 (d.due_at) AS due_at,"                                                               \
    " CASE WHEN d.status IN ('sent', 'delivered') THEN rfc3339 (d.delivered_at) END AS sent_at"

static const st_statement_t s_statements[] = {
    //  The worker's claim: due rows in (next_at, id) order along deliveries_out_order, locked
    //  and skipped by other replicas, their lease ($2 ms) and attempt counted in the same
    //  statement; with the notice and the region's webhook (looked up once per region: the
    //  CTE materialized, never joined again for each row).
    {"delivery_claim",
     "WITH due AS (SELECT id FROM deliveries WHERE status IN ('pending', 'failed')"
     " AND channel <> 'inbox' AND next_at <= now () ORDER BY next_at, id LIMIT $1"
     " FOR UPDATE SKIP LOCKED),"
     " claimed AS (UPDATE deliveries d SET next_at = now () + make_interval (secs => $2 / 1000.0),"
     " attempts = d.attempts + 1 FROM due WHERE d.id = due.id"
     " RETURNING d.id, d.notice_id, d.channel, d.attempts, d.region),"
     " hooks AS MATERIALIZED (SELECT p.region, w.region AS hook, w.url, w.secret, w.kinds"
     " FROM (SELECT DISTINCT region FROM claimed) p LEFT JOIN LATERAL webhook_of (p.region) w"
     " ON true)"
     " SELECT c.id, c.notice_id, c.channel, c.attempts, n.recipient_kind, n.recipient_id, n.kind,"
     " n.language, n.text, n.params::text AS params, h.url,"
     " encode (h.secret, 'hex') AS secret,"
     " (h.hook IS NOT NULL AND (cardinality (h.kinds) = 0 OR n.kind = ANY (h.kinds))) AS hooked"
     " FROM claimed c JOIN notices n ON n.id = c.notice_id"
     " LEFT JOIN hooks h ON h.region IS NOT DISTINCT FROM c.region ORDER BY c.id"},
    //  A batch's outcomes and their events in one statement ($1 ids, $2 attempts, $3
    //  sent|retry|dead, $4 the errors, $5 the delays in ms; $6 the ids the events $7 (topics)
    //  and $8 (bodies in hex) are of), each only while its row is still this claim's (the
    //  same attempt), its event only then; the rows recorded.
    {"delivery_record",
     "WITH o AS (SELECT * FROM unnest ($1::bigint[], $2::integer[], $3::text[], $4::text[],"
     " $5::bigint[]) AS o (id, attempts, outcome, error, delay_ms)),"
     " u AS (UPDATE deliveries d SET status = CASE o.outcome WHEN 'sent' THEN 'sent'"
     " WHEN 'retry' THEN 'failed' ELSE 'dead' END,"
     " delivered_at = CASE WHEN o.outcome = 'sent' THEN now () ELSE d.delivered_at END,"
     " last_error = CASE WHEN o.outcome = 'sent' THEN NULL ELSE o.error END,"
     " next_at = CASE WHEN o.outcome = 'retry'"
     " THEN now () + make_interval (secs => o.delay_ms / 1000.0) ELSE now () END"
     " FROM o WHERE d.id = o.id AND d.attempts = o.attempts"
     " AND d.status IN ('pending', 'failed') RETURNING d.id),"
     " e AS (INSERT INTO outbox (topic, body) SELECT e.topic, decode (e.body, 'hex')"
     " FROM unnest ($6::bigint[], $7::text[], $8::text[]) WITH ORDINALITY AS e (id, topic, body, i)"
     " WHERE e.id IN (SELECT id FROM u) ORDER BY e.i)"
     " SELECT count (*) FROM u"},
    //  A lease renewed ($3 ms from now) for the rows still this claim's ($1 ids, $2 attempts):
    //  those returned may be sent; another worker has any other.
    {"delivery_renew",
     "UPDATE deliveries d SET next_at = now () + make_interval (secs => $3 / 1000.0)"
     " FROM unnest ($1::bigint[], $2::integer[]) AS o (id, attempts)"
     " WHERE d.id = o.id AND d.attempts = o.attempts AND d.status IN ('pending', 'failed')"
     " RETURNING d.id"},
    {"delivery_next_due",
     "SELECT CASE WHEN min (next_at) IS NOT NULL THEN greatest (0, ceil (extract (epoch FROM"
     " min (next_at) - now ()) * 1000))::bigint END"
     " FROM deliveries WHERE status IN ('pending', 'failed') AND channel <> 'inbox'"},

    //  delivery.list: $1 the scope's prefix (NULL: all), $2 status, $3 channel, $4 cursor, $5
    //  the page size.
    {"delivery_list",
     "SELECT " S_DELIVERY_COLUMNS " FROM deliveries d JOIN notices n ON n.id = d.notice_id"
     " WHERE ($1::text IS NULL OR left (d.region, length ($1)) = $1)"
     " AND ($2::text IS NULL OR d.status = $2) AND ($3::text IS NULL OR d.channel = $3)"
     " AND ($4::bigint IS NULL OR d.id < $4) ORDER BY d.id DESC LIMIT $5"},
    {"delivery_get", "SELECT " S_DELIVERY_COLUMNS ", d.region FROM deliveries d JOIN notices n"
                     " ON n.id = d.notice_id WHERE d.id = $1"},
    {"delivery_resend",
     "UPDATE deliveries SET status = 'pending', attempts = 0, next_at = now ()"
     " WHERE id = $1 AND status IN ('dead', 'failed') AND channel <> 'inbox' RETURNING id"},
    {"delivery_wake", "SELECT pg_notify ('notify.reminders', '')"},
    //  notify.stats: $1 the region's prefix, [$2, $3) of due_at.
    {"delivery_stats",
     "SELECT $4::text AS region, count (*) FILTER (WHERE status = 'sent') AS sent,"
     " count (*) FILTER (WHERE status = 'failed') AS failed,"
     " count (*) FILTER (WHERE status = 'dead') AS dead,"
     " count (*) FILTER (WHERE status = 'pending') AS pending,"
     " round (percentile_cont (0.5) WITHIN GROUP (ORDER BY extract (epoch FROM delivered_at"
     " - due_at) * 1000) FILTER (WHERE status = 'sent'))::bigint AS lateness_p50_ms,"
     " round (percentile_cont (0.99) WITHIN GROUP (ORDER BY extract (epoch FROM delivered_at"
     " - due_at) * 1000) FILTER (WHERE status = 'sent'))::bigint AS lateness_p99_ms"
     " FROM deliveries WHERE channel <> 'inbox' AND left (region, length ($1)) = $1"
     " AND due_at >= $2::timestamptz AND due_at < $3::timestamptz"},
    //  notify.backlog: reminders and deliveries waiting now, platform-wide.
    {"delivery_backlog",
     "SELECT r.pending AS reminders_pending, r.due AS reminders_due,"
     " r.oldest_ms AS reminders_oldest_ms, d.due AS deliveries_due,"
     " d.failed AS deliveries_failed, d.dead AS deliveries_dead FROM"
     " (SELECT count (*) AS pending, count (*) FILTER (WHERE due_at <= now ()) AS due,"
     " (extract (epoch FROM now () - min (due_at) FILTER (WHERE due_at <= now ())) * 1000)"
     "::bigint AS oldest_ms FROM reminders WHERE status = 'pending') r,"
     " (SELECT count (*) FILTER (WHERE status IN ('pending', 'failed') AND next_at <= now ())"
     " AS due, count (*) FILTER (WHERE status = 'failed') AS failed,"
     " count (*) FILTER (WHERE status = 'dead') AS dead FROM deliveries"
     " WHERE channel <> 'inbox') d"},

    //  channel.get, channel.set (notify_channels.c)
    {"webhook_get", "SELECT $1::text AS region, w.url, CASE WHEN w.region IS NOT NULL"
                    " THEN 'whsec_****' || w.tail END AS secret, w.kinds, w.region AS \"from\","
                    " rfc3339 (w.updated_at) AS updated_at FROM (SELECT 1) one"
                    " LEFT JOIN LATERAL webhook_of ($1) w ON true"},
    {"webhook_own", "SELECT 1 FROM webhooks WHERE region = $1"},
    {"webhook_set",
     "INSERT INTO webhooks (region, url, secret, tail, kinds, updated_by)"
     " VALUES ($1, $2, coalesce ($3, (SELECT secret FROM webhooks WHERE region = $1)),"
     " coalesce ($4, (SELECT tail FROM webhooks WHERE region = $1)), $5::text[], $6)"
     " ON CONFLICT (region) DO UPDATE SET"
     " url = EXCLUDED.url, secret = coalesce ($3, webhooks.secret),"
     " tail = coalesce ($4, webhooks.tail), kinds = EXCLUDED.kinds,"
     " updated_by = EXCLUDED.updated_by, updated_at = now ()"},
};

void
notify_delivery_prepare (st_db_t *db)
{
    st_db_statements (db, s_statements, sizeof s_statements / sizeof s_statements[0]);
}

//  ---------------------------------------------------------------------------------------
//  registry's contact.list as notify reads it (registry owns the contract: unknown fields
//  are ignored)

#define S_CONTACT_REF(F, M)   F##STR (M, kind, ST_REQUIRED, 1, 16) F##STR (M, id, ST_REQUIRED, 1, 64)
#define S_CONTACT_QUERY(F, M) F##MSGS (M, people, ST_REQUIRED, s_contact_ref, 500)
#define S_CONTACT(F, M)                                                                            \
    F##STR (M, kind, ST_REQUIRED, 1, 16) F##STR (M, id, ST_REQUIRED, 1, 64)                        \
        F##STR (M, phone, ST_OPTIONAL, 0, 64) F##STR (M, email, ST_OPTIONAL, 0, 320)               \
            F##STR (M, language, ST_OPTIONAL, 0, 8) F##STR (M, status, ST_OPTIONAL, 0, 32)
#define S_CONTACTS(F, M) F##MSGS (M, contacts, ST_REQUIRED, s_contact, 500)
#define S_MESSAGE(m, LIST)                                                                         \
    typedef struct {                                                                               \
        LIST (ST_S_, m##_t) char st_unused_;                                                       \
    } m##_t;                                                                                       \
    static const st_field_t m##_fields[] = {LIST (ST_D_, m##_t){.name = NULL}};                    \
    static const st_desc_t m##_desc = {#m, sizeof (m##_t), m##_fields,                             \
                                       sizeof m##_fields / sizeof m##_fields[0] - 1};
S_MESSAGE (s_contact_ref, S_CONTACT_REF)
S_MESSAGE (s_contact_query, S_CONTACT_QUERY)
S_MESSAGE (s_contact, S_CONTACT)
S_MESSAGE (s_contacts, S_CONTACTS)

//  ---------------------------------------------------------------------------------------
//  The settings

struct notify_delivery_s {
    st_crypto_t *sealer;   //  webhook secrets, derived from notify's CURVE secret key
    zcert_t *cert;         //  notify's own key pair, for the registry client
    char *registry_public; //  registry's public key
    char *registry_rpc;
    st_client_t *registry; //  the worker thread's, made on its first use
    CURLM *multi;          //  the worker thread's: its connection cache outlives each batch
    int64_t retry_ms[16];
    size_t retry_count;
    int64_t timeout_ms;
    char *smtp_url, *smtp_from, *smtp_user, *smtp_password;
};

//  "5,300,1800": whole seconds, 1 to 16 of them, each 0 to 7 days.
static int
s_retry_parse (notify_delivery_t *self, const char *text, st_error_t *err)
{
    self->retry_count = 0;
    const char *p = text;
    while (*p) {
        char *end;
        long long value = strtoll (p, &end, 10);
        if (end == p || value < 0 || value > 7 * 86400 || self->retry_count == 16
            || (*end && *end != ','))
            return st_error_set (err, ST_INVALID_ARGUMENT, "notify-retry-s",
                                 "STATION_NOTIFY_RETRY_S must be up to 16 whole seconds"
                                 " (0 to 604800) separated by commas, not \"%s\"",
                                 text),
                   -1;
        self->retry_ms[self->retry_count++] = value * 1000;
        p = *end ? end + 1 : end;
    }
    return 0;
}

//  KEYDIR/smtp.auth: "user:password" on one line, readable by its owner only (optional).
static int
s_smtp_auth (notify_delivery_t *self, const char *keydir, st_error_t *err)
{
    char path[1024];
    snprintf (path, sizeof path, "%s/smtp.auth", keydir);
    struct stat st;
    if (stat (path, &st) != 0)
        return 0;
    if (st.st_mode & 077)
        return st_error_set (err, ST_FAILED_PRECONDITION, NULL,
                             "%s must be readable by its owner only (chmod 600)", path),
               -1;
    FILE *file = fopen (path, "r");
    char line[1024] = "";
    if (!file || !fgets (line, sizeof line, file)) {
        if (file)
            fclose (file);
        return st_error_set (err, ST_FAILED_PRECONDITION, NULL, "cannot read %s", path), -1;
    }
    fclose (file);
    line[strcspn (line, "\r\n")] = 0;
    char *colon = strchr (line, ':');
    if (!colon) {
        sodium_memzero (line, sizeof line);
        return st_error_set (err, ST_FAILED_PRECONDITION, NULL,
                             "%s must hold user:password on one line", path),
               -1;
    }
    *colon = 0;
    self->smtp_user = st_strdup (line);
    self->smtp_password = st_strdup (colon + 1);
    sodium_memzero (line, sizeof line);
    return 0;
}

notify_delivery_t *
notify_delivery_new (st_service_t *service, st_error_t *err)
{
    curl_global_init (CURL_GLOBAL_DEFAULT);
    notify_delivery_t *self = st_calloc (1, sizeof *self);
    const char *keydir = st_service_option (service, "keys");
    self->timeout_ms = st_service_whole (service, "notify-send-timeout-ms");
    self->smtp_url = st_strdup (st_service_option (service, "smtp-url"));
    self->smtp_from = st_strdup (st_service_option (service, "smtp-from"));
    self->registry_rpc = st_strdup (st_service_option (service, "registry-rpc"));
    if (s_retry_parse (self, st_service_option (service, "notify-retry-s"), err)
        || s_smtp_auth (self, keydir, err)) {
        notify_delivery_destroy (&self);
        return NULL;
    }
    self->cert = st_keys_secret (keydir, "notify", err);
    zcert_t *registry = self->cert ? st_keys_public (keydir, "registry", err) : NULL;
    if (!registry) {
        notify_delivery_destroy (&self);
        return NULL;
    }
    self->registry_public = st_strdup (zcert_public_txt (registry));
    zcert_destroy (&registry);
    self->sealer = st_crypto_derive (zcert_secret_key (self->cert), "webhooks");
    if (!self->sealer) {
        st_error_set (err, ST_INTERNAL, NULL,
                      "could not derive the key that seals webhook secrets");
        notify_delivery_destroy (&self);
        return NULL;
    }
    return self;
}

void
notify_delivery_destroy (notify_delivery_t **self_p)
{
    notify_delivery_t *self = *self_p;
    if (!self)
        return;
    st_crypto_destroy (&self->sealer);
    zcert_destroy (&self->cert);
    st_client_destroy (&self->registry);
    if (self->multi)
        curl_multi_cleanup (self->multi);
    if (self->smtp_password)
        sodium_memzero (self->smtp_password, strlen (self->smtp_password));
    free (self->registry_public);
    free (self->registry_rpc);
    free (self->smtp_url);
    free (self->smtp_from);
    free (self->smtp_user);
    free (self->smtp_password);
    free (self);
    *self_p = NULL;
}

int
notify_delivery_seal (notify_delivery_t *self, const char *secret, uint8_t **out, size_t *out_len)
{
    return st_crypto_seal (self->sealer, "webhooks.secret", secret, strlen (secret), out, out_len);
}

char *
notify_delivery_open (notify_delivery_t *self, const uint8_t *sealed, size_t len)
{
    char *plain = NULL;
    return st_crypto_open (self->sealer, "webhooks.secret", sealed, len, &plain) == 0 ? plain
                                                                                      : NULL;
}

//  ---------------------------------------------------------------------------------------
//  The ops

//  The prefix of the regions the actor sees (NULL: all, the system); fails the call for
//  anyone but the system and an official.
static int
s_scope (st_call_t *call, const msg_actor_t **actor, char prefix[ST_REGION_SIZE], bool *all)
{
    if (st_require_actor (call, actor) || st_require_official (call, *actor))
        return -1;
    *all = st_actor_is_system (*actor);
    if (!*all)
        st_region_prefix ((*actor)->region ? (*actor)->region : "", prefix);
    return 0;
}

static void
s_delivery_list (st_call_t *call, const msg_delivery_list_t *request, msg_deliveries_t *reply)
{
    const msg_actor_t *actor;
    char prefix[ST_REGION_SIZE] = "";
    bool all;
    if (s_scope (call, &actor, prefix, &all))
        return;
    static const char *const statuses[] = {"pending", "sent", "failed", "dead", "delivered", NULL};
    static const char *const channels[] = {"inbox", "email", "sms", "wechat", NULL};
    if ((request->status && st_require_one_of (call, "status", request->status, statuses))
        || (request->channel && st_require_one_of (call, "channel", request->channel, channels)))
        return;
    int64_t cursor = 0;
    if (request->cursor && !st_parse_id (request->cursor, &cursor))
        return (void) st_call_fail (call, ST_INVALID_ARGUMENT, "cursor",
                                    "\"cursor\" must be the next_cursor of a page");
    int64_t limit = request->has_limit ? request->limit : 50;
    st_params_t params = {0};
    st_params_text (&params, all ? NULL : prefix);
    st_params_text (&params, request->status);
    st_params_text (&params, request->channel);
    st_params_int_or_null (&params, request->cursor != NULL, cursor);
    st_params_int (&params, limit);
    PGresult *res;
    if (st_call_exec (call, "delivery_list", &params, &res))
        return;
    int count = PQntuples (res);
    st_rows_to_list (res, &msg_delivery_desc, (st_list_t *) &reply->items, &reply->has_items);
    if (count == limit && count > 0)
        reply->next_cursor = st_strdup (PQgetvalue (res, count - 1, 0));
    PQclear (res);
}

static void
s_delivery_resend (st_call_t *call, const msg_delivery_resend_t *request, msg_delivery_t *reply)
{
    const msg_actor_t *actor;
    char prefix[ST_REGION_SIZE] = "";
    bool all;
    int64_t id;
    if (s_scope (call, &actor, prefix, &all)
        || st_require_id (call, "id", "delivery", request->id, &id))
        return;
    st_params_t params = {0};
    st_params_int (&params, id);
    PGresult *res;
    if (st_call_exec (call, "delivery_get", &params, &res))
        return;
    bool found = PQntuples (res) == 1;
    const char *region = found ? st_row_text (res, 0, "region") : "";
    bool visible = found && (all || strncmp (region, prefix, strlen (prefix)) == 0);
    char status[16] = "";
    if (visible)
        snprintf (status, sizeof status, "%s", st_row_text (res, 0, "status"));
    PQclear (res);
    if (!visible)
        return (void) st_call_fail (call, ST_NOT_FOUND, "id", "no delivery %s", request->id);
    if (strcmp (status, "dead") != 0 && strcmp (status, "failed") != 0)
        return (void) st_call_fail (call, ST_FAILED_PRECONDITION, "id",
                                    "delivery %s is %s: only a dead or failed one is sent again",
                                    request->id, status);
    st_params_int (&params, id);
    if (st_call_exec (call, "delivery_resend", &params, NULL)
        || st_call_exec (call, "delivery_wake", NULL, NULL))
        return;
    st_params_int (&params, id);
    st_call_exec_reply (call, "delivery_get", &params, &msg_delivery_desc, reply);
}

static void
s_notify_stats (st_call_t *call, const msg_notify_stats_query_t *request, msg_notify_stats_t *reply)
{
    const msg_actor_t *actor;
    int64_t from_us, to_us;
    char from[40], to[40];
    if (st_require_actor (call, &actor) || st_require_official (call, actor)
        || st_require_code (call, "region", request->region)
        || st_require_scope (call, actor, "region", request->region)
        || st_require_time (call, "from", request->from, &from_us, from)
        || st_require_time (call, "to", request->to, &to_us, to))
        return;
    if (to_us <= from_us)
        return (void) st_call_fail (call, ST_INVALID_ARGUMENT, "to",
                                    "\"to\" must be after \"from\"");
    char prefix[ST_REGION_SIZE];
    st_region_prefix (request->region, prefix);
    st_params_t params = {0};
    st_params_text (&params, prefix);
    st_params_text (&params, from);
    st_params_text (&params, to);
    st_params_text (&params, request->region);
    st_call_exec_reply (call, "delivery_stats", &params, &msg_notify_stats_desc, reply);
}

//  ---------------------------------------------------------------------------------------
//  notify.backlog — what waits now, for the gateway's /metrics (asked without an actor) and
//  officials: counts only, no one named

static void
s_notify_backlog (st_call_t *call, const msg_empty_t *request, msg_notify_backlog_t *reply)
{
    (void) request;
    const msg_actor_t *actor = st_call_actor (call);
    if (actor && st_require_official (call, actor))
        return;
    st_call_exec_reply (call, "delivery_backlog", NULL, &msg_notify_backlog_desc, reply);
}

//  ---------------------------------------------------------------------------------------
//  The worker: one batch

typedef enum { S_SENT, S_RETRY, S_DEAD } s_outcome_t;

typedef struct {
    int64_t id, attempts;
    const char *notice_id, *channel, *recipient_kind, *recipient_id, *kind;
    const s_contact_t *contact;
    const char *url; //  where it goes (its receiver: the URL's scheme, host and port)
    int receiver;    //  index of its receiver among the batch's
    bool started;    //  its transfer began (in flight until `sending` ends)
    bool renewed;    //  in the last renewal's rows (still this claim's)
    CURL *easy;
    struct curl_slist *headers, *rcpt;
    char *payload;
    size_t payload_len, payload_sent;
    bool sending;
    s_outcome_t outcome;
    char error[200];
} s_job_t;

static void s_job_end (s_job_t *job, s_outcome_t outcome, const char *format, ...)
    __attribute__ ((format (printf, 3, 4)));
static void
s_job_end (s_job_t *job, s_outcome_t outcome, const char *format, ...)
{
    job->outcome = outcome;
    job->sending = false;
    va_list args;
    va_start (args, format);
    vsnprintf (job->error, sizeof job->error, format, args);
    va_end (args);
}

//  Who is coming (notify.h): contact.list with masked, through a client of its own (the event
//  consumers' threads are not the worker's), dropped after the call.
st_status_t
notify_delivery_who (notify_delivery_t *self, char *const *ids, size_t count, int timeout_ms,
                     char **who, st_error_t *err)
{
    *who = NULL;
    if (count == 0)
        return ST_OK;
    msg_contact_list_t query = {.has_people = true, .masked = true, .has_masked = true};
    query.people.items = st_calloc (count, sizeof (msg_contact_person_t));
    query.people.count = count;
    for (size_t i = 0; i < count; i++)
        query.people.items[i] = (msg_contact_person_t){.kind = "volunteer", .id = ids[i]};
    msg_contacts_t reply = {0};
    st_client_t *client = st_client_new (self->registry_rpc, self->cert, self->registry_public);
    st_status_t rc = st_client_call (client, "contact.list", NULL, NULL, &msg_contact_list_desc,
                                     &query, &msg_contacts_desc, &reply, timeout_ms, err);
    st_client_destroy (&client);
    free (query.people.items);
    if (rc != ST_OK) {
        st_msg_clear (&msg_contacts_desc, &reply);
        return rc;
    }
    size_t size = 1;
    for (size_t i = 0; i < reply.contacts.count; i++) {
        const msg_contact_t *c = &reply.contacts.items[i];
        if (c->name)
            size += strlen (c->name) + (c->phone_masked ? strlen (c->phone_masked) : 0) + 2;
    }
    char *text = st_calloc (1, size);
    size_t n = 0;
    for (size_t i = 0; i < reply.contacts.count; i++) {
        const msg_contact_t *c = &reply.contacts.items[i];
        //  Only the masked phone is read: the reply holds no other (registry_contacts.c).
        if (c->name)
            n += (size_t) snprintf (text + n, size - n, "%s%s\t%s", n ? "\n" : "", c->name,
                                    c->phone_masked ? c->phone_masked : "");
    }
    st_msg_clear (&msg_contacts_desc, &reply);
    if (n == 0)
        free (text);
    else
        *who = text;
    return ST_OK;
}

//  The batch's people's contacts from registry, 500 a call; NULL when registry did not answer
//  (the batch is tried again), with the reason in err.
static s_contacts_t *
s_contacts (notify_delivery_t *self, s_job_t *jobs, int count, size_t *calls, st_error_t *err)
{
    if (!self->registry) {
        self->registry = st_client_new (self->registry_rpc, self->cert, self->registry_public);
        st_client_set_retry (self->registry, 1000);
    }
    *calls = ((size_t) count + 499) / 500;
    s_contacts_t *replies = st_calloc (*calls ? *calls : 1, sizeof *replies);
    for (size_t c = 0; c < *calls; c++) {
        int first = (int) c * 500, last = first + 500 < count ? first + 500 : count;
        s_contact_query_t query = {0};
        query.people.items = st_calloc ((size_t) (last - first), sizeof (s_contact_ref_t));
        query.has_people = true;
        for (int i = first; i < last; i++) {
            //  The same person twice in one call is asked for once.
            bool seen = false;
            for (size_t k = 0; k < query.people.count && !seen; k++)
                seen = strcmp (query.people.items[k].kind, jobs[i].recipient_kind) == 0
                       && strcmp (query.people.items[k].id, jobs[i].recipient_id) == 0;
            if (seen)
                continue;
            query.people.items[query.people.count].kind = (char *) jobs[i].recipient_kind;
            query.people.items[query.people.count].id = (char *) jobs[i].recipient_id;
            query.people.count++;
        }
        st_status_t rc =
            st_client_call (self->registry, "contact.list", NULL, NULL, &s_contact_query_desc,
                            &query, &s_contacts_desc, &replies[c], 5000, err);
        free (query.people.items);
        if (rc != ST_OK) {
            for (size_t k = 0; k <= c; k++)
                st_msg_clear (&s_contacts_desc, &replies[k]);
            free (replies);
            //  A client that timed out may hold a late reply: start afresh next time.
            st_client_destroy (&self->registry);
            return NULL;
        }
        for (int i = first; i < last; i++)
            for (size_t k = 0; k < replies[c].contacts.count && !jobs[i].contact; k++) {
                const s_contact_t *contact = &replies[c].contacts.items[k];
                if (strcmp (contact->kind, jobs[i].recipient_kind) == 0
                    && strcmp (contact->id, jobs[i].recipient_id) == 0)
                    jobs[i].contact = contact;
            }
    }
    return replies;
}

static size_t
s_read (char *buffer, size_t size, size_t count, void *job_)
{
    s_job_t *job = job_;
    size_t room = size * count, left = job->payload_len - job->payload_sent;
    size_t take = left < room ? left : room;
    memcpy (buffer, job->payload + job->payload_sent, take);
    job->payload_sent += take;
    return take;
}

static size_t
s_discard (char *data, size_t size, size_t count, void *job)
{
    (void) data, (void) job;
    return size * count;
}

static void
s_easy_common (notify_delivery_t *self, s_job_t *job)
{
    job->easy = curl_easy_init ();
    curl_easy_setopt (job->easy, CURLOPT_PRIVATE, job);
    curl_easy_setopt (job->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (job->easy, CURLOPT_TIMEOUT_MS, (long) self->timeout_ms);
    curl_easy_setopt (job->easy, CURLOPT_CONNECTTIMEOUT_MS,
                      (long) (self->timeout_ms < 5000 ? self->timeout_ms : 5000));
    job->sending = true;
}

//  An e-mail: the subject is the notice's text cut to 60 characters, the body the whole text.
static void
s_email (notify_delivery_t *self, s_job_t *job, const char *text)
{
    if (!*self->smtp_url)
        return s_job_end (job, S_DEAD, "no SMTP server is set (STATION_SMTP_URL)");
    if (!job->contact->email || !*job->contact->email)
        return s_job_end (job, S_DEAD, "no e-mail address in registry");
    //  Never a header or a command line of our own from an address: one with a control
    //  character, a space or angle brackets is refused (naming no address in the error).
    for (const unsigned char *p = (const unsigned char *) job->contact->email; *p; p++)
        if (*p <= ' ' || *p == 0x7F || *p == '<' || *p == '>')
            return s_job_end (job, S_DEAD, "the e-mail address in registry is malformed");
    char subject[256];
    size_t n = 0, chars = 0;
    for (const unsigned char *p = (const unsigned char *) text;
         *p && n + 4 < sizeof subject && chars < 60; chars++) {
        size_t len = *p < 0x80 ? 1 : *p < 0xE0 ? 2 : *p < 0xF0 ? 3 : 4;
        for (size_t k = 0; k < len && p[k]; k++)
            subject[n++] = (char) p[k];
        p += len;
    }
    subject[n] = 0;
    //  Stable across retries: the same delivery always carries the same Message-ID, so a
    //  receiver can drop a copy sent again after a crash between the send and its record.
    char message_id[96], from[320], envelope_from[330], rcpt[340];
    snprintf (message_id, sizeof message_id, "notice-%s.delivery-%lld@station.notify",
              job->notice_id, (long long) job->id);
    notify_smtp_address (self->smtp_from, from, sizeof from);
    snprintf (envelope_from, sizeof envelope_from, "<%s>", from);
    snprintf (rcpt, sizeof rcpt, "<%s>", job->contact->email);
    job->payload =
        notify_smtp_message (self->smtp_from, job->contact->email, message_id, subject, text);
    job->payload_len = strlen (job->payload);
    s_easy_common (self, job);
    job->url = self->smtp_url;
    job->rcpt = curl_slist_append (NULL, rcpt);
    curl_easy_setopt (job->easy, CURLOPT_URL, self->smtp_url);
    curl_easy_setopt (job->easy, CURLOPT_MAIL_FROM, envelope_from);
    curl_easy_setopt (job->easy, CURLOPT_MAIL_RCPT, job->rcpt);
    curl_easy_setopt (job->easy, CURLOPT_READFUNCTION, s_read);
    curl_easy_setopt (job->easy, CURLOPT_READDATA, job);
    curl_easy_setopt (job->easy, CURLOPT_UPLOAD, 1L);
    //  STARTTLS when the server offers it (smtps:// is TLS from the start).
    curl_easy_setopt (job->easy, CURLOPT_USE_SSL, (long) CURLUSESSL_TRY);
    if (self->smtp_user) {
        curl_easy_setopt (job->easy, CURLOPT_USERNAME, self->smtp_user);
        curl_easy_setopt (job->easy, CURLOPT_PASSWORD, self->smtp_password);
    }
}

//  A webhook POST, signed: {type, timestamp, data: {kind, channel, phone, text, params,
//  language, notice_id, recipient}}.
static void
s_webhook (notify_delivery_t *self, s_job_t *job, const PGresult *res, int row)
{
    if (!st_row_bool (res, row, "hooked"))
        return s_job_end (job, S_DEAD, "no webhook of the region carries \"%s\"", job->kind);
    if (!job->contact->phone || !*job->contact->phone)
        return s_job_end (job, S_DEAD, "no phone in registry");
    const char *hex = st_row_text (res, row, "secret");
    size_t sealed_len = strlen (hex) / 2;
    uint8_t *sealed = st_calloc (sealed_len + 1, 1);
    sodium_hex2bin (sealed, sealed_len, hex, strlen (hex), NULL, &sealed_len, NULL);
    char *secret = notify_delivery_open (self, sealed, sealed_len);
    free (sealed);
    if (!secret)
        return s_job_end (job, S_DEAD, "the webhook's secret does not open");
    time_t now = time (NULL);
    char stamp[40];
    struct tm tm;
    gmtime_r (&now, &tm);
    strftime (stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_t *params = json_loads (st_row_text (res, row, "params"), 0, NULL);
    json_t *body =
        json_pack ("{s:s, s:s, s:{s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:{s:s, s:s}}}", "type",
                   "notification", "timestamp", stamp, "data", "kind", job->kind, "channel",
                   job->channel, "phone", job->contact->phone, "text",
                   st_row_text (res, row, "text"), "params", params ? params : json_object (),
                   "language", st_row_text (res, row, "language"), "notice_id", job->notice_id,
                   "recipient", "kind", job->recipient_kind, "id", job->recipient_id);
    job->payload = json_dumps (body, JSON_COMPACT);
    json_decref (body);
    job->payload_len = strlen (job->payload);
    //  Stable across retries (see the top of this file): receivers drop a copy by it.
    char id[64], header[256], signature[128];
    snprintf (id, sizeof id, "msg_station_delivery_%lld", (long long) job->id);
    int signed_ok = notify_webhook_sign (secret, id, (long long) now, job->payload,
                                         job->payload_len, signature, sizeof signature);
    sodium_memzero (secret, strlen (secret));
    free (secret);
    if (signed_ok)
        return s_job_end (job, S_DEAD, "the webhook's secret does not decode");
    s_easy_common (self, job);
    job->url = st_row_text (res, row, "url");
    job->headers = curl_slist_append (NULL, "Content-Type: application/json");
    snprintf (header, sizeof header, "webhook-id: %s", id);
    job->headers = curl_slist_append (job->headers, header);
    snprintf (header, sizeof header, "webhook-timestamp: %lld", (long long) now);
    job->headers = curl_slist_append (job->headers, header);
    snprintf (header, sizeof header, "webhook-signature: %s", signature);
    job->headers = curl_slist_append (job->headers, header);
    job->headers = curl_slist_append (job->headers, "Expect:");
    curl_easy_setopt (job->easy, CURLOPT_URL, st_row_text (res, row, "url"));
    curl_easy_setopt (job->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt (job->easy, CURLOPT_HTTPHEADER, job->headers);
    curl_easy_setopt (job->easy, CURLOPT_POSTFIELDS, job->payload);
    curl_easy_setopt (job->easy, CURLOPT_POSTFIELDSIZE, (long) job->payload_len);
    curl_easy_setopt (job->easy, CURLOPT_USERAGENT, "station-notify");
    curl_easy_setopt (job->easy, CURLOPT_WRITEFUNCTION, s_discard);
}

//  What a finished transfer means.
static void
s_judge (s_job_t *job, CURLcode result)
{
    long code = 0;
    curl_easy_getinfo (job->easy, CURLINFO_RESPONSE_CODE, &code);
    bool email = strcmp (job->channel, "email") == 0;
    if (email) {
        if (result == CURLE_OK)
            return s_job_end (job, S_SENT, "%s", "");
        //  An SMTP 5xx reply is permanent (no such mailbox, refused); the rest passes.
        return s_job_end (job, code >= 500 && code < 600 ? S_DEAD : S_RETRY, "smtp: %s (%ld)",
                          curl_easy_strerror (result), code);
    }
    if (result != CURLE_OK)
        return s_job_end (job, S_RETRY, "http: %s", curl_easy_strerror (result));
    if (code >= 200 && code < 300)
        return s_job_end (job, S_SENT, "%s", "");
    bool permanent = code >= 400 && code < 500 && code != 408 && code != 429;
    s_job_end (job, permanent ? S_DEAD : S_RETRY, "http %ld", code);
}

//  Now on the monotonic clock, in ms with a fraction (the phases' timings, a batch's deadline).
static double
s_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

//  The delay before attempt `attempts` + 1, with ±20% jitter; -1 when there is none left.
static int64_t
s_delay (notify_delivery_t *self, int64_t attempts)
{
    if (attempts < 1 || (size_t) attempts > self->retry_count)
        return -1;
    int64_t base = self->retry_ms[attempts - 1];
    return base * (800 + (int64_t) randombytes_uniform (401)) / 1000;
}

//  Text of a whole number, for an array parameter (malloc'd).
static char *
s_number (int64_t value)
{
    char text[24];
    snprintf (text, sizeof text, "%lld", (long long) value);
    return st_strdup (text);
}

static void
s_free_all (char **items, int count)
{
    for (int i = 0; i < count; i++)
        free (items[i]);
    free (items);
}

//  Records outcomes and their events in one statement (its own transaction), however many:
//  an event for each end (sent, or dead), kept only for a row still this claim's.
static int
s_record (notify_delivery_t *self, st_db_t *db, s_job_t **jobs, int count)
{
    char **ids = st_calloc ((size_t) count, sizeof (char *));
    char **attempts = st_calloc ((size_t) count, sizeof (char *));
    char **outcomes = st_calloc ((size_t) count, sizeof (char *));
    char **errors = st_calloc ((size_t) count, sizeof (char *));
    char **delays = st_calloc ((size_t) count, sizeof (char *));
    char **event_ids = st_calloc ((size_t) count + 1, sizeof (char *));
    char **topics = st_calloc ((size_t) count + 1, sizeof (char *));
    char **bodies = st_calloc ((size_t) count + 1, sizeof (char *));
    int events = 0;
    st_error_t err = {0};
    st_status_t rc = ST_OK;
    for (int i = 0; i < count; i++) {
        s_job_t *job = jobs[i];
        int64_t delay = job->outcome == S_RETRY ? s_delay (self, job->attempts) : 0;
        if (job->outcome == S_RETRY && delay < 0) {
            size_t len = strlen (job->error);
            snprintf (job->error + len, sizeof job->error - len, " (after %lld attempts)",
                      (long long) job->attempts);
            job->outcome = S_DEAD;
            delay = 0;
        }
        ids[i] = s_number (job->id);
        attempts[i] = s_number (job->attempts);
        outcomes[i] = st_strdup (job->outcome == S_SENT    ? "sent"
                                 : job->outcome == S_RETRY ? "retry"
                                                           : "dead");
        errors[i] = st_strdup (job->error);
        delays[i] = s_number (delay);
        if (job->outcome == S_RETRY || rc != ST_OK)
            continue;
        msg_notification_event_t event = {.id = ids[i],
                                          .notice_id = (char *) job->notice_id,
                                          .recipient_kind = (char *) job->recipient_kind,
                                          .recipient_id = (char *) job->recipient_id,
                                          .kind = (char *) job->kind,
                                          .channel = (char *) job->channel,
                                          .attempts = job->attempts,
                                          .has_attempts = true,
                                          .error = job->outcome == S_DEAD ? job->error : NULL};
        const char *topic =
            job->outcome == S_SENT ? "notification.delivered" : "notification.failed";
        st_params_t one = {0};
        rc = st_event_params (topic, &msg_notification_event_desc, &event, &one, &err);
        if (rc == ST_OK) {
            size_t size = (size_t) one.lengths[1];
            event_ids[events] = st_strdup (ids[i]);
            topics[events] = st_strdup (topic);
            bodies[events] = st_malloc (size * 2 + 1);
            sodium_bin2hex (bodies[events], size * 2 + 1, (const unsigned char *) one.values[1],
                            size);
            events++;
        }
        st_params_clear (&one);
    }
    if (rc == ST_OK) {
        st_params_t params = {0};
        st_params_text_array (&params, ids, (size_t) count);
        st_params_text_array (&params, attempts, (size_t) count);
        st_params_text_array (&params, outcomes, (size_t) count);
        st_params_text_array (&params, errors, (size_t) count);
        st_params_text_array (&params, delays, (size_t) count);
        st_params_text_array (&params, event_ids, (size_t) events);
        st_params_text_array (&params, topics, (size_t) events);
        st_params_text_array (&params, bodies, (size_t) events);
        rc = st_db_exec (db, "delivery_record", &params, NULL, &err);
        st_params_clear (&params);
    }
    s_free_all (ids, count);
    s_free_all (attempts, count);
    s_free_all (outcomes, count);
    s_free_all (errors, count);
    s_free_all (delays, count);
    s_free_all (event_ids, events);
    s_free_all (topics, events);
    s_free_all (bodies, events);
    if (rc != ST_OK) {
        st_warn ("delivery outcomes not recorded: %s", err.message);
        return -1;
    }
    return 0;
}

//  Renews the lease of the batch's rows not yet ended, for S_LEASE_MARGIN beyond a window of
//  the send timeout to start transfers in and the send timeout for the last to end; marks
//  those still this claim's (`renewed`) and sets *lease_end (monotonic ms, taken before the
//  statement: never later than the database's). -1 when not renewed.
static int
s_renew (notify_delivery_t *self, st_db_t *db, s_job_t *jobs, int count, double *lease_end)
{
    char **ids = st_calloc ((size_t) count + 1, sizeof (char *));
    char **attempts = st_calloc ((size_t) count + 1, sizeof (char *));
    int n = 0;
    for (int i = 0; i < count; i++) {
        jobs[i].renewed = false;
        if (jobs[i].sending) {
            ids[n] = s_number (jobs[i].id);
            attempts[n++] = s_number (jobs[i].attempts);
        }
    }
    int64_t lease = 2 * self->timeout_ms + S_LEASE_MARGIN;
    double start = s_now_ms ();
    st_params_t params = {0};
    st_params_text_array (&params, ids, (size_t) n);
    st_params_text_array (&params, attempts, (size_t) n);
    st_params_int (&params, lease);
    PGresult *res = NULL;
    st_error_t err;
    st_status_t rc = st_db_exec (db, "delivery_renew", &params, &res, &err);
    st_params_clear (&params);
    s_free_all (ids, n);
    s_free_all (attempts, n);
    if (rc != ST_OK) {
        st_warn ("deliveries' lease not renewed: %s", err.message);
        return -1;
    }
    //  The batch is in id order (the claim's): each returned id found by bisection.
    for (int r = 0; r < PQntuples (res); r++) {
        int64_t id = atoll (PQgetvalue (res, r, 0));
        int lo = 0, hi = count - 1;
        while (lo <= hi) {
            int mid = (lo + hi) / 2;
            if (jobs[mid].id == id) {
                jobs[mid].renewed = true;
                break;
            }
            if (jobs[mid].id < id)
                lo = mid + 1;
            else
                hi = mid - 1;
        }
    }
    PQclear (res);
    *lease_end = start + (double) lease;
    return 0;
}

//  The length of a URL's scheme, host and port: what identifies its receiver.
static size_t
s_receiver_len (const char *url)
{
    const char *host = strstr (url, "://");
    host = host ? host + 3 : url;
    return (size_t) (host - url) + strcspn (host, "/?#");
}

//  The receiver of each job that sends (jobs to one scheme, host and port share one); how
//  many receivers.
static int
s_receivers (s_job_t *jobs, int count)
{
    int receivers = 0;
    for (int i = 0; i < count; i++) {
        if (!jobs[i].sending)
            continue;
        const char *url = jobs[i].url ? jobs[i].url : "";
        size_t len = s_receiver_len (url);
        jobs[i].receiver = -1;
        for (int k = 0; k < i && jobs[i].receiver < 0; k++) {
            const char *other = jobs[k].url ? jobs[k].url : "";
            if (jobs[k].sending && s_receiver_len (other) == len && strncmp (other, url, len) == 0)
                jobs[i].receiver = jobs[k].receiver;
        }
        if (jobs[i].receiver < 0)
            jobs[i].receiver = receivers++;
    }
    return receivers;
}

//  Runs the transfers of the batch, S_HOST_CONNECTIONS at once per receiver, each within the
//  send timeout from its start, and records outcomes as they come (S_RECORD_EVERY, or
//  S_RECORD_MS after the first waiting): a worker that dies mid-batch leaves only its
//  transfers in flight to be sent again. A transfer starts only while the lease covers its
//  whole timeout; the lease is renewed for the rest of the batch when it no longer does, and
//  a row no longer this claim's is not sent. `lease_end`: the claim's (monotonic ms, taken
//  before the claim). -1 when an outcome was not recorded.
static int
s_transfer (notify_delivery_t *self, st_db_t *db, s_job_t *jobs, int count, double lease_end,
            int *statements)
{
    if (!self->multi) {
        self->multi = curl_multi_init ();
        //  Every connection kept open for the next transfer and the next batch; at most
        //  S_HOST_CONNECTIONS to one receiver (the worker starts no more, so none queues).
        curl_multi_setopt (self->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long) S_HOST_CONNECTIONS);
        curl_multi_setopt (self->multi, CURLMOPT_MAXCONNECTS, (long) S_CONNECTIONS);
    }
    int receivers = s_receivers (jobs, count);
    int *in_flight = st_calloc ((size_t) receivers + 1, sizeof (int));
    s_job_t **ended = st_calloc ((size_t) count, sizeof (s_job_t *));
    int waiting = 0, running = 0, ends = 0, first = 0, failed = 0;
    for (int i = 0; i < count; i++)
        if (jobs[i].sending)
            waiting++;
        else
            ended[ends++] = &jobs[i]; //  ended before sending (no address, no registry)
    double first_end = s_now_ms ();
    while (waiting > 0 || running > 0 || ends > 0) {
        double now = s_now_ms ();
        if (waiting > 0 && now + (double) self->timeout_ms + 1000 > lease_end) {
            ++*statements;
            if (s_renew (self, db, jobs, count, &lease_end)) {
                //  Not renewed (the database away): sent later, after the lease ends.
                for (int i = 0; i < count; i++)
                    if (jobs[i].sending && !jobs[i].started) {
                        s_job_end (&jobs[i], S_RETRY, "not sent: the lease was not renewed");
                        if (ends == 0)
                            first_end = now;
                        ended[ends++] = &jobs[i];
                    }
                waiting = 0;
                failed = -1;
            }
            for (int i = 0; i < count; i++)
                if (jobs[i].sending && !jobs[i].started && !jobs[i].renewed) {
                    jobs[i].sending = false; //  claimed by another worker since: theirs now
                    waiting--;
                }
            now = s_now_ms ();
        }
        for (int i = first; i < count && waiting > 0; i++) {
            s_job_t *job = &jobs[i];
            if (!job->sending || job->started || in_flight[job->receiver] >= S_HOST_CONNECTIONS
                || now + (double) self->timeout_ms + 1000 > lease_end)
                continue;
            curl_multi_add_handle (self->multi, job->easy);
            job->started = true;
            in_flight[job->receiver]++;
            running++;
            waiting--;
        }
        while (first < count && (jobs[first].started || !jobs[first].sending))
            first++;
        if (running > 0) {
            int still;
            if (curl_multi_perform (self->multi, &still) != CURLM_OK)
                break;
            CURLMsg *msg;
            int left;
            while ((msg = curl_multi_info_read (self->multi, &left)))
                if (msg->msg == CURLMSG_DONE) {
                    s_job_t *job;
                    curl_easy_getinfo (msg->easy_handle, CURLINFO_PRIVATE, (char **) &job);
                    s_judge (job, msg->data.result);
                    in_flight[job->receiver]--;
                    running--;
                    if (ends == 0)
                        first_end = s_now_ms ();
                    ended[ends++] = job;
                }
        }
        now = s_now_ms ();
        if (ends > 0
            && (ends >= S_RECORD_EVERY || now - first_end >= S_RECORD_MS
                || (running == 0 && waiting == 0))) {
            ++*statements;
            if (s_record (self, db, ended, ends))
                failed = -1;
            ends = 0;
        }
        if (running > 0) {
            int ms = ends > 0 ? (int) (S_RECORD_MS - (now - first_end)) + 1 : 200;
            curl_multi_poll (self->multi, NULL, 0, ms < 1 ? 1 : ms > 200 ? 200 : ms, NULL);
        } else if (waiting > 0 && ends == 0)
            zclock_sleep (1); //  nothing in flight, nothing startable yet: never spins
    }
    //  The multi handle failed: what did not end is tried again later (with what ended
    //  before and waits to be recorded).
    for (int i = 0; i < count; i++)
        if (jobs[i].sending) {
            s_job_end (&jobs[i], S_RETRY, "the transfer did not finish");
            ended[ends++] = &jobs[i];
        }
    if (ends > 0 && s_record (self, db, ended, ends))
        failed = -1;
    for (int i = 0; i < count; i++) {
        if (jobs[i].easy) {
            if (jobs[i].started)
                curl_multi_remove_handle (self->multi, jobs[i].easy);
            curl_easy_cleanup (jobs[i].easy);
        }
        curl_slist_free_all (jobs[i].headers);
        curl_slist_free_all (jobs[i].rcpt);
        free (jobs[i].payload);
    }
    free (ended);
    free (in_flight);
    return failed;
}

//  Claims, sends and records one batch. Returns how many were claimed, or -1. Its phases'
//  timings go to the debug log (where a batch's time goes: STATION_LOG_LEVEL=debug).
static int
s_batch (notify_delivery_t *self, st_db_t *db, int64_t batch)
{
    double t_claim = s_now_ms ();
    st_params_t params = {0};
    st_params_int (&params, batch);
    //  The lease: the registry's calls (5 s each, 500 people a call) and a whole transfer
    //  started after them, so that a batch whose transfers all start at once (a receiver
    //  that keeps up) needs no renewal; renewed for the rest of a longer batch (s_transfer).
    int64_t lease = 5000 * ((batch + 499) / 500) + 1000 + self->timeout_ms + 1000 + S_LEASE_MARGIN;
    st_params_int (&params, lease);
    PGresult *res = NULL;
    st_error_t err;
    st_status_t rc = st_db_exec (db, "delivery_claim", &params, &res, &err);
    st_params_clear (&params);
    if (rc != ST_OK) {
        st_warn ("deliveries not claimed: %s", err.message);
        return -1;
    }
    int count = PQntuples (res);
    if (count == 0) {
        PQclear (res);
        return 0;
    }
    s_job_t *jobs = st_calloc ((size_t) count, sizeof *jobs);
    for (int i = 0; i < count; i++) {
        jobs[i].id = st_row_int (res, i, "id");
        jobs[i].attempts = st_row_int (res, i, "attempts");
        jobs[i].notice_id = st_row_text (res, i, "notice_id");
        jobs[i].channel = st_row_text (res, i, "channel");
        jobs[i].recipient_kind = st_row_text (res, i, "recipient_kind");
        jobs[i].recipient_id = st_row_text (res, i, "recipient_id");
        jobs[i].kind = st_row_text (res, i, "kind");
    }
    double t_contacts = s_now_ms ();
    size_t calls = 0;
    s_contacts_t *contacts = s_contacts (self, jobs, count, &calls, &err);
    double t_prepare = s_now_ms ();
    for (int i = 0; i < count; i++) {
        s_job_t *job = &jobs[i];
        if (!contacts)
            s_job_end (job, S_RETRY, "registry: %s", err.message);
        else if (!job->contact
                 || (job->contact->status
                     && (strcmp (job->contact->status, "not_found") == 0
                         || strcmp (job->contact->status, "unknown") == 0)))
            s_job_end (job, S_DEAD, "registry knows no %s %s", job->recipient_kind,
                       job->recipient_id);
        else if (strcmp (job->channel, "email") == 0)
            s_email (self, job, st_row_text (res, i, "text"));
        else
            s_webhook (self, job, res, i);
    }
    double t_send = s_now_ms ();
    int statements = 0;
    int recorded = s_transfer (self, db, jobs, count, t_claim + (double) lease, &statements);
    double t_end = s_now_ms ();
    st_debug ("deliveries: %d in %.1f ms: claim %.1f, contacts %.1f, prepare %.1f,"
              " send and record %.1f (%d statements: renewals and records)",
              count, t_end - t_claim, t_contacts - t_claim, t_prepare - t_contacts,
              t_send - t_prepare, t_end - t_send, statements);
    for (size_t c = 0; contacts && c < calls; c++)
        st_msg_clear (&s_contacts_desc, &contacts[c]);
    free (contacts);
    free (jobs);
    PQclear (res);
    return recorded ? -1 : count;
}

int64_t
notify_delivery_tick (st_db_t *db, notify_delivery_t *self, int64_t batch)
{
    int claimed;
    do
        claimed = s_batch (self, db, batch);
    while (claimed == batch && !zsys_interrupted);
    if (claimed < 0)
        return 1000;
    PGresult *res;
    st_error_t err;
    if (st_db_exec (db, "delivery_next_due", NULL, &res, &err) != ST_OK)
        return 1000;
    int64_t wait = PQgetisnull (res, 0, 0) ? -1 : atoll (PQgetvalue (res, 0, 0));
    PQclear (res);
    return wait;
}
