/*  gateway_test.c — the HTTP API (issue 22) against the real stack: every service and the
    gateway as processes, real HTTP over 127.0.0.1. What a client sends, what it gets, what
    the services then hold.  */
#include "fixture.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

static void s_run_ok (const char *command);
static void s_save_body (fx_http_t **answer_p, const char *name, char path[512]);

#define COUNTY   "431022000000"
#define VILLAGE  "431022100201"
#define ADMIN    "county-admin"
#define PASSWORD "correct horse battery"

static int
s_setup (void **state)
{
    (void) state;
    //  Every op's log line, to find the HTTP request ids in them.
    setenv ("STATION_TEST_LOG_LEVEL", "debug", 1);
    fx_new ("gateway_test", FX_REGISTRY | FX_MATCH | FX_LEDGER | FX_NOTIFY | FX_GATEWAY);
    fx_county_add ();
    json_decref (fx_call_ok ("registry", &FX_SYSTEM, "account.create",
                             "{\"login\": \"" ADMIN "\", \"password\": \"" PASSWORD "\","
                             " \"role\": \"region_admin\", \"region\": \"" COUNTY "\"}"));
    return 0;
}

//  Fails unless the answer is an error of `status` and `code` naming `field` (NULL: none).
static void
s_expect_error (fx_http_t *answer, long status, const char *code, const char *field)
{
    if (answer->status != status || strcmp (fx_http_str (answer, "error.code"), code) != 0
        || strcmp (fx_http_str (answer, "error.field"), field ? field : "") != 0)
        fail_msg ("expected %ld %s naming \"%s\", got %ld %s", status, code, field ? field : "",
                  answer->status, answer->text);
    assert_true (*fx_http_str (answer, "error.message"));
    assert_true (*answer->request_id);
}

//  Fails unless the answer has `status`, showing what it said.
static void
s_check (const fx_http_t *answer, long status)
{
    if (answer->status != status)
        fail_msg ("expected %ld, got %ld %s", status, answer->status, answer->text);
}

//  The answer of one request, checked for its status and freed.
static void
s_status (long status, const char *method, const char *path, const char *token, const char *body)
{
    fx_http_t *answer = fx_http (method, path, token, body, NULL);
    if (answer->status != status)
        fail_msg ("%s %s: expected %ld, got %ld %s", method, path, status, answer->status,
                  answer->text);
    fx_http_free (&answer);
}

//  ---------------------------------------------------------------------------------------

static void
test_health_and_the_shape_of_answers (void **state)
{
    (void) state;
    fx_http_t *answer = fx_http ("GET", "/healthz", NULL, NULL, "X-Request-Id: trace.me-1", NULL);
    assert_int_equal (answer->status, 200);
    assert_string_equal (answer->request_id, "trace.me-1");
    assert_non_null (strstr (answer->content_type, "application/json"));
    fx_http_free (&answer);

    //  A request id we cannot log as it is gets replaced, never echoed.
    answer = fx_http ("GET", "/healthz", NULL, NULL, "X-Request-Id: a b<script>", NULL);
    assert_int_equal (answer->status, 200);
    assert_true (strlen (answer->request_id) > 0);
    assert_null (strchr (answer->request_id, '<'));
    fx_http_free (&answer);

    answer = fx_http ("GET", "/readyz", NULL, NULL, NULL);
    assert_int_equal (answer->status, 200);
    fx_http_free (&answer);

    answer = fx_http ("GET", "/v1/nothing-here", NULL, NULL, NULL);
    s_expect_error (answer, 404, "not_found", NULL);
    fx_http_free (&answer);

    answer = fx_http ("PUT", "/v1/sessions", NULL, "{}", NULL);
    assert_int_equal (answer->status, 405);
    assert_string_equal (answer->allow, "POST");
    fx_http_free (&answer);

    //  No session, a made-up one, a malformed header: 401 naming Authorization.
    answer = fx_http ("GET", "/v1/volunteers/1", NULL, NULL, NULL);
    s_expect_error (answer, 401, "unauthenticated", "Authorization");
    fx_http_free (&answer);
    answer = fx_http ("GET", "/v1/volunteers/1", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                      NULL, NULL);
    s_expect_error (answer, 401, "unauthenticated", "Authorization");
    fx_http_free (&answer);
    answer = fx_http ("GET", "/v1/volunteers/1", NULL, NULL, "Authorization: Basic eDp5", NULL);
    s_expect_error (answer, 401, "unauthenticated", "Authorization");
    fx_http_free (&answer);
}

