/*  notify.h — the parts of the notify service, each a file with its own op table, and what
    notify_main.c assembles from them:
        notify_inbox.c      a person's notices (inbox.list, inbox.read) and preferences
        notify_reminders.c  a region's settings, an activity's offsets, reminder.list, and the
                            worker that fires due reminders and releases held notices
        notify_feeds.c      what registry's and match's events become: notices and reminders
        notify_notices.c    the templates, and a notice made for one person
        notify_channels.c   a region's webhook (channel.get, channel.set), its secret sealed
        notify_delivery.c   deliveries beyond the inbox (delivery.list, delivery.resend,
                            notify.stats) and their worker: claim, send, retry, dead letters
        notify_smtp.c       an e-mail as SMTP carries it (RFC 2047 subject, base64 body)
        notify_webhook.c    a webhook POST signed as Standard Webhooks says
        notify_digest.c     the officials' daily digest of what waits in their region
    Their SQL is in notify_store.c, the delivery's in notify_delivery.c.  */
#ifndef NOTIFY_H_INCLUDED
#define NOTIFY_H_INCLUDED

#include "st_config.h"
#include "st_events.h"
#include "st_server.h"
#include "st_service.h"

extern const st_route_t notify_inbox_routes[];
extern const size_t notify_inbox_route_count;
extern const st_route_t notify_reminders_routes[];
extern const size_t notify_reminders_route_count;
extern const st_route_t notify_channels_routes[];
extern const size_t notify_channels_route_count;
extern const st_route_t notify_delivery_routes[];
extern const size_t notify_delivery_route_count;

//  What notify does with registry's, match's and the ledger's events (notify_feeds.c).
extern const st_subscription_t notify_registry_subscriptions[];
extern const size_t notify_registry_subscription_count;
extern const st_subscription_t notify_match_subscriptions[];
extern const size_t notify_match_subscription_count;
extern const st_subscription_t notify_ledger_subscriptions[];
extern const size_t notify_ledger_subscription_count;

//  Registers every statement of the service on a connection (notify_store.c), the delivery's
//  among them (notify_delivery.c).
void notify_store_prepare (st_db_t *db);
void notify_delivery_prepare (st_db_t *db);

//  One notice to make: for whom (recipient_kind volunteer, resident or account), of which
//  kind (a template's name), from which source (its dedupe key with the person and the kind),
//  about which subject (may be NULL), urgent or not, and what the template fills in: title,
//  reason and number as they are, start, end and deadline (RFC 3339) as local times of the
//  person's zone, balance, level and points as they are (the ledger's notices), who: the
//  people coming (a resident's staffed notice), a line "name\tmasked phone" each, listed in
//  the person's language. region: where the settings come from when notify does not know the
//  person (may be NULL). Any of them may be NULL.
typedef struct {
    const char *recipient_kind;
    const char *recipient_id;
    const char *kind;
    const char *source;
    const char *subject_id;
    const char *region;
    bool urgent;
    const char *title;
    const char *reason;
    const char *number;
    const char *start;
    const char *end;
    const char *deadline;
    const char *balance;
    const char *level;
    const char *points;
    const char *who;
    const char *items; //  an official's digest: "to_review to_confirm open_checkouts unfilled"
} notify_notice_t;

//  Makes the notice inside the caller's transaction, rendered in the person's language: none
//  when they muted its kind (unless urgent) or when its source made it already; held until
//  their quiet hours end unless urgent. Returns ST_OK or the database's failure in err.
st_status_t notify_notice_add (st_db_t *db, const notify_notice_t *notice, st_error_t *err);

//  Whether `kind` names a template (for prefs.set's muted list).
bool notify_kind_known (const char *kind);
//  The i-th notice kind Station has a template for, NULL past the last.
const char *notify_kind_at (size_t i);

//  The template of notice kind `kind` in English or Chinese, NULL for an unknown kind
//  (the reminder worker fills those of its kinds in SQL: notify_store.c, "reminder_fire").
const char *notify_template (const char *kind, bool english);

