/*  import_dry_run_test.c — the preview of a spreadsheet before its import (issue 23):
    volunteer.import, region.import and the chunked import with dry_run check every row as an
    import would — duplicates within the file and against the registry included — report each
    bad row by line, field and reason, count what would be created, and save nothing (no
    volunteer, no region, no event).  */
#include "fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static msg_actor_t TOWN_A = {.account = "town-a", .role = "region_admin", .region = "431022100000"};
static msg_actor_t COUNTY = {.account = "county", .role = "region_admin", .region = "431022000000"};

static int
s_setup (void **state)
{
    fx_t *fx = fx_new ("import_dry_run", FX_REGISTRY);
    fx_region_add ("431000000000", "郴州市");
    fx_region_add ("431022000000", "宜章县");
    fx_region_add ("431022100000", "玉溪镇");
    fx_region_add ("431022100201", "玉溪镇第一村");
    *state = fx;
    return 0;
}

static int
s_teardown (void **state)
{
    fx_destroy ((fx_t **) state);
    return 0;
}

//  What a dry run must leave as it was: the volunteers, regions and events.
static char *
s_digest (void)
{
    return strdup (fx_value ("SELECT (SELECT count (*) FROM registry.volunteers) || '/'"
                             " || (SELECT count (*) FROM registry.regions) || '/'"
                             " || (SELECT count (*) FROM registry.outbox)"));
}

//  Registers person `n` (fx_nth_id_number) in the village, through registry.
static void
s_register (int n)
{
    char id_number[19], body[256];
    fx_nth_id_number (n, id_number);
    snprintf (body, sizeof body,
              "{\"name\": \"已登记%d\", \"id_number\": \"%s\", \"phone\": \"136%08d\","
              " \"region\": \"431022100201\"}",
              n, id_number, n);
    json_decref (fx_call_ok ("registry", &TOWN_A, "volunteer.register", body));
}

//  Calls volunteer.import with `csv` (dry_run or not) as TOWN_A; the result into *result.
static void
s_import (const char *csv, size_t size, bool dry_run, msg_import_result_t *result)
{
    msg_volunteer_import_t request = {
        .csv = {(uint8_t *) csv, size}, .dry_run = dry_run, .has_dry_run = dry_run};
    st_error_t err;
    if (fx_call_msg ("registry", &TOWN_A, "volunteer.import", &request, result, &err) != ST_OK)
        fail_msg ("volunteer.import: %s", err.message);
}

//  A file of two new people, the first of them again, one registered already, a bad phone
//  and a region outside the importer's: a dry run counts and reports exactly what the import
//  then does, and changes nothing; after the import, a dry run of the same file would create
//  nobody.
static void
test_dry_run_as_import (void **state)
{
    char a[19], b[19], known[19], c[19], d[19], csv[1024];
    fx_nth_id_number (9001, a);
    fx_nth_id_number (9002, b);
    fx_nth_id_number (9003, known);
    fx_nth_id_number (9004, c);
    fx_nth_id_number (9005, d);
    s_register (9003);
    int size = snprintf (csv, sizeof csv,
                         "\xef\xbb\xbf姓名,身份证号,手机号,区划代码,技能\r\n"
                         "甲,%s,13900009001,431022100201,急救\r\n"
                         "乙,%s,13900009002,431022100201,\r\n"
                         "甲又,%s,13900009001,431022100201,\r\n"
                         "已有,%s,13900009003,431022100201,\r\n"
                         "丙,%s,1390000,431022100201,\r\n"
                         "丁,%s,13900009005,431022101000,\r\n",
                         a, b, a, known, c, d);
    char *before = s_digest ();
    msg_import_result_t dry;
    s_import (csv, (size_t) size, true, &dry);
    fx_unchanged (before, s_digest (), "a dry run");
    assert_true (dry.has_dry_run && dry.dry_run);
    assert_int_equal (dry.created, 2);
    assert_int_equal (dry.skipped, 2);
    assert_int_equal (dry.error_count, 2);
    assert_int_equal (dry.errors.count, 2);
    assert_int_equal (dry.errors.items[0].line, 6);
    assert_string_equal (dry.errors.items[0].field, "phone");
    assert_string_equal (dry.errors.items[0].code, "invalid_argument");
    assert_int_equal (dry.errors.items[1].line, 7);
    assert_string_equal (dry.errors.items[1].field, "region");
    assert_true (strlen (dry.errors.items[1].message) > 0);

    //  The import itself does what the dry run said.
    long volunteers = fx_count ("SELECT count (*) FROM registry.volunteers");
    msg_import_result_t real;
    s_import (csv, (size_t) size, false, &real);
    assert_false (real.dry_run);
    assert_int_equal (real.created, dry.created);
    assert_int_equal (real.skipped, dry.skipped);
    assert_int_equal (real.error_count, dry.error_count);
    for (size_t i = 0; i < real.errors.count; i++) {
        assert_int_equal (real.errors.items[i].line, dry.errors.items[i].line);
        assert_string_equal (real.errors.items[i].field, dry.errors.items[i].field);
        assert_string_equal (real.errors.items[i].message, dry.errors.items[i].message);
    }
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.volunteers"), volunteers + 2);
    st_msg_clear (&msg_import_result_desc, &dry);
    st_msg_clear (&msg_import_result_desc, &real);

    //  Again: nobody new, and still nothing saved.
    before = s_digest ();
    s_import (csv, (size_t) size, true, &dry);
    fx_unchanged (before, s_digest (), "a second dry run");
    assert_int_equal (dry.created, 0);
    assert_int_equal (dry.skipped, 4);
    st_msg_clear (&msg_import_result_desc, &dry);
}

