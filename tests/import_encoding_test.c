/*  import_encoding_test.c — spreadsheets as counties have them (issue 24): a "CSV" that Excel
    or WPS on Chinese Windows saved in GBK, or one in GB18030 with a character outside the
    BMP, imports with the right names and the reply says how it was read; a UTF-8 file with a
    byte-order mark still does; bytes that are neither are refused naming the line, nothing
    imported; a file again changes nothing; a chunked file whose second batch holds a bad row
    imports the good rows of every batch and reports the bad one by line.  */
#include "fixture.h"
#include "st_log.h"

#include <iconv.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static msg_actor_t TOWN_A = {.account = "town-a", .role = "region_admin", .region = "431022100000"};

static int
s_setup (void **state)
{
    fx_t *fx = fx_new ("import_encoding", FX_REGISTRY);
    const char *regions[][2] = {{"431000000000", "郴州市"},
                                {"431022000000", "宜章县"},
                                {"431022100000", "玉溪镇"},
                                {"431022100201", "玉溪镇第一村"}};
    for (size_t i = 0; i < sizeof regions / sizeof regions[0]; i++)
        fx_region_add (regions[i][0], regions[i][1]);
    *state = fx;
    return 0;
}

static int
s_teardown (void **state)
{
    fx_destroy ((fx_t **) state);
    return 0;
}

//  UTF-8 text converted to `encoding` with iconv (the caller frees it); its size into *size.
static char *
s_convert (const char *text, const char *encoding, size_t *size)
{
    iconv_t cd = iconv_open (encoding, "UTF-8");
    assert_true (cd != (iconv_t) -1);
    size_t in_left = strlen (text), capacity = 2 * in_left + 16, out_left = capacity;
    char *out = malloc (capacity), *ip = (char *) text, *op = out;
    assert_true (iconv (cd, &ip, &in_left, &op, &out_left) != (size_t) -1);
    iconv_close (cd);
    *size = capacity - out_left;
    return out;
}

//  volunteer.import of `size` bytes as town-a; the result into *result (the caller clears it).
static st_status_t
s_import (const char *csv, size_t size, msg_import_result_t *result, st_error_t *err)
{
    msg_volunteer_import_t request = {.csv = {(uint8_t *) csv, size}};
    return fx_call_msg ("registry", &TOWN_A, "volunteer.import", &request, result, err);
}

//  The name of the volunteer with `name`, read back through volunteer.get ("" when none).
static void
s_expect_name (const char *name)
{
    const char *id = fx_value ("SELECT id FROM registry.volunteers WHERE name = '%s'", name);
    if (!*id)
        fail_msg ("no volunteer named %s", name);
    char body[64];
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", id);
    json_t *v = fx_call_ok ("registry", &TOWN_A, "volunteer.get", body);
    assert_string_equal (fx_str (v, "name"), name);
    json_decref (v);
}

//  A roster of people 张三, 刘芳 and `more` (UTF-8), ID numbers from `first`.
static char *
s_roster_text (int first, const char *more)
{
    static char text[4096];
    char a[19], b[19], c[19];
    fx_nth_id_number (first, a);
    fx_nth_id_number (first + 1, b);
    fx_nth_id_number (first + 2, c);
    snprintf (text, sizeof text,
              "姓名,身份证号,手机号,区划代码,技能\r\n"
              "张三,%s,13700000001,431022100201,急救、驾驶\r\n"
              "刘芳,%s,13700000002,431022100201,\r\n"
              "%s,%s,13700000003,431022100201,手语\r\n",
              a, b, more, c);
    return text;
}

//  A GBK file, as Excel saves "CSV" on Chinese Windows: imported with its names, read as
//  gb18030; again, it changes nothing (every row skipped, no event).
static void
test_gbk_file (void **state)
{
    size_t size;
    char *csv = s_convert (s_roster_text (100, "王小明"), "GBK", &size);
    long events =
        fx_count ("SELECT count (*) FROM registry.outbox WHERE topic = 'volunteer.registered'");
    msg_import_result_t result;
    st_error_t err;
    if (s_import (csv, size, &result, &err) != ST_OK)
        fail_msg ("a GBK file: %s", err.message);
    assert_int_equal (result.created, 3);
    assert_int_equal (result.error_count, 0);
    assert_non_null (result.encoding);
    assert_string_equal (result.encoding, "gb18030");
    st_msg_clear (&msg_import_result_desc, &result);
    s_expect_name ("张三");
    s_expect_name ("刘芳");
    s_expect_name ("王小明");
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.volunteers WHERE name = '张三'"
                                " AND skills = ARRAY['急救', '驾驶']"),
                      1);
    assert_int_equal (
        fx_count ("SELECT count (*) FROM registry.outbox WHERE topic = 'volunteer.registered'"),
        events + 3);

    //  The same file again: nothing changes.
    long volunteers = fx_count ("SELECT count (*) FROM registry.volunteers");
    if (s_import (csv, size, &result, &err) != ST_OK)
        fail_msg ("a GBK file again: %s", err.message);
    assert_int_equal (result.created, 0);
    assert_int_equal (result.skipped, 3);
    assert_int_equal (result.error_count, 0);
    st_msg_clear (&msg_import_result_desc, &result);
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.volunteers"), volunteers);
    assert_int_equal (
        fx_count ("SELECT count (*) FROM registry.outbox WHERE topic = 'volunteer.registered'"),
        events + 3);
    free (csv);
}

