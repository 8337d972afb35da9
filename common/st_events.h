/*  st_events.h — the durable event log (architecture.md, "The wire: events").
    The relay: one per service (the holder of an advisory lock), it gives committed outbox rows
    contiguous sequence numbers in commit order and publishes a hint (service, latest seq) on
    the service's PUB socket. The consumer: pulls another service's log with events.read,
    applies each event and advances its cursor in one transaction, parks what it cannot apply
    in its dead-letter table, and pulls on hints and on a timer (a lost hint costs latency,
    never data). Both run as czmq actors with their own database connection.  */
#ifndef ST_EVENTS_H_INCLUDED
#define ST_EVENTS_H_INCLUDED

#include "st_db.h"
#include "st_proto.h"

#include <czmq.h>

//  Reads a command an actor's pipe holds: true when it is $TERM (or the pipe is gone), when
//  the actor must end.
bool st_pipe_term (zsock_t *pipe);

//  What appends one event to a service's outbox.
#define ST_OUTBOX_APPEND_SQL "INSERT INTO outbox (topic, body) VALUES ($1, $2)"

//  Event `topic` as the parameters of an outbox row ($1 the topic, $2 the body encoded),
//  checked against its message first: an event its consumers would refuse is never written.
//  The parameters own the body.
st_status_t st_event_params (const char *topic, const st_desc_t *desc, const void *body,
                             st_params_t *params, st_error_t *err);

//  Appends event `topic` to the outbox of `db`'s service inside the caller's transaction (for
//  work outside a call, such as a dispatch round; a handler uses st_call_emit).
st_status_t st_outbox_append (st_db_t *db, const char *topic, const st_desc_t *desc,
                              const void *body, st_error_t *err);

//  For a subscription that keeps where something of another service is: runs `statement`
//  with (id, region, seq), the id parsed from `id` (a malformed one is refused naming
//  `field`, and the event is parked).
st_status_t st_event_place (st_db_t *db, const char *statement, const char *field, const char *id,
                            const char *region, int64_t seq, st_error_t *err);

typedef struct {
    const char *service;     //  whose outbox
    const char *conninfo;    //  database, connected as role = schema = service
    const char *endpoint;    //  PUB endpoint to bind
    zcert_t *cert;           //  the service's key pair (borrowed)
    int64_t retention_hours; //  sequenced events older than this are deleted
} st_relay_config_t;

//  Starts the relay actor. It binds the PUB socket, then sends "READY" or "ERROR <why>"
//  (read with zstr_recv) before serving.
zactor_t *st_relay_new (const st_relay_config_t *config);

//  Applies one event inside the consumer's transaction. Returns ST_OK; ST_UNAVAILABLE for a
//  passing failure (the batch is retried later); anything else parks the event with err.
typedef st_status_t (st_apply_fn) (st_db_t *db, const char *topic, const void *body, int64_t seq,
                                   st_error_t *err);

typedef struct {
    const char *topic;
    st_apply_fn *apply;
} st_subscription_t;

typedef struct {
    const char *service; //  who consumes (schema and role)
    const char *conninfo;
    const char *publisher;    //  whose log
    const char *rpc_endpoint; //  publisher's rpc endpoint
    const char *pub_endpoint; //  publisher's PUB endpoint
    const char *keydir;       //  to find the publisher's public key
    zcert_t *cert;            //  our key pair (borrowed)
    const st_subscription_t *subscriptions;
    size_t subscription_count;
    void (*prepare) (st_db_t *db); //  registers the statements the apply functions use
    int poll_ms;                   //  pull at least this often
    int batch;                     //  events per pull
} st_consumer_config_t;

//  Starts a consumer actor; it sends "READY" or "ERROR <why>" first.
zactor_t *st_consumer_new (const st_consumer_config_t *config);

#endif
