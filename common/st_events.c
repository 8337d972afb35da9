/*  st_events.c — the outbox relay and the event consumer  */
#include "st_events.h"
#include "st_checks.h"
#include "st_client.h"
#include "st_keys.h"
#include "st_log.h"

#include <stdlib.h>
#include <string.h>

bool
st_pipe_term (zsock_t *pipe)
{
    char *command = zstr_recv (pipe);
    bool term = !command || strcmp (command, "$TERM") == 0;
    zstr_free (&command);
    return term;
}

//  An event's body checked and encoded; the caller frees *data.
static st_status_t
s_event_encode (const char *topic, const st_desc_t *desc, const void *body, uint8_t **data,
                size_t *size, st_error_t *err)
{
    st_error_t invalid;
    if (st_validate (desc, body, &invalid))
        return st_error_set (err, ST_INTERNAL, NULL, "event %s would be invalid: %s", topic,
                             invalid.message);
    if (st_encode (desc, body, data, size))
        return st_error_set (err, ST_INTERNAL, NULL, "could not encode event %s", topic);
    return ST_OK;
}

st_status_t
st_event_params (const char *topic, const st_desc_t *desc, const void *body, st_params_t *params,
                 st_error_t *err)
{
    uint8_t *data;
    size_t size;
    st_status_t rc = s_event_encode (topic, desc, body, &data, &size, err);
    if (rc != ST_OK)
        return rc;
    st_params_text (params, topic);
    st_params_bin_take (params, data, size);
    return ST_OK;
}

st_status_t
st_outbox_append (st_db_t *db, const char *topic, const st_desc_t *desc, const void *body,
                  st_error_t *err)
{
    st_db_statement (db, "outbox_append", ST_OUTBOX_APPEND_SQL);
    st_params_t params = {0};
    st_status_t rc = st_event_params (topic, desc, body, &params, err);
    if (rc == ST_OK)
        rc = st_db_exec (db, "outbox_append", &params, NULL, err);
    st_params_clear (&params);
    return rc;
}

st_status_t
st_outbox_append_many (st_db_t *db, const char *topic, const st_desc_t *desc,
                       const void *const *bodies, size_t count, st_error_t *err)
{
    if (count == 0)
        return ST_OK;
    st_db_statement (db, "outbox_append_many",
                     "INSERT INTO outbox (topic, body) SELECT $1, b.body"
                     " FROM unnest ($2::bytea[]) WITH ORDINALITY AS b (body, n) ORDER BY b.n");
    //  Each body as bytea's hex input, \x and two digits a byte, in one array literal.
    char **items = st_calloc (count, sizeof *items);
    st_status_t rc = ST_OK;
    for (size_t i = 0; rc == ST_OK && i < count; i++) {
        uint8_t *data;
        size_t size;
        rc = s_event_encode (topic, desc, bodies[i], &data, &size, err);
        if (rc == ST_OK) {
            static const char digits[] = "0123456789abcdef";
            char *hex = st_malloc (2 * size + 3);
            hex[0] = '\\';
            hex[1] = 'x';
            for (size_t b = 0; b < size; b++) {
                hex[2 + 2 * b] = digits[data[b] >> 4];
                hex[3 + 2 * b] = digits[data[b] & 15];
            }
            hex[2 + 2 * size] = 0;
            items[i] = hex;
            free (data);
        }
    }
    if (rc == ST_OK) {
        st_params_t params = {0};
        st_params_text (&params, topic);
        st_params_text_array (&params, items, count);
        rc = st_db_exec (db, "outbox_append_many", &params, NULL, err);
        st_params_clear (&params);
    }
    for (size_t i = 0; i < count; i++)
        free (items[i]);
    free (items);
    return rc;
}

//  ---------------------------------------------------------------------------------------
//  Relay

//  How long the relay lets appends gather between passes while they stream in (see the loop).
#define S_RELAY_GATHER_MS 10
//  Passes that find nothing, in a row, before the relay waits for notifications again.
#define S_RELAY_LINGER 5
//  The most rows one pass sequences: outbox_sequence's batch in "relay_sequence".
#define S_RELAY_BATCH 5000

