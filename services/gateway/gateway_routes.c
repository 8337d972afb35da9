/*  gateway_routes.c — the endpoints of ../shared/design/http-api.md, one row each: method,
    path, the service and op it calls, who may call, the status of success, the query
    parameters it takes. The op checks the actor's role and region; the gateway proves who
    the actor is. A mapping function stands beside a row only where the row is more than
    field-for-field.  */
#include "gateway.h"
#include "st_log.h"

#include <pthread.h>
#include <sodium.h>

#include <stdio.h>
#include <string.h>

//  ---------------------------------------------------------------------------------------
//  Operations endpoints

static int
s_healthz (gw_request_t *request, json_t *body)
{
    (void) body;
    return gw_reply_json (request, 200, json_pack ("{s:s}", "status", "ok"));
}

//  Ready when every service answers sys.ping within a second; 503 naming the first that
//  does not.
static int
s_readyz (gw_request_t *request, json_t *body)
{
    (void) body;
    static const char *const services[] = {"registry", "match", "ledger", "notify"};
    for (size_t i = 0; i < sizeof services / sizeof services[0]; i++) {
        st_error_t err;
        json_t *empty = json_object ();
        json_t *pong = gw_rpc_call (services[i], "sys.ping", NULL, NULL, empty, 1000, &err);
        json_decref (empty);
        if (!pong) {
            st_error_set (&err, ST_UNAVAILABLE, services[i], "%s does not answer: %s", services[i],
                          err.message);
            return gw_reply_error (request, &err);
        }
        json_decref (pong);
    }
    return gw_reply_json (request, 200, json_pack ("{s:s}", "status", "ready"));
}

//  The counters, to Prometheus on this machine only: a scrape from elsewhere goes through a
//  proxy that the operator trusts.
static int
s_metrics (gw_request_t *request, json_t *body)
{
    (void) body;
    char address[64];
    gw_request_address (request, address, sizeof address);
    if (strcmp (address, "127.0.0.1") != 0 && strcmp (address, "::1") != 0) {
        st_error_t err;
        st_error_set (&err, ST_PERMISSION_DENIED, NULL, "metrics are answered on loopback only");
        return gw_reply_error (request, &err);
    }
    return gw_reply_text (request, 200, "text/plain; version=0.0.4; charset=utf-8",
                          gw_metrics_text ());
}

//  The OpenAPI document, made once (the table does not change while the gateway runs).
static char *s_openapi_text;
static pthread_once_t s_openapi_once = PTHREAD_ONCE_INIT;

static void
s_openapi_make (void)
{
    json_t *document = gw_openapi ();
    s_openapi_text = json_dumps (document, JSON_COMPACT);
    json_decref (document);
}

static int
s_openapi (gw_request_t *request, json_t *body)
{
    (void) body;
    pthread_once (&s_openapi_once, s_openapi_make);
    return gw_reply_text (request, 200, "application/json; charset=utf-8",
                          st_strdup (s_openapi_text));
}

//  GET /v1/config: what the pages need before anyone signs in (public, nothing personal).
static int
s_config (gw_request_t *request, json_t *body)
{
    (void) body;
    json_t *answer = json_object ();
    const char *root = gw_http_config ()->root_region;
    if (root && *root)
        json_object_set_new (answer, "root_region", json_string (root));
    return gw_reply_json (request, 200, answer);
}

//  ---------------------------------------------------------------------------------------
//  Sessions

//  The account a session proves, as pages read it: who, in which role and region, and the
//  CSRF token its cookie-authenticated writes carry.
static json_t *
s_session_account (const char *token, const char *account, const char *role, const char *region,
                   const char *volunteer_id, const char *resident_id)
{
    char csrf[44];
    gw_session_csrf (token, csrf);
    json_t *answer = json_pack ("{s:{s:s, s:s, s:s}, s:s}", "account", "id", account, "role", role,
                                "region", region, "csrf", csrf);
    json_t *who = json_object_get (answer, "account");
    if (volunteer_id && *volunteer_id)
        json_object_set_new (who, "volunteer_id", json_string (volunteer_id));
    if (resident_id && *resident_id)
        json_object_set_new (who, "resident_id", json_string (resident_id));
    sodium_memzero (csrf, sizeof csrf);
    return answer;
}

