/*  st_db.c — the service's PostgreSQL connection  */
#include "st_db.h"
#include "st_codec.h"
#include "st_log.h"

#include <assert.h>
#include <openssl/crypto.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ST_DB_MAX_STATEMENTS 128
#define ST_DB_MAX_TABLES     32

typedef struct {
    char *name;
    char *sql;
    uint64_t prepared_on; //  connection generation it was prepared on
} s_statement_t;

struct st_db_s {
    char *conninfo;
    char *role;
    char *schema;
    PGconn *conn;
    uint64_t generation;
    int64_t next_attempt_ms;
    int64_t backoff_ms;
    s_statement_t statements[ST_DB_MAX_STATEMENTS];
    size_t statement_count;
    const st_statement_t *tables[ST_DB_MAX_TABLES]; //  registered whole (st_db_statements)
    size_t table_count;
    char sqlstate[6];
};

//  ---------------------------------------------------------------------------------------
//  Parameters

static void
s_param (st_params_t *self, const char *value, int length, int format, char *owned)
{
    assert (self->count < ST_DB_MAX_PARAMS);
    self->values[self->count] = value;
    self->lengths[self->count] = length;
    self->formats[self->count] = format;
    self->owned[self->count] = owned;
    self->count++;
}

void
st_params_text (st_params_t *self, const char *value)
{
    s_param (self, value, 0, 0, NULL);
}

void
st_params_int (st_params_t *self, int64_t value)
{
    char *text = st_malloc (24);
    snprintf (text, 24, "%" PRId64, value);
    s_param (self, text, 0, 0, text);
}

void
st_params_bool (st_params_t *self, bool value)
{
    s_param (self, value ? "true" : "false", 0, 0, NULL);
}

void
st_params_double (st_params_t *self, double value)
{
    char *text = st_malloc (32);
    snprintf (text, 32, "%.17g", value);
    s_param (self, text, 0, 0, text);
}

void
st_params_bin (st_params_t *self, const void *data, size_t size)
{
    s_param (self, (const char *) data, (int) size, 1, NULL);
}

void
st_params_bin_take (st_params_t *self, void *data, size_t size)
{
    s_param (self, (const char *) data, (int) size, 1, data);
}

void
st_params_text_array (st_params_t *self, char *const *items, size_t count)
{
    //  An array literal: every element quoted, quotes and backslashes escaped.
    size_t size = 3;
    for (size_t i = 0; i < count; i++)
        size += 2 * strlen (items[i]) + 3;
    char *text = st_malloc (size), *p = text;
    *p++ = '{';
    for (size_t i = 0; i < count; i++) {
        if (i)
            *p++ = ',';
        *p++ = '"';
        for (const char *s = items[i]; *s; s++) {
            if (*s == '"' || *s == '\\')
                *p++ = '\\';
            *p++ = *s;
        }
        *p++ = '"';
    }
    *p++ = '}';
    *p = 0;
    s_param (self, text, 0, 0, text);
}

void
st_params_null (st_params_t *self)
{
    st_params_text (self, NULL);
}

void
st_params_int_or_null (st_params_t *self, bool has, int64_t value)
{
    if (has)
        st_params_int (self, value);
    else
        st_params_null (self);
}

void
st_params_bool_or_null (st_params_t *self, bool has, bool value)
{
    if (has)
        st_params_bool (self, value);
    else
        st_params_null (self);
}

void
st_params_double_or_null (st_params_t *self, bool has, double value)
{
    if (has)
        st_params_double (self, value);
    else
        st_params_null (self);
}

void
st_params_clear (st_params_t *self)
{
    for (int i = 0; i < self->count; i++)
        free (self->owned[i]);
    memset (self, 0, sizeof *self);
}

//  ---------------------------------------------------------------------------------------
//  Connection

//  What the server says beside results (notices, a FATAL before it hangs up) goes to the log.
static void
s_notice (void *arg, const char *message)
{
    st_db_t *self = arg;
    st_debug ("database (%s): %s", self->role, message);
}

st_db_t *
st_db_new (const char *conninfo, const char *role, const char *schema)
{
    st_db_t *self = st_calloc (1, sizeof *self);
    self->conninfo = st_strdup (conninfo);
    self->role = st_strdup (role);
    self->schema = st_strdup (schema);
    self->backoff_ms = 100;
    return self;
}

void
st_db_destroy (st_db_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    st_db_t *self = *self_p;
    if (self->conn)
        PQfinish (self->conn);
    for (size_t i = 0; i < self->statement_count; i++) {
        free (self->statements[i].name);
        free (self->statements[i].sql);
    }
    free (self->conninfo);
    free (self->role);
    free (self->schema);
    free (self);
    *self_p = NULL;
}

