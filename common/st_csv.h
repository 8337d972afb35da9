/*  st_csv.h — a reader for the CSV files officials export from spreadsheets (RFC 4180: quoted
    fields, doubled quotes, CRLF or LF line ends, a UTF-8 byte-order mark). Never trusts the
    bytes: a malformed row is an error naming its line, never a crash.  */
#ifndef ST_CSV_H_INCLUDED
#define ST_CSV_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

#define ST_CSV_MAX_FIELDS 64

typedef struct st_csv_s st_csv_t;

//  Reads from `data` (borrowed; it must outlive the reader).
st_csv_t *st_csv_new (const char *data, size_t size);
void st_csv_destroy (st_csv_t **self_p);

//  Reads the next row. Returns the number of fields (0 at the end), or -1 for a malformed
//  row (an unclosed quote, too many fields) with the reason in st_csv_error. Fields are
//  NUL-terminated and valid until the next call.
int st_csv_next (st_csv_t *self);
const char *st_csv_field (st_csv_t *self, int index);
int st_csv_line (st_csv_t *self); //  the line the last row started on, from 1
const char *st_csv_error (st_csv_t *self);

#endif