//  A GB18030 file with a character outside the BMP (𠀀, four bytes in GB18030).
static void
test_gb18030_file (void **state)
{
    size_t size;
    char *csv = s_convert (s_roster_text (200, "𠀀明"), "GB18030", &size);
    //  The four-byte form is there (𠀀 is 0x95 0x32 0x82 0x36).
    bool four = false;
    for (size_t i = 0; i + 4 <= size && !four; i++)
        four = memcmp (csv + i, "\x95\x32\x82\x36", 4) == 0;
    assert_true (four);
    msg_import_result_t result;
    st_error_t err;
    if (s_import (csv, size, &result, &err) != ST_OK)
        fail_msg ("a GB18030 file: %s", err.message);
    assert_int_equal (result.created, 3);
    assert_int_equal (result.error_count, 0);
    assert_non_null (result.encoding);
    assert_string_equal (result.encoding, "gb18030");
    st_msg_clear (&msg_import_result_desc, &result);
    s_expect_name ("𠀀明");
    free (csv);
}

//  A UTF-8 file with a byte-order mark ("CSV UTF-8") is read as before.
static void
test_utf8_bom_file (void **state)
{
    char csv[4096];
    int size = snprintf (csv, sizeof csv, "\xef\xbb\xbf%s", s_roster_text (300, "赵六"));
    msg_import_result_t result;
    st_error_t err;
    if (s_import (csv, (size_t) size, &result, &err) != ST_OK)
        fail_msg ("a UTF-8 file: %s", err.message);
    assert_int_equal (result.created, 3);
    assert_non_null (result.encoding);
    assert_string_equal (result.encoding, "utf-8");
    st_msg_clear (&msg_import_result_desc, &result);
    s_expect_name ("赵六");
}

//  Bytes that are neither UTF-8 nor GB18030 (0xff begins no character of either) on line 3
//  of a GBK file: refused naming the line, nothing imported.
static void
test_invalid_bytes (void **state)
{
    size_t size;
    char *gbk = s_convert (s_roster_text (400, "孙七"), "GBK", &size);
    char *csv = malloc (size + 1);
    //  After the header and 张三's row, 刘芳's name gets a stray byte.
    char *third = memchr (memchr (gbk, '\n', size) + 1, '\n', size) + 1;
    size_t before = (size_t) (third - gbk);
    memcpy (csv, gbk, before);
    csv[before] = '\xff';
    memcpy (csv + before + 1, third, size - before);
    long volunteers = fx_count ("SELECT count (*) FROM registry.volunteers");
    msg_import_result_t result;
    st_error_t err;
    fx_expect ("a file neither UTF-8 nor GB18030", s_import (csv, size + 1, &result, &err), &err,
               ST_INVALID_ARGUMENT, "csv");
    st_msg_clear (&msg_import_result_desc, &result);
    if (!strstr (err.message, "line 3"))
        fail_msg ("the error does not name line 3: %s", err.message);
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.volunteers"), volunteers);
    free (gbk);
    free (csv);
}

//  Begins a chunked import as town-a; its id into `id`.
static void
s_begin (char id[32])
{
    json_t *reply = fx_call_ok ("registry", &TOWN_A, "import.begin", "{\"kind\": \"volunteers\"}");
    snprintf (id, 32, "%s", fx_str (reply, "import_id"));
    json_decref (reply);
}

//  Sends a file in chunks of `piece` bytes (cutting rows and characters anywhere); their count.
static int
s_send (const char *id, const char *csv, size_t size, size_t piece)
{
    int seq = 0;
    for (size_t at = 0; at < size; at += piece) {
        size_t n = size - at < piece ? size - at : piece;
        msg_import_chunk_t request = {.import_id = (char *) id,
                                      .seq = ++seq,
                                      .has_seq = true,
                                      .csv = {(uint8_t *) csv + at, n}};
        msg_import_chunked_t reply;
        st_error_t err;
        if (fx_call_msg ("registry", &TOWN_A, "import.chunk", &request, &reply, &err) != ST_OK)
            fail_msg ("chunk %d: %s", seq, err.message);
        st_msg_clear (&msg_import_chunked_desc, &reply);
    }
    return seq;
}

