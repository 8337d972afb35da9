/*  st_server.c — the rpc server  */
#include "st_server.h"
#include "st_events.h"
#include "st_keys.h"
#include "st_log.h"
#include "st_rows.h"
#include "st_scope.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define ST_WRITE_ATTEMPTS 5

typedef struct {
    const st_op_desc_t *op;
    st_handler_fn *handler;
} s_entry_t;

//  A read op's reply kept for a while: a client that timed out sends the same request again
//  (Lazy Pirate), and while the first is running its copies wait in the socket. Each copy is
//  answered from here instead of running the op again (a slow sign-in would otherwise run
//  once per resend, and each run count). Write ops replay from their stored replies instead.
#define S_RECENT    64
#define S_RECENT_MS 10000
typedef struct {
    uint8_t key[32]; //  the request: peer, id, actor, op and body
    int64_t at;
    uint8_t *data; //  the encoded reply frame
    size_t size;
} s_recent_t;

struct st_server_s {
    char *service;
    st_db_t *db;
    zsock_t *router;
    s_entry_t *entries;
    size_t entry_count;
    void *state;
    s_recent_t recent[S_RECENT]; //  the last read replies, for a client's resends
    size_t recent_next;
    st_crypto_t *sealer;      //  seals stored replies (st_server_set_sealer), or NULL
    struct s_pool_s *pool;    //  the workers that run slow ops; NULL: all run on the loop
    struct s_pool_s *readers; //  the workers that run fast reads; NULL: they run on the loop
    struct s_done_s *done;    //  the jobs both pools ran, back to the loop; NULL: no pools
    zlist_t *held;            //  requests that wait behind their client's reads (s_held_t)
};

struct st_call_s {
    st_server_t *server;
    const s_entry_t *entry;
    msg_request_t envelope;
    msg_actor_t default_actor;
    const msg_actor_t *actor;
    char peer[64];
    unsigned peer_role;
    char id_hex[33];
    st_error_t error;
    bool failed;
    bool db_failed; //  a statement failed: the transaction is aborted
    char sqlstate[6];
    //  Outbox appends not sent yet (st_call_emit): they go with the call's next statement,
    //  or with its stored reply and COMMIT, in one round trip.
    st_params_t *pending; //  S_PENDING_MAX of them, allocated at the first
    size_t pending_count;
};

//  Appends a call keeps back at most: more go at once.
#define S_PENDING_MAX 16

static void s_pools_destroy (st_server_t *self);

//  Common ops, answered by every service.
static void s_sys_ping (st_call_t *call, const void *request, void *reply);
static void s_events_read (st_call_t *call, const void *request, void *reply);
static void s_events_parked (st_call_t *call, const void *request, void *reply);
static void s_events_lag (st_call_t *call, const void *request, void *reply);

static const struct {
    const char *name;
    st_handler_fn *handler;
} s_common[] = {
    {"sys.ping", s_sys_ping},
    {"events.read", s_events_read},
    {"events.parked", s_events_parked},
    {"events.lag", s_events_lag},
};

static void
s_prepare_common (st_db_t *db)
{
    //  A stored reply answers only its own caller: the peer and the actor are kept with it.
    st_db_statement (
        db, "rpc_reply_get",
        "SELECT op, request_hash, reply, peer, actor_hash FROM rpc_replies WHERE id = $1");
    st_db_statement (db, "rpc_reply_put",
                     "INSERT INTO rpc_replies (id, op, request_hash, reply, peer, actor_hash)"
                     " VALUES ($1, $2, $3, $4, $5, $6)");
    st_db_statement (db, "outbox_append", ST_OUTBOX_APPEND_SQL);
    st_db_statement (db, "outbox_read",
                     "SELECT seq, topic, (extract (epoch FROM created_at) * 1000)::bigint, body"
                     " FROM outbox WHERE seq > $1 ORDER BY seq LIMIT $2");
    st_db_statement (db, "outbox_last", "SELECT last_seq FROM outbox_state");
    st_db_statement (db, "parked_list",
                     "SELECT publisher, seq, topic, reason,"
                     " (extract (epoch FROM parked_at) * 1000)::bigint AS at"
                     " FROM dead_letters ORDER BY parked_at DESC, seq DESC LIMIT 500");
    st_db_statement (db, "cursor_list",
                     "SELECT publisher, seq FROM consumer_cursors ORDER BY publisher");
    st_db_statement (db, "events_lag",
                     "SELECT (SELECT last_seq FROM outbox_state) AS last_seq,"
                     " (SELECT count (*) FROM outbox WHERE seq IS NULL) AS unsequenced,"
                     " (SELECT count (*) FROM dead_letters) AS parked");
}

st_server_t *
st_server_new (const char *service, st_db_t *db, const st_route_t *routes, size_t count,
               void *state)
{
    st_server_t *self = st_calloc (1, sizeof *self);
    self->service = st_strdup (service);
    self->db = db;
    self->state = state;
    size_t total = count + sizeof s_common / sizeof s_common[0];
    self->entries = st_calloc (total, sizeof (s_entry_t));
    for (size_t i = 0; i < sizeof s_common / sizeof s_common[0]; i++) {
        self->entries[self->entry_count].op = st_proto_op (service, s_common[i].name);
        self->entries[self->entry_count++].handler = s_common[i].handler;
    }
    for (size_t i = 0; i < count; i++) {
        const st_op_desc_t *op = st_proto_op (service, routes[i].op);
        assert (op); //  a route for an op the contract does not declare is a programmer error
        self->entries[self->entry_count].op = op;
        self->entries[self->entry_count++].handler = routes[i].handler;
    }
    s_prepare_common (db);
    return self;
}

void
st_server_destroy (st_server_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    st_server_t *self = *self_p;
    s_pools_destroy (self);
    zsock_destroy (&self->router);
    for (size_t i = 0; i < S_RECENT; i++)
        free (self->recent[i].data);
    free (self->entries);
    free (self->service);
    free (self);
    *self_p = NULL;
}

int
st_server_bind (st_server_t *self, const char *endpoint, zcert_t *own, int64_t max_message,
                st_error_t *err)
{
    self->router = zsock_new (ZMQ_ROUTER);
    st_keys_server (self->router, own);
    zsock_set_maxmsgsize (self->router, (int) max_message);
    zsock_set_linger (self->router, 0);
    zsock_set_sndhwm (self->router, 10000);
    zsock_set_rcvhwm (self->router, 10000);
    //  A reply to a peer that has gone must not block the loop.
    zsock_set_router_mandatory (self->router, 0);
    if (zsock_bind (self->router, "%s", endpoint) == -1)
        return st_error_set (err, ST_UNAVAILABLE, NULL, "could not bind rpc socket \"%s\": %s",
                             endpoint, zmq_strerror (zmq_errno ())),
               -1;
    return 0;
}

void
st_server_set_sealer (st_server_t *self, st_crypto_t *crypto)
{
    self->sealer = crypto;
}

zsock_t *
st_server_socket (st_server_t *self)
{
    return self->router;
}

//  ---------------------------------------------------------------------------------------
//  For handlers

int
st_call_fail (st_call_t *call, st_status_t code, const char *field, const char *format, ...)
{
    call->failed = true;
    call->error.code = code;
    snprintf (call->error.field, sizeof call->error.field, "%s", field ? field : "");
    va_list args;
    va_start (args, format);
    vsnprintf (call->error.message, sizeof call->error.message, format, args);
    va_end (args);
    return -1;
}

