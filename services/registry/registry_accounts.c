/*  registry_accounts.c — who signs in and who is served: officials' accounts (never wider than
    their creator's scope), sign-in by an official's login or a person's phone with failures
    counted, and residents with the groups cared for first.  */
#include "registry.h"
#include "registry_util.h"
#include "st_checks.h"
#include "st_log.h"
#include "st_pii.h"
#include "st_rows.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

ST_REGISTRY_ACCOUNTS_OPS (ST_ROUTE_THUNK)

const st_route_t registry_accounts_routes[] = {ST_REGISTRY_ACCOUNTS_OPS (ST_ROUTE_ROW)};
const size_t registry_accounts_route_count =
    sizeof registry_accounts_routes / sizeof registry_accounts_routes[0];

//  Columns of RESIDENT_COLUMNS (registry_store.c) read by position; the others fill the
//  reply's fields of the same name (st_rows).
enum { R_REGION = 3 };

static const char *const s_care_tags[] = {"empty_nest_elderly",  "left_behind_child",
                                          "child_in_difficulty", "disabled",
                                          "poor_household",      NULL};
static const char *const s_official_roles[] = {"region_admin", "station_admin", "team_leader",
                                               NULL};

//  ---------------------------------------------------------------------------------------
//  Accounts

//  Inserts an account signing in with `login` (kept only as its keyed hash) and `password`
//  (an argon2id hash), shown as the login `official` when it is an official's (NULL for a
//  person, whose login is the phone), standing for a volunteer or a resident or neither.
//  A login taken already is a conflict. *res (may be NULL) is the caller's.
static int
s_account_insert (st_call_t *call, const char *login, const char *official, const char *password,
                  const char *role, const char *region, const char *volunteer_id,
                  const char *resident_id, PGresult **res)
{
    char hash[ST_PASSWORD_HASH_SIZE];
    if (st_password_hash (password, hash))
        return st_call_fail (call, ST_RESOURCE_EXHAUSTED, NULL, "could not hash the password");
    uint8_t login_hash[ST_CRYPTO_HASH_SIZE];
    registry_hash (call, "login", login, login_hash);
    const msg_actor_t *actor = st_call_actor (call);
    st_params_t params = {0};
    st_params_bin (&params, login_hash, sizeof login_hash);
    st_params_text (&params, official);
    st_params_text (&params, hash);
    st_params_text (&params, role);
    st_params_text (&params, region);
    st_params_text (&params, volunteer_id);
    st_params_text (&params, resident_id);
    st_params_text (&params, actor ? actor->account : "self");
    if (official)
        return registry_exec_unique (call, "account_insert", &params, res, "login",
                                     "login \"%s\" is taken", official);
    return registry_exec_unique (call, "account_insert", &params, res, "phone",
                                 "this phone already signs in to an account");
}

//  Creates the sign-in account of a volunteer or a resident (registry.h).
int
registry_create_person_account (st_call_t *call, const char *role, const char *phone,
                                const char *password, const char *region, const char *volunteer_id,
                                const char *resident_id)
{
    return s_account_insert (call, phone, NULL, password, role, region, volunteer_id, resident_id,
                             NULL);
}

//  ---------------------------------------------------------------------------------------
//  account.create and session.login

//  An official's login: a-z 0-9 . _ - @, never a phone (a phone is a person's login).
static int
s_require_official_login (st_call_t *call, const char *login)
{
    for (const char *p = login; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || strchr ("._-@", *p)))
            return st_call_fail (call, ST_INVALID_ARGUMENT, "login",
                                 "\"login\" may hold only a-z, 0-9, \".\", \"_\", \"-\" and \"@\"");
    if (st_phone_check (login, NULL) == 0)
        return st_call_fail (call, ST_INVALID_ARGUMENT, "login",
                             "\"login\" must not be a phone number: phones are volunteers' logins");
    return 0;
}

static void
s_account_create (st_call_t *call, const msg_account_create_t *request, msg_account_t *reply)
{
    if (st_require_one_of (call, "role", request->role, s_official_roles)
        || s_require_official_login (call, request->login))
        return;
    if (st_require_code (call, "region", request->region)
        || registry_require_official_in_scope (call, request->region))
        return;
    PGresult *res;
    if (registry_require_region_admin (call, st_call_actor (call),
                                       "only a region admin may create accounts")
        || registry_require_region_exists (call, "region", request->region)
        || s_account_insert (call, request->login, request->login, request->password, request->role,
                             request->region, NULL, NULL, &res))
        return;
    st_row_to_msg (res, 0, &msg_account_desc, reply);
    PQclear (res);
}