//  A dry run of a bad file is refused as the import is, naming the field; and only officials
//  preview an import.
static void
test_dry_run_refusals (void **state)
{
    //  GBK is read since issue 24: bytes that are neither UTF-8 nor GB18030 (0xff) are not.
    static const char garbled[] = "\xd0\xd5\xff\xfb,id_number,phone,region\n";
    msg_volunteer_import_t request = {
        .csv = {(uint8_t *) garbled, sizeof garbled - 1}, .dry_run = true, .has_dry_run = true};
    msg_import_result_t result;
    st_error_t err;
    fx_expect ("a file neither UTF-8 nor GB18030",
               fx_call_msg ("registry", &TOWN_A, "volunteer.import", &request, &result, &err), &err,
               ST_INVALID_ARGUMENT, "csv");
    static const char headless[] = "name,phone\n甲,13900000000\n";
    request.csv = (st_bin_t){(uint8_t *) headless, sizeof headless - 1};
    fx_expect ("a file without an id_number column",
               fx_call_msg ("registry", &TOWN_A, "volunteer.import", &request, &result, &err), &err,
               ST_INVALID_ARGUMENT, "csv");
    msg_actor_t volunteer = fx_volunteer ("1");
    st_status_t rc =
        fx_call_msg ("registry", &volunteer, "volunteer.import", &request, &result, &err);
    assert_int_equal (rc, ST_PERMISSION_DENIED);
}

//  region.import with dry_run: counts the regions it would create, parents first, and
//  creates none.
static void
test_region_dry_run (void **state)
{
    static const char csv[] = "code,name\n431022102201,新村\n431022102000,新镇\n"
                              "431022100000,玉溪镇\n4310,坏码\n";
    msg_region_import_t request = {
        .csv = {(uint8_t *) csv, sizeof csv - 1}, .dry_run = true, .has_dry_run = true};
    msg_import_result_t result;
    st_error_t err;
    char *before = s_digest ();
    if (fx_call_msg ("registry", &COUNTY, "region.import", &request, &result, &err) != ST_OK)
        fail_msg ("region.import: %s", err.message);
    fx_unchanged (before, s_digest (), "a region dry run");
    assert_true (result.dry_run);
    assert_int_equal (result.created, 2);
    assert_int_equal (result.skipped, 1);
    assert_int_equal (result.error_count, 1);
    assert_string_equal (result.errors.items[0].field, "code");
    st_msg_clear (&msg_import_result_desc, &result);
}

