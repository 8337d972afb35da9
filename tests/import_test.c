/*  import_test.c — bulk imports within bounds (issue 18): a hostile file reports its first
    1,000 errors and counts the rest without growing the registry, files larger than one frame
    arrive in chunks (import.begin, import.chunk, import.finish) that a retry cannot double,
    a gap in the chunks is refused, an abandoned import expires; region.import alike.  */
#include "fixture.h"
#include "st_keys.h"
#include "st_log.h"

#include <sodium.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <cmocka.h>

static msg_actor_t TOWN_A = {.account = "town-a", .role = "region_admin", .region = "431022100000"};
static msg_actor_t COUNTY = {.account = "county", .role = "region_admin", .region = "431022000000"};

static int
s_setup (void **state)
{
    fx_t *fx = fx_new ("import", FX_REGISTRY);
    const char *regions[][2] = {{"431000000000", "郴州市"},
                                {"431022000000", "宜章县"},
                                {"431022100000", "玉溪镇"},
                                {"431022100201", "玉溪镇第一村"}};
    for (size_t i = 0; i < sizeof regions / sizeof regions[0]; i++)
        fx_region_add (regions[i][0], regions[i][1]);
    *state = fx;
    return 0;
}

static int
s_teardown (void **state)
{
    fx_destroy ((fx_t **) state);
    return 0;
}

//  The peak resident memory of a process in kB, from /proc (VmHWM).
static long
s_peak_kb (pid_t pid)
{
    char path[64], line[256];
    snprintf (path, sizeof path, "/proc/%d/status", (int) pid);
    FILE *file = fopen (path, "r");
    assert_non_null (file);
    long kb = -1;
    while (fgets (line, sizeof line, file))
        if (strncmp (line, "VmHWM:", 6) == 0)
            kb = atol (line + 6);
    fclose (file);
    return kb;
}

//  A file of `rows` rows that are each an error with a long message.
static char *
s_hostile (int rows, size_t *size)
{
    size_t capacity = (size_t) rows * 64 + 64, used = 0;
    char *csv = malloc (capacity);
    used += (size_t) snprintf (csv, capacity, "name,id_number,phone,region\n");
    for (int i = 0; i < rows; i++)
        used += (size_t) snprintf (csv + used, capacity - used, "n%d,4310221985031A%04d,1,2\n", i,
                                   i % 10000);
    *size = used;
    return csv;
}

//  100,000 bad rows: the reply carries the first 1,000 errors and counts them all; the
//  registry's peak memory grows by far less than the errors would take.
static void
test_hostile_errors_bounded (void **state)
{
    size_t size;
    //  The header and 99,999 rows are read, then one error says the file is too long.
    char *csv = s_hostile (120000, &size);
    long before = s_peak_kb (fx_pid ("registry"));
    msg_volunteer_import_t request = {.csv = {(uint8_t *) csv, size}};
    msg_import_result_t result;
    st_error_t err;
    if (fx_call_msg ("registry", &TOWN_A, "volunteer.import", &request, &result, &err) != ST_OK)
        fail_msg ("volunteer.import: %s", err.message);
    free (csv);
    assert_int_equal (result.created, 0);
    assert_int_equal (result.errors.count, 1000);
    assert_int_equal (result.errors.items[0].line, 2);
    assert_int_equal (result.errors.items[999].line, 1001);
    assert_int_equal (result.error_count, 100000);
    assert_string_equal (result.errors.items[0].field, "id_number");
    st_msg_clear (&msg_import_result_desc, &result);
    long after = s_peak_kb (fx_pid ("registry"));
    print_message ("registry peak memory %ld kB before, %ld kB after\n", before, after);
    assert_true (after - before < 32 * 1024);
}

