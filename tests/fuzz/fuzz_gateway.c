/*  fuzz_gateway.c — fuzz target for the gateway's own parsing (gateway_parse.c, issue 22): any
    bytes read as an HTTP request, the way libmicrohttpd hands it to the gateway

        METHOD TARGET [HTTP/1.1]
        Name: value            (headers, up to an empty line; \r\n or \n)
        body

    TARGET is a path and a query, percent-decoded as libmicrohttpd does (a %00 ends the text);
    the query is split at & and =. Every parser runs on its part, against the real route table
    (gw_routes) and the real proto descriptors, and what each promises is checked: a matched
    route's method and pattern, rebuilt from its parameters, give back the request; parameters
    fit their buffers and are never empty; a typed value is of its field's type; an accepted
    body is a JSON object nested at most GW_JSON_DEPTH deep (a text/csv one its bytes in hex);
    the request id is 1 to 64 of A-Z a-z 0-9 . _ - (the client's when it is one); an Origin
    accepted on a write names the Host; a Bearer token is the header's rest. Every refusal
    names a code and a message that an answer can carry (valid UTF-8: the gateway writes it
    as JSON), and the body, once built, goes through st_json_to_msg as the rpc call would. A
    broken promise aborts, which libFuzzer (or fuzz_main.c) reports with the input.  */
#include "gateway.h"
#include "st_json.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define S_HEADERS_MAX 16

//  The input being run, printed (escaped, its first 2,000 bytes) when a promise breaks, so
//  that fuzz_main.c's failures can be made a corpus file.
static const uint8_t *s_input;
static size_t s_input_size;

static void
s_check (bool condition, const char *what)
{
    if (!condition) {
        fprintf (stderr, "fuzz_gateway: %s, on the input\n\"", what);
        for (size_t i = 0; i < s_input_size && i < 2000; i++) {
            uint8_t c = s_input[i];
            if (c == '\\' || c == '"')
                fprintf (stderr, "\\%c", c);
            else if (c >= 0x20 && c < 0x7f)
                fputc (c, stderr);
            else
                fprintf (stderr, "\\x%02x", c);
        }
        fprintf (stderr, "\"\n");
        abort ();
    }
}

//  A refusal the gateway can answer with: a code, a message, both (and the field) UTF-8, as
//  gw_reply_error writes them into JSON.
static void
s_check_error (const st_error_t *err, const char *field)
{
    s_check (err->code != ST_OK, "a refusal without a code");
    s_check (err->message[0] != '\0', "a refusal without a message");
    json_t *error =
        json_pack ("{s:s, s:s}", "code", st_status_name (err->code), "message", err->message);
    s_check (error != NULL, "a refusal's message is not UTF-8 (no answer can carry it)");
    json_t *named = json_string (err->field);
    s_check (named != NULL, "a refusal's field is not UTF-8 (no answer can carry it)");
    json_decref (named);
    json_decref (error);
    if (field) {
        //  The name as a refusal holds it: cut to the size of its field, and, when the cut
        //  fell inside a character, before that character (st_error_set, s_printable).
        char held[sizeof err->field];
        snprintf (held, sizeof held, "%s", field);
        size_t n = strlen (held), start = n;
        while (start > 0 && ((unsigned char) held[start - 1] & 0xc0) == 0x80)
            start--;
        if (n == sizeof held - 1 && start > 0 && (unsigned char) held[start - 1] >= 0xc0) {
            unsigned char lead = (unsigned char) held[start - 1];
            size_t whole = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
            if (n - (start - 1) < whole)
                held[start - 1] = '\0';
        }
        s_check (strcmp (err->field, held) == 0, "a refusal names another field");
    }
}

//  How deep a JSON value nests (a scalar: 0).
static int
s_depth (const json_t *json)
{
    int deepest = 0;
    if (json_is_object (json)) {
        const char *key;
        json_t *value;
        json_object_foreach ((json_t *) json, key, value)
        {
            int d = s_depth (value);
            if (d > deepest)
                deepest = d;
        }
        return deepest + 1;
    }
    if (json_is_array (json)) {
        size_t i;
        json_t *value;
        json_array_foreach (json, i, value)
        {
            int d = s_depth (value);
            if (d > deepest)
                deepest = d;
        }
        return deepest + 1;
    }
    return 0;
}