static void
test_bad_requests_are_refused_before_any_call (void **state)
{
    (void) state;
    const char *count = "SELECT count (*) FROM registry.volunteers";
    long before = fx_count ("%s", count);

    fx_http_t *answer = fx_http ("POST", "/v1/volunteers", NULL, "{\"name\": ", NULL);
    s_expect_error (answer, 400, "invalid_argument", NULL);
    fx_http_free (&answer);

    answer = fx_http ("POST", "/v1/volunteers", NULL, "[1, 2]", NULL);
    s_expect_error (answer, 400, "invalid_argument", NULL);
    fx_http_free (&answer);

    //  Nesting is bounded before the parser sees it.
    char deep[512] = "{\"a\": ";
    for (int i = 0; i < 100; i++)
        strcat (deep, "[");
    for (int i = 0; i < 100; i++)
        strcat (deep, "]");
    strcat (deep, "}");
    answer = fx_http ("POST", "/v1/volunteers", NULL, deep, NULL);
    s_expect_error (answer, 400, "invalid_argument", NULL);
    assert_non_null (strstr (fx_http_str (answer, "error.message"), "deeper"));
    fx_http_free (&answer);

    //  A field the op declares, checked by the same descriptor the service uses.
    answer = fx_http ("POST", "/v1/volunteers", NULL,
                      "{\"name\": \"张三\", \"id_number\": \"11010519491231002X\","
                      " \"phone\": \"13812345678\", \"region\": \"" VILLAGE "\", \"skills\": 7}",
                      NULL);
    s_expect_error (answer, 400, "invalid_argument", "skills");
    fx_http_free (&answer);

    //  Too big: 413, whatever it holds.
    size_t size = 2 * 1024 * 1024;
    char *big = malloc (size + 1);
    memset (big, ' ', size);
    big[0] = '{', big[size - 1] = '}', big[size] = '\0';
    answer = fx_http ("POST", "/v1/volunteers", NULL, big, NULL);
    assert_int_equal (answer->status, 413);
    fx_http_free (&answer);
    free (big);

    //  Duplicate keys are ambiguous: refused.
    answer = fx_http ("POST", "/v1/sessions", NULL, "{\"login\": \"a\", \"login\": \"b\"}", NULL);
    s_expect_error (answer, 400, "invalid_argument", NULL);
    fx_http_free (&answer);

    assert_int_equal (fx_count ("%s", count), before);
}

static void
test_sessions_sign_in_use_and_end (void **state)
{
    (void) state;
    char token[64];
    fx_http_signin (ADMIN, PASSWORD, token);
    assert_int_equal (strlen (token), 43);
    //  The table keeps the token's hash only.
    assert_int_equal (fx_count ("SELECT count (*) FROM gateway.sessions WHERE token_hash ="
                                " sha256 (convert_to ('%s', 'UTF8'))",
                                token),
                      1);
    assert_int_equal (fx_count ("SELECT count (*) FROM gateway.sessions s WHERE"
                                " position ('%s' IN s::text) > 0",
                                token),
                      0);

    //  The region is public; a list needs the session and takes known filters only.
    fx_http_t *answer = fx_http ("GET", "/v1/regions/" COUNTY, NULL, NULL, NULL);
    assert_int_equal (answer->status, 200);
    assert_string_equal (fx_http_str (answer, "name"), "宜章县");
    fx_http_free (&answer);
    answer = fx_http ("GET", "/v1/volunteers?region=" COUNTY "&limit=5", token, NULL, NULL);
    assert_int_equal (answer->status, 200);
    assert_true (json_is_array (json_object_get (answer->json, "items")));
    fx_http_free (&answer);
    answer = fx_http ("GET", "/v1/volunteers?regoin=" COUNTY, token, NULL, NULL);
    s_expect_error (answer, 400, "invalid_argument", "regoin");
    fx_http_free (&answer);
    answer = fx_http ("GET", "/v1/volunteers?limit=many", token, NULL, NULL);
    s_expect_error (answer, 400, "invalid_argument", "limit");
    fx_http_free (&answer);

    //  Signed out: the same token is refused at once.
    s_status (204, "DELETE", "/v1/sessions/current", token, NULL);
    answer = fx_http ("GET", "/v1/volunteers?region=" COUNTY, token, NULL, NULL);
    s_expect_error (answer, 401, "unauthenticated", "Authorization");
    fx_http_free (&answer);
    assert_int_equal (fx_count ("SELECT count (*) FROM gateway.sessions WHERE token_hash ="
                                " sha256 (convert_to ('%s', 'UTF8'))",
                                token),
                      0);
}

