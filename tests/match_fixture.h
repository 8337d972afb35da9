/*  match_fixture.h — what the dispatch tests (dispatch_test, dispatch_restart_test,
    requests_test, simulation_test) share, on top of the harness: a fixture of registry and
    match with a gateway client of each; calls of their ops with JSON bodies; SQL as the
    superuser; match's outbox events decoded with the project's codec; people registered
    through registry and waited for in match's replicas; requests posted and offers waited for.

    A test program has one fixture at a time (cmocka's group setup makes it): the helpers
    below act on the one mf_new made last. They fail the test (cmocka) when something they
    need does not happen, so that a test reads as its steps.  */
#ifndef MATCH_FIXTURE_H_INCLUDED
#define MATCH_FIXTURE_H_INCLUDED

#include "harness.h"

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#define MF_WAIT_MS   15000 //  how long a wait for a round or a replica lasts before it fails
#define MF_CALL_MS   30000 //  how long one call of mf_call may take
#define MF_BODY_SIZE 1024  //  the room of a JSON body mf_request_body writes

typedef struct {
    harness_t *h;          //  the database, the keys and the processes
    st_client_t *registry; //  registry's gateway client; NULL when registry was not started
    st_client_t *match;    //  match's gateway client
    pid_t match_pid;       //  match's process as mf_new started it
    int people;            //  how many people mf_volunteer_add and mf_resident_add numbered
} mf_t;

//  The platform's operator, as the gateway asserts it.
extern const msg_actor_t MF_SYSTEM;

//  ---------------------------------------------------------------------------------------
//  The fixture

//  Makes the test database `name` and starts registry (when `registry`) and match on it, each
//  waited for, with a gateway client of each; it is the fixture the helpers below use. Set
//  match's STATION_DISPATCH_* variables before.
mf_t *mf_new (const char *name, bool registry);

//  Stops the services, drops the database and frees the fixture.
void mf_destroy (mf_t **self_p);

//  Creates region `code` named `name` through registry, as the system.
void mf_region_add (const char *code, const char *name);

//  Creates the county the dispatch tests play in: 郴州市 431000, 宜章县 431022, its townships
//  玉溪镇 (100) and 白石渡镇 (101), and their villages 100201, 100202 and 101203.
void mf_county_add (void);

//  ---------------------------------------------------------------------------------------
//  Actors

//  A volunteer's account standing for volunteer `id`.
msg_actor_t mf_volunteer (const char *id);

//  A resident's account standing for resident `id`.
msg_actor_t mf_resident (const char *id);

//  ---------------------------------------------------------------------------------------
//  Calls and replies

//  Calls op `op_name` of `service` ("registry" or "match") as `actor` (NULL: none) with a
//  JSON body, checked and encoded by the client as the gateway would; a fresh request id and
//  MF_CALL_MS. The reply as JSON into *reply (when not NULL and ok; the caller decrefs), the
//  error into *err (may be NULL). Returns the status.
st_status_t mf_call (const char *service, const msg_actor_t *actor, const char *op_name,
                     const char *body, json_t **reply, st_error_t *err);

//  The same with request id `id` (16 bytes, NULL for a fresh one: a call sent again with the
//  same id is the same request to the server) and at most timeout_ms.
st_status_t mf_call_id (const char *service, const msg_actor_t *actor, const char *op_name,
                        const char *body, const uint8_t *id, int timeout_ms, json_t **reply,
                        st_error_t *err);

//  Fails the test unless a call failed with `code` naming `field`, with a message in the
//  house style (not empty, lower case, no final period). `what` names the call.
void mf_expect (const char *what, st_status_t rc, const st_error_t *err, st_status_t code,
                const char *field);

//  A string member of a JSON object ("" when absent).
const char *mf_str (json_t *json, const char *key);

//  An integer member of a JSON object (-1 when absent).
long long mf_int (json_t *json, const char *key);

//  ---------------------------------------------------------------------------------------
//  The database, as the superuser (harness_pg's connection: inside its transaction, if open)

//  The number the first value of a query built from a format reads as (0 when none).
long mf_count (const char *format, ...) __attribute__ ((format (printf, 1, 2)));