typedef struct {
    st_relay_config_t config;
    char *service, *conninfo, *endpoint;
} s_relay_args_t;

//  Sequences what has committed; returns the latest seq, or -1 on failure.
static int64_t
s_sequence (st_db_t *db)
{
    PGresult *res;
    st_error_t err;
    int64_t last = -1;
    if (st_db_exec (db, "relay_sequence", NULL, &res, &err) == ST_OK) {
        last = atoll (PQgetvalue (res, 0, 0));
        PQclear (res);
    } else
        st_warn ("relay could not sequence the outbox: %s", err.message);
    return last;
}

//  Whether notifications came (read by libpq with a statement's results, or still on the
//  socket); they are consumed.
static bool
s_notified (PGconn *conn)
{
    bool notified = false;
    PGnotify *note;
    if (conn)
        PQconsumeInput (conn);
    while (conn && (note = PQnotifies (conn))) {
        PQfreemem (note);
        notified = true;
    }
    return notified;
}

static void
s_publish (zsock_t *pub, const char *service, int64_t seq)
{
    zstr_sendfm (pub, "%s", service);
    zstr_sendf (pub, "%lld", (long long) seq);
}

static void
s_relay_actor (zsock_t *pipe, void *args_)
{
    s_relay_args_t *args = args_;
    zsock_signal (pipe, 0); //  zactor_new waits for this; READY or ERROR follows
    const char *service = args->service;
    st_db_t *db = st_db_new (args->conninfo, service, service);
    st_db_statement (db, "relay_sequence", "SELECT outbox_sequence (5000)");
    st_db_statement (db, "relay_retention",
                     "DELETE FROM outbox WHERE seq IS NOT NULL"
                     " AND created_at < now () - make_interval (hours => $1::int)");
    zsock_t *pub = zsock_new (ZMQ_PUB);
    st_keys_server (pub, args->config.cert);
    zsock_set_linger (pub, 0);
    if (zsock_bind (pub, "%s", args->endpoint) == -1) {
        zstr_sendf (pipe, "ERROR could not bind event socket \"%s\": %s", args->endpoint,
                    zmq_strerror (zmq_errno ()));
        goto done;
    }
    zstr_send (pipe, "READY");

    char lock[96], listen[96], unlisten[96];
    snprintf (lock, sizeof lock, "station.relay.%s", service);
    snprintf (listen, sizeof listen, "LISTEN \"%s.outbox\"", service);
    snprintf (unlisten, sizeof unlisten, "UNLISTEN \"%s.outbox\"", service);
    bool holding = false, listening = false;
    uint64_t generation = 0;
    int idle_passes = 0;
    int64_t last = 0, next_retention = 0, next_heartbeat = 0;
    while (!zsys_interrupted) {
        //  Whoever holds the lock sequences; the others wait for it to be free.
        PGconn *conn = st_db_conn (db);
        if (!conn)
            holding = false;
        if (!holding && st_db_try_lock (db, lock)) {
            holding = true;
            generation++;
            listening = st_db_run (db, listen, NULL) == ST_OK;
            idle_passes = 0;
            st_info ("relay holds the sequencing lock for \"%s\"", service);
        }
        conn = st_db_conn (db);
        //  Two ways to wait. Listening, the relay sleeps until a commit that appended notifies
        //  (or the timer). While appends stream in, it does not listen but sequences every
        //  S_RELAY_GATHER_MS: each commit's notification would otherwise signal its session
        //  (a wake-up of the backend, a message to read here) for nothing, as the next pass
        //  takes them all. Sequencing every commit on its own, and every consumer's pull of
        //  it, took the cores the appends needed.
        zmq_pollitem_t items[2] = {{zsock_resolve (pipe), 0, ZMQ_POLLIN, 0},
                                   {NULL, conn ? PQsocket (conn) : -1, ZMQ_POLLIN, 0}};
        int count = holding && listening && conn ? 2 : 1;
        //  Notifications libpq read with a statement's results leave nothing on the socket:
        //  they are answered at once.
        bool notified = holding && listening && s_notified (conn);
        int timeout = !holding ? 1000 : !listening ? S_RELAY_GATHER_MS : notified ? 0 : 500;
        if (zmq_poll (items, count, timeout) == -1)
            break;
        if (items[0].revents & ZMQ_POLLIN) {
            if (st_pipe_term (pipe))
                break;
        }
        if (!holding)
            continue;
        s_notified (st_db_conn (db));
        //  Sequence until nothing is left: a pass that numbered a whole batch may have left
        //  more.
        int64_t seq, first = last;
        while ((seq = s_sequence (db)) > last) {
            bool whole = seq - last >= S_RELAY_BATCH;
            last = seq;
            s_publish (pub, service, last);
            if (!whole)
                break;
        }
        if (seq < 0) {
            holding = false; //  the connection may be gone, and the lock with it
            continue;
        }
        if (last > first) {
            idle_passes = 0;
            if (listening) {
                st_db_run (db, unlisten, NULL);
                s_notified (st_db_conn (db));
                listening = false;
            }
        } else if (!listening && ++idle_passes >= S_RELAY_LINGER) {
            //  Quiet for a while: back to sleep until a commit notifies. What committed
            //  before the LISTEN took effect did not notify us: one more pass takes it.
            listening = st_db_run (db, listen, NULL) == ST_OK;
            if (listening && (seq = s_sequence (db)) > last) {
                last = seq;
                s_publish (pub, service, last);
            }
        }
        int64_t now = st_clock_ms ();
        if (now >= next_heartbeat) {
            //  A periodic hint lets a consumer that missed one catch up without its timer.
            s_publish (pub, service, last);
            next_heartbeat = now + 1000;
        }
        if (now >= next_retention) {
            st_params_t params = {0};
            st_params_int (&params, args->config.retention_hours);
            st_db_exec (db, "relay_retention", &params, NULL, NULL);
            st_params_clear (&params);
            next_retention = now + 60000;
        }
    }
done:
    (void) generation;
    zsock_destroy (&pub);
    st_db_destroy (&db);
    st_db_thread_end ();
    free (args->service);
    free (args->conninfo);
    free (args->endpoint);
    free (args);
}