static void
test_sign_in_tries_are_limited (void **state)
{
    (void) state;
    json_decref (fx_call_ok ("registry", &FX_SYSTEM, "account.create",
                             "{\"login\": \"station-clerk\", \"password\": \"" PASSWORD "\","
                             " \"role\": \"station_admin\", \"region\": \"" VILLAGE "\"}"));
    const char *wrong = "{\"login\": \"station-clerk\", \"password\": \"not the password\"}";
    for (int i = 0; i < 3; i++) {
        fx_http_t *answer = fx_http ("POST", "/v1/sessions", NULL, wrong, NULL);
        s_expect_error (answer, 401, "unauthenticated", NULL);
        fx_http_free (&answer);
    }
    //  The fourth waits, and says how long, even with the right password.
    fx_http_t *answer =
        fx_http ("POST", "/v1/sessions", NULL,
                 "{\"login\": \"station-clerk\", \"password\": \"" PASSWORD "\"}", NULL);
    s_expect_error (answer, 429, "resource_exhausted", "login");
    assert_true (atoi (answer->retry_after) >= 1);
    fx_http_free (&answer);
    //  Another login from the same address is not held back.
    char token[64];
    fx_http_signin (ADMIN, PASSWORD, token);
    //  Once the wait is over, the right password gets in.
    fx_sleep_ms (1100);
    fx_http_signin ("station-clerk", PASSWORD, token);
    assert_int_equal (fx_count ("SELECT count (*) FROM gateway.signin_limits"), 1);
}

static void
test_a_volunteer_registers_signs_in_and_reads_their_own (void **state)
{
    (void) state;
    const char *body = "{\"name\": \"刘晓红\", \"id_number\": \"11010519491231002X\","
                       " \"phone\": \"13712345678\", \"password\": \"" PASSWORD "\","
                       " \"region\": \"" VILLAGE "\", \"skills\": [\"急救\"]}";
    fx_http_t *answer = fx_http ("POST", "/v1/volunteers", NULL, body, NULL);
    assert_int_equal (answer->status, 201);
    char id[32];
    snprintf (id, sizeof id, "%s", fx_http_str (answer, "id"));
    assert_true (*id);
    assert_string_equal (fx_http_str (answer, "phone"), "137****5678");
    assert_string_equal (fx_http_str (answer, "name"), "刘晓红");
    fx_http_free (&answer);

    char token[64], path[128];
    fx_http_signin ("13712345678", PASSWORD, token);
    snprintf (path, sizeof path, "/v1/volunteers/%s", id);
    answer = fx_http ("GET", path, token, NULL, NULL);
    assert_int_equal (answer->status, 200);
    assert_string_equal (fx_http_str (answer, "id"), id);
    fx_http_free (&answer);

    //  Someone else's record does not exist for them.
    char other[32];
    fx_volunteer_add ("王五", VILLAGE, "[]", "[]", 25.4, 112.95, "", other);
    snprintf (path, sizeof path, "/v1/volunteers/%s", other);
    answer = fx_http ("GET", path, token, NULL, NULL);
    s_expect_error (answer, 404, "not_found", "id");
    fx_http_free (&answer);

    //  A move is a transfer, never a PATCH; nothing changes.
    snprintf (path, sizeof path, "/v1/volunteers/%s", id);
    answer = fx_http ("PATCH", path, token, "{\"region\": \"431022101203\"}", NULL);
    s_expect_error (answer, 400, "invalid_argument", "region");
    fx_http_free (&answer);
    answer = fx_http ("PATCH", path, token, "{\"skills\": [\"急救\", \"理发\"]}", NULL);
    assert_int_equal (answer->status, 200);
    assert_int_equal (json_array_size (json_object_get (answer->json, "skills")), 2);
    assert_string_equal (fx_http_str (answer, "region"), VILLAGE);
    fx_http_free (&answer);

    //  The session proves the actor: a body that names another changes nothing.
    answer = fx_http ("GET", "/v1/offers", token, NULL, NULL);
    assert_int_equal (answer->status, 200);
    fx_http_free (&answer);
    snprintf (path, sizeof path, "/v1/volunteers/%s/points", id);
    answer = fx_http ("GET", path, token, NULL, NULL);
    assert_int_equal (answer->status, 200);
    fx_http_free (&answer);
    snprintf (path, sizeof path, "/v1/volunteers/%s/points", other);
    answer = fx_http ("GET", path, token, NULL, NULL);
    s_expect_error (answer, 404, "not_found", "volunteer_id");
    fx_http_free (&answer);
}

