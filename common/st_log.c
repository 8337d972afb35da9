/*  st_log.c — structured one-line logs  */
#include "st_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static char s_service[32] = "station";
static st_log_level_t s_level = ST_LOG_INFO;
static const char *s_names[] = {"debug", "info", "warn", "error"};

void
st_log_init (const char *service, const char *level)
{
    snprintf (s_service, sizeof s_service, "%s", service);
    for (int i = 0; level && i < 4; i++)
        if (strcmp (level, s_names[i]) == 0)
            s_level = (st_log_level_t) i;
}

void
st_log (st_log_level_t level, const char *req, const char *format, ...)
{
    if (level < s_level)
        return;
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r (&ts.tv_sec, &tm);
    char line[2048];
    int n = snprintf (line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s ",
                      tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                      tm.tm_sec, ts.tv_nsec / 1000000, s_service, s_names[level]);
    if (req && n < (int) sizeof line)
        n += snprintf (line + n, sizeof line - n, "req=%s ", req);
    if (n < (int) sizeof line) {
        va_list args;
        va_start (args, format);
        vsnprintf (line + n, sizeof line - n, format, args);
        va_end (args);
    }
    //  One write per line, so lines from threads never interleave; newlines inside are folded.
    for (char *p = line; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    fprintf (stderr, "%s\n", line);
}

void
st_id_hex (const uint8_t *id, char out[33])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        out[2 * i] = digits[id[i] >> 4];
        out[2 * i + 1] = digits[id[i] & 15];
    }
    out[32] = 0;
}

int64_t
st_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
st_clock_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