//  region.bootstrap — the root region and its first admin, on an empty platform only. Two at
//  once take turns on a lock: the second finds the first's region and is refused.
static void
s_region_bootstrap (st_call_t *call, const msg_region_bootstrap_t *request, msg_bootstrap_t *reply)
{
    if (st_require_code (call, "code", request->code)
        || s_require_official_login (call, request->login))
        return;
    PGresult *res;
    if (st_call_exec (call, "bootstrap_lock", NULL, &res))
        return;
    bool empty = PQgetvalue (res, 0, 0)[0] == 't';
    PQclear (res);
    if (!empty) {
        st_call_fail (call, ST_FAILED_PRECONDITION, "code",
                      "the platform has regions already: bootstrap is for an empty one");
        return;
    }
    st_params_t params = {0};
    st_params_text (&params, request->code);
    st_params_text (&params, request->name);
    st_params_text (&params, st_region_level_name (st_region_level (request->code)));
    st_params_null (&params);
    if (st_call_exec (call, "region_insert", &params, &res))
        return;
    reply->region = st_strdup (PQgetvalue (res, 0, 0));
    PQclear (res);
    if (s_account_insert (call, request->login, request->login, request->password, "region_admin",
                          request->code, NULL, NULL, &res))
        return;
    st_row_to_msg (res, 0, &msg_account_desc, &reply->account);
    reply->has_account = true;
    PQclear (res);
    st_log (ST_LOG_INFO, st_call_id (call), "bootstrap: region %s and its admin %s", request->code,
            request->login);
}

//  How long (ms) an attempt at a login must still wait after `failures` failures in a row,
//  the last `since_ms` ago: not at all for the first few, then a wait that starts at the
//  delay and doubles with each further failure, never past the cap. An attacker guessing as
//  fast as allowed gets one guess per cap, and keeps the right password out no longer.
static int64_t
s_login_wait (const registry_state_t *limits, int64_t failures, int64_t since_ms)
{
    if (failures < limits->login_free_failures)
        return 0;
    int64_t delay = limits->login_delay_ms;
    for (int64_t i = limits->login_free_failures;
         i < failures && delay < limits->login_delay_max_ms; i++)
        delay *= 2;
    if (delay > limits->login_delay_max_ms)
        delay = limits->login_delay_max_ms;
    return delay > since_ms ? delay - since_ms : 0;
}

//  What names one attempt: the keyed hash of its request id and the password tried (the login
//  is the row's other key), so that a resend (the same id and the same body) is the same
//  attempt, and another password under the same id is another one.
static void
s_attempt_hash (st_call_t *call, const msg_session_login_t *request,
                uint8_t out[ST_CRYPTO_HASH_SIZE])
{
    const char *id = st_call_id (call);
    size_t id_len = strlen (id), password_len = strlen (request->password);
    char *plain = st_malloc (id_len + 1 + password_len);
    memcpy (plain, id, id_len + 1);
    memcpy (plain + id_len + 1, request->password, password_len);
    registry_hash_bytes (call, "login_attempt", plain, id_len + 1 + password_len, out);
    sodium_memzero (plain, id_len + 1 + password_len);
    free (plain);
}

//  ---------------------------------------------------------------------------------------
//  The hasher: sign-ins check their passwords (argon2id, 64 MB) on one thread of its own
//  ("st-hasher"), never on two at once. On two cores, a storm of sign-ins hashing on both slow
//  workers took the whole machine from every other op, the rpc loop and PostgreSQL alike
//  (volunteer.get p99 20 ms through the gateway); one hashing thread leaves a core to the rest.
//  A worker hands it a check and waits; past S_HASH_QUEUE checks waiting, a sign-in is refused
//  at once (resource_exhausted on "login", which the gateway answers 429 with Retry-After)
//  rather than wait behind seconds of hashing.

#define S_HASH_QUEUE 16

typedef struct s_check_s {
    const char *hash;
    const char *password;
    bool ok, done;
    struct s_check_s *next;
} s_check_t;

static struct {
    pthread_mutex_t lock;
    pthread_cond_t ready, done;
    s_check_t *head, *tail;
    int waiting; //  checks queued or running
    bool started;
} s_hasher = {.lock = PTHREAD_MUTEX_INITIALIZER,
              .ready = PTHREAD_COND_INITIALIZER,
              .done = PTHREAD_COND_INITIALIZER};