static void
test_idempotency_keys (void **state)
{
    (void) state;
    char admin[64], clerk[64], body[FX_BODY_SIZE], start[64], end[64], slots[64];
    fx_http_signin (ADMIN, PASSWORD, admin);
    fx_http_signin ("station-clerk", PASSWORD, clerk);
    fx_window (3, 9, 11, start, end, slots);
    fx_request_body (body, "助老", "修水管", VILLAGE, start, end, 1, "[]", "normal", "");
    const char *count = "SELECT count (*) FROM match.requests WHERE title = '修水管'";

    fx_http_t *first = fx_http ("POST", "/v1/requests", admin, body, "Idempotency-Key: k-1",
                                "X-Request-Id: office-pc.42", NULL);
    assert_int_equal (first->status, 201);
    assert_string_equal (first->request_id, "office-pc.42");
    //  The service logged the op with the HTTP request's id (it writes the op's line once the
    //  reply is on its way: look until it is there).
    char path[512], line[1024];
    snprintf (path, sizeof path, "%s/match.log", harness_dir (fx_harness ()));
    bool traced = false;
    for (int tries = 0; !traced && tries < FX_WAIT_MS / 50; tries++) {
        if (tries)
            fx_sleep_ms (50);
        FILE *log = fopen (path, "r");
        while (log && fgets (line, sizeof line, log))
            traced = traced
                     || (strstr (line, "op=request.create") && strstr (line, "trace=office-pc.42"));
        if (log)
            fclose (log);
    }
    assert_true (traced);
    fx_http_t *again = fx_http ("POST", "/v1/requests", admin, body, "Idempotency-Key: k-1", NULL);
    assert_int_equal (again->status, 201);
    assert_string_equal (fx_http_str (again, "id"), fx_http_str (first, "id"));
    assert_int_equal (fx_count ("%s", count), 1);
    fx_http_free (&again);

    //  The same key with another body is a conflict, and changes nothing.
    char other[FX_BODY_SIZE];
    fx_request_body (other, "助老", "修水管", VILLAGE, start, end, 2, "[]", "normal", "");
    again = fx_http ("POST", "/v1/requests", admin, other, "Idempotency-Key: k-1", NULL);
    s_expect_error (again, 409, "conflict", "Idempotency-Key");
    fx_http_free (&again);
    assert_int_equal (fx_count ("%s", count), 1);

    //  Another account's same key is another request.
    again = fx_http ("POST", "/v1/requests", clerk, body, "Idempotency-Key: k-1", NULL);
    assert_int_equal (again->status, 201);
    assert_string_not_equal (fx_http_str (again, "id"), fx_http_str (first, "id"));
    fx_http_free (&again);
    assert_int_equal (fx_count ("%s", count), 2);

    //  Without a key, each POST is its own.
    again = fx_http ("POST", "/v1/requests", admin, body, NULL);
    assert_int_equal (again->status, 201);
    fx_http_free (&again);
    assert_int_equal (fx_count ("%s", count), 3);
    fx_http_free (&first);

    //  A list says where it ends: next_cursor is null on the last page, present on others.
    fx_http_t *page = fx_http ("GET", "/v1/requests?region=" COUNTY "&limit=2", admin, NULL, NULL);
    assert_int_equal (page->status, 200);
    assert_int_equal (json_array_size (json_object_get (page->json, "items")), 2);
    assert_true (*fx_http_str (page, "next_cursor"));
    fx_http_free (&page);
    page = fx_http ("GET", "/v1/requests?region=" COUNTY "&limit=500", admin, NULL, NULL);
    assert_int_equal (json_array_size (json_object_get (page->json, "items")), 3);
    assert_true (json_is_null (json_object_get (page->json, "next_cursor")));
    fx_http_free (&page);
}

