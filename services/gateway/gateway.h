/*  gateway.h — the HTTP face of Station (issue 22): people reach the services through it.
    It authenticates, maps, calls and answers; it owns no personal data and no business rule.
    Its parts, each a file:
        gateway_http.c      libmicrohttpd: bodies and their limits, the route lookup, one
                            reply helper per kind of answer, security headers
        gateway_parse.c     the request's own parsing, apart from any connection: routes
                            and path parameters, typed path and query texts, JSON and CSV
                            bodies, X-Request-Id, Origin, Bearer (tests/fuzz/fuzz_gateway.c)
        gateway_routes.c    the route table: one row per endpoint of http-api.md
        gateway_rpc.c       leases of rpc clients and a connection, the actor a session
                            proves, request ids from Idempotency-Key
        gateway_sessions.c  sessions (a token's hash, idle and absolute expiry) in the
                            gateway's own schema; the cookie and its CSRF token
        gateway_web.c       the web pages (web/), embedded in the binary
        gateway_qr.c        QR images (libqrencode, libpng)
        gateway_reports.c   reports and CSV exports, from the services' stats and list ops
        gateway_main.c      the process (st_service: keys, database, migrations, sys.ping)  */
#ifndef GATEWAY_H_INCLUDED
#define GATEWAY_H_INCLUDED

#include "st_proto.h"
#include "st_service.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

//  One HTTP request being answered (gateway_http.c owns it).
typedef struct gw_request_s gw_request_t;

//  Who may call a route. Anyone: no session needed (a session, when sent, is still used).
typedef enum { GW_ANYONE, GW_SIGNED_IN } gw_who_t;

//  One endpoint. Path parameters ({name}) and the query parameters listed in `query` (space
//  separated) go into the op's request body under their own names, typed by the op's
//  descriptor; `map`, where a row needs more than that, adjusts the body before the call and
//  may answer by itself (returning non-zero once it has). A route whose `map` is gw_map_csv
//  takes text/csv (a spreadsheet, capped by csv_max), not JSON: its bytes go into the op's
//  `csv` field.
typedef struct {
    const char *method;
    const char *pattern;
    const char *service; //  NULL: `map` answers alone
    const char *op;
    gw_who_t who;
    int status; //  on success: 200, 201 or 204
    const char *query;
    int (*map) (gw_request_t *request, json_t *body);
} gw_route_t;

extern const gw_route_t gw_routes[];
extern const size_t gw_route_count;

//  What a valid session proves (gateway_sessions.c).
typedef struct {
    char account[21];
    char role[33];
    char region[16];
    char volunteer_id[21];
    char resident_id[21];
} gw_actor_t;

//  The gateway's settings, read once at start (gateway_main.c).
typedef struct {
    const char *conninfo;
    const char *keydir;
    const char *http;         //  host:port to listen on
    int64_t threads;          //  requests that call at once (leases: rpc clients and a connection)
    int64_t body_max;         //  bytes of a JSON body
    int64_t csv_max;          //  bytes of a text/csv body (a route with `csv`)
    int64_t call_ms;          //  deadline of one rpc call
    int64_t session_idle_s;   //  a session unused this long ends
    int64_t session_max_s;    //  a session ends this long after sign-in, used or not
    int64_t session_trust_ms; //  a session's check is taken at its word this long
    int64_t sweep_ms;         //  how often ended sessions are removed
    const char *root_region;  //  where the pages' region tree begins ("": none set)
    const char *tls_cert;     //  PEM files: HTTPS when both are given
    const char *tls_key;
    bool tls;
    char *tls_cert_pem, *tls_key_pem; //  their contents, read at start
    int64_t export_max;               //  rows of one CSV export
} gw_config_t;

//  --- gateway_parse.c ---

#define GW_URL_MAX         2048 //  bytes of a path and its query
#define GW_JSON_DEPTH      16   //  nesting of a JSON body
#define GW_PARAMS_MAX      4    //  path parameters of one route
#define GW_PARAM_SIZE      80   //  bytes of a path parameter's name or value, with its NUL
#define GW_REQUEST_ID_SIZE 65   //  an X-Request-Id (up to 64 characters) and its NUL
#define GW_TOKEN_SIZE      64   //  a session token as sent, and its NUL

//  A route's path parameters: each a name and its value.
typedef char gw_params_t[GW_PARAMS_MAX][2][GW_PARAM_SIZE];

//  Whether `path` fits `pattern`; its parameters ({name}) into params, their number into
//  *param_count.
bool gw_parse_match (const char *pattern, const char *path, gw_params_t params, int *param_count);
//  The route of `method` and `path` (gw_routes), its path parameters filled; NULL when none.
//  When the path is known under other methods only, *allow lists them (for 405).
const gw_route_t *gw_parse_route (const char *method, const char *path, gw_params_t params,
                                  int *param_count, char *allow, size_t allow_size);