void
st_db_thread_end (void)
{
    OPENSSL_thread_stop ();
}

void
st_db_statement (st_db_t *self, const char *name, const char *sql)
{
    for (size_t i = 0; i < self->statement_count; i++)
        if (strcmp (self->statements[i].name, name) == 0)
            return;
    assert (self->statement_count < ST_DB_MAX_STATEMENTS);
    s_statement_t *s = &self->statements[self->statement_count++];
    s->name = st_strdup (name);
    s->sql = st_strdup (sql);
    s->prepared_on = 0;
}

st_db_t *
st_db_clone (st_db_t *self)
{
    st_db_t *clone = st_db_new (self->conninfo, self->role, self->schema);
    for (size_t i = 0; i < self->statement_count; i++)
        st_db_statement (clone, self->statements[i].name, self->statements[i].sql);
    return clone;
}

void
st_db_statements (st_db_t *self, const st_statement_t *table, size_t count)
{
    //  A table registered already costs a look at the few tables, not a search per statement
    //  (ops register their tables on every call).
    for (size_t i = 0; i < self->table_count; i++)
        if (self->tables[i] == table)
            return;
    for (size_t i = 0; i < count; i++)
        st_db_statement (self, table[i].name, table[i].sql);
    if (self->table_count < ST_DB_MAX_TABLES)
        self->tables[self->table_count++] = table;
}

static void
s_disconnect (st_db_t *self)
{
    if (self->conn)
        PQfinish (self->conn);
    self->conn = NULL;
}

st_status_t
st_db_connect (st_db_t *self, st_error_t *err)
{
    if (self->conn && PQstatus (self->conn) == CONNECTION_OK)
        return ST_OK;
    s_disconnect (self);
    int64_t now = st_clock_ms ();
    if (now < self->next_attempt_ms)
        return st_error_set (err, ST_UNAVAILABLE, NULL, "database is unavailable (retrying)");

    const char *keys[] = {"dbname", "user", "application_name", "connect_timeout", NULL};
    const char *values[] = {self->conninfo, self->role, self->schema, "5", NULL};
    //  expand_dbname: the first value is a whole connection string; later keys win over it.
    PGconn *conn = PQconnectdbParams (keys, values, 1);
    PQsetNoticeProcessor (conn, s_notice, self);
    if (PQstatus (conn) != CONNECTION_OK) {
        st_error_set (err, ST_UNAVAILABLE, NULL, "could not connect to the database as \"%s\": %s",
                      self->role, PQerrorMessage (conn));
        PQfinish (conn);
        self->next_attempt_ms = now + self->backoff_ms;
        self->backoff_ms = self->backoff_ms * 2 > 5000 ? 5000 : self->backoff_ms * 2;
        st_warn ("%s", err ? err->message : "could not connect to the database");
        return ST_UNAVAILABLE;
    }
    //  search_path names only the service's own schema: it touches no other.
    char *schema = PQescapeIdentifier (conn, self->schema, strlen (self->schema));
    char sql[256];
    snprintf (
        sql, sizeof sql,
        "SET search_path TO %s; SET TIME ZONE 'Asia/Shanghai'; SET client_min_messages TO warning",
        schema);
    PQfreemem (schema);
    PGresult *res = PQexec (conn, sql);
    bool ok = PQresultStatus (res) == PGRES_COMMAND_OK;
    if (!ok)
        st_error_set (err, ST_UNAVAILABLE, NULL, "could not set search_path: %s",
                      PQerrorMessage (conn));
    PQclear (res);
    if (!ok) {
        PQfinish (conn);
        return ST_UNAVAILABLE;
    }
    self->conn = conn;
    self->generation++;
    self->backoff_ms = 100;
    self->next_attempt_ms = 0;
    return ST_OK;
}

PGconn *
st_db_conn (st_db_t *self)
{
    return self->conn;
}

//  ---------------------------------------------------------------------------------------
//  Errors

