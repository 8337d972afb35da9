/*  gateway_http.c — the HTTP daemon (libmicrohttpd, a thread per connection): reads a
    request within its limits, finds its route, proves its session, builds the op's body from
    the JSON, the path and the query, calls, and answers. Every answer goes through one of
    three helpers (JSON, error, empty), which add the request id and the security headers; a
    request that a handler left unanswered is answered 500 and logged, never dropped.  */
#include "gateway.h"
#include "st_log.h"
#include "st_server.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct gw_request_s {
    struct MHD_Connection *connection;
    const char *method;
    char *body;
    size_t size;
    size_t limit; //  the bytes its body may have: its route's (csv_max or body_max)
    bool too_big;
    bool answered;
    const gw_route_t *route;
    gw_params_t params; //  the path's parameters: each a name and its value
    int param_count;
    char id_text[GW_REQUEST_ID_SIZE]; //  X-Request-Id
    bool signed_in;
    gw_actor_t actor;
    char token[GW_TOKEN_SIZE];
    uint8_t rpc_id[16];
    bool has_rpc_id;
    int64_t began_us;      //  when the request's first part arrived
    int64_t handled_us;    //  when it was whole (its body read), and handling began
    int64_t mark_us;       //  when its last call or check ended (the answer is made from then)
    int64_t queued_us;     //  when its answer went to MHD
    bool by_cookie;        //  the session came in the cookie (writes then need X-CSRF-Token)
    char extra[3][2][320]; //  headers a handler added (Set-Cookie, Clear-Site-Data)
    int extra_count;
};

//  The slow slots (gw_request_offload): how many slow requests run, GW_SLOW_SLOTS at most.
static struct {
    pthread_mutex_t lock;
    pthread_cond_t freed;
    int busy;
} s_slow = {.lock = PTHREAD_MUTEX_INITIALIZER, .freed = PTHREAD_COND_INITIALIZER};

static struct MHD_Daemon *s_daemon;
static const gw_config_t *s_config;

//  ---------------------------------------------------------------------------------------
//  Answers

