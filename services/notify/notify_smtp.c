/*  notify_smtp.c — an e-mail as SMTP carries it: 7-bit headers (the subject in RFC 2047
    encoded words of UTF-8 in base64, none longer than 75 characters nor splitting a
    character), the text in base64 lines of 76, CRLF line ends.  */
#include "notify.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    char *data;
    size_t len, size;
} s_buf_t;

static void
s_add (s_buf_t *buf, const char *text, size_t len)
{
    if (buf->len + len + 1 > buf->size) {
        buf->size = (buf->len + len + 1) * 2;
        buf->data = realloc (buf->data, buf->size);
        if (!buf->data)
            abort ();
    }
    memcpy (buf->data + buf->len, text, len);
    buf->len += len;
    buf->data[buf->len] = 0;
}

static void
s_adds (s_buf_t *buf, const char *text)
{
    s_add (buf, text, strlen (text));
}

static void
s_base64 (s_buf_t *buf, const unsigned char *bytes, size_t len)
{
    size_t size = sodium_base64_ENCODED_LEN (len, sodium_base64_VARIANT_ORIGINAL);
    char *out = malloc (size);
    if (!out)
        abort ();
    sodium_bin2base64 (out, size, bytes, len, sodium_base64_VARIANT_ORIGINAL);
    s_adds (buf, out);
    free (out);
}

//  Encoded words of at most 45 bytes of UTF-8 each (60 characters of base64, 72 with
//  "=?UTF-8?B?" and "?="), folded onto lines of their own, never splitting a character.
static void
s_subject (s_buf_t *buf, const char *subject)
{
    const unsigned char *p = (const unsigned char *) subject;
    size_t left = strlen (subject);
    s_adds (buf, "Subject:");
    while (left > 0) {
        size_t take = left < 45 ? left : 45;
        while (take < left && take > 0 && (p[take] & 0xC0) == 0x80)
            take--;
        s_adds (buf, " =?UTF-8?B?");
        s_base64 (buf, p, take);
        s_adds (buf, "?=");
        p += take;
        left -= take;
        if (left > 0)
            s_adds (buf, "\r\n");
    }
    s_adds (buf, "\r\n");
}

void
notify_smtp_address (const char *from, char *out, size_t size)
{
    const char *open = strrchr (from, '<'), *close = open ? strchr (open, '>') : NULL;
    if (open && close)
        snprintf (out, size, "%.*s", (int) (close - open - 1), open + 1);
    else
        snprintf (out, size, "%s", from);
}

char *
notify_smtp_message (const char *from, const char *to, const char *message_id, const char *subject,
                     const char *text)
{
    s_buf_t buf = {0};
    char date[64];
    time_t now = time (NULL);
    struct tm tm;
    gmtime_r (&now, &tm);
    strftime (date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    s_adds (&buf, "Date: ");
    s_adds (&buf, date);
    s_adds (&buf, "\r\nFrom: ");
    s_adds (&buf, from);
    s_adds (&buf, "\r\nTo: <");
    s_adds (&buf, to);
    s_adds (&buf, ">\r\nMessage-ID: <");
    s_adds (&buf, message_id);
    s_adds (&buf, ">\r\n");
    s_subject (&buf, subject);
    s_adds (&buf, "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
                  "Content-Transfer-Encoding: base64\r\n\r\n");
    const unsigned char *p = (const unsigned char *) text;
    size_t left = strlen (text);
    while (left > 0) {
        size_t take = left < 57 ? left : 57; //  57 bytes: one line of 76 characters
        s_base64 (&buf, p, take);
        s_adds (&buf, "\r\n");
        p += take;
        left -= take;
    }
    return buf.data;
}
