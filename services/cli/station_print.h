/*  station_print.h — replies printed for a person: a reply's scalars as aligned "label  value"
    lines, its lists of objects as tables aligned by display width (CJK characters are two
    columns wide), errors as one line. Generic over jansson values; the station command's
    human output (--json prints the JSON instead).  */
#ifndef STATION_PRINT_H_INCLUDED
#define STATION_PRINT_H_INCLUDED

#include "st_codec.h"

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

//  The widest a table's row is made (cells are cut with "…" to keep to it).
#define STATION_PRINT_WIDTH 120

//  Prints `reply` (a JSON object) for a person on `out`:
//  - each scalar member as a "label  value" line, the labels (field names, underscores as
//    spaces) padded to one width; booleans as yes/no, lists of scalars joined by ", " (an
//    empty one "none"), objects as compact JSON; null members are left out;
//  - each list of objects as a table: a header of the items' field names and one row per
//    item, columns in the items' member order, aligned by display width, long cells cut
//    with "…" so that a row keeps within STATION_PRINT_WIDTH; nested values compact (JSON
//    text, "3 items"); an empty list as "no NOUN". A heading names a list when the reply
//    holds more than it;
//  - a next_cursor as the hint "more: --cursor X".
//  `desc` (the reply's descriptor, may be NULL) tells lists of objects from other arrays
//  when they are empty; without it an empty array counts as a list. `noun` (may be NULL:
//  the field's label) names what the reply's first list holds ("notices").
void station_print_reply (FILE *out, const json_t *reply, const st_desc_t *desc, const char *noun);

//  Prints an error for a person as one line: "station: MESSAGE (field: FIELD)" (without
//  the parenthesis when `field` is NULL or empty); control characters become spaces.
void station_print_error (FILE *out, const char *message, const char *field);

//  The display width of UTF-8 `text` in a terminal: East Asian wide characters count two
//  columns, combining marks none, a byte that is no UTF-8 one.
size_t station_print_width (const char *text);

#endif