//  Calls import.finish until it is done (or fails: its status); the last reply into *result.
static st_status_t
s_finish (const char *id, int chunks, msg_import_result_t *result, st_error_t *err)
{
    msg_import_finish_t request = {.import_id = (char *) id, .chunks = chunks, .has_chunks = true};
    for (int calls = 0;; calls++) {
        assert_true (calls < 100);
        st_status_t rc = fx_call_msg ("registry", &TOWN_A, "import.finish", &request, result, err);
        if (rc != ST_OK || result->done)
            return rc;
        st_msg_clear (&msg_import_result_desc, result);
    }
}

//  A GBK roster of 2,500 rows (ID numbers from 1000), row `bad` with a malformed phone.
static char *
s_big_roster (int bad, size_t *size)
{
    size_t capacity = 2500 * 96 + 256, used = 0;
    char *text = malloc (capacity);
    used += (size_t) snprintf (text, capacity, "姓名,身份证号,手机号,区划代码\r\n");
    for (int i = 0; i < 2500; i++) {
        char id_number[19];
        fx_nth_id_number (1000 + i, id_number);
        used += (size_t) snprintf (text + used, capacity - used, "张志愿%d,%s,%s,431022100201\r\n",
                                   i, id_number, i == bad ? "12345" : "13800000000");
    }
    char *csv = s_convert (text, "GBK", size);
    free (text);
    return csv;
}

//  A GBK file of 2,500 rows in chunks that cut characters in two, registered 1,000 rows a
//  transaction: the bad row in the second batch is reported by its line, the good rows of
//  every batch imported, one event each; the file again changes nothing.
static void
test_chunked_gbk_file (void **state)
{
    size_t size;
    char *csv = s_big_roster (1499, &size);
    long volunteers = fx_count ("SELECT count (*) FROM registry.volunteers");
    long events =
        fx_count ("SELECT count (*) FROM registry.outbox WHERE topic = 'volunteer.registered'");
    char id[32];
    s_begin (id);
    //  An odd size: some chunks end inside a two-byte character.
    int chunks = s_send (id, csv, size, 7001);
    msg_import_result_t result;
    st_error_t err;
    if (s_finish (id, chunks, &result, &err) != ST_OK)
        fail_msg ("import.finish: %s", err.message);
    assert_int_equal (result.created, 2499);
    assert_int_equal (result.error_count, 1);
    assert_int_equal (result.errors.count, 1);
    assert_int_equal (result.errors.items[0].line, 1501); //  the header is line 1
    assert_string_equal (result.errors.items[0].field, "phone");
    assert_non_null (result.encoding);
    assert_string_equal (result.encoding, "gb18030");
    st_msg_clear (&msg_import_result_desc, &result);
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.volunteers"), volunteers + 2499);
    assert_int_equal (
        fx_count ("SELECT count (*) FROM registry.outbox WHERE topic = 'volunteer.registered'"),
        events + 2499);
    s_expect_name ("张志愿0");
    s_expect_name ("张志愿1000");
    s_expect_name ("张志愿2499");

    //  The same file again, chunked: nothing changes, every good row skipped.
    s_begin (id);
    chunks = s_send (id, csv, size, 65536);
    if (s_finish (id, chunks, &result, &err) != ST_OK)
        fail_msg ("import.finish again: %s", err.message);
    assert_int_equal (result.created, 0);
    assert_int_equal (result.skipped, 2499);
    assert_int_equal (result.error_count, 1);
    st_msg_clear (&msg_import_result_desc, &result);
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.volunteers"), volunteers + 2499);
    assert_int_equal (
        fx_count ("SELECT count (*) FROM registry.outbox WHERE topic = 'volunteer.registered'"),
        events + 2499);
    free (csv);
}

//  A chunked file with a byte that is no character on line 2001: the finish is refused
//  naming that line, and nothing of the file is imported.
static void
test_chunked_invalid_bytes (void **state)
{
    size_t size;
    char *csv = s_big_roster (-1, &size);
    char *at = csv;
    for (int line = 1; line < 2001; line++)
        at = memchr (at, '\n', size - (size_t) (at - csv)) + 1;
    *at = '\x80'; //  no GB18030 character begins with 0x80
    long volunteers = fx_count ("SELECT count (*) FROM registry.volunteers");
    char id[32];
    s_begin (id);
    int chunks = s_send (id, csv, size, 50000);
    msg_import_result_t result;
    st_error_t err;
    fx_expect ("a chunked file neither UTF-8 nor GB18030", s_finish (id, chunks, &result, &err),
               &err, ST_INVALID_ARGUMENT, "csv");
    st_msg_clear (&msg_import_result_desc, &result);
    if (!strstr (err.message, "line 2001"))
        fail_msg ("the error does not name line 2001: %s", err.message);
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.volunteers"), volunteers);
    free (csv);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_gbk_file),         cmocka_unit_test (test_gb18030_file),
        cmocka_unit_test (test_utf8_bom_file),    cmocka_unit_test (test_invalid_bytes),
        cmocka_unit_test (test_chunked_gbk_file), cmocka_unit_test (test_chunked_invalid_bytes),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
