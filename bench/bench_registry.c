/*  bench_registry.c — the registry at county scale: registrations per second through rpc
    (validation, encryption, hashing, the idempotency record and the event, all in one
    transaction) against plain SQL inserts of the same rows; then volunteer.list latency with
    a million volunteers loaded, against the same query in plain SQL.
    Usage: bench_registry [volunteers (default 1000000)] [registrations (default 2000)]  */
#include "bench_proc.h"
#include "bench_util.h"
#include "harness.h"
#include "st_crypto.h"
#include "st_json.h"
#include "st_log.h"

#include <stdio.h>
#include <string.h>

static const char *
s_code (int township, int village, char out[13])
{
    unsigned t = (unsigned) (100 + township) % 1000,
             v = village ? (unsigned) (200 + village) % 1000 : 0;
    snprintf (out, 13, "431022%03u%03u", t, v);
    return out;
}

static void
s_exec (PGconn *conn, const char *sql)
{
    PGresult *res = PQexec (conn, sql);
    ExecStatusType status = PQresultStatus (res);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && status != PGRES_COPY_IN) {
        fprintf (stderr, "bench_registry: %s: %s", sql, PQerrorMessage (conn));
        exit (1);
    }
    PQclear (res);
}

//  Writes `n` volunteers with COPY: real ciphertexts, so listing decrypts as it would.
static void
s_load (harness_t *h, PGconn *conn, int n)
{
    st_error_t err;
    st_crypto_t *crypto = st_crypto_load (harness_keys (h), &err);
    if (!crypto) {
        fprintf (stderr, "bench_registry: %s\n", err.message);
        exit (1);
    }
    s_exec (conn, "COPY registry.volunteers (name, id_number_enc, id_number_hash, phone_enc,"
                  " phone_hash, region, skills, gender, birth_date) FROM STDIN");
    static const char *const skills[] = {"{急救}", "{驾驶}", "{手语,法律}", "{助老}", "{}"};
    char line[2048];
    for (int i = 0; i < n; i++) {
        char id_number[24], phone[16], region[13];
        snprintf (id_number, sizeof id_number, "43102219%02d%02d%02d%03dX", 50 + i % 50, 1 + i % 12,
                  1 + i % 28, i % 1000);
        snprintf (phone, sizeof phone, "13%09d", i % 1000000000);
        s_code (i % 20, 1 + (i / 20) % 15, region);
        uint8_t *sealed_id, *sealed_phone, hash_id[32], hash_phone[32];
        size_t id_len, phone_len;
        st_crypto_seal (crypto, "id_number", id_number, 18, &sealed_id, &id_len);
        st_crypto_seal (crypto, "phone", phone, 11, &sealed_phone, &phone_len);
        //  The hash must be unique per row: the sequence number stands in for the person.
        char unique[48];
        snprintf (unique, sizeof unique, "%s-%d", id_number, i);
        st_crypto_hash (crypto, "id_number", unique, strlen (unique), hash_id);
        st_crypto_hash (crypto, "phone", phone, 11, hash_phone);
        int used = snprintf (line, sizeof line, "志愿者%d\t\\\\x", i);
        for (size_t j = 0; j < id_len; j++)
            used += snprintf (line + used, sizeof line - used, "%02x", sealed_id[j]);
        used += snprintf (line + used, sizeof line - used, "\t\\\\x");
        for (size_t j = 0; j < 32; j++)
            used += snprintf (line + used, sizeof line - used, "%02x", hash_id[j]);
        used += snprintf (line + used, sizeof line - used, "\t\\\\x");
        for (size_t j = 0; j < phone_len; j++)
            used += snprintf (line + used, sizeof line - used, "%02x", sealed_phone[j]);
        used += snprintf (line + used, sizeof line - used, "\t\\\\x");
        for (size_t j = 0; j < 32; j++)
            used += snprintf (line + used, sizeof line - used, "%02x", hash_phone[j]);
        used += snprintf (line + used, sizeof line - used, "\t%s\t%s\tM\t1980-01-01\n", region,
                          skills[i % 5]);
        free (sealed_id);
        free (sealed_phone);
        if (PQputCopyData (conn, line, used) != 1) {
            fprintf (stderr, "bench_registry: COPY: %s", PQerrorMessage (conn));
            exit (1);
        }
    }
    PQputCopyEnd (conn, NULL);
    PGresult *res = PQgetResult (conn);
    if (PQresultStatus (res) != PGRES_COMMAND_OK) {
        fprintf (stderr, "bench_registry: COPY: %s", PQerrorMessage (conn));
        exit (1);
    }
    PQclear (res);
    //  As autovacuum leaves a table rows were added to: analysed, its pages all-visible.
    s_exec (conn, "VACUUM ANALYZE registry.volunteers");
    st_crypto_destroy (&crypto);
}

