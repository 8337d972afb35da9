/*  st_migrate.c — forward-only migrations under an advisory lock  */
#include "st_migrate.h"
#include "st_log.h"

#include <stdio.h>
#include <stdlib.h>

static st_status_t
s_apply (st_db_t *db, const st_migration_t *m, st_error_t *err)
{
    st_status_t rc = st_db_run (db, "BEGIN", err);
    if (rc == ST_OK)
        rc = st_db_run (db, m->sql, err);
    if (rc == ST_OK) {
        st_params_t params = {0};
        st_params_int (&params, m->version);
        st_params_text (&params, m->name);
        rc = st_db_exec (db, "migrate_record", &params, NULL, err);
        st_params_clear (&params);
    }
    if (rc == ST_OK)
        rc = st_db_run (db, "COMMIT", err);
    if (rc != ST_OK) {
        st_db_run (db, "ROLLBACK", NULL);
        return rc;
    }
    st_info ("applied migration %04d %s", m->version, m->name);
    return ST_OK;
}

st_status_t
st_migrate (st_db_t *db, const char *schema, const st_migration_t *migrations, size_t count,
            st_error_t *err)
{
    st_db_statement (db, "migrate_lock", "SELECT pg_advisory_lock (hashtext ($1))");
    st_db_statement (db, "migrate_unlock", "SELECT pg_advisory_unlock (hashtext ($1))");
    st_db_statement (db, "migrate_version",
                     "SELECT coalesce (max (version), 0) FROM schema_migrations");
    st_db_statement (db, "migrate_record",
                     "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)");
    char lock[96];
    snprintf (lock, sizeof lock, "station.migrate.%s", schema);
    st_params_t params = {0};
    st_params_text (&params, lock);
    st_status_t rc = st_db_exec (db, "migrate_lock", &params, NULL, err);
    if (rc != ST_OK)
        goto done;
    rc = st_db_run (db,
                    "CREATE TABLE IF NOT EXISTS schema_migrations ("
                    " version integer PRIMARY KEY, name text NOT NULL,"
                    " applied_at timestamptz NOT NULL DEFAULT now ())",
                    err);
    if (rc != ST_OK)
        goto unlock;
    PGresult *res;
    rc = st_db_exec (db, "migrate_version", NULL, &res, err);
    if (rc != ST_OK)
        goto unlock;
    int current = atoi (PQgetvalue (res, 0, 0));
    PQclear (res);
    int newest = count ? migrations[count - 1].version : 0;
    if (current > newest) {
        rc = st_error_set (err, ST_FAILED_PRECONDITION, NULL,
                           "schema \"%s\" is at version %d, newer than this binary's %d: "
                           "refusing to run an older binary on it",
                           schema, current, newest);
        goto unlock;
    }
    for (size_t i = 0; i < count && rc == ST_OK; i++)
        if (migrations[i].version > current)
            rc = s_apply (db, &migrations[i], err);
unlock:
    st_db_exec (db, "migrate_unlock", &params, NULL, NULL);
done:
    st_params_clear (&params);
    return rc;
}
