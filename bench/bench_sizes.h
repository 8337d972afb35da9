/*  bench_sizes.h — what a schema's tables hold once a benchmark has filled them: rows, bytes
    on disk (the table with its TOAST, and its indexes) and bytes per row, so that a province's
    disk is a multiplication (docs/scale-out.md). Tables of fewer than `min_rows` rows (settings,
    rules) are left out.  */
#ifndef BENCH_SIZES_H_INCLUDED
#define BENCH_SIZES_H_INCLUDED

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>

static inline void
bench_sizes (PGconn *conn, const char *schema, long long min_rows)
{
    //  Exact counts (query_to_xml runs a count per table inside the one query); sizes after
    //  a checkpoint-free VACUUM would change nothing here, so they are read as they stand.
    static const char *sql =
        "SELECT t.relname, t.n, pg_table_size (t.oid), pg_indexes_size (t.oid),"
        " (SELECT count (*) FROM pg_index i WHERE i.indrelid = t.oid)"
        " FROM (SELECT c.oid, c.relname, (xpath ('/row/n/text()', query_to_xml (format"
        " ('SELECT count (*) AS n FROM %I.%I', n.nspname, c.relname), false, true, '')))[1]"
        "::text::bigint AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = $1 AND c.relkind = 'r') t WHERE t.n >= $2"
        " ORDER BY pg_total_relation_size (t.oid) DESC";
    char min[24];
    snprintf (min, sizeof min, "%lld", min_rows);
    const char *values[2] = {schema, min};
    PGresult *res = PQexecParams (conn, sql, 2, NULL, values, NULL, NULL, 0);
    if (PQresultStatus (res) != PGRES_TUPLES_OK) {
        fprintf (stderr, "bench_sizes: %s", PQerrorMessage (conn));
        PQclear (res);
        return;
    }
    printf ("sizes of schema %s (tables of %lld rows or more):\n", schema, min_rows);
    printf ("  %-28s %12s %10s %10s %8s %10s\n", "table", "rows", "table MB", "indexes MB",
            "indexes", "bytes/row");
    for (int i = 0; i < PQntuples (res); i++) {
        double rows = atof (PQgetvalue (res, i, 1)), table = atof (PQgetvalue (res, i, 2)),
               indexes = atof (PQgetvalue (res, i, 3));
        printf ("  %-28s %12.0f %10.1f %10.1f %8s %10.0f\n", PQgetvalue (res, i, 0), rows,
                table / 1048576, indexes / 1048576, PQgetvalue (res, i, 4),
                (table + indexes) / rows);
    }
    PQclear (res);
}

#endif