bool
st_call_failed (const st_call_t *call)
{
    return call->failed;
}

bool
st_call_recover (st_call_t *call, st_error_t *err)
{
    if (!call->failed || call->db_failed)
        return false;
    *err = call->error;
    call->failed = false;
    memset (&call->error, 0, sizeof call->error);
    return true;
}

st_status_t
st_call_code (const st_call_t *call)
{
    return call->failed ? call->error.code : ST_OK;
}

static void
s_pending_clear (st_call_t *call)
{
    for (size_t i = 0; i < call->pending_count; i++)
        st_params_clear (&call->pending[i]);
    call->pending_count = 0;
    free (call->pending);
    call->pending = NULL;
}

//  Sends the call's pending appends and then the `count` steps of `tail`, in one round trip
//  (st_db_pipeline); the appends are gone whatever happens. Returns 0, or -1 with the call
//  failed and *failed the index in `tail` of the step that failed (SIZE_MAX: an append).
static int
s_send_pending (st_call_t *call, const st_db_step_t *tail, size_t count, size_t *failed)
{
    size_t total = call->pending_count + count, at = 0;
    st_db_step_t *steps = st_calloc (total ? total : 1, sizeof *steps);
    for (size_t i = 0; i < call->pending_count; i++)
        steps[i] = (st_db_step_t){.name = "outbox_append", .params = &call->pending[i]};
    if (count)
        memcpy (steps + call->pending_count, tail, count * sizeof *tail);
    st_error_t err;
    st_status_t rc = st_db_pipeline (call->server->db, steps, total, &at, &err);
    free (steps);
    *failed = at < call->pending_count ? SIZE_MAX : at - call->pending_count;
    s_pending_clear (call);
    return rc == ST_OK ? 0 : st_call_fail_db (call, rc, &err);
}

int
st_call_exec (st_call_t *call, const char *statement, st_params_t *params, PGresult **result)
{
    if (call->pending_count) {
        st_db_step_t step = {.name = statement, .params = params, .result = result};
        size_t failed;
        int rc = s_send_pending (call, &step, 1, &failed);
        if (params)
            st_params_clear (params);
        return rc;
    }
    st_error_t err;
    st_status_t rc = st_db_exec (call->server->db, statement, params, result, &err);
    if (params)
        st_params_clear (params);
    return rc == ST_OK ? 0 : st_call_fail_db (call, rc, &err);
}

int
st_call_exec_steps (st_call_t *call, const st_db_step_t *steps, size_t count)
{
    size_t failed;
    return s_send_pending (call, steps, count, &failed);
}

int
st_call_fail_db (st_call_t *call, st_status_t rc, const st_error_t *err)
{
    snprintf (call->sqlstate, sizeof call->sqlstate, "%s", st_db_sqlstate (call->server->db));
    call->db_failed = true;
    st_log (ST_LOG_WARN, call->id_hex, "%s", err->message);
    //  What the database said stays in the log; the caller hears the code.
    if (rc == ST_INTERNAL)
        return st_call_fail (call, rc, NULL, "internal error (logged as req=%s)", call->id_hex);
    return st_call_fail (call, rc, NULL, "%s", err->message);
}

int
st_call_commit (st_call_t *call)
{
    assert (call->entry->op->flags & ST_OP_WRITE);
    if (call->failed)
        return -1;
    st_db_step_t steps[] = {{.sql = "COMMIT"}, {.sql = "BEGIN"}};
    size_t failed;
    return s_send_pending (call, steps, 2, &failed);
}

int
st_call_exec_reply (st_call_t *call, const char *statement, st_params_t *params,
                    const st_desc_t *desc, void *reply)
{
    PGresult *res;
    if (st_call_exec (call, statement, params, &res))
        return -1;
    int rows = PQntuples (res);
    if (rows > 0)
        st_row_to_msg (res, 0, desc, reply);
    PQclear (res);
    return rows > 0 ? 0 : 1;
}

int
st_call_emit (st_call_t *call, const char *topic, const st_desc_t *desc, const void *body)
{
    assert (call->entry->op->flags & ST_OP_WRITE);
    st_params_t params = {0};
    st_error_t err;
    if (st_event_params (topic, desc, body, &params, &err)) {
        st_params_clear (&params);
        return st_call_fail (call, err.code, NULL, "%s", err.message);
    }
    //  Kept back, to go with the call's next statement: in the transaction's order, without a
    //  round trip of its own.
    if (!call->pending)
        call->pending = st_calloc (S_PENDING_MAX, sizeof (st_params_t));
    call->pending[call->pending_count++] = params;
    if (call->pending_count < S_PENDING_MAX)
        return 0;
    size_t failed;
    return s_send_pending (call, NULL, 0, &failed);
}

const msg_actor_t *
st_call_actor (const st_call_t *call)
{
    return call->actor;
}

const char *
st_call_peer (const st_call_t *call)
{
    return call->peer;
}

unsigned
st_call_peer_role (const st_call_t *call)
{
    return call->peer_role;
}

st_db_t *
st_call_db (st_call_t *call)
{
    //  Whatever the caller runs on the connection comes after the appends kept back.
    size_t failed;
    if (call->pending_count)
        s_send_pending (call, NULL, 0, &failed);
    return call->server->db;
}

void *
st_call_state (st_call_t *call)
{
    return call->server->state;
}

const char *
st_call_id (const st_call_t *call)
{
    return call->id_hex;
}

//  ---------------------------------------------------------------------------------------
//  Replies

//  Encodes a reply envelope around an encoded body (or the call's error).
static void
s_encode_reply (st_call_t *call, const uint8_t *id, const uint8_t *body, size_t body_size,
                uint8_t **data, size_t *size)
{
    msg_reply_t reply = {0};
    reply.v = ST_PROTO_VERSION;
    reply.has_v = true;
    reply.id.data = (uint8_t *) id;
    reply.id.size = 16;
    reply.ok = !call->failed;
    reply.has_ok = true;
    if (call->failed) {
        reply.error.code = (char *) st_status_name (call->error.code);
        reply.error.message = call->error.message;
        reply.error.field = call->error.field[0] ? call->error.field : NULL;
        reply.has_error = true;
    } else {
        reply.body.data = body;
        reply.body.size = body_size;
    }
    //  Nothing in `reply` is owned: it only borrows, so it is not cleared.
    st_encode (&msg_reply_desc, &reply, data, size);
}

static void
s_send (st_server_t *self, zframe_t *identity, const uint8_t *data, size_t size)
{
    zmsg_t *msg = zmsg_new ();
    zmsg_append (msg, &identity);
    zmsg_addmem (msg, data, size);
    if (zmsg_send (&msg, self->router) == -1)
        zmsg_destroy (&msg); //  zmsg_send leaves the message with us when it fails
}

static void
s_send_error (st_server_t *self, zframe_t *identity, const uint8_t *id, st_call_t *call)
{
    uint8_t *data;
    size_t size;
    s_encode_reply (call, id, NULL, 0, &data, &size);
    s_send (self, identity, data, size);
    free (data);
}

