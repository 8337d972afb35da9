/*  registry_store.c — the registry's SQL: statements named after the op that runs them  */
#include "registry_store.h"

static const struct {
    const char *name;
    const char *sql;
} s_statements[] = {
    {"volunteer_insert",
     "INSERT INTO volunteers (name, id_number_enc, id_number_hash, phone_enc, phone_hash, region,"
     " skills, gender, birth_date)"
     " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
     " RETURNING id, to_char (created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"},
    {"volunteer_get", "SELECT id, name, id_number_enc, phone_enc, region, skills, gender,"
                      " to_char (birth_date, 'YYYY-MM-DD'), status,"
                      " to_char (created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
                      " FROM volunteers WHERE id = $1"},
};

void
registry_store_prepare (st_db_t *db)
{
    for (size_t i = 0; i < sizeof s_statements / sizeof s_statements[0]; i++)
        st_db_statement (db, s_statements[i].name, s_statements[i].sql);
}
