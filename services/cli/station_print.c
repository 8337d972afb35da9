/*  station_print.c — replies printed for a person (station_print.h): "label  value" lines,
    tables aligned by display width, one-line errors.  */
#define _XOPEN_SOURCE 700 //  wcwidth
#include "station_print.h"

#include <locale.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

//  The narrowest a column is cut to when a row is too wide.
#define S_MIN_COLUMN 8

//  Decodes the UTF-8 character at `p` (`left` bytes on): its code point into *cp. Returns its
//  length in bytes, 0 when `p` starts no valid character (overlong, surrogate, cut short).
static size_t
s_utf8 (const unsigned char *p, size_t left, uint32_t *cp)
{
    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }
    size_t len = p[0] >= 0xc2 && p[0] <= 0xdf   ? 2
                 : p[0] >= 0xe0 && p[0] <= 0xef ? 3
                 : p[0] >= 0xf0 && p[0] <= 0xf4 ? 4
                                                : 0;
    if (len == 0 || len > left)
        return 0;
    uint32_t c = p[0] & (0x7fu >> len);
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        c = c << 6 | (p[i] & 0x3fu);
    }
    if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10ffff))
        || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return len;
}

//  The columns a character takes: libc's wcwidth in the C.UTF-8 locale (this thread's only,
//  for the call, so that nothing else of the program changes locale); where that locale is
//  missing, the East Asian wide ranges and the combining marks by hand.
static int
s_char_width (uint32_t cp)
{
    static locale_t utf8;
    static bool tried;
    if (!tried) {
        tried = true;
        utf8 = newlocale (LC_CTYPE_MASK, "C.UTF-8", (locale_t) 0);
    }
    if (utf8) {
        locale_t old = uselocale (utf8);
        int width = wcwidth ((wchar_t) cp);
        uselocale (old);
        return width < 0 ? 1 : width;
    }
    if ((cp >= 0x300 && cp <= 0x36f) || cp == 0x200b)
        return 0;
    static const uint32_t wide[][2] = {{0x1100, 0x115f},   {0x2e80, 0x303e},  {0x3041, 0x33ff},
                                       {0x3400, 0x4dbf},   {0x4e00, 0x9fff},  {0xa000, 0xa4cf},
                                       {0xac00, 0xd7a3},   {0xf900, 0xfaff},  {0xfe30, 0xfe4f},
                                       {0xff00, 0xff60},   {0xffe0, 0xffe6},  {0x1f300, 0x1f64f},
                                       {0x1f900, 0x1f9ff}, {0x20000, 0x3fffd}};
    for (size_t i = 0; i < sizeof wide / sizeof wide[0]; i++)
        if (cp >= wide[i][0] && cp <= wide[i][1])
            return 2;
    return 1;
}

size_t
station_print_width (const char *text)
{
    const unsigned char *p = (const unsigned char *) text;
    size_t left = strlen (text), width = 0;
    while (left > 0) {
        uint32_t cp;
        size_t len = s_utf8 (p, left, &cp);
        width += len ? (size_t) s_char_width (cp) : 1;
        len = len ? len : 1;
        p += len;
        left -= len;
    }
    return width;
}

//  A copy of `text` fit for one line of a terminal (malloc'd): control characters (a
//  newline, a tab, an escape) become spaces, bytes that are no UTF-8 "?".
static char *
s_clean (const char *text)
{
    char *clean = st_strdup (text);
    unsigned char *p = (unsigned char *) clean;
    size_t left = strlen (clean);
    while (left > 0) {
        uint32_t cp;
        size_t len = s_utf8 (p, left, &cp);
        if (len == 0) {
            *p = '?';
            len = 1;
        } else if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
            memset (p, ' ', len);
        p += len;
        left -= len;
    }
    return clean;
}

//  The first characters of clean `text` that fit in `width` (at least 1) columns, ending
//  with "…" when any were left out (malloc'd).
static char *
s_cut (const char *text, size_t width)
{
    if (station_print_width (text) <= width)
        return st_strdup (text);
    const unsigned char *p = (const unsigned char *) text;
    size_t left = strlen (text), at = 0, used = 0;
    while (at < left) {
        uint32_t cp;
        size_t len = s_utf8 (p + at, left - at, &cp);
        size_t w = len ? (size_t) s_char_width (cp) : 1;
        if (used + w + 1 > width)
            break;
        used += w;
        at += len ? len : 1;
    }
    char *cut = st_malloc (at + sizeof "…");
    memcpy (cut, text, at);
    memcpy (cut + at, "…", sizeof "…");
    return cut;
}