//  A typed text is of its field's type (a field the op lacks, or a string: a string).
static void
s_check_typed (const st_field_t *field, const json_t *typed)
{
    st_type_t type = field ? field->type : ST_T_STR;
    switch (type) {
    case ST_T_STR:
        s_check (json_is_string (typed), "a text field typed as no string");
        break;
    case ST_T_INT:
        s_check (json_is_integer (typed), "a whole-number field typed as no integer");
        break;
    case ST_T_DOUBLE:
        s_check (json_is_real (typed), "a number field typed as no number");
        break;
    case ST_T_BOOL:
        s_check (json_is_boolean (typed), "a true-or-false field typed as no boolean");
        break;
    case ST_T_STRS: {
        s_check (json_is_array (typed), "a list field typed as no list");
        size_t i;
        json_t *item;
        json_array_foreach (typed, i, item)
            s_check (json_is_string (item), "a list field's item is no string");
        break;
    }
    default:
        s_check (false, "a field of a type the URL cannot give was typed");
    }
}

//  One field of each type found in the descriptors (the URL's texts are typed as each).
static const st_field_t *s_samples[ST_T_BODY + 1];

static void
s_find_samples (void)
{
    static bool found;
    if (found)
        return;
    found = true;
    for (size_t i = 0; st_proto_op_at (i); i++) {
        const st_desc_t *desc = st_proto_op_at (i)->request;
        for (size_t f = 0; f < desc->field_count; f++)
            if (!s_samples[desc->fields[f].type])
                s_samples[desc->fields[f].type] = &desc->fields[f];
    }
}

//  A text of the path or the query typed as `field` and as a field of every type.
static json_t *
s_typed (const st_field_t *field, const char *name, const char *text)
{
    for (size_t t = 0; t < sizeof s_samples / sizeof s_samples[0]; t++) {
        if (!s_samples[t])
            continue;
        st_error_t err = {0};
        json_t *typed = gw_parse_typed (s_samples[t], s_samples[t]->name, text, &err);
        if (typed)
            s_check_typed (s_samples[t], typed);
        else
            s_check_error (&err, s_samples[t]->name);
        json_decref (typed);
    }
    st_error_t err = {0};
    json_t *typed = gw_parse_typed (field, name, text, &err);
    json_t *printable = json_string (name);
    if (typed)
        s_check_typed (field, typed);
    else //  named by its name, when an answer can carry that
        s_check_error (&err, printable ? name : NULL);
    json_decref (printable);
    return typed;
}

//  Percent-decoding as libmicrohttpd's MHD_http_unescape: %XX of two hex digits is the byte,
//  anything else stays; the text ends at a decoded NUL. In place; returns the text.
static char *
s_unescape (char *text)
{
    char *out = text;
    for (const char *in = text; *in; out++) {
        if (in[0] == '%' && isxdigit ((unsigned char) in[1]) && isxdigit ((unsigned char) in[2])) {
            char hex[3] = {in[1], in[2], 0};
            *out = (char) strtol (hex, NULL, 16);
            in += 3;
        } else
            *out = *in++;
    }
    *out = '\0';
    return text;
}

typedef struct {
    char *method, *path, *query;
    char *names[S_HEADERS_MAX], *values[S_HEADERS_MAX];
    int header_count;
    const char *body;
    size_t body_size;
} s_request_t;

static const char *
s_header (const s_request_t *request, const char *name)
{
    for (int i = 0; i < request->header_count; i++)
        if (strcasecmp (request->names[i], name) == 0)
            return request->values[i];
    return NULL;
}