static void
test_metrics_are_prometheus_text (void **state)
{
    (void) state;
    s_status (200, "GET", "/healthz", NULL, NULL);
    s_status (404, "GET", "/v1/nothing-here", NULL, NULL);
    fx_http_t *answer = fx_http ("GET", "/metrics", NULL, NULL, NULL);
    assert_int_equal (answer->status, 200);
    assert_non_null (strstr (answer->content_type, "text/plain"));
    assert_non_null (strstr (answer->text, "station_http_requests_total{method=\"GET\","
                                           "route=\"/healthz\",status=\"200\"}"));
    assert_non_null (strstr (answer->text, "station_http_requests_total{route=\"none\","
                                           "status=\"404\"}"));
    assert_non_null (strstr (answer->text, "station_http_request_duration_seconds_bucket"));
    assert_non_null (strstr (answer->text, "station_rpc_calls_total{service=\"registry\","
                                           "op=\"session.login\",outcome=\"ok\"}"));
    //  What Prometheus' own checker says of it.
    char path[512], command[600];
    s_save_body (&answer, "metrics.txt", path);
    snprintf (command, sizeof command, "promtool check metrics < %s 2>&1", path);
    s_run_ok (command);
}

//  Runs a command; fails the test with what it printed unless it exits 0.
static void
s_run_ok (const char *command)
{
    FILE *run = popen (command, "r");
    assert_non_null (run);
    char said[4096] = "";
    size_t got = fread (said, 1, sizeof said - 1, run);
    said[got] = '\0';
    int status = pclose (run);
    if (status != 0)
        fail_msg ("%s (status %d): %s", command, status, said);
}

//  Writes the answer's body to file `name` in the harness's folder, its path into `path`, and
//  frees the answer: for a checker of our own or another's to read.
static void
s_save_body (fx_http_t **answer_p, const char *name, char path[512])
{
    snprintf (path, 512, "%s/%s", harness_dir (fx_harness ()), name);
    FILE *file = fopen (path, "w");
    assert_non_null (file);
    fputs ((*answer_p)->text, file);
    fclose (file);
    fx_http_free (answer_p);
}

static void
test_openapi_document_is_valid_and_whole (void **state)
{
    (void) state;
    fx_http_t *answer = fx_http ("GET", "/v1/openapi.json", NULL, NULL, NULL);
    assert_int_equal (answer->status, 200);
    assert_string_equal (fx_http_str (answer, "openapi"), "3.1.0");
    //  Made from the descriptors: a field's limits are the service's.
    json_t *name = json_object_get (
        json_object_get (
            json_object_get (
                json_object_get (json_object_get (answer->json, "components"), "schemas"),
                "msg_volunteer_register"),
            "properties"),
        "name");
    assert_int_equal (json_integer_value (json_object_get (name, "maxLength")), 50);
    assert_non_null (
        json_object_get (json_object_get (answer->json, "paths"), "/v1/offers/{id}/accept"));
    //  The specification's own schemas, through a validator that is not ours.
    char path[512], command[1200];
    s_save_body (&answer, "openapi.json", path);
    const char *source = getenv ("STATION_SOURCE_DIR");
    assert_non_null (source);
    snprintf (command, sizeof command, "node %s/tests/js/openapi-check.mjs %s 2>&1", source, path);
    s_run_ok (command);
}

