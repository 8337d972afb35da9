/*  st_csv.h — a reader for the CSV files officials export from spreadsheets (RFC 4180: quoted
    fields, doubled quotes, CRLF or LF line ends, a UTF-8 byte-order mark). Never trusts the
    bytes: a malformed row is an error naming its line, never a crash. Reads a file whole or
    as a stream of pieces cut anywhere (a row may span pieces), keeping only the current row,
    and can stop between rows and resume there later from a mark.  */
#ifndef ST_CSV_H_INCLUDED
#define ST_CSV_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  What a row may hold: fields, bytes in one field, bytes in all its fields; and how many rows
//  a file may have (a header row counts) unless st_csv_set_max_rows says otherwise.
#define ST_CSV_MAX_FIELDS     64
#define ST_CSV_MAX_FIELD_SIZE 4096
#define ST_CSV_MAX_ROW_SIZE   65536
#define ST_CSV_MAX_ROWS       100000

//  st_csv_next's answer when a stream needs more bytes to finish the row.
#define ST_CSV_MORE (-2)

typedef struct st_csv_s st_csv_t;

//  Where a reader stands between two rows: the bytes of the stream consumed, the line and
//  the rows read so far, and whether the last byte was a CR (an LF next ends no other line).
typedef struct {
    int64_t offset;
    int line;
    int rows;
    bool after_cr;
} st_csv_mark_t;

//  Reads from `data` (borrowed; it must outlive the reader): a whole file.
st_csv_t *st_csv_new (const char *data, size_t size);

//  Reads a stream given piece by piece with st_csv_feed and ended with st_csv_end; from its
//  start (`from` NULL), or from a mark taken before (the pieces then start at its offset).
st_csv_t *st_csv_new_stream (const st_csv_mark_t *from);
void st_csv_destroy (st_csv_t **self_p);

//  Gives the next piece (borrowed until st_csv_next has consumed it, that is until it
//  answers ST_CSV_MORE), and says there are no more.
void st_csv_feed (st_csv_t *self, const char *data, size_t size);
void st_csv_end (st_csv_t *self);

//  At most `max` rows (a header row counts) are read; ST_CSV_MAX_ROWS by default.
void st_csv_set_max_rows (st_csv_t *self, int max);

//  Reads the next row; blank lines are skipped. Returns the number of fields (0 at the end),
//  or -1 for a malformed row (an unclosed quote, which takes the rest of the file; a NUL
//  byte; more fields or bytes than the bounds above) with the reason in st_csv_error, the
//  reader then at the next row; or ST_CSV_MORE when the stream's pieces given so far are
//  consumed and more are needed (the row read so far is kept). Past the most rows, one -1
//  saying so, then the end. Fields are NUL-terminated and valid until the next call.
int st_csv_next (st_csv_t *self);
const char *st_csv_field (st_csv_t *self, int index);
int st_csv_line (st_csv_t *self); //  the line the last row started on, from 1
const char *st_csv_error (st_csv_t *self);

//  Where the reader stands after the last row st_csv_next returned (not valid while a row
//  is half read, that is after ST_CSV_MORE).
void st_csv_mark (st_csv_t *self, st_csv_mark_t *mark);

//  ---------------------------------------------------------------------------------------
//  A writer of CSV text that Excel and WPS open as written: a UTF-8 byte-order mark first,
//  CRLF line ends, a field quoted when it holds a comma, a quote (doubled), a CR or an LF.
//  A text field starting with = + - @, a tab or a CR gets a leading apostrophe, so that a
//  spreadsheet shows it as text and never runs it as a formula (CSV injection); numbers
//  written with st_csv_write_number are left as they are.
typedef struct st_csv_writer_s st_csv_writer_t;

st_csv_writer_t *st_csv_writer_new (void);
void st_csv_writer_destroy (st_csv_writer_t **self_p);

//  One field of the current row: text (NULL writes an empty field), or a number.
void st_csv_write (st_csv_writer_t *self, const char *text);
void st_csv_write_int (st_csv_writer_t *self, int64_t value);
void st_csv_write_number (st_csv_writer_t *self, double value);
//  Ends the current row.
void st_csv_write_end (st_csv_writer_t *self);

//  Rows ended so far, and the bytes written so far (the mark included).
int64_t st_csv_writer_rows (st_csv_writer_t *self);
size_t st_csv_writer_size (st_csv_writer_t *self);

//  The text written, NUL-terminated (the caller's, `size` its length without the NUL); the
//  writer is empty afterwards.
char *st_csv_writer_take (st_csv_writer_t *self, size_t *size);

#endif
