/*  fixture.h — the one fixture of every integration test, on top of the harness: the services
    a test needs started on a fresh database with a gateway client each; calls of their ops by
    JSON body (or as a message struct, or packed as they are, past the client's checks);
    expectations of errors naming a field; SQL as the superuser; the services' events decoded
    with the project's codec; people and regions registered through registry; and, grouped at
    the end, match's requests and offers.

    A test program has one fixture at a time (made in a group setup, or in each test's): the
    helpers below act on the one fx_new made last. They fail the test (cmocka) when something
    they need does not happen, so that a test reads as its steps.  */
#ifndef FIXTURE_H_INCLUDED
#define FIXTURE_H_INCLUDED

#include "harness.h"

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#define FX_WAIT_MS   15000 //  how long a wait for a round, a replica or the relay lasts
#define FX_CALL_MS   30000 //  how long one call may take
#define FX_BODY_SIZE 1024  //  the room of a JSON body fx_request_body writes

//  The services a fixture starts, as flags to combine (FX_REGISTRY | FX_MATCH). A service
//  joins by appending its flag here and its row to the table in fixture.c, which also gives
//  the order they start in (a consumer after the services whose events it reads).
enum {
    FX_REGISTRY = 1u << 0,
    FX_MATCH = 1u << 1,
    FX_LEDGER = 1u << 2,
    FX_NOTIFY = 1u << 3, //  1u << 2 is the ledger's
    FX_GATEWAY = 1u << 4,
};

typedef struct fx_s fx_t;

//  The platform's operator, as the gateway asserts it.
extern const msg_actor_t FX_SYSTEM;

//  ---------------------------------------------------------------------------------------
//  The fixture

//  Makes the test database `name` and starts each service of `services` (FX_* flags) on it,
//  each waited for, with a gateway client of each; it is the fixture the helpers below use.
//  Set a service's STATION_* variables before.
fx_t *fx_new (const char *name, unsigned services);

//  Stops the services, drops the database and frees the fixture. Accepts NULL.
void fx_destroy (fx_t **self_p);

//  The harness under the fixture: the database, the keys and the processes.
harness_t *fx_harness (void);

//  The gateway client of `service` (borrowed); fails the test when it was not started.
st_client_t *fx_client (const char *service);

//  The process of `service` as fx_new started it.
pid_t fx_pid (const char *service);

//  ---------------------------------------------------------------------------------------
//  Actors

//  A volunteer's account standing for volunteer `id`.
msg_actor_t fx_volunteer (const char *id);

//  A resident's account standing for resident `id`.
msg_actor_t fx_resident (const char *id);

//  An official (region_admin, station_admin, team_leader, or any role) of `region`.
msg_actor_t fx_admin (const char *role, const char *region);

//  ---------------------------------------------------------------------------------------
//  Calls and replies

//  Calls op `op` of `service` as `actor` (NULL: none) with a JSON body, checked and encoded
//  by the client as the gateway would; a fresh request id and FX_CALL_MS. The reply as JSON
//  into *reply (when not NULL and ok; the caller decrefs), the error into *err (may be
//  NULL). Returns the status.
st_status_t fx_call (const char *service, const msg_actor_t *actor, const char *op,
                     const char *body, json_t **reply, st_error_t *err);

//  The same with request id `id` (16 bytes, NULL for a fresh one: a call sent again with the
//  same id is the same request to the server) and at most timeout_ms.
st_status_t fx_call_id (const char *service, const msg_actor_t *actor, const char *op,
                        const char *body, const uint8_t *id, int timeout_ms, json_t **reply,
                        st_error_t *err);

//  Calls an op with a JSON body packed as msgpack as it is, past the client's checks (wrong
//  types, out-of-range values), so that what answers is the service's own decoding. Reply
//  and error as fx_call.
st_status_t fx_call_raw (const char *service, const msg_actor_t *actor, const char *op,
                         const char *body, json_t **reply, st_error_t *err);

//  Calls an op with its request message struct and decodes the reply into its reply struct
//  (zeroed first, so that st_msg_clear on it is always safe; the caller clears it). Error
//  as fx_call.
st_status_t fx_call_msg (const char *service, const msg_actor_t *actor, const char *op,
                         const void *request, void *reply, st_error_t *err);

//  Calls an op as fx_call does, through a client using the key pair `key` instead of the
//  gateway's: a service's ("notify", "match"), "operator" or "gateway", so that a test sees
//  what the server lets that peer do.
st_status_t fx_call_key (const char *service, const char *key, const msg_actor_t *actor,
                         const char *op, const char *body, json_t **reply, st_error_t *err);