//  region.import reports the same way: the first 1,000 errors and a count of all; and still
//  places parents before their children whatever the order of the file.
static void
test_region_errors_bounded (void **state)
{
    size_t capacity = 5000 * 32 + 256, used = 0;
    char *csv = malloc (capacity);
    used += (size_t) snprintf (csv, capacity, "code,name\n431022102201,新村\n431022102000,新镇\n");
    for (int i = 0; i < 5000; i++)
        used += (size_t) snprintf (csv + used, capacity - used, "4310%d,坏码\n", i);
    msg_region_import_t request = {.csv = {(uint8_t *) csv, used}};
    msg_import_result_t result;
    st_error_t err;
    assert_int_equal (fx_call_msg ("registry", &COUNTY, "region.import", &request, &result, &err),
                      ST_OK);
    free (csv);
    assert_int_equal (result.created, 2);
    assert_int_equal (result.errors.count, 1000);
    assert_int_equal (result.error_count, 5000);
    assert_int_equal (result.errors.items[0].line, 4);
    assert_string_equal (result.errors.items[0].field, "code");
    st_msg_clear (&msg_import_result_desc, &result);
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.regions"
                                " WHERE code IN ('431022102201', '431022102000')"),
                      2);
}

//  A roster of `rows` people from ID number `first` on, each row padded with a long note
//  (a column no import reads); every `bad`-th row has a malformed phone (0: none). The
//  file's size into *size.
static char *
s_roster (int first, int rows, int bad, size_t note, size_t *size)
{
    size_t capacity = (size_t) rows * (note + 128) + 256, used = 0;
    char *csv = malloc (capacity);
    char *pad = malloc (note + 1);
    memset (pad, 'x', note);
    pad[note] = 0;
    used += (size_t) snprintf (csv, capacity, "\xef\xbb\xbf姓名,身份证号,手机号,区划代码,备注\r\n");
    for (int i = 0; i < rows; i++) {
        char id_number[19];
        fx_nth_id_number (first + i, id_number);
        used += (size_t) snprintf (csv + used, capacity - used,
                                   "志愿者%d,%s,139%08d%s,431022100201,\"%s\"\r\n", i, id_number,
                                   first + i, bad && i % bad == bad - 1 ? "9" : "", pad);
    }
    free (pad);
    *size = used;
    return csv;
}

//  Begins a chunked import as `actor`; its id into `id`.
static void
s_begin (const msg_actor_t *actor, char id[32])
{
    json_t *reply = fx_call_ok ("registry", actor, "import.begin", "{\"kind\": \"volunteers\"}");
    snprintf (id, 32, "%s", fx_str (reply, "import_id"));
    assert_int_equal (fx_int (reply, "max_chunk"), 1048576);
    json_decref (reply);
}

static st_status_t
s_chunk (const msg_actor_t *actor, const char *id, int seq, const char *data, size_t size,
         st_error_t *err)
{
    msg_import_chunk_t request = {
        .import_id = (char *) id, .seq = seq, .has_seq = true, .csv = {(uint8_t *) data, size}};
    msg_import_chunked_t reply;
    st_status_t rc = fx_call_msg ("registry", actor, "import.chunk", &request, &reply, err);
    if (rc == ST_OK)
        assert_int_equal (reply.seq, seq);
    st_msg_clear (&msg_import_chunked_desc, &reply);
    return rc;
}

//  Sends a file in chunks of `piece` bytes (cutting rows anywhere); their count.
static int
s_send (const char *id, const char *csv, size_t size, size_t piece)
{
    int seq = 0;
    st_error_t err;
    for (size_t at = 0; at < size; at += piece) {
        size_t n = size - at < piece ? size - at : piece;
        if (s_chunk (&TOWN_A, id, ++seq, csv + at, n, &err) != ST_OK)
            fail_msg ("chunk %d: %s", seq, err.message);
    }
    return seq;
}

//  Calls import.finish until it is done; the last reply into *result (the caller clears it).
static void
s_finish (const char *id, int chunks, msg_import_result_t *result)
{
    msg_import_finish_t request = {.import_id = (char *) id, .chunks = chunks, .has_chunks = true};
    st_error_t err;
    for (int calls = 0;; calls++) {
        assert_true (calls < 100);
        if (fx_call_msg ("registry", &TOWN_A, "import.finish", &request, result, &err) != ST_OK)
            fail_msg ("import.finish: %s", err.message);
        if (result->done)
            return;
        st_msg_clear (&msg_import_result_desc, result);
    }
}