//  A field name as a person reads it: underscores as spaces (malloc'd).
static char *
s_label (const char *name)
{
    char *label = s_clean (name);
    for (char *p = label; *p; p++)
        if (*p == '_')
            *p = ' ';
    return label;
}

//  A value as text for a person (malloc'd, one clean line); NULL for null. Booleans are
//  yes/no, a list of scalars is joined by ", " (an empty list "none"), a list holding objects
//  or lists is counted ("3 items"), an object is compact JSON. NULL for NULL (absent) too.
static char *
s_value (const json_t *value)
{
    char buffer[64];
    if (!value)
        return NULL;
    switch (json_typeof (value)) {
    case JSON_STRING:
        return s_clean (json_string_value (value));
    case JSON_INTEGER:
        snprintf (buffer, sizeof buffer, "%" JSON_INTEGER_FORMAT, json_integer_value (value));
        return st_strdup (buffer);
    case JSON_REAL:
        snprintf (buffer, sizeof buffer, "%g", json_real_value (value));
        return st_strdup (buffer);
    case JSON_TRUE:
        return st_strdup ("yes");
    case JSON_FALSE:
        return st_strdup ("no");
    case JSON_NULL:
        return NULL;
    case JSON_OBJECT: {
        char *json = json_dumps (value, JSON_COMPACT | JSON_ENCODE_ANY);
        char *clean = s_clean (json ? json : "{}");
        free (json);
        return clean;
    }
    case JSON_ARRAY:
        break;
    }
    size_t count = json_array_size (value);
    if (count == 0)
        return st_strdup ("none");
    for (size_t i = 0; i < count; i++) {
        json_t *item = json_array_get (value, i);
        if (json_is_object (item) || json_is_array (item)) {
            snprintf (buffer, sizeof buffer, "%zu item%s", count, count == 1 ? "" : "s");
            return st_strdup (buffer);
        }
    }
    char *joined = st_strdup ("");
    for (size_t i = 0; i < count; i++) {
        char *item = s_value (json_array_get (value, i));
        if (!item)
            continue;
        size_t size = strlen (joined);
        char *longer = st_malloc (size + strlen (item) + 3);
        sprintf (longer, "%s%s%s", joined, size ? ", " : "", item);
        free (joined);
        free (item);
        joined = longer;
    }
    return joined;
}

//  Whether member `name` of a reply is a list of objects, to print as a table: by the
//  reply's descriptor when it declares the field, else by its items (an empty array counts).
static bool
s_is_list (const char *name, const json_t *value, const st_desc_t *desc)
{
    if (!json_is_array (value))
        return false;
    for (size_t i = 0; desc && i < desc->field_count; i++)
        if (strcmp (desc->fields[i].name, name) == 0)
            return desc->fields[i].type == ST_T_MSGS;
    return json_array_size (value) == 0 || json_is_object (json_array_get (value, 0));
}

//  Prints one row of a table: each cell cut to its column's width and padded to it, two
//  spaces between columns, no spaces at the end.
static void
s_row (FILE *out, char *const *cells, const size_t *widths, size_t columns)
{
    size_t pad = 0;
    for (size_t c = 0; c < columns; c++) {
        char *cell = s_cut (cells[c], widths[c]);
        if (*cell) {
            fprintf (out, "%*s%s", (int) pad, "", cell);
            pad = 0;
        }
        pad += widths[c] - station_print_width (cell) + 2;
        free (cell);
    }
    fputc ('\n', out);
}