static void *
s_hasher_run (void *arg)
{
    (void) arg;
    prctl (PR_SET_NAME, "st-hasher", 0, 0, 0);
    pthread_mutex_lock (&s_hasher.lock);
    for (;;) {
        while (!s_hasher.head)
            pthread_cond_wait (&s_hasher.ready, &s_hasher.lock);
        s_check_t *check = s_hasher.head;
        s_hasher.head = check->next;
        if (!s_hasher.head)
            s_hasher.tail = NULL;
        pthread_mutex_unlock (&s_hasher.lock);
        bool ok = st_password_verify (check->hash, check->password);
        pthread_mutex_lock (&s_hasher.lock);
        check->ok = ok;
        check->done = true;
        s_hasher.waiting--;
        pthread_cond_broadcast (&s_hasher.done);
    }
    return NULL;
}

//  Checks `password` against `hash` on the hasher: 1 when it matches, 0 when not, -1 (the
//  call failed) when too many checks wait already.
static int
s_password_check (st_call_t *call, const char *hash, const char *password)
{
    s_check_t check = {.hash = hash, .password = password};
    pthread_mutex_lock (&s_hasher.lock);
    if (!s_hasher.started) {
        pthread_t thread;
        pthread_attr_t attr;
        pthread_attr_init (&attr);
        pthread_attr_setdetachstate (&attr, PTHREAD_CREATE_DETACHED);
        s_hasher.started = pthread_create (&thread, &attr, s_hasher_run, NULL) == 0;
        pthread_attr_destroy (&attr);
    }
    if (!s_hasher.started) {
        //  No thread to be had: checked here, as before there was one.
        pthread_mutex_unlock (&s_hasher.lock);
        return st_password_verify (hash, password) ? 1 : 0;
    }
    if (s_hasher.waiting >= S_HASH_QUEUE) {
        pthread_mutex_unlock (&s_hasher.lock);
        return st_call_fail (call, ST_RESOURCE_EXHAUSTED, "login",
                             "too many sign-ins at once: retry after 1000 ms");
    }
    s_hasher.waiting++;
    if (s_hasher.tail)
        s_hasher.tail->next = &check;
    else
        s_hasher.head = &check;
    s_hasher.tail = &check;
    pthread_cond_signal (&s_hasher.ready);
    while (!check.done)
        pthread_cond_wait (&s_hasher.done, &s_hasher.lock);
    pthread_mutex_unlock (&s_hasher.lock);
    return check.ok ? 1 : 0;
}

//  The attempt itself, the login's lock held: refused without looking at the password while
//  the login must wait; else checked, a failure counted (once per attempt: a resend of the
//  same request is the same attempt) and a success forgetting the failures.
static void
s_login_attempt (st_call_t *call, const msg_session_login_t *request,
                 const uint8_t login_hash[ST_CRYPTO_HASH_SIZE], msg_account_t *reply)
{
    const registry_state_t *limits = st_call_state (call);
    uint8_t attempt[ST_CRYPTO_HASH_SIZE];
    s_attempt_hash (call, request, attempt);
    st_params_t params = {0};
    st_params_bin (&params, login_hash, ST_CRYPTO_HASH_SIZE);
    st_params_bin (&params, attempt, sizeof attempt);
    st_params_int (&params, limits->login_quiet_ms);
    PGresult *res;
    if (st_call_exec (call, "login_failures_get", &params, &res))
        return;
    int64_t failures = atoll (PQgetvalue (res, 0, 0));
    int64_t wait = s_login_wait (limits, failures, atoll (PQgetvalue (res, 0, 1)));
    PQclear (res);
    if (wait > 0) {
        st_call_fail (call, ST_RESOURCE_EXHAUSTED, "login",
                      "too many failed sign-ins: retry after %lld ms", (long long) wait);
        return;
    }
    st_params_bin (&params, login_hash, ST_CRYPTO_HASH_SIZE);
    if (st_call_exec (call, "account_by_login", &params, &res))
        return;
    //  An unknown login costs the same time as a wrong password.
    static const char dummy[] = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$"
                                "9sTbSlTio3Biev89thdrlKKiCaYsjjYVJxGAL3swxpQ";
    bool known = PQntuples (res) == 1;
    int checked =
        s_password_check (call, known ? PQgetvalue (res, 0, 6) : dummy, request->password);
    if (checked < 0) {
        PQclear (res);
        return;
    }
    bool ok = checked == 1;
    if (known && ok) {
        st_row_to_msg (res, 0, &msg_account_desc, reply);
        PQclear (res);
        st_params_bin (&params, login_hash, ST_CRYPTO_HASH_SIZE);
        st_call_exec (call, "login_failures_clear", &params, NULL);
        return;
    }
    PQclear (res);
    st_params_bin (&params, login_hash, ST_CRYPTO_HASH_SIZE);
    st_params_bin (&params, attempt, sizeof attempt);
    st_params_int (&params, limits->login_quiet_ms);
    if (st_call_exec (call, "login_failures_add", &params, NULL))
        return;
    st_call_fail (call, ST_UNAUTHENTICATED, NULL, "login or password is wrong");
}