//  Finds the request id in a frame whose envelope did not decode, so that the caller still
//  hears why; returns false when there is none to be had.
static bool
s_salvage_id (const msgpack_object *root, uint8_t id[16])
{
    if (root->type != MSGPACK_OBJECT_MAP)
        return false;
    for (uint32_t i = 0; i < root->via.map.size; i++) {
        const msgpack_object_kv *kv = &root->via.map.ptr[i];
        if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == 2
            && memcmp (kv->key.via.str.ptr, "id", 2) == 0 && kv->val.type == MSGPACK_OBJECT_BIN
            && kv->val.via.bin.size == 16) {
            memcpy (id, kv->val.via.bin.ptr, 16);
            return true;
        }
    }
    return false;
}

//  ---------------------------------------------------------------------------------------
//  Running a handler

static void
s_request_hash (const st_call_t *call, uint8_t out[32])
{
    crypto_generichash_state state;
    crypto_generichash_init (&state, NULL, 0, 32);
    const char *op = call->envelope.op;
    crypto_generichash_update (&state, (const uint8_t *) op, strlen (op) + 1);
    const st_body_t *body = &call->envelope.body;
    if (body->object) {
        msgpack_sbuffer buffer;
        msgpack_sbuffer_init (&buffer);
        msgpack_packer pk;
        msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
        msgpack_pack_object (&pk, *body->object);
        crypto_generichash_update (&state, (const uint8_t *) buffer.data, buffer.size);
        msgpack_sbuffer_destroy (&buffer);
    }
    crypto_generichash_final (&state, out, 32);
}

//  Runs the handler and encodes its reply body; on failure the call carries the error.
static int
s_run_handler (st_call_t *call, const void *request, uint8_t **body, size_t *body_size)
{
    const st_desc_t *reply_desc = call->entry->op->reply;
    void *reply = st_calloc (1, reply_desc->size);
    call->entry->handler (call, request, reply);
    int rc = -1;
    if (!call->failed) {
        st_error_t err;
        //  A reply that breaks the contract is our bug: the caller hears "internal".
        if (st_validate (reply_desc, reply, &err)) {
            st_log (ST_LOG_ERROR, call->id_hex, "reply breaks the contract: %s", err.message);
            st_call_fail (call, ST_INTERNAL, NULL, "internal error (logged as req=%s)",
                          call->id_hex);
        } else
            rc = st_encode (reply_desc, reply, body, body_size);
    }
    st_msg_clear (reply_desc, reply);
    free (reply);
    return rc;
}

//  Serialization failures, deadlocks and a lost connection: running the transaction again
//  can succeed. After a lost connection the outcome of a COMMIT is unknown, which is safe:
//  the next attempt finds the stored reply if it did commit.
static bool
s_retryable (const st_call_t *call)
{
    return strcmp (call->sqlstate, "40001") == 0 || strcmp (call->sqlstate, "40P01") == 0
           || (call->failed && call->error.code == ST_UNAVAILABLE
               && !st_db_conn (call->server->db));
}

static void
s_reset_call (st_call_t *call)
{
    s_pending_clear (call);
    call->failed = false;
    call->db_failed = false;
    call->sqlstate[0] = 0;
    memset (&call->error, 0, sizeof call->error);
}

//  Whom a stored reply answers besides its peer: the actor the call acts as, each field
//  marked present or absent, hashed (keyed when the server seals: an account may be a phone).
static void
s_actor_hash (const st_call_t *call, uint8_t out[32])
{
    const msg_actor_t *a = call->actor;
    const char *parts[] = {a ? a->account : NULL, a ? a->role : NULL, a ? a->region : NULL,
                           a ? a->volunteer_id : NULL, a ? a->resident_id : NULL};
    size_t len = 1;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        len += 1 + (parts[i] ? strlen (parts[i]) + 1 : 0);
    uint8_t *buffer = st_malloc (len);
    size_t at = 0;
    buffer[at++] = a != NULL;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        buffer[at++] = parts[i] != NULL;
        if (parts[i]) {
            memcpy (buffer + at, parts[i], strlen (parts[i]) + 1);
            at += strlen (parts[i]) + 1;
        }
    }
    if (call->server->sealer)
        st_crypto_hash (call->server->sealer, "rpc_replies.actor", buffer, at, out);
    else
        crypto_generichash (out, 32, buffer, at, NULL, 0);
    free (buffer);
}

//  The associated data a stored reply is sealed with: it opens only as the reply to its id.
static void
s_reply_field (const st_call_t *call, char field[64])
{
    snprintf (field, 64, "rpc_replies.reply:%s", call->id_hex);
}

//  A copy of `size` bytes into *out (the caller's to free). Returns 0.
static int
s_copy (const uint8_t *data, size_t size, uint8_t **out, size_t *out_size)
{
    *out = st_malloc (size ? size : 1);
    memcpy (*out, data, size);
    *out_size = size;
    return 0;
}

//  What is stored of a reply frame: sealed when the server seals, else the frame itself.
//  Returns 0 with *out the caller's to free, or -1.
static int
s_reply_seal (const st_call_t *call, const uint8_t *data, size_t size, uint8_t **out,
              size_t *out_size)
{
    if (!call->server->sealer)
        return s_copy (data, size, out, out_size);
    char field[64];
    s_reply_field (call, field);
    return st_crypto_seal (call->server->sealer, field, data, size, out, out_size);
}

//  The reply frame a stored reply holds. Returns 0 with *data the caller's to free, or -1
//  when it does not open (another key, or tampered with).
static int
s_reply_open (const st_call_t *call, const uint8_t *stored, size_t stored_size, uint8_t **data,
              size_t *size)
{
    if (!call->server->sealer)
        return s_copy (stored, stored_size, data, size);
    char field[64];
    s_reply_field (call, field);
    return st_crypto_open_bytes (call->server->sealer, field, stored, stored_size, data, size);
}

//  Whether a reply to request `id` is stored now (a twin of the request committed it).
static bool
s_twin_stored (st_call_t *call, const uint8_t *id)
{
    st_params_t params = {0};
    st_params_bin (&params, id, 16);
    PGresult *res = NULL;
    st_error_t err;
    bool stored = st_db_exec (call->server->db, "rpc_reply_get", &params, &res, &err) == ST_OK
                  && PQntuples (res) == 1;
    PQclear (res);
    return stored;
}