zactor_t *
st_relay_new (const st_relay_config_t *config)
{
    s_relay_args_t *args = st_calloc (1, sizeof *args);
    args->config = *config;
    args->service = st_strdup (config->service);
    args->conninfo = st_strdup (config->conninfo);
    args->endpoint = st_strdup (config->endpoint);
    return zactor_new (s_relay_actor, args);
}

//  ---------------------------------------------------------------------------------------
//  Consumer

typedef struct {
    st_consumer_config_t config;
    st_db_t *db;
    st_client_t *client;
    zsock_t *pipe; //  the actor's, which cuts a pull short when the service stops
    int64_t cursor;
    bool cursor_known;
    int64_t unreachable_since; //  when events.read last began to fail, 0 while it answers
    int64_t warned_at;         //  when that was last said
} s_consumer_t;

//  How often a consumer says again that its publisher still does not answer.
#define S_UNREACHABLE_WARN_MS 60000

//  Says when the publisher stops answering (then once a minute while it stays silent) and
//  when it answers again: a consumer that cannot reach its publisher is never silent about it.
static void
s_reachable (s_consumer_t *self, bool reached, const st_error_t *err)
{
    int64_t now = st_clock_ms ();
    if (reached) {
        if (self->unreachable_since)
            st_info ("reached %s again at %s after %lld s: catching up", self->config.publisher,
                     self->config.rpc_endpoint,
                     (long long) ((now - self->unreachable_since) / 1000));
        self->unreachable_since = 0;
        return;
    }
    if (!self->unreachable_since)
        self->unreachable_since = now;
    else if (now - self->warned_at < S_UNREACHABLE_WARN_MS)
        return;
    self->warned_at = now;
    st_warn ("cannot reach %s at %s (%s) for %lld s: its events wait until it answers",
             self->config.publisher, self->config.rpc_endpoint, err->message,
             (long long) ((now - self->unreachable_since) / 1000));
}

static const st_subscription_t *
s_subscription (s_consumer_t *self, const char *topic)
{
    for (size_t i = 0; i < self->config.subscription_count; i++)
        if (strcmp (self->config.subscriptions[i].topic, topic) == 0)
            return &self->config.subscriptions[i];
    return NULL;
}

