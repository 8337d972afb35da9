/*  st_time.c — RFC 3339 times  */
#include "st_time.h"

#include <stdio.h>
#include <time.h>

//  Days from 1970-01-01 to a civil date (proleptic Gregorian; H. Hinnant's algorithm).
static int64_t
s_days_from_civil (int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

//  Reads exactly `n` decimal digits at `p`; stops at the first non-digit, so it never reads
//  past the end of the text.
static bool
s_digits (const char *p, int n, int *value)
{
    *value = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        *value = *value * 10 + (p[i] - '0');
    }
    return true;
}

bool
st_time_parse (const char *text, int64_t *us)
{
    static const int month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int year, month, day, hour, minute, second, off_hour = 0, off_minute = 0;
    const char *p = text;
    if (!p || !s_digits (p, 4, &year) || p[4] != '-' || !s_digits (p + 5, 2, &month) || p[7] != '-'
        || !s_digits (p + 8, 2, &day) || (p[10] != 'T' && p[10] != 't')
        || !s_digits (p + 11, 2, &hour) || p[13] != ':' || !s_digits (p + 14, 2, &minute)
        || p[16] != ':' || !s_digits (p + 17, 2, &second))
        return false;
    p += 19;
    int64_t micros = 0;
    if (*p == '.') {
        int count = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, count++)
            if (count < 6)
                micros = micros * 10 + (*p - '0');
        if (count == 0 || count > 9)
            return false;
        for (; count < 6; count++)
            micros *= 10;
    }
    int sign = 0;
    if (*p == 'Z' || *p == 'z')
        p++;
    else if (*p == '+' || *p == '-') {
        sign = *p == '+' ? 1 : -1;
        if (!s_digits (p + 1, 2, &off_hour) || p[3] != ':' || !s_digits (p + 4, 2, &off_minute))
            return false;
        p += 6;
    } else
        return false;
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (*p || year < 2000 || year > 2999 || month < 1 || month > 12 || day < 1
        || day > month_days[month - 1] + (month == 2 && leap) || hour > 23 || minute > 59
        || second > 59 || off_hour > 23 || off_minute > 59)
        return false;
    int64_t seconds = s_days_from_civil (year, month, day) * 86400 + hour * 3600 + minute * 60
                      + second - sign * (off_hour * 3600 + off_minute * 60);
    *us = seconds * 1000000 + micros;
    return true;
}

void
st_time_format_utc (int64_t us, char out[40])
{
    time_t seconds = (time_t) (us / 1000000);
    struct tm tm;
    gmtime_r (&seconds, &tm);
    //  The year is 2000–2999 by st_time_parse; the bounds keep the compiler sure of the width.
    unsigned year = (unsigned) (tm.tm_year + 1900) % 10000, micros = (unsigned) (us % 1000000);
    snprintf (out, 40, "%04u-%02u-%02uT%02u:%02u:%02u.%06uZ", year, (unsigned) tm.tm_mon % 13 + 1,
              (unsigned) tm.tm_mday % 32, (unsigned) tm.tm_hour % 24, (unsigned) tm.tm_min % 60,
              (unsigned) tm.tm_sec % 61, micros % 1000000);
}