//  Where the CPU of the registrations went: the registry's process, PostgreSQL's backends
//  (the registry's session, its relay's) and this one (the client).
enum { COST_REGISTRY, COST_PG, COST_CLIENT, COSTS };
static const char *const s_cost_names[COSTS] = {"registry", "PostgreSQL", "client"};

static void
s_cost_now (pid_t registry, pid_t postmaster, double cpu_ms[COSTS])
{
    long switches = 0;
    for (int i = 0; i < COSTS; i++)
        cpu_ms[i] = 0;
    bench_proc_cost (registry, &cpu_ms[COST_REGISTRY], &switches);
    bench_proc_children_cost (postmaster, &cpu_ms[COST_PG], &switches);
    bench_proc_cost (getpid (), &cpu_ms[COST_CLIENT], &switches);
}

static void
s_cost_print (const char *what, const double before[COSTS], const double after[COSTS], int n)
{
    double total = 0;
    printf ("  CPU per %s, us:", what);
    for (int i = 0; i < COSTS; i++) {
        printf (" %s %.1f;", s_cost_names[i], (after[i] - before[i]) * 1000 / n);
        total += after[i] - before[i];
    }
    printf (" total %.1f\n", total * 1000 / n);
}

static bool
s_part (const char *name)
{
    const char *parts = getenv ("BENCH_REGISTRY_PARTS");
    return !parts || strstr (parts, name);
}

static void
s_report (const char *what, int64_t *samples, int n)
{
    printf ("%-52s p50 %7.2f ms  p99 %7.2f ms\n", what, bench_quantile (samples, n, 0.5) / 1e6,
            bench_quantile (samples, n, 0.99) / 1e6);
}