//  A local time of day as prefs and settings take it: HH:MM or HH:MM:SS.
bool notify_clock_valid (const char *text);

//  What delivers notices beyond the inbox (notify_delivery.c): its settings, the key that
//  seals webhook secrets, the curl handles and the registry client of the worker's thread.
typedef struct notify_delivery_s notify_delivery_t;

//  The officials' daily digest (notify_digest.c): the keys and addresses of registry and match.
typedef struct notify_digest_s notify_digest_t;

//  The worker's settings: the longest it waits between runs (ms) and its batch; the delivery;
//  the digest.
typedef struct {
    int64_t wait_ms;
    int64_t batch;
    notify_delivery_t *delivery;
    notify_digest_t *digest;
} notify_config_t;

//  Reads the delivery's settings (STATION_NOTIFY_*, STATION_SMTP_*) and keys. NULL with err
//  filled when one is wrong.
notify_delivery_t *notify_delivery_new (st_service_t *service, st_error_t *err);
void notify_delivery_destroy (notify_delivery_t **self_p);

//  Who is coming to serve a resident (request.staffed): the name and masked phone registry
//  gives for each of the `count` volunteers `ids` (contact.list with masked: never their
//  phones), a line "name\tmasked phone" each, in the order asked, into *who (malloc'd; NULL
//  when registry knows none of them). Returns ST_OK, or the call's failure in err
//  (ST_UNAVAILABLE: no reply within timeout_ms).
st_status_t notify_delivery_who (notify_delivery_t *self, char *const *ids, size_t count,
                                 int timeout_ms, char **who, st_error_t *err);

//  Gives the event consumers (notify_feeds.c) the delivery whose registry settings
//  notify_delivery_who uses; set once by init, before they start.
void notify_feeds_set_delivery (notify_delivery_t *delivery);

//  Seals and opens a webhook secret with the key derived from notify's CURVE secret key.
int notify_delivery_seal (notify_delivery_t *self, const char *secret, uint8_t **out,
                          size_t *out_len);
char *notify_delivery_open (notify_delivery_t *self, const uint8_t *sealed, size_t len);

//  Sends the deliveries due, in batches claimed with FOR UPDATE SKIP LOCKED, each batch's
//  sends at once and each bounded by the send timeout; returns the ms until the next is due
//  (-1: none).
int64_t notify_delivery_tick (st_db_t *db, notify_delivery_t *self, int64_t batch);

//  notify_smtp.c: the message an e-mail carries, CRLF lines, malloc'd: From, To, a Subject
//  RFC 2047-encoded (UTF-8, base64 words), Date, Message-ID, and the text base64-encoded.
char *notify_smtp_message (const char *from, const char *to, const char *message_id,
                           const char *subject, const char *text);

//  The address inside "Name <address>" (or the whole text), into out.
void notify_smtp_address (const char *from, char *out, size_t size);

//  notify_webhook.c: the webhook-signature header's value ("v1,<base64>") of id, timestamp
//  and body under a secret "whsec_<base64>"; -1 when the secret does not decode.
int notify_webhook_sign (const char *secret, const char *id, long long timestamp, const char *body,
                         size_t body_len, char *out, size_t size);

//  notify_digest.c: reads the keys of notify, registry and match; NULL with err filled when
//  one is missing.
notify_digest_t *notify_digest_new (st_service_t *service, st_error_t *err);
void notify_digest_destroy (notify_digest_t **self_p);
void notify_digest_prepare (st_db_t *db);

//  Makes the officials' digests whose time has come (at most one per account and local day,
//  whichever replica makes it); returns the ms until the next digest time (-1: none).
int64_t notify_digest_tick (st_db_t *db, notify_digest_t *self);

extern const st_option_t notify_options[];
extern const size_t notify_option_count;

//  The worker (notify_reminders.c): fires the reminders due and delivers the held notices
//  due, in batches claimed with FOR UPDATE SKIP LOCKED; returns the ms until the next is due.
int64_t notify_tick (st_db_t *db, void *state);

#endif
