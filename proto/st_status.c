/*  st_status.c — names and HTTP equivalents of the status codes  */
#include "st_status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    int http;
} s_status[] = {
#define ST_X(e, name, http) {name, http},
    ST_STATUS_LIST (ST_X)
#undef ST_X
};

const char *
st_status_name (st_status_t status)
{
    if ((unsigned) status >= ST_STATUS_COUNT)
        return "internal";
    return s_status[status].name;
}

bool
st_status_parse (const char *name, size_t len, st_status_t *out)
{
    for (int i = 0; i < ST_STATUS_COUNT; i++)
        if (strlen (s_status[i].name) == len && memcmp (s_status[i].name, name, len) == 0) {
            *out = (st_status_t) i;
            return true;
        }
    return false;
}

int
st_status_http (st_status_t status)
{
    if ((unsigned) status >= ST_STATUS_COUNT)
        return 500;
    return s_status[status].http;
}

st_status_t
st_error_set (st_error_t *err, st_status_t code, const char *field, const char *format, ...)
{
    if (!err)
        return code;
    err->code = code;
    snprintf (err->field, sizeof err->field, "%s", field ? field : "");
    va_list args;
    va_start (args, format);
    vsnprintf (err->message, sizeof err->message, format, args);
    va_end (args);
    return code;
}