//  Runs SQL built from a format; fails the test on error.
void mf_sql (const char *format, ...) __attribute__ ((format (printf, 1, 2)));

//  Runs SQL built from a format and returns its result, which the caller clears; fails the
//  test on error.
PGresult *mf_query (const char *format, ...) __attribute__ ((format (printf, 1, 2)));

//  Waits until a query built from a format reads as `expected`, looking every 50 ms; fails
//  the test after MF_WAIT_MS.
void mf_wait_for (long expected, const char *format, ...) __attribute__ ((format (printf, 2, 3)));

//  Sleeps `ms` milliseconds.
void mf_sleep_ms (int ms);

//  Fails the test naming `what` when `after` differs from `before`: two digests of the
//  database around a call that must change nothing. Frees both.
void mf_unchanged (char *before, char *after, const char *what);

//  ---------------------------------------------------------------------------------------
//  match's outbox

//  How many events of `topic` in match's outbox are about `id` (an offer's or a request's:
//  every dispatch event's first field is its id), each body decoded with the project's codec
//  as a consumer would; fails the test when one does not decode.
int mf_events (const char *topic, const char *id);

//  The same, and the last of them (in outbox order) as JSON into *last when not NULL (NULL
//  when none; the caller decrefs).
int mf_events_json (const char *topic, const char *id, json_t **last);

//  ---------------------------------------------------------------------------------------
//  People, times, requests and offers

//  Registers a volunteer through registry (a distinct valid ID number and phone each) and
//  waits until match's supply has them. skills and availability are JSON arrays, lat and lon
//  place them, extra: more JSON members or "". Their id into `id`.
void mf_volunteer_add (const char *name, const char *region, const char *skills,
                       const char *availability, double lat, double lon, const char *extra,
                       char id[32]);

//  Registers a resident of `region` living at 25.40, 112.95 through registry and waits until
//  match's residents have them; care_tags: a JSON array, or NULL to leave it out. The id into
//  `id`.
void mf_resident_add (const char *name, const char *region, const char *care_tags, char id[32]);

//  A time `days` days from today at hour:minute Beijing time, as RFC 3339 text; *slot (when
//  not NULL) gets the availability slot of that day and hour (mon_am .. sun_ev).
void mf_local (int days, int hour, int minute, char text[64], char slot[8]);

//  A window of `days` days from today, from `from`:00 to `to`:00 Beijing time (start and end as
//  RFC 3339 text), and the availability of a volunteer free at its start: a JSON array of its
//  one slot.
void mf_window (int days, int from, int to, char start[64], char end[64], char availability[64]);

//  The JSON body of a request.create: "title" of `category` in `region`, to be served for 60
//  minutes between `start` and `end` by `headcount` volunteers with `skills` (a JSON array);
//  urgency "normal" or "urgent" (NULL: match's default); extra: more JSON members or "".
void mf_request_body (char body[MF_BODY_SIZE], const char *category, const char *title,
                      const char *region, const char *start, const char *end, int headcount,
                      const char *skills, const char *urgency, const char *extra);

//  Posts a request (陪同就医 of 助老, as mf_request_body) as `actor` and checks that it starts
//  in `status` ("open", or "review" where the region reviews) with its one event
//  (request.published, or request.submitted). Its id into `id`.
void mf_request_add (const msg_actor_t *actor, const char *region, const char *start,
                     const char *end, int headcount, const char *skills, const char *urgency,
                     const char *extra, const char *status, char id[32]);

//  Request `id` as request.get shows it to the system (the caller decrefs).
json_t *mf_request_get (const char *id);

//  Waits until volunteer `volunteer` sees a pending offer in offer.list and fails unless it is
//  theirs and of request `request`; its id into `offer`.
void mf_wait_offer (const char *volunteer, const char *request, char offer[32]);

//  Answers offer `offer` with op ("offer.accept" or "offer.decline") as volunteer
//  `volunteer`; the error into *err (may be NULL). Returns the status.
st_status_t mf_answer (const char *op, const char *volunteer, const char *offer, st_error_t *err);

#endif