//  A file larger than a frame (6 MB) arrives in chunks that cut rows anywhere and is
//  registered whole: every row once, its errors reported. A chunk sent again with the same
//  bytes changes nothing, with other bytes is a conflict naming "seq"; a gap is refused
//  naming "seq"; a finish short of chunks is refused naming "chunks"; a finish once done
//  answers the same result again.
static void
test_chunked_import (void **state)
{
    size_t size;
    char *csv = s_roster (100, 3000, 500, 2000, &size);
    assert_true (size > 6 * 1000 * 1000);
    long volunteers = fx_count ("SELECT count (*) FROM registry.volunteers");
    long events =
        fx_count ("SELECT count (*) FROM registry.outbox WHERE topic = 'volunteer.registered'");
    //  One frame cannot take it.
    msg_volunteer_import_t whole = {.csv = {(uint8_t *) csv, size}};
    msg_import_result_t result;
    st_error_t err;
    assert_int_not_equal (
        fx_call_msg ("registry", &TOWN_A, "volunteer.import", &whole, &result, &err), ST_OK);

    char id[32];
    s_begin (&TOWN_A, id);
    size_t piece = 1000 * 1000 + 7;
    assert_int_equal (s_chunk (&TOWN_A, id, 1, csv, piece, &err), ST_OK);
    assert_int_equal (s_chunk (&TOWN_A, id, 2, csv + piece, piece, &err), ST_OK);
    //  Chunk 2 again, as a client that lost the reply sends it: nothing changes.
    assert_int_equal (s_chunk (&TOWN_A, id, 2, csv + piece, piece, &err), ST_OK);
    fx_expect ("chunk 2 with other bytes", s_chunk (&TOWN_A, id, 2, csv, piece, &err), &err,
               ST_CONFLICT, "seq");
    fx_expect ("chunk 4 before chunk 3", s_chunk (&TOWN_A, id, 4, csv, piece, &err), &err,
               ST_FAILED_PRECONDITION, "seq");
    assert_int_equal (
        fx_count ("SELECT count (*) FROM registry.import_chunks WHERE import_id = %s", id), 2);
    //  Another official cannot touch it.
    fx_expect ("a chunk from another official",
               s_chunk (&COUNTY, id, 3, csv + 2 * piece, piece, &err), &err, ST_NOT_FOUND,
               "import_id");
    int chunks = 2;
    for (size_t at = 2 * piece; at < size; at += piece) {
        size_t n = size - at < piece ? size - at : piece;
        assert_int_equal (s_chunk (&TOWN_A, id, ++chunks, csv + at, n, &err), ST_OK);
    }
    assert_true (chunks >= 7);
    msg_import_finish_t finish = {.import_id = id, .chunks = chunks - 1, .has_chunks = true};
    fx_expect ("a finish short of a chunk",
               fx_call_msg ("registry", &TOWN_A, "import.finish", &finish, &result, &err), &err,
               ST_FAILED_PRECONDITION, "chunks");
    st_msg_clear (&msg_import_result_desc, &result);

    s_finish (id, chunks, &result);
    assert_int_equal (result.created, 2994);
    assert_int_equal (result.skipped, 0);
    assert_int_equal (result.rows, 3000);
    assert_int_equal (result.error_count, 6);
    assert_int_equal (result.errors.count, 6);
    assert_int_equal (result.errors.items[0].line, 501);
    assert_string_equal (result.errors.items[0].field, "phone");
    assert_int_equal (result.errors.items[5].line, 3001);
    st_msg_clear (&msg_import_result_desc, &result);
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.volunteers"), volunteers + 2994);
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.outbox"
                                " WHERE topic = 'volunteer.registered'"),
                      events + 2994);
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.volunteers"
                                " WHERE name = '志愿者2998' AND region = '431022100201'"),
                      1);
    //  The chunks are gone; a finish again answers the same.
    assert_int_equal (
        fx_count ("SELECT count (*) FROM registry.import_chunks WHERE import_id = %s", id), 0);
    s_finish (id, chunks, &result);
    assert_int_equal (result.created, 2994);
    assert_int_equal (result.errors.count, 6);
    st_msg_clear (&msg_import_result_desc, &result);
    fx_expect ("a chunk after the finish", s_chunk (&TOWN_A, id, chunks + 1, csv, 10, &err), &err,
               ST_FAILED_PRECONDITION, "import_id");
    free (csv);
}

