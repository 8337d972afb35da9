/*  st_db.h — one service's PostgreSQL connection: its own role and schema, reconnect with
    backoff, statements prepared once per connection (again after a reconnect), SQLSTATE
    mapped to status codes, transactions retried on serialization failure and deadlock.  */
#ifndef ST_DB_H_INCLUDED
#define ST_DB_H_INCLUDED

#include "st_status.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#define ST_DB_MAX_PARAMS 24

typedef struct st_db_s st_db_t;

//  Parameters for one statement; text unless added as binary. Release with st_params_clear.
typedef struct {
    int count;
    const char *values[ST_DB_MAX_PARAMS];
    int lengths[ST_DB_MAX_PARAMS];
    int formats[ST_DB_MAX_PARAMS];
    char *owned[ST_DB_MAX_PARAMS];
} st_params_t;

void st_params_text (st_params_t *self, const char *value); //  NULL is SQL NULL
void st_params_int (st_params_t *self, int64_t value);
void st_params_bool (st_params_t *self, bool value);
void st_params_double (st_params_t *self, double value);
void st_params_bin (st_params_t *self, const void *data, size_t size);
//  The same, and the parameters own `data` from now on (st_params_clear frees it).
void st_params_bin_take (st_params_t *self, void *data, size_t size);
void st_params_text_array (st_params_t *self, char *const *items, size_t count);
void st_params_clear (st_params_t *self);

//  SQL NULL, and an optional field of a message: its value when `has` is true, else NULL.
void st_params_null (st_params_t *self);
void st_params_int_or_null (st_params_t *self, bool has, int64_t value);
void st_params_bool_or_null (st_params_t *self, bool has, bool value);
void st_params_double_or_null (st_params_t *self, bool has, double value);

//  Creates a connection for `role` with `search_path` set to `schema`; conninfo is a libpq
//  connection string without user. Nothing connects until first use.
st_db_t *st_db_new (const char *conninfo, const char *role, const char *schema);
void st_db_destroy (st_db_t **self_p);

//  Ends the calling thread's state in libpq's libcrypto. A detached thread (a czmq actor) calls
//  it last, so that state is freed while the thread that waits for the actor still waits, not
//  by the thread's own exit racing the process's exit handlers.
void st_db_thread_end (void);

//  Registers a statement by name; it is prepared on first use on each connection.
void st_db_statement (st_db_t *self, const char *name, const char *sql);

//  A new connection, not yet made, for the same role and schema with every statement
//  registered on `self` so far: a worker thread's own (a connection serves one thread).
st_db_t *st_db_clone (st_db_t *self);

//  A store's statements as one table, and registering them all (a table registered already,
//  the same array, is not looked at again: ops may register theirs on every call).
typedef struct {
    const char *name;
    const char *sql;
} st_statement_t;
void st_db_statements (st_db_t *self, const st_statement_t *table, size_t count);

//  Connects if not connected (at most once per backoff period). Returns ST_OK or
//  ST_UNAVAILABLE with err filled.
st_status_t st_db_connect (st_db_t *self, st_error_t *err);

//  Executes a registered statement. On success *result (may be NULL to discard) is the
//  caller's to PQclear. On failure returns the mapped status with err filled; the SQLSTATE
//  stays readable through st_db_sqlstate.
st_status_t st_db_exec (st_db_t *self, const char *name, const st_params_t *params,
                        PGresult **result, st_error_t *err);

//  One statement of st_db_pipeline: a registered statement by `name` with `params` (may be
//  NULL), or, when `name` is NULL, plain `sql` without parameters (BEGIN, COMMIT); its result
//  into *result (the caller's to PQclear) when `result` is not NULL.
typedef struct {
    const char *name;
    const char *sql;
    const st_params_t *params;
    PGresult **result;
} st_db_step_t;
//  Runs the steps in order as st_db_exec would one by one, sent together and answered in one
//  round trip (libpq's pipeline mode). The first that fails stops the rest: returns its
//  mapped status with err filled, the SQLSTATE readable through st_db_sqlstate, and its index
//  in *failed (may be NULL); the steps after it do not run, and a transaction they were in
//  is aborted (the caller rolls it back, as after st_db_exec).
st_status_t st_db_pipeline (st_db_t *self, const st_db_step_t *steps, size_t count, size_t *failed,
                            st_error_t *err);
//  Executes plain SQL (BEGIN, COMMIT, SAVEPOINT ..., migrations) with the simple protocol.
st_status_t st_db_run (st_db_t *self, const char *sql, st_error_t *err);

//  Ends a transaction a background job began: COMMIT when rc is ST_OK, else ROLLBACK; a
//  warning names `what` and why when it did not commit (err: rc's error). Returns 0 once
//  committed, -1 otherwise.
int st_db_finish (st_db_t *self, st_status_t rc, const st_error_t *err, const char *what);

//  The SQLSTATE of the last failure ("" if none), and whether retrying the transaction can
//  help (40001 serialization failure, 40P01 deadlock).
const char *st_db_sqlstate (st_db_t *self);
bool st_db_retryable (st_db_t *self);

//  Maps a SQLSTATE to a status code (23505 → conflict, class 08 → unavailable, …).
st_status_t st_db_status_of (const char *sqlstate);

//  The live connection (NULL when disconnected), for LISTEN and socket polling.
PGconn *st_db_conn (st_db_t *self);

//  Takes a session advisory lock without waiting; true when this connection holds it.
bool st_db_try_lock (st_db_t *self, const char *lock_name);

#endif
