/*  st_client.h — the rpc client: a CURVE DEALER that sends one envelope per request, matches
    replies by request id, and retries with the same id until the deadline (Lazy Pirate).  */
#ifndef ST_CLIENT_H_INCLUDED
#define ST_CLIENT_H_INCLUDED

#include "st_proto.h"

#include <czmq.h>

typedef struct st_client_s st_client_t;

//  Creates a client of the server at `endpoint` whose public key is given, using our own
//  key pair (borrowed; it must outlive the client).
st_client_t *st_client_new (const char *endpoint, zcert_t *own, const char *server_public_txt);
void st_client_destroy (st_client_t **self_p);

//  How long to wait for one attempt before resending (default 1000 ms).
void st_client_set_retry (st_client_t *self, int retry_ms);

//  A socket (an actor's pipe) whose input ends a call at once with ST_UNAVAILABLE, "interrupted",
//  leaving that input unread, so an actor told to stop is not kept waiting; NULL for none.
void st_client_set_cancel (st_client_t *self, zsock_t *cancel);

//  The trace the next calls carry (the HTTP request id of the gateway's request, logged by
//  the services with each op it calls); NULL or "" for none.
void st_client_set_trace (st_client_t *self, const char *trace);

//  Calls an op: encodes the request by its descriptor, waits at most timeout_ms in all, and
//  decodes the reply into `reply` (the caller clears it with st_msg_clear). `actor` may be
//  NULL; `id` may be NULL for a fresh random id. Returns ST_OK or the error's code with err
//  filled (ST_UNAVAILABLE for no reply in time).
st_status_t st_client_call (st_client_t *self, const char *op, const msg_actor_t *actor,
                            const uint8_t *id, const st_desc_t *request_desc, const void *request,
                            const st_desc_t *reply_desc, void *reply, int timeout_ms,
                            st_error_t *err);

//  The same with an already encoded body; *reply_frame is the whole reply frame (the caller
//  frees it). For tools and tests.
st_status_t st_client_call_raw (st_client_t *self, const uint8_t *frame, size_t size,
                                const uint8_t *id, int timeout_ms, uint8_t **reply_frame,
                                size_t *reply_size, st_error_t *err);

//  Encodes a request envelope; the caller frees *frame.
void st_client_envelope (const char *op, const msg_actor_t *actor, const uint8_t *id,
                         int64_t deadline, const uint8_t *body, size_t body_size, uint8_t **frame,
                         size_t *size);

//  Decodes a reply frame's envelope and, when ok, its body into `reply` by reply_desc.
st_status_t st_client_decode_reply (const uint8_t *frame, size_t size, const st_desc_t *reply_desc,
                                    void *reply, st_error_t *err);

#endif