//  The operator's `station volunteer import FILE` takes a file larger than a frame: it sends
//  it in chunks and finishes it, printing the result.
static void
test_cli_imports_a_large_file (void **state)
{
    size_t size;
    //  ID numbers 3100 to 3999 (fx_nth_id_number has 12,000; the other tests use the rest),
    //  each row with two long notes, so that 900 rows are more than a frame.
    size_t capacity = 900 * 5300 + 256, used = 0;
    char *csv = malloc (capacity), pad[2501];
    memset (pad, 'y', 2500);
    pad[2500] = 0;
    used += (size_t) snprintf (csv, capacity, "姓名,身份证号,手机号,区划代码,备注,备注二\n");
    for (int i = 0; i < 900; i++) {
        char id_number[19];
        fx_nth_id_number (3100 + i, id_number);
        used += (size_t) snprintf (csv + used, capacity - used,
                                   "命令行%d,%s,137%08d,431022100201,%s,%s\n", i, id_number, i, pad,
                                   pad);
    }
    size = used;
    assert_true (size > 4 * 1024 * 1024);
    char path[512];
    snprintf (path, sizeof path, "%s/roster.csv", harness_dir (fx_harness ()));
    FILE *file = fopen (path, "w");
    assert_non_null (file);
    assert_int_equal (fwrite (csv, 1, size, file), size);
    fclose (file);
    free (csv);
    long volunteers = fx_count ("SELECT count (*) FROM registry.volunteers");
    static char out[1 << 16];
    if (harness_cli (fx_harness (), out, sizeof out, "volunteer", "import", path, "--json", NULL)
        != 0)
        fail_msg ("station volunteer import: %s", out);
    assert_non_null (strstr (out, "\"created\": 900"));
    assert_non_null (strstr (out, "\"done\": true"));
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.volunteers"), volunteers + 900);
}

//  A finish that dies half way (the registry killed after some batches committed) goes on
//  where it stopped when called again: every row registered once, none skipped, one event
//  each.
static void
test_finish_resumes (void **state)
{
    size_t size;
    int rows = 8000;
    char *csv = s_roster (4000, rows, 0, 0, &size);
    long volunteers = fx_count ("SELECT count (*) FROM registry.volunteers");
    long events =
        fx_count ("SELECT count (*) FROM registry.outbox WHERE topic = 'volunteer.registered'");
    char id[32];
    s_begin (&TOWN_A, id);
    int chunks = s_send (id, csv, size, 64 * 1024 + 3);
    free (csv);
    //  A finish whose caller does not wait, killed once a batch is in.
    msg_import_finish_t finish = {.import_id = id, .chunks = chunks, .has_chunks = true};
    char body[128];
    snprintf (body, sizeof body, "{\"import_id\": \"%s\", \"chunks\": %d}", id, chunks);
    st_error_t err;
    fx_call_id ("registry", &TOWN_A, "import.finish", body, NULL, 100, NULL, &err);
    fx_wait_for (1, "SELECT count (*) FROM registry.imports WHERE id = %s AND mark_rows > 1", id);
    harness_stop (fx_harness (), "registry", SIGKILL);
    long done = fx_count ("SELECT created FROM registry.imports WHERE id = %s", id);
    print_message ("killed with %ld rows registered\n", done);
    assert_true (done > 0 && done < rows);
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.volunteers"), volunteers + done);
    harness_start (fx_harness (), "registry");

    msg_import_result_t result;
    s_finish (id, chunks, &result);
    (void) finish;
    assert_int_equal (result.created, rows);
    assert_int_equal (result.skipped, 0);
    assert_int_equal (result.error_count, 0);
    st_msg_clear (&msg_import_result_desc, &result);
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.volunteers"), volunteers + rows);
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.outbox"
                                " WHERE topic = 'volunteer.registered'"),
                      events + rows);
}