//  A write op: the effect, its events and the stored reply commit together; a retry with
//  the same id, from the same peer as the same actor, gets the stored reply. Returns the
//  encoded reply frame in *data.
static void
s_run_write (st_call_t *call, const void *request, uint8_t **data, size_t *size)
{
    st_db_t *db = call->server->db;
    const uint8_t *id = call->envelope.id.data;
    uint8_t hash[32], actor[32];
    s_request_hash (call, hash);
    s_actor_hash (call, actor);
    for (int attempt = 1; attempt <= ST_WRITE_ATTEMPTS; attempt++) {
        s_reset_call (call);
        st_error_t err;
        bool retry;
        //  BEGIN and the look for a stored reply go together, in one round trip.
        PGresult *res;
        st_params_t params = {0};
        st_params_bin (&params, id, 16);
        st_db_step_t begin[] = {{.sql = "BEGIN"},
                                {.name = "rpc_reply_get", .params = &params, .result = &res}};
        size_t failed;
        st_status_t begun = st_db_pipeline (db, begin, 2, &failed, &err);
        st_params_clear (&params);
        if (begun != ST_OK && failed == 0) {
            st_call_fail (call, err.code, NULL, "%s", err.message);
            if (s_retryable (call))
                continue;
            break;
        }
        if (begun != ST_OK) {
            st_call_fail_db (call, begun, &err);
            goto rollback;
        }
        if (PQntuples (res) == 1) {
            //  Another op, body, peer or actor is another request: it hears a conflict, and
            //  the same one whichever differs, so that it learns nothing of the first.
            bool same = strcmp (PQgetvalue (res, 0, 0), call->envelope.op) == 0
                        && strcmp (PQgetvalue (res, 0, 3), call->peer) == 0;
            size_t hash_len = 0, actor_len = 0, reply_len = 0;
            unsigned char *stored_hash =
                PQunescapeBytea ((const unsigned char *) PQgetvalue (res, 0, 1), &hash_len);
            unsigned char *stored_actor =
                PQunescapeBytea ((const unsigned char *) PQgetvalue (res, 0, 4), &actor_len);
            same = same && stored_hash && hash_len == 32 && memcmp (stored_hash, hash, 32) == 0;
            same = same && stored_actor && actor_len == 32 && memcmp (stored_actor, actor, 32) == 0;
            unsigned char *stored =
                PQunescapeBytea ((const unsigned char *) PQgetvalue (res, 0, 2), &reply_len);
            PQfreemem (stored_hash);
            PQfreemem (stored_actor);
            PQclear (res);
            st_db_run (db, "COMMIT", NULL);
            if (!same || !stored) {
                PQfreemem (stored);
                st_call_fail (call, ST_CONFLICT, "id", ST_REPLAY_CONFLICT);
                break;
            }
            int opened = s_reply_open (call, stored, reply_len, data, size);
            PQfreemem (stored);
            if (opened) {
                st_log (ST_LOG_ERROR, call->id_hex, "stored reply for %s does not open",
                        call->envelope.op);
                st_call_fail (call, ST_INTERNAL, NULL, "internal error (logged as req=%s)",
                              call->id_hex);
                break;
            }
            st_log (ST_LOG_INFO, call->id_hex, "replayed stored reply for %s", call->envelope.op);
            return;
        }
        PQclear (res);
        uint8_t *body = NULL;
        size_t body_size = 0;
        if (s_run_handler (call, request, &body, &body_size))
            goto rollback;
        s_encode_reply (call, id, body, body_size, data, size);
        free (body);
        uint8_t *sealed = NULL;
        size_t sealed_size = 0;
        if (s_reply_seal (call, *data, *size, &sealed, &sealed_size)) {
            free (*data);
            *data = NULL;
            st_call_fail (call, ST_INTERNAL, NULL, "could not seal the reply of %s",
                          call->envelope.op);
            goto rollback;
        }
        st_params_bin (&params, id, 16);
        st_params_text (&params, call->envelope.op);
        st_params_bin (&params, hash, 32);
        st_params_bin_take (&params, sealed, sealed_size);
        st_params_text (&params, call->peer);
        st_params_bin (&params, actor, 32);
        //  The events kept back, the stored reply and COMMIT go together, in one round trip.
        st_db_step_t end[] = {{.name = "rpc_reply_put", .params = &params}, {.sql = "COMMIT"}};
        int sent = s_send_pending (call, end, 2, &failed);
        st_params_clear (&params);
        if (sent == 0)
            return;
        //  A concurrent twin of this request (another replica) stored its reply first: the
        //  next attempt replays it.
        bool twin = failed == 0 && strcmp (call->sqlstate, "23505") == 0;
        free (*data);
        *data = NULL;
        //  Judge before rolling back: ROLLBACK reconnects, and would hide a lost connection.
        retry = twin || s_retryable (call);
        st_db_run (db, "ROLLBACK", NULL);
        if (retry)
            continue;
        break;
    rollback:
        s_pending_clear (call);
        retry = s_retryable (call);
        st_db_run (db, "ROLLBACK", NULL);
        //  A refusal may be a concurrent twin's doing (the same id on another process, a
        //  caller's resend): the twin's effect, committed meanwhile, made the handler fail.
        //  Then the twin's stored reply is the answer, and the next attempt replays it.
        if (!retry && s_twin_stored (call, id))
            retry = true;
        if (!retry)
            break;
        st_log (ST_LOG_INFO, call->id_hex, "retrying %s after %s (attempt %d)", call->envelope.op,
                call->sqlstate, attempt);
    }
    s_pending_clear (call);
    s_encode_reply (call, id, NULL, 0, data, size);
}

//  The roles people have, the only ones the gateway may assert for them (architecture.md,
//  "Security"); the system's is an operator's alone.
static bool
s_people_role (const char *role)
{
    static const char *const roles[] = {"region_admin", "station_admin", "team_leader", "volunteer",
                                        "resident"};
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
        if (strcmp (role, roles[i]) == 0)
            return true;
    return false;
}

//  What makes a request the same request: who sent it, its id, the actor and the body.
static void
s_recent_key (const st_call_t *call, uint8_t key[32])
{
    crypto_generichash_state state;
    crypto_generichash_init (&state, NULL, 0, 32);
    crypto_generichash_update (&state, (const uint8_t *) call->peer, strlen (call->peer) + 1);
    crypto_generichash_update (&state, call->envelope.id.data, 16);
    const msg_actor_t *a = &call->envelope.actor;
    const char *parts[] = {a->account, a->role, a->region, a->volunteer_id, a->resident_id};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        crypto_generichash_update (&state, (const uint8_t *) (parts[i] ? parts[i] : ""),
                                   strlen (parts[i] ? parts[i] : "") + 1);
    uint8_t body[32];
    s_request_hash (call, body);
    crypto_generichash_update (&state, body, sizeof body);
    crypto_generichash_final (&state, key, 32);
}

//  The reply already sent to this very request within S_RECENT_MS, or NULL.
static const s_recent_t *
s_recent_find (st_server_t *self, const uint8_t key[32])
{
    int64_t now = st_clock_ms ();
    for (size_t i = 0; i < S_RECENT; i++) {
        const s_recent_t *r = &self->recent[i];
        if (r->data && now - r->at < S_RECENT_MS && memcmp (r->key, key, 32) == 0)
            return r;
    }
    return NULL;
}

static void
s_recent_keep (st_server_t *self, const uint8_t key[32], const uint8_t *data, size_t size)
{
    s_recent_t *r = &self->recent[self->recent_next];
    self->recent_next = (self->recent_next + 1) % S_RECENT;
    free (r->data);
    memcpy (r->key, key, 32);
    r->at = st_clock_ms ();
    r->data = st_malloc (size);
    memcpy (r->data, data, size);
    r->size = size;
}

//  Runs a read op, once more on a fresh connection if the first died. The encoded reply
//  frame into *data.
static void
s_run_read_once (st_call_t *call, const void *request, const uint8_t id[16], uint8_t **data,
                 size_t *size)
{
    uint8_t *reply_body = NULL;
    size_t reply_size = 0;
    s_run_handler (call, request, &reply_body, &reply_size);
    if (call->failed && s_retryable (call)) {
        //  A read on a connection that died: once more on a fresh one.
        free (reply_body);
        reply_body = NULL;
        s_reset_call (call);
        s_run_handler (call, request, &reply_body, &reply_size);
    }
    s_encode_reply (call, id, reply_body, reply_size, data, size);
    free (reply_body);
}

//  Copies the reply kept in s_recent for this very request into *data; false when none.
static bool
s_recent_copy (st_server_t *self, const uint8_t key[32], uint8_t **data, size_t *size)
{
    const s_recent_t *recent = s_recent_find (self, key);
    if (!recent)
        return false;
    *data = st_malloc (recent->size);
    memcpy (*data, recent->data, recent->size);
    *size = recent->size;
    return true;
}

