/*  st_status.h — the project-wide status codes, which are also the wire's error codes
    The list is closed and only ever appended to (architecture.md, "The wire: rpc").  */
#ifndef ST_STATUS_H_INCLUDED
#define ST_STATUS_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

//  X (enum name, wire name, HTTP status)
#define ST_STATUS_LIST(X)                                                                          \
    X (ST_OK, "ok", 200)                                                                           \
    X (ST_INVALID_ARGUMENT, "invalid_argument", 400)                                               \
    X (ST_NOT_FOUND, "not_found", 404)                                                             \
    X (ST_CONFLICT, "conflict", 409)                                                               \
    X (ST_PERMISSION_DENIED, "permission_denied", 403)                                             \
    X (ST_UNAUTHENTICATED, "unauthenticated", 401)                                                 \
    X (ST_FAILED_PRECONDITION, "failed_precondition", 422)                                         \
    X (ST_RESOURCE_EXHAUSTED, "resource_exhausted", 429)                                           \
    X (ST_UNAVAILABLE, "unavailable", 503)                                                         \
    X (ST_INTERNAL, "internal", 500)

typedef enum {
#define ST_X(e, name, http) e,
    ST_STATUS_LIST (ST_X)
#undef ST_X
        ST_STATUS_COUNT
} st_status_t;

//  An error as it travels: code, the offending field (may be empty) and a message.
typedef struct {
    st_status_t code;
    char field[96];
    char message[256];
} st_error_t;

//  Returns the wire name of a status ("invalid_argument"); "internal" for an unknown value.
const char *st_status_name (st_status_t status);

//  Parses a wire name; returns false when the name is not one of the closed set.
bool st_status_parse (const char *name, size_t len, st_status_t *out);

//  Returns the HTTP status that answers a status code.
int st_status_http (st_status_t status);

//  Fills an error; field may be NULL. Returns err->code so callers can `return st_error_set (...)`.
st_status_t st_error_set (st_error_t *err, st_status_t code, const char *field, const char *format,
                          ...) __attribute__ ((format (printf, 4, 5)));

#endif