//  An import nobody finishes expires: its chunks go with the next import begun, and a chunk
//  or a finish for it is refused naming "import_id".
static void
test_abandoned_import_expires (void **state)
{
    char id[32], other[32];
    st_error_t err;
    s_begin (&TOWN_A, id);
    assert_int_equal (s_chunk (&TOWN_A, id, 1, "name,id_number\n", 15, &err), ST_OK);
    assert_int_equal (
        fx_count ("SELECT count (*) FROM registry.import_chunks WHERE import_id = %s", id), 1);
    //  An hour later:
    fx_sql ("UPDATE registry.imports SET expires_at = now () - interval '1 second' WHERE id = %s",
            id);
    fx_expect ("a chunk of an expired import", s_chunk (&TOWN_A, id, 2, "a,b\n", 4, &err), &err,
               ST_NOT_FOUND, "import_id");
    msg_import_finish_t finish = {.import_id = id, .chunks = 1, .has_chunks = true};
    msg_import_result_t result;
    fx_expect ("a finish of an expired import",
               fx_call_msg ("registry", &TOWN_A, "import.finish", &finish, &result, &err), &err,
               ST_NOT_FOUND, "import_id");
    st_msg_clear (&msg_import_result_desc, &result);
    s_begin (&TOWN_A, other);
    assert_int_equal (
        fx_count ("SELECT count (*) FROM registry.import_chunks WHERE import_id = %s", id), 0);
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.imports WHERE id = %s", id), 0);
}

//  One official cannot take the import space from the rest: imports of one account hold at
//  most half of it (128 MB). Two imports of town-a holding 64 MB each (set in the table, as
//  128 chunks would) leave town-a's next chunk refused naming "csv", while the county's
//  chunk goes in; a chunk also deletes the imports that expired, not only import.begin.
static void
test_import_space_per_account (void **state)
{
    char full[2][32], third[32], county[32], stale[32];
    st_error_t err;
    s_begin (&COUNTY, stale);
    for (int i = 0; i < 2; i++) {
        s_begin (&TOWN_A, full[i]);
        fx_sql ("UPDATE registry.imports SET size = 67108864, chunks = 64 WHERE id = %s", full[i]);
    }
    s_begin (&TOWN_A, third);
    s_begin (&COUNTY, county);
    fx_sql ("UPDATE registry.imports SET expires_at = now () - interval '1 second' WHERE id = %s",
            stale);
    fx_expect ("a chunk of an official holding 128 MB",
               s_chunk (&TOWN_A, third, 1, "name,id_number\n", 15, &err), &err,
               ST_RESOURCE_EXHAUSTED, "csv");
    assert_int_equal (s_chunk (&COUNTY, county, 1, "name,id_number\n", 15, &err), ST_OK);
    assert_int_equal (fx_count ("SELECT count (*) FROM registry.imports WHERE id = %s", stale), 0);
    //  town-a's space comes back as its imports go.
    fx_sql ("DELETE FROM registry.imports WHERE id IN (%s, %s)", full[0], full[1]);
    assert_int_equal (s_chunk (&TOWN_A, third, 1, "name,id_number\n", 15, &err), ST_OK);
}

//  Restarts registry with `bytes` (NULL: the default) as STATION_POOL_MAX_BYTES and `workers`
//  (NULL: the default) as STATION_WORKERS.
static void
s_restart (const char *bytes, const char *workers)
{
    harness_stop (fx_harness (), "registry", SIGTERM);
    if (bytes)
        setenv ("STATION_POOL_MAX_BYTES", bytes, 1);
    else
        unsetenv ("STATION_POOL_MAX_BYTES");
    if (workers)
        setenv ("STATION_WORKERS", workers, 1);
    else
        unsetenv ("STATION_WORKERS");
    harness_start (fx_harness (), "registry");
}

