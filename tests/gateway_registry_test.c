/*  gateway_registry_test.c — registry's endpoints that issues 22 and 23 add to the HTTP API,
    against the real registry and gateway: the spreadsheet import with its preview (POST
    /v1/volunteers/import, text/csv, ?dry_run=true) under a cap of its own; transfer requests
    (POST /v1/me/transfer-requests, GET /v1/transfer-requests, POST …/{id}/decline).  */
#include "fixture.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#define COUNTY   "431022000000"
#define VILLAGE  "431022100201"
#define ADMIN    "county-admin"
#define PASSWORD "correct horse battery"
#define CSV_MAX  200000
#define BODY_MAX 4096

static char s_admin[64];     //  the county admin's session
static char s_volunteer[64]; //  a volunteer's session
static char s_volunteer_id[32];

static int
s_setup (void **state)
{
    (void) state;
    //  A JSON body's cap far below the spreadsheet's: the two are apart.
    setenv ("STATION_GATEWAY_CSV_MAX", "200000", 1);
    setenv ("STATION_GATEWAY_BODY_MAX", "4096", 1);
    fx_new ("gateway_registry", FX_REGISTRY | FX_GATEWAY);
    fx_county_add ();
    json_decref (fx_call_ok ("registry", &FX_SYSTEM, "account.create",
                             "{\"login\": \"" ADMIN "\", \"password\": \"" PASSWORD "\","
                             " \"role\": \"region_admin\", \"region\": \"" COUNTY "\"}"));
    fx_http_signin (ADMIN, PASSWORD, s_admin);
    char id_number[19], body[512];
    fx_nth_id_number (11000, id_number);
    snprintf (body, sizeof body,
              "{\"name\": \"王志愿\", \"id_number\": \"%s\", \"phone\": \"13511000000\","
              " \"region\": \"" VILLAGE "\", \"password\": \"" PASSWORD "\"}",
              id_number);
    fx_http_t *answer = fx_http ("POST", "/v1/volunteers", NULL, body, NULL);
    if (answer->status != 201)
        fail_msg ("self-registration: %ld %s", answer->status, answer->text);
    snprintf (s_volunteer_id, sizeof s_volunteer_id, "%s", fx_http_str (answer, "id"));
    fx_http_free (&answer);
    fx_http_signin ("13511000000", PASSWORD, s_volunteer);
    return 0;
}

static int
s_teardown (void **state)
{
    fx_teardown (state);
    unsetenv ("STATION_GATEWAY_CSV_MAX");
    unsetenv ("STATION_GATEWAY_BODY_MAX");
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
}

//  An integer member of the answer's JSON (-1 when none).
static long long
s_int (const fx_http_t *answer, const char *key)
{
    json_t *value = answer->json ? json_object_get (answer->json, key) : NULL;
    return json_is_integer (value) ? json_integer_value (value) : -1;
}

static long
s_volunteers (void)
{
    return fx_count ("SELECT count (*) FROM registry.volunteers");
}

//  A spreadsheet of `rows` people from person `first` on, in the village, Chinese headers;
//  the last row has a bad phone. Its size into *size.
static char *
s_sheet (int first, int rows, size_t *size)
{
    size_t capacity = (size_t) rows * 96 + 128, used = 0;
    char *csv = malloc (capacity);
    used += (size_t) snprintf (csv, capacity, "\xef\xbb\xbf姓名,身份证号,手机号,区划代码\r\n");
    for (int i = 0; i < rows; i++) {
        char id_number[19];
        fx_nth_id_number (first + i, id_number);
        used +=
            (size_t) snprintf (csv + used, capacity - used, "表格%d,%s,137%08d%s," VILLAGE "\r\n",
                               i, id_number, first + i, i == rows - 1 ? "9" : "");
    }
    *size = used;
    return csv;
}

