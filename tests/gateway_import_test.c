/*  gateway_import_test.c — a county's roster through POST /v1/volunteers/import (issue 24):
    a 6 MB spreadsheet saved in GBK, larger than one frame, is taken with the gateway's
    default caps and registered whole (in chunks behind the gateway), the answer saying how it
    was read; the same file again changes nothing.  */
#include "fixture.h"

#include <iconv.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define COUNTY   "431022000000"
#define ADMIN    "county-admin"
#define PASSWORD "correct horse battery"

static char s_admin[64];

static int
s_setup (void **state)
{
    (void) state;
    //  The gateway's caps as deployed (the defaults).
    unsetenv ("STATION_GATEWAY_CSV_MAX");
    fx_new ("gateway_import", FX_REGISTRY | FX_GATEWAY);
    fx_county_add ();
    json_decref (fx_call_ok ("registry", &FX_SYSTEM, "account.create",
                             "{\"login\": \"" ADMIN "\", \"password\": \"" PASSWORD "\","
                             " \"role\": \"region_admin\", \"region\": \"" COUNTY "\"}"));
    fx_http_signin (ADMIN, PASSWORD, s_admin);
    return 0;
}

static int
s_teardown (void **state)
{
    fx_teardown (state);
    return 0;
}

//  A GBK roster of 2,000 people, each row with a long note, about 6 MB.
static char *
s_roster (size_t *size)
{
    enum { ROWS = 2000, NOTE = 3000 };
    size_t capacity = (size_t) ROWS * (NOTE + 128) + 256, used = 0;
    char *text = malloc (capacity), *note = malloc (NOTE + 1);
    memset (note, 'x', NOTE);
    note[NOTE] = 0;
    used += (size_t) snprintf (text, capacity, "姓名,身份证号,手机号,区划代码,备注\r\n");
    for (int i = 0; i < ROWS; i++) {
        char id_number[19];
        fx_nth_id_number (5000 + i, id_number);
        used +=
            (size_t) snprintf (text + used, capacity - used,
                               "县志愿%d,%s,137%08d,431022100201,%s\r\n", i, id_number, i, note);
    }
    free (note);
    iconv_t cd = iconv_open ("GBK", "UTF-8");
    assert_true (cd != (iconv_t) -1);
    char *csv = malloc (used), *ip = text, *op = csv;
    size_t in_left = used, out_left = used;
    assert_true (iconv (cd, &ip, &in_left, &op, &out_left) != (size_t) -1);
    iconv_close (cd);
    free (text);
    *size = used - out_left;
    return csv;
}

//  An integer member of the answer's JSON (-1 when none).
static long long
s_int (const fx_http_t *answer, const char *key)
{
    json_t *value = answer->json ? json_object_get (answer->json, key) : NULL;
    return json_is_integer (value) ? json_integer_value (value) : -1;
}

static void
test_county_roster (void **state)
{
    (void) state;
    size_t size;
    char *csv = s_roster (&size);
    assert_true (size > 6000000);
    long volunteers = fx_count ("SELECT count (*) FROM registry.volunteers");
    fx_http_t *answer =
        fx_http_typed ("POST", "/v1/volunteers/import", s_admin, "text/csv", csv, size, NULL);
    if (answer->status != 200)
        fail_msg ("a 6 MB roster: %ld %s", answer->status, answer->text);
    assert_int_equal (s_int (answer, "created"), 2000);
    assert_int_equal (s_int (answer, "error_count"), 0);
    assert_string_equal (fx_http_str (answer, "encoding"), "gb18030");
    fx_http_free (&answer);
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.volunteers"), volunteers + 2000);
    assert_int_equal (
        fx_count ("SELECT count (*) FROM registry.volunteers WHERE name = '县志愿1999'"), 1);

    //  Again: nothing changes.
    answer = fx_http_typed ("POST", "/v1/volunteers/import", s_admin, "text/csv", csv, size, NULL);
    if (answer->status != 200)
        fail_msg ("the roster again: %ld %s", answer->status, answer->text);
    assert_int_equal (s_int (answer, "created"), 0);
    assert_int_equal (s_int (answer, "skipped"), 2000);
    fx_http_free (&answer);
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.volunteers"), volunteers + 2000);
    free (csv);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_county_roster),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