//  POST /v1/sessions {login, password, cookie?}: registry checks the password (argon2id, off
//  its rpc loop); tries are limited per login and per client address before it is asked.
//  With cookie: true (the pages) the token goes into an HttpOnly cookie that no script can
//  read, and the answer carries the CSRF token instead.
static int
s_session_signin (gw_request_t *request, json_t *body)
{
    st_error_t err = {0};
    json_t *cookie = json_object_get (body, "cookie");
    if (cookie && !json_is_boolean (cookie)) {
        st_error_set (&err, ST_INVALID_ARGUMENT, "cookie", "cookie must be true or false");
        return gw_reply_error (request, &err);
    }
    bool by_cookie = json_is_true (cookie);
    json_object_del (body, "cookie");
    const char *login = json_string_value (json_object_get (body, "login"));
    char address[64];
    gw_request_address (request, address, sizeof address);
    if (login) {
        int64_t wait = gw_signin_wait (login, address, &err);
        if (wait < 0)
            return gw_reply_error (request, &err);
        if (wait > 0)
            return gw_reply_wait (request, wait, "login");
    }
    json_t *account = gw_rpc_call ("registry", "session.login", NULL, NULL, body, 30000, &err);
    if (!account) {
        if (err.code == ST_UNAUTHENTICATED && login)
            gw_signin_failed (login, address);
        //  Registry holds the login back on its own count too ("retry after N ms"): the same
        //  429 as the gateway's, the wait as Retry-After (a second when it names none).
        if (err.code == ST_RESOURCE_EXHAUSTED && strcmp (err.field, "login") == 0) {
            const char *after = strstr (err.message, "retry after ");
            long long ms = 1000;
            if (!after || sscanf (after, "retry after %lld ms", &ms) != 1 || ms < 1)
                ms = 1000;
            return gw_reply_wait (request, (ms + 999) / 1000, "login");
        }
        return gw_reply_error (request, &err);
    }
    gw_signin_succeeded (login);
    char token[44];
    if (gw_session_create (account, token, &err) != ST_OK) {
        json_decref (account);
        return gw_reply_error (request, &err);
    }
    //  The login (a phone, for people) is personal: the answer names the account by id.
    json_object_del (account, "login");
    if (by_cookie) {
        const gw_config_t *config = gw_http_config ();
        char header[256];
        snprintf (header, sizeof header,
                  GW_COOKIE "=%s; Path=/; Max-Age=%lld; HttpOnly; SameSite=Strict%s", token,
                  (long long) config->session_max_s, config->tls ? "; Secure" : "");
        gw_request_add_header (request, "Set-Cookie", header);
        sodium_memzero (header, sizeof header);
        json_t *answer =
            s_session_account (token, json_string_value (json_object_get (account, "id")),
                               json_string_value (json_object_get (account, "role")),
                               json_string_value (json_object_get (account, "region")),
                               json_string_value (json_object_get (account, "volunteer_id")),
                               json_string_value (json_object_get (account, "resident_id")));
        json_decref (account);
        sodium_memzero (token, sizeof token);
        return gw_reply_json (request, 201, answer);
    }
    json_t *answer = json_pack ("{s:s, s:o}", "token", token, "account", account);
    sodium_memzero (token, sizeof token);
    return gw_reply_json (request, 201, answer);
}

//  A sign-in waits for argon2id on registry's workers: in a slow slot, so a storm of them
//  holds at most GW_SLOW_SLOTS leases and up no other connection.
static int
s_session_create (gw_request_t *request, json_t *body)
{
    return gw_request_offload (request, s_session_signin, body);
}

