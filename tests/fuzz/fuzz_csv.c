/*  fuzz_csv.c — fuzz target for the CSV reader (st_csv): any bytes as a spreadsheet's file,
    which is what volunteer.import and region.import are handed

    Besides "never crash, never leak, always end", it checks what the reader promises for every
    input: a row holds 1 to ST_CSV_MAX_FIELDS fields within the byte bounds, or is refused with
    a reason and no fields; rows start on later and later lines, never past the last; no more
    than ST_CSV_MAX_ROWS rows and one refusal are read; the end stays the end. And where the
    file holds no quote and no NUL byte, a plain split of its lines at the commas must give
    exactly the rows, lines and refusals the reader gives. The same bytes fed as a stream in
    pieces (of a size the input picks) must read exactly as the whole file. A broken promise aborts, which
    libFuzzer (or fuzz_main.c) reports as a crash with the input that caused it.
*/
#include "st_csv.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
s_check (bool condition, const char *what, int line)
{
    if (!condition) {
        fprintf (stderr, "fuzz_csv: %s (the row of line %d)\n", what, line);
        abort ();
    }
}

//  Whether the byte at i ends a line: LF, or CR not followed by LF.
static bool
s_line_end (const char *text, size_t size, size_t i)
{
    return text[i] == '\n' || (text[i] == '\r' && (i + 1 >= size || text[i + 1] != '\n'));
}

//  The plain reading of a file with no quotes: each non-blank line is a row, its fields the
//  text between commas. Walks `pos`, `line` and `rows` through the file one row at a time.
typedef struct {
    const char *text;
    size_t size, pos;
    int line, rows;
} s_plain_t;

//  Compares the reader's last row (fields as st_csv_next returned) with the plain reading of
//  the next line.
static void
s_check_plain (s_plain_t *plain, st_csv_t *csv, int fields)
{
    const char *text = plain->text;
    while (plain->pos < plain->size && (text[plain->pos] == '\n' || text[plain->pos] == '\r')) {
        plain->line += s_line_end (text, plain->size, plain->pos);
        plain->pos++;
    }
    s_check (plain->pos < plain->size, "a row where a plain reading has none", plain->line);
    s_check (st_csv_line (csv) == plain->line, "the row is not on its line", plain->line);
    if (++plain->rows > ST_CSV_MAX_ROWS) {
        s_check (fields == -1, "a row past the most a file may have", plain->line);
        plain->pos = plain->size;
        return;
    }
    size_t start = plain->pos;
    while (plain->pos < plain->size && text[plain->pos] != '\n' && text[plain->pos] != '\r')
        plain->pos++;
    size_t end = plain->pos;
    if (plain->pos < plain->size) {
        plain->line++;
        plain->pos +=
            text[plain->pos] == '\r' && plain->pos + 1 < plain->size && text[plain->pos + 1] == '\n'
                ? 2
                : 1;
    }
    //  The line's fields, and whether it breaks a bound
    int count = 1;
    size_t longest = 0, run = 0, bytes = 0;
    for (size_t i = start; i < end; i++) {
        if (text[i] == ',') {
            count++;
            run = 0;
            continue;
        }
        bytes++;
        if (++run > longest)
            longest = run;
    }
    bool refused =
        count > ST_CSV_MAX_FIELDS || longest > ST_CSV_MAX_FIELD_SIZE || bytes > ST_CSV_MAX_ROW_SIZE;
    if (refused) {
        s_check (fields == -1, "a row beyond the bounds is read", plain->line);
        return;
    }
    s_check (fields == count, "the row has other fields than its line", st_csv_line (csv));
    size_t at = start;
    for (int i = 0; i < count; i++) {
        const char *field = st_csv_field (csv, i);
        size_t len = strlen (field);
        s_check (at + len <= end && memcmp (field, text + at, len) == 0
                     && (at + len == end || text[at + len] == ','),
                 "a field is not the text between its commas", st_csv_line (csv));
        at += len + 1;
    }
}

//  The next row of a stream fed `piece` bytes at a time from text at *at.
static int
s_stream_next (st_csv_t *stream, const char *text, size_t size, size_t *at, size_t piece)
{
    int fields;
    while ((fields = st_csv_next (stream)) == ST_CSV_MORE) {
        if (*at == size)
            st_csv_end (stream);
        else {
            size_t n = size - *at < piece ? size - *at : piece;
            st_csv_feed (stream, text + *at, n);
            *at += n;
        }
    }
    return fields;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    const char *text = (const char *) data;
    size_t line_ends = 0;
    for (size_t i = 0; i < size; i++)
        line_ends += s_line_end (text, size, i);
    bool quote_free = size == 0 || (!memchr (data, '"', size) && !memchr (data, 0, size));
    s_plain_t plain = {.text = text, .size = size, .line = 1};
    if (size >= 3 && memcmp (data, "\xef\xbb\xbf", 3) == 0)
        plain.pos = 3;

    st_csv_t *csv = st_csv_new (text, size);
    st_csv_t *stream = st_csv_new_stream (NULL);
    size_t streamed = 0, piece = size ? 1 + data[size - 1] % 17 : 1;
    int rows = 0, last_line = 0, fields;
    while ((fields = st_csv_next (csv)) != 0) {
        int line = st_csv_line (csv);
        int again = s_stream_next (stream, text, size, &streamed, piece);
        s_check (again == fields && st_csv_line (stream) == line
                     && strcmp (st_csv_error (stream), st_csv_error (csv)) == 0,
                 "a stream read another row than the whole file", line);
        for (int i = 0; i < fields; i++)
            s_check (strcmp (st_csv_field (stream, i), st_csv_field (csv, i)) == 0,
                     "a stream read another field than the whole file", line);
        rows++;
        s_check (rows <= ST_CSV_MAX_ROWS + 1, "more rows than the most a file may have", line);
        s_check (line > last_line, "a row starts on a line before the last row's", line);
        s_check (line >= 1 && (size_t) line <= line_ends + 1, "a row past the last line", line);
        last_line = line;
        if (fields < 0) {
            s_check (fields == -1, "a negative count other than -1", line);
            s_check (*st_csv_error (csv) != 0, "a refusal without a reason", line);
            s_check (*st_csv_field (csv, 0) == 0, "a refused row with fields", line);
        } else {
            s_check (fields <= ST_CSV_MAX_FIELDS, "more fields than the most a row may have", line);
            s_check (*st_csv_error (csv) == 0, "a reason for a row read", line);
            size_t bytes = 0;
            for (int i = 0; i < fields; i++) {
                size_t len = strlen (st_csv_field (csv, i));
                s_check (len <= ST_CSV_MAX_FIELD_SIZE, "a field longer than the bound", line);
                bytes += len;
            }
            s_check (bytes <= ST_CSV_MAX_ROW_SIZE && bytes <= size,
                     "a row longer than the bound or the file", line);
            s_check (*st_csv_field (csv, fields) == 0 && *st_csv_field (csv, -1) == 0,
                     "a field outside the row", line);
        }
        if (quote_free)
            s_check_plain (&plain, csv, fields);
    }
    s_check (st_csv_next (csv) == 0, "the end did not stay the end", last_line);
    s_check (s_stream_next (stream, text, size, &streamed, piece) == 0,
             "a stream read more rows than the whole file", last_line);
    st_csv_destroy (&stream);
    if (quote_free) {
        while (plain.pos < size && (text[plain.pos] == '\n' || text[plain.pos] == '\r'))
            plain.pos++;
        s_check (plain.pos == size, "the reader ended before a plain reading does", last_line);
    }
    st_csv_destroy (&csv);
    return 0;
}
