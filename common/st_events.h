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

//  Appends `count` events of `topic` (bodies[i] each a message of `desc`) to the outbox in
//  one statement, in order, inside the caller's transaction: what st_outbox_append does for
//  one, for a handler that posts a page at a time.
st_status_t st_outbox_append_many (st_db_t *db, const char *topic, const st_desc_t *desc,
                                   const void *const *bodies, size_t count, st_error_t *err);

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

//  Applies a run of events of one topic (consecutive in the log but for events no
//  subscription acts on), in log order, inside the consumer's transaction, in as few
//  statements as it can: bodies[i] is event i's body as decoded, seqs[i] its seq. An event it
//  cannot apply it leaves alone (changing nothing for it) and gives its reason in parked[i]
//  (code not ST_OK): the consumer parks it and the rest of the run stands. Returns ST_OK;
//  ST_UNAVAILABLE for a passing failure (the page is retried later); anything else undoes
//  the whole run, which the consumer then applies event by event with `apply`.
typedef st_status_t (st_apply_batch_fn) (st_db_t *db, const char *topic, const void *const *bodies,
                                         const int64_t *seqs, size_t count, st_error_t *parked,
                                         st_error_t *err);

typedef struct {
    const char *topic;
    st_apply_fn *apply;
} st_subscription_t;

//  A subscription's batch function: the consumer's page path for topic `topic` (which a
//  subscription of the same consumer also names, with its `apply` for one event).
typedef struct {
    const char *publisher; //  whose log (st_service_def_t's table names every feed's)
    const char *topic;
    st_apply_batch_fn *apply_batch;
} st_batch_subscription_t;

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
    //  Batch functions of some of the subscriptions (those of other publishers are ignored);
    //  may be NULL.
    const st_batch_subscription_t *batches;
    size_t batch_count;
} st_consumer_config_t;

//  Starts a consumer actor; it sends "READY" or "ERROR <why>" first.
zactor_t *st_consumer_new (const st_consumer_config_t *config);

#endif
