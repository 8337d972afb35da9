/*  fixture_http.c — the fixture's HTTP client (libcurl) for tests of the gateway: real
    requests over a real socket to 127.0.0.1, as a browser or a script would send them.  */
#include "fixture.h"

#include <curl/curl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <setjmp.h>
#include <cmocka.h>

typedef struct {
    char *data;
    size_t size;
} s_buffer_t;

static size_t
s_write (char *data, size_t size, size_t count, void *arg)
{
    s_buffer_t *buffer = arg;
    size_t bytes = size * count;
    buffer->data = realloc (buffer->data, buffer->size + bytes + 1);
    memcpy (buffer->data + buffer->size, data, bytes);
    buffer->size += bytes;
    buffer->data[buffer->size] = '\0';
    return bytes;
}

//  Keeps the headers the tests look at.
static size_t
s_header (char *data, size_t size, size_t count, void *arg)
{
    fx_http_t *self = arg;
    size_t bytes = size * count;
    struct {
        const char *name;
        char *out;
        size_t room;
    } wanted[] = {
        {"X-Request-Id:", self->request_id, sizeof self->request_id},
        {"Retry-After:", self->retry_after, sizeof self->retry_after},
        {"Allow:", self->allow, sizeof self->allow},
        {"Content-Type:", self->content_type, sizeof self->content_type},
        {"Content-Disposition:", self->content_disposition, sizeof self->content_disposition}};
    for (size_t i = 0; i < sizeof wanted / sizeof wanted[0]; i++) {
        size_t len = strlen (wanted[i].name);
        if (bytes > len && strncasecmp (data, wanted[i].name, len) == 0) {
            const char *value = data + len;
            size_t value_len = bytes - len;
            while (value_len && (*value == ' '))
                value++, value_len--;
            while (value_len && (value[value_len - 1] == '\r' || value[value_len - 1] == '\n'))
                value_len--;
            snprintf (wanted[i].out, wanted[i].room, "%.*s", (int) value_len, value);
        }
    }
    return bytes;
}

//  fx_http, fx_http_typed and fx_http_at: a body of `size` bytes of `type` (none when body is
//  NULL) to the gateway on `port` of 127.0.0.1 (0: the fixture's).
static fx_http_t *
s_http (int port, const char *method, const char *path, const char *token, const char *type,
        const char *body, size_t size, va_list args)
{
    fx_http_t *self = calloc (1, sizeof *self);
    s_buffer_t buffer = {0};
    char url[2048 + 64];
    snprintf (url, sizeof url, "http://127.0.0.1:%d%s",
              port ? port : harness_http_port (fx_harness ()), path);
    CURL *curl = curl_easy_init ();
    struct curl_slist *headers = NULL;
    char line[600];
    if (token) {
        snprintf (line, sizeof line, "Authorization: Bearer %s", token);
        headers = curl_slist_append (headers, line);
    }
    if (body) {
        snprintf (line, sizeof line, "Content-Type: %s", type);
        headers = curl_slist_append (headers, line);
    }
    const char *extra;
    while ((extra = va_arg (args, const char *)))
        headers = curl_slist_append (headers, extra);
    curl_easy_setopt (curl, CURLOPT_URL, url);
    curl_easy_setopt (curl, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        curl_easy_setopt (curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt (curl, CURLOPT_POSTFIELDSIZE, (long) size);
    }
    curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, s_write);
    curl_easy_setopt (curl, CURLOPT_WRITEDATA, &buffer);
    curl_easy_setopt (curl, CURLOPT_HEADERFUNCTION, s_header);
    curl_easy_setopt (curl, CURLOPT_HEADERDATA, self);
    curl_easy_setopt (curl, CURLOPT_TIMEOUT_MS, (long) FX_CALL_MS);
    CURLcode rc = curl_easy_perform (curl);
    if (rc != CURLE_OK)
        fail_msg ("fx_http: %s %s: %s", method, path, curl_easy_strerror (rc));
    curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &self->status);
    curl_slist_free_all (headers);
    curl_easy_cleanup (curl);
    self->text = buffer.data ? buffer.data : calloc (1, 1);
    self->size = buffer.size;
    if (buffer.size)
        self->json = json_loadb (buffer.data, buffer.size, 0, NULL);
    return self;
}

fx_http_t *
fx_http (const char *method, const char *path, const char *token, const char *body, ...)
{
    va_list args;
    va_start (args, body);
    fx_http_t *self =
        s_http (0, method, path, token, "application/json", body, body ? strlen (body) : 0, args);
    va_end (args);
    return self;
}

fx_http_t *
fx_http_at (int port, const char *method, const char *path, const char *token, const char *body,
            ...)
{
    va_list args;
    va_start (args, body);
    fx_http_t *self = s_http (port, method, path, token, "application/json", body,
                              body ? strlen (body) : 0, args);
    va_end (args);
    return self;
}

fx_http_t *
fx_http_typed (const char *method, const char *path, const char *token, const char *type,
               const char *body, size_t size, ...)
{
    va_list args;
    va_start (args, size);
    fx_http_t *self = s_http (0, method, path, token, type, body, size, args);
    va_end (args);
    return self;
}

void
fx_http_free (fx_http_t **self_p)
{
    fx_http_t *self = *self_p;
    if (!self)
        return;
    free (self->text);
    json_decref (self->json);
    free (self);
    *self_p = NULL;
}

const char *
fx_http_str (const fx_http_t *self, const char *path)
{
    const json_t *node = self->json;
    char name[128];
    while (node && *path) {
        size_t len = strcspn (path, ".");
        snprintf (name, sizeof name, "%.*s", (int) len, path);
        node = json_object_get (node, name);
        path += len + (path[len] == '.' ? 1 : 0);
    }
    const char *text = json_string_value (node);
    return text ? text : "";
}

void
fx_http_signin (const char *login, const char *password, char token[64])
{
    char body[512];
    snprintf (body, sizeof body, "{\"login\": \"%s\", \"password\": \"%s\"}", login, password);
    fx_http_t *answer = fx_http ("POST", "/v1/sessions", NULL, body, NULL);
    if (answer->status != 201)
        fail_msg ("sign-in of %s: %ld %s", login, answer->status, answer->text);
    snprintf (token, 64, "%s", fx_http_str (answer, "token"));
    fx_http_free (&answer);
}
