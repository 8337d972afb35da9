/*  st_server.h — the rpc server: one ROUTER socket in one poll loop, an op → handler table,
    CURVE with per-peer op rights, deadlines, and idempotent writes (the reply stored with the
    effect in one transaction and replayed to a retry with the same request id).  */
#ifndef ST_SERVER_H_INCLUDED
#define ST_SERVER_H_INCLUDED

//  The message of the conflict a request id used again for another request gets (field
//  "id"): the gateway, whose request ids come from Idempotency-Key, tells it by this text.
#define ST_REPLAY_CONFLICT "request id was already used for a different request"

#include "st_crypto.h"
#include "st_db.h"
#include "st_proto.h"

#include <czmq.h>

typedef struct st_server_s st_server_t;
typedef struct st_call_s st_call_t;

//  A handler reads its decoded request and fills its reply, or fails the call.
typedef void (st_handler_fn) (st_call_t *call, const void *request, void *reply);

typedef struct {
    const char *op;
    st_handler_fn *handler;
} st_route_t;

//  Binds typed handlers to the ops a .def declares: every declared op must have a handler
//  named s_<fn>, with the types the declaration gives (checked by the compiler).
#define ST_ROUTE_THUNK(svc, name, fn, req, rep, flags, peers)                                      \
    static void s_##fn (st_call_t *call, const req##_t *request, rep##_t *reply);                  \
    static void s_##fn##_thunk (st_call_t *call, const void *request, void *reply)                 \
    {                                                                                              \
        s_##fn (call, (const req##_t *) request, (rep##_t *) reply);                               \
    }
#define ST_ROUTE_ROW(svc, name, fn, req, rep, flags, peers) {name, s_##fn##_thunk},

//  Creates a server for `service`, answering the routes (and the common ops) from `db`.
//  `state` is handed to handlers through st_call_state. Takes nothing over.
st_server_t *st_server_new (const char *service, st_db_t *db, const st_route_t *routes,
                            size_t count, void *state);
void st_server_destroy (st_server_t **self_p);

//  Seals every reply stored for a write op's retries (rpc_replies) with `crypto` (borrowed: it
//  must outlive the server), the request id bound in as associated data, and keys the hash of
//  the caller's actor stored beside it. Without one, stored replies are kept as encoded: a
//  service whose replies carry personal data sets one before its first request.
void st_server_set_sealer (st_server_t *self, st_crypto_t *crypto);

//  Binds the ROUTER socket with CURVE and a frame-size cap. Returns 0 or -1 with err filled.
int st_server_bind (st_server_t *self, const char *endpoint, zcert_t *own, int64_t max_message,
                    st_error_t *err);

//  The ROUTER socket, for polling beside other sockets.
zsock_t *st_server_socket (st_server_t *self);

//  Starts `count` worker threads for the slow ops (ST_OP_SLOW), each with its own connection
//  (st_db_clone of the server's: register every statement before); with none, slow ops run
//  on the loop like the rest. Returns 0 or -1 with err filled. Once.
int st_server_start_workers (st_server_t *self, size_t count, st_error_t *err);

//  Starts `count` worker threads for the fast reads (ops with neither ST_OP_WRITE nor
//  ST_OP_SLOW when there are slow workers), each with its own connection as above, so that
//  reads no longer wait one by one for the loop's connection; writes stay on the loop. A
//  client's requests still run in the order it sent them: one that comes while a read of the
//  same client is with a reader waits for it. With none, reads run on the loop. Once.
int st_server_start_readers (st_server_t *self, size_t count, st_error_t *err);

//  Slow requests waiting for a worker may hold this many bytes of request frames at most, in
//  every server of the process (one alone may wait whatever its size); past it, or past 1,000
//  requests, a request is refused at once with resource_exhausted. Set before the first
//  request. Default ST_SERVER_POOL_BYTES.
#define ST_SERVER_POOL_BYTES (64 * 1024 * 1024)
void st_server_set_pool_bytes (size_t bytes);

//  The file descriptor (an eventfd) that becomes readable when workers (of both kinds) have
//  handed back what they ran, for polling beside the ROUTER (zmq_pollitem_t's fd); -1
//  without workers.
int st_server_pool_fd (st_server_t *self);

//  Receives and answers every message waiting on the socket, and every reply the workers
//  handed back, without blocking.
void st_server_handle (st_server_t *self);

//  --- For handlers ---

//  Fails the call: the reply carries the code, the field (may be NULL) and the message.
//  Returns -1, so a check can `return st_call_fail (...)`.
int st_call_fail (st_call_t *call, st_status_t code, const char *field, const char *format, ...)
    __attribute__ ((format (printf, 4, 5)));
bool st_call_failed (const st_call_t *call);

//  Takes a failure back, copying it into `err`, so an op can report one item's error and go
//  on with the next. Returns false, and keeps the failure, when the database refused a
//  statement: the transaction is then aborted and the op must stop.
bool st_call_recover (st_call_t *call, st_error_t *err);

//  The code the call failed with (ST_OK while it has not failed).
st_status_t st_call_code (const st_call_t *call);

//  Executes a registered statement on the call's connection (inside the write transaction
//  for write ops) and clears the params. On failure fails the call and returns -1.
int st_call_exec (st_call_t *call, const char *statement, st_params_t *params, PGresult **result);

//  Executes `count` statements as st_call_exec would one by one, sent together and answered
//  in one round trip (st_db_pipeline: outside a write op, one implicit transaction, so they
//  read one snapshot). The params are the caller's to clear. On failure fails the call and
//  returns -1; the results of the steps before the one that failed are the caller's too.
int st_call_exec_steps (st_call_t *call, const st_db_step_t *steps, size_t count);

//  Fails the call with what work on its connection outside st_call_exec said (a function
//  shared with background jobs, given st_call_db): as st_call_exec does, the transaction is
//  aborted and a serialization failure or deadlock is retried. Returns -1.
int st_call_fail_db (st_call_t *call, st_status_t rc, const st_error_t *err);

//  Commits a write op's work so far and begins a new transaction: for a long op (an import)
//  that records its progress with each batch, so that a retry goes on where it stopped and
//  other writers wait on its rows for one batch at most. What follows the last commit is
//  rolled back when the op fails, and stored with its reply when it succeeds. Returns -1
//  (the call failed) when the commit did, or the call had failed already.
int st_call_commit (st_call_t *call);

//  Runs a statement inside the call and fills `reply` from its first row by column name
//  (st_rows). Returns 0 when a row filled it; 1 when the statement returned no row (`reply`
//  untouched: the caller says what that means); -1 when the call failed.
int st_call_exec_reply (st_call_t *call, const char *statement, st_params_t *params,
                        const st_desc_t *desc, void *reply);

//  Appends an event to the outbox inside the call's transaction. Returns 0 or -1 (failed).
int st_call_emit (st_call_t *call, const char *topic, const st_desc_t *desc, const void *body);

//  Who acts (NULL when a service calls for itself) and which peer sent the request.
const msg_actor_t *st_call_actor (const st_call_t *call);
const char *st_call_peer (const st_call_t *call);
unsigned st_call_peer_role (const st_call_t *call);
st_db_t *st_call_db (st_call_t *call);
void *st_call_state (st_call_t *call);
const char *st_call_id (const st_call_t *call); //  hex, for logs

#endif
