/*  gateway_sessions.c — sign-in through registry, and sessions in the gateway's own schema:
    a token is 256 random bits that the client holds; the table keeps its SHA-256 and the
    actor it proves, with an idle and an absolute expiry. Every gateway process reads the same
    table, so a sign-out ends the session on all of them at once. What the table answered is
    taken at its word for a moment (session-trust-ms), and a sign-out waits that moment out
    before it answers.  */
#include "gateway.h"
#include "st_log.h"
#include "st_rows.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static const st_statement_t s_statements[] = {
    {"session_create",
     "INSERT INTO sessions (token_hash, account, role, region, volunteer_id, resident_id,"
     " expires_at) VALUES ($1, $2, $3, $4, $5, $6, now () + make_interval (secs => $7))"},
    //  The actor of a live session, and whether its idle clock is due to start again: it is
    //  written at most every ten seconds, or half the idle time when that is shorter, so that
    //  a burst of calls is one write and a session in use never goes idle. (A plain SELECT: the
    //  same check as one statement with a writable CTE took twice as long in PostgreSQL.) And
    //  the seconds it has left if unused, which a proof of it never outlives.
    {"session_check",
     "SELECT account, role, region, coalesce (volunteer_id, '') AS volunteer_id,"
     " coalesce (resident_id, '') AS resident_id,"
     " seen_at < now () - least (interval '10 s', make_interval (secs => $2 / 2.0)) AS stale,"
     " extract (epoch FROM least (expires_at, seen_at + make_interval (secs => $2)) - now ())"
     " AS left_s"
     " FROM sessions WHERE token_hash = $1 AND expires_at > now ()"
     " AND seen_at > now () - make_interval (secs => $2)"},
    {"session_touch",
     "UPDATE sessions SET seen_at = now () WHERE token_hash = $1"
     " AND seen_at < now () - least (interval '10 s', make_interval (secs => $2 / 2.0))"},
    {"session_end", "DELETE FROM sessions WHERE token_hash = $1"},
    {"sessions_expire",
     "DELETE FROM sessions WHERE expires_at < now () OR seen_at < now () - make_interval (secs => "
     "$1)"},
    {"signin_limits_expire",
     "DELETE FROM signin_limits WHERE updated_at < now () - interval '1 day'"},
    //  The longer wait of the two keys, in whole seconds (rounded up).
    {"signin_wait",
     "SELECT coalesce (ceil (max (extract (epoch FROM blocked_until - now ()))), 0)::bigint"
     " FROM signin_limits WHERE key IN ($1, $2) AND blocked_until > now ()"},
    //  A failure: counted (afresh when the last was a quarter of an hour ago); from the $2nd
    //  on, the next try waits 1 s, doubling to at most $3 s.
    {"signin_failed",
     "INSERT INTO signin_limits AS l (key, failures) VALUES ($1, 1)"
     " ON CONFLICT (key) DO UPDATE SET failures = CASE WHEN l.updated_at < now () - interval"
     " '15 min' THEN 1 ELSE l.failures + 1 END, updated_at = now ()"
     " RETURNING failures"},
    {"signin_block",
     "UPDATE signin_limits SET blocked_until = now () + make_interval (secs => least ($3::float8,"
     " power (2, $2::int)))"
     " WHERE key = $1"},
    {"signin_clear", "DELETE FROM signin_limits WHERE key = $1"},
};

static int64_t s_idle_s = 1800, s_max_s = 43200, s_trust_us = 500000;
static uint8_t s_limit_key[crypto_generichash_KEYBYTES];
static uint8_t s_csrf_key[crypto_generichash_KEYBYTES];

//  A login's limit starts after 3 failures and waits up to a minute; a client address's (a
//  county office may sign in many people from one address) after 20, up to five minutes.
#define S_LOGIN_FREE    3
#define S_LOGIN_MAX_S   60
#define S_ADDRESS_FREE  20
#define S_ADDRESS_MAX_S 300

void
gw_sessions_prepare (st_db_t *db)
{
    st_db_statements (db, s_statements, sizeof s_statements / sizeof s_statements[0]);
}