//  The request's lines, from `text` (a NUL-terminated copy of the input, changed in place).
static void
s_split (char *text, size_t size, s_request_t *request)
{
    //  The head ends at the first empty line; the body is every byte after it.
    char *end = text + size;
    char *line = text;
    char *next = memchr (line, '\n', (size_t) (end - line));
    char *head_end = next ? next : end;
    request->body = next ? next + 1 : end;
    if (head_end > line && head_end[-1] == '\r')
        head_end[-1] = '\0';
    *head_end = '\0';
    //  The request line: METHOD TARGET [VERSION]
    request->method = line;
    char *space = strchr (line, ' ');
    char *target = space ? space + 1 : line + strlen (line);
    if (space)
        *space = '\0';
    char *version = strchr (target, ' ');
    if (version)
        *version = '\0';
    char *question = strchr (target, '?');
    request->query = question ? question + 1 : NULL;
    if (question)
        *question = '\0';
    request->path = s_unescape (target);
    //  Headers, one a line, up to an empty one.
    while (next && next + 1 < end) {
        line = next + 1;
        next = memchr (line, '\n', (size_t) (end - line));
        char *stop = next ? next : end;
        request->body = next ? next + 1 : end;
        if (stop > line && stop[-1] == '\r')
            stop--;
        *stop = '\0';
        if (!*line)
            break;
        char *colon = strchr (line, ':');
        if (!colon || request->header_count == S_HEADERS_MAX)
            continue;
        *colon = '\0';
        char *value = colon + 1;
        while (*value == ' ' || *value == '\t')
            value++;
        request->names[request->header_count] = line;
        request->values[request->header_count++] = value;
    }
    request->body_size = (size_t) (end - request->body);
}

//  The route's parameters and pattern give back the path.
static void
s_check_route (const s_request_t *request, const gw_route_t *route, gw_params_t params, int count)
{
    s_check (count >= 0 && count <= GW_PARAMS_MAX, "too many path parameters");
    s_check (strcmp (route->method, request->method) == 0, "a route of another method");
    char rebuilt[GW_URL_MAX + 1024] = "";
    size_t used = 0;
    int n = 0;
    for (const char *p = route->pattern; *p;) {
        if (*p == '{') {
            const char *close = strchr (p, '}');
            s_check (close && n < count, "a pattern's parameter left unfilled");
            s_check (strlen (params[n][0]) == (size_t) (close - p - 1)
                         && strncmp (params[n][0], p + 1, (size_t) (close - p - 1)) == 0,
                     "a parameter under another name than its pattern's");
            size_t len = strnlen (params[n][1], GW_PARAM_SIZE);
            s_check (len > 0 && len < GW_PARAM_SIZE, "a path parameter empty or past its buffer");
            s_check (!strchr (params[n][1], '/'), "a path parameter holding a /");
            used += (size_t) snprintf (rebuilt + used, sizeof rebuilt - used, "%s", params[n][1]);
            n++;
            p = close + 1;
        } else {
            if (used + 1 < sizeof rebuilt)
                rebuilt[used++] = *p;
            rebuilt[used] = '\0';
            p++;
        }
    }
    s_check (n == count, "more parameters than the pattern has");
    s_check (strcmp (rebuilt, request->path) == 0, "a route that does not give back the path");
}

//  The query's parameters into the body, as s_query_arg does (each as MHD hands it); 0, or -1
//  once one is refused.
static int
s_query (const gw_route_t *route, char *query, json_t *body)
{
    if (!query)
        return 0;
    char *saved;
    for (char *arg = strtok_r (query, "&", &saved); arg; arg = strtok_r (NULL, "&", &saved)) {
        char *equals = strchr (arg, '=');
        if (equals)
            *equals = '\0';
        const char *key = s_unescape (arg);
        const char *value = equals ? s_unescape (equals + 1) : NULL;
        //  Typed as every type too, whatever the route.
        json_decref (s_typed (NULL, key, value ? value : ""));
        st_error_t err = {0};
        if (gw_parse_query_arg (route, body, key, value, &err)) {
            s_check_error (&err, NULL);
            return -1;
        }
        const st_field_t *field = gw_parse_field (route, key);
        s_check_typed (field, json_object_get (body, key));
    }
    return 0;
}