int
main (int argc, char **argv)
{
    int volunteers = argc > 1 ? atoi (argv[1]) : 1000000;
    int registrations = argc > 2 ? atoi (argv[2]) : 2000;
    st_log_init ("bench", "error");
    setenv ("STATION_TEST_LOG_LEVEL", "error", 1);
    harness_t *h = harness_new ("bench_registry");
    pid_t registry = harness_start (h, "registry"), postmaster = 0;
    st_client_t *client = harness_client (h, "registry", "operator");
    PGconn *conn = harness_pg (h);
    postmaster = bench_postmaster_pid ();

    //  Registrations through rpc, one at a time as a registration desk sends them.
    double before[COSTS], rpc_cost[COSTS], sql_cost[COSTS], load_start = bench_load_average ();
    s_cost_now (registry, postmaster, before);
    int64_t start = bench_ns ();
    for (int i = 0; i < registrations; i++) {
        char body[18], id_number[19], phone[16];
        snprintf (body, sizeof body, "4310221980%02d15%03d", 1 + (i / 1000) % 12, i % 1000);
        static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
        int sum = 0;
        for (int k = 0; k < 17; k++)
            sum += (body[k] - '0') * w[k];
        snprintf (id_number, sizeof id_number, "%s%c", body, "10X98765432"[sum % 11]);
        snprintf (phone, sizeof phone, "139%08d", i % 100000000);
        char *skills[] = {"急救", "驾驶"};
        msg_volunteer_register_t request = {.name = "欧阳明华",
                                            .id_number = id_number,
                                            .phone = phone,
                                            .region = "431022100201",
                                            .skills = {skills, 2},
                                            .has_skills = true};
        msg_volunteer_t reply;
        st_error_t err;
        if (st_client_call (client, "volunteer.register", NULL, NULL, &msg_volunteer_register_desc,
                            &request, &msg_volunteer_desc, &reply, 10000, &err)
            != ST_OK) {
            fprintf (stderr, "bench_registry: %s\n", err.message);
            return 1;
        }
        st_msg_clear (&msg_volunteer_desc, &reply);
    }
    double rpc_rate = registrations * 1e9 / (double) (bench_ns () - start);
    s_cost_now (registry, postmaster, rpc_cost);
    for (int i = 0; i < COSTS; i++)
        rpc_cost[i] -= before[i];
    //  Baseline: the same number of rows as plain SQL inserts, one transaction each.
    s_exec (conn, "CREATE TABLE plain_volunteers (id bigint GENERATED ALWAYS AS IDENTITY"
                  " PRIMARY KEY, name text, id_number text UNIQUE, phone text, region text,"
                  " skills text[], skills_text text)");
    PGresult *res = PQprepare (conn, "plain",
                               "INSERT INTO plain_volunteers (name, id_number,"
                               " phone, region, skills) VALUES ($1, $2, $3, $4,"
                               " '{急救,驾驶}')",
                               4, NULL);
    PQclear (res);
    s_cost_now (registry, postmaster, before);
    start = bench_ns ();
    for (int i = 0; i < registrations; i++) {
        char id_number[24], phone[16];
        snprintf (id_number, sizeof id_number, "4310221980%08d", i % 100000000);
        snprintf (phone, sizeof phone, "139%08d", i % 100000000);
        const char *values[] = {"欧阳明华", id_number, phone, "431022100201"};
        res = PQexecPrepared (conn, "plain", 4, values, NULL, NULL, 0);
        PQclear (res);
    }
    double sql_rate = registrations * 1e9 / (double) (bench_ns () - start);
    s_cost_now (registry, postmaster, sql_cost);
    double zero[COSTS] = {0};
    printf ("%d registrations, one client, fsync off; load %.1f at the start, %.1f now\n",
            registrations, load_start, bench_load_average ());
    printf ("%-52s %8.0f /s\n", "plain SQL insert (baseline)", sql_rate);
    s_cost_print ("insert", before, sql_cost, registrations);
    printf ("%-52s %8.0f /s  (%.3fx)\n", "volunteer.register through rpc", rpc_rate,
            rpc_rate / sql_rate);
    s_cost_print ("registration", zero, rpc_cost, registrations);
    if (!s_part ("import"))
        goto lists;

    //  Bulk registration: a 10,000-row CSV through volunteer.import, against COPY of the same
    //  rows into a plain table.
    enum { ROWS = 10000 };
    size_t capacity = ROWS * 160, used = 0;
    char *csv = malloc (capacity);
    used += snprintf (csv, capacity, "姓名,身份证号,手机号,区划代码,技能\r\n");
    for (int i = 0; i < ROWS; i++) {
        char body[18], id_number[19];
        snprintf (body, sizeof body, "4310221990%02d%02d%03d", 1 + (i / 28000) % 12,
                  1 + (i / 1000) % 28, i % 1000);
        static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
        int sum = 0;
        for (int k = 0; k < 17; k++)
            sum += (body[k] - '0') * w[k];
        snprintf (id_number, sizeof id_number, "%s%c", body, "10X98765432"[sum % 11]);
        used +=
            snprintf (csv + used, capacity - used,
                      "导入%d,%s,137%08d,4310221%02d201,急救、驾驶\r\n", i, id_number, i, i % 20);
    }
    msg_volunteer_import_t import = {.csv = {(uint8_t *) csv, used}};
    msg_import_result_t result;
    st_error_t err;
    start = bench_ns ();
    if (st_client_call (client, "volunteer.import", NULL, NULL, &msg_volunteer_import_desc, &import,
                        &msg_import_result_desc, &result, 600000, &err)
            != ST_OK
        || result.created != ROWS) {
        fprintf (stderr, "bench_registry: import: %s\n", err.message);
        return 1;
    }
    double import_s = (double) (bench_ns () - start) / 1e9;
    st_msg_clear (&msg_import_result_desc, &result);
    s_exec (conn, "COPY plain_volunteers (name, id_number, phone, region, skills_text) FROM STDIN"
                  " (FORMAT csv, HEADER true)");
    start = bench_ns ();
    PQputCopyData (conn, csv, (int) used);
    PQputCopyEnd (conn, NULL);
    PGresult *copied = PQgetResult (conn);
    if (PQresultStatus (copied) != PGRES_COMMAND_OK) {
        fprintf (stderr, "bench_registry: COPY: %s", PQerrorMessage (conn));
        return 1;
    }
    PQclear (copied);
    double copy_s = (double) (bench_ns () - start) / 1e9;
    printf ("%-52s %8.0f rows/s (%.2f s)\n", "COPY of the same CSV, plain table (baseline)",
            ROWS / copy_s, copy_s);
    printf ("%-52s %8.0f rows/s (%.2f s)\n", "volunteer.import of a 10,000-row CSV",
            ROWS / import_s, import_s);
    free (csv);

lists:
    if (!s_part ("lists"))
        goto done;
    start = bench_ns ();
    s_load (h, conn, volunteers);
    printf ("loaded %d volunteers with COPY in %.1f s\n", volunteers,
            (double) (bench_ns () - start) / 1e9);

    //  volunteer.list as a township admin and as the county, first pages and deep pages.
    enum { CALLS = 200 };
    static int64_t samples[CALLS];
    struct {
        const char *what;
        const char *region;
        const char *skill;
    } cases[] = {{"list a township (1/20), first page of 50", "431022105000", NULL},
                 {"list the county, first page of 50", "431022000000", NULL},
                 {"list a village, skill 手语, page of 50", "431022105203", "手语"}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (int i = 0; i < CALLS; i++) {
            msg_volunteer_list_t request = {.region = (char *) cases[c].region,
                                            .skill = (char *) cases[c].skill,
                                            .limit = 50,
                                            .has_limit = true};
            char cursor[40];
            if (i % 2) { //  every other call starts from a cursor part way into the subtree
                snprintf (cursor, sizeof cursor, "%s.%d", cases[c].region, (i * 4999) % volunteers);
                request.cursor = cursor;
            }
            msg_volunteer_page_t page;
            st_error_t err;
            int64_t t = bench_ns ();
            if (st_client_call (client, "volunteer.list", NULL, NULL, &msg_volunteer_list_desc,
                                &request, &msg_volunteer_page_desc, &page, 10000, &err)
                != ST_OK) {
                fprintf (stderr, "bench_registry: %s\n", err.message);
                return 1;
            }
            samples[i] = bench_ns () - t;
            st_msg_clear (&msg_volunteer_page_desc, &page);
        }
        s_report (cases[c].what, samples, CALLS);
    }
    //  Baseline: the subtree query alone, in plain SQL, without decryption or the wire.
    res = PQprepare (conn, "plain_list",
                     "SELECT id, name, region, skills FROM registry.volunteers"
                     " WHERE region COLLATE \"C\" >= $1 AND region COLLATE \"C\" < $2"
                     " AND (region COLLATE \"C\", id) > ('431022105000', $3)"
                     " ORDER BY region COLLATE \"C\", id LIMIT 50",
                     3, NULL);
    PQclear (res);
    for (int i = 0; i < CALLS; i++) {
        char after[24];
        snprintf (after, sizeof after, "%d", i % 2 ? (i * 4999) % volunteers : 0);
        const char *values[] = {"431022105", "431022106", after};
        int64_t t = bench_ns ();
        res = PQexecPrepared (conn, "plain_list", 3, values, NULL, NULL, 0);
        samples[i] = bench_ns () - t;
        PQclear (res);
    }
    s_report ("plain SQL, a township, page of 50 (baseline)", samples, CALLS);
done:
    st_client_destroy (&client);
    harness_destroy (&h);
    return 0;
}
