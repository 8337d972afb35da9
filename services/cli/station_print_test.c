/*  station_print_test.c — the station command's human output on its own (issue 22): a
    reply's fields as aligned labels, its lists as tables aligned by display width (Chinese
    two columns a character), long cells cut with "…" within the row width, nested values
    compact, an empty list in words, the cursor as a hint, an error as one line.  */
#include "station_print.h"
#include "st_proto.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

//  What station_print_reply prints for the JSON `text` (malloc'd).
static char *
s_print (const char *text, const st_desc_t *desc, const char *noun)
{
    json_error_t error;
    json_t *reply = json_loads (text, 0, &error);
    if (!reply)
        fail_msg ("bad test JSON: %s", error.text);
    char *out = NULL;
    size_t size = 0;
    FILE *file = open_memstream (&out, &size);
    assert_non_null (file);
    station_print_reply (file, reply, desc, noun);
    fclose (file);
    json_decref (reply);
    return out;
}

static void
s_expect (const char *text, const st_desc_t *desc, const char *noun, const char *expected)
{
    char *out = s_print (text, desc, noun);
    if (strcmp (out, expected) != 0)
        fail_msg ("printed:\n%s\nexpected:\n%s", out, expected);
    free (out);
}

static void
test_width (void **state)
{
    assert_int_equal (station_print_width (""), 0);
    assert_int_equal (station_print_width ("abc"), 3);
    assert_int_equal (station_print_width ("大米 5 kg"), 9);
    assert_int_equal (station_print_width ("报名成功：「收件测试」"), 22);
    assert_int_equal (station_print_width ("e\xcc\x81"), 1); //  e and a combining acute
    assert_int_equal (station_print_width ("\xff\xfe"), 2);  //  no UTF-8: a column a byte
}

static void
test_labels (void **state)
{
    s_expect ("{\"id\": \"7\", \"name\": \"刘芳\", \"phone\": \"189****1122\", \"email\": null,"
              " \"skills\": [\"手语\", \"教育\"], \"active\": true, \"points_per_hour\": 12,"
              " \"where\": {\"lat\": 25.5}}",
              NULL, NULL,
              "id               7\n"
              "name             刘芳\n"
              "phone            189****1122\n"
              "skills           手语, 教育\n"
              "active           yes\n"
              "points per hour  12\n"
              "where            {\"lat\":25.5}\n");
    //  A value on one line: a newline or an escape in it becomes a space.
    s_expect ("{\"text\": \"a\\nb\\u001b[31m\"}", NULL, NULL, "text  a b [31m\n");
}

static void
test_table (void **state)
{
    //  Columns by display width: 大米 5 kg is 9 columns, 理发 4.
    s_expect ("{\"items\": [{\"id\": \"1\", \"name\": \"大米 5 kg\", \"price_points\": 200,"
              " \"description\": null},"
              " {\"id\": \"12\", \"name\": \"理发\", \"price_points\": 50, \"limit\": null}],"
              " \"next_cursor\": \"12\"}",
              &msg_item_page_desc, NULL,
              "id  name       price points\n"
              "1   大米 5 kg  200\n"
              "12  理发       50\n"
              "more: --cursor 12\n");
    //  A member only some items have is a column; the others leave it blank. Nested values
    //  compact.
    s_expect ("{\"events\": [{\"seq\": 1, \"body\": {\"id\": \"3\"}},"
              " {\"seq\": 2, \"late\": false, \"people\": [{\"a\": 1}, {\"a\": 2}]}],"
              " \"last_seq\": 2}",
              &msg_events_desc, NULL,
              "last seq  2\n"
              "\n"
              "events:\n"
              "seq  body        late  people\n"
              "1    {\"id\":\"3\"}\n"
              "2                no    2 items\n");
}

static void
test_cut (void **state)
{
    //  Many columns, one long Chinese text: every row within the width, the text cut with …
    char text[4096], long_text[2048] = "";
    for (int i = 0; i < 100; i++)
        strcat (long_text, "志愿");
    snprintf (text, sizeof text,
              "{\"items\": [{\"id\": \"1\", \"kind\": \"offer.made\", \"text\": \"%s\","
              " \"urgent\": true, \"delivered_at\": \"2026-03-01T09:00:00+08:00\"},"
              " {\"id\": \"2\", \"kind\": \"signup.confirmed\", \"text\": \"短\","
              " \"urgent\": false, \"delivered_at\": \"2026-03-02T09:00:00+08:00\"}]}",
              long_text);
    char *out = s_print (text, &msg_inbox_page_desc, "notices");
    int lines = 0;
    for (char *line = strtok (out, "\n"); line; line = strtok (NULL, "\n"), lines++) {
        assert_true (station_print_width (line) <= STATION_PRINT_WIDTH);
        if (lines == 1)
            assert_non_null (strstr (line, "  志愿志愿") && strstr (line, "…  yes"));
        //  The column after the cut one starts at the same place in every row.
        char *urgent = strstr (line, lines == 0 ? "urgent" : lines == 1 ? "yes" : "no");
        assert_non_null (urgent);
        *urgent = 0;
        static size_t column;
        if (lines == 0)
            column = station_print_width (line);
        assert_int_equal (station_print_width (line), column);
    }
    assert_int_equal (lines, 3);
    free (out);
}

static void
test_empty_lists (void **state)
{
    //  By the descriptor: an empty list of notices; an empty list of skills is a value.
    s_expect ("{\"items\": [], \"next_cursor\": null, \"unread\": 0}", &msg_inbox_page_desc,
              "notices", "unread  0\n\nno notices\n");
    s_expect ("{\"items\": []}", &msg_item_page_desc, NULL, "no items\n");
    s_expect ("{\"id\": \"1\", \"skills\": []}", &msg_volunteer_desc, NULL,
              "id      1\nskills  none\n");
    //  Two lists: each named.
    s_expect ("{\"ok\": true, \"sums\": [{\"unit\": \"points\", \"total\": 0}],"
              " \"differences\": []}",
              &msg_audit_desc, NULL,
              "ok  yes\n\nsums:\nunit    total\npoints  0\n\nno differences\n");
}

static void
test_error (void **state)
{
    char *out = NULL;
    size_t size = 0;
    FILE *file = open_memstream (&out, &size);
    station_print_error (file, "must be 11 digits", "phone");
    station_print_error (file, "no reply within 300 ms\nfrom registry", NULL);
    station_print_error (file, "volunteer not found", "");
    fclose (file);
    assert_string_equal (out, "station: must be 11 digits (field: phone)\n"
                              "station: no reply within 300 ms from registry\n"
                              "station: volunteer not found\n");
    free (out);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_width),       cmocka_unit_test (test_labels),
        cmocka_unit_test (test_table),       cmocka_unit_test (test_cut),
        cmocka_unit_test (test_empty_lists), cmocka_unit_test (test_error),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