//  The field of the route's op named `name`, NULL when it has none.
const st_field_t *gw_parse_field (const gw_route_t *route, const char *name);
//  A text from the path or the query as the JSON the field's type wants; NULL with err
//  naming the field when it is not one. Unknown fields stay text (a mapping function reads
//  them).
json_t *gw_parse_typed (const st_field_t *field, const char *name, const char *text,
                        st_error_t *err);
//  A query parameter (`value` NULL when it had no "="), into `body` typed; the route must
//  list it. 0, or -1 with err naming it.
int gw_parse_query_arg (const gw_route_t *route, json_t *body, const char *key, const char *value,
                        st_error_t *err);
//  A request's JSON body (`type` its Content-Type): {} when there is none; NULL with err when
//  it is no JSON object or nests deeper than GW_JSON_DEPTH.
json_t *gw_parse_json_body (const char *text, size_t size, const char *type, st_error_t *err);
//  A text/csv body as the op's `csv` field (hex, as JSON carries bytes); NULL with err when
//  `type` is not text/csv.
json_t *gw_parse_csv_body (const char *text, size_t size, const char *type, st_error_t *err);
//  The client's X-Request-Id (`given`, NULL when none) when it is one we can log (1 to 64 of
//  A-Z a-z 0-9 . _ -), else a fresh one, into id.
void gw_parse_request_id (const char *given, char id[GW_REQUEST_ID_SIZE]);
//  Whether a method only reads (GET, HEAD).
bool gw_parse_is_read (const char *method);
//  Whether a request may go on as far as its Origin tells: a read, a request without Origin
//  (scripts), or a write whose Origin is this Host (a page of this site).
bool gw_parse_origin_ok (const char *method, const char *origin, const char *host);
//  An Authorization header's session token ("Bearer TOKEN") into token: 0, or -1 when the
//  header is not that.
int gw_parse_bearer (const char *header, char token[GW_TOKEN_SIZE]);

//  --- gateway_http.c ---

//  Starts and stops the HTTP daemon. Returns 0, or -1 with err filled.
int gw_http_start (const gw_config_t *config, st_error_t *err);
void gw_http_stop (void);

//  The cookie that carries a page's session (HttpOnly, SameSite=Strict).
#define GW_COOKIE "station_session"

//  The settings the daemon runs with.
const gw_config_t *gw_http_config (void);

//  What a mapping function may read of its request.
const gw_actor_t *gw_request_actor (gw_request_t *request); //  NULL when anonymous
const char *gw_request_header (gw_request_t *request, const char *name);
const char *gw_request_id (gw_request_t *request);
const char *gw_request_token (gw_request_t *request); //  the session's token, NULL if none
bool gw_request_by_cookie (gw_request_t *request);    //  the session came in the cookie
//  A header for the answer (up to three: Set-Cookie, Clear-Site-Data…).
void gw_request_add_header (gw_request_t *request, const char *name, const char *value);
void gw_request_address (gw_request_t *request, char *out, size_t size); //  the client's

//  Answers a slow request (a sign-in's argon2id): `work` (which answers as a handler does)
//  runs once one of GW_SLOW_SLOTS is free, so a storm of them holds at most that many leases
//  (gateway_rpc.c) and the other requests go on. Returns 1 (answered, for a `map`).
#define GW_SLOW_SLOTS 4
int gw_request_offload (gw_request_t *request, int (*work) (gw_request_t *request, json_t *body),
                        json_t *body);
//  Calls the route's op with `body` and answers with its reply, as a plain row does.
int gw_request_answer (gw_request_t *request, json_t *body);
//  The `map` of a plain row whose op is slow (a registration with a password: argon2id):
//  the call and its answer in a slow slot.
int gw_map_offload (gw_request_t *request, json_t *body);

//  The `map` of a route that takes text/csv (see gw_route_t): a file larger than one frame
//  goes to registry in chunks (gateway_import.c); a smaller one is left to the plain call.
int gw_map_csv (gw_request_t *request, json_t *body);

//  The answers; each returns 1 (answered), for `return gw_reply_…` in a mapping function.
int gw_reply_json (gw_request_t *request, int status, json_t *json); //  steals json
int gw_reply_error (gw_request_t *request, const st_error_t *err);
int gw_reply_empty (gw_request_t *request, int status);
int gw_reply_wait (gw_request_t *request, int64_t seconds, const char *field); //  429
//  A text answer of type `type`; takes `text` (malloc'd).
int gw_reply_text (gw_request_t *request, int status, const char *type, char *text);
//  Bytes of type `type`; takes `data` (malloc'd).
int gw_reply_bytes (gw_request_t *request, int status, const char *type, uint8_t *data,
                    size_t size);

