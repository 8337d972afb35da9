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
};

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

static void
s_put (st_csv_t *self, size_t *used, char c)
{
    if (*used + 1 >= self->capacity) {
        self->capacity *= 2;
        char *grown = realloc (self->buffer, self->capacity);
        if (!grown)
            abort ();
        self->buffer = grown;
    }
    self->buffer[(*used)++] = c;
}

int
st_csv_next (st_csv_t *self)
{
    self->count = 0;
    self->error = NULL;
    //  Blank lines between rows are skipped.
    while (self->pos < self->size
           && (self->data[self->pos] == '\n' || self->data[self->pos] == '\r')) {
        if (self->data[self->pos] == '\n')
            self->line++;
        self->pos++;
    }
    if (self->pos >= self->size)
        return 0;
    self->row_line = self->line;
    size_t used = 0;
    self->starts[self->count++] = 0;
    bool quoted = false, was_quoted = false;
    while (self->pos < self->size) {
        char c = self->data[self->pos++];
        if (quoted) {
            if (c == '"') {
                if (self->pos < self->size && self->data[self->pos] == '"') {
                    s_put (self, &used, '"');
                    self->pos++;
                } else
                    quoted = false;
            } else {
                if (c == '\n')
                    self->line++;
                s_put (self, &used, c);
            }
            continue;
        }
        if (c == '"' && !was_quoted && (used == 0 || self->buffer[used - 1] == 0)) {
            quoted = was_quoted = true;
            continue;
        }
        if (c == ',') {
            s_put (self, &used, 0);
            if (self->count == ST_CSV_MAX_FIELDS) {
                self->error = "the row has too many fields";
                break;
            }
            self->starts[self->count++] = used;
            was_quoted = false;
            continue;
        }
        if (c == '\r' || c == '\n') {
            if (c == '\r' && self->pos < self->size && self->data[self->pos] == '\n')
                self->pos++;
            self->line++;
            break;
        }
        s_put (self, &used, c);
    }
    if (quoted)
        self->error = "a quoted field is not closed";
    s_put (self, &used, 0);
    if (self->error) {
        //  Resynchronise on the next line.
        while (self->pos < self->size && self->data[self->pos] != '\n')
            self->pos++;
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