//  Calls an op as fx_call and fails the test unless it succeeds; the reply (the caller
//  decrefs).
json_t *fx_call_ok (const char *service, const msg_actor_t *actor, const char *op,
                    const char *body);

//  Fails the test unless a call failed with `code` naming `field`, with a message in the
//  house style (not empty, lower case, no final period). `what` names the call.
void fx_expect (const char *what, st_status_t rc, const st_error_t *err, st_status_t code,
                const char *field);

//  A string member of a JSON object ("" when absent).
const char *fx_str (json_t *json, const char *key);

//  An integer member of a JSON object (-1 when absent).
long long fx_int (json_t *json, const char *key);

//  ---------------------------------------------------------------------------------------
//  The database, as the superuser (harness_pg's connection: inside its transaction, if open)

//  The number the first value of a query built from a format reads as (0 when none).
long fx_count (const char *format, ...) __attribute__ ((format (printf, 1, 2)));

//  The first value of a query built from a format as text ("" when none; a static buffer
//  the next query overwrites).
const char *fx_value (const char *format, ...) __attribute__ ((format (printf, 1, 2)));

//  Runs SQL built from a format; fails the test on error.
void fx_sql (const char *format, ...) __attribute__ ((format (printf, 1, 2)));

//  Runs SQL built from a format and returns its result, which the caller clears; fails the
//  test on error.
PGresult *fx_query (const char *format, ...) __attribute__ ((format (printf, 1, 2)));

//  Waits until a query built from a format reads as `expected`, looking every 50 ms; fails
//  the test after FX_WAIT_MS.
void fx_wait_for (long expected, const char *format, ...) __attribute__ ((format (printf, 2, 3)));

//  Sleeps `ms` milliseconds.
void fx_sleep_ms (int ms);

//  Fails the test naming `what` when `after` differs from `before`: two digests of the
//  database around a call that must change nothing. Frees both.
void fx_unchanged (char *before, char *after, const char *what);

//  Fails the test when any column of any row of `table` (a bytea unescaped) holds one of the
//  `count` `secrets` (none empty) in clear. Returns the rows read.
int fx_holds_none (const char *table, const char *const *secrets, size_t count);

//  ---------------------------------------------------------------------------------------
//  Events, each body decoded with the project's codec as a consumer would (failing the test
//  when one does not decode)

//  How many events of `topic` in its service's outbox are about `id` (every event's first
//  field is the id of what it is about; NULL: every event of the topic). Reads the outbox
//  as committed, so it counts events the relay has not numbered yet, and while the service
//  is down.
int fx_events (const char *topic, const char *id);

//  The same, and the last of them (in outbox order) as JSON into *last when not NULL (NULL
//  when none; the caller decrefs).
int fx_events_json (const char *topic, const char *id, json_t **last);

//  Every event of `topic` as consumers read it: waits until the relay has numbered every
//  event of its service, reads the service's log with events.read, and returns the bodies
//  of `topic` in log order as a JSON array (the caller decrefs).
json_t *fx_events_read (const char *topic);

//  ---------------------------------------------------------------------------------------
//  People, regions and times

//  Completes a 17-digit body into a valid GB 11643 ID number (ISO 7064 MOD 11-2).
void fx_id_number (const char *body17, char out[19]);

//  The n-th distinct valid ID number of a test run (n < 12,000): born in 1980, the month from
//  n / 1000 and the sequence number from n % 1000.
void fx_nth_id_number (int n, char out[19]);

//  Creates region `code` named `name` through registry, as the system.
void fx_region_add (const char *code, const char *name);

//  Creates the county the dispatch tests play in: 郴州市 431000, 宜章县 431022, its townships
//  玉溪镇 (100) and 白石渡镇 (101), and their villages 100201, 100202 and 101203.
void fx_county_add (void);

//  Registers a volunteer through registry (a distinct valid ID number and phone each) and,
//  when match runs, waits until its supply has them. skills and availability are JSON
//  arrays, lat and lon place them, extra: more JSON members or "". Their id into `id`.
void fx_volunteer_add (const char *name, const char *region, const char *skills,
                       const char *availability, double lat, double lon, const char *extra,
                       char id[32]);

//  Registers a resident of `region` living at 25.40, 112.95 through registry and, when match
//  runs, waits until its residents have them; care_tags: a JSON array, or NULL to leave it
//  out. The id into `id`.
void fx_resident_add (const char *name, const char *region, const char *care_tags, char id[32]);

