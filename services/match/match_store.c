/*  match_store.c — the match service's SQL: statements named after what runs them  */
#include "match_store.h"

static const struct {
    const char *name;
    const char *sql;
} s_statements[] = {
    //  volunteer.registered: the replica takes the newest state, never an older one.
    {"supply_upsert",
     "INSERT INTO supply (volunteer_id, name, region, skills, gender, birth_year, status,"
     " registry_seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
     " ON CONFLICT (volunteer_id) DO UPDATE SET name = EXCLUDED.name, region = EXCLUDED.region,"
     " skills = EXCLUDED.skills, gender = EXCLUDED.gender, birth_year = EXCLUDED.birth_year,"
     " status = EXCLUDED.status, registry_seq = EXCLUDED.registry_seq, updated_at = now ()"
     " WHERE supply.registry_seq < EXCLUDED.registry_seq"},
    //  supply.stats: a region subtree is a code prefix (trailing zeros dropped).
    {"supply_stats",
     "SELECT count (*), count (*) FILTER (WHERE status = 'active'),"
     " (SELECT coalesce (max (seq), 0) FROM consumer_cursors WHERE publisher = 'registry')"
     " FROM supply WHERE region LIKE rtrim ($1, '0') || '%'"},
};

void
match_store_prepare (st_db_t *db)
{
    for (size_t i = 0; i < sizeof s_statements / sizeof s_statements[0]; i++)
        st_db_statement (db, s_statements[i].name, s_statements[i].sql);
}
