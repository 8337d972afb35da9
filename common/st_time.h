/*  st_time.h — times on the wire: RFC 3339 with an offset (2026-12-01T09:00:00+08:00)  */
#ifndef ST_TIME_H_INCLUDED
#define ST_TIME_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

//  Parses an RFC 3339 time with an offset, in the years 2000 to 2999, into microseconds
//  since the epoch. Returns false when the text is no such time (30 February included).
bool st_time_parse (const char *text, int64_t *us);

//  Writes an instant as UTC with microseconds ("2026-12-01T01:00:00.000000Z"), which
//  PostgreSQL reads exactly as st_time_parse did.
void st_time_format_utc (int64_t us, char out[40]);

#endif