//  The batch function of topic `topic` of our publisher, or NULL.
static st_apply_batch_fn *
s_batch (s_consumer_t *self, const char *topic)
{
    for (size_t i = 0; i < self->config.batch_count; i++) {
        const st_batch_subscription_t *b = &self->config.batches[i];
        if (strcmp (b->publisher, self->config.publisher) == 0 && strcmp (b->topic, topic) == 0)
            return b->apply_batch;
    }
    return NULL;
}

//  Truncates text to at most `max` bytes without cutting a UTF-8 character.
static void
s_truncate_utf8 (char *text, size_t max)
{
    size_t len = strlen (text);
    if (len <= max)
        return;
    while (max > 0 && ((unsigned char) text[max] & 0xc0) == 0x80)
        max--;
    text[max] = 0;
}

//  Parks `event` in the dead-letter table with the reason `why` gives, inside the batch
//  transaction. Returns ST_OK, or ST_UNAVAILABLE when the batch must be retried.
static st_status_t
s_park (s_consumer_t *self, const msg_event_t *event, st_error_t *why)
{
    s_truncate_utf8 (why->message, 900);
    st_warn ("parked event %s #%lld (%s): %s", self->config.publisher, (long long) event->seq,
             event->topic, why->message);
    st_params_t params = {0};
    st_params_text (&params, self->config.publisher);
    st_params_int (&params, event->seq);
    st_params_text (&params, event->topic);
    st_params_bin (&params, event->body.data, event->body.size);
    st_params_text (&params, why->message);
    st_status_t rc = st_db_exec (self->db, "consumer_park", &params, NULL, NULL);
    st_params_clear (&params);
    return rc == ST_OK ? ST_OK : ST_UNAVAILABLE;
}

//  Applies one event inside the batch transaction. Returns ST_OK when it was applied,
//  skipped or parked; ST_UNAVAILABLE when the batch must be retried later.
static st_status_t
s_apply_one (s_consumer_t *self, const msg_event_t *event)
{
    st_db_t *db = self->db;
    const st_subscription_t *sub = s_subscription (self, event->topic);
    if (!sub)
        return ST_OK; //  not ours to act on: only the cursor moves
    const st_event_desc_t *desc = st_proto_event (event->topic);
    st_error_t err = {0};
    st_status_t rc;
    void *body = NULL;
    if (st_db_run (db, "SAVEPOINT event", &err) != ST_OK)
        return ST_UNAVAILABLE;
    if (!desc)
        rc = st_error_set (&err, ST_INTERNAL, NULL, "no message is declared for topic \"%s\"",
                           event->topic);
    else {
        body = st_calloc (1, desc->body->size);
        st_error_t why = {0}; //  not err: its message would be read while written
        if (st_decode (desc->body, event->body.data, event->body.size, body, &why))
            rc = st_error_set (&err, ST_INVALID_ARGUMENT, why.field, "body does not decode: %s",
                               why.message);
        else
            rc = sub->apply (db, event->topic, body, event->seq, &err);
    }
    if (body) {
        st_msg_clear (desc->body, body);
        free (body);
    }
    if (rc == ST_OK)
        return st_db_run (db, "RELEASE SAVEPOINT event", NULL) == ST_OK ? ST_OK : ST_UNAVAILABLE;
    if (rc == ST_UNAVAILABLE || st_db_retryable (db) || !st_db_conn (db))
        return ST_UNAVAILABLE;
    //  A bug, not a passing fault: park it with the reason and go on.
    if (st_db_run (db, "ROLLBACK TO SAVEPOINT event", NULL) != ST_OK)
        return ST_UNAVAILABLE;
    return s_park (self, event, &err);
}

