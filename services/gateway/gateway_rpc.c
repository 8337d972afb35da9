/*  gateway_rpc.c — the gateway's calls to the services. A set of rpc clients (one per service:
    a ZeroMQ socket serves one thread at a time) and a database connection is a lease: a
    request takes one from the pool on its first call and gives it back once answered
    (gw_rpc_release), so connections that wait idle hold none and any request goes on with
    whichever lease is free. At most `http-threads` plus the slow slots' leases exist; a
    request finding none free waits for one.  */
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

typedef struct s_lease_s {
    st_client_t *client[S_SERVICES];
    st_db_t *db;
    gw_guesses_t *guesses;  //  gateway_sessions.c's
    struct s_lease_s *next; //  in the free list
} s_lease_t;

//  What every thread shares: read only once init returns, but for the pool (under `lock`).
static struct {
    zcert_t *own;                //  the gateway's key pair
    char *endpoint[S_SERVICES];  //  each service's rpc endpoint
    zcert_t *server[S_SERVICES]; //  each service's public key
    st_db_t *db;                 //  the template connection: its statements, no socket
    pthread_key_t key;           //  gives a thread's lease back when the thread ends
    bool keyed;
    pthread_mutex_t lock;
    pthread_cond_t freed;
    s_lease_t *free;   //  leases no request holds
    size_t made, most; //  leases made, and how many may be
    pthread_t warmer;  //  makes the leases at start (gw_rpc_warm)
    bool warming;      //  it was started (and is to be joined)
    bool stopping;     //  it is to stop (under `lock`)
} s_shared = {.lock = PTHREAD_MUTEX_INITIALIZER, .freed = PTHREAD_COND_INITIALIZER};

//  The lease this thread holds, NULL when none.
static _Thread_local s_lease_t *s_held;

static void
s_lease_destroy (s_lease_t *lease)
{
    for (int i = 0; i < S_SERVICES; i++)
        st_client_destroy (&lease->client[i]);
    st_db_destroy (&lease->db);
    if (lease->guesses)
        sodium_memzero (lease->guesses, gw_sessions_guesses_size ());
    free (lease->guesses);
    free (lease);
}

void
gw_rpc_release (void)
{
    s_lease_t *lease = s_held;
    if (!lease)
        return;
    s_held = NULL;
    pthread_setspecific (s_shared.key, NULL);
    pthread_mutex_lock (&s_shared.lock);
    lease->next = s_shared.free;
    s_shared.free = lease;
    pthread_cond_signal (&s_shared.freed);
    pthread_mutex_unlock (&s_shared.lock);
}

//  A thread that ends holding a lease gives it back.
static void
s_thread_end (void *arg)
{
    (void) arg;
    gw_rpc_release ();
}

//  This thread's lease: the one it holds, or a free one, or a new one while fewer than the
//  most exist, or the first given back. The mutex hands the sockets from thread to thread
//  with the full barrier ZeroMQ asks for.
static s_lease_t *
s_thread (void)
{
    if (s_held)
        return s_held;
    int64_t start = gw_metrics_now_us ();
    pthread_mutex_lock (&s_shared.lock);
    while (!s_shared.free && s_shared.made >= s_shared.most)
        pthread_cond_wait (&s_shared.freed, &s_shared.lock);
    s_lease_t *lease = s_shared.free;
    if (lease)
        s_shared.free = lease->next;
    else
        s_shared.made++;
    pthread_mutex_unlock (&s_shared.lock);
    gw_metrics_phase (GW_PHASE_LEASE, gw_metrics_now_us () - start);
    if (!lease)
        lease = st_calloc (1, sizeof *lease);
    lease->next = NULL;
    s_held = lease;
    pthread_setspecific (s_shared.key, lease);
    return lease;
}

//  Makes every lease the pool may have, before requests need them: its database connection
//  open with the session's check prepared, its rpc clients connected (their CURVE handshakes
//  run meanwhile). A lease made by the request that first needs one kept that request waiting
//  for a PostgreSQL backend to start and authenticate and for the handshakes: when 8
//  connections came at once, each one's first answer waited 0.1 to 2 s on 2 cores, the p99
//  of the whole run (wrk counts a stall as the requests it held up).
static void *
s_warm (void *arg)
{
    (void) arg;
    while (true) {
        pthread_mutex_lock (&s_shared.lock);
        bool done = s_shared.stopping || s_shared.made >= s_shared.most;
        if (!done)
            s_shared.made++;
        pthread_mutex_unlock (&s_shared.lock);
        if (done)
            break;
        s_lease_t *lease = st_calloc (1, sizeof *lease);
        lease->db = st_db_clone (s_shared.db);
        gw_sessions_warm (lease->db);
        for (int i = 0; i < S_SERVICES; i++)
            lease->client[i] = st_client_new (s_shared.endpoint[i], s_shared.own,
                                              zcert_public_txt (s_shared.server[i]));
        pthread_mutex_lock (&s_shared.lock);
        lease->next = s_shared.free;
        s_shared.free = lease;
        pthread_cond_signal (&s_shared.freed);
        pthread_mutex_unlock (&s_shared.lock);
    }
    return NULL;
}

void
gw_rpc_warm (void)
{
    s_shared.stopping = false;
    s_shared.warming = pthread_create (&s_shared.warmer, NULL, s_warm, NULL) == 0;
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
    s_shared.most = (size_t) config->threads + GW_SLOW_SLOTS;
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
    //  The HTTP threads have ended and given their leases back; this thread may hold one too.
    if (s_shared.warming) {
        pthread_mutex_lock (&s_shared.lock);
        s_shared.stopping = true;
        pthread_mutex_unlock (&s_shared.lock);
        pthread_join (s_shared.warmer, NULL);
        s_shared.warming = false;
    }
    gw_rpc_release ();
    if (s_shared.keyed) {
        pthread_key_delete (s_shared.key);
        s_shared.keyed = false;
    }
    s_lease_t *lease;
    while ((lease = s_shared.free)) {
        s_shared.free = lease->next;
        s_lease_destroy (lease);
    }
    s_shared.made = 0;
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
    s_lease_t *self = s_thread ();
    if (!self->db)
        self->db = st_db_clone (s_shared.db);
    return self->db;
}

gw_guesses_t **
gw_rpc_guesses (void)
{
    return &s_thread ()->guesses;
}

static st_client_t *
s_client (const char *service)
{
    for (int i = 0; i < S_SERVICES; i++)
        if (strcmp (service, s_services[i]) == 0) {
            s_lease_t *self = s_thread ();
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
    int64_t start = gw_metrics_now_us ();
    st_status_t rc = st_client_call (client, op->name, actor ? &asserted : NULL, id, op->request,
                                     request, op->reply, reply, (int) timeout_ms, err);
    gw_metrics_phase (GW_PHASE_RPC, gw_metrics_now_us () - start);
    gw_metrics_call (op, rc);
    if (rc == ST_OK)
        json = st_msg_to_json (op->reply, reply);
    st_msg_clear (op->reply, reply);
    st_msg_clear (op->request, request);
    free (reply);
    free (request);
    return json;
}
