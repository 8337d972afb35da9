/*  st_log.h — structured logs: one line each, with time, service, level and request id  */
#ifndef ST_LOG_H_INCLUDED
#define ST_LOG_H_INCLUDED

#include <stdint.h>

typedef enum { ST_LOG_DEBUG, ST_LOG_INFO, ST_LOG_WARN, ST_LOG_ERROR } st_log_level_t;

//  Names the process in every line and sets the lowest level written ("debug".."error").
void st_log_init (const char *service, const char *level);

//  Writes one line to stderr: `2026-11-29T10:00:00.123Z registry info req=… message`.
//  req may be NULL (no request) or a 32-character hex request id.
void st_log (st_log_level_t level, const char *req, const char *format, ...)
    __attribute__ ((format (printf, 3, 4)));

#define st_debug(...) st_log (ST_LOG_DEBUG, NULL, __VA_ARGS__)
#define st_info(...)  st_log (ST_LOG_INFO, NULL, __VA_ARGS__)
#define st_warn(...)  st_log (ST_LOG_WARN, NULL, __VA_ARGS__)
#define st_error(...) st_log (ST_LOG_ERROR, NULL, __VA_ARGS__)

//  Writes a 16-byte request id as 32 hex characters and a NUL.
void st_id_hex (const uint8_t *id, char out[33]);

//  Milliseconds since the epoch, wall clock.
int64_t st_now_ms (void);

//  Milliseconds from a monotonic clock, for timers and deadlines inside one process.
int64_t st_clock_ms (void);

#endif
