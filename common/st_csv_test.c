/*  st_csv_test.c — the CSV reader against what spreadsheets write and what a hostile file
    holds: quotes, doubled quotes, commas and line ends inside quotes, CRLF and LF, a
    byte-order mark, empty fields and blank lines, and rows, fields and files too large  */
#include "st_csv.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

//  Reads the next row of `csv` and asserts it is `count` fields equal to `expected`, starting
//  on `line`.
static void
s_assert_row (st_csv_t *csv, int line, int count, const char *const *expected)
{
    int fields = st_csv_next (csv);
    if (fields != count)
        fail_msg ("row of line %d: %d fields (%s), not %d", st_csv_line (csv), fields,
                  st_csv_error (csv), count);
    assert_int_equal (st_csv_line (csv), line);
    for (int i = 0; i < count; i++)
        assert_string_equal (st_csv_field (csv, i), expected[i]);
}

//  The next row is malformed: -1, a reason naming what is wrong, the line it started on.
static void
s_assert_refused (st_csv_t *csv, int line, const char *reason)
{
    int fields = st_csv_next (csv);
    if (fields != -1)
        fail_msg ("a malformed row of line %d read as %d fields", line, fields);
    assert_int_equal (st_csv_line (csv), line);
    if (!strstr (st_csv_error (csv), reason))
        fail_msg ("the reason is \"%s\", not \"%s\"", st_csv_error (csv), reason);
}

static st_csv_t *
s_reader (const char *text)
{
    return st_csv_new (text, strlen (text));
}

//  LF and CRLF line ends, with and without a final line end, read the same.
static void
test_line_ends (void **state)
{
    const char *texts[] = {"name,phone\n张三,138\n", "name,phone\r\n张三,138\r\n",
                           "name,phone\r\n张三,138", "name,phone\n张三,138"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        st_csv_t *csv = s_reader (texts[i]);
        s_assert_row (csv, 1, 2, (const char *[]){"name", "phone"});
        s_assert_row (csv, 2, 2, (const char *[]){"张三", "138"});
        assert_int_equal (st_csv_next (csv), 0);
        assert_int_equal (st_csv_next (csv), 0); //  the end stays the end
        st_csv_destroy (&csv);
        assert_null (csv);
    }
    //  A lone CR (old Mac files) ends a line too, and counts as one.
    st_csv_t *csv = s_reader ("a\rb\r\rc");
    s_assert_row (csv, 1, 1, (const char *[]){"a"});
    s_assert_row (csv, 2, 1, (const char *[]){"b"});
    s_assert_row (csv, 4, 1, (const char *[]){"c"});
    assert_int_equal (st_csv_next (csv), 0);
    st_csv_destroy (&csv);
}

//  Spreadsheets start UTF-8 files with a byte-order mark: it is no part of the first field.
//  Anywhere else the same bytes are data.
static void
test_byte_order_mark (void **state)
{
    st_csv_t *csv = s_reader ("\xef\xbb\xbf姓名,手机号\r\n\xef\xbb\xbfx,y\r\n");
    s_assert_row (csv, 1, 2, (const char *[]){"姓名", "手机号"});
    s_assert_row (csv, 2, 2, (const char *[]){"\xef\xbb\xbfx", "y"});
    assert_int_equal (st_csv_next (csv), 0);
    st_csv_destroy (&csv);
    csv = s_reader ("\xef\xbb\xbf");
    assert_int_equal (st_csv_next (csv), 0);
    st_csv_destroy (&csv);
    csv = s_reader ("\xef\xbb");
    s_assert_row (csv, 1, 1, (const char *[]){"\xef\xbb"});
    st_csv_destroy (&csv);
}

//  Quoted fields hold commas, doubled quotes and line ends (LF or CRLF, kept as written);
//  the lines they span count, so the next row's line is right (row 2 spans lines 2 to 4).
static void
test_quotes (void **state)
{
    st_csv_t *csv = s_reader ("\"王, 五\",\"他说\"\"好\"\"\",\"\"\n"
                              "\"第一行\n第二行\",\"a\r\nb\",c\n"
                              "\"\"\"\",x\n"
                              "d,e\n");
    s_assert_row (csv, 1, 3, (const char *[]){"王, 五", "他说\"好\"", ""});
    s_assert_row (csv, 2, 3, (const char *[]){"第一行\n第二行", "a\r\nb", "c"});
    s_assert_row (csv, 5, 2, (const char *[]){"\"", "x"});
    s_assert_row (csv, 6, 2, (const char *[]){"d", "e"});
    assert_int_equal (st_csv_next (csv), 0);
    st_csv_destroy (&csv);
}

