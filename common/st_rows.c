/*  st_rows.c — query results to messages  */
#include "st_rows.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

void
st_text_array_parse (const char *text, st_strs_t *out)
{
    size_t len = strlen (text), n = 0;
    out->items = st_calloc (len / 2 + 1, sizeof (char *));
    const char *p = text + (*text == '{');
    while (*p && *p != '}') {
        char *item = st_malloc (len + 1), *q = item;
        if (*p == '"') {
            for (p++; *p && *p != '"'; p++) {
                if (*p == '\\' && p[1])
                    p++;
                *q++ = *p;
            }
            if (*p == '"')
                p++;
        } else
            while (*p && *p != ',' && *p != '}')
                *q++ = *p++;
        *q = 0;
        out->items[n++] = item;
        if (*p == ',')
            p++;
    }
    out->count = n;
}

//  The field each column fills, or NULL.
static void
s_map (const PGresult *res, const st_desc_t *desc, const st_field_t **fields, int columns)
{
    for (int c = 0; c < columns; c++) {
        fields[c] = NULL;
        const char *name = PQfname (res, c);
        for (size_t i = 0; i < desc->field_count && !fields[c]; i++)
            if (strcmp (desc->fields[i].name, name) == 0)
                fields[c] = &desc->fields[i];
    }
}

static void
s_fill (const PGresult *res, int row, const st_field_t *const *fields, int columns, void *msg)
{
    for (int c = 0; c < columns; c++) {
        const st_field_t *f = fields[c];
        if (!f || PQgetisnull (res, row, c))
            continue;
        const char *text = PQgetvalue (res, row, c);
        char *at = (char *) msg + f->offset;
        bool *has = f->has_offset ? (bool *) ((char *) msg + f->has_offset) : NULL;
        switch (f->type) {
        case ST_T_STR:
            free (*(char **) at);
            *(char **) at = st_strdup (text);
            break;
        case ST_T_INT:
            *(int64_t *) at = atoll (text);
            *has = true;
            break;
        case ST_T_DOUBLE:
            *(double *) at = atof (text);
            *has = true;
            break;
        case ST_T_BOOL:
            *(bool *) at = text[0] == 't';
            *has = true;
            break;
        case ST_T_STRS:
            st_text_array_parse (text, (st_strs_t *) at);
            *has = true;
            break;
        default:
            break; //  other kinds are the caller's to read
        }
    }
}

void
st_row_to_msg (const PGresult *res, int row, const st_desc_t *desc, void *msg)
{
    int columns = PQnfields (res);
    const st_field_t **fields = st_calloc (columns, sizeof *fields);
    s_map (res, desc, fields, columns);
    s_fill (res, row, fields, columns, msg);
    free (fields);
}

void
st_rows_to_list (const PGresult *res, const st_desc_t *item, st_list_t *list, bool *has)
{
    int rows = PQntuples (res), columns = PQnfields (res);
    const st_field_t **fields = st_calloc (columns, sizeof *fields);
    s_map (res, item, fields, columns);
    list->items = st_calloc (rows, item->size);
    for (int r = 0; r < rows; r++) {
        s_fill (res, r, fields, columns, (char *) list->items + r * item->size);
        list->count = r + 1;
    }
    *has = true;
    free (fields);
}

//  The number of a column the statement must select.
static int
s_column (const PGresult *res, const char *column)
{
    int c = PQfnumber (res, column);
    assert (c >= 0 && "the statement selects no such column");
    return c;
}

const char *
st_row_text (const PGresult *res, int row, const char *column)
{
    return PQgetvalue (res, row, s_column (res, column));
}

bool
st_row_null (const PGresult *res, int row, const char *column)
{
    return PQgetisnull (res, row, s_column (res, column));
}

int64_t
st_row_int (const PGresult *res, int row, const char *column)
{
    return atoll (st_row_text (res, row, column));
}

bool
st_row_bool (const PGresult *res, int row, const char *column)
{
    return st_row_text (res, row, column)[0] == 't';
}