//  A read op: answered again from s_recent when this very request was answered a moment ago
//  (returns true), else run and kept there. The encoded reply frame into *data.
static bool
s_run_read (st_call_t *call, const void *request, const uint8_t id[16], uint8_t **data,
            size_t *size)
{
    st_server_t *self = call->server;
    uint8_t key[32];
    s_recent_key (call, key);
    if (s_recent_copy (self, key, data, size))
        return true;
    s_run_read_once (call, request, id, data, size);
    s_recent_keep (self, key, *data, *size);
    return false;
}

//  One line per answered request.
static void
s_log_done (const st_call_t *call, bool replayed, int64_t started)
{
    //  The caller's trace (the HTTP request id) only as the gateway makes it: a log line is
    //  no place for what a peer chose to write.
    const char *trace = call->envelope.trace;
    bool loggable = trace != NULL;
    for (const char *p = trace; loggable && *p; p++)
        loggable = isalnum ((unsigned char) *p) || *p == '.' || *p == '_' || *p == '-';
    st_log (call->failed ? ST_LOG_INFO : ST_LOG_DEBUG, call->id_hex,
            "op=%s peer=%s%s%s %s%s%s%s ms=%lld", call->envelope.op, call->peer,
            loggable ? " trace=" : "", loggable ? trace : "",
            call->failed ? st_status_name (call->error.code) : "ok", call->failed ? ": " : "",
            call->failed ? call->error.message : "", replayed ? " (resent: answered again)" : "",
            (long long) (st_clock_ms () - started));
}

//  ---------------------------------------------------------------------------------------
//  The worker pools: slow ops (ST_OP_SLOW) run on worker threads, each with its own database
//  connection, while the loop goes on answering the rest; fast reads (ops without
//  ST_OP_WRITE) run on a second pool of their own (st_server_start_readers), so that one
//  connection's round trips no longer bound the reads a service answers, and a slow op never
//  holds up a read. Writes stay on the loop's connection, one at a time, in order. The loop
//  alone touches the ROUTER socket and s_recent: it queues a whole request (a job) for a
//  pool, whose workers take jobs from the queue as long as it holds any, and sends the reply
//  a worker hands back on a list both pools share, with an eventfd to wake the loop. No
//  socket or pipe per job: a hand-over is a list append under a lock, and it wakes a thread
//  only when that thread sleeps (one context switch each way at most, none when busy).

#define S_POOL_QUEUE   1000 //  requests waiting for a worker of one pool, at most
#define S_POOL_RESENDS 16   //  resends of one request that wait for its reply, at most

//  The bytes of request frames waiting for a worker, at most (st_server_set_pool_bytes): the
//  count alone would let 1,000 import frames of 4 MB hold 4 GB. A request that would go past
//  either bound is refused at once (resource_exhausted), never queued; one alone always
//  waits, whatever its size (the frame-size cap bounds it).
static size_t s_pool_max_bytes = ST_SERVER_POOL_BYTES;

void
st_server_set_pool_bytes (size_t bytes)
{
    s_pool_max_bytes = bytes;
}

//  A request on its way through a worker: everything its call borrows, owned.
typedef struct {
    st_call_t call;
    zframe_t *identity;
    //  The same request resent meanwhile: a client that timed out reconnects and sends it
    //  again from a new socket, which must hear the reply too.
    zframe_t *resent[S_POOL_RESENDS];
    size_t resent_count;
    zframe_t *payload; //  the envelope's body points into it
    st_unpacked_t unpacked;
    void *request;
    uint8_t key[32]; //  s_recent_key: a resend while this runs is the same request
    int64_t started;
    uint8_t *data; //  the encoded reply frame, once run
    size_t size;
    struct s_pool_s *pool; //  the pool that runs it
} s_job_t;

//  What the workers of both pools ran, back to the loop: a list under a lock, and an eventfd
//  the loop polls, written when the list stops being empty (so a loop that is busy anyway
//  costs the workers no wake-up, and a burst one).
typedef struct s_done_s {
    pthread_mutex_t lock;
    zlist_t *jobs; //  s_job_t, run, in the order they finished
    int fd;        //  eventfd
} s_done_t;

typedef struct {
    st_server_t view; //  the server as the worker's calls see it: the worker's connection
    pthread_t thread;
    bool started;
    struct s_pool_s *pool;
} s_worker_t;

//  The workers take jobs from the queue themselves, and go on while it holds any: handing a
//  job over is a list append, and a wake-up only when a worker sleeps.
typedef struct s_pool_s {
    s_worker_t *workers;
    size_t count;
    s_done_t *done;
    //  Under `lock`, shared with the workers:
    pthread_mutex_t lock;
    pthread_cond_t wake; //  signalled when a job comes and a worker sleeps, or at the end
    zlist_t *queue;      //  jobs waiting for a worker, first come first served
    size_t queued_bytes; //  the payloads of those jobs
    size_t sleeping;     //  workers waiting on `wake`
    bool stop;
    //  The loop's alone: every job handed over and not answered yet, waiting or running.
    zlist_t *taken;
} s_pool_t;

//  A request that waits behind a read of the same client still running on a reader: a client
//  that sends several requests without waiting hears them answered, and run, in order.
typedef struct {
    zframe_t *identity;
    zframe_t *payload;
} s_held_t;

static void
s_job_destroy (s_job_t **job_p)
{
    s_job_t *job = *job_p;
    if (!job)
        return;
    const st_op_desc_t *op = job->call.entry->op;
    if (job->request) {
        st_msg_clear (op->request, job->request);
        free (job->request);
    }
    st_msg_clear (&msg_request_desc, &job->call.envelope);
    st_unpacked_destroy (&job->unpacked);
    zframe_destroy (&job->payload);
    zframe_destroy (&job->identity);
    for (size_t i = 0; i < job->resent_count; i++)
        zframe_destroy (&job->resent[i]);
    free (job->data);
    free (job);
    *job_p = NULL;
}

//  Runs a job on a worker's connection: what s_dispatch would run on the loop's.
static void
s_job_run (s_job_t *job, st_server_t *view)
{
    st_call_t *call = &job->call;
    call->server = view;
    const uint8_t *id = call->envelope.id.data;
    //  It may have waited for a worker past the caller's patience.
    if (call->envelope.has_deadline && call->envelope.deadline < st_now_ms ())
        st_call_fail (call, ST_UNAVAILABLE, "deadline", "request deadline has passed");
    else if (call->entry->op->flags & ST_OP_WRITE)
        s_run_write (call, job->request, &job->data, &job->size);
    else
        s_run_read_once (call, job->request, id, &job->data, &job->size);
    if (!job->data)
        s_encode_reply (call, id, NULL, 0, &job->data, &job->size);
}

//  Hands a job run back to the loop; wakes it when it may be asleep (the list was empty).
static void
s_done_push (s_done_t *done, s_job_t *job)
{
    pthread_mutex_lock (&done->lock);
    bool first = zlist_size (done->jobs) == 0;
    zlist_append (done->jobs, job);
    pthread_mutex_unlock (&done->lock);
    uint64_t one = 1;
    if (first && write (done->fd, &one, sizeof one) != sizeof one)
        st_error ("worker could not wake the loop for req=%s: %s", job->call.id_hex,
                  strerror (errno));
}

