/*  bench_import.c — a county's roster through the chunked import (import.begin, import.chunk,
    import.finish): rows per second against COPY of the same rows into a plain table, and
    volunteer.get latency from a second client while the import runs, against the same
    without an import.
    Usage: bench_import [rows (default 100000)]  */
#include "bench_proc.h"
#include "bench_sizes.h"
#include "bench_util.h"
#include "harness.h"
#include "st_log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum { MAX_SAMPLES = 1000000 };

static void
s_die (const char *what, const char *message)
{
    fprintf (stderr, "bench_import: %s: %s\n", what, message);
    exit (1);
}

static void
s_call (st_client_t *client, const char *op, const st_desc_t *request_desc, const void *request,
        const st_desc_t *reply_desc, void *reply)
{
    st_error_t err;
    if (st_client_call (client, op, NULL, NULL, request_desc, request, reply_desc, reply, 600000,
                        &err)
        != ST_OK)
        s_die (op, err.message);
}

//  Completes a 17-digit body into a GB 11643 ID number (ISO 7064 MOD 11-2 check digit).
static void
s_id_number (const char *body, char out[19])
{
    static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    int sum = 0;
    for (int k = 0; k < 17; k++)
        sum += (body[k] - '0') * w[k];
    snprintf (out, 19, "%.17s%c", body, "10X98765432"[sum % 11]);
}

//  A roster of `rows` people (valid, distinct ID numbers) in the county's 20 townships.
static char *
s_roster (int rows, size_t *size)
{
    size_t capacity = (size_t) rows * 128 + 256, used = 0;
    char *csv = malloc (capacity);
    used += (size_t) snprintf (csv, capacity, "姓名,身份证号,手机号,区划代码,技能\r\n");
    for (int i = 0; i < rows; i++) {
        char body[18], id_number[19];
        snprintf (body, sizeof body, "431022%04d%02d%02d%03d", 1950 + i % 50, 1 + (i / 50) % 12,
                  1 + (i / 600) % 28, (i / 16800) % 1000);
        s_id_number (body, id_number);
        used += (size_t) snprintf (csv + used, capacity - used,
                                   "导入%d,%s,137%08d,4310221%02d201,急救、驾驶\r\n", i, id_number,
                                   i, i % 20);
    }
    *size = used;
    return csv;
}

//  The second client: volunteer.get, one after another (`pause_us` apart), until told to
//  stop.
typedef struct {
    harness_t *h;
    atomic_bool stop;
    int64_t *samples;
    int count;
    int limit;
    int pause_us;
} s_reader_t;

static void *
s_reader_run (void *arg)
{
    s_reader_t *self = arg;
    st_client_t *client = harness_client (self->h, "registry", "operator");
    while (!atomic_load (&self->stop) && self->count < self->limit) {
        msg_volunteer_get_t request = {.id = "1"};
        msg_volunteer_t reply;
        int64_t t = bench_ns ();
        s_call (client, "volunteer.get", &msg_volunteer_get_desc, &request, &msg_volunteer_desc,
                &reply);
        self->samples[self->count++] = bench_ns () - t;
        st_msg_clear (&msg_volunteer_desc, &reply);
        if (self->pause_us)
            usleep ((useconds_t) self->pause_us);
    }
    st_client_destroy (&client);
    return NULL;
}

static void
s_report (const char *what, int64_t *samples, int n)
{
    double p50 = bench_quantile (samples, n, 0.5) / 1e6,
           p99 = bench_quantile (samples, n, 0.99) / 1e6;
    printf ("%-56s p50 %8.2f ms  p99 %8.2f ms  max %8.2f ms  (%d calls)\n", what, p50, p99,
            samples[n - 1] / 1e6, n);
}

