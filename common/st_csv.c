/*  st_csv.c — the CSV reader  */
#include "st_csv.h"
#include "st_codec.h"

#include <stdlib.h>
#include <string.h>

struct st_csv_s {
    const char *data;
    size_t size, pos;
    int line, row_line;
    char *buffer; //  the current row's fields, NUL-separated
    size_t capacity;
    int count;
    size_t starts[ST_CSV_MAX_FIELDS];
    const char *error;
    int rows; //  rows read so far
};

#define S_STR(x)         #x
#define S_XSTR(x)        S_STR (x)
#define S_FIELD_TOO_LONG "a field is longer than " S_XSTR (ST_CSV_MAX_FIELD_SIZE) " bytes"
#define S_ROW_TOO_LONG   "the row is longer than " S_XSTR (ST_CSV_MAX_ROW_SIZE) " bytes"
#define S_TOO_MANY_ROWS                                                                            \
    "the file has more than " S_XSTR (ST_CSV_MAX_ROWS) " rows: split it into smaller files"

st_csv_t *
st_csv_new (const char *data, size_t size)
{
    st_csv_t *self = st_calloc (1, sizeof *self);
    self->data = data;
    self->size = size;
    self->line = 1;
    if (size >= 3 && memcmp (data, "\xef\xbb\xbf", 3) == 0)
        self->pos = 3; //  a byte-order mark, as spreadsheet programs write
    self->capacity = 256;
    self->buffer = st_malloc (self->capacity);
    return self;
}

void
st_csv_destroy (st_csv_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->buffer);
    free (*self_p);
    *self_p = NULL;
}

//  Whether the byte at pos ends a line: LF, or a CR not followed by LF (a CRLF ends where its
//  LF is), so that CRLF, LF and a lone CR each count one line.
static bool
s_line_end (const st_csv_t *self, size_t pos)
{
    char c = self->data[pos];
    return c == '\n' || (c == '\r' && (pos + 1 >= self->size || self->data[pos + 1] != '\n'));
}

//  The first reason a row is malformed wins; from then on the row is read to its end (its
//  quotes still honoured, so that the next row starts where it should) and nothing is kept.
static void
s_refuse (st_csv_t *self, const char *reason)
{
    if (!self->error)
        self->error = reason;
}

//  Makes room in the buffer for a byte at `used`.
static void
s_reserve (st_csv_t *self, size_t used)
{
    if (used < self->capacity)
        return;
    self->capacity *= 2;
    char *grown = realloc (self->buffer, self->capacity);
    if (!grown)
        abort ();
    self->buffer = grown;
}

//  Keeps a byte of the current field, within the bounds of a field and a row.
static void
s_put (st_csv_t *self, size_t *used, size_t field_start, size_t *row_bytes, char c)
{
    if (self->error)
        return;
    if (*used - field_start >= ST_CSV_MAX_FIELD_SIZE) {
        s_refuse (self, S_FIELD_TOO_LONG);
        return;
    }
    if (*row_bytes >= ST_CSV_MAX_ROW_SIZE) {
        s_refuse (self, S_ROW_TOO_LONG);
        return;
    }
    s_reserve (self, *used);
    self->buffer[(*used)++] = c;
    (*row_bytes)++;
}

int
st_csv_next (st_csv_t *self)
{
    self->count = 0;
    self->error = NULL;
    //  Blank lines between rows are skipped.
    while (self->pos < self->size
           && (self->data[self->pos] == '\n' || self->data[self->pos] == '\r')) {
        self->line += s_line_end (self, self->pos);
        self->pos++;
    }
    if (self->pos >= self->size)
        return 0;
    self->row_line = self->line;
    if (self->rows == ST_CSV_MAX_ROWS) {
        self->error = S_TOO_MANY_ROWS;
        self->pos = self->size; //  the rest is not read
        return -1;
    }
    self->rows++;
    size_t used = 0, field_start = 0, row_bytes = 0;
    self->starts[self->count++] = 0;
    //  fresh: nothing of the current field read yet, so a quote opens it
    bool quoted = false, fresh = true;
    while (self->pos < self->size) {
        size_t at = self->pos++;
        char c = self->data[at];
        if (c == 0) {
            s_refuse (self, "the row holds a NUL byte");
            fresh = false;
            continue;
        }
        if (quoted) {
            if (c == '"' && self->pos < self->size && self->data[self->pos] == '"') {
                s_put (self, &used, field_start, &row_bytes, '"');
                self->pos++;
            } else if (c == '"')
                quoted = false;
            else {
                self->line += s_line_end (self, at);
                s_put (self, &used, field_start, &row_bytes, c);
            }
            continue;
        }
        if (c == '"' && fresh) {
            quoted = true;
            fresh = false;
            continue;
        }
        if (c == ',') {
            if (self->count == ST_CSV_MAX_FIELDS)
                s_refuse (self, "the row has too many fields");
            if (!self->error) {
                s_reserve (self, used);
                self->buffer[used++] = 0;
                field_start = used;
                self->starts[self->count++] = used;
            }
            fresh = true;
            continue;
        }
        if (c == '\r' || c == '\n') {
            if (c == '\r' && self->pos < self->size && self->data[self->pos] == '\n')
                self->pos++;
            self->line++;
            break;
        }
        s_put (self, &used, field_start, &row_bytes, c);
        fresh = false;
    }
    if (quoted)
        s_refuse (self, "a quoted field is not closed");
    s_reserve (self, used);
    self->buffer[used] = 0;
    if (self->error) {
        self->count = 0;
        return -1;
    }
    return self->count;
}

const char *
st_csv_field (st_csv_t *self, int index)
{
    return index >= 0 && index < self->count ? self->buffer + self->starts[index] : "";
}

int
st_csv_line (st_csv_t *self)
{
    return self->row_line;
}

const char *
st_csv_error (st_csv_t *self)
{
    return self->error ? self->error : "";
}