//  Applies a run of events (`count` of them from `events`) whose events of `sub`'s topic go
//  to its batch function together; the others are no subscription's, only the cursor moves
//  past them. What does not decode, and what the batch function gives back, is parked. A
//  run the batch function fails is undone and applied event by event. Returns ST_OK when
//  every event was applied, skipped or parked; ST_UNAVAILABLE when the batch must be retried.
static st_status_t
s_apply_run (s_consumer_t *self, const st_subscription_t *sub, st_apply_batch_fn *apply_batch,
             const msg_event_t *const *events, size_t count)
{
    st_db_t *db = self->db;
    const st_event_desc_t *desc = st_proto_event (sub->topic);
    if (!desc || count == 1) {
        for (size_t i = 0; i < count; i++)
            if (s_apply_one (self, events[i]) != ST_OK)
                return ST_UNAVAILABLE;
        return ST_OK;
    }
    //  Decoded bodies of the events the batch gets (taken[n] their index in `events`), and why
    //  each event that was not applied is parked.
    void **bodies = st_calloc (count, sizeof *bodies);
    const void **given = st_calloc (count, sizeof *given);
    int64_t *seqs = st_calloc (count, sizeof *seqs);
    size_t *taken = st_calloc (count, sizeof *taken);
    st_error_t *reasons = st_calloc (count, sizeof *reasons);
    st_error_t *parked = st_calloc (count, sizeof *parked);
    size_t n = 0;
    for (size_t i = 0; i < count; i++) {
        if (strcmp (events[i]->topic, sub->topic) != 0)
            continue; //  not ours to act on
        void *body = st_calloc (1, desc->body->size);
        st_error_t err = {0};
        if (st_decode (desc->body, events[i]->body.data, events[i]->body.size, body, &err)) {
            st_error_set (&reasons[i], ST_INVALID_ARGUMENT, err.field, "body does not decode: %s",
                          err.message);
            free (body);
            continue;
        }
        bodies[i] = body;
        given[n] = body;
        seqs[n] = events[i]->seq;
        taken[n++] = i;
    }
    st_error_t err = {0};
    st_status_t rc = st_db_run (db, "SAVEPOINT run", &err);
    if (rc == ST_OK && n > 0)
        rc = apply_batch (db, sub->topic, given, seqs, n, parked, &err);
    if (rc == ST_OK) {
        for (size_t k = 0; k < n; k++)
            if (parked[k].code != ST_OK)
                reasons[taken[k]] = parked[k];
        rc = st_db_run (db, "RELEASE SAVEPOINT run", &err) == ST_OK ? ST_OK : ST_UNAVAILABLE;
        for (size_t i = 0; rc == ST_OK && i < count; i++)
            if (reasons[i].code != ST_OK)
                rc = s_park (self, events[i], &reasons[i]);
    } else if (rc == ST_UNAVAILABLE || st_db_retryable (db) || !st_db_conn (db))
        rc = ST_UNAVAILABLE;
    else if (st_db_run (db, "ROLLBACK TO SAVEPOINT run", NULL) != ST_OK)
        rc = ST_UNAVAILABLE;
    else {
        //  The run as a whole failed: each event by itself, the one at fault parked.
        st_warn ("%zu events %s #%lld..#%lld (%s) could not be applied together (%s): one by one",
                 count, self->config.publisher, (long long) events[0]->seq,
                 (long long) events[count - 1]->seq, sub->topic, err.message);
        rc = ST_OK;
        for (size_t i = 0; rc == ST_OK && i < count; i++)
            rc = s_apply_one (self, events[i]);
    }
    for (size_t i = 0; i < count; i++)
        if (bodies[i]) {
            st_msg_clear (desc->body, bodies[i]);
            free (bodies[i]);
        }
    free (bodies);
    free (given);
    free (seqs);
    free (taken);
    free (reasons);
    free (parked);
    return rc == ST_OK ? ST_OK : ST_UNAVAILABLE;
}

