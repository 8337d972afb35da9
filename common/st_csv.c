/*  st_csv.c — the CSV reader: a byte-at-a-time state machine, so that a stream may be cut
    anywhere and only the current row is kept  */
#include "st_csv.h"
#include "st_codec.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct st_csv_s {
    //  The piece being read, and the first bytes of a stream, held until it is known whether
    //  they are a byte-order mark
    const char *data;
    size_t size, pos;
    char head[3];
    size_t head_size, head_pos;
    bool bom_checked, ended;
    int64_t offset; //  bytes of the stream consumed
    int line, row_line;
    bool after_cr; //  the last byte consumed was a CR
    //  The row being read
    bool in_row, quoted, quote_pending, fresh;
    size_t used, field_start, row_bytes;
    char *buffer; //  the current row's fields, NUL-separated
    size_t capacity;
    int count;
    size_t starts[ST_CSV_MAX_FIELDS];
    const char *error;
    int rows, max_rows; //  rows read so far, and the most to read
    bool stopped;       //  past the most rows: the rest is not read
    char too_many[96];
};

#define S_STR(x)         #x
#define S_XSTR(x)        S_STR (x)
#define S_FIELD_TOO_LONG "a field is longer than " S_XSTR (ST_CSV_MAX_FIELD_SIZE) " bytes"
#define S_ROW_TOO_LONG   "the row is longer than " S_XSTR (ST_CSV_MAX_ROW_SIZE) " bytes"

st_csv_t *
st_csv_new_stream (const st_csv_mark_t *from)
{
    st_csv_t *self = st_calloc (1, sizeof *self);
    self->line = 1;
    self->max_rows = ST_CSV_MAX_ROWS;
    if (from) {
        self->offset = from->offset;
        self->line = from->line;
        self->rows = from->rows;
        self->after_cr = from->after_cr;
        self->bom_checked = from->offset > 0;
    }
    self->capacity = 256;
    self->buffer = st_malloc (self->capacity);
    self->buffer[0] = 0;
    return self;
}

