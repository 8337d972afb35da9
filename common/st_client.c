/*  st_client.c — the rpc client (Lazy Pirate over a CURVE DEALER)  */
#include "st_client.h"
#include "st_keys.h"
#include "st_log.h"

#include <sodium.h>
#include <string.h>

struct st_client_s {
    char *endpoint;
    zcert_t *own;
    char *server_key;
    zsock_t *dealer;
    int retry_ms;
    bool replicas;  //  the endpoint is a list: one service's processes
    void *cancel;   //  a socket whose input ends a call early (an actor's pipe), or NULL
    char trace[65]; //  the next calls' trace ("" for none)
};

//  A new DEALER connected to every endpoint of the list: calls go round the replicas that
//  are connected (ZMQ_IMMEDIATE: none is queued for a replica not yet, or no longer, there).
static void
s_connect (st_client_t *self)
{
    zsock_destroy (&self->dealer);
    self->dealer = zsock_new (ZMQ_DEALER);
    st_keys_client (self->dealer, self->own, self->server_key);
    zsock_set_linger (self->dealer, 0);
    zsock_set_maxmsgsize (self->dealer, 64 * 1024 * 1024);
    if (self->replicas)
        zsock_set_immediate (self->dealer, 1);
    char endpoints[1024];
    snprintf (endpoints, sizeof endpoints, "%s", self->endpoint);
    char *rest = endpoints, *one;
    while ((one = strsep (&rest, ",")))
        if (*one)
            zsock_connect (self->dealer, "%s", one);
}

st_client_t *
st_client_new (const char *endpoint, zcert_t *own, const char *server_public_txt)
{
    st_client_t *self = st_calloc (1, sizeof *self);
    self->endpoint = st_strdup (endpoint);
    self->replicas = strchr (endpoint, ',') != NULL;
    self->own = own;
    self->server_key = st_strdup (server_public_txt);
    self->retry_ms = 1000;
    s_connect (self);
    return self;
}

void
st_client_destroy (st_client_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    st_client_t *self = *self_p;
    zsock_destroy (&self->dealer);
    free (self->endpoint);
    free (self->server_key);
    free (self);
    *self_p = NULL;
}

void
st_client_set_retry (st_client_t *self, int retry_ms)
{
    self->retry_ms = retry_ms > 0 ? retry_ms : 1000;
}

void
st_client_set_cancel (st_client_t *self, zsock_t *cancel)
{
    self->cancel = cancel ? zsock_resolve (cancel) : NULL;
}

void
st_client_set_trace (st_client_t *self, const char *trace)
{
    snprintf (self->trace, sizeof self->trace, "%s", trace ? trace : "");
}

static void
s_envelope (const char *op, const msg_actor_t *actor, const uint8_t *id, int64_t deadline,
            const char *trace, const uint8_t *body, size_t body_size, uint8_t **frame, size_t *size)
{
    msg_request_t request = {0};
    request.trace = trace && *trace ? (char *) trace : NULL;
    request.v = ST_PROTO_VERSION;
    request.has_v = true;
    request.id.data = (uint8_t *) id;
    request.id.size = 16;
    request.op = (char *) op;
    if (actor) {
        request.actor = *actor;
        request.has_actor = true;
    }
    request.deadline = deadline;
    request.has_deadline = deadline > 0;
    request.body.data = body;
    request.body.size = body_size;
    //  Everything in `request` is borrowed: not cleared.
    st_encode (&msg_request_desc, &request, frame, size);
}

void
st_client_envelope (const char *op, const msg_actor_t *actor, const uint8_t *id, int64_t deadline,
                    const uint8_t *body, size_t body_size, uint8_t **frame, size_t *size)
{
    s_envelope (op, actor, id, deadline, NULL, body, body_size, frame, size);
}

st_status_t
st_client_decode_reply (const uint8_t *frame, size_t size, const st_desc_t *reply_desc, void *reply,
                        st_error_t *err)
{
    st_unpacked_t unpacked;
    msg_reply_t envelope;
    if (st_unpack (frame, size, &unpacked, err))
        return ST_INTERNAL;
    st_status_t rc = ST_OK;
    //  (A decoding error is copied before err is written again: the text cannot be both.)
    st_error_t why;
    if (st_decode_object (&msg_reply_desc, &unpacked.unpacked.data, &envelope, &why))
        rc = st_error_set (err, ST_INTERNAL, NULL, "reply does not decode: %s", why.message);
    else if (!envelope.ok) {
        st_status_t code = ST_INTERNAL;
        if (envelope.has_error) {
            st_status_parse (envelope.error.code, strlen (envelope.error.code), &code);
            rc = st_error_set (err, code, envelope.error.field, "%s", envelope.error.message);
        } else
            rc = st_error_set (err, ST_INTERNAL, NULL, "reply says not ok without an error");
    } else if (reply_desc) {
        msgpack_object empty = {.type = MSGPACK_OBJECT_MAP};
        const msgpack_object *body = envelope.body.object ? envelope.body.object : &empty;
        if (st_decode_object (reply_desc, body, reply, &why))
            rc = st_error_set (err, ST_INTERNAL, why.field, "reply body does not decode: %s",
                               why.message);
    }
    st_msg_clear (&msg_reply_desc, &envelope);
    st_unpacked_destroy (&unpacked);
    return rc;
}