//  Applies a page of events and advances the cursor in one transaction.
static st_status_t
s_apply_batch (s_consumer_t *self, const msg_events_t *page)
{
    st_db_t *db = self->db;
    st_error_t err;
    PGresult *res;
    if (st_db_run (db, "BEGIN", &err) != ST_OK)
        return ST_UNAVAILABLE;
    st_params_t params = {0};
    st_params_text (&params, self->config.publisher);
    st_status_t rc = st_db_exec (db, "consumer_lock", &params, &res, &err);
    st_params_clear (&params);
    if (rc != ST_OK)
        goto rollback;
    //  The row lock serialises replicas; re-read the cursor under it.
    int64_t cursor = atoll (PQgetvalue (res, 0, 0));
    PQclear (res);
    //  The events not applied yet (by us or a replica), in order.
    const msg_event_t **fresh = st_calloc (page->events.count + 1, sizeof *fresh);
    size_t count = 0;
    for (size_t i = 0; i < page->events.count; i++) {
        const msg_event_t *event = &page->events.items[i];
        if (event->seq <= cursor)
            continue;
        if (event->seq != cursor + 1)
            st_warn ("events %s #%lld..#%lld are gone (retention): skipped", self->config.publisher,
                     (long long) cursor + 1, (long long) event->seq - 1);
        fresh[count++] = event;
        cursor = event->seq;
    }
    //  A subscription with a batch function gets each run of its topic at once (the events no
    //  subscription acts on between them belong to the run); the rest go one by one.
    rc = ST_OK;
    for (size_t i = 0; rc == ST_OK && i < count;) {
        const st_subscription_t *sub = s_subscription (self, fresh[i]->topic);
        st_apply_batch_fn *apply_batch = sub ? s_batch (self, sub->topic) : NULL;
        if (!apply_batch) {
            rc = s_apply_one (self, fresh[i++]);
            continue;
        }
        size_t end = i + 1;
        while (end < count
               && (strcmp (fresh[end]->topic, sub->topic) == 0
                   || !s_subscription (self, fresh[end]->topic)))
            end++;
        rc = s_apply_run (self, sub, apply_batch, fresh + i, end - i);
        i = end;
    }
    free (fresh);
    if (rc != ST_OK)
        goto rollback;
    st_params_text (&params, self->config.publisher);
    st_params_int (&params, cursor);
    rc = st_db_exec (db, "consumer_advance", &params, NULL, &err);
    st_params_clear (&params);
    if (rc != ST_OK || st_db_run (db, "COMMIT", &err) != ST_OK)
        goto rollback;
    self->cursor = cursor;
    return ST_OK;
rollback:
    st_db_run (db, "ROLLBACK", NULL);
    self->cursor_known = false;
    return ST_UNAVAILABLE;
}

//  Pulls until caught up. Returns false when the publisher or database is unavailable.
static bool
s_pull (s_consumer_t *self)
{
    st_error_t err;
    if (!self->cursor_known) {
        PGresult *res;
        st_params_t params = {0};
        st_params_text (&params, self->config.publisher);
        st_status_t rc = st_db_exec (self->db, "consumer_cursor", &params, &res, &err);
        st_params_clear (&params);
        if (rc != ST_OK)
            return false;
        self->cursor = atoll (PQgetvalue (res, 0, 0));
        self->cursor_known = true;
        PQclear (res);
    }
    while (!zsys_interrupted) {
        msg_events_read_t request = {
            .after = self->cursor, .has_after = true, .max = self->config.batch, .has_max = true};
        msg_events_t page;
        st_status_t rc =
            st_client_call (self->client, "events.read", NULL, NULL, &msg_events_read_desc,
                            &request, &msg_events_desc, &page, 5000, &err);
        if (rc != ST_OK && (zsock_events (self->pipe) & ZMQ_POLLIN))
            return false; //  cut short by the pipe (the service stopping): no one is unreachable
        s_reachable (self, rc == ST_OK, &err);
        if (rc != ST_OK)
            return false;
        bool full = page.events.count == (size_t) self->config.batch;
        rc = page.events.count ? s_apply_batch (self, &page) : ST_OK;
        st_msg_clear (&msg_events_desc, &page);
        if (rc != ST_OK)
            return false;
        if (!full)
            return true;
    }
    return true;
}