//  A time `days` days from today at hour:minute Beijing time, as RFC 3339 text; *slot (when
//  not NULL) gets the availability slot of that day and hour (mon_am .. sun_ev).
void fx_local (int days, int hour, int minute, char text[64], char slot[8]);

//  A window of `days` days from today, from `from`:00 to `to`:00 Beijing time (start and end as
//  RFC 3339 text), and the availability of a volunteer free at its start: a JSON array of its
//  one slot.
void fx_window (int days, int from, int to, char start[64], char end[64], char availability[64]);

//  ---------------------------------------------------------------------------------------
//  match: requests and offers

//  The JSON body of a request.create: "title" of `category` in `region`, to be served for 60
//  minutes between `start` and `end` by `headcount` volunteers with `skills` (a JSON array);
//  urgency "normal" or "urgent" (NULL: match's default); extra: more JSON members or "".
void fx_request_body (char body[FX_BODY_SIZE], const char *category, const char *title,
                      const char *region, const char *start, const char *end, int headcount,
                      const char *skills, const char *urgency, const char *extra);

//  Posts a request (陪同就医 of 助老, as fx_request_body) as `actor` and checks that it starts
//  in `status` ("open", or "review" where the region reviews) with its one event
//  (request.published, or request.submitted). Its id into `id`.
void fx_request_add (const msg_actor_t *actor, const char *region, const char *start,
                     const char *end, int headcount, const char *skills, const char *urgency,
                     const char *extra, const char *status, char id[32]);

//  Request `id` as request.get shows it to the system (the caller decrefs).
json_t *fx_request_get (const char *id);

//  Waits until request.get shows request `id` in `status`; fails the test after FX_WAIT_MS.
void fx_wait_request (const char *id, const char *status);

//  How many offers volunteer `volunteer` sees in offer.list, of `status` (NULL: of any).
int fx_offers (const char *volunteer, const char *status);

//  The status of offer `offer` as volunteer `volunteer` sees it in offer.list ("" when it is
//  not theirs; a static buffer the next call overwrites).
const char *fx_offer_status (const char *volunteer, const char *offer);

//  Waits until volunteer `volunteer` sees offer `offer` in `status` in offer.list; fails the
//  test after FX_WAIT_MS.
void fx_wait_offer_status (const char *volunteer, const char *offer, const char *status);

//  Waits until volunteer `volunteer` sees a pending offer in offer.list and fails unless it is
//  theirs and of request `request`; its id into `offer`.
void fx_wait_offer (const char *volunteer, const char *request, char offer[32]);

//  Answers offer `offer` with op ("offer.accept" or "offer.decline") as volunteer
//  `volunteer`; the error into *err (may be NULL). Returns the status.
st_status_t fx_answer (const char *op, const char *volunteer, const char *offer, st_error_t *err);

//  One request frame of `op` as a client sends it (a fresh request id into `id`), for tests
//  that drive a socket of their own: many requests in flight at once, in a chosen order.
zframe_t *fx_request_frame (const char *op, const msg_actor_t *actor, const st_desc_t *desc,
                            const void *request, uint8_t id[16]);

//  ---------------------------------------------------------------------------------------
//  Events written as their publisher would

//  Appends event `topic` (its message struct `body`, checked as a publisher checks it) to the
//  outbox of `service` as the superuser, for the publisher's relay to number and its consumers
//  to read: events no op makes on demand (a record checked out a year ago), or many at once.
//  Inside harness_pg's transaction, if open.
void fx_publish (const char *service, const char *topic, const void *body);

//  Creates an activity with the JSON body `body` (activity.create) as the system; its id into
//  `id`.
void fx_activity_add (const char *body, char id[32]);

//  Signs `actor` up to activity `activity` (activity.signup); fails the test unless it succeeds.
void fx_activity_signup (const msg_actor_t *actor, const char *activity);

//  The current check-in code of activity `activity` (activity.checkin_code, as the system)
//  into `code`; fails the test unless there is one.
void fx_checkin_code (const char *activity, char code[16]);

//  The JSON body of a record.checkin to activity `activity` with its current code
//  (fx_checkin_code); extra: more JSON members or "".
void fx_checkin_body (char body[FX_BODY_SIZE], const char *activity, const char *extra);
//  HTTP, to the gateway (fixture_http.c)

