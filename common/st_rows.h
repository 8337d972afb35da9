/*  st_rows.h — query results to messages through the descriptors: a column fills the field
    of the same name, so a handler's SELECT names its reply's fields and no code copies them
    one by one.  */
#ifndef ST_ROWS_H_INCLUDED
#define ST_ROWS_H_INCLUDED

#include "st_codec.h"

#include <libpq-fe.h>

//  Fills the fields of `msg` named like the result's columns from row `row` (text results):
//  STR takes the text, INT and DOUBLE the number, BOOL 't' or 'f', STRS a text[] literal;
//  NULL leaves the field absent. Columns with no field of their name are left to the caller.
void st_row_to_msg (const PGresult *res, int row, const st_desc_t *desc, void *msg);

//  Fills a list field with one message per row.
void st_rows_to_list (const PGresult *res, const st_desc_t *item, st_list_t *list, bool *has);

//  Column `column` of row `row`, by name (the statement must select it): its text ("" when
//  NULL, borrowed from `res`), whether it is NULL, its number, whether it is true.
const char *st_row_text (const PGresult *res, int row, const char *column);
bool st_row_null (const PGresult *res, int row, const char *column);
int64_t st_row_int (const PGresult *res, int row, const char *column);
bool st_row_bool (const PGresult *res, int row, const char *column);

//  Parses a text[] value as PostgreSQL prints it ({a,"b c",NULL}) into an owned list.
void st_text_array_parse (const char *text, st_strs_t *out);

#endif