//  A quote inside an unquoted field is a character; text after a closing quote joins the
//  field (what spreadsheets make of it too).
static void
test_stray_quotes (void **state)
{
    st_csv_t *csv = s_reader ("ab\"c,5\"\n\"ab\"c,\"x\"\"\"\n");
    s_assert_row (csv, 1, 2, (const char *[]){"ab\"c", "5\""});
    s_assert_row (csv, 2, 2, (const char *[]){"abc", "x\""});
    st_csv_destroy (&csv);
}

//  Empty fields are fields; blank lines between rows are skipped and still counted.
static void
test_empty_fields_and_blank_lines (void **state)
{
    st_csv_t *csv = s_reader ("a,,c\n,\n\n\r\n\n,,\nx,\n");
    s_assert_row (csv, 1, 3, (const char *[]){"a", "", "c"});
    s_assert_row (csv, 2, 2, (const char *[]){"", ""});
    s_assert_row (csv, 6, 3, (const char *[]){"", "", ""});
    s_assert_row (csv, 7, 2, (const char *[]){"x", ""});
    assert_int_equal (st_csv_next (csv), 0);
    //  Beyond the row's fields: an empty string, never out of bounds.
    assert_string_equal (st_csv_field (csv, 0), "");
    st_csv_destroy (&csv);
    csv = st_csv_new (NULL, 0);
    assert_int_equal (st_csv_next (csv), 0);
    st_csv_destroy (&csv);
    csv = s_reader ("only\n");
    s_assert_row (csv, 1, 1, (const char *[]){"only"});
    assert_string_equal (st_csv_field (csv, 1), "");
    assert_string_equal (st_csv_field (csv, -1), "");
    st_csv_destroy (&csv);
    st_csv_destroy (&csv); //  NULL is fine
    st_csv_destroy (NULL);
}

//  A quote left open takes the rest of the file: one malformed row at the line it opened on,
//  then the end.
static void
test_unterminated_quote (void **state)
{
    st_csv_t *csv = s_reader ("a,b\n\"open,c\nd,e\nf,g\n");
    s_assert_row (csv, 1, 2, (const char *[]){"a", "b"});
    s_assert_refused (csv, 2, "quoted field is not closed");
    assert_int_equal (st_csv_next (csv), 0);
    st_csv_destroy (&csv);
}

//  A NUL byte is no text: its row is refused and the next one read.
static void
test_nul_byte (void **state)
{
    const char text[] = "a,b\nc\0\",d\ne,f\n";
    st_csv_t *csv = st_csv_new (text, sizeof text - 1);
    s_assert_row (csv, 1, 2, (const char *[]){"a", "b"});
    s_assert_refused (csv, 2, "NUL");
    s_assert_row (csv, 3, 2, (const char *[]){"e", "f"});
    st_csv_destroy (&csv);
}

//  Appends `count` copies of `c` to text at *len.
static void
s_fill (char *text, size_t *len, char c, size_t count)
{
    memset (text + *len, c, count);
    *len += count;
}

static void
s_append (char *text, size_t *len, const char *s)
{
    memcpy (text + *len, s, strlen (s));
    *len += strlen (s);
}