//  A file to save, 200 (reports, exports): `data` (malloc'd, `size` bytes) of `type`, with
//  Content-Disposition naming `filename` (plain ASCII, no quote).
int gw_reply_file (gw_request_t *request, const char *type, const char *filename, char *data,
                   size_t size);

//  Calls an op with the request's actor and id; the reply as JSON (the caller's), or NULL
//  with err filled.
json_t *gw_request_call (gw_request_t *request, const char *service, const char *op, json_t *body,
                         st_error_t *err);

//  --- gateway_rpc.c ---

//  Calls `service`'s `op` from this thread: `body` checked against the op's request
//  descriptor (a bad field answers as the service would), `actor` asserted (NULL: none),
//  `id` the request id (NULL: a fresh one). The reply as JSON, or NULL with err filled.
json_t *gw_rpc_call (const char *service, const char *op, const gw_actor_t *actor,
                     const uint8_t id[16], const json_t *body, int64_t timeout_ms, st_error_t *err);

//  The same, the services told `trace` (the HTTP request id) to log with the op.
json_t *gw_rpc_call_traced (const char *service, const char *op, const gw_actor_t *actor,
                            const uint8_t id[16], const char *trace, const json_t *body,
                            int64_t timeout_ms, st_error_t *err);

//  The request id of a POST carrying Idempotency-Key `key` from `account` ("" anonymous):
//  the first 16 bytes of SHA-256 (account ‖ 0x00 ‖ key), so two accounts never collide.
void gw_rpc_idempotent_id (const char *account, const char *key, uint8_t id[16]);

//  The gateway's CURVE secret key (keys derived from it need no file of their own).
const uint8_t *gw_rpc_secret (void);

//  This thread's database connection (sessions), made on first use.
st_db_t *gw_rpc_db (void);

//  Gives back the lease (rpc clients and database connection) this thread took with its
//  first call or gw_rpc_db, if any: a request does once answered, a slow one before it waits
//  for a slot. Nothing may be pending on the connection.
void gw_rpc_release (void);

//  The sessions' guesses kept with this thread's lease (gateway_sessions.c makes them, the
//  lease frees them): the actors tokens last proved with its connection.
typedef struct gw_guesses_s gw_guesses_t;
gw_guesses_t **gw_rpc_guesses (void);
size_t gw_sessions_guesses_size (void);

int gw_rpc_init (st_service_t *service, const gw_config_t *config, st_error_t *err);
void gw_rpc_fini (void);
//  Makes the pool's leases in the background, so that no request waits for one to be made
//  (a database connection opened, rpc clients connected); gw_rpc_fini stops it.
void gw_rpc_warm (void);

//  --- gateway_web.c ---

//  A file of the web pages as embedded (embed_web.cmake writes the table).
typedef struct {
    const char *path; //  "/index.html", "/static/app.js"
    const unsigned char *data, *end;
} gw_web_file_t;
extern const gw_web_file_t gw_web_files[];
extern const size_t gw_web_file_count;

//  A file ready to send: its type, ETag, and gzip copy when that is smaller (else NULL).
typedef struct {
    const char *path, *type;
    const uint8_t *data;
    size_t size;
    uint8_t *gzip;
    size_t gzip_size;
    char etag[24];
} gw_asset_t;

int gw_web_init (st_error_t *err);
void gw_web_fini (void);
//  The file a GET of `path` answers: /static/… itself, a page's path index.html; NULL when
//  none.
const gw_asset_t *gw_web_find (const char *path);

//  --- gateway_qr.c ---

//  The PNG of a QR code holding `text` (malloc'd) into *png, its size into *size; -1 with
//  err filled when it cannot be made.
int gw_qr_png (const char *text, uint8_t **png, size_t *size, st_error_t *err);

//  --- gateway_openapi.c ---

//  The OpenAPI 3.1 document of the route table (the caller's).
json_t *gw_openapi (void);

//  --- gateway_metrics.c ---

