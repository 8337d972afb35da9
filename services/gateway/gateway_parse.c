/*  gateway_parse.c — the gateway's own parsing, apart from any connection or call (issue 22):
    a request's route and path parameters, a text of the path or query typed by the op's
    descriptor, JSON and text/csv bodies and their limits, X-Request-Id, Origin against Host,
    Authorization: Bearer. gateway_http.c calls these on every request; tests/fuzz/
    fuzz_gateway.c calls them on hostile bytes.  */
#include "gateway.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

//  ---------------------------------------------------------------------------------------
//  Texts an answer can carry

//  The bytes of the UTF-8 character at `p` (RFC 3629: no overlong form, no surrogate), 0 when
//  none begins there.
static size_t
s_utf8_char (const unsigned char *p)
{
    if (p[0] < 0x80)
        return 1;
    unsigned char lo = 0x80, hi = 0xbf;
    size_t len;
    if (p[0] >= 0xc2 && p[0] <= 0xdf)
        len = 2;
    else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        len = 3;
        if (p[0] == 0xe0)
            lo = 0xa0;
        else if (p[0] == 0xed)
            hi = 0x9f;
    } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        len = 4;
        if (p[0] == 0xf0)
            lo = 0x90;
        else if (p[0] == 0xf4)
            hi = 0x8f;
    } else
        return 0;
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return len;
}

static bool
s_utf8 (const char *text)
{
    for (const unsigned char *p = (const unsigned char *) text; *p;) {
        size_t len = s_utf8_char (p);
        if (!len)
            return false;
        p += len;
    }
    return true;
}

//  Makes `text` (NUL-terminated in a buffer of `size` bytes) UTF-8 that an answer's JSON can
//  carry: a byte that begins no character becomes '?', and a character that a buffer's end
//  (snprintf's "%.60s") has cut is dropped.
static void
s_printable (char *text, size_t size)
{
    unsigned char *p = (unsigned char *) text, *end = p + strnlen (text, size);
    while (p < end) {
        size_t len = s_utf8_char (p);
        if (len)
            p += len;
        else if (end - p < 4 && *p >= 0xc2 && *p <= 0xf4) {
            //  A character's start with too few bytes after it: cut at the end of the text.
            *p = '\0';
            return;
        } else
            *p++ = '?';
    }
}

//  An error of the parsing, its field and message made printable.
static void
s_printable_error (st_error_t *err)
{
    if (!err)
        return;
    s_printable (err->field, sizeof err->field);
    s_printable (err->message, sizeof err->message);
}

//  ---------------------------------------------------------------------------------------
//  Routes

bool
gw_parse_match (const char *pattern, const char *path, gw_params_t params, int *param_count)
{
    *param_count = 0;
    while (*pattern && *path) {
        if (*pattern != '/' || *path != '/')
            return false;
        pattern++, path++;
        const char *pattern_end = strchr (pattern, '/'), *path_end = strchr (path, '/');
        size_t pattern_len = pattern_end ? (size_t) (pattern_end - pattern) : strlen (pattern);
        size_t path_len = path_end ? (size_t) (path_end - path) : strlen (path);
        if (pattern_len > 2 && pattern[0] == '{') {
            if (path_len == 0 || path_len >= sizeof params[0][1] || *param_count == GW_PARAMS_MAX)
                return false;
            int n = (*param_count)++;
            snprintf (params[n][0], sizeof params[n][0], "%.*s", (int) (pattern_len - 2),
                      pattern + 1);
            snprintf (params[n][1], sizeof params[n][1], "%.*s", (int) path_len, path);
        } else if (pattern_len != path_len || strncmp (pattern, path, path_len) != 0)
            return false;
        pattern += pattern_len, path += path_len;
    }
    return *pattern == '\0' && *path == '\0';
}