//  The preview (?dry_run=true) of a spreadsheet answers what the import would do and saves
//  nothing; the import then does it; the same file again creates nobody.
static void
test_import_preview_then_import (void **state)
{
    (void) state;
    size_t size;
    char *csv = s_sheet (11100, 3, &size);
    long before = s_volunteers ();
    fx_http_t *answer = fx_http_typed ("POST", "/v1/volunteers/import?dry_run=true", s_admin,
                                       "text/csv", csv, size, NULL);
    if (answer->status != 200)
        fail_msg ("preview: %ld %s", answer->status, answer->text);
    assert_int_equal (s_int (answer, "created"), 2);
    assert_int_equal (s_int (answer, "skipped"), 0);
    assert_true (json_is_true (json_object_get (answer->json, "dry_run")));
    json_t *errors = json_object_get (answer->json, "errors");
    assert_int_equal (json_array_size (errors), 1);
    json_t *first = json_array_get (errors, 0);
    assert_int_equal (json_integer_value (json_object_get (first, "line")), 4);
    assert_string_equal (json_string_value (json_object_get (first, "field")), "phone");
    assert_string_equal (json_string_value (json_object_get (first, "code")), "invalid_argument");
    fx_http_free (&answer);
    assert_int_equal (s_volunteers (), before);

    answer = fx_http_typed ("POST", "/v1/volunteers/import", s_admin, "text/csv", csv, size, NULL);
    if (answer->status != 200)
        fail_msg ("import: %ld %s", answer->status, answer->text);
    assert_int_equal (s_int (answer, "created"), 2);
    assert_null (json_object_get (answer->json, "dry_run"));
    fx_http_free (&answer);
    assert_int_equal (s_volunteers (), before + 2);

    answer = fx_http_typed ("POST", "/v1/volunteers/import?dry_run=true", s_admin, "text/csv", csv,
                            size, NULL);
    assert_int_equal (answer->status, 200);
    assert_int_equal (s_int (answer, "created"), 0);
    assert_int_equal (s_int (answer, "skipped"), 2);
    fx_http_free (&answer);
    free (csv);
}

//  A spreadsheet larger than a JSON body may be goes in under its own cap, and past that cap
//  is 413; a JSON body past its own cap is still 413.
static void
test_import_cap_of_its_own (void **state)
{
    (void) state;
    size_t size;
    char *csv = s_sheet (8000, 1200, &size);
    assert_true (size > BODY_MAX && size < CSV_MAX);
    long before = s_volunteers ();
    fx_http_t *answer = fx_http_typed ("POST", "/v1/volunteers/import?dry_run=1", s_admin,
                                       "text/csv", csv, size, NULL);
    if (answer->status != 200)
        fail_msg ("a preview of %zu bytes: %ld %s", size, answer->status, answer->text);
    assert_int_equal (s_int (answer, "created"), 1199);
    fx_http_free (&answer);
    free (csv);

    csv = s_sheet (0, 4000, &size);
    assert_true (size > CSV_MAX);
    answer = fx_http_typed ("POST", "/v1/volunteers/import", s_admin, "text/csv", csv, size, NULL);
    assert_int_equal (answer->status, 413);
    fx_http_free (&answer);
    free (csv);
    assert_int_equal (s_volunteers (), before);

    char *json = malloc (BODY_MAX + 64);
    memset (json, ' ', BODY_MAX + 63);
    memcpy (json, "{\"name\": \"x\"}", 13);
    json[BODY_MAX + 63] = 0;
    answer = fx_http ("POST", "/v1/volunteers", NULL, json, NULL);
    assert_int_equal (answer->status, 413);
    fx_http_free (&answer);
    free (json);
}

//  Refusals, each changing nothing: no session (401), a volunteer (403), JSON instead of CSV
//  (400 naming Content-Type), an empty file (400 naming csv), a dry_run that is no boolean
//  (400 naming dry_run), a file neither UTF-8 nor GB18030 (400 naming csv).
static void
test_import_refusals (void **state)
{
    (void) state;
    static const char sheet[] = "name,id_number,phone,region\n甲,11010519491231002X,13800000001,"
                                "431022100201\n";
    long before = s_volunteers ();
    fx_http_t *answer = fx_http_typed ("POST", "/v1/volunteers/import", NULL, "text/csv", sheet,
                                       sizeof sheet - 1, NULL);
    s_expect_error (answer, 401, "unauthenticated", "Authorization");
    fx_http_free (&answer);
    answer = fx_http_typed ("POST", "/v1/volunteers/import", s_volunteer, "text/csv", sheet,
                            sizeof sheet - 1, NULL);
    s_expect_error (answer, 403, "permission_denied", NULL);
    fx_http_free (&answer);
    answer = fx_http ("POST", "/v1/volunteers/import", s_admin, "{\"csv\": \"00\"}", NULL);
    s_expect_error (answer, 400, "invalid_argument", "Content-Type");
    fx_http_free (&answer);
    answer = fx_http_typed ("POST", "/v1/volunteers/import", s_admin, "text/csv", "", 0, NULL);
    s_expect_error (answer, 400, "invalid_argument", "csv");
    fx_http_free (&answer);
    answer = fx_http_typed ("POST", "/v1/volunteers/import?dry_run=maybe", s_admin, "text/csv",
                            sheet, sizeof sheet - 1, NULL);
    s_expect_error (answer, 400, "invalid_argument", "dry_run");
    fx_http_free (&answer);
    //  GBK is read (issue 24); bytes neither UTF-8 nor GB18030 are not.
    static const char garbled[] = "\xd0\xd5\xff\xfb,id_number,phone,region\n";
    answer = fx_http_typed ("POST", "/v1/volunteers/import", s_admin, "text/csv", garbled,
                            sizeof garbled - 1, NULL);
    s_expect_error (answer, 400, "invalid_argument", "csv");
    fx_http_free (&answer);
    assert_int_equal (s_volunteers (), before);
}