//  GET /v1/sessions/current: who the session proves, {"account": null} when none (the pages
//  ask on load, signed in or not).
static int
s_session_current (gw_request_t *request, json_t *body)
{
    (void) body;
    const gw_actor_t *actor = gw_request_actor (request);
    if (!actor)
        return gw_reply_json (request, 200, json_pack ("{s:n}", "account"));
    return gw_reply_json (request, 200,
                          s_session_account (gw_request_token (request), actor->account,
                                             actor->role, actor->region, actor->volunteer_id,
                                             actor->resident_id));
}

static int
s_session_end (gw_request_t *request, json_t *body)
{
    (void) body;
    st_error_t err;
    if (gw_session_end (gw_request_token (request), &err) != ST_OK)
        return gw_reply_error (request, &err);
    //  A shared computer keeps nothing of whoever signed out.
    if (gw_request_by_cookie (request)) {
        gw_request_add_header (request, "Set-Cookie",
                               GW_COOKIE "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
        gw_request_add_header (request, "Clear-Site-Data", "\"cache\", \"storage\"");
    }
    return gw_reply_empty (request, 204);
}

//  ---------------------------------------------------------------------------------------
//  Volunteers

//  PATCH /v1/volunteers/{id}: a move is a transfer, never an update.
static int
s_volunteer_patch (gw_request_t *request, json_t *body)
{
    if (json_object_get (body, "region")) {
        st_error_t err;
        st_error_set (&err, ST_INVALID_ARGUMENT, "region",
                      "a volunteer moves by a transfer (POST /v1/volunteers/{id}/transfer)");
        return gw_reply_error (request, &err);
    }
    if (json_object_get (body, "id_number")) {
        st_error_t err;
        st_error_set (&err, ST_INVALID_ARGUMENT, "id_number", "an ID number is never changed");
        return gw_reply_error (request, &err);
    }
    return 0;
}

//  ---------------------------------------------------------------------------------------
//  Check-in codes

//  GET /v1/activities/{id}/checkin-code.png: the organizer's current code as a QR image. It
//  holds the check-in page's address with the activity and the code, so a phone's own camera
//  opens the page ready to check in; the page's scanner reads the same.
static int
s_checkin_qr (gw_request_t *request, json_t *body)
{
    st_error_t err = {0};
    //  ?at= only makes each fetch a new URL (the page renews the image with the code).
    json_object_del (body, "at");
    json_t *reply = gw_request_call (request, "match", "activity.checkin_code", body, &err);
    if (!reply)
        return gw_reply_error (request, &err);
    const char *host = gw_request_header (request, "Host");
    char text[512];
    snprintf (text, sizeof text, "%s://%s/checkin?activity=%s&code=%s",
              gw_http_config ()->tls ? "https" : "http", host ? host : "localhost",
              json_string_value (json_object_get (body, "id")),
              json_string_value (json_object_get (reply, "code")));
    json_decref (reply);
    uint8_t *png;
    size_t size;
    if (gw_qr_png (text, &png, &size, &err))
        return gw_reply_error (request, &err);
    return gw_reply_bytes (request, 200, "image/png", png, size);
}

//  ---------------------------------------------------------------------------------------
//  Rankings

//  GET /v1/rankings?period=2026-Q4 (or 2026-12, 2026; or month | quarter | year with at=):
//  the period as the ledger names it, and a day in it.
static int
s_ranking_period (gw_request_t *request, json_t *body)
{
    const char *period = json_string_value (json_object_get (body, "period"));
    if (!period || strcmp (period, "month") == 0 || strcmp (period, "quarter") == 0
        || strcmp (period, "year") == 0)
        return 0;
    int year = 0, part = 0;
    char at[16], rest = 0;
    const char *kind = NULL;
    if (sscanf (period, "%4d-Q%1d%c", &year, &part, &rest) == 2 && part >= 1 && part <= 4) {
        kind = "quarter";
        snprintf (at, sizeof at, "%04d-%02d-01", year, 3 * part - 2);
    } else if (sscanf (period, "%4d-%2d%c", &year, &part, &rest) == 2 && part >= 1 && part <= 12
               && strlen (period) == 7) {
        kind = "month";
        snprintf (at, sizeof at, "%04d-%02d-01", year, part);
    } else if (sscanf (period, "%4d%c", &year, &rest) == 1 && strlen (period) == 4) {
        kind = "year";
        snprintf (at, sizeof at, "%04d-01-01", year);
    }
    if (!kind || year < 2000 || year > 2999) {
        st_error_t err;
        st_error_set (&err, ST_INVALID_ARGUMENT, "period",
                      "\"period\" must be a year (2026), a quarter (2026-Q4), a month (2026-12),"
                      " or month, quarter or year with \"at\"");
        return gw_reply_error (request, &err);
    }
    json_object_set_new (body, "period", json_string (kind));
    json_object_set_new (body, "at", json_string (at));
    return 0;
}

//  ---------------------------------------------------------------------------------------
//  The table

#define S_LIST "limit cursor"

const gw_route_t gw_routes[] = {
    {"GET", "/healthz", NULL, NULL, GW_ANYONE, 200, NULL, s_healthz},
    {"GET", "/readyz", NULL, NULL, GW_ANYONE, 200, NULL, s_readyz},
    {"GET", "/metrics", NULL, NULL, GW_ANYONE, 200, NULL, s_metrics},
    {"GET", "/v1/openapi.json", NULL, NULL, GW_ANYONE, 200, NULL, s_openapi},
    {"GET", "/v1/config", NULL, NULL, GW_ANYONE, 200, NULL, s_config},

    {"POST", "/v1/sessions", NULL, NULL, GW_ANYONE, 201, NULL, s_session_create},
    {"GET", "/v1/sessions/current", NULL, NULL, GW_ANYONE, 200, NULL, s_session_current},
    {"DELETE", "/v1/sessions/current", NULL, NULL, GW_SIGNED_IN, 204, NULL, s_session_end},

    //  Regions, categories, accounts, sites, teams (registry)
    {"POST", "/v1/regions", "registry", "region.create", GW_SIGNED_IN, 201, NULL, NULL},
    {"GET", "/v1/regions/{code}", "registry", "region.get", GW_ANYONE, 200, NULL, NULL},
    {"GET", "/v1/categories", "registry", "category.list", GW_SIGNED_IN, 200, "region", NULL},
    {"POST", "/v1/accounts", "registry", "account.create", GW_SIGNED_IN, 201, NULL, gw_map_offload},
    {"POST", "/v1/sites", "registry", "site.create", GW_SIGNED_IN, 201, NULL, NULL},
    {"POST", "/v1/teams", "registry", "team.create", GW_SIGNED_IN, 201, NULL, NULL},
    {"GET", "/v1/teams", "registry", "team.list", GW_SIGNED_IN, 200, S_LIST " region", NULL},
    {"GET", "/v1/teams/{id}", "registry", "team.get", GW_SIGNED_IN, 200, NULL, NULL},
    {"POST", "/v1/teams/{team_id}/members", "registry", "team.invite", GW_SIGNED_IN, 201, NULL,
     NULL},
    {"GET", "/v1/me/invitations", "registry", "invitation.list", GW_SIGNED_IN, 200, NULL, NULL},
    {"POST", "/v1/me/invitations/{id}/accept", "registry", "invitation.accept", GW_SIGNED_IN, 200,
     NULL, NULL},
    {"POST", "/v1/me/invitations/{id}/decline", "registry", "invitation.decline", GW_SIGNED_IN, 200,
     NULL, NULL},

    //  Volunteers and residents (registry)
    {"POST", "/v1/volunteers", "registry", "volunteer.register", GW_ANYONE, 201, NULL,
     gw_map_offload},
    {"GET", "/v1/volunteers", "registry", "volunteer.list", GW_SIGNED_IN, 200,
     S_LIST " region skill category q status", NULL},
    {"GET", "/v1/volunteers/{id}", "registry", "volunteer.get", GW_SIGNED_IN, 200, NULL, NULL},
    {"PATCH", "/v1/volunteers/{id}", "registry", "volunteer.update", GW_SIGNED_IN, 200, NULL,
     s_volunteer_patch},
    {"POST", "/v1/volunteers/{id}/transfer", "registry", "volunteer.transfer", GW_SIGNED_IN, 200,
     NULL, NULL},
    {"POST", "/v1/volunteers/{id}/pii", "registry", "volunteer.reveal", GW_SIGNED_IN, 200, NULL,
     NULL},
    {"POST", "/v1/residents", "registry", "resident.register", GW_ANYONE, 201, NULL,
     gw_map_offload},
    {"GET", "/v1/residents/{id}", "registry", "resident.get", GW_SIGNED_IN, 200, NULL, NULL},
    {"PATCH", "/v1/residents/{id}", "registry", "resident.update", GW_SIGNED_IN, 200, NULL, NULL},
    //  A spreadsheet (text/csv, up to STATION_GATEWAY_CSV_MAX bytes) into volunteer.import's
    //  csv; ?dry_run=true checks every row and saves nothing (the preview before an import).
    {"POST", "/v1/volunteers/import", "registry", "volunteer.import", GW_SIGNED_IN, 200, "dry_run",
     gw_map_csv},
    //  Transfer requests (转移接续): the volunteer asks; the destination's officials list and
    //  decline them (accepting is POST /v1/volunteers/{id}/transfer).
    {"POST", "/v1/me/transfer-requests", "registry", "transfer.request", GW_SIGNED_IN, 201, NULL,
     NULL},
    {"GET", "/v1/transfer-requests", "registry", "transfer.list", GW_SIGNED_IN, 200,
     S_LIST " status region", NULL},
    {"POST", "/v1/transfer-requests/{id}/decline", "registry", "transfer.decline", GW_SIGNED_IN,
     200, NULL, NULL},

    //  Requests, offers, activities, records, wishes (match)
    {"POST", "/v1/requests", "match", "request.create", GW_SIGNED_IN, 201, NULL, NULL},
    {"GET", "/v1/requests", "match", "request.list", GW_SIGNED_IN, 200, S_LIST " region status",
     NULL},
    {"GET", "/v1/requests/{id}", "match", "request.get", GW_SIGNED_IN, 200, NULL, NULL},
    {"POST", "/v1/requests/{id}/review", "match", "request.review", GW_SIGNED_IN, 200, NULL, NULL},
    {"POST", "/v1/requests/{id}/cancel", "match", "request.cancel", GW_SIGNED_IN, 200, NULL, NULL},
    {"POST", "/v1/requests/{id}/rating", "match", "request.rate", GW_SIGNED_IN, 201, NULL, NULL},
    {"GET", "/v1/offers", "match", "offer.list", GW_SIGNED_IN, 200, "status", NULL},
    {"GET", "/v1/me/schedule", "match", "schedule.list", GW_SIGNED_IN, 200, S_LIST, NULL},
    {"POST", "/v1/offers/{id}/accept", "match", "offer.accept", GW_SIGNED_IN, 200, NULL, NULL},
    {"POST", "/v1/offers/{id}/decline", "match", "offer.decline", GW_SIGNED_IN, 200, NULL, NULL},
    {"POST", "/v1/projects", "match", "project.create", GW_SIGNED_IN, 201, NULL, NULL},
    {"POST", "/v1/activities", "match", "activity.create", GW_SIGNED_IN, 201, NULL, NULL},
    {"GET", "/v1/activities", "match", "activity.list", GW_SIGNED_IN, 200,
     S_LIST " region from to category lat lon", NULL},
    {"GET", "/v1/activities/{id}", "match", "activity.get", GW_SIGNED_IN, 200, NULL, NULL},
    {"POST", "/v1/activities/{activity_id}/signups", "match", "activity.signup", GW_SIGNED_IN, 201,
     NULL, NULL},
    {"GET", "/v1/activities/{activity_id}/signups", "match", "activity.roster", GW_SIGNED_IN, 200,
     S_LIST, NULL},
    {"DELETE", "/v1/activities/{activity_id}/signups/me", "match", "activity.withdraw",
     GW_SIGNED_IN, 204, NULL, NULL},
    {"POST", "/v1/activities/{id}/cancel", "match", "activity.cancel", GW_SIGNED_IN, 200, NULL,
     NULL},
    {"GET", "/v1/activities/{id}/checkin-code.png", NULL, NULL, GW_SIGNED_IN, 200, "at",
     s_checkin_qr},
    {"POST", "/v1/checkins", "match", "record.checkin", GW_SIGNED_IN, 201, NULL, NULL},
    {"POST", "/v1/checkouts", "match", "record.checkout", GW_SIGNED_IN, 201, NULL, NULL},
    {"POST", "/v1/service-records/{id}/confirm", "match", "record.confirm", GW_SIGNED_IN, 200, NULL,
     NULL},
    {"GET", "/v1/stats", "match", "stats.region", GW_SIGNED_IN, 200, "region from to", NULL},
    {"GET", "/v1/dispatch/settings/{region}", "match", "settings.get", GW_SIGNED_IN, 200, NULL,
     NULL},
    {"PUT", "/v1/dispatch/settings/{region}", "match", "settings.set", GW_SIGNED_IN, 200, NULL,
     NULL},
    {"GET", "/v1/service-records", "match", "record.list", GW_SIGNED_IN, 200,
     "activity_id request_id", NULL},
    {"POST", "/v1/wishes", "match", "wish.create", GW_SIGNED_IN, 201, NULL, NULL},
    {"POST", "/v1/wishes/{id}/claim", "match", "wish.claim", GW_SIGNED_IN, 200, NULL, NULL},
    {"POST", "/v1/wishes/{id}/fulfil", "match", "wish.fulfil", GW_SIGNED_IN, 200, NULL, NULL},
    {"POST", "/v1/wishes/{id}/confirm", "match", "wish.confirm", GW_SIGNED_IN, 200, NULL, NULL},
    {"GET", "/v1/activities/{id}/checkin-code", "match", "activity.checkin_code", GW_SIGNED_IN, 200,
     NULL, NULL},
    {"POST", "/v1/requests/{id}/assign", "match", "offer.assign", GW_SIGNED_IN, 200, NULL, NULL},
    {"GET", "/v1/dispatch/rounds", "match", "dispatch.rounds", GW_SIGNED_IN, 200, S_LIST " region",
     NULL},
    {"POST", "/v1/activities/backfill", "match", "activity.backfill", GW_SIGNED_IN, 201, NULL,
     NULL},

    //  Hours, points, stars (ledger)
    {"GET", "/v1/volunteers/{volunteer_id}/points", "ledger", "ledger.statement", GW_SIGNED_IN, 200,
     NULL, NULL},
    {"GET", "/v1/volunteers/{volunteer_id}/ledger", "ledger", "ledger.journal", GW_SIGNED_IN, 200,
     S_LIST " unit", NULL},
    {"POST", "/v1/volunteers/{volunteer_id}/ledger/adjustments", "ledger", "ledger.adjust",
     GW_SIGNED_IN, 201, NULL, NULL},

    //  The points store, rankings, figures (ledger)
    {"GET", "/v1/store/items", "ledger", "item.list", GW_SIGNED_IN, 200, S_LIST " region below",
     NULL},
    {"POST", "/v1/store/items", "ledger", "item.create", GW_SIGNED_IN, 201, NULL, NULL},
    {"PATCH", "/v1/store/items/{id}", "ledger", "item.update", GW_SIGNED_IN, 200, NULL, NULL},
    {"POST", "/v1/redemptions", "ledger", "redemption.reserve", GW_SIGNED_IN, 201, NULL, NULL},
    {"GET", "/v1/redemptions", "ledger", "redemption.list", GW_SIGNED_IN, 200,
     S_LIST " volunteer_id status", NULL},
    {"POST", "/v1/redemptions/{id}/fulfil", "ledger", "redemption.fulfil", GW_SIGNED_IN, 200, NULL,
     NULL},
    {"POST", "/v1/redemptions/{id}/cancel", "ledger", "redemption.cancel", GW_SIGNED_IN, 200, NULL,
     NULL},
    {"GET", "/v1/rankings", "ledger", "ranking.list", GW_SIGNED_IN, 200,
     S_LIST " region period by at", s_ranking_period},
    {"GET", "/v1/ledger/stats", "ledger", "ledger.stats", GW_SIGNED_IN, 200, "region from to",
     NULL},
    {"GET", "/v1/ledger/rules/{region}", "ledger", "rules.get", GW_SIGNED_IN, 200, NULL, NULL},
    {"PUT", "/v1/ledger/rules/{region}", "ledger", "rules.set", GW_SIGNED_IN, 200, NULL, NULL},

    //  Notices (notify)
    {"GET", "/v1/inbox", "notify", "inbox.list", GW_SIGNED_IN, 200, S_LIST " unread", NULL},
    {"POST", "/v1/inbox/{id}/read", "notify", "inbox.read", GW_SIGNED_IN, 204, NULL, NULL},
    {"GET", "/v1/me/notifications", "notify", "prefs.get", GW_SIGNED_IN, 200, NULL, NULL},
    {"PUT", "/v1/me/notifications", "notify", "prefs.set", GW_SIGNED_IN, 200, NULL, NULL},
    {"GET", "/v1/channels/{region}", "notify", "channel.get", GW_SIGNED_IN, 200, NULL, NULL},
    {"PUT", "/v1/channels/{region}", "notify", "channel.set", GW_SIGNED_IN, 200, NULL, NULL},
    {"GET", "/v1/deliveries", "notify", "delivery.list", GW_SIGNED_IN, 200,
     S_LIST " status channel", NULL},
    {"POST", "/v1/deliveries/{id}/resend", "notify", "delivery.resend", GW_SIGNED_IN, 200, NULL,
     NULL},
    {"GET", "/v1/notify/stats", "notify", "notify.stats", GW_SIGNED_IN, 200, "region from to",
     NULL},
    {"GET", "/v1/notify/settings/{region}", "notify", "notify.settings.get", GW_SIGNED_IN, 200,
     NULL, NULL},
    {"PUT", "/v1/notify/settings/{region}", "notify", "notify.settings.set", GW_SIGNED_IN, 200,
     NULL, NULL},

    //  Reports and exports (gateway_reports.c: the services' stats and list ops, as CSV)
    {"GET", "/v1/reports/summary", NULL, NULL, GW_SIGNED_IN, 200, "region from to",
     gw_report_summary},
    {"GET", "/v1/reports/quarterly", NULL, NULL, GW_SIGNED_IN, 200, "region quarter",
     gw_report_quarterly},
    //  The county dashboard's top teams (this quarter by default) and the month's themes.
    {"GET", "/v1/stats/teams", "match", "stats.teams", GW_SIGNED_IN, 200, "region from to limit",
     NULL},
    {"GET", "/v1/stats/themes", "match", "stats.themes", GW_SIGNED_IN, 200, "region from to", NULL},
    {"GET", "/v1/exports/volunteers", NULL, NULL, GW_SIGNED_IN, 200, "region status",
     gw_export_volunteers},
    {"GET", "/v1/exports/service-records", NULL, NULL, GW_SIGNED_IN, 200, "region from to",
     gw_export_records},
    {"GET", "/v1/exports/activities/{activity_id}", NULL, NULL, GW_SIGNED_IN, 200, NULL,
     gw_export_roster},
};
const size_t gw_route_count = sizeof gw_routes / sizeof gw_routes[0];