//  Slow requests waiting for a worker hold a bounded number of bytes (3 MB here, one worker):
//  the import's row locked elsewhere holds the worker on the first chunk, so twenty chunks of
//  1 MB sent at once find the queue full after the first few and the rest are refused at once
//  (resource_exhausted); once the lock goes, every request is answered, and afterwards
//  registry answers chunks and reads as before. (Two sign-ins held the worker before: on a
//  slow machine they could end before the chunks arrived, and the chunks then ran one by one.)
static void
test_queued_bytes_bounded (void **state)
{
    s_restart ("3145728", "1");
    char id[32];
    s_begin (&TOWN_A, id);

    harness_t *h = fx_harness ();
    st_error_t err;
    zcert_t *own = st_keys_secret (harness_keys (h), "operator", &err);
    zcert_t *server = st_keys_public (harness_keys (h), "registry", &err);
    assert_non_null (own);
    assert_non_null (server);
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    st_keys_client (dealer, own, zcert_public_txt (server));
    zsock_set_linger (dealer, 0);
    assert_int_equal (zsock_connect (dealer, "%s", harness_endpoint (h, "registry", "rpc")), 0);
    PGconn *holder = harness_pg (h); //  (nothing else uses it until COMMIT)
    char sql[160];
    snprintf (sql, sizeof sql, "BEGIN; SELECT 1 FROM registry.imports WHERE id = %s FOR UPDATE",
              id);
    PGresult *res = PQexec (holder, sql);
    assert_int_equal (PQresultStatus (res), PGRES_TUPLES_OK);
    PQclear (res);

    enum { CHUNKS = 20, CHUNK = 1048576 };
    char *data = malloc (CHUNK);
    memset (data, 'x', CHUNK);
    uint8_t ids[CHUNKS][16];
    for (int i = 0; i < CHUNKS; i++) {
        msg_import_chunk_t chunk = {
            .import_id = id, .seq = i + 1, .has_seq = true, .csv = {(uint8_t *) data, CHUNK}};
        zframe_t *frame =
            fx_request_frame ("import.chunk", &TOWN_A, &msg_import_chunk_desc, &chunk, ids[i]);
        assert_int_equal (zframe_send (&frame, dealer, 0), 0);
    }
    free (data);
    //  While the lock holds, only refusals can come: read them until none came for 2 s; then
    //  the lock goes and the chunks queued run.
    int refused = 0, chunks_run = 0, answered = 0;
    int64_t deadline = st_clock_ms () + FX_CALL_MS;
    bool held = true;
    zsock_set_rcvtimeo (dealer, 2000);
    while (answered < CHUNKS) {
        zframe_t *reply = zframe_recv (dealer);
        if (!reply) {
            if (held) {
                res = PQexec (holder, "COMMIT");
                PQclear (res);
                held = false;
                zsock_set_rcvtimeo (dealer, FX_CALL_MS);
                continue;
            }
            fail_msg ("reply %d of %d did not come", answered + 1, CHUNKS);
        }
        if (held && st_clock_ms () > deadline)
            fail_msg ("replies kept coming while the import was locked");
        answered++;
        msg_reply_t envelope;
        assert_int_equal (
            st_decode (&msg_reply_desc, zframe_data (reply), zframe_size (reply), &envelope, &err),
            0);
        bool exhausted =
            !envelope.ok && envelope.error.code
            && strcmp (envelope.error.code, st_status_name (ST_RESOURCE_EXHAUSTED)) == 0;
        if (exhausted) {
            if (!held)
                fail_msg ("a chunk was refused after the lock went: it had been queued");
            refused++;
        } else {
            if (held)
                fail_msg ("a chunk ran while its import was locked: %s",
                          envelope.ok ? "ok" : envelope.error.message);
            chunks_run++;
        }
        st_msg_clear (&msg_reply_desc, &envelope);
        zframe_destroy (&reply);
    }
    if (held)
        PQclear (PQexec (holder, "COMMIT"));
    zsock_destroy (&dealer);
    zcert_destroy (&own);
    zcert_destroy (&server);
    if (refused < CHUNKS / 2 || chunks_run < 1)
        fail_msg ("%d of %d chunks of 1 MB sent at once refused, %d run: the queue's bytes are"
                  " not bounded to 3 MB",
                  refused, CHUNKS, chunks_run);
    //  Under the bound, everything answers: a read, and a chunk at a time.
    json_decref (fx_call_ok ("registry", NULL, "sys.ping", "{}"));
    char other[32];
    s_begin (&TOWN_A, other);
    for (int seq = 1; seq <= 4; seq++)
        if (s_chunk (&TOWN_A, other, seq, "name,id_number\n", 15, &err) != ST_OK)
            fail_msg ("chunk %d under the bound: %s", seq, err.message);
    s_restart (NULL, NULL);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_hostile_errors_bounded),
        cmocka_unit_test (test_region_errors_bounded),
        cmocka_unit_test (test_chunked_import),
        cmocka_unit_test (test_cli_imports_a_large_file),
        cmocka_unit_test (test_finish_resumes),
        cmocka_unit_test (test_abandoned_import_expires),
        cmocka_unit_test (test_import_space_per_account),
        cmocka_unit_test (test_queued_bytes_bounded),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