//  Prints a non-empty list as a table: one column for each member some item holds (not
//  null), in the order they first appear, one row for each item.
static void
s_table (FILE *out, const json_t *list)
{
    size_t rows = json_array_size (list), columns = 0, room = 8;
    const char **names = st_calloc (room, sizeof *names);
    for (size_t r = 0; r < rows; r++) {
        const char *key;
        json_t *value;
        json_t *item = json_array_get (list, r);
        json_object_foreach (item, key, value)
        {
            bool known = json_is_null (value);
            for (size_t c = 0; c < columns && !known; c++)
                known = strcmp (names[c], key) == 0;
            if (known)
                continue;
            if (columns == room) {
                names = realloc (names, (room *= 2) * sizeof *names);
                if (!names)
                    abort ();
            }
            names[columns++] = key;
        }
    }
    if (columns == 0) {
        //  Items without members (or not objects): their values, one a line.
        for (size_t r = 0; r < rows; r++) {
            char *text = s_value (json_array_get (list, r));
            fprintf (out, "%s\n", text ? text : "");
            free (text);
        }
        free (names);
        return;
    }
    //  cells[0] is the header, cells[1 + r] the row of item r.
    char **cells = st_calloc ((rows + 1) * columns, sizeof *cells);
    size_t *widths = st_calloc (columns, sizeof *widths);
    for (size_t c = 0; c < columns; c++) {
        cells[c] = s_label (names[c]);
        for (size_t r = 0; r < rows; r++) {
            char *text = s_value (json_object_get (json_array_get (list, r), names[c]));
            cells[(r + 1) * columns + c] = text ? text : st_strdup ("");
        }
        for (size_t r = 0; r <= rows; r++) {
            size_t width = station_print_width (cells[r * columns + c]);
            widths[c] = width > widths[c] ? width : widths[c];
        }
    }
    //  Too wide: the widest column loses a column at a time, down to S_MIN_COLUMN.
    size_t total = 2 * (columns - 1);
    for (size_t c = 0; c < columns; c++)
        total += widths[c];
    while (total > STATION_PRINT_WIDTH) {
        size_t widest = 0;
        for (size_t c = 1; c < columns; c++)
            widest = widths[c] > widths[widest] ? c : widest;
        if (widths[widest] <= S_MIN_COLUMN)
            break;
        widths[widest]--;
        total--;
    }
    for (size_t r = 0; r <= rows; r++)
        s_row (out, cells + r * columns, widths, columns);
    for (size_t i = 0; i < (rows + 1) * columns; i++)
        free (cells[i]);
    free (cells);
    free (widths);
    free (names);
}

void
station_print_reply (FILE *out, const json_t *reply, const st_desc_t *desc, const char *noun)
{
    if (!json_is_object (reply)) {
        char *text = s_value (reply);
        fprintf (out, "%s\n", text ? text : "");
        free (text);
        return;
    }
    const char *key;
    json_t *value;
    size_t label_width = 0, lists = 0;
    json_object_foreach ((json_t *) reply, key, value)
    {
        if (json_is_null (value) || strcmp (key, "next_cursor") == 0)
            continue;
        if (s_is_list (key, value, desc))
            lists++;
        else {
            char *label = s_label (key);
            size_t width = station_print_width (label);
            label_width = width > label_width ? width : label_width;
            free (label);
        }
    }
    bool printed = false;
    json_object_foreach ((json_t *) reply, key, value)
    {
        if (json_is_null (value) || strcmp (key, "next_cursor") == 0
            || s_is_list (key, value, desc))
            continue;
        char *label = s_label (key), *text = s_value (value);
        fprintf (out, "%s%*s  %s\n", label, (int) (label_width - station_print_width (label)), "",
                 text);
        free (label);
        free (text);
        printed = true;
    }
    bool first = true;
    json_object_foreach ((json_t *) reply, key, value)
    {
        if (json_is_null (value) || !s_is_list (key, value, desc))
            continue;
        char *label = first && noun ? st_strdup (noun) : s_label (key);
        first = false;
        if (printed)
            fputc ('\n', out);
        if (json_array_size (value) == 0)
            fprintf (out, "no %s\n", label);
        else {
            if (printed || lists > 1)
                fprintf (out, "%s:\n", label);
            s_table (out, value);
        }
        free (label);
        printed = true;
    }
    const char *cursor = json_string_value (json_object_get (reply, "next_cursor"));
    if (cursor) {
        char *clean = s_clean (cursor);
        fprintf (out, "more: --cursor %s\n", clean);
        free (clean);
    }
}

void
station_print_error (FILE *out, const char *message, const char *field)
{
    char *text = s_clean (message ? message : "");
    if (field && *field) {
        char *name = s_clean (field);
        fprintf (out, "station: %s (field: %s)\n", text, name);
        free (name);
    } else
        fprintf (out, "station: %s\n", text);
    free (text);
}