void
gw_sessions_init (const gw_config_t *config, const uint8_t secret[32])
{
    s_idle_s = config->session_idle_s;
    s_max_s = config->session_max_s;
    s_trust_us = config->session_trust_ms * 1000;
    crypto_kdf_derive_from_key (s_limit_key, sizeof s_limit_key, 1, "gwlimits", secret);
    crypto_kdf_derive_from_key (s_csrf_key, sizeof s_csrf_key, 2, "gwcsrf__", secret);
}

void
gw_sessions_warm (st_db_t *db)
{
    //  A check of a token no session has: it connects, and prepares the statement.
    uint8_t hash[crypto_hash_sha256_BYTES] = {0};
    st_params_t params = {0};
    st_params_bin (&params, hash, sizeof hash);
    st_params_int (&params, s_idle_s);
    PGresult *res = NULL;
    st_error_t err;
    if (st_db_exec (db, "session_check", &params, &res, &err) != ST_OK)
        st_warn ("a lease's database connection waits for its first request: %s", err.message);
    PQclear (res);
    st_params_clear (&params);
}

static void
s_token_hash (const char *token, uint8_t hash[crypto_hash_sha256_BYTES])
{
    crypto_hash_sha256 (hash, (const uint8_t *) token, strlen (token));
}

static const char *
s_text (json_t *object, const char *key)
{
    const char *text = json_string_value (json_object_get (object, key));
    return text ? text : NULL;
}

