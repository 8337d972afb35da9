/*  st_migrate.h — forward-only migrations: numbered SQL files embedded in the binary,
    applied at start-up under an advisory lock and recorded in the schema's own
    schema_migrations; a database newer than the binary is refused.  */
#ifndef ST_MIGRATE_H_INCLUDED
#define ST_MIGRATE_H_INCLUDED

#include "st_db.h"

typedef struct {
    int version;
    const char *name;
    const char *sql;
} st_migration_t;

//  Applies the migrations the schema lacks, in order, each in its own transaction.
//  Returns ST_OK, or a status with err filled (ST_FAILED_PRECONDITION for a newer database).
st_status_t st_migrate (st_db_t *db, const char *schema, const st_migration_t *migrations,
                        size_t count, st_error_t *err);

#endif