const gw_route_t *
gw_parse_route (const char *method, const char *path, gw_params_t params, int *param_count,
                char *allow, size_t allow_size)
{
    *allow = '\0';
    for (size_t i = 0; i < gw_route_count; i++) {
        const gw_route_t *route = &gw_routes[i];
        if (!gw_parse_match (route->pattern, path, params, param_count))
            continue;
        if (strcmp (route->method, method) == 0)
            return route;
        if (!strstr (allow, route->method)) {
            size_t used = strlen (allow);
            snprintf (allow + used, allow_size - used, "%s%s", used ? ", " : "", route->method);
        }
    }
    return NULL;
}

const st_field_t *
gw_parse_field (const gw_route_t *route, const char *name)
{
    const st_op_desc_t *op = route->service ? st_proto_op (route->service, route->op) : NULL;
    if (!op)
        return NULL;
    for (size_t i = 0; i < op->request->field_count; i++)
        if (strcmp (op->request->fields[i].name, name) == 0)
            return &op->request->fields[i];
    return NULL;
}

//  ---------------------------------------------------------------------------------------
//  The path's and the query's texts

//  gw_parse_typed, but for the printable error.
static json_t *
s_typed (const st_field_t *field, const char *name, const char *text, st_error_t *err)
{
    if (!s_utf8 (text)) {
        //  JSON carries UTF-8 only (jansson would give no string, and no reason).
        st_error_set (err, ST_INVALID_ARGUMENT, name, "%s must be UTF-8 text", name);
        return NULL;
    }
    if (!field || field->type == ST_T_STR)
        return json_string (text);
    char *end;
    errno = 0;
    switch (field->type) {
    case ST_T_INT: {
        long long value = strtoll (text, &end, 10);
        if (*text && !*end && !errno)
            return json_integer (value);
        st_error_set (err, ST_INVALID_ARGUMENT, name, "%s must be a whole number", name);
        return NULL;
    }
    case ST_T_DOUBLE: {
        double value = strtod (text, &end);
        if (*text && !*end && !errno && isfinite (value))
            return json_real (value);
        st_error_set (err, ST_INVALID_ARGUMENT, name, "%s must be a number", name);
        return NULL;
    }
    case ST_T_BOOL:
        if (strcmp (text, "true") == 0 || strcmp (text, "1") == 0)
            return json_true ();
        if (strcmp (text, "false") == 0 || strcmp (text, "0") == 0)
            return json_false ();
        st_error_set (err, ST_INVALID_ARGUMENT, name, "%s must be true or false", name);
        return NULL;
    case ST_T_STRS: {
        //  A list is written a,b,c.
        json_t *list = json_array ();
        const char *p = text;
        while (*p) {
            const char *comma = strchr (p, ',');
            size_t len = comma ? (size_t) (comma - p) : strlen (p);
            json_array_append_new (list, json_stringn (p, len));
            p += len + (comma ? 1 : 0);
        }
        return list;
    }
    default:
        st_error_set (err, ST_INVALID_ARGUMENT, name, "%s cannot be given in the URL", name);
        return NULL;
    }
}

json_t *
gw_parse_typed (const st_field_t *field, const char *name, const char *text, st_error_t *err)
{
    json_t *typed = s_typed (field, name, text, err);
    if (!typed)
        s_printable_error (err);
    return typed;
}

int
gw_parse_query_arg (const gw_route_t *route, json_t *body, const char *key, const char *value,
                    st_error_t *err)
{
    //  Known names only: a misspelt filter must not read as no filter.
    size_t key_len = strlen (key);
    const char *list = route->query ? route->query : "";
    bool known = false;
    for (const char *p = list; *p;) {
        size_t len = strcspn (p, " ");
        if (len == key_len && strncmp (p, key, len) == 0)
            known = true;
        p += len + (p[len] ? 1 : 0);
    }
    if (!known) {
        if (s_utf8 (key))
            st_error_set (err, ST_INVALID_ARGUMENT, key, "unknown query parameter \"%.60s\"", key);
        else
            st_error_set (err, ST_INVALID_ARGUMENT, "query",
                          "a query parameter's name is not UTF-8 text");
        s_printable_error (err);
        return -1;
    }
    json_t *typed = gw_parse_typed (gw_parse_field (route, key), key, value ? value : "", err);
    if (!typed)
        return -1;
    json_object_set_new (body, key, typed);
    return 0;
}