static void
s_consumer_actor (zsock_t *pipe, void *args)
{
    s_consumer_t *self = args;
    zsock_signal (pipe, 0); //  zactor_new waits for this; READY or ERROR follows
    const st_consumer_config_t *config = &self->config;
    st_error_t err;
    zsock_t *sub = NULL;
    zcert_t *server = st_keys_public (config->keydir, config->publisher, &err);
    if (!server) {
        zstr_sendf (pipe, "ERROR %s", err.message);
        goto done;
    }
    self->db = st_db_new (config->conninfo, config->service, config->service);
    st_db_statement (self->db, "consumer_cursor",
                     "INSERT INTO consumer_cursors (publisher, seq) VALUES ($1, 0)"
                     " ON CONFLICT (publisher) DO UPDATE SET publisher = EXCLUDED.publisher"
                     " RETURNING seq");
    st_db_statement (self->db, "consumer_lock",
                     "SELECT seq FROM consumer_cursors WHERE publisher = $1 FOR UPDATE");
    st_db_statement (self->db, "consumer_advance",
                     "UPDATE consumer_cursors SET seq = $2, updated_at = now ()"
                     " WHERE publisher = $1");
    st_db_statement (self->db, "consumer_park",
                     "INSERT INTO dead_letters (publisher, seq, topic, body, reason)"
                     " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING");
    if (config->prepare)
        config->prepare (self->db);
    self->client = st_client_new (config->rpc_endpoint, config->cert, zcert_public_txt (server));
    self->pipe = pipe;
    st_client_set_cancel (self->client, pipe); //  a stop is not kept waiting by a silent publisher
    sub = zsock_new (ZMQ_SUB);
    st_keys_client (sub, config->cert, zcert_public_txt (server));
    zsock_set_subscribe (sub, config->publisher);
    zsock_set_maxmsgsize (sub, 4096);
    //  Hints from every process of the publisher (its endpoint may list several).
    char endpoints[1024];
    snprintf (endpoints, sizeof endpoints, "%s", config->pub_endpoint);
    for (char *rest = endpoints, *one; (one = strsep (&rest, ","));)
        if (*one)
            zsock_connect (sub, "%s", one);
    zstr_send (pipe, "READY");

    int64_t next_pull = 0;
    while (!zsys_interrupted) {
        zmq_pollitem_t items[2] = {{zsock_resolve (pipe), 0, ZMQ_POLLIN, 0},
                                   {zsock_resolve (sub), 0, ZMQ_POLLIN, 0}};
        int64_t wait = next_pull - st_clock_ms ();
        if (zmq_poll (items, 2, wait > 0 ? (long) wait : 0) == -1)
            break;
        if (items[0].revents & ZMQ_POLLIN) {
            if (st_pipe_term (pipe))
                break;
        }
        bool hinted = false;
        int64_t hinted_seq = 0;
        if (items[1].revents & ZMQ_POLLIN) {
            //  Drain every hint; only the newest matters.
            zmsg_t *hint;
            while ((hint = zmsg_recv_nowait (sub))) {
                zframe_t *seq = zmsg_last (hint);
                if (seq && zframe_size (seq) < 24) {
                    char text[24];
                    memcpy (text, zframe_data (seq), zframe_size (seq));
                    text[zframe_size (seq)] = 0;
                    hinted_seq = atoll (text);
                }
                zmsg_destroy (&hint);
            }
            hinted = !self->cursor_known || hinted_seq > self->cursor;
        }
        if (hinted || st_clock_ms () >= next_pull) {
            bool ok = s_pull (self);
            next_pull = st_clock_ms () + (ok ? config->poll_ms : config->poll_ms / 4 + 50);
        }
    }
done:
    zsock_destroy (&sub);
    st_client_destroy (&self->client);
    zcert_destroy (&server);
    st_db_destroy (&self->db);
    st_db_thread_end ();
    free (self);
}

zactor_t *
st_consumer_new (const st_consumer_config_t *config)
{
    s_consumer_t *self = st_calloc (1, sizeof *self);
    self->config = *config;
    return zactor_new (s_consumer_actor, self);
}

st_status_t
st_event_place (st_db_t *db, const char *statement, const char *field, const char *id,
                const char *region, int64_t seq, st_error_t *err)
{
    int64_t number;
    if (!st_parse_id (id, &number))
        return st_error_set (err, ST_INVALID_ARGUMENT, field, "%s \"%s\" is not a number", field,
                             id);
    st_params_t params = {0};
    st_params_int (&params, number);
    st_params_text (&params, region);
    st_params_int (&params, seq);
    st_status_t rc = st_db_exec (db, statement, &params, NULL, err);
    st_params_clear (&params);
    return rc;
}