//  A roster of 1,500 new people from person 7000 on, then person 7001 again (in a later
//  batch than their first row: a finish registers 1,000 rows a batch) and one registered
//  already, one bad ID number. *size its size.
static char *
s_roster (size_t *size)
{
    size_t capacity = 1600 * 96, used = 0;
    char *csv = malloc (capacity);
    used += (size_t) snprintf (csv, capacity, "姓名,身份证号,手机号,区划代码\n");
    char id_number[19];
    for (int i = 0; i < 1500; i++) {
        fx_nth_id_number (7000 + i, id_number);
        used += (size_t) snprintf (csv + used, capacity - used, "批量%d,%s,138%08d,431022100201\n",
                                   i, id_number, 7000 + i);
    }
    fx_nth_id_number (7001, id_number);
    used += (size_t) snprintf (csv + used, capacity - used, "重复,%s,13800007001,431022100201\n",
                               id_number);
    fx_nth_id_number (9010, id_number);
    used += (size_t) snprintf (csv + used, capacity - used, "已有,%s,13800009010,431022100201\n",
                               id_number);
    used += (size_t) snprintf (csv + used, capacity - used,
                               "坏号,43102219850312001Z,13800000000,431022100201\n");
    *size = used;
    return csv;
}

//  A chunked import from import.begin {dry_run} to its last import.finish; the result into
//  *result.
static void
s_chunked (const char *csv, size_t size, bool dry_run, msg_import_result_t *result)
{
    json_t *begun = fx_call_ok ("registry", &TOWN_A, "import.begin",
                                dry_run ? "{\"kind\": \"volunteers\", \"dry_run\": true}"
                                        : "{\"kind\": \"volunteers\"}");
    char id[32];
    snprintf (id, sizeof id, "%s", fx_str (begun, "import_id"));
    assert_true (json_is_true (json_object_get (begun, "dry_run")) == dry_run);
    json_decref (begun);
    int seq = 0;
    st_error_t err;
    for (size_t at = 0; at < size; at += 20000) {
        size_t n = size - at < 20000 ? size - at : 20000;
        msg_import_chunk_t chunk = {
            .import_id = id, .seq = ++seq, .has_seq = true, .csv = {(uint8_t *) csv + at, n}};
        msg_import_chunked_t chunked;
        if (fx_call_msg ("registry", &TOWN_A, "import.chunk", &chunk, &chunked, &err) != ST_OK)
            fail_msg ("import.chunk %d: %s", seq, err.message);
        st_msg_clear (&msg_import_chunked_desc, &chunked);
    }
    msg_import_finish_t finish = {.import_id = id, .chunks = seq, .has_chunks = true};
    for (int calls = 0;; calls++) {
        assert_true (calls < 100);
        if (fx_call_msg ("registry", &TOWN_A, "import.finish", &finish, result, &err) != ST_OK)
            fail_msg ("import.finish: %s", err.message);
        if (result->done)
            break;
        st_msg_clear (&msg_import_result_desc, result);
    }
    assert_int_equal (
        fx_count ("SELECT count (*) FROM registry.import_dry_seen WHERE import_id = %s", id), 0);
}

//  The chunked import's dry run: a duplicate in a later batch than its first row counts as
//  skipped, as in the import; nothing is saved; the import itself then does what it said.
static void
test_chunked_dry_run (void **state)
{
    s_register (9010);
    size_t size;
    char *csv = s_roster (&size);
    char *before = s_digest ();
    msg_import_result_t dry;
    s_chunked (csv, size, true, &dry);
    fx_unchanged (before, s_digest (), "a chunked dry run");
    assert_true (dry.dry_run);
    assert_int_equal (dry.created, 1500);
    assert_int_equal (dry.skipped, 2);
    assert_int_equal (dry.error_count, 1);
    assert_int_equal (dry.errors.items[0].line, 1504);
    assert_string_equal (dry.errors.items[0].field, "id_number");

    long volunteers = fx_count ("SELECT count (*) FROM registry.volunteers");
    msg_import_result_t real;
    s_chunked (csv, size, false, &real);
    assert_false (real.dry_run);
    assert_int_equal (real.created, dry.created);
    assert_int_equal (real.skipped, dry.skipped);
    assert_int_equal (real.error_count, dry.error_count);
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.volunteers"), volunteers + 1500);
    st_msg_clear (&msg_import_result_desc, &dry);
    st_msg_clear (&msg_import_result_desc, &real);
    free (csv);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_dry_run_as_import),
        cmocka_unit_test (test_dry_run_refusals),
        cmocka_unit_test (test_region_dry_run),
        cmocka_unit_test (test_chunked_dry_run),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