//  A worker: runs the pool's jobs one after another while there are any, sleeps while there
//  are none, until the pool stops (after the job it runs).
static void *
s_worker_main (void *args)
{
    s_worker_t *worker = args;
    s_pool_t *pool = worker->pool;
    pthread_mutex_lock (&pool->lock);
    while (!pool->stop) {
        s_job_t *job = zlist_pop (pool->queue);
        if (!job) {
            pool->sleeping++;
            pthread_cond_wait (&pool->wake, &pool->lock);
            pool->sleeping--;
            continue;
        }
        pool->queued_bytes -= zframe_size (job->payload);
        pthread_mutex_unlock (&pool->lock);
        s_job_run (job, &worker->view);
        s_done_push (pool->done, job);
        pthread_mutex_lock (&pool->lock);
    }
    pthread_mutex_unlock (&pool->lock);
    st_db_thread_end (); //  its connection is closed by the loop, after the thread ends
    return NULL;
}

//  The list and the eventfd on which the workers of both pools hand back what they ran.
//  Returns 0 or -1.
static int
s_done_new (st_server_t *self, st_error_t *err)
{
    if (self->done)
        return 0;
    int fd = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd == -1)
        return st_error_set (err, ST_INTERNAL, NULL, "could not make the worker pool: %s",
                             strerror (errno)),
               -1;
    self->done = st_calloc (1, sizeof (s_done_t));
    pthread_mutex_init (&self->done->lock, NULL);
    self->done->jobs = zlist_new ();
    self->done->fd = fd;
    self->held = zlist_new ();
    return 0;
}

//  A pool of `count` workers, each with a connection of its own.
static s_pool_t *
s_pool_new (st_server_t *self, size_t count)
{
    s_pool_t *pool = st_calloc (1, sizeof *pool);
    pool->queue = zlist_new ();
    pool->taken = zlist_new ();
    pool->done = self->done;
    pthread_mutex_init (&pool->lock, NULL);
    pthread_cond_init (&pool->wake, NULL);
    pool->workers = st_calloc (count, sizeof (s_worker_t));
    for (size_t i = 0; i < count; i++) {
        s_worker_t *worker = &pool->workers[i];
        //  A view of the server that shares its tables and state and has a connection of
        //  its own, with every statement registered on the loop's.
        worker->view = *self;
        memset (worker->view.recent, 0, sizeof worker->view.recent);
        worker->view.router = NULL;
        worker->view.db = st_db_clone (self->db);
        worker->pool = pool;
        pool->count++;
    }
    for (size_t i = 0; i < count; i++) {
        s_worker_t *worker = &pool->workers[i];
        worker->started = pthread_create (&worker->thread, NULL, s_worker_main, worker) == 0;
        if (!worker->started)
            st_error ("could not start a worker thread: %s", strerror (errno));
    }
    return pool;
}

int
st_server_start_workers (st_server_t *self, size_t count, st_error_t *err)
{
    assert (!self->pool);
    if (count == 0)
        return 0;
    if (s_done_new (self, err))
        return -1;
    self->pool = s_pool_new (self, count);
    return 0;
}

int
st_server_start_readers (st_server_t *self, size_t count, st_error_t *err)
{
    assert (!self->readers);
    if (count == 0)
        return 0;
    if (s_done_new (self, err))
        return -1;
    self->readers = s_pool_new (self, count);
    return 0;
}

//  Stops a pool's workers, each after the job it runs.
static void
s_pool_stop (s_pool_t *pool)
{
    if (!pool)
        return;
    pthread_mutex_lock (&pool->lock);
    pool->stop = true;
    pthread_cond_broadcast (&pool->wake);
    pthread_mutex_unlock (&pool->lock);
    for (size_t i = 0; i < pool->count; i++)
        if (pool->workers[i].started)
            pthread_join (pool->workers[i].thread, NULL);
}

//  Drops what never ran, and frees the pool.
static void
s_pool_free (s_pool_t **pool_p)
{
    s_pool_t *pool = *pool_p;
    if (!pool)
        return;
    for (size_t i = 0; i < pool->count; i++)
        st_db_destroy (&pool->workers[i].view.db);
    //  Every job is in `taken` until answered: those still queued, and those run and not
    //  sent, are freed from there (the queue and the done list only borrow them).
    s_job_t *job;
    while ((job = zlist_pop (pool->taken)))
        s_job_destroy (&job);
    zlist_destroy (&pool->queue);
    zlist_destroy (&pool->taken);
    pthread_cond_destroy (&pool->wake);
    pthread_mutex_destroy (&pool->lock);
    free (pool->workers);
    free (pool);
    *pool_p = NULL;
}

//  Stops the workers of both pools, and drops what never ran or was never sent.
static void
s_pools_destroy (st_server_t *self)
{
    s_pool_stop (self->pool);
    s_pool_stop (self->readers);
    s_pool_free (&self->pool);
    s_pool_free (&self->readers);
    s_held_t *held;
    while (self->held && (held = zlist_pop (self->held))) {
        zframe_destroy (&held->identity);
        zframe_destroy (&held->payload);
        free (held);
    }
    zlist_destroy (&self->held);
    if (self->done) {
        zlist_destroy (&self->done->jobs);
        pthread_mutex_destroy (&self->done->lock);
        close (self->done->fd);
        free (self->done);
        self->done = NULL;
    }
}

int
st_server_pool_fd (st_server_t *self)
{
    return self->done ? self->done->fd : -1;
}

//  Sends a job's reply on the ROUTER, keeps a read's in s_recent, logs it and frees the job.
static void
s_job_answer (st_server_t *self, s_job_t **job_p, bool replayed)
{
    s_job_t *job = *job_p;
    if (!replayed && !(job->call.entry->op->flags & ST_OP_WRITE))
        s_recent_keep (self, job->key, job->data, job->size);
    s_send (self, job->identity, job->data, job->size);
    job->identity = NULL; //  s_send took it
    for (size_t i = 0; i < job->resent_count; i++) {
        s_send (self, job->resent[i], job->data, job->size);
        job->resent[i] = NULL;
    }
    s_log_done (&job->call, replayed, job->started);
    s_job_destroy (job_p);
}

//  The job of this very request (when this is a resend) waiting or running, or NULL.
static s_job_t *
s_pool_holds (s_pool_t *pool, const uint8_t key[32])
{
    for (s_job_t *job = zlist_first (pool->taken); job; job = zlist_next (pool->taken))
        if (memcmp (job->key, key, 32) == 0)
            return job;
    return NULL;
}

//  Whether a read of the client at `identity` waits for a reader or runs on one.
static bool
s_reading (st_server_t *self, zframe_t *identity)
{
    s_pool_t *pool = self->readers;
    if (!pool)
        return false;
    for (s_job_t *job = zlist_first (pool->taken); job; job = zlist_next (pool->taken))
        if (job->identity && zframe_eq (job->identity, identity))
            return true;
    return false;
}

//  Queues a job for the pool's workers, waking one if one sleeps. Returns 0, or -1 when the
//  queue is full (S_POOL_QUEUE jobs, or the bytes st_server_set_pool_bytes allows) and the
//  job is still the caller's.
static int
s_pool_take (s_pool_t *pool, s_job_t *job)
{
    size_t bytes = zframe_size (job->payload);
    pthread_mutex_lock (&pool->lock);
    size_t waiting = zlist_size (pool->queue);
    bool full =
        waiting >= S_POOL_QUEUE || (waiting && pool->queued_bytes + bytes > s_pool_max_bytes);
    bool wake = !full && pool->sleeping;
    if (!full) {
        zlist_append (pool->queue, job);
        pool->queued_bytes += bytes;
    }
    pthread_mutex_unlock (&pool->lock);
    //  After the unlock: a worker woken under the lock would block on it at once.
    if (wake)
        pthread_cond_signal (&pool->wake);
    if (full)
        return -1;
    zlist_append (pool->taken, job);
    return 0;
}