//  Not a write op: each statement commits on its own, so a failed attempt counts. Slow: it
//  runs on a worker (argon2), so attempts at one login take its lock, the same on every
//  worker and replica, and each sees the failures of the one before.
static void
s_session_login (st_call_t *call, const msg_session_login_t *request, msg_account_t *reply)
{
    uint8_t login_hash[ST_CRYPTO_HASH_SIZE];
    registry_hash (call, "login", request->login, login_hash);
    int32_t key;
    memcpy (&key, login_hash, sizeof key);
    st_params_t params = {0};
    st_params_int (&params, key);
    if (st_call_exec (call, "login_lock", &params, NULL))
        return;
    s_login_attempt (call, request, login_hash, reply);
    //  Not through the call, which keeps its own outcome; a lost connection took the lock.
    st_error_t err;
    st_params_int (&params, key);
    if (st_db_exec (st_call_db (call), "login_unlock", &params, NULL, &err) != ST_OK)
        st_log (ST_LOG_WARN, st_call_id (call), "could not unlock the login: %s", err.message);
    st_params_clear (&params);
}

//  ---------------------------------------------------------------------------------------
//  resident.register, resident.get and resident.update

static void
s_resident_from_row (st_call_t *call, PGresult *res, msg_resident_t *r)
{
    st_row_to_msg (res, 0, &msg_resident_desc, r);
    r->has_care_tags = true;
    r->phone = registry_open_masked (call, res, 0, PQfnumber (res, "phone_enc"), "phone", false);
    r->email = registry_open_email_masked (call, res, 0, PQfnumber (res, "email_enc"));
    //  The address in full: only the resident themself and officials in scope read a resident.
    //  One that will not open (another key) shows as the phone does then.
    r->address = registry_open (call, res, 0, PQfnumber (res, "address_enc"), "address");
    if (!r->address)
        r->address = st_strdup ("****");
}

//  resident.registered or resident.updated: where the resident lives and the groups cared for
//  first, never the phone.
static void
s_resident_emit (st_call_t *call, const char *topic, const msg_resident_t *r)
{
    msg_resident_registered_t event = {.id = r->id,
                                       .region = r->region,
                                       .lat = r->lat,
                                       .has_lat = r->has_lat,
                                       .lon = r->lon,
                                       .has_lon = r->has_lon,
                                       .care_tags = r->care_tags,
                                       .has_care_tags = true};
    st_call_emit (call, topic, &msg_resident_registered_desc, &event);
}

static void
s_resident_register (st_call_t *call, const msg_resident_register_t *request, msg_resident_t *reply)
{
    if (registry_require_phone (call, "phone", request->phone)
        || (request->email && registry_require_email (call, "email", request->email))
        || st_require_code (call, "region", request->region)
        || registry_require_list (call, "care_tags", &request->care_tags, s_care_tags))
        return;
    const msg_actor_t *actor = st_call_actor (call);
    if (actor && registry_require_official_in_scope (call, request->region))
        return;
    st_params_t params = {0};
    st_params_text (&params, request->name);
    PGresult *res = NULL;
    int rc = registry_seal (call, &params, "phone", request->phone, true);
    if (rc == 0) {
        st_params_text (&params, request->region);
        rc = registry_seal (call, &params, "address", request->address, false);
    }
    if (rc == 0) {
        st_params_double_or_null (&params, request->has_lat, request->lat);
        st_params_double_or_null (&params, request->has_lon, request->lon);
        registry_text_array_param (&params, &request->care_tags, request->has_care_tags);
        rc = registry_seal_or_null (call, &params, "email", request->email);
    }
    if (rc == 0)
        rc = st_call_exec (call, "resident_insert", &params, &res);
    st_params_clear (&params);
    if (rc)
        return;
    s_resident_from_row (call, res, reply);
    PQclear (res);
    if (request->password
        && registry_create_person_account (call, "resident", request->phone, request->password,
                                           reply->region, NULL, reply->id))
        return;
    s_resident_emit (call, "resident.registered", reply);
}