//  A volunteer asks to move; the destination's admin lists the request and declines it;
//  without a session 401, out of scope 404, twice 409, a volunteer declining 403.
static void
test_transfer_requests (void **state)
{
    (void) state;
    json_decref (fx_call_ok ("registry", &FX_SYSTEM, "account.create",
                             "{\"login\": \"town-100\", \"password\": \"" PASSWORD "\","
                             " \"role\": \"region_admin\", \"region\": \"431022100000\"}"));
    char town[64];
    fx_http_signin ("town-100", PASSWORD, town);
    fx_http_t *answer =
        fx_http ("POST", "/v1/me/transfer-requests", s_volunteer,
                 "{\"to_region\": \"431022101203\", \"reason\": \"随子女迁居\"}", NULL);
    if (answer->status != 201)
        fail_msg ("ask: %ld %s", answer->status, answer->text);
    assert_string_equal (fx_http_str (answer, "status"), "pending");
    char id[32], path[128];
    snprintf (id, sizeof id, "%s", fx_http_str (answer, "id"));
    fx_http_free (&answer);
    answer =
        fx_http ("POST", "/v1/me/transfer-requests", s_volunteer, "{\"to_region\": \"1\"}", NULL);
    s_expect_error (answer, 400, "invalid_argument", "to_region");
    fx_http_free (&answer);

    answer = fx_http ("GET", "/v1/transfer-requests?status=pending", NULL, NULL, NULL);
    s_expect_error (answer, 401, "unauthenticated", "Authorization");
    fx_http_free (&answer);
    answer = fx_http ("GET", "/v1/transfer-requests?status=pending", s_admin, NULL, NULL);
    assert_int_equal (answer->status, 200);
    json_t *items = json_object_get (answer->json, "items");
    assert_int_equal (json_array_size (items), 1);
    json_t *item = json_array_get (items, 0);
    assert_string_equal (fx_str (item, "id"), id);
    assert_string_equal (fx_str (json_object_get (item, "volunteer"), "id"), s_volunteer_id);
    assert_string_equal (fx_str (json_object_get (item, "volunteer"), "name"), "王志愿");
    assert_string_equal (fx_str (item, "to_region"), "431022101203");
    assert_true (json_is_null (json_object_get (answer->json, "next_cursor")));
    fx_http_free (&answer);
    answer = fx_http ("GET", "/v1/transfer-requests?status=bogus", s_admin, NULL, NULL);
    s_expect_error (answer, 400, "invalid_argument", "status");
    fx_http_free (&answer);

    snprintf (path, sizeof path, "/v1/transfer-requests/%s/decline", id);
    answer = fx_http ("POST", path, town, "{\"reason\": \"不在本镇\"}", NULL);
    s_expect_error (answer, 404, "not_found", "id");
    fx_http_free (&answer);
    answer = fx_http ("POST", path, s_volunteer, "{\"reason\": \"自己拒绝\"}", NULL);
    s_expect_error (answer, 403, "permission_denied", "actor.role");
    fx_http_free (&answer);
    answer = fx_http ("POST", path, s_admin, "{}", NULL);
    s_expect_error (answer, 400, "invalid_argument", "reason");
    fx_http_free (&answer);
    answer = fx_http ("POST", path, s_admin, "{\"reason\": \"本村暂无对应服务队\"}", NULL);
    if (answer->status != 200)
        fail_msg ("decline: %ld %s", answer->status, answer->text);
    assert_string_equal (fx_http_str (answer, "status"), "declined");
    fx_http_free (&answer);
    answer = fx_http ("POST", path, s_admin, "{\"reason\": \"本村暂无对应服务队\"}", NULL);
    s_expect_error (answer, 409, "conflict", "id");
    fx_http_free (&answer);
    answer = fx_http ("GET", "/v1/transfer-requests?status=declined", s_volunteer, NULL, NULL);
    assert_int_equal (answer->status, 200);
    assert_int_equal (json_array_size (json_object_get (answer->json, "items")), 1);
    fx_http_free (&answer);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_import_preview_then_import),
        cmocka_unit_test (test_import_cap_of_its_own),
        cmocka_unit_test (test_import_refusals),
        cmocka_unit_test (test_transfer_requests),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