st_status_t
st_db_status_of (const char *sqlstate)
{
    if (!sqlstate || strlen (sqlstate) != 5)
        return ST_UNAVAILABLE; //  no SQLSTATE: the connection broke
    if (strcmp (sqlstate, "23505") == 0 || strcmp (sqlstate, "23P01") == 0)
        return ST_CONFLICT;
    if (strncmp (sqlstate, "23", 2) == 0)
        return ST_FAILED_PRECONDITION;
    if (strncmp (sqlstate, "22", 2) == 0)
        return ST_INVALID_ARGUMENT;
    if (strcmp (sqlstate, "40001") == 0 || strcmp (sqlstate, "40P01") == 0)
        return ST_UNAVAILABLE;
    if (strncmp (sqlstate, "08", 2) == 0 || strncmp (sqlstate, "57P", 3) == 0)
        return ST_UNAVAILABLE;
    if (strncmp (sqlstate, "53", 2) == 0)
        return ST_RESOURCE_EXHAUSTED;
    if (strcmp (sqlstate, "57014") == 0)
        return ST_UNAVAILABLE; //  statement timeout
    return ST_INTERNAL;
}

const char *
st_db_sqlstate (st_db_t *self)
{
    return self->sqlstate;
}

bool
st_db_retryable (st_db_t *self)
{
    return strcmp (self->sqlstate, "40001") == 0 || strcmp (self->sqlstate, "40P01") == 0;
}