//  Too many fields, a field or a row too long: the row is refused with the reason, and the
//  reader carries on at the next row, even when the refused row's quotes span lines.
static void
test_bounds (void **state)
{
    size_t size = 4 * ST_CSV_MAX_ROW_SIZE, len = 0;
    char *text = malloc (size);
    //  Line 1: the most fields a row may have; line 2: one more.
    for (int i = 0; i < ST_CSV_MAX_FIELDS; i++)
        s_append (text, &len, i ? ",f" : "f");
    s_append (text, &len, "\n");
    for (int i = 0; i <= ST_CSV_MAX_FIELDS; i++)
        s_append (text, &len, i ? ",f" : "f");
    s_append (text, &len, "\n");
    //  Line 3: a field as long as may be; line 4: one byte more, quoted, then a field whose
    //  quotes span lines 5 and 6: the reader carries on at line 7.
    s_fill (text, &len, 'x', ST_CSV_MAX_FIELD_SIZE);
    s_append (text, &len, "\n\"");
    s_fill (text, &len, 'y', ST_CSV_MAX_FIELD_SIZE);
    s_append (text, &len, "\ny\",\"z\nz\"\n");
    //  Line 7: a row of fields each short enough but too long together.
    for (size_t row = 0; row <= ST_CSV_MAX_ROW_SIZE; row += ST_CSV_MAX_FIELD_SIZE) {
        s_fill (text, &len, 'w', ST_CSV_MAX_FIELD_SIZE - 1);
        s_append (text, &len, ",");
    }
    s_append (text, &len, "\nlast,row\n");
    assert_true (len <= size);

    st_csv_t *csv = st_csv_new (text, len);
    assert_int_equal (st_csv_next (csv), ST_CSV_MAX_FIELDS);
    assert_string_equal (st_csv_field (csv, ST_CSV_MAX_FIELDS - 1), "f");
    s_assert_refused (csv, 2, "too many fields");
    assert_int_equal (st_csv_next (csv), 1);
    assert_int_equal (st_csv_line (csv), 3);
    assert_int_equal (strlen (st_csv_field (csv, 0)), ST_CSV_MAX_FIELD_SIZE);
    s_assert_refused (csv, 4, "field is longer than");
    s_assert_refused (csv, 7, "row is longer than");
    s_assert_row (csv, 8, 2, (const char *[]){"last", "row"});
    assert_int_equal (st_csv_next (csv), 0);
    st_csv_destroy (&csv);
    free (text);
}

//  At most ST_CSV_MAX_ROWS rows are read (the header counts): past them one malformed row
//  says the file is too long, and the rest is not read.
static void
test_row_count (void **state)
{
    size_t rows = ST_CSV_MAX_ROWS + 2, len = 0;
    char *text = malloc (2 * rows);
    for (size_t i = 0; i < rows; i++)
        s_append (text, &len, i % 2 ? "b\n" : "a\n");
    st_csv_t *csv = st_csv_new (text, len);
    for (int i = 0; i < ST_CSV_MAX_ROWS; i++)
        if (st_csv_next (csv) != 1 || st_csv_line (csv) != i + 1)
            fail_msg ("row %d not read", i + 1);
    s_assert_refused (csv, ST_CSV_MAX_ROWS + 1, "more than");
    assert_int_equal (st_csv_next (csv), 0);
    st_csv_destroy (&csv);
    free (text);
}

//  Every row of a reader as one text ("line:fields:a|b;" or "line:-1:reason;"), the stream fed
//  `piece` bytes at a time (0: the reader is whole); stops after `stop` rows (-1: at the end)
//  and leaves the mark there.
static char *
s_rows (st_csv_t *csv, const char *text, size_t size, size_t at, size_t piece, int stop,
        st_csv_mark_t *mark)
{
    size_t capacity = 4 * size + 4096, used = 0;
    char *out = calloc (1, capacity);
    int fields;
    while (stop != 0) {
        fields = st_csv_next (csv);
        if (fields == ST_CSV_MORE) {
            assert_true (piece > 0);
            if (at == size)
                st_csv_end (csv);
            else {
                size_t n = size - at < piece ? size - at : piece;
                st_csv_feed (csv, text + at, n);
                at += n;
            }
            continue;
        }
        if (fields == 0)
            break;
        used +=
            (size_t) snprintf (out + used, capacity - used, "%d:%d:", st_csv_line (csv), fields);
        if (fields < 0)
            used += (size_t) snprintf (out + used, capacity - used, "%s", st_csv_error (csv));
        for (int i = 0; i < fields; i++)
            used += (size_t) snprintf (out + used, capacity - used, "%s%s", i ? "|" : "",
                                       st_csv_field (csv, i));
        used += (size_t) snprintf (out + used, capacity - used, ";");
        if (stop > 0)
            stop--;
    }
    if (mark)
        st_csv_mark (csv, mark);
    return out;
}