//  Hands an op to a pool, which takes over the request, the frames and the envelope the call
//  holds: a worker runs it and the loop answers it (st_server_handle). A read answered a
//  moment ago is answered again here; a resend of a request still waiting or running waits
//  for its reply instead of running twice; a full queue (S_POOL_QUEUE jobs, or the bytes
//  st_server_set_pool_bytes allows) refuses it.
static void
s_pool_submit (st_server_t *self, s_pool_t *pool, st_call_t *call, zframe_t **identity_p,
               zframe_t **payload_p, st_unpacked_t *unpacked, void **request_p, int64_t started)
{
    s_job_t *job = st_calloc (1, sizeof *job);
    job->call = *call;
    //  The call points into itself: make its copy point into the copy.
    if (call->actor == &call->envelope.actor)
        job->call.actor = &job->call.envelope.actor;
    else if (call->actor == &call->default_actor) {
        job->call.actor = &job->call.default_actor;
        job->call.default_actor.account = job->call.peer;
    }
    memset (&call->envelope, 0, sizeof call->envelope); //  the job's now
    job->identity = *identity_p;
    *identity_p = NULL;
    job->payload = *payload_p;
    *payload_p = NULL;
    job->unpacked = *unpacked;
    unpacked->live = false;
    job->request = *request_p;
    *request_p = NULL;
    job->started = started;
    job->pool = pool;
    s_recent_key (&job->call, job->key);

    bool write = job->call.entry->op->flags & ST_OP_WRITE;
    s_job_t *first = s_pool_holds (pool, job->key);
    if (!write && s_recent_copy (self, job->key, &job->data, &job->size))
        s_job_answer (self, &job, true);
    else if (first) {
        st_log (ST_LOG_DEBUG, job->call.id_hex, "op=%s peer=%s resent: waits for the first",
                job->call.envelope.op, job->call.peer);
        if (first->resent_count < S_POOL_RESENDS) {
            first->resent[first->resent_count++] = job->identity;
            job->identity = NULL;
        }
        s_job_destroy (&job);
    } else if (s_pool_take (pool, job)) {
        st_call_fail (&job->call, ST_RESOURCE_EXHAUSTED, NULL,
                      "too many %s requests are waiting: try again later",
                      pool == self->readers ? "read" : "slow");
        s_encode_reply (&job->call, job->call.envelope.id.data, NULL, 0, &job->data, &job->size);
        s_job_answer (self, &job, false);
    }
}

static void s_dispatch (st_server_t *self, zframe_t *identity, zframe_t *payload, bool refuse);

//  Whether a request of the client at `identity` must wait behind one of its reads: one runs
//  or waits for a reader, or another of its requests waits already.
static bool
s_must_wait (st_server_t *self, zframe_t *identity)
{
    if (!self->readers)
        return false;
    for (s_held_t *held = zlist_first (self->held); held; held = zlist_next (self->held))
        if (zframe_eq (held->identity, identity))
            return true;
    return s_reading (self, identity);
}

//  Runs the requests that waited behind their client's reads, in order, once those are done.
static void
s_held_release (st_server_t *self)
{
    if (!self->held || !zlist_size (self->held))
        return;
    zlist_t *still = zlist_new ();
    s_held_t *held;
    while ((held = zlist_pop (self->held))) {
        bool wait = s_reading (self, held->identity);
        for (s_held_t *other = zlist_first (still); other && !wait; other = zlist_next (still))
            wait = zframe_eq (other->identity, held->identity);
        if (wait)
            zlist_append (still, held);
        else {
            s_dispatch (self, held->identity, held->payload, false);
            free (held);
        }
    }
    zlist_destroy (&self->held);
    self->held = still;
}

//  Answers every job the workers have handed back, without blocking, and runs what waited
//  behind the reads answered.
static void
s_pool_handle (st_server_t *self)
{
    //  The wake-up first, then the list: a job handed back after the list is taken writes
    //  the eventfd again.
    uint64_t count;
    if (read (self->done->fd, &count, sizeof count) == -1 && errno != EAGAIN)
        st_error ("could not read the worker pool's eventfd: %s", strerror (errno));
    pthread_mutex_lock (&self->done->lock);
    zlist_t *jobs = NULL;
    if (zlist_size (self->done->jobs)) {
        jobs = self->done->jobs;
        self->done->jobs = zlist_new ();
    }
    pthread_mutex_unlock (&self->done->lock);
    s_job_t *job;
    while (jobs && (job = zlist_pop (jobs))) {
        zlist_remove (job->pool->taken, job);
        job->call.server = self;
        s_job_answer (self, &job, false);
    }
    zlist_destroy (&jobs);
    s_held_release (self);
}