int
main (int argc, char **argv)
{
    int rows = argc > 1 ? atoi (argv[1]) : 100000;
    setvbuf (stdout, NULL, _IOLBF, 0); //  each figure as it comes, into a pipe too
    st_log_init ("bench", "error");
    setenv ("STATION_TEST_LOG_LEVEL", "error", 1);
    harness_t *h = harness_new ("bench_import");
    pid_t registry = harness_start (h, "registry"), postmaster = 0;
    postmaster = bench_postmaster_pid ();
    st_client_t *client = harness_client (h, "registry", "operator");
    PGconn *conn = harness_pg (h);

    //  The county, its 20 townships and a village in each; one volunteer to read.
    const char *fixed[][2] = {{"431000000000", "郴州市"}, {"431022000000", "宜章县"}};
    for (int i = 0; i < 2 + 40; i++) {
        char code[13], name[32];
        if (i < 2)
            snprintf (code, sizeof code, "%s", fixed[i][0]);
        else
            snprintf (code, sizeof code, "4310221%02d%s", (i - 2) % 20, i < 22 ? "000" : "201");
        snprintf (name, sizeof name, "%s", i < 2 ? fixed[i][1] : "某地");
        msg_region_create_t request = {.code = code, .name = name};
        msg_region_t reply;
        s_call (client, "region.create", &msg_region_create_desc, &request, &msg_region_desc,
                &reply);
        st_msg_clear (&msg_region_desc, &reply);
    }
    char id_number[19];
    s_id_number ("43102219800101999", id_number);
    msg_volunteer_register_t person = {
        .name = "李明华", .id_number = id_number, .phone = "13912345678", .region = "431022100201"};
    msg_volunteer_t volunteer;
    s_call (client, "volunteer.register", &msg_volunteer_register_desc, &person,
            &msg_volunteer_desc, &volunteer);
    st_msg_clear (&msg_volunteer_desc, &volunteer);

    size_t size;
    char *csv = s_roster (rows, &size);
    printf ("a roster of %d rows, %.1f MB, fsync off\n", rows, size / 1e6);

    //  volunteer.get alone, as a baseline.
    s_reader_t reader = {.h = h, .samples = malloc (MAX_SAMPLES * sizeof (int64_t)), .limit = 2000};
    s_reader_run (&reader);
    s_report ("volunteer.get, nothing else running (baseline)", reader.samples, reader.count);

    //  The import, with volunteer.get from a second client all along.
    //  An office reading now and then (200 calls/s at most), not a second client flat out: one
    //  took half of the two cores' CPU from the import it measured (45,767 calls in 50 s),
    //  which COPY, its baseline, never shares.
    reader.count = 0;
    reader.limit = MAX_SAMPLES;
    reader.pause_us = 5000;
    pthread_t thread;
    pthread_create (&thread, NULL, s_reader_run, &reader);
    double cpu_before[2] = {0}, cpu_after[2] = {0};
    long switches = 0;
    bench_proc_cost (registry, &cpu_before[0], &switches);
    bench_proc_children_cost (postmaster, &cpu_before[1], &switches);
    int64_t start = bench_ns ();
    msg_import_begin_t begin = {.kind = "volunteers", .size = (int64_t) size, .has_size = true};
    msg_import_begun_t begun;
    s_call (client, "import.begin", &msg_import_begin_desc, &begin, &msg_import_begun_desc, &begun);
    int chunks = 0;
    for (size_t at = 0; at < size; at += ST_IMPORT_MAX_CHUNK) {
        size_t n = size - at < ST_IMPORT_MAX_CHUNK ? size - at : ST_IMPORT_MAX_CHUNK;
        msg_import_chunk_t chunk = {.import_id = begun.import_id,
                                    .seq = ++chunks,
                                    .has_seq = true,
                                    .csv = {(uint8_t *) csv + at, n}};
        msg_import_chunked_t chunked;
        s_call (client, "import.chunk", &msg_import_chunk_desc, &chunk, &msg_import_chunked_desc,
                &chunked);
        st_msg_clear (&msg_import_chunked_desc, &chunked);
    }
    double upload_s = (double) (bench_ns () - start) / 1e9;
    msg_import_result_t result = {0};
    int calls = 0;
    while (!result.done) {
        st_msg_clear (&msg_import_result_desc, &result);
        msg_import_finish_t finish = {
            .import_id = begun.import_id, .chunks = chunks, .has_chunks = true};
        s_call (client, "import.finish", &msg_import_finish_desc, &finish, &msg_import_result_desc,
                &result);
        calls++;
    }
    double import_s = (double) (bench_ns () - start) / 1e9;
    bench_proc_cost (registry, &cpu_after[0], &switches);
    bench_proc_children_cost (postmaster, &cpu_after[1], &switches);
    atomic_store (&reader.stop, true);
    pthread_join (thread, NULL);
    if (result.created != rows)
        s_die ("import", "not every row was created");
    st_msg_clear (&msg_import_result_desc, &result);
    st_msg_clear (&msg_import_begun_desc, &begun);
    bench_sizes (conn, "registry", 1000);

    //  Baseline: COPY of the same CSV into a plain table.
    PGresult *res = PQexec (conn, "CREATE TABLE plain_volunteers (id bigint GENERATED ALWAYS AS"
                                  " IDENTITY PRIMARY KEY, name text, id_number text UNIQUE,"
                                  " phone text, region text, skills_text text)");
    PQclear (res);
    int64_t copy_start = bench_ns ();
    res = PQexec (conn, "COPY plain_volunteers (name, id_number, phone, region, skills_text)"
                        " FROM STDIN (FORMAT csv, HEADER true)");
    PQclear (res);
    PQputCopyData (conn, csv, (int) size);
    PQputCopyEnd (conn, NULL);
    res = PQgetResult (conn);
    if (PQresultStatus (res) != PGRES_COMMAND_OK)
        s_die ("COPY", PQerrorMessage (conn));
    PQclear (res);
    double copy_s = (double) (bench_ns () - copy_start) / 1e9;

    printf ("%-56s %8.0f rows/s (%.2f s)\n", "COPY of the same CSV, plain table (baseline)",
            rows / copy_s, copy_s);
    printf ("%-56s %8.0f rows/s (%.2f s: %d chunks in %.2f s, %d finish calls)\n",
            "import.begin/chunk/finish", rows / import_s, import_s, chunks, upload_s, calls);
    double load = bench_load_average ();
    printf ("%-56s registry %.1f µs, PostgreSQL %.1f µs (with the reader's calls; load %.1f)\n",
            "  CPU per row imported", (cpu_after[0] - cpu_before[0]) * 1000 / rows,
            (cpu_after[1] - cpu_before[1]) * 1000 / rows, load);
    s_report ("volunteer.get during the import", reader.samples, reader.count);
    free (reader.samples);
    free (csv);
    st_client_destroy (&client);
    harness_destroy (&h);
    return 0;
}