//  A stream cut anywhere reads as the whole file: every piece size, a byte-order mark, CRLF
//  split between pieces, quotes and doubled quotes across pieces, malformed rows. And a
//  reader stopped between rows and resumed from its mark in a new reader reads the rest the
//  same, wherever it stopped.
static void
test_stream (void **state)
{
    const char text[] = "\xef\xbb\xbfname,\"no\"\"te\"\r\n\r\n"
                        "a,\"x\r\ny\"\r\n"
                        "b,\"open\n\nc,d\"\r"
                        "e,f\0g\n"
                        "\"h\"\"\",i\n"
                        "j,\"k\"l\n"
                        "last,\"quote";
    size_t size = sizeof text - 1;
    st_csv_t *csv = st_csv_new (text, size);
    char *whole = s_rows (csv, text, size, size, 0, -1, NULL);
    st_csv_destroy (&csv);
    assert_non_null (strstr (whole, "1:2:name|no\"te;"));
    assert_non_null (strstr (whole, "NUL"));
    for (size_t piece = 1; piece <= size; piece++) {
        csv = st_csv_new_stream (NULL);
        char *streamed = s_rows (csv, text, size, 0, piece, -1, NULL);
        st_csv_destroy (&csv);
        if (strcmp (whole, streamed))
            fail_msg ("pieces of %zu bytes read\n%s\nnot\n%s", piece, streamed, whole);
        free (streamed);
    }
    for (int stop = 0; stop <= 7; stop++) {
        for (size_t piece = 1; piece <= size; piece += 3) {
            st_csv_mark_t mark;
            csv = st_csv_new_stream (NULL);
            char *first = s_rows (csv, text, size, 0, piece, stop, &mark);
            st_csv_destroy (&csv);
            csv = st_csv_new_stream (&mark);
            char *rest = s_rows (csv, text, size, (size_t) mark.offset, piece, -1, NULL);
            st_csv_destroy (&csv);
            char joined[4096];
            snprintf (joined, sizeof joined, "%s%s", first, rest);
            if (strcmp (whole, joined))
                fail_msg ("stopped after %d rows (pieces of %zu) read\n%s\nnot\n%s", stop, piece,
                          joined, whole);
            free (first);
            free (rest);
        }
    }
    free (whole);
}

//  The most rows may be set per reader.
static void
test_max_rows (void **state)
{
    st_csv_t *csv = s_reader ("a\nb\nc\n");
    st_csv_set_max_rows (csv, 2);
    assert_int_equal (st_csv_next (csv), 1);
    assert_int_equal (st_csv_next (csv), 1);
    s_assert_refused (csv, 3, "more than 2 rows");
    assert_int_equal (st_csv_next (csv), 0);
    st_csv_destroy (&csv);
}

//  The writer: a byte-order mark, CRLF, quotes only where needed (comma, quote, line ends),
//  quotes doubled, numbers as they are, and a text starting like a formula made harmless
//  with an apostrophe; what it writes reads back as written.
static void
test_writer (void **state)
{
    (void) state;
    st_csv_writer_t *out = st_csv_writer_new ();
    st_csv_write (out, "区划代码");
    st_csv_write (out, "a,b");
    st_csv_write (out, "say \"hi\"");
    st_csv_write (out, "two\nlines");
    st_csv_write (out, NULL);
    st_csv_write_end (out);
    st_csv_write (out, "=1+2");
    st_csv_write (out, "+86");
    st_csv_write (out, "-3");
    st_csv_write (out, "@SUM(A1)");
    st_csv_write (out, "=HYPERLINK(\"x\",\"y\")");
    st_csv_write_int (out, -3);
    st_csv_write_number (out, 2.5);
    st_csv_write_end (out);
    assert_int_equal (st_csv_writer_rows (out), 2);
    size_t size;
    char *text = st_csv_writer_take (out, &size);
    const char *expected =
        "\xEF\xBB\xBF区划代码,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\r\n"
        "'=1+2,'+86,'-3,'@SUM(A1),\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\",-3,2.5\r\n";
    assert_string_equal (text, expected);
    assert_int_equal (size, strlen (expected));

    st_csv_t *csv = st_csv_new (text, size);
    s_assert_row (csv, 1, 5, (const char *[]){"区划代码", "a,b", "say \"hi\"", "two\nlines", ""});
    s_assert_row (csv, 3, 7,
                  (const char *[]){"'=1+2", "'+86", "'-3", "'@SUM(A1)", "'=HYPERLINK(\"x\",\"y\")",
                                   "-3", "2.5"});
    assert_int_equal (st_csv_next (csv), 0);
    st_csv_destroy (&csv);
    free (text);
    st_csv_writer_destroy (&out);
    assert_null (out);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_line_ends),
        cmocka_unit_test (test_byte_order_mark),
        cmocka_unit_test (test_quotes),
        cmocka_unit_test (test_stray_quotes),
        cmocka_unit_test (test_empty_fields_and_blank_lines),
        cmocka_unit_test (test_unterminated_quote),
        cmocka_unit_test (test_nul_byte),
        cmocka_unit_test (test_bounds),
        cmocka_unit_test (test_row_count),
        cmocka_unit_test (test_stream),
        cmocka_unit_test (test_max_rows),
        cmocka_unit_test (test_writer),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