static void
s_parse (s_request_t *request)
{
    //  X-Request-Id
    const char *given = s_header (request, "X-Request-Id");
    char id[GW_REQUEST_ID_SIZE];
    memset (id, 0x55, sizeof id);
    gw_parse_request_id (given, id);
    size_t id_len = strnlen (id, sizeof id);
    s_check (id_len >= 1 && id_len <= 64, "a request id not 1 to 64 characters");
    for (size_t i = 0; i < id_len; i++)
        s_check (isalnum ((unsigned char) id[i]) || strchr ("._-", id[i]),
                 "a request id with a character a log line should not carry");
    if (given && strlen (given) <= 64
        && strspn (given, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLM"
                          "NOPQRSTUVWXYZ0123456789._-")
               == strlen (given)
        && *given)
        s_check (strcmp (id, given) == 0, "a good request id was not kept");

    //  Origin against Host
    const char *origin = s_header (request, "Origin"), *host = s_header (request, "Host");
    if (gw_parse_origin_ok (request->method, origin, host) && origin
        && !gw_parse_is_read (request->method)) {
        const char *rest = strncmp (origin, "https://", 8) == 0  ? origin + 8
                           : strncmp (origin, "http://", 7) == 0 ? origin + 7
                                                                 : NULL;
        s_check (rest && host && strcmp (rest, host) == 0, "a write from another site let in");
    }

    //  Authorization: Bearer
    const char *authorization = s_header (request, "Authorization");
    if (authorization) {
        char token[GW_TOKEN_SIZE];
        memset (token, 0x55, sizeof token);
        if (gw_parse_bearer (authorization, token) == 0) {
            s_check (strnlen (token, sizeof token) < sizeof token, "a token past its buffer");
            s_check (strncasecmp (authorization, "Bearer ", 7) == 0
                         && strcmp (authorization + 7, token) == 0,
                     "a token that is not the header's rest");
        } else
            s_check (strncasecmp (authorization, "Bearer ", 7) != 0
                         || strlen (authorization + 7) >= GW_TOKEN_SIZE,
                     "a Bearer header that fits refused");
    }

    //  The route
    if (strlen (request->path) > GW_URL_MAX)
        return; //  414 before any route is looked up
    gw_params_t params;
    memset (params, 0x55, sizeof params);
    int count = -1;
    char allow[64];
    const gw_route_t *route =
        gw_parse_route (request->method, request->path, params, &count, allow, sizeof allow);
    s_check (strnlen (allow, sizeof allow) < sizeof allow, "Allow past its buffer");
    if (!route)
        return;
    s_check_route (request, route, params, count);

    //  The body
    st_error_t err = {0};
    const char *type = s_header (request, "Content-Type");
    json_t *body;
    if (route->map == gw_map_csv) {
        body = gw_parse_csv_body (request->body, request->body_size, type, &err);
        if (body) {
            const json_t *csv = json_object_get (body, "csv");
            s_check (json_is_string (csv) && json_string_length (csv) == 2 * request->body_size,
                     "a CSV body not its bytes in hex");
        }
    } else {
        body = gw_parse_json_body (request->body, request->body_size, type, &err);
        if (body)
            s_check (json_is_object (body) && s_depth (body) <= GW_JSON_DEPTH,
                     "an accepted body that is no object or nests too deep");
    }
    if (!body) {
        s_check_error (&err, NULL);
        return;
    }

    //  The path's parameters and the query's, typed by the op's descriptor.
    for (int i = 0; i < count; i++) {
        json_t *typed = s_typed (gw_parse_field (route, params[i][0]), params[i][0], params[i][1]);
        if (!typed) {
            json_decref (body);
            return;
        }
        json_object_set_new (body, params[i][0], typed);
    }
    if (s_query (route, request->query, body)) {
        json_decref (body);
        return;
    }

    //  The op's descriptor, as the rpc call checks the body.
    const st_op_desc_t *op = route->service ? st_proto_op (route->service, route->op) : NULL;
    if (op) {
        void *msg = calloc (1, op->request->size);
        err = (st_error_t){0};
        if (st_json_to_msg (op->request, body, msg, &err))
            s_check_error (&err, NULL);
        st_msg_clear (op->request, msg);
        free (msg);
    }
    json_decref (body);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    s_find_samples ();
    s_input = data, s_input_size = size;
    char *text = malloc (size + 1);
    if (size) //  the replay's empty input comes as NULL
        memcpy (text, data, size);
    text[size] = '\0';
    s_request_t request = {0};
    s_split (text, size, &request);
    s_parse (&request);
    free (text);
    return 0;
}
