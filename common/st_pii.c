/*  st_pii.c — rules for personal data (citizen ID numbers, mobile phones, e-mail addresses) and
    how it is masked

    ID numbers follow GB 11643-1999: six digits of region, eight of birth date (YYYYMMDD), three
    of sequence (odd for men, even for women) and an ISO 7064 MOD 11-2 check character.
*/
#include "st_pii.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

//  China has kept one offset from UTC, without daylight saving, since 1991
#define S_CHINA_UTC_OFFSET (8 * 60 * 60)

static bool
s_is_digit (char c)
{
    return c >= '0' && c <= '9';
}

static bool
s_is_space (char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static bool
s_is_alnum (char c)
{
    return s_is_digit (c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

//  Value of n decimal digits at s; the caller has checked that they are digits
static int
s_number (const char *s, int n)
{
    int value = 0;
    for (int i = 0; i < n; i++)
        value = value * 10 + (s[i] - '0');
    return value;
}

static bool
s_is_leap (int year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static bool
s_is_real_date (int year, int month, int day)
{
    static const int days_in[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month < 1 || month > 12 || day < 1)
        return false;
    int last = days_in[month - 1] + (month == 2 && s_is_leap (year) ? 1 : 0);
    return day <= last;
}

//  Check character for the first 17 digits of an ID number: the weights are 2^(17-i) mod 11
static char
s_check_character (const char *id)
{
    static const int weight[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    int sum = 0;
    for (int i = 0; i < 17; i++)
        sum += (id[i] - '0') * weight[i];
    return "10X98765432"[sum % 11];
}

static int
s_refuse (const char **why, const char *reason)
{
    if (why)
        *why = reason;
    return -1;
}

//  Tidies an ID number as typed, in place: strips ASCII white space around it and upper-cases
//  a final 'x'. Does nothing when id is NULL.
void
st_id_number_normalise (char *id)
{
    if (!id)
        return;
    size_t start = 0;
    while (s_is_space (id[start]))
        start++;
    size_t len = strlen (id + start);
    while (len > 0 && s_is_space (id[start + len - 1]))
        len--;
    memmove (id, id + start, len);
    id[len] = '\0';
    if (len > 0 && id[len - 1] == 'x')
        id[len - 1] = 'X';
}

//  Checks a citizen ID number as of today_yyyymmdd. Returns 0 and fills *info when valid, else
//  -1 with *why set to a static reason.
int
st_id_number_check_at (const char *id, int today_yyyymmdd, st_id_info_t *info, const char **why)
{
    //  A date before 1900 or after 9999 is a caller's mistake, not a user's
    assert (today_yyyymmdd >= 19000101 && today_yyyymmdd <= 99991231);
    if (info)
        memset (info, 0, sizeof *info);
    if (why)
        *why = NULL;
    if (!id || !*id)
        return s_refuse (why, "ID number is empty");

    //  Never look past the 19th character: the input may be long and hostile
    size_t len = strnlen (id, ST_ID_NUMBER_LEN + 1);
    size_t digits = 0;
    while (digits < len && s_is_digit (id[digits]))
        digits++;
    if (len == 15 && digits == 15)
        return s_refuse (why, "15-digit legacy ID numbers are not accepted");
    if (len != ST_ID_NUMBER_LEN)
        return s_refuse (why, "ID number must be 18 characters long");
    if (digits < 17)
        return s_refuse (why, "the first 17 characters of an ID number must be digits");
    char check = id[17];
    if (check == 'x')
        return s_refuse (why, "check character \"x\" must be upper-case \"X\"");
    if (!s_is_digit (check) && check != 'X')
        return s_refuse (why, "check character must be a digit or \"X\"");
    if (id[0] == '0')
        return s_refuse (why, "region code must not start with 0");
    if (s_check_character (id) != check)
        return s_refuse (why, "check digit does not match");

    int year = s_number (id + 6, 4);
    int month = s_number (id + 10, 2);
    int day = s_number (id + 12, 2);
    if (!s_is_real_date (year, month, day))
        return s_refuse (why, "birth date is not a real date");
    int birth = s_number (id + 6, 8);
    if (birth < 19000101)
        return s_refuse (why, "birth date is before 1900");
    if (birth > today_yyyymmdd)
        return s_refuse (why, "birth date is in the future");

    if (info) {
        info->year = year;
        info->month = month;
        info->day = day;
        info->gender = (id[16] - '0') % 2 ? 'M' : 'F';
    }
    return 0;
}

//  Checks a citizen ID number as of today in China Standard Time. Returns as
//  st_id_number_check_at.
int
st_id_number_check (const char *id, st_id_info_t *info, const char **why)
{
    time_t now = time (NULL) + S_CHINA_UTC_OFFSET;
    struct tm tm;
    int today = 19700101;
    if (gmtime_r (&now, &tm))
        today = (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
    return st_id_number_check_at (id, today, info, why);
}

//  Checks a mainland mobile number. Returns 0 when valid, else -1 with *why set to a static
//  reason.
int
st_phone_check (const char *phone, const char **why)
{
    if (why)
        *why = NULL;
    if (!phone || !*phone)
        return s_refuse (why, "phone number is empty");
    size_t len = strnlen (phone, ST_PHONE_LEN + 1);
    if (len != ST_PHONE_LEN)
        return s_refuse (why, "phone number must be 11 digits long");
    for (size_t i = 0; i < len; i++)
        if (!s_is_digit (phone[i]))
            return s_refuse (why, "phone number must contain only digits");
    if (phone[0] != '1' || phone[1] < '3')
        return s_refuse (why, "mobile phone number must start with 13 to 19");
    return 0;
}

//  A character of a dot-atom's atoms (RFC 5322 atext)
static bool
s_is_atext (char c)
{
    return s_is_alnum (c) || (c && strchr ("!#$%&'*+-/=?^_`{|}~", c));
}

//  Checks an e-mail address. Returns 0 when valid, else -1 with *why set to a static reason.
int
st_email_check (const char *email, const char **why)
{
    if (why)
        *why = NULL;
    if (!email || !*email)
        return s_refuse (why, "e-mail address is empty");
    size_t len = strnlen (email, ST_EMAIL_MAX_LEN + 1);
    if (len > ST_EMAIL_MAX_LEN)
        return s_refuse (why, "e-mail address must be at most 254 characters long");
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) email[i];
        if (s_is_space ((char) c))
            return s_refuse (why, "e-mail address must not contain spaces");
        if (c < 0x20 || c == 0x7f)
            return s_refuse (why, "e-mail address must not contain control characters");
        if (c > 0x7f)
            return s_refuse (why, "e-mail address must be ASCII (a domain in its xn-- form)");
    }
    const char *at = strchr (email, '@');
    if (!at || strchr (at + 1, '@'))
        return s_refuse (why, "e-mail address must contain exactly one @");
    size_t local_len = (size_t) (at - email);
    if (local_len == 0)
        return s_refuse (why, "e-mail address has nothing before the @");
    if (local_len > ST_EMAIL_LOCAL_MAX)
        return s_refuse (why, "e-mail address has more than 64 characters before the @");
    //  The local part: atoms joined by single dots.
    for (size_t i = 0; i < local_len; i++) {
        if (email[i] == '.') {
            if (i == 0 || i + 1 == local_len || email[i + 1] == '.')
                return s_refuse (why, "e-mail address has a misplaced dot before the @");
        } else if (!s_is_atext (email[i]))
            return s_refuse (why, "e-mail address has a character that needs quoting before the @");
    }
    //  The domain: labels of letters, digits and inner hyphens, at least two.
    const char *domain = at + 1;
    if (!strchr (domain, '.'))
        return s_refuse (why, "e-mail domain must contain a dot");
    for (const char *label = domain; label;) {
        const char *dot = strchr (label, '.');
        size_t label_len = dot ? (size_t) (dot - label) : strlen (label);
        if (label_len == 0 || label_len > 63)
            return s_refuse (why, "e-mail domain has an empty or overlong label");
        if (label[0] == '-' || label[label_len - 1] == '-')
            return s_refuse (why, "e-mail domain has a label starting or ending with a hyphen");
        for (size_t i = 0; i < label_len; i++)
            if (!s_is_alnum (label[i]) && label[i] != '-')
                return s_refuse (why,
                                 "e-mail domain may hold only letters, digits, hyphens and dots");
        label = dot ? dot + 1 : NULL;
    }
    return 0;
}

//  Copies in to out keeping its first head and last tail characters and masking the rest with
//  '*'; input too short to leave at least one character masked is masked whole.
static void
s_mask (const char *in, size_t head, size_t tail, char *out, size_t out_size)
{
    if (out_size == 0)
        return;
    assert (out);
    size_t len = in ? strlen (in) : 0;
    bool keep_ends = len > head + tail;
    size_t i;
    for (i = 0; i < len && i + 1 < out_size; i++) {
        bool keep = keep_ends && (i < head || i >= len - tail);
        out[i] = keep && s_is_alnum (in[i]) ? in[i] : '*';
    }
    out[i] = '\0';
}

//  Writes id masked to its first 4 and last 4 characters into out (always NUL-terminated when
//  out_size > 0).
void
st_mask_id_number (const char *id, char *out, size_t out_size)
{
    s_mask (id, 4, 4, out, out_size);
}

//  Writes phone masked to its first 3 and last 4 characters into out (always NUL-terminated
//  when out_size > 0).
void
st_mask_phone (const char *phone, char *out, size_t out_size)
{
    s_mask (phone, 3, 4, out, out_size);
}

//  Writes email masked to the first character of its local part and its domain into out
//  (always NUL-terminated when out_size > 0).
void
st_mask_email (const char *email, char *out, size_t out_size)
{
    if (out_size == 0)
        return;
    assert (out);
    const char *at = email ? strchr (email, '@') : NULL;
    char first[2] = {email && s_is_alnum (email[0]) ? email[0] : '*', 0};
    if (!email)
        out[0] = '\0';
    else if (!at)
        snprintf (out, out_size, "***");
    else
        snprintf (out, out_size, "%s***%s", first, at);
}
