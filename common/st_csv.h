/*  st_csv.h — a reader for the CSV files officials export from spreadsheets (RFC 4180: quoted
    fields, doubled quotes, CRLF or LF line ends, a UTF-8 byte-order mark). Never trusts the
    bytes: a malformed row is an error naming its line, never a crash.  */
#ifndef ST_CSV_H_INCLUDED
#define ST_CSV_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

//  What a row may hold: fields, bytes in one field, bytes in all its fields; and how many rows
//  a file may have (a header row counts).
#define ST_CSV_MAX_FIELDS     64
#define ST_CSV_MAX_FIELD_SIZE 4096
#define ST_CSV_MAX_ROW_SIZE   65536
#define ST_CSV_MAX_ROWS       100000

typedef struct st_csv_s st_csv_t;

//  Reads from `data` (borrowed; it must outlive the reader).
st_csv_t *st_csv_new (const char *data, size_t size);
void st_csv_destroy (st_csv_t **self_p);

//  Reads the next row; blank lines are skipped. Returns the number of fields (0 at the end),
//  or -1 for a malformed row (an unclosed quote, which takes the rest of the file; a NUL
//  byte; more fields or bytes than the bounds above) with the reason in st_csv_error, the
//  reader then at the next row. Past ST_CSV_MAX_ROWS rows, one -1 saying so, then the end.
//  Fields are NUL-terminated and valid until the next call.
int st_csv_next (st_csv_t *self);
const char *st_csv_field (st_csv_t *self, int index);
int st_csv_line (st_csv_t *self); //  the line the last row started on, from 1
const char *st_csv_error (st_csv_t *self);

#endif