//  An answer of the gateway: its status, its body (as text, and as JSON when it is JSON) and
//  the headers tests look at.
typedef struct {
    long status;
    char *text;
    json_t *json; //  NULL when the body is no JSON
    char request_id[80];
    char retry_after[16];
    char allow[64];
    char content_type[80];
    char content_disposition[200];
    size_t size; //  bytes of the body (text holds them, NUL-terminated)
} fx_http_t;

//  Sends `method` `path` (and its query) to the gateway of the fixture, with the session
//  token `token` (NULL: none) and the JSON text `body` (NULL: none), and the header lines
//  given after it ("Idempotency-Key: k"), NULL-terminated. Fails the test when the gateway
//  cannot be reached.
fx_http_t *fx_http (const char *method, const char *path, const char *token, const char *body, ...);

//  The same, to another gateway: the one listening on `port` of 127.0.0.1
//  (harness_start_gateway).
fx_http_t *fx_http_at (int port, const char *method, const char *path, const char *token,
                       const char *body, ...);
void fx_http_free (fx_http_t **self_p);

//  The same with a body of `size` bytes of Content-Type `type` ("text/csv"), which may hold
//  any bytes; header lines after it, NULL-terminated.
fx_http_t *fx_http_typed (const char *method, const char *path, const char *token, const char *type,
                          const char *body, size_t size, ...);

//  Signs in through POST /v1/sessions; the token into `token` (fails the test otherwise).
void fx_http_signin (const char *login, const char *password, char token[64]);

//  A string member of the answer's JSON ("" when none): fx_http_str (answer, "account.id").
const char *fx_http_str (const fx_http_t *self, const char *path);

//  ---------------------------------------------------------------------------------------
//  notify (fixture_notify.c)

//  Turns quiet hours off in `region` (00:00 to 00:00), as the system: the tests run at any hour.
void fx_notify_no_quiet_hours (const char *region);

//  The inbox of `actor` (its first page of 200) as a JSON array of items; the caller decrefs.
json_t *fx_inbox (const msg_actor_t *actor);

//  How many notices of `kind` are in the inbox of `actor`; the first listed (the newest) one's
//  text into `text` (when not NULL).
int fx_notices (const msg_actor_t *actor, const char *kind, char *text, size_t size);

//  Waits until `actor` has a notice of `kind` and returns its text (a static buffer the next
//  call overwrites); fails the test after FX_WAIT_MS.
const char *fx_wait_notice (const msg_actor_t *actor, const char *kind);

//  Fails the test unless `text` contains `part`.
void fx_contains (const char *text, const char *part);

//  Starts a second notify process on the fixture's database and peers, with sockets and a log
//  of its own (notify2.*) in the harness's folder; the caller stops it and waits for it.
pid_t fx_notify_replica (void);

//  Stops a replica fx_notify_replica started (SIGTERM) and fails the test unless it exits 0.
void fx_notify_replica_stop (pid_t pid);

//  Registers two residents of `region` (as fx_resident_add, no care tags): the first reading
//  Chinese, the second English (notify's prefs.set). Their ids into `zh` and `en`.
void fx_residents_zh_en (const char *name_zh, const char *name_en, const char *region, char zh[32],
                         char en[32]);

//  Group teardown for cmocka: destroys the fixture fx_new made last.
int fx_teardown (void **state);

//  Restarts `service`: stops it with signal `sig` and starts it again, waited for.
void fx_restart (const char *service, int sig);

//  RFC 3339 text (UTC) `seconds` from now.
void fx_time (char out[40], int64_t seconds);

//  ---------------------------------------------------------------------------------------
//  The ledger (fixture_ledger.c)

//  Waits until the ledger has read every event match's outbox holds (all numbered, and the
//  ledger's cursor at the last); fails the test after FX_WAIT_MS.
void fx_ledger_caught_up (void);

//  Waits until the ledger knows volunteer `id`; fails the test after FX_WAIT_MS.
void fx_ledger_wait_volunteer (const char *id);

//  The ledger.statement of volunteer `volunteer` as `actor` sees it (the caller decrefs).
json_t *fx_ledger_statement (const msg_actor_t *actor, const char *volunteer);

//  ledger.audit as the system; fails the test unless it finds the books balanced ("ok"),
//  naming `what` (NULL: nothing) and the differences. The audit (the caller decrefs).
json_t *fx_ledger_audit (const char *what);

//  ledger.adjust of `amount` in `unit` (hours, points) for volunteer `volunteer` as `actor`,
//  with `reason`; fails the test unless it succeeds.
void fx_ledger_adjust (const msg_actor_t *actor, const char *volunteer, const char *unit,
                       int amount, const char *reason);

#endif