//  The points store and the rankings over HTTP: an official stocks an item and gives points,
//  the volunteer reserves, the ranking of the quarter names them.
static void
test_store_and_rankings (void **state)
{
    (void) state;
    char admin[64], token[64], path[160], body[512];
    fx_http_signin (ADMIN, PASSWORD, admin);
    fx_http_t *answer = fx_http ("POST", "/v1/volunteers", NULL,
                                 "{\"name\": \"赵积分\", \"id_number\": \"430103199001011234\","
                                 " \"phone\": \"13612345678\", \"password\": \"" PASSWORD "\","
                                 " \"region\": \"" VILLAGE "\"}",
                                 NULL);
    s_check (answer, 201);
    char id[32];
    snprintf (id, sizeof id, "%s", fx_http_str (answer, "id"));
    fx_http_free (&answer);
    fx_ledger_wait_volunteer (id);

    answer = fx_http ("POST", "/v1/store/items", admin,
                      "{\"name\": \"大米 5 kg\", \"kind\": \"goods\", \"price_points\": 30,"
                      " \"stock\": 5, \"region\": \"" VILLAGE "\"}",
                      NULL);
    s_check (answer, 201);
    char item[32];
    snprintf (item, sizeof item, "%s", fx_http_str (answer, "id"));
    fx_http_free (&answer);
    snprintf (path, sizeof path, "/v1/volunteers/%s/ledger/adjustments", id);
    answer = fx_http ("POST", path, admin,
                      "{\"unit\": \"points\", \"amount\": 40, \"reason\": \"春节慰问补录\"}", NULL);
    s_check (answer, 201);
    fx_http_free (&answer);

    fx_http_signin ("13612345678", PASSWORD, token);
    answer = fx_http ("GET", "/v1/store/items?region=" VILLAGE, token, NULL, NULL);
    s_check (answer, 200);
    assert_int_equal (json_array_size (json_object_get (answer->json, "items")), 1);
    fx_http_free (&answer);
    snprintf (body, sizeof body, "{\"item_id\": \"%s\", \"quantity\": 1}", item);
    answer = fx_http ("POST", "/v1/redemptions", token, body, NULL);
    s_check (answer, 201);
    assert_string_equal (fx_http_str (answer, "status"), "reserved");
    fx_http_free (&answer);
    //  Too few points left for a second: 422 naming the quantity, nothing held.
    answer = fx_http ("POST", "/v1/redemptions", token, body, NULL);
    s_expect_error (answer, 422, "failed_precondition", "quantity");
    fx_http_free (&answer);
    snprintf (path, sizeof path, "/v1/volunteers/%s/points", id);
    answer = fx_http ("GET", path, token, NULL, NULL);
    s_check (answer, 200);
    assert_int_equal (json_integer_value (json_object_get (answer->json, "pending")), 30);
    assert_int_equal (json_integer_value (json_object_get (answer->json, "available")), 10);
    fx_http_free (&answer);

    //  This quarter's ranking by points names the volunteer; a period that is none is refused.
    answer = fx_http ("GET", "/v1/rankings?region=" COUNTY "&period=quarter&by=points", token, NULL,
                      NULL);
    s_check (answer, 200);
    json_t *items = json_object_get (answer->json, "items");
    bool ranked = false;
    for (size_t i = 0; i < json_array_size (items); i++)
        ranked = ranked || strcmp (fx_str (json_array_get (items, i), "volunteer_id"), id) == 0;
    assert_true (ranked);
    fx_http_free (&answer);
    answer = fx_http ("GET", "/v1/rankings?region=" COUNTY "&period=2026-Q4&by=points", token, NULL,
                      NULL);
    s_check (answer, 200);
    assert_string_equal (fx_http_str (answer, "from"), "2026-10-01");
    fx_http_free (&answer);
    answer = fx_http ("GET", "/v1/rankings?region=" COUNTY "&period=2026-Q5&by=points", token, NULL,
                      NULL);
    s_expect_error (answer, 400, "invalid_argument", "period");
    fx_http_free (&answer);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_health_and_the_shape_of_answers),
        cmocka_unit_test (test_bad_requests_are_refused_before_any_call),
        cmocka_unit_test (test_sessions_sign_in_use_and_end),
        cmocka_unit_test (test_sign_in_tries_are_limited),
        cmocka_unit_test (test_a_volunteer_registers_signs_in_and_reads_their_own),
        cmocka_unit_test (test_idempotency_keys),
        cmocka_unit_test (test_store_and_rankings),
        cmocka_unit_test (test_metrics_are_prometheus_text),
        cmocka_unit_test (test_openapi_document_is_valid_and_whole),
    };
    return cmocka_run_group_tests (tests, s_setup, fx_teardown);
}