st_status_t
gw_session_create (const json_t *account, char token[44], st_error_t *err)
{
    uint8_t secret[32];
    randombytes_buf (secret, sizeof secret);
    sodium_bin2base64 (token, 44, secret, sizeof secret, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero (secret, sizeof secret);
    uint8_t hash[crypto_hash_sha256_BYTES];
    s_token_hash (token, hash);
    st_params_t params = {0};
    st_params_bin (&params, hash, sizeof hash);
    st_params_text (&params, s_text ((json_t *) account, "id"));
    st_params_text (&params, s_text ((json_t *) account, "role"));
    st_params_text (&params, s_text ((json_t *) account, "region"));
    st_params_text (&params, s_text ((json_t *) account, "volunteer_id"));
    st_params_text (&params, s_text ((json_t *) account, "resident_id"));
    st_params_int (&params, s_max_s);
    st_status_t rc = st_db_exec (gw_rpc_db (), "session_create", &params, NULL, err);
    st_params_clear (&params);
    return rc;
}

//  ---------------------------------------------------------------------------------------
//  Proofs: what the table said of a token lately, shared by the process's threads. A token
//  the table vouched for less than s_trust_us ago is taken at that word, without asking
//  again: one check a moment per token instead of one per request. A proof counts from when
//  its check was sent (a sign-out that committed while it was on its way is not missed), and
//  never outlasts the time the session had left then. The end of a session cannot reach the
//  other processes' proofs, so gw_session_end waits s_trust_us after its DELETE before it
//  answers: when the client hears that the session has ended, no proof of it is left on any
//  gateway, and every request after that is refused, as without proofs.
#define S_PROOFS 1024 //  one slot per token, by its hash (a collision only costs a check)
static struct {
    uint8_t hash[crypto_hash_sha256_BYTES];
    gw_actor_t actor;
    int64_t until_us; //  good before (gw_metrics_now_us); 0: none
} s_proofs[S_PROOFS];
static pthread_mutex_t s_proofs_lock = PTHREAD_MUTEX_INITIALIZER;

static size_t
s_proof_slot (const uint8_t hash[crypto_hash_sha256_BYTES])
{
    uint32_t slot;
    memcpy (&slot, hash, sizeof slot);
    return slot % S_PROOFS;
}

//  Whether the process holds a proof of the token whose hash is `hash`: its actor into `actor`.
static bool
s_proof_find (const uint8_t hash[crypto_hash_sha256_BYTES], gw_actor_t *actor)
{
    if (s_trust_us == 0)
        return false;
    size_t slot = s_proof_slot (hash);
    int64_t now = gw_metrics_now_us ();
    pthread_mutex_lock (&s_proofs_lock);
    bool found = s_proofs[slot].until_us > now
                 && sodium_memcmp (s_proofs[slot].hash, hash, sizeof s_proofs[slot].hash) == 0;
    if (found)
        *actor = s_proofs[slot].actor;
    pthread_mutex_unlock (&s_proofs_lock);
    return found;
}

//  Keeps what a check sent at `sent_us` proved (`actor`, the session's `left_s` seconds), or
//  forgets the token (actor NULL).
static void
s_proof_keep (const uint8_t hash[crypto_hash_sha256_BYTES], const gw_actor_t *actor,
              int64_t sent_us, double left_s)
{
    if (s_trust_us == 0)
        return;
    size_t slot = s_proof_slot (hash);
    int64_t until = sent_us + s_trust_us;
    if (actor && left_s * 1e6 < (double) s_trust_us)
        until = sent_us + (int64_t) (left_s * 1e6);
    pthread_mutex_lock (&s_proofs_lock);
    if (actor) {
        memcpy (s_proofs[slot].hash, hash, sizeof s_proofs[slot].hash);
        s_proofs[slot].actor = *actor;
        s_proofs[slot].until_us = until;
    } else if (memcmp (s_proofs[slot].hash, hash, sizeof s_proofs[slot].hash) == 0)
        sodium_memzero (&s_proofs[slot], sizeof s_proofs[slot]);
    pthread_mutex_unlock (&s_proofs_lock);
}

static void
s_copy (char *out, size_t size, PGresult *res, const char *column)
{
    snprintf (out, size, "%s", PQgetvalue (res, 0, PQfnumber (res, column)));
}

//  The actors tokens proved last with this lease's connection (gw_rpc_guesses), by the
//  token's hash: guesses for gw_session_begin, never an answer (every request still waits for
//  the database's).
#define S_GUESSES 16
struct gw_guesses_s {
    struct {
        uint8_t hash[crypto_hash_sha256_BYTES];
        gw_actor_t actor;
        bool used;
    } guess[S_GUESSES];
    unsigned next;
};
#define s_guesses (s_guesses_here ()->guess)

static gw_guesses_t *
s_guesses_here (void)
{
    gw_guesses_t **guesses = gw_rpc_guesses ();
    if (!*guesses)
        *guesses = st_calloc (1, sizeof **guesses);
    return *guesses;
}

size_t
gw_sessions_guesses_size (void)
{
    return sizeof (gw_guesses_t);
}

static int
s_guess_find (const uint8_t hash[crypto_hash_sha256_BYTES])
{
    for (int i = 0; i < S_GUESSES; i++)
        if (s_guesses[i].used && memcmp (s_guesses[i].hash, hash, sizeof s_guesses[i].hash) == 0)
            return i;
    return -1;
}

//  Remembers the actor a token proved (actor) or forgets it (NULL).
static void
s_guess_keep (const uint8_t hash[crypto_hash_sha256_BYTES], const gw_actor_t *actor)
{
    int i = s_guess_find (hash);
    if (!actor) {
        if (i >= 0)
            sodium_memzero (&s_guesses[i], sizeof s_guesses[i]);
        return;
    }
    if (i < 0) {
        i = (int) (s_guesses_here ()->next++ % S_GUESSES);
        memcpy (s_guesses[i].hash, hash, sizeof s_guesses[i].hash);
        s_guesses[i].used = true;
    }
    s_guesses[i].actor = *actor;
}

//  The actor of session_check's answer (`res`, borrowed; the check sent at `sent_us`), its
//  idle clock started again when due.
static st_status_t
s_checked (const uint8_t hash[crypto_hash_sha256_BYTES], PGresult *res, int64_t sent_us,
           gw_actor_t *actor, st_error_t *err)
{
    gw_metrics_session (false);
    if (PQntuples (res) == 0) {
        s_guess_keep (hash, NULL);
        s_proof_keep (hash, NULL, 0, 0);
        return st_error_set (err, ST_UNAUTHENTICATED, "Authorization",
                             "the session has ended or never was: sign in again");
    }
    memset (actor, 0, sizeof *actor);
    s_copy (actor->account, sizeof actor->account, res, "account");
    s_copy (actor->role, sizeof actor->role, res, "role");
    s_copy (actor->region, sizeof actor->region, res, "region");
    s_copy (actor->volunteer_id, sizeof actor->volunteer_id, res, "volunteer_id");
    s_copy (actor->resident_id, sizeof actor->resident_id, res, "resident_id");
    s_guess_keep (hash, actor);
    s_proof_keep (hash, actor, sent_us, atof (PQgetvalue (res, 0, PQfnumber (res, "left_s"))));
    if (!st_row_bool (res, 0, "stale"))
        return ST_OK;
    st_params_t params = {0};
    st_params_bin (&params, hash, crypto_hash_sha256_BYTES);
    st_params_int (&params, s_idle_s);
    st_status_t rc = st_db_exec (gw_rpc_db (), "session_touch", &params, NULL, err);
    st_params_clear (&params);
    return rc;
}

static st_status_t
s_check_hash (const uint8_t hash[crypto_hash_sha256_BYTES], gw_actor_t *actor, st_error_t *err)
{
    st_params_t params = {0};
    st_params_bin (&params, hash, crypto_hash_sha256_BYTES);
    st_params_int (&params, s_idle_s);
    PGresult *res;
    int64_t sent = gw_metrics_now_us ();
    st_status_t rc = st_db_exec (gw_rpc_db (), "session_check", &params, &res, err);
    st_params_clear (&params);
    if (rc != ST_OK)
        return rc;
    rc = s_checked (hash, res, sent, actor, err);
    PQclear (res);
    return rc;
}

st_status_t
gw_session_check (const char *token, gw_actor_t *actor, st_error_t *err)
{
    uint8_t hash[crypto_hash_sha256_BYTES];
    s_token_hash (token, hash);
    if (s_proof_find (hash, actor)) {
        gw_metrics_session (true);
        return ST_OK;
    }
    return s_check_hash (hash, actor, err);
}

int
gw_session_begin (const char *token, gw_session_pending_t *pending)
{
    s_token_hash (token, pending->hash);
    if (s_proof_find (pending->hash, &pending->guess)) {
        gw_metrics_session (true);
        return 1;
    }
    int i = s_guess_find (pending->hash);
    //  The statement is prepared on this connection: the guess came from a check on it (one
    //  made again since a reconnect fails, and the check is then made as usual).
    PGconn *conn = st_db_conn (gw_rpc_db ());
    if (i < 0 || !conn || PQstatus (conn) != CONNECTION_OK
        || PQtransactionStatus (conn) != PQTRANS_IDLE)
        return -1;
    char idle[32];
    snprintf (idle, sizeof idle, "%lld", (long long) s_idle_s);
    const char *values[] = {(const char *) pending->hash, idle};
    int lengths[] = {crypto_hash_sha256_BYTES, 0};
    int formats[] = {1, 0};
    pending->sent_us = gw_metrics_now_us ();
    if (!PQsendQueryPrepared (conn, "session_check", 2, values, lengths, formats, 0))
        return -1;
    pending->guess = s_guesses[i].actor;
    return 0;
}

st_status_t
gw_session_finish (gw_session_pending_t *pending, gw_actor_t *actor, st_error_t *err)
{
    PGconn *conn = st_db_conn (gw_rpc_db ());
    PGresult *res, *first = NULL;
    while ((res = PQgetResult (conn))) {
        if (!first)
            first = res;
        else
            PQclear (res);
    }
    st_status_t rc;
    if (first && PQresultStatus (first) == PGRES_TUPLES_OK)
        rc = s_checked (pending->hash, first, pending->sent_us, actor, err);
    else
        //  Not prepared here (a reconnect), or the connection failed: as usual, which
        //  prepares, reconnects and says why.
        rc = s_check_hash (pending->hash, actor, err);
    PQclear (first);
    return rc;
}

st_status_t
gw_session_end (const char *token, st_error_t *err)
{
    uint8_t hash[crypto_hash_sha256_BYTES];
    s_token_hash (token, hash);
    st_params_t params = {0};
    st_params_bin (&params, hash, sizeof hash);
    s_proof_keep (hash, NULL, 0, 0);
    st_status_t rc = st_db_exec (gw_rpc_db (), "session_end", &params, NULL, err);
    st_params_clear (&params);
    //  The proofs other processes (and this one's other threads) may hold run out; the lease
    //  goes back first, so that sign-outs at the end of a shift hold up no other request.
    if (rc == ST_OK && s_trust_us > 0) {
        gw_rpc_release ();
        zclock_sleep ((int) (s_trust_us / 1000));
    }
    return rc;
}

void
gw_sessions_tick (st_db_t *db, void *state)
{
    (void) state;
    st_params_t params = {0};
    st_params_int (&params, s_idle_s);
    st_error_t err;
    if (st_db_exec (db, "sessions_expire", &params, NULL, &err) != ST_OK
        || st_db_exec (db, "signin_limits_expire", NULL, NULL, &err) != ST_OK)
        st_warn ("could not remove ended sessions and limits: %s", err.message);
    st_params_clear (&params);
}

//  The limit's key of a login or an address: a keyed BLAKE2b, told apart by its kind.
static void
s_limit_key_of (const char *kind, const char *value, uint8_t out[32])
{
    crypto_generichash_state state;
    crypto_generichash_init (&state, s_limit_key, sizeof s_limit_key, 32);
    crypto_generichash_update (&state, (const uint8_t *) kind, strlen (kind) + 1);
    crypto_generichash_update (&state, (const uint8_t *) value, strlen (value));
    crypto_generichash_final (&state, out, 32);
}

int64_t
gw_signin_wait (const char *login, const char *address, st_error_t *err)
{
    uint8_t keys[2][32];
    s_limit_key_of ("login", login, keys[0]);
    s_limit_key_of ("address", address, keys[1]);
    st_params_t params = {0};
    st_params_bin (&params, keys[0], 32);
    st_params_bin (&params, keys[1], 32);
    PGresult *res;
    st_status_t rc = st_db_exec (gw_rpc_db (), "signin_wait", &params, &res, err);
    st_params_clear (&params);
    if (rc != ST_OK)
        return -1;
    int64_t wait = atoll (PQgetvalue (res, 0, 0));
    PQclear (res);
    return wait;
}

static void
s_failed (const char *kind, const char *value, int free_tries, int max_s)
{
    uint8_t key[32];
    s_limit_key_of (kind, value, key);
    st_params_t params = {0};
    st_params_bin (&params, key, sizeof key);
    PGresult *res;
    st_error_t err;
    if (st_db_exec (gw_rpc_db (), "signin_failed", &params, &res, &err) != ST_OK) {
        st_warn ("could not count a failed sign-in: %s", err.message);
        st_params_clear (&params);
        return;
    }
    int failures = atoi (PQgetvalue (res, 0, 0));
    PQclear (res);
    if (failures >= free_tries) {
        st_params_int (&params, failures - free_tries);
        st_params_int (&params, max_s);
        if (st_db_exec (gw_rpc_db (), "signin_block", &params, NULL, &err) != ST_OK)
            st_warn ("could not hold back sign-ins: %s", err.message);
    }
    st_params_clear (&params);
}

void
gw_signin_failed (const char *login, const char *address)
{
    s_failed ("login", login, S_LOGIN_FREE, S_LOGIN_MAX_S);
    s_failed ("address", address, S_ADDRESS_FREE, S_ADDRESS_MAX_S);
}

void
gw_signin_succeeded (const char *login)
{
    uint8_t key[32];
    s_limit_key_of ("login", login, key);
    st_params_t params = {0};
    st_params_bin (&params, key, sizeof key);
    st_error_t err;
    if (st_db_exec (gw_rpc_db (), "signin_clear", &params, NULL, &err) != ST_OK)
        st_warn ("could not clear a login's failed sign-ins: %s", err.message);
    st_params_clear (&params);
}

void
gw_session_csrf (const char *token, char csrf[44])
{
    uint8_t mac[32];
    crypto_generichash (mac, sizeof mac, (const uint8_t *) token, strlen (token), s_csrf_key,
                        sizeof s_csrf_key);
    sodium_bin2base64 (csrf, 44, mac, sizeof mac, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}