static st_status_t
s_result_status (st_db_t *self, PGresult *res, const char *what, st_error_t *err)
{
    ExecStatusType status = res ? PQresultStatus (res) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
        return ST_OK;
    const char *sqlstate = res ? PQresultErrorField (res, PG_DIAG_SQLSTATE) : NULL;
    snprintf (self->sqlstate, sizeof self->sqlstate, "%s", sqlstate ? sqlstate : "");
    const char *message = res ? PQresultErrorField (res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (!message)
        message = PQerrorMessage (self->conn);
    st_status_t code = st_db_status_of (sqlstate);
    st_error_set (err, code, NULL, "could not run \"%s\": %s", what, message);
    if (PQstatus (self->conn) != CONNECTION_OK) {
        st_warn ("database connection lost: %s", PQerrorMessage (self->conn));
        s_disconnect (self);
    }
    return code;
}

st_status_t
st_db_exec (st_db_t *self, const char *name, const st_params_t *params, PGresult **result,
            st_error_t *err)
{
    if (result)
        *result = NULL;
    self->sqlstate[0] = 0;
    s_statement_t *s = NULL;
    for (size_t i = 0; i < self->statement_count; i++)
        if (strcmp (self->statements[i].name, name) == 0)
            s = &self->statements[i];
    assert (s);
    if (st_db_connect (self, err) != ST_OK)
        return ST_UNAVAILABLE;
    if (s->prepared_on != self->generation) {
        PGresult *res = PQprepare (self->conn, s->name, s->sql, 0, NULL);
        st_status_t rc = s_result_status (self, res, name, err);
        PQclear (res);
        if (rc != ST_OK)
            return rc;
        s->prepared_on = self->generation;
    }
    static const st_params_t none;
    if (!params)
        params = &none;
    PGresult *res = PQexecPrepared (self->conn, s->name, params->count, params->values,
                                    params->lengths, params->formats, 0);
    st_status_t rc = s_result_status (self, res, name, err);
    if (rc == ST_OK && result)
        *result = res;
    else
        PQclear (res);
    return rc;
}

//  The registered statement `name`, prepared on the live connection. Returns ST_OK or the
//  failure with err filled.
static st_status_t
s_prepared (st_db_t *self, const char *name, s_statement_t **statement, st_error_t *err)
{
    s_statement_t *s = NULL;
    for (size_t i = 0; i < self->statement_count; i++)
        if (strcmp (self->statements[i].name, name) == 0)
            s = &self->statements[i];
    assert (s);
    *statement = s;
    if (s->prepared_on == self->generation)
        return ST_OK;
    PGresult *res = PQprepare (self->conn, s->name, s->sql, 0, NULL);
    st_status_t rc = s_result_status (self, res, name, err);
    PQclear (res);
    if (rc == ST_OK)
        s->prepared_on = self->generation;
    return rc;
}

//  A pipeline the connection cannot finish: the connection goes (its transaction with it).
static st_status_t
s_pipeline_broken (st_db_t *self, const char *what, st_error_t *err)
{
    st_error_set (err, ST_UNAVAILABLE, NULL, "could not run \"%s\": %s", what,
                  self->conn ? PQerrorMessage (self->conn) : "no connection");
    st_warn ("database connection dropped in a pipeline: %s", err ? err->message : what);
    self->sqlstate[0] = 0;
    s_disconnect (self);
    return ST_UNAVAILABLE;
}

st_status_t
st_db_pipeline (st_db_t *self, const st_db_step_t *steps, size_t count, size_t *failed,
                st_error_t *err)
{
    self->sqlstate[0] = 0;
    for (size_t i = 0; i < count; i++)
        if (steps[i].result)
            *steps[i].result = NULL;
    if (failed)
        *failed = 0;
    if (st_db_connect (self, err) != ST_OK)
        return ST_UNAVAILABLE;
    //  Statements are prepared first, each in its own round trip, once per connection.
    for (size_t i = 0; i < count; i++) {
        s_statement_t *s;
        st_status_t rc = steps[i].name ? s_prepared (self, steps[i].name, &s, err) : ST_OK;
        if (rc != ST_OK) {
            if (failed)
                *failed = i;
            return rc;
        }
    }
    PGconn *conn = self->conn;
    if (!PQenterPipelineMode (conn))
        return s_pipeline_broken (self, "pipeline", err);
    static const st_params_t none;
    for (size_t i = 0; i < count; i++) {
        const st_params_t *params = steps[i].params ? steps[i].params : &none;
        int sent = steps[i].name
                       ? PQsendQueryPrepared (conn, steps[i].name, params->count, params->values,
                                              params->lengths, params->formats, 0)
                       : PQsendQueryParams (conn, steps[i].sql, 0, NULL, NULL, NULL, NULL, 0);
        if (!sent)
            return s_pipeline_broken (self, steps[i].name ? steps[i].name : steps[i].sql, err);
    }
    if (!PQpipelineSync (conn))
        return s_pipeline_broken (self, "pipeline sync", err);
    st_status_t rc = ST_OK;
    for (size_t i = 0; i < count; i++) {
        const char *what = steps[i].name ? steps[i].name : steps[i].sql;
        PGresult *res = PQgetResult (conn);
        if (!res)
            return s_pipeline_broken (self, what, err);
        if (PQresultStatus (res) == PGRES_PIPELINE_ABORTED)
            PQclear (res); //  after the step that failed
        else {
            char short_what[48];
            snprintf (short_what, sizeof short_what, "%.40s", what);
            st_status_t step_rc = s_result_status (self, res, short_what, rc == ST_OK ? err : NULL);
            if (!self->conn) { //  s_result_status found it broken, and dropped it
                PQclear (res);
                return step_rc;
            }
            if (step_rc == ST_OK && steps[i].result)
                *steps[i].result = res;
            else
                PQclear (res);
            if (step_rc != ST_OK && rc == ST_OK) {
                rc = step_rc;
                if (failed)
                    *failed = i;
            }
        }
        //  Each step's results end with NULL.
        while ((res = PQgetResult (conn))) {
            bool sync = PQresultStatus (res) == PGRES_PIPELINE_SYNC;
            PQclear (res);
            if (sync)
                return s_pipeline_broken (self, what, err);
        }
    }
    PGresult *res = PQgetResult (conn);
    bool synced = res && PQresultStatus (res) == PGRES_PIPELINE_SYNC;
    PQclear (res);
    if (!synced || !PQexitPipelineMode (conn)) {
        for (size_t i = 0; i < count; i++)
            if (steps[i].result) {
                PQclear (*steps[i].result);
                *steps[i].result = NULL;
            }
        return s_pipeline_broken (self, "pipeline sync", err);
    }
    return rc;
}

st_status_t
st_db_run (st_db_t *self, const char *sql, st_error_t *err)
{
    self->sqlstate[0] = 0;
    if (st_db_connect (self, err) != ST_OK)
        return ST_UNAVAILABLE;
    PGresult *res = PQexec (self->conn, sql);
    char what[48];
    snprintf (what, sizeof what, "%.40s", sql);
    st_status_t rc = s_result_status (self, res, what, err);
    PQclear (res);
    return rc;
}

bool
st_db_try_lock (st_db_t *self, const char *lock_name)
{
    if (st_db_connect (self, NULL) != ST_OK)
        return false;
    const char *values[] = {lock_name};
    PGresult *res = PQexecParams (self->conn, "SELECT pg_try_advisory_lock (hashtext ($1))", 1,
                                  NULL, values, NULL, NULL, 0);
    bool held = PQresultStatus (res) == PGRES_TUPLES_OK && PQgetvalue (res, 0, 0)[0] == 't';
    PQclear (res);
    return held;
}

int
st_db_finish (st_db_t *self, st_status_t rc, const st_error_t *err, const char *what)
{
    st_error_t ended;
    if (rc != ST_OK) {
        st_db_run (self, "ROLLBACK", &ended);
        st_warn ("%s rolled back: %s", what, err->message);
        return -1;
    }
    if (st_db_run (self, "COMMIT", &ended) != ST_OK) {
        st_warn ("%s not committed: %s", what, ended.message);
        return -1;
    }
    return 0;
}