//  ---------------------------------------------------------------------------------------
//  Bodies

//  How deep a JSON text nests (strings skipped), stopping past `limit`.
static int
s_json_depth (const char *text, size_t size, int limit)
{
    int depth = 0, deepest = 0;
    bool in_string = false;
    for (size_t i = 0; i < size && deepest <= limit; i++) {
        char c = text[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = false;
        } else if (c == '"')
            in_string = true;
        else if (c == '{' || c == '[') {
            if (++depth > deepest)
                deepest = depth;
        } else if (c == '}' || c == ']')
            depth--;
    }
    return deepest;
}

json_t *
gw_parse_json_body (const char *text, size_t size, const char *type, st_error_t *err)
{
    if (size == 0)
        return json_object ();
    if (!type || strncasecmp (type, "application/json", 16) != 0) {
        st_error_set (err, ST_INVALID_ARGUMENT, "Content-Type",
                      "the body must be application/json");
        return NULL;
    }
    if (s_json_depth (text, size, GW_JSON_DEPTH) > GW_JSON_DEPTH) {
        st_error_set (err, ST_INVALID_ARGUMENT, NULL, "the JSON nests deeper than %d",
                      GW_JSON_DEPTH);
        return NULL;
    }
    json_error_t json_err;
    json_t *body = json_loadb (text, size, JSON_REJECT_DUPLICATES, &json_err);
    if (!body) {
        st_error_set (err, ST_INVALID_ARGUMENT, NULL, "the body is not JSON: %s (at byte %d)",
                      json_err.text, json_err.position);
        s_printable_error (err);
        return NULL;
    }
    if (!json_is_object (body)) {
        json_decref (body);
        st_error_set (err, ST_INVALID_ARGUMENT, NULL, "the body must be a JSON object");
        return NULL;
    }
    return body;
}

json_t *
gw_parse_csv_body (const char *text, size_t size, const char *type, st_error_t *err)
{
    if (!type || strncasecmp (type, "text/csv", 8) != 0) {
        st_error_set (err, ST_INVALID_ARGUMENT, "Content-Type", "the body must be text/csv");
        return NULL;
    }
    char *hex = st_malloc (size * 2 + 1);
    sodium_bin2hex (hex, size * 2 + 1, (const unsigned char *) text, size);
    json_t *body = json_object ();
    json_object_set_new (body, "csv", json_stringn (hex, size * 2));
    free (hex);
    return body;
}

//  ---------------------------------------------------------------------------------------
//  Headers

void
gw_parse_request_id (const char *given, char id[GW_REQUEST_ID_SIZE])
{
    size_t len = given ? strlen (given) : 0;
    bool good = len > 0 && len <= GW_REQUEST_ID_SIZE - 1;
    for (size_t i = 0; good && i < len; i++)
        good = isalnum ((unsigned char) given[i]) || strchr ("._-", given[i]);
    if (good)
        snprintf (id, GW_REQUEST_ID_SIZE, "%s", given);
    else {
        uint8_t fresh[12];
        randombytes_buf (fresh, sizeof fresh);
        sodium_bin2hex (id, GW_REQUEST_ID_SIZE, fresh, sizeof fresh);
    }
}

bool
gw_parse_is_read (const char *method)
{
    return strcmp (method, "GET") == 0 || strcmp (method, "HEAD") == 0;
}

bool
gw_parse_origin_ok (const char *method, const char *origin, const char *host)
{
    if (!origin || gw_parse_is_read (method))
        return true;
    const char *rest = strncmp (origin, "https://", 8) == 0  ? origin + 8
                       : strncmp (origin, "http://", 7) == 0 ? origin + 7
                                                             : NULL;
    return rest && host && strcmp (rest, host) == 0;
}

int
gw_parse_bearer (const char *header, char token[GW_TOKEN_SIZE])
{
    if (strncasecmp (header, "Bearer ", 7) != 0 || strlen (header + 7) >= GW_TOKEN_SIZE)
        return -1;
    snprintf (token, GW_TOKEN_SIZE, "%s", header + 7);
    return 0;
}