//  Every answer's headers. No script but the pages' own files, no inline script or style
//  element, no frame; answers of the API are never stored (they are personal), a page's files
//  are checked again each time (their ETag).
static void
s_headers_cached (gw_request_t *self, struct MHD_Response *response, const char *type,
                  const char *cache)
{
    if (type)
        MHD_add_response_header (response, "Content-Type", type);
    MHD_add_response_header (response, "X-Request-Id", self->id_text);
    MHD_add_response_header (response, "Cache-Control", cache);
    MHD_add_response_header (response, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header (response, "Content-Security-Policy",
                             "default-src 'self'; img-src 'self' data: blob:; object-src 'none';"
                             " base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
    MHD_add_response_header (response, "X-Frame-Options", "DENY");
    MHD_add_response_header (response, "Referrer-Policy", "no-referrer");
    MHD_add_response_header (response, "Permissions-Policy",
                             "camera=(self), microphone=(), geolocation=(self)");
    if (s_config->tls)
        MHD_add_response_header (response, "Strict-Transport-Security", "max-age=31536000");
    for (int i = 0; i < self->extra_count; i++)
        MHD_add_response_header (response, self->extra[i][0], self->extra[i][1]);
}

static void
s_headers (gw_request_t *self, struct MHD_Response *response, const char *type)
{
    s_headers_cached (self, response, type, "no-store");
}

void
gw_request_add_header (gw_request_t *self, const char *name, const char *value)
{
    if (self->extra_count == (int) (sizeof self->extra / sizeof self->extra[0]))
        return;
    int i = self->extra_count++;
    snprintf (self->extra[i][0], sizeof self->extra[i][0], "%s", name);
    snprintf (self->extra[i][1], sizeof self->extra[i][1], "%s", value);
}

static int64_t
s_now_us (void)
{
    return gw_metrics_now_us ();
}

//  What a connection keeps between its requests: when its last answer was written.
typedef struct {
    int64_t written_us;
} s_connection_t;

static int
s_queue (gw_request_t *self, int status, struct MHD_Response *response)
{
    MHD_queue_response (self->connection, (unsigned) status, response);
    MHD_destroy_response (response);
    self->answered = true;
    self->queued_us = s_now_us ();
    int64_t from = self->mark_us      ? self->mark_us
                   : self->handled_us ? self->handled_us
                                      : self->began_us;
    gw_metrics_phase (GW_PHASE_REPLY, self->queued_us - from);
    gw_metrics_http (self->route, status, self->queued_us - self->began_us);
    st_log (ST_LOG_DEBUG, self->id_text, "%s %s → %d", self->method,
            self->route ? self->route->pattern : "?", status);
    return 1;
}

int
gw_reply_json (gw_request_t *self, int status, json_t *json)
{
    //  A list always says whether more follows (http-api.md: "next_cursor": null at the end).
    if (json_is_array (json_object_get (json, "items")) && !json_object_get (json, "next_cursor"))
        json_object_set_new (json, "next_cursor", json_null ());
    //  Coordinates and hours as people wrote them (25.4, not 25.399999999999999).
    char *text = json_dumps (json, JSON_COMPACT | JSON_REAL_PRECISION (12));
    json_decref (json);
    if (!text) {
        st_error_t err;
        st_error_set (&err, ST_INTERNAL, NULL, "the answer could not be written");
        return gw_reply_error (self, &err);
    }
    struct MHD_Response *response =
        MHD_create_response_from_buffer (strlen (text), text, MHD_RESPMEM_MUST_FREE);
    s_headers (self, response, "application/json; charset=utf-8");
    return s_queue (self, status, response);
}

//  {"error": error} as text (malloc'd); takes `error`.
static char *
s_error_text (json_t *error)
{
    json_t *answer = json_pack ("{s:o}", "error", error);
    char *text = json_dumps (answer, JSON_COMPACT);
    json_decref (answer);
    return text;
}

int
gw_reply_error (gw_request_t *self, const st_error_t *err)
{
    json_t *error =
        json_pack ("{s:s, s:s}", "code", st_status_name (err->code), "message", err->message);
    if (err->field[0])
        json_object_set_new (error, "field", json_string (err->field));
    int status = st_status_http (err->code);
    if (err->code == ST_INTERNAL)
        st_log (ST_LOG_ERROR, self->id_text, "%s %s: %s", self->method,
                self->route ? self->route->pattern : "?", err->message);
    char *text = s_error_text (error);
    struct MHD_Response *response =
        MHD_create_response_from_buffer (strlen (text), text, MHD_RESPMEM_MUST_FREE);
    s_headers (self, response, "application/json; charset=utf-8");
    if (err->code == ST_UNAUTHENTICATED)
        MHD_add_response_header (response, "WWW-Authenticate", "Bearer");
    return s_queue (self, status, response);
}

int
gw_reply_text (gw_request_t *self, int status, const char *type, char *text)
{
    struct MHD_Response *response =
        MHD_create_response_from_buffer (strlen (text), text, MHD_RESPMEM_MUST_FREE);
    s_headers (self, response, type);
    return s_queue (self, status, response);
}

int
gw_reply_bytes (gw_request_t *self, int status, const char *type, uint8_t *data, size_t size)
{
    struct MHD_Response *response =
        MHD_create_response_from_buffer (size, data, MHD_RESPMEM_MUST_FREE);
    s_headers (self, response, type);
    return s_queue (self, status, response);
}

//  A file of the pages: 304 when the browser has it, its gzip copy when the browser takes
//  gzip.
static int
s_reply_asset (gw_request_t *self, const gw_asset_t *asset)
{
    const char *match = gw_request_header (self, "If-None-Match");
    bool fresh = match && strstr (match, asset->etag);
    const char *encodings = gw_request_header (self, "Accept-Encoding");
    bool gzip = asset->gzip && encodings && strstr (encodings, "gzip");
    struct MHD_Response *response =
        fresh  ? MHD_create_response_from_buffer (0, (void *) "", MHD_RESPMEM_PERSISTENT)
        : gzip ? MHD_create_response_from_buffer (asset->gzip_size, asset->gzip,
                                                  MHD_RESPMEM_PERSISTENT)
               : MHD_create_response_from_buffer (asset->size, (void *) asset->data,
                                                  MHD_RESPMEM_PERSISTENT);
    s_headers_cached (self, response, fresh ? NULL : asset->type, "no-cache");
    MHD_add_response_header (response, "ETag", asset->etag);
    MHD_add_response_header (response, "Vary", "Accept-Encoding");
    if (gzip && !fresh)
        MHD_add_response_header (response, "Content-Encoding", "gzip");
    return s_queue (self, fresh ? 304 : 200, response);
}

int
gw_reply_file (gw_request_t *self, const char *type, const char *filename, char *data, size_t size)
{
    struct MHD_Response *response =
        MHD_create_response_from_buffer (size, data, MHD_RESPMEM_MUST_FREE);
    s_headers (self, response, type);
    char disposition[256];
    snprintf (disposition, sizeof disposition, "attachment; filename=\"%s\"", filename);
    MHD_add_response_header (response, "Content-Disposition", disposition);
    return s_queue (self, 200, response);
}

int
gw_reply_empty (gw_request_t *self, int status)
{
    struct MHD_Response *response =
        MHD_create_response_from_buffer (0, (void *) "", MHD_RESPMEM_PERSISTENT);
    s_headers (self, response, NULL);
    return s_queue (self, status, response);
}

//  An error with a header beside it (Allow, Retry-After).
static int
s_reply_error_with (gw_request_t *self, st_status_t code, const char *field, int status,
                    const char *header, const char *value, const char *format, ...)
{
    st_error_t err = {.code = code};
    snprintf (err.field, sizeof err.field, "%s", field ? field : "");
    va_list args;
    va_start (args, format);
    vsnprintf (err.message, sizeof err.message, format, args);
    va_end (args);
    json_t *error = json_pack ("{s:s, s:s}", "code", st_status_name (code), "message", err.message);
    if (field)
        json_object_set_new (error, "field", json_string (field));
    char *text = s_error_text (error);
    struct MHD_Response *response =
        MHD_create_response_from_buffer (strlen (text), text, MHD_RESPMEM_MUST_FREE);
    s_headers (self, response, "application/json; charset=utf-8");
    if (header)
        MHD_add_response_header (response, header, value);
    return s_queue (self, status, response);
}

int
gw_reply_wait (gw_request_t *self, int64_t seconds, const char *field)
{
    char value[24];
    snprintf (value, sizeof value, "%lld", (long long) seconds);
    return s_reply_error_with (self, ST_RESOURCE_EXHAUSTED, field, 429, "Retry-After", value,
                               "too many tries: try again in %lld s", (long long) seconds);
}

//  ---------------------------------------------------------------------------------------
//  What a mapping function reads

const gw_actor_t *
gw_request_actor (gw_request_t *self)
{
    return self->signed_in ? &self->actor : NULL;
}

const char *
gw_request_header (gw_request_t *self, const char *name)
{
    return MHD_lookup_connection_value (self->connection, MHD_HEADER_KIND, name);
}

const char *
gw_request_id (gw_request_t *self)
{
    return self->id_text;
}

const char *
gw_request_token (gw_request_t *self)
{
    return self->signed_in ? self->token : NULL;
}

bool
gw_request_by_cookie (gw_request_t *self)
{
    return self->signed_in && self->by_cookie;
}

const gw_config_t *
gw_http_config (void)
{
    return s_config;
}

void
gw_request_address (gw_request_t *self, char *out, size_t size)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info (self->connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf (out, size, "?");
    if (!info || !info->client_addr)
        return;
    const struct sockaddr *address = info->client_addr;
    if (address->sa_family == AF_INET)
        inet_ntop (AF_INET, &((const struct sockaddr_in *) address)->sin_addr, out,
                   (socklen_t) size);
    else if (address->sa_family == AF_INET6)
        inet_ntop (AF_INET6, &((const struct sockaddr_in6 *) address)->sin6_addr, out,
                   (socklen_t) size);
}

json_t *
gw_request_call (gw_request_t *self, const char *service, const char *op, json_t *body,
                 st_error_t *err)
{
    json_t *reply = gw_rpc_call_traced (service, op, gw_request_actor (self),
                                        self->has_rpc_id ? self->rpc_id : NULL, self->id_text, body,
                                        s_config->call_ms, err);
    self->mark_us = s_now_us ();
    return reply;
}

//  The session's check (gw_session_check), timed.
static st_status_t
s_session_check (gw_request_t *self, st_error_t *err)
{
    int64_t start = s_now_us ();
    st_status_t rc = gw_session_check (self->token, &self->actor, err);
    self->mark_us = s_now_us ();
    gw_metrics_phase (GW_PHASE_SESSION, self->mark_us - start);
    return rc;
}

//  ---------------------------------------------------------------------------------------
//  Routes

//  The route of a request (gateway_parse.c); its path parameters into self->params.
static const gw_route_t *
s_route (gw_request_t *self, const char *path, char *allow, size_t allow_size)
{
    return gw_parse_route (self->method, path, self->params, &self->param_count, allow, allow_size);
}

typedef struct {
    gw_request_t *request;
    json_t *body;
    st_error_t *err;
    bool failed;
} s_query_t;

static enum MHD_Result
s_query_arg (void *arg, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void) kind;
    s_query_t *query = arg;
    if (gw_parse_query_arg (query->request->route, query->body, key, value, query->err)) {
        query->failed = true;
        return MHD_NO;
    }
    return MHD_YES;
}

//  The request's JSON body: {} when there is none; NULL with err when it is no JSON object.
static json_t *
s_body (gw_request_t *self, st_error_t *err)
{
    return gw_parse_json_body (self->body, self->size, gw_request_header (self, "Content-Type"),
                               err);
}

//  A text/csv body as the op's `csv` field (hex, as JSON carries bytes).
static json_t *
s_csv_body (gw_request_t *self, st_error_t *err)
{
    return gw_parse_csv_body (self->body, self->size, gw_request_header (self, "Content-Type"),
                              err);
}

//  The client's X-Request-Id when it is one we can log (up to 64 of A-Z a-z 0-9 . _ -), or a
//  fresh one.
static void
s_request_id (gw_request_t *self)
{
    gw_parse_request_id (gw_request_header (self, "X-Request-Id"), self->id_text);
}

static bool
s_is_read (const char *method)
{
    return gw_parse_is_read (method);
}

//  A write from a page of another site is refused before anything else (its Origin is not
//  this host); scripts send no Origin.
static int
s_check_origin (gw_request_t *self)
{
    if (gw_parse_origin_ok (self->method, gw_request_header (self, "Origin"),
                            gw_request_header (self, "Host")))
        return 0;
    st_error_t err;
    st_error_set (&err, ST_PERMISSION_DENIED, "Origin", "a write must come from this site's pages");
    gw_reply_error (self, &err);
    return -1;
}

//  The session in the pages' cookie: on a route anyone may call, a stale cookie is no
//  session; a write needs the session's CSRF token beside it (X-CSRF-Token), which a page of
//  another site cannot read.
static int
s_authenticate_cookie (gw_request_t *self, const char *cookie)
{
    st_error_t err = {0};
    if (strlen (cookie) >= sizeof self->token) {
        if (self->route->who == GW_ANYONE)
            return 0;
        st_error_set (&err, ST_UNAUTHENTICATED, "Cookie", "sign in again");
        gw_reply_error (self, &err);
        return -1;
    }
    snprintf (self->token, sizeof self->token, "%s", cookie);
    if (s_session_check (self, &err) != ST_OK) {
        sodium_memzero (self->token, sizeof self->token);
        if (self->route->who == GW_ANYONE && err.code == ST_UNAUTHENTICATED)
            return 0;
        gw_reply_error (self, &err);
        return -1;
    }
    if (!s_is_read (self->method)) {
        char csrf[44];
        gw_session_csrf (self->token, csrf);
        const char *given = gw_request_header (self, "X-CSRF-Token");
        bool good = given && strlen (given) == strlen (csrf)
                    && sodium_memcmp (given, csrf, strlen (csrf)) == 0;
        sodium_memzero (csrf, sizeof csrf);
        if (!good) {
            sodium_memzero (self->token, sizeof self->token);
            st_error_set (&err, ST_PERMISSION_DENIED, "X-CSRF-Token",
                          "reload the page: its form is out of date (X-CSRF-Token)");
            gw_reply_error (self, &err);
            return -1;
        }
    }
    self->signed_in = true;
    self->by_cookie = true;
    return 0;
}

//  The session a request carries (Authorization: Bearer, or the pages' cookie), if any: 0
//  when none or valid, -1 once answered (401).
static int
s_authenticate (gw_request_t *self)
{
    const char *header = gw_request_header (self, "Authorization");
    st_error_t err = {0};
    if (!header) {
        const char *cookie =
            MHD_lookup_connection_value (self->connection, MHD_COOKIE_KIND, GW_COOKIE);
        if (cookie && *cookie)
            return s_authenticate_cookie (self, cookie);
        if (self->route->who == GW_ANYONE)
            return 0;
        st_error_set (&err, ST_UNAUTHENTICATED, "Authorization", "sign in first");
        gw_reply_error (self, &err);
        return -1;
    }
    if (gw_parse_bearer (header, self->token)) {
        st_error_set (&err, ST_UNAUTHENTICATED, "Authorization",
                      "Authorization must be \"Bearer\" and a session token");
        gw_reply_error (self, &err);
        return -1;
    }
    if (s_session_check (self, &err) != ST_OK) {
        gw_reply_error (self, &err);
        return -1;
    }
    self->signed_in = true;
    return 0;
}

//  Answers with the reply of the route's op (taken), or with the error the call failed with.
static int
s_answer_reply (gw_request_t *self, json_t *reply, st_error_t err)
{
    if (!reply && self->has_rpc_id && err.code == ST_CONFLICT && strcmp (err.field, "id") == 0
        && strcmp (err.message, ST_REPLAY_CONFLICT) == 0)
        st_error_set (&err, ST_CONFLICT, "Idempotency-Key",
                      "this Idempotency-Key was already used for a different request");
    if (!reply)
        return gw_reply_error (self, &err);
    if (self->route->status == 204) {
        json_decref (reply);
        return gw_reply_empty (self, 204);
    }
    return gw_reply_json (self, self->route->status ? self->route->status : 200, reply);
}

int
gw_request_answer (gw_request_t *self, json_t *body)
{
    st_error_t err = {0};
    json_t *reply = gw_request_call (self, self->route->service, self->route->op, body, &err);
    return s_answer_reply (self, reply, err);
}

int
gw_request_offload (gw_request_t *self, int (*work) (gw_request_t *request, json_t *body),
                    json_t *body)
{
    //  Waiting for a slot, the request holds no lease (its connection and clients): the
    //  other requests go on with them meanwhile.
    gw_rpc_release ();
    pthread_mutex_lock (&s_slow.lock);
    while (s_slow.busy >= GW_SLOW_SLOTS)
        pthread_cond_wait (&s_slow.freed, &s_slow.lock);
    s_slow.busy++;
    pthread_mutex_unlock (&s_slow.lock);
    work (self, body);
    gw_rpc_release ();
    pthread_mutex_lock (&s_slow.lock);
    s_slow.busy--;
    pthread_cond_signal (&s_slow.freed);
    pthread_mutex_unlock (&s_slow.lock);
    return 1;
}

int
gw_map_offload (gw_request_t *self, json_t *body)
{
    return gw_request_offload (self, gw_request_answer, body);
}

//  The op's request body: the JSON body (or the CSV), the path's parameters and the query's,
//  typed by the op's descriptor. NULL with err when one is wrong.
static json_t *
s_request_body (gw_request_t *self, st_error_t *err)
{
    json_t *body = self->route->map == gw_map_csv ? s_csv_body (self, err) : s_body (self, err);
    if (!body)
        return NULL;
    for (int i = 0; i < self->param_count; i++) {
        json_t *typed = gw_parse_typed (gw_parse_field (self->route, self->params[i][0]),
                                        self->params[i][0], self->params[i][1], err);
        if (!typed) {
            json_decref (body);
            return NULL;
        }
        json_object_set_new (body, self->params[i][0], typed);
    }
    s_query_t query = {self, body, err, false};
    MHD_get_connection_values (self->connection, MHD_GET_ARGUMENT_KIND, s_query_arg, &query);
    if (query.failed) {
        json_decref (body);
        return NULL;
    }
    return body;
}

//  Whether a request may call its op while its session is being checked: a GET with a bearer
//  token of a route that only calls an op that writes nothing. (Its token into self->token.)
static bool
s_speculable (gw_request_t *self)
{
    const gw_route_t *route = self->route;
    if (strcmp (self->method, "GET") != 0 || !route->service || route->map)
        return false;
    const st_op_desc_t *op = st_proto_op (route->service, route->op);
    const char *header = gw_request_header (self, "Authorization");
    return op && !(op->flags & (ST_OP_WRITE | ST_OP_SLOW)) && header
           && gw_parse_bearer (header, self->token) == 0;
}

//  A read whose session is checked while its op runs: the database looks at the token while
//  the service answers the call made as the actor the token last proved with this lease. Only
//  the database's word counts: an ended session is 401 (the read's answer dropped unseen),
//  another actor calls again as that actor. Without a guess, the usual order.
static void
s_answer_speculated (gw_request_t *self)
{
    gw_session_pending_t pending;
    st_error_t err = {0}, check = {0};
    int64_t start = s_now_us ();
    int begun = gw_session_begin (self->token, &pending);
    int64_t sent = s_now_us ();
    if (begun == 1) {
        self->mark_us = sent;
        gw_metrics_phase (GW_PHASE_SESSION, sent - start);
        json_t *body = s_request_body (self, &err);
        if (!body) {
            gw_reply_error (self, &err);
            return;
        }
        self->actor = pending.guess;
        self->signed_in = true;
        gw_request_answer (self, body);
        json_decref (body);
        return;
    }
    if (begun) {
        if (s_authenticate (self))
            return;
        json_t *body = s_request_body (self, &err);
        if (!body) {
            gw_reply_error (self, &err);
            return;
        }
        gw_request_answer (self, body);
        json_decref (body);
        return;
    }
    json_t *body = s_request_body (self, &err);
    json_t *reply = NULL;
    if (body) {
        self->actor = pending.guess;
        self->signed_in = true;
        reply = gw_request_call (self, self->route->service, self->route->op, body, &err);
        self->signed_in = false;
    }
    gw_actor_t actor;
    int64_t finishing = s_now_us ();
    st_status_t checked = gw_session_finish (&pending, &actor, &check);
    self->mark_us = s_now_us ();
    //  What of the check the call did not hide: its sending, and the wait after the call.
    gw_metrics_phase (GW_PHASE_SESSION, (sent - start) + (self->mark_us - finishing));
    if (checked != ST_OK) {
        json_decref (reply);
        json_decref (body);
        gw_reply_error (self, &check);
        return;
    }
    self->signed_in = true;
    bool same = memcmp (&actor, &pending.guess, sizeof actor) == 0;
    self->actor = actor;
    if (!body) {
        gw_reply_error (self, &err);
        return;
    }
    if (!same) {
        json_decref (reply);
        memset (&err, 0, sizeof err);
        reply = gw_request_call (self, self->route->service, self->route->op, body, &err);
    }
    json_decref (body);
    s_answer_reply (self, reply, err);
}

//  Answers a whole request.
static void
s_handle (gw_request_t *self, const char *url)
{
    self->handled_us = s_now_us ();
    gw_metrics_phase (GW_PHASE_READ, self->handled_us - self->began_us);
    s_request_id (self);
    char allow[64];
    st_error_t err = {0};
    if (strlen (url) > GW_URL_MAX) {
        s_reply_error_with (self, ST_INVALID_ARGUMENT, NULL, 414, NULL, NULL,
                            "the URL is longer than %d bytes", GW_URL_MAX);
        return;
    }
    self->route = s_route (self, url, allow, sizeof allow);
    //  A scrape is no request of the API: its phases (and its calls) are not counted.
    if (self->route && strcmp (self->route->pattern, "/metrics") == 0)
        gw_metrics_untimed (true);
    if (!self->route && s_is_read (self->method)) {
        const gw_asset_t *asset = gw_web_find (url);
        if (asset) {
            s_reply_asset (self, asset);
            return;
        }
    }
    if (!self->route) {
        if (*allow)
            s_reply_error_with (self, ST_INVALID_ARGUMENT, NULL, 405, "Allow", allow,
                                "%s is not allowed here (allowed: %s)", self->method, allow);
        else {
            st_error_set (&err, ST_NOT_FOUND, NULL, "no such endpoint");
            gw_reply_error (self, &err);
        }
        return;
    }
    if (self->too_big) {
        s_reply_error_with (self, ST_INVALID_ARGUMENT, NULL, 413, NULL, NULL,
                            "the body is larger than %lld bytes", (long long) self->limit);
        return;
    }
    if (s_check_origin (self))
        return;
    if (s_speculable (self)) {
        s_answer_speculated (self);
        return;
    }
    if (s_authenticate (self))
        return;
    json_t *body = s_request_body (self, &err);
    if (!body) {
        gw_reply_error (self, &err);
        return;
    }
    //  A POST's Idempotency-Key is its request id: a retry is answered from the stored reply.
    const char *key = gw_request_header (self, "Idempotency-Key");
    if (key && strcmp (self->method, "POST") == 0) {
        if (!*key || strlen (key) > 255) {
            json_decref (body);
            st_error_set (&err, ST_INVALID_ARGUMENT, "Idempotency-Key",
                          "Idempotency-Key must be 1 to 255 characters");
            gw_reply_error (self, &err);
            return;
        }
        gw_rpc_idempotent_id (self->signed_in ? self->actor.account : "", key, self->rpc_id);
        self->has_rpc_id = true;
    }
    if (self->route->map && self->route->map (self, body)) {
        json_decref (body);
        return;
    }
    if (!self->answered && self->route->service)
        gw_request_answer (self, body);
    json_decref (body);
}

static enum MHD_Result
s_access (void *cls, struct MHD_Connection *connection, const char *url, const char *method,
          const char *version, const char *upload_data, size_t *upload_data_size, void **state)
{
    (void) cls, (void) version;
    gw_request_t *self = *state;
    if (!self) {
        self = st_calloc (1, sizeof *self);
        self->connection = connection;
        self->method = method;
        self->began_us = s_now_us ();
        *state = self;
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info (connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        s_connection_t *kept = info ? info->socket_context : NULL;
        if (kept && kept->written_us)
            gw_metrics_phase (GW_PHASE_IDLE, self->began_us - kept->written_us);
        return MHD_YES;
    }
    if (*upload_data_size) {
        //  Past the limit the rest is read and dropped, and the answer is 413. A route that
        //  takes a spreadsheet has a limit of its own.
        if (!self->limit) {
            char allow[64];
            const gw_route_t *route = s_route (self, url, allow, sizeof allow);
            bool csv = route && route->map == gw_map_csv;
            self->limit = (size_t) (csv ? s_config->csv_max : s_config->body_max);
        }
        if (!self->too_big && self->size + *upload_data_size <= self->limit) {
            self->body = realloc (self->body, self->size + *upload_data_size + 1);
            memcpy (self->body + self->size, upload_data, *upload_data_size);
            self->size += *upload_data_size;
            self->body[self->size] = '\0';
        } else
            self->too_big = true;
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (self->answered)
        return MHD_YES;
    s_handle (self, url);
    gw_metrics_untimed (false);
    //  Answered: the lease goes back for the next request, whichever connection it is on.
    gw_rpc_release ();
    if (!self->answered) {
        //  A handler that neither answered nor failed is a bug: say so, never hang.
        st_log (ST_LOG_ERROR, self->id_text, "%s %s: the handler gave no answer", method, url);
        st_error_t err;
        st_error_set (&err, ST_INTERNAL, NULL, "no answer was made");
        gw_reply_error (self, &err);
    }
    return MHD_YES;
}

static void
s_completed (void *cls, struct MHD_Connection *connection, void **state,
             enum MHD_RequestTerminationCode code)
{
    (void) cls;
    gw_request_t *self = *state;
    if (self && self->queued_us && code == MHD_REQUEST_TERMINATED_COMPLETED_OK
        && !(self->route && strcmp (self->route->pattern, "/metrics") == 0)) {
        int64_t now = s_now_us ();
        gw_metrics_phase (GW_PHASE_WRITE, now - self->queued_us);
        gw_metrics_phase (GW_PHASE_TOTAL, now - self->began_us);
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info (connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        s_connection_t *kept = info ? info->socket_context : NULL;
        if (kept)
            kept->written_us = now;
    }
    if (self) {
        free (self->body);
        sodium_memzero (self->token, sizeof self->token);
        free (self);
        *state = NULL;
    }
}

//  A connection's own state (s_connection_t) from its start to its end.
static void
s_connection (void *cls, struct MHD_Connection *connection, void **socket_context,
              enum MHD_ConnectionNotificationCode code)
{
    (void) cls, (void) connection;
    if (code == MHD_CONNECTION_NOTIFY_STARTED)
        *socket_context = st_calloc (1, sizeof (s_connection_t));
    else {
        free (*socket_context);
        *socket_context = NULL;
    }
}

static void
s_mhd_log (void *cls, const char *format, va_list args)
{
    (void) cls;
    char line[512];
    vsnprintf (line, sizeof line, format, args);
    line[strcspn (line, "\n")] = '\0';
    st_warn ("http: %s", line);
}

int
gw_http_start (const gw_config_t *config, st_error_t *err)
{
    s_config = config;
    //  host:port
    const char *colon = strrchr (config->http, ':');
    char host[64];
    long port = colon ? strtol (colon + 1, NULL, 10) : 0;
    snprintf (host, sizeof host, "%.*s", colon ? (int) (colon - config->http) : 0, config->http);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons ((uint16_t) port)};
    if (!colon || port <= 0 || port > 65535 || inet_pton (AF_INET, host, &address.sin_addr) != 1)
        return st_error_set (err, ST_INVALID_ARGUMENT, "http",
                             "STATION_GATEWAY_HTTP must be an IPv4 address and a port, such as"
                             " 127.0.0.1:8080, not \"%s\"",
                             config->http),
               -1;
    gw_web_init (err);
    //  HTTPS when given a certificate (browsers open the camera only on a secure origin).
    struct MHD_OptionItem tls[] = {
        {MHD_OPTION_HTTPS_MEM_KEY, 0, config->tls_key_pem},
        {MHD_OPTION_HTTPS_MEM_CERT, 0, config->tls_cert_pem},
        {MHD_OPTION_END, 0, NULL},
    };
    //  A thread per connection (512 KB of stack each): a request that waits for its call holds
    //  up no other connection. With a pool of threads, each serving the connections it
    //  happened to accept, 8 connections landed on 5 or 6 of 8 threads and a request waited
    //  for its thread's other connections' calls (bench_gateway).
    s_daemon = MHD_start_daemon (
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL
            | MHD_USE_ERROR_LOG | (config->tls ? MHD_USE_TLS : 0),
        (uint16_t) port, NULL, NULL, s_access, NULL, MHD_OPTION_ARRAY, config->tls ? tls : tls + 2,
        MHD_OPTION_EXTERNAL_LOGGER, s_mhd_log, NULL, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *) &address, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) 30,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned) 1000, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned) 0, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) 64 * 1024,
        MHD_OPTION_THREAD_STACK_SIZE, (size_t) 512 * 1024, MHD_OPTION_NOTIFY_COMPLETED, s_completed,
        NULL, MHD_OPTION_NOTIFY_CONNECTION, s_connection, NULL, MHD_OPTION_END);
    if (!s_daemon)
        return st_error_set (err, ST_UNAVAILABLE, "http", "could not listen on %s: %s",
                             config->http, strerror (errno)),
               -1;
    return 0;
}

void
gw_http_stop (void)
{
    if (s_daemon)
        MHD_stop_daemon (s_daemon);
    s_daemon = NULL;
    gw_web_fini ();
}