static void
s_resident_get (st_call_t *call, const msg_resident_get_t *request, msg_resident_t *reply)
{
    const msg_actor_t *actor;
    int64_t id;
    PGresult *res;
    if (st_require_actor (call, &actor)
        || registry_row_by_id (call, "resident_get", "resident", request->id, &id, &res))
        return;
    bool self = strcmp (actor->role, "resident") == 0 && actor->resident_id
                && strcmp (actor->resident_id, request->id) == 0;
    if (!(self || st_actor_in_scope (actor, PQgetvalue (res, 0, R_REGION)))) {
        PQclear (res);
        st_call_fail (call, ST_NOT_FOUND, "id", "no resident has id \"%s\"", request->id);
        return;
    }
    s_resident_from_row (call, res, reply);
    PQclear (res);
}

//  The resident themself, or an official in scope of where they live (and of where they move);
//  another's resident reads as none at all.
static void
s_resident_update (st_call_t *call, const msg_resident_update_t *request, msg_resident_t *reply)
{
    //  An email given empty removes the address.
    bool email_removed = request->email && !*request->email;
    const msg_actor_t *actor;
    if (st_require_actor (call, &actor)
        || (request->phone && registry_require_phone (call, "phone", request->phone))
        || (request->email && !email_removed
            && registry_require_email (call, "email", request->email))
        || (request->region && st_require_code (call, "region", request->region))
        || registry_require_list (call, "care_tags", &request->care_tags, s_care_tags))
        return;
    int64_t id;
    PGresult *res;
    if (registry_row_by_id (call, "resident_lock", "resident", request->id, &id, &res))
        return;
    bool self = strcmp (actor->role, "resident") == 0 && actor->resident_id
                && strcmp (actor->resident_id, request->id) == 0;
    bool seen = self || st_actor_in_scope (actor, PQgetvalue (res, 0, R_REGION));
    PQclear (res);
    if (!seen) {
        st_call_fail (call, ST_NOT_FOUND, "id", "no resident has id \"%s\"", request->id);
        return;
    }
    if (request->region
        && ((!self && registry_require_official_in_scope (call, request->region))
            || registry_require_region_exists (call, "region", request->region)))
        return;
    st_params_t params = {0};
    st_params_text (&params, request->id);
    st_params_text (&params, request->name);
    int rc = 0;
    if (request->phone)
        rc = registry_seal (call, &params, "phone", request->phone, true);
    else {
        st_params_null (&params);
        st_params_null (&params);
    }
    st_params_text (&params, request->region);
    rc = rc ? rc : registry_seal_or_null (call, &params, "address", request->address);
    st_params_double_or_null (&params, request->has_lat, request->lat);
    st_params_double_or_null (&params, request->has_lon, request->lon);
    registry_text_array_param (&params, &request->care_tags, request->has_care_tags);
    rc = rc ? rc
            : registry_seal_or_null (call, &params, "email", email_removed ? NULL : request->email);
    st_params_bool (&params, email_removed);
    res = NULL;
    if (rc == 0)
        rc = st_call_exec (call, "resident_update", &params, &res);
    st_params_clear (&params);
    if (rc)
        return;
    s_resident_from_row (call, res, reply);
    PQclear (res);
    if (request->phone || request->region) {
        //  The phone is also the resident's sign-in, and the account lives where they do.
        uint8_t login_hash[ST_CRYPTO_HASH_SIZE];
        st_params_text (&params, request->id);
        if (request->phone) {
            registry_hash (call, "login", request->phone, login_hash);
            st_params_bin (&params, login_hash, sizeof login_hash);
        } else
            st_params_null (&params);
        st_params_text (&params, request->region);
        if (registry_exec_unique (call, "account_resident_update", &params, NULL, "phone",
                                  "this phone already signs in to another account"))
            return;
    }
    s_resident_emit (call, "resident.updated", reply);
}