//  Counts an answered request (its route, NULL when none matched) and how long it took.
void gw_metrics_http (const gw_route_t *route, int status, int64_t micros);
//  Counts a call to a service's op and its outcome.
void gw_metrics_call (const st_op_desc_t *op, st_status_t outcome);
//  The phases of a request whose times /metrics tells (station_gateway_phase_seconds), to
//  find where a slow answer waited: its connection idle since the last answer was written
//  (the client's turn and the kernel's: wrk sends at once), its headers and body read, the
//  wait for a lease, the session's check (what of it the call did not hide), the rpc call,
//  the answer made (JSON, headers, queued to MHD), the answer written (queued until MHD
//  says it is sent), and the whole (headers read to written).
typedef enum {
    GW_PHASE_IDLE,
    GW_PHASE_READ,
    GW_PHASE_LEASE,
    GW_PHASE_SESSION,
    GW_PHASE_RPC,
    GW_PHASE_REPLY,
    GW_PHASE_WRITE,
    GW_PHASE_TOTAL,
    GW_PHASE_COUNT
} gw_phase_t;
//  Counts `micros` spent in `phase`.
void gw_metrics_phase (gw_phase_t phase, int64_t micros);
//  A session checked: by a proof this process holds (gateway_sessions.c), or by the database.
void gw_metrics_session (bool proved);
//  While `untimed`, this thread's phases are not counted (a scrape of /metrics itself).
void gw_metrics_untimed (bool untimed);
//  A monotonic clock in microseconds (the phases').
int64_t gw_metrics_now_us (void);
//  The Prometheus text of every counter (malloc'd).
char *gw_metrics_text (void);

//  --- gateway_reports.c ---

//  Reads the settings the reports use (the rows of an export).
void gw_reports_init (const gw_config_t *config);
//  The mapping functions of the report and export routes: each answers by itself.
int gw_report_summary (gw_request_t *request, json_t *body);
int gw_report_quarterly (gw_request_t *request, json_t *body);
int gw_export_volunteers (gw_request_t *request, json_t *body);
int gw_export_records (gw_request_t *request, json_t *body);
int gw_export_roster (gw_request_t *request, json_t *body);
//  The OpenAPI "content" of a route this file answers (the caller's), NULL for another.
json_t *gw_reports_openapi (const gw_route_t *route);

//  --- gateway_sessions.c ---

//  Makes a session for an account registry signed in (session.login's reply): the token (43
//  characters, URL-safe base64 of 256 random bits) into `token`.
st_status_t gw_session_create (const json_t *account, char token[44], st_error_t *err);

//  The actor of a live session (its idle expiry pushed back), or ST_UNAUTHENTICATED: from a
//  proof this process holds when the database vouched for the token in the last
//  session-trust-ms, from the database otherwise.
st_status_t gw_session_check (const char *token, gw_actor_t *actor, st_error_t *err);

//  The same check in two halves, for a read whose rpc can go out while the database looks:
//  gw_session_begin sends the check on the lease's connection and gives the actor the token
//  last proved with it, a guess to call with (never an answer: gw_session_finish, which
//  every request that began must call, says whether the session lives and whom it proves, as
//  gw_session_check does). Returns -1 when there is no guess or the check could not be sent:
//  the caller then checks as usual (gw_session_check); 1 when a proof answers at once (the
//  actor in `guess`, the session good, nothing sent: no gw_session_finish).
typedef struct {
    uint8_t hash[32];
    gw_actor_t guess;
    int64_t sent_us; //  when the check went out
} gw_session_pending_t;
int gw_session_begin (const char *token, gw_session_pending_t *pending);
st_status_t gw_session_finish (gw_session_pending_t *pending, gw_actor_t *actor, st_error_t *err);

//  The CSRF token of a session (43 characters): a keyed hash of its token, so it needs no
//  storage and every gateway process computes the same. Pages send it as X-CSRF-Token with
//  every write their cookie authenticates.
void gw_session_csrf (const char *token, char csrf[44]);

//  Ends a session at once (every gateway process reads the same table), and returns once
//  every process's proofs of it have run out (session-trust-ms after the end), having given
//  back the thread's lease before that wait.
st_status_t gw_session_end (const char *token, st_error_t *err);

//  Sign-in limits, per login and per client address (keyed hashes: the table tells neither).
//  The seconds to wait before trying again, 0 when a try may go ahead now.
int64_t gw_signin_wait (const char *login, const char *address, st_error_t *err);
//  Counts a failed sign-in against both; a success clears the login's count.
void gw_signin_failed (const char *login, const char *address);
void gw_signin_succeeded (const char *login);

//  The statements, the expiries and the key of the limits' hashes (derived from the
//  gateway's secret key, so every gateway process keys them alike).
void gw_sessions_prepare (st_db_t *db);
void gw_sessions_init (const gw_config_t *config, const uint8_t secret[32]);
//  Connects `db` (a lease's) and prepares the session's check on it, before any request.
void gw_sessions_warm (st_db_t *db);
//  Removes ended sessions and stale limits (the ticker).
void gw_sessions_tick (st_db_t *db, void *state);

#endif