//  Returns true when a reply frame carries the id we wait for.
static bool
s_reply_matches (const uint8_t *frame, size_t size, const uint8_t *id)
{
    st_unpacked_t unpacked;
    if (st_unpack (frame, size, &unpacked, NULL))
        return false;
    bool match = false;
    const msgpack_object *root = &unpacked.unpacked.data;
    for (uint32_t i = 0; i < root->via.map.size; i++) {
        const msgpack_object_kv *kv = &root->via.map.ptr[i];
        if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == 2
            && memcmp (kv->key.via.str.ptr, "id", 2) == 0 && kv->val.type == MSGPACK_OBJECT_BIN
            && kv->val.via.bin.size == 16)
            match = memcmp (kv->val.via.bin.ptr, id, 16) == 0;
    }
    st_unpacked_destroy (&unpacked);
    return match;
}

st_status_t
st_client_call_raw (st_client_t *self, const uint8_t *frame, size_t size, const uint8_t *id,
                    int timeout_ms, uint8_t **reply_frame, size_t *reply_size, st_error_t *err)
{
    int64_t deadline = st_clock_ms () + timeout_ms;
    int attempts = 0;
    while (st_clock_ms () < deadline) {
        if (attempts++ > 0)
            s_connect (self); //  drop whatever the old socket still queued
        int64_t attempt_end = st_clock_ms () + self->retry_ms;
        if (attempt_end > deadline)
            attempt_end = deadline;
        //  With replicas, a request waits here until one of them is connected.
        zmq_pollitem_t ready[2] = {{zsock_resolve (self->dealer), 0, ZMQ_POLLOUT, 0},
                                   {self->cancel, 0, ZMQ_POLLIN, 0}};
        int64_t until_ready = attempt_end - st_clock_ms ();
        int polled =
            zmq_poll (ready, self->cancel ? 2 : 1, until_ready > 0 ? (long) until_ready : 0);
        if ((polled == -1 && zmq_errno () == EINTR)
            || (polled > 0 && ready[1].revents & ZMQ_POLLIN))
            return st_error_set (err, ST_UNAVAILABLE, NULL, "interrupted"), ST_UNAVAILABLE;
        if (!(ready[0].revents & ZMQ_POLLOUT))
            continue;
        zframe_t *out = zframe_new (frame, size);
        if (zframe_send (&out, self->dealer, ZFRAME_DONTWAIT) == -1) {
            zframe_destroy (&out);
            continue;
        }
        while (true) {
            int64_t wait = attempt_end - st_clock_ms ();
            if (wait <= 0)
                break;
            zmq_pollitem_t items[2] = {{zsock_resolve (self->dealer), 0, ZMQ_POLLIN, 0},
                                       {self->cancel, 0, ZMQ_POLLIN, 0}};
            int rc = zmq_poll (items, self->cancel ? 2 : 1, (long) wait);
            if ((rc == -1 && zmq_errno () == EINTR) || (rc > 0 && items[1].revents & ZMQ_POLLIN))
                return st_error_set (err, ST_UNAVAILABLE, NULL, "interrupted"), ST_UNAVAILABLE;
            if (rc <= 0 || !(items[0].revents & ZMQ_POLLIN))
                continue;
            zframe_t *in = zframe_recv (self->dealer);
            if (!in)
                continue;
            //  A late reply to an earlier request is discarded.
            if (s_reply_matches (zframe_data (in), zframe_size (in), id)) {
                *reply_size = zframe_size (in);
                *reply_frame = st_malloc (*reply_size);
                memcpy (*reply_frame, zframe_data (in), *reply_size);
                zframe_destroy (&in);
                return ST_OK;
            }
            zframe_destroy (&in);
        }
    }
    return st_error_set (err, ST_UNAVAILABLE, NULL, "no reply from \"%s\" within %d ms",
                         self->endpoint, timeout_ms);
}

st_status_t
st_client_call (st_client_t *self, const char *op, const msg_actor_t *actor, const uint8_t *id,
                const st_desc_t *request_desc, const void *request, const st_desc_t *reply_desc,
                void *reply, int timeout_ms, st_error_t *err)
{
    uint8_t fresh[16];
    if (!id) {
        randombytes_buf (fresh, sizeof fresh);
        id = fresh;
    }
    uint8_t *body, *frame, *reply_frame;
    size_t body_size, size, reply_size;
    if (reply_desc)
        memset (reply, 0, reply_desc->size);
    if (st_validate (request_desc, request, err))
        return err->code;
    st_encode (request_desc, request, &body, &body_size);
    s_envelope (op, actor, id, st_now_ms () + timeout_ms, self->trace, body, body_size, &frame,
                &size);
    free (body);
    st_status_t rc =
        st_client_call_raw (self, frame, size, id, timeout_ms, &reply_frame, &reply_size, err);
    free (frame);
    if (rc != ST_OK)
        return rc;
    rc = st_client_decode_reply (reply_frame, reply_size, reply_desc, reply, err);
    free (reply_frame);
    return rc;
}