st_csv_t *
st_csv_new (const char *data, size_t size)
{
    st_csv_t *self = st_csv_new_stream (NULL);
    st_csv_feed (self, data, size);
    st_csv_end (self);
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

void
st_csv_feed (st_csv_t *self, const char *data, size_t size)
{
    assert (self->pos == self->size); //  the piece before is consumed
    self->data = data;
    self->size = size;
    self->pos = 0;
}

void
st_csv_end (st_csv_t *self)
{
    self->ended = true;
}

void
st_csv_set_max_rows (st_csv_t *self, int max)
{
    self->max_rows = max;
}

void
st_csv_mark (st_csv_t *self, st_csv_mark_t *mark)
{
    mark->offset = self->offset;
    mark->line = self->line;
    mark->rows = self->rows;
    mark->after_cr = self->after_cr;
}

//  The next byte of the stream into *c; false when the pieces given so far are consumed.
//  The stream's first three bytes are held until they are known not to be a byte-order mark
//  (spreadsheet programs write one), which is dropped.
static bool
s_byte (st_csv_t *self, char *c)
{
    while (!self->bom_checked) {
        if (self->head_size == 3 || (self->ended && self->pos == self->size)) {
            self->bom_checked = true;
            if (self->head_size == 3 && memcmp (self->head, "\xef\xbb\xbf", 3) == 0) {
                self->head_pos = 3;
                self->offset += 3;
            }
            break;
        }
        if (self->pos == self->size)
            return false;
        self->head[self->head_size++] = self->data[self->pos++];
    }
    if (self->head_pos < self->head_size)
        *c = self->head[self->head_pos++];
    else if (self->pos < self->size)
        *c = self->data[self->pos++];
    else
        return false;
    self->offset++;
    return true;
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
s_put (st_csv_t *self, char c)
{
    if (self->error)
        return;
    if (self->used - self->field_start >= ST_CSV_MAX_FIELD_SIZE) {
        s_refuse (self, S_FIELD_TOO_LONG);
        return;
    }
    if (self->row_bytes >= ST_CSV_MAX_ROW_SIZE) {
        s_refuse (self, S_ROW_TOO_LONG);
        return;
    }
    s_reserve (self, self->used);
    self->buffer[self->used++] = c;
    self->row_bytes++;
}

//  Ends the row being read: its field count, or -1 when it was malformed.
static int
s_row_end (st_csv_t *self)
{
    self->in_row = false;
    s_reserve (self, self->used);
    self->buffer[self->used] = 0;
    if (self->error) {
        self->count = 0;
        self->buffer[0] = 0;
        return -1;
    }
    return self->count;
}

//  Starts a row on the byte just read; -1 when the file already has the most rows.
static int
s_row_start (st_csv_t *self)
{
    self->row_line = self->line;
    self->error = NULL;
    self->count = 0;
    self->buffer[0] = 0;
    if (self->rows == self->max_rows) {
        snprintf (self->too_many, sizeof self->too_many,
                  "the file has more than %d rows: split it into smaller files", self->max_rows);
        self->error = self->too_many;
        self->stopped = true; //  the rest is not read
        return -1;
    }
    self->rows++;
    self->in_row = true;
    self->used = self->field_start = self->row_bytes = 0;
    self->starts[self->count++] = 0;
    //  fresh: nothing of the current field read yet, so a quote opens it
    self->quoted = self->quote_pending = false;
    self->fresh = true;
    return 0;
}

int
st_csv_next (st_csv_t *self)
{
    if (self->stopped)
        return 0;
    if (!self->in_row) {
        self->count = 0;
        self->error = NULL;
    }
    char c;
    while (true) {
        if (!s_byte (self, &c)) {
            if (!self->ended)
                return ST_CSV_MORE;
            if (!self->in_row)
                return 0;
            //  The end of the file ends the row, and a quote still open.
            if (self->quoted && !self->quote_pending)
                s_refuse (self, "a quoted field is not closed");
            return s_row_end (self);
        }
        //  A line ends at an LF, or a CR: a CRLF counts once.
        bool was_cr = self->after_cr;
        self->after_cr = c == '\r';
        bool line_end = c == '\r' || (c == '\n' && !was_cr);
        if (!self->in_row) {
            //  Blank lines between rows are skipped.
            if (c == '\n' || c == '\r') {
                self->line += line_end;
                continue;
            }
            if (s_row_start (self))
                return -1;
        }
        if (self->quote_pending) {
            //  A quote in a quoted field: doubled, it is a quote; else it closed the field.
            self->quote_pending = false;
            if (c == '"') {
                s_put (self, '"');
                continue;
            }
            self->quoted = false;
        }
        if (c == 0) {
            s_refuse (self, "the row holds a NUL byte");
            self->fresh = false;
            continue;
        }
        if (self->quoted) {
            if (c == '"')
                self->quote_pending = true;
            else {
                self->line += line_end;
                s_put (self, c);
            }
            continue;
        }
        if (c == '"' && self->fresh) {
            self->quoted = true;
            self->fresh = false;
            continue;
        }
        if (c == ',') {
            if (self->count == ST_CSV_MAX_FIELDS)
                s_refuse (self, "the row has too many fields");
            if (!self->error) {
                s_reserve (self, self->used);
                self->buffer[self->used++] = 0;
                self->field_start = self->used;
                self->starts[self->count++] = self->used;
            }
            self->fresh = true;
            continue;
        }
        if (c == '\r' || c == '\n') {
            self->line += line_end;
            return s_row_end (self);
        }
        s_put (self, c);
        self->fresh = false;
    }
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

//  ---------------------------------------------------------------------------------------
//  The writer

struct st_csv_writer_s {
    char *data;
    size_t size, room;
    bool row_open; //  a field of the current row is written (the next needs a comma)
    int64_t rows;
};

static void
s_out (st_csv_writer_t *self, const char *bytes, size_t size)
{
    if (self->size + size + 1 > self->room) {
        while (self->size + size + 1 > self->room)
            self->room = self->room ? self->room * 2 : 4096;
        self->data = realloc (self->data, self->room);
        assert (self->data);
    }
    memcpy (self->data + self->size, bytes, size);
    self->size += size;
    self->data[self->size] = '\0';
}

st_csv_writer_t *
st_csv_writer_new (void)
{
    st_csv_writer_t *self = st_calloc (1, sizeof *self);
    s_out (self, "\xEF\xBB\xBF", 3);
    return self;
}

void
st_csv_writer_destroy (st_csv_writer_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->data);
    free (*self_p);
    *self_p = NULL;
}

//  A field as it is, quoted when it must be, with an apostrophe first when `guard` and it
//  starts like a formula.
static void
s_field (st_csv_writer_t *self, const char *text, bool guard)
{
    if (self->row_open)
        s_out (self, ",", 1);
    self->row_open = true;
    if (!text)
        return;
    bool quote = strpbrk (text, ",\"\r\n") != NULL;
    if (quote)
        s_out (self, "\"", 1);
    if (guard && *text && strchr ("=+-@\t\r", *text))
        s_out (self, "'", 1);
    for (const char *p = text; *p; p++) {
        if (*p == '"')
            s_out (self, "\"", 1);
        s_out (self, p, 1);
    }
    if (quote)
        s_out (self, "\"", 1);
}

void
st_csv_write (st_csv_writer_t *self, const char *text)
{
    s_field (self, text, true);
}

void
st_csv_write_int (st_csv_writer_t *self, int64_t value)
{
    char text[24];
    snprintf (text, sizeof text, "%lld", (long long) value);
    s_field (self, text, false);
}

void
st_csv_write_number (st_csv_writer_t *self, double value)
{
    char text[40];
    snprintf (text, sizeof text, "%.10g", value);
    s_field (self, text, false);
}

void
st_csv_write_end (st_csv_writer_t *self)
{
    s_out (self, "\r\n", 2);
    self->row_open = false;
    self->rows++;
}

int64_t
st_csv_writer_rows (st_csv_writer_t *self)
{
    return self->rows;
}

size_t
st_csv_writer_size (st_csv_writer_t *self)
{
    return self->size;
}

char *
st_csv_writer_take (st_csv_writer_t *self, size_t *size)
{
    char *text = self->data ? self->data : st_strdup ("");
    if (size)
        *size = self->size;
    self->data = NULL;
    self->size = self->room = 0;
    self->row_open = false;
    return text;
}
