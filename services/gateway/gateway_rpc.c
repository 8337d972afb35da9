/*  gateway_rpc.c — the gateway's calls to the services: each HTTP thread has its own rpc
    client per service (a ZeroMQ socket serves one thread) and its own database connection,
    made on first use and closed when the thread ends.  */
#include "gateway.h"
#include "st_client.h"
#include "st_json.h"
#include "st_keys.h"
#include "st_log.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define S_SERVICES 4
static const char *const s_services[S_SERVICES] = {"registry", "match", "ledger", "notify"};

//  What every thread shares: read only once init returns.
static struct {
    zcert_t *own;                //  the gateway's key pair
    char *endpoint[S_SERVICES];  //  each service's rpc endpoint
    zcert_t *server[S_SERVICES]; //  each service's public key
    st_db_t *db;                 //  the template connection: its statements, no socket
    pthread_key_t key;           //  a thread's s_thread_t
    bool keyed;
} s_shared;

typedef struct {
    st_client_t *client[S_SERVICES];
    st_db_t *db;
} s_thread_t;

static void
s_thread_end (void *arg)
{
    s_thread_t *self = arg;
    for (int i = 0; i < S_SERVICES; i++)
        st_client_destroy (&self->client[i]);
    st_db_destroy (&self->db);
    free (self);
}

static s_thread_t *
s_thread (void)
{
    s_thread_t *self = pthread_getspecific (s_shared.key);
    if (!self) {
        self = st_calloc (1, sizeof *self);
        pthread_setspecific (s_shared.key, self);
    }
    return self;
}

int
gw_rpc_init (st_service_t *service, const gw_config_t *config, st_error_t *err)
{
    s_shared.own = st_keys_secret (config->keydir, "gateway", err);
    if (!s_shared.own)
        return -1;
    for (int i = 0; i < S_SERVICES; i++) {
        char name[64];
        snprintf (name, sizeof name, "%s-rpc", s_services[i]);
        s_shared.endpoint[i] = st_strdup (st_service_option (service, name));
        s_shared.server[i] = st_keys_public (config->keydir, s_services[i], err);
        if (!s_shared.server[i])
            return -1;
    }
    s_shared.db = st_db_new (config->conninfo, "gateway", "gateway");
    gw_sessions_prepare (s_shared.db);
    if (pthread_key_create (&s_shared.key, s_thread_end)) {
        st_error_set (err, ST_INTERNAL, NULL, "could not make thread-local state");
        return -1;
    }
    s_shared.keyed = true;
    return 0;
}

void
gw_rpc_fini (void)
{
    //  The HTTP threads have ended (their state with them); this thread may have some too.
    if (s_shared.keyed) {
        s_thread_t *self = pthread_getspecific (s_shared.key);
        if (self)
            s_thread_end (self);
        pthread_key_delete (s_shared.key);
        s_shared.keyed = false;
    }
    for (int i = 0; i < S_SERVICES; i++) {
        free (s_shared.endpoint[i]);
        s_shared.endpoint[i] = NULL;
        zcert_destroy (&s_shared.server[i]);
    }
    st_db_destroy (&s_shared.db);
    zcert_destroy (&s_shared.own);
}

const uint8_t *
gw_rpc_secret (void)
{
    return zcert_secret_key (s_shared.own);
}

st_db_t *
gw_rpc_db (void)
{
    s_thread_t *self = s_thread ();
    if (!self->db)
        self->db = st_db_clone (s_shared.db);
    return self->db;
}

static st_client_t *
s_client (const char *service)
{
    for (int i = 0; i < S_SERVICES; i++)
        if (strcmp (service, s_services[i]) == 0) {
            s_thread_t *self = s_thread ();
            if (!self->client[i])
                self->client[i] = st_client_new (s_shared.endpoint[i], s_shared.own,
                                                 zcert_public_txt (s_shared.server[i]));
            return self->client[i];
        }
    return NULL;
}

void
gw_rpc_idempotent_id (const char *account, const char *key, uint8_t id[16])
{
    crypto_hash_sha256_state state;
    uint8_t hash[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_init (&state);
    crypto_hash_sha256_update (&state, (const uint8_t *) account, strlen (account));
    crypto_hash_sha256_update (&state, (const uint8_t *) "", 1);
    crypto_hash_sha256_update (&state, (const uint8_t *) key, strlen (key));
    crypto_hash_sha256_final (&state, hash);
    memcpy (id, hash, 16);
}

static char *
s_or_null (const char *text)
{
    return text && *text ? (char *) text : NULL;
}

json_t *
gw_rpc_call (const char *service, const char *op_name, const gw_actor_t *actor,
             const uint8_t id[16], const json_t *body, int64_t timeout_ms, st_error_t *err)
{
    return gw_rpc_call_traced (service, op_name, actor, id, NULL, body, timeout_ms, err);
}

json_t *
gw_rpc_call_traced (const char *service, const char *op_name, const gw_actor_t *actor,
                    const uint8_t id[16], const char *trace, const json_t *body, int64_t timeout_ms,
                    st_error_t *err)
{
    const st_op_desc_t *op = st_proto_op (service, op_name);
    st_client_t *client = op ? s_client (service) : NULL;
    if (!client) {
        st_error_set (err, ST_INTERNAL, NULL, "the gateway knows no op \"%s\" of \"%s\"", op_name,
                      service);
        return NULL;
    }
    void *request = st_calloc (1, op->request->size);
    if (st_json_to_msg (op->request, body, request, err)) {
        free (request);
        return NULL;
    }
    msg_actor_t asserted = {0};
    if (actor) {
        asserted.account = (char *) actor->account;
        asserted.role = (char *) actor->role;
        asserted.region = s_or_null (actor->region);
        asserted.volunteer_id = s_or_null (actor->volunteer_id);
        asserted.resident_id = s_or_null (actor->resident_id);
    }
    void *reply = st_calloc (1, op->reply->size);
    json_t *json = NULL;
    st_client_set_trace (client, trace);
    st_status_t rc = st_client_call (client, op->name, actor ? &asserted : NULL, id, op->request,
                                     request, op->reply, reply, (int) timeout_ms, err);
    gw_metrics_call (op, rc);
    if (rc == ST_OK)
        json = st_msg_to_json (op->reply, reply);
    st_msg_clear (op->reply, reply);
    st_msg_clear (op->request, request);
    free (reply);
    free (request);
    return json;
}