//  Answers one request, or hands a slow one or a read to a pool; `refuse`: too many requests
//  wait behind their clients' reads, and this one is refused. Takes both frames over.
static void
s_dispatch (st_server_t *self, zframe_t *identity, zframe_t *payload, bool refuse)
{
    st_call_t call = {.server = self};
    st_error_t err = {0};
    st_unpacked_t unpacked;
    uint8_t id[16] = {0};
    int64_t started = st_clock_ms ();

    //  The peer as the ZAP handler vouched for it.
    const char *name = zframe_meta (payload, "name");
    const char *role = zframe_meta (payload, "role");
    snprintf (call.peer, sizeof call.peer, "%s", name ? name : "?");
    call.peer_role = st_keys_role_bit (role);

    if (st_unpack (zframe_data (payload), zframe_size (payload), &unpacked, &err)) {
        st_warn ("dropped a frame from peer \"%s\": %s", call.peer, err.message);
        zframe_destroy (&identity);
        zframe_destroy (&payload);
        return;
    }
    if (st_decode_object (&msg_request_desc, &unpacked.unpacked.data, &call.envelope, &err)) {
        if (s_salvage_id (&unpacked.unpacked.data, id)) {
            st_call_fail (&call, err.code, err.field, "%s", err.message);
            s_send_error (self, identity, id, &call);
        } else {
            st_warn ("dropped a request from peer \"%s\": %s", call.peer, err.message);
            zframe_destroy (&identity);
        }
        st_unpacked_destroy (&unpacked);
        zframe_destroy (&payload);
        return;
    }
    memcpy (id, call.envelope.id.data, 16);
    st_id_hex (id, call.id_hex);

    const st_op_desc_t *op = NULL;
    for (size_t i = 0; i < self->entry_count; i++)
        if (strcmp (self->entries[i].op->name, call.envelope.op) == 0) {
            call.entry = &self->entries[i];
            op = call.entry->op;
        }
    void *request = NULL;
    uint8_t *data = NULL;
    size_t size = 0;
    bool replayed = false;
    if (!op)
        st_call_fail (&call, ST_INVALID_ARGUMENT, "op", "service \"%s\" has no op \"%s\"",
                      self->service, call.envelope.op);
    else if (!(op->peers & call.peer_role))
        st_call_fail (&call, ST_PERMISSION_DENIED, "op", "peer \"%s\" may not call \"%s\"",
                      call.peer, op->name);
    else if (call.envelope.has_actor && !(call.peer_role & (ST_PEER_GATEWAY | ST_PEER_OPERATOR)))
        st_call_fail (&call, ST_PERMISSION_DENIED, "actor",
                      "only the gateway and operators may assert an actor");
    else if (call.envelope.has_actor && call.peer_role == ST_PEER_GATEWAY
             && !s_people_role (call.envelope.actor.role)) {
        st_warn ("peer \"%s\" asserted role \"%s\": refused", call.peer, call.envelope.actor.role);
        st_call_fail (&call, ST_PERMISSION_DENIED, "actor.role",
                      "the gateway may assert only the roles people have, not \"%s\"",
                      call.envelope.actor.role);
    }
    //  An official acts in a region: one with none, or a malformed one, would read as the
    //  whole country wherever an op narrows by the actor's region.
    else if (call.envelope.has_actor && st_actor_is_official (&call.envelope.actor)
             && (!call.envelope.actor.region || st_region_level (call.envelope.actor.region) < 0))
        st_call_fail (&call, ST_PERMISSION_DENIED, "actor.region",
                      "an official acts in a region: \"%s\" is no statistical division code",
                      call.envelope.actor.region ? call.envelope.actor.region : "");
    else if (call.envelope.has_deadline && call.envelope.deadline < st_now_ms ())
        st_call_fail (&call, ST_UNAVAILABLE, "deadline", "request deadline has passed");
    else if (refuse)
        st_call_fail (&call, ST_RESOURCE_EXHAUSTED, NULL,
                      "too many requests are waiting: try again later");
    if (!call.failed) {
        if (call.envelope.has_actor)
            call.actor = &call.envelope.actor;
        else if (call.peer_role == ST_PEER_OPERATOR) {
            //  An operator acts as the system unless it says otherwise.
            call.default_actor.account = call.peer;
            call.default_actor.role = "system";
            call.actor = &call.default_actor;
        }
        request = st_calloc (1, op->request->size);
        msgpack_object empty = {.type = MSGPACK_OBJECT_MAP};
        const msgpack_object *body = call.envelope.body.object ? call.envelope.body.object : &empty;
        if (st_decode_object (op->request, body, request, &err))
            st_call_fail (&call, err.code, err.field, "%s", err.message);
        else if ((op->flags & ST_OP_SLOW) && self->pool) {
            s_pool_submit (self, self->pool, &call, &identity, &payload, &unpacked, &request,
                           started);
            return;
        } else if (!(op->flags & ST_OP_WRITE) && self->readers) {
            s_pool_submit (self, self->readers, &call, &identity, &payload, &unpacked, &request,
                           started);
            return;
        } else if (op->flags & ST_OP_WRITE)
            s_run_write (&call, request, &data, &size);
        else
            replayed = s_run_read (&call, request, id, &data, &size);
    }
    if (!data)
        s_encode_reply (&call, id, NULL, 0, &data, &size);
    s_send (self, identity, data, size);
    s_log_done (&call, replayed, started);
    free (data);
    if (request) {
        st_msg_clear (op->request, request);
        free (request);
    }
    st_msg_clear (&msg_request_desc, &call.envelope);
    st_unpacked_destroy (&unpacked);
    zframe_destroy (&payload);
}

void
st_server_handle (st_server_t *self)
{
    if (self->done)
        s_pool_handle (self);
    //  Bounded per wake-up, so a flood cannot starve the rest of the loop.
    for (int i = 0; i < 1000; i++) {
        zmsg_t *msg = zmsg_recv_nowait (self->router);
        if (!msg)
            return;
        if (zmsg_size (msg) == 2) {
            zframe_t *identity = zmsg_pop (msg);
            zframe_t *payload = zmsg_pop (msg);
            //  A client's requests run in the order it sent them: one that comes while a read
            //  of the same client is with a reader waits for it (and is refused when too many
            //  wait already).
            if (s_must_wait (self, identity)) {
                if (zlist_size (self->held) < S_POOL_QUEUE) {
                    s_held_t *held = st_calloc (1, sizeof *held);
                    held->identity = identity;
                    held->payload = payload;
                    zlist_append (self->held, held);
                } else
                    s_dispatch (self, identity, payload, true);
            } else
                s_dispatch (self, identity, payload, false);
        }
        zmsg_destroy (&msg);
    }
}

//  ---------------------------------------------------------------------------------------
//  Common ops

static void
s_sys_ping (st_call_t *call, const void *request, void *reply_)
{
    msg_pong_t *reply = reply_;
    reply->service = st_strdup (call->server->service);
    reply->version = st_strdup ("0.1.0");
    reply->peer = st_strdup (call->peer);
    reply->now = st_now_ms ();
    reply->has_now = true;
}

static void
s_events_read (st_call_t *call, const void *request_, void *reply_)
{
    const msg_events_read_t *request = request_;
    msg_events_t *reply = reply_;
    PGresult *res;
    if (st_call_exec (call, "outbox_last", NULL, &res))
        return;
    reply->last_seq = PQntuples (res) ? atoll (PQgetvalue (res, 0, 0)) : 0;
    reply->has_last_seq = true;
    PQclear (res);
    st_params_t params = {0};
    st_params_int (&params, request->after);
    st_params_int (&params, request->has_max ? request->max : 500);
    if (st_call_exec (call, "outbox_read", &params, &res))
        return;
    int rows = PQntuples (res);
    reply->events.items = st_calloc (rows, sizeof (msg_event_t));
    reply->has_events = true;
    for (int i = 0; i < rows; i++) {
        msg_event_t *event = &reply->events.items[i];
        reply->events.count = i + 1;
        event->seq = atoll (PQgetvalue (res, i, 0));
        event->has_seq = true;
        event->topic = st_strdup (PQgetvalue (res, i, 1));
        event->at = atoll (PQgetvalue (res, i, 2));
        event->has_at = true;
        size_t len;
        unsigned char *body =
            PQunescapeBytea ((const unsigned char *) PQgetvalue (res, i, 3), &len);
        event->body.data = st_malloc (len);
        memcpy (event->body.data, body, len);
        event->body.size = len;
        PQfreemem (body);
    }
    PQclear (res);
}

//  events.lag: the head of the service's own log and its cursors in the logs it reads.
static void
s_events_lag (st_call_t *call, const void *request, void *reply_)
{
    (void) request;
    msg_events_lag_t *reply = reply_;
    if (st_call_exec_reply (call, "events_lag", NULL, &msg_events_lag_desc, reply))
        return;
    PGresult *res;
    if (st_call_exec (call, "cursor_list", NULL, &res))
        return;
    st_rows_to_list (res, &msg_cursor_desc, (st_list_t *) &reply->cursors, &reply->has_cursors);
    PQclear (res);
}

static void
s_events_parked (st_call_t *call, const void *request, void *reply_)
{
    msg_parked_t *reply = reply_;
    PGresult *res;
    if (st_call_exec (call, "parked_list", NULL, &res))
        return;
    st_rows_to_list (res, &msg_parked_event_desc, (st_list_t *) &reply->events, &reply->has_events);
    PQclear (res);
    if (st_call_exec (call, "cursor_list", NULL, &res))
        return;
    st_rows_to_list (res, &msg_cursor_desc, (st_list_t *) &reply->cursors, &reply->has_cursors);
    PQclear (res);
}
