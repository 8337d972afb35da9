/*  events_test.c — the event log end to end (architecture.md, "The wire: events"): the relay
    numbers committed outbox rows contiguously in commit order, across out-of-order commits and
    crashes; a consumer applies every event exactly once across crashes, without hints, and
    parks what it cannot apply; match keeps its supply replica across a crash.

    The consumers under test run in child processes: the test binary runs itself again with
    "--consumer" (fork, then exec at once), so that the child's ZeroMQ context and sockets are
    created in the child only, never copied from the parent's.  */
#include "harness.h"
#include "st_events.h"
#include "st_keys.h"
#include "st_log.h"
#include "st_migrate.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

extern const st_migration_t events_test_migrations[];
extern const size_t events_test_migrations_count;

#define WAIT_MS 15000 //  how long any wait lasts before the test fails
#define POLL_MS 50    //  how often a wait looks again
#define REGION  "431022100201"
#define REFUSED "Parked Person"

//  ---------------------------------------------------------------------------------------
//  The consumer child: runs when the binary is started with "--consumer"

//  The volunteer name the child's apply function refuses (NULL: refuses none).
static const char *s_refused;

//  Registers the apply function's statement: a little slow on purpose (2 ms), so that a batch
//  stays open long enough for a kill to land inside it.
static void
s_applied_prepare (st_db_t *db)
{
    st_db_statement (db, "applied_insert",
                     "INSERT INTO applied (seq, topic, name)"
                     " SELECT $1::bigint, $2::text, $3::text FROM pg_sleep (0.002)");
}

//  Records a volunteer.registered event in notify.applied, inside the consumer's transaction;
//  refuses the volunteer named s_refused as a bug would, so that the event is parked.
static st_status_t
s_apply_registered (st_db_t *db, const char *topic, const void *body_, int64_t seq, st_error_t *err)
{
    const msg_volunteer_registered_t *body = body_;
    if (s_refused && strcmp (body->name, s_refused) == 0)
        return st_error_set (err, ST_FAILED_PRECONDITION, "name",
                             "volunteer \"%s\" is refused by this consumer", body->name);
    st_params_t params = {0};
    st_params_int (&params, seq);
    st_params_text (&params, topic);
    st_params_text (&params, body->name);
    st_status_t rc = st_db_exec (db, "applied_insert", &params, NULL, err);
    st_params_clear (&params);
    return rc;
}

static const st_subscription_t s_subscriptions[] = {
    {"volunteer.registered", s_apply_registered},
};

//  The child's main: argv is --consumer CONNINFO RPC PUB KEYDIR POLL_MS REFUSED LOG. Runs a
//  consumer of registry's log as "notify" until it is killed. Returns the exit status.
static int
s_consumer_main (int argc, char **argv)
{
    if (argc != 9) {
        fprintf (stderr, "usage: events_test --consumer conninfo rpc pub keydir poll_ms "
                         "refused log\n");
        return 2;
    }
    int fd = open (argv[8], O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
        dup2 (fd, 2);
        close (fd);
    }
    const char *level = getenv ("STATION_TEST_LOG_LEVEL");
    st_log_init ("notify", level ? level : "info");
    s_refused = *argv[7] ? argv[7] : NULL;
    st_error_t err;
    zcert_t *cert = st_keys_secret (argv[5], "notify", &err);
    if (!cert) {
        st_error ("consumer child: %s", err.message);
        return 1;
    }
    st_consumer_config_t config = {
        .service = "notify",
        .conninfo = argv[2],
        .publisher = "registry",
        .rpc_endpoint = argv[3],
        .pub_endpoint = argv[4],
        .keydir = argv[5],
        .cert = cert,
        .subscriptions = s_subscriptions,
        .subscription_count = sizeof s_subscriptions / sizeof s_subscriptions[0],
        .prepare = s_applied_prepare,
        .poll_ms = atoi (argv[6]),
        .batch = 50,
    };
    zactor_t *consumer = st_consumer_new (&config);
    char *word = zstr_recv (consumer);
    int status = word && strcmp (word, "READY") == 0 ? 0 : 1;
    if (status)
        st_error ("consumer child could not start: %s", word ? word : "interrupted");
    else
        st_info ("consumer child %d ready", (int) getpid ());
    zstr_free (&word);
    while (status == 0 && !zsys_interrupted)
        zclock_sleep (100);
    zactor_destroy (&consumer);
    zcert_destroy (&cert);
    return status;
}

//  ---------------------------------------------------------------------------------------
//  The writer thread of the relay test: plain libpq, no cmocka (it is not thread-safe)

typedef struct {
    char conninfo[700];
    int rows;            //  how many rows to write in all
    int per_transaction; //  rows per transaction
    atomic_int allowed;  //  the writer waits once it has written this many
    atomic_int written;  //  rows committed so far
    atomic_bool stop;    //  set by the teardown of a failed test
    char error[512];     //  why the writer stopped early, "" when it did not
} s_writer_t;

//  ---------------------------------------------------------------------------------------
//  Fixture: what a test started, so that the teardown can stop it even when the test failed

typedef struct {
    harness_t *h;
    st_client_t *registry;  //  the operator's client of registry
    st_client_t *match;     //  the operator's client of match
    pid_t consumer;         //  the consumer child, 0 when none runs
    char consumer_pub[400]; //  where the child listens for hints
    int consumer_poll_ms;
    const char *consumer_refuses;
    PGconn *pg[2]; //  the out-of-order test's two transactions
    s_writer_t *writer;
    pthread_t writer_thread;
} s_fixture_t;

//  Gives each test an empty fixture.
static int
s_setup (void **state)
{
    *state = calloc (1, sizeof (s_fixture_t));
    return *state ? 0 : -1;
}

//  Kills the consumer child (it must still be running: a child that exited by itself could
//  not start) and reaps it.
static void
s_consumer_kill (s_fixture_t *self)
{
    int status = 0;
    assert_true (self->consumer > 0);
    pid_t pid = self->consumer;
    kill (pid, SIGKILL);
    assert_int_equal (waitpid (pid, &status, 0), pid);
    self->consumer = 0;
    if (!WIFSIGNALED (status) || WTERMSIG (status) != SIGKILL)
        fail_msg ("the consumer child had exited (status %d) before it was killed: see "
                  "%s/consumer.log",
                  status, harness_dir (self->h));
}

//  Stops whatever the test started, whether it passed or failed, and drops its database.
static int
s_teardown (void **state)
{
    s_fixture_t *self = *state;
    PQfinish (self->pg[0]);
    PQfinish (self->pg[1]);
    if (self->consumer > 0) {
        int status;
        kill (self->consumer, SIGKILL);
        waitpid (self->consumer, &status, 0);
    }
    if (self->writer) {
        atomic_store (&self->writer->stop, true);
        pthread_join (self->writer_thread, NULL);
        free (self->writer);
    }
    st_client_destroy (&self->registry);
    st_client_destroy (&self->match);
    harness_destroy (&self->h);
    free (self);
    return 0;
}

//  ---------------------------------------------------------------------------------------
//  Helpers

//  Writes into id a valid GB 11643 ID number for volunteer n (0 <= n < 20000): region
//  431022, born on 1 January of a year from 1980, a sequence, and the check character.
static void
s_id_number (int n, char id[32])
{
    static const int weights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    assert_true (n >= 0 && n < 20000);
    snprintf (id, 32, "431022%04d0101%03d", 1980 + n / 1000, n % 1000);
    int sum = 0;
    for (int i = 0; i < 17; i++)
        sum += (id[i] - '0') * weights[i];
    id[17] = "10X98765432"[sum % 11];
    id[18] = 0;
}

//  Registers volunteer n under `name` through registry's rpc; fails the test unless it is
//  accepted.
static void
s_register (st_client_t *registry, int n, const char *name)
{
    char id_number[32], phone[16];
    s_id_number (n, id_number);
    snprintf (phone, sizeof phone, "138%08d", n);
    msg_volunteer_register_t request = {
        .name = (char *) name, .id_number = id_number, .phone = phone, .region = REGION};
    msg_volunteer_t reply;
    st_error_t err;
    st_status_t rc =
        st_client_call (registry, "volunteer.register", NULL, NULL, &msg_volunteer_register_desc,
                        &request, &msg_volunteer_desc, &reply, 10000, &err);
    if (rc != ST_OK)
        fail_msg ("volunteer.register of #%d \"%s\" failed: %s: %s", n, name, st_status_name (rc),
                  err.message);
    st_msg_clear (&msg_volunteer_desc, &reply);
}

//  Registers volunteers first..last as "volunteer-N".
static void
s_register_range (st_client_t *registry, int first, int last)
{
    for (int n = first; n <= last; n++) {
        char name[32];
        snprintf (name, sizeof name, "volunteer-%d", n);
        s_register (registry, n, name);
    }
}

//  Encodes a volunteer.registered body for volunteer n named `name`; the caller frees *body.
//  Returns 0, or -1 when it does not encode or validate.
static int
s_registered_body (const char *name, int n, uint8_t **body, size_t *size)
{
    char id[24];
    snprintf (id, sizeof id, "%d", n);
    char *skills[] = {"first-aid"};
    msg_volunteer_registered_t event = {.id = id,
                                        .name = (char *) name,
                                        .region = REGION,
                                        .skills = {skills, 1},
                                        .has_skills = true,
                                        .status = "active"};
    st_error_t err;
    if (st_validate (&msg_volunteer_registered_desc, &event, &err))
        return -1;
    return st_encode (&msg_volunteer_registered_desc, &event, body, size);
}

//  Inserts one row into registry.outbox on `conn` (inside whatever transaction it has
//  open). Returns the row's id, or -1 with error filled.
static long long
s_outbox_insert (PGconn *conn, const char *topic, const char *name, int n, char *error,
                 size_t error_size)
{
    uint8_t *body;
    size_t size;
    if (s_registered_body (name, n, &body, &size)) {
        snprintf (error, error_size, "could not encode the body of \"%s\"", name);
        return -1;
    }
    const char *values[2] = {topic, (const char *) body};
    int lengths[2] = {0, (int) size};
    int formats[2] = {0, 1};
    PGresult *res = PQexecParams (conn,
                                  "INSERT INTO registry.outbox (topic, body) VALUES ($1, $2)"
                                  " RETURNING id",
                                  2, NULL, values, lengths, formats, 0);
    free (body);
    long long id = -1;
    if (PQresultStatus (res) == PGRES_TUPLES_OK && PQntuples (res) == 1)
        id = atoll (PQgetvalue (res, 0, 0));
    else
        snprintf (error, error_size, "could not insert into registry.outbox: %s",
                  PQerrorMessage (conn));
    PQclear (res);
    return id;
}

//  Runs a command on `conn`; returns 0, or -1 with error filled.
static int
s_pg_run (PGconn *conn, const char *sql, char *error, size_t error_size)
{
    PGresult *res = PQexec (conn, sql);
    int rc = PQresultStatus (res) == PGRES_COMMAND_OK ? 0 : -1;
    if (rc)
        snprintf (error, error_size, "%s: %s", sql, PQerrorMessage (conn));
    PQclear (res);
    return rc;
}

//  A superuser connection of our own (not the harness's), for transactions held open.
static PGconn *
s_super_connect (harness_t *h, char *conninfo, size_t size)
{
    const char *user = getenv ("STATION_TEST_PGUSER");
    if (!user || !*user)
        fail_msg ("STATION_TEST_PGUSER is not set: run the tests with scripts/test");
    snprintf (conninfo, size, "%s user=%s", harness_conninfo (h), user);
    PGconn *conn = PQconnectdb (conninfo);
    if (PQstatus (conn) != CONNECTION_OK)
        fail_msg ("could not connect as the superuser: %s", PQerrorMessage (conn));
    return conn;
}

//  Reads a page of registry's log after `after`. Returns ST_OK or the call's status.
static st_status_t
s_events_read (st_client_t *registry, int64_t after, int64_t max, msg_events_t *page,
               st_error_t *err)
{
    msg_events_read_t request = {.after = after, .has_after = true, .max = max, .has_max = true};
    return st_client_call (registry, "events.read", NULL, NULL, &msg_events_read_desc, &request,
                           &msg_events_desc, page, 5000, err);
}

//  Polls events.read (after 0) until its last_seq is at least `seq`; fails the test with what
//  it last saw after WAIT_MS.
static void
s_wait_last_seq (st_client_t *registry, int64_t seq)
{
    int64_t until = st_clock_ms () + WAIT_MS, seen = -1;
    char why[300] = "";
    while (st_clock_ms () < until) {
        msg_events_t page;
        st_error_t err;
        st_status_t rc = s_events_read (registry, 0, 1, &page, &err);
        if (rc == ST_OK) {
            seen = page.last_seq;
            st_msg_clear (&msg_events_desc, &page);
            if (seen >= seq)
                return;
        } else
            snprintf (why, sizeof why, " (last call: %s: %s)", st_status_name (rc), err.message);
        zclock_sleep (POLL_MS);
    }
    fail_msg ("expected registry's events.read to reach last_seq %lld within %d ms, saw %lld%s",
              (long long) seq, WAIT_MS, (long long) seen, why);
}

//  Fails the test when the consumer child has exited by itself.
static void
s_consumer_check (s_fixture_t *self)
{
    int status;
    if (self->consumer > 0 && waitpid (self->consumer, &status, WNOHANG) == self->consumer) {
        self->consumer = 0;
        fail_msg ("the consumer child exited by itself (status %d): see %s/consumer.log", status,
                  harness_dir (self->h));
    }
}

//  Polls `sql` (as the superuser) until its first value is `expected`, for at most
//  timeout_ms; fails the test with what it expected and last saw. Returns the time taken.
static int64_t
s_wait_sql (s_fixture_t *self, const char *sql, const char *expected, int timeout_ms,
            const char *what)
{
    int64_t start = st_clock_ms ();
    char seen[512];
    while (true) {
        snprintf (seen, sizeof seen, "%s", harness_sql (self->h, sql));
        if (strcmp (seen, expected) == 0)
            return st_clock_ms () - start;
        if (st_clock_ms () - start >= timeout_ms)
            break;
        s_consumer_check (self);
        zclock_sleep (POLL_MS);
    }
    fail_msg ("%s: expected \"%s\" within %d ms, saw \"%s\" (%s)", what, expected, timeout_ms, seen,
              sql);
    return -1;
}

//  Runs `sql` as the superuser and returns its first value as a number.
static long long
s_sql_int (s_fixture_t *self, const char *sql)
{
    return atoll (harness_sql (self->h, sql));
}

//  Creates the runtime tables (outbox, cursors, dead letters) in schema notify, as role
//  notify, and the table the test's apply function fills: no unique key, so that an event
//  applied twice shows as two rows.
static void
s_notify_schema (harness_t *h)
{
    st_db_t *db = st_db_new (harness_conninfo (h), "notify", "notify");
    st_error_t err;
    if (st_migrate (db, "notify", events_test_migrations, events_test_migrations_count, &err)
        != ST_OK)
        fail_msg ("could not migrate schema \"notify\": %s", err.message);
    if (st_db_run (db, "CREATE TABLE applied (seq bigint, topic text, name text)", &err) != ST_OK)
        fail_msg ("could not create notify.applied: %s", err.message);
    st_db_destroy (&db);
}

//  Starts the consumer child with the fixture's settings: fork, then exec of this binary,
//  so that every ZeroMQ socket of the consumer is created in the child.
static void
s_consumer_start (s_fixture_t *self)
{
    assert_int_equal (self->consumer, 0);
    char poll[16], log[400];
    snprintf (poll, sizeof poll, "%d", self->consumer_poll_ms);
    snprintf (log, sizeof log, "%s/consumer.log", harness_dir (self->h));
    const char *conninfo = harness_conninfo (self->h);
    const char *rpc = harness_endpoint (self->h, "registry", "rpc");
    const char *keys = harness_keys (self->h);
    const char *refused = self->consumer_refuses ? self->consumer_refuses : "";
    pid_t pid = fork ();
    assert_true (pid >= 0);
    if (pid == 0) {
        execl ("/proc/self/exe", "events_test", "--consumer", conninfo, rpc, self->consumer_pub,
               keys, poll, refused, log, (char *) NULL);
        _exit (127);
    }
    self->consumer = pid;
}

//  Polls match's supply.stats until it shows `volunteers` volunteers and registry_seq `seq`;
//  fails the test with what it last saw after WAIT_MS.
static void
s_wait_supply (st_client_t *match, int64_t volunteers, int64_t seq)
{
    int64_t until = st_clock_ms () + WAIT_MS;
    char seen[300] = "no reply yet";
    while (st_clock_ms () < until) {
        msg_supply_stats_t request = {0};
        msg_supply_t reply;
        st_error_t err;
        st_status_t rc = st_client_call (match, "supply.stats", NULL, NULL, &msg_supply_stats_desc,
                                         &request, &msg_supply_desc, &reply, 2000, &err);
        if (rc == ST_OK) {
            snprintf (seen, sizeof seen, "volunteers %lld, registry_seq %lld",
                      (long long) reply.volunteers, (long long) reply.registry_seq);
            bool done = reply.volunteers == volunteers && reply.registry_seq == seq;
            st_msg_clear (&msg_supply_desc, &reply);
            if (done)
                return;
        } else
            snprintf (seen, sizeof seen, "%s: %s", st_status_name (rc), err.message);
        zclock_sleep (POLL_MS);
    }
    fail_msg ("expected match's supply.stats to show volunteers %lld, registry_seq %lld within "
              "%d ms; saw %s",
              (long long) volunteers, (long long) seq, WAIT_MS, seen);
}

//  Decodes an event's body as volunteer.registered and copies its name into `name`.
static void
s_event_name (const msg_event_t *event, char *name, size_t size)
{
    msg_volunteer_registered_t body;
    st_error_t err;
    if (st_decode (&msg_volunteer_registered_desc, event->body.data, event->body.size, &body, &err))
        fail_msg ("event #%lld (%s) does not decode: %s", (long long) event->seq, event->topic,
                  err.message);
    snprintf (name, size, "%s", body.name);
    st_msg_clear (&msg_volunteer_registered_desc, &body);
}

//  ---------------------------------------------------------------------------------------
//  1. Out-of-order commits

//  Protects the log's order: a row that commits later gets a later seq even when its id is
//  lower, and a row still uncommitted is neither skipped nor numbered early.
static void
test_out_of_order_commit (void **state)
{
    s_fixture_t *self = *state;
    self->h = harness_new ("events_order");
    harness_start (self->h, "registry");
    self->registry = harness_client (self->h, "registry", "operator");

    char conninfo[700], error[600] = "";
    PGconn *t1 = self->pg[0] = s_super_connect (self->h, conninfo, sizeof conninfo);
    PGconn *t2 = self->pg[1] = s_super_connect (self->h, conninfo, sizeof conninfo);
    if (s_pg_run (t1, "BEGIN", error, sizeof error))
        fail_msg ("%s", error);
    long long id1 = s_outbox_insert (t1, "test.first-begun", "First Begun", 1, error, sizeof error);
    if (id1 < 0)
        fail_msg ("%s", error);
    if (s_pg_run (t2, "BEGIN", error, sizeof error))
        fail_msg ("%s", error);
    long long id2 =
        s_outbox_insert (t2, "test.second-begun", "Second Begun", 2, error, sizeof error);
    if (id2 < 0)
        fail_msg ("%s", error);
    assert_true (id1 < id2);
    if (s_pg_run (t2, "COMMIT", error, sizeof error))
        fail_msg ("%s", error);

    //  T2 is in the log as #1; T1, still open, is not.
    s_wait_last_seq (self->registry, 1);
    zclock_sleep (1200); //  more than the relay's own 500 ms timer: it has looked again
    msg_events_t page;
    st_error_t err;
    assert_int_equal (s_events_read (self->registry, 0, 100, &page, &err), ST_OK);
    assert_int_equal (page.last_seq, 1);
    assert_int_equal (page.events.count, 1);
    assert_int_equal (page.events.items[0].seq, 1);
    assert_string_equal (page.events.items[0].topic, "test.second-begun");
    st_msg_clear (&msg_events_desc, &page);

    if (s_pg_run (t1, "COMMIT", error, sizeof error))
        fail_msg ("%s", error);
    s_wait_last_seq (self->registry, 2);
    assert_int_equal (s_events_read (self->registry, 0, 100, &page, &err), ST_OK);
    assert_int_equal (page.last_seq, 2);
    assert_int_equal (page.events.count, 2);
    char name[64];
    assert_int_equal (page.events.items[0].seq, 1);
    assert_string_equal (page.events.items[0].topic, "test.second-begun");
    s_event_name (&page.events.items[0], name, sizeof name);
    assert_string_equal (name, "Second Begun");
    assert_true (page.events.items[0].at > 0);
    assert_int_equal (page.events.items[1].seq, 2);
    assert_string_equal (page.events.items[1].topic, "test.first-begun");
    s_event_name (&page.events.items[1], name, sizeof name);
    assert_string_equal (name, "First Begun");
    st_msg_clear (&msg_events_desc, &page);

    assert_string_equal (harness_sql (self->h, "SELECT last_seq FROM registry.outbox_state"), "2");
    char expected[64];
    snprintf (expected, sizeof expected, "%lld:2,%lld:1", id1, id2);
    assert_string_equal (harness_sql (self->h, "SELECT string_agg (id || ':' || seq, ','"
                                               " ORDER BY id) FROM registry.outbox"),
                         expected);
}

//  ---------------------------------------------------------------------------------------
//  2. The relay killed while rows flow in

#define WRITER_ROWS 2000

//  Writes writer->rows outbox rows, per_transaction to a transaction, pausing whenever it has
//  written as many as it is allowed to.
static void *
s_writer_run (void *args)
{
    s_writer_t *self = args;
    PGconn *conn = PQconnectdb (self->conninfo);
    if (PQstatus (conn) != CONNECTION_OK) {
        snprintf (self->error, sizeof self->error, "could not connect: %s", PQerrorMessage (conn));
        goto done;
    }
    int n = 0;
    while (n < self->rows && !atomic_load (&self->stop)) {
        if (n >= atomic_load (&self->allowed)) {
            zclock_sleep (1);
            continue;
        }
        if (s_pg_run (conn, "BEGIN", self->error, sizeof self->error))
            goto done;
        for (int i = 0; i < self->per_transaction && n < self->rows; i++) {
            n++;
            char name[32];
            snprintf (name, sizeof name, "writer-%d", n);
            if (s_outbox_insert (conn, "volunteer.registered", name, n, self->error,
                                 sizeof self->error)
                < 0)
                goto done;
        }
        if (s_pg_run (conn, "COMMIT", self->error, sizeof self->error))
            goto done;
        atomic_store (&self->written, n);
        zclock_sleep (1);
    }
done:
    PQfinish (conn);
    return NULL;
}

//  Waits until the writer has committed at least `rows` rows; fails the test if it stopped.
static void
s_wait_written (s_writer_t *writer, int rows)
{
    int64_t until = st_clock_ms () + WAIT_MS;
    while (atomic_load (&writer->written) < rows && st_clock_ms () < until && !*writer->error)
        zclock_sleep (5);
    if (atomic_load (&writer->written) < rows)
        fail_msg ("expected the writer to commit %d rows within %d ms, it committed %d%s%s", rows,
                  WAIT_MS, atomic_load (&writer->written), *writer->error ? ": " : "",
                  writer->error);
}

//  Kills registry (and with it the relay) with SIGKILL, lets the writer go on to `allow` rows,
//  waits until it has written 20 while nothing sequences, and starts registry again with that
//  backlog waiting. The writer may have reached its old allowance before the kill (a slow
//  relay start under a sanitizer), so the new allowance is given only after the kill and is
//  always more than 20 rows ahead of it.
static void
s_registry_crash (s_fixture_t *self, s_writer_t *writer, int allow)
{
    int status = harness_stop (self->h, "registry", SIGKILL);
    assert_true (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
    int written = atomic_load (&writer->written);
    assert_true (allow >= written + 20);
    atomic_store (&writer->allowed, allow);
    s_wait_written (writer, written + 20);
    if (s_sql_int (self, "SELECT count (*) FROM registry.outbox WHERE seq IS NULL") == 0)
        fail_msg ("rows written while the relay was down are numbered already");
    harness_start (self->h, "registry");
}

//  Protects the log across relay crashes: rows written while the relay dies and restarts
//  are each numbered exactly once, 1..N with no gap.
static void
test_relay_killed (void **state)
{
    s_fixture_t *self = *state;
    self->h = harness_new ("events_relay");
    harness_start (self->h, "registry");
    self->registry = harness_client (self->h, "registry", "operator");

    s_writer_t *writer = calloc (1, sizeof *writer);
    assert_non_null (writer);
    PQfinish (s_super_connect (self->h, writer->conninfo, sizeof writer->conninfo));
    writer->rows = WRITER_ROWS;
    writer->per_transaction = 5;
    atomic_store (&writer->allowed, 700);
    self->writer = writer;
    assert_int_equal (pthread_create (&self->writer_thread, NULL, s_writer_run, writer), 0);

    //  First crash: the relay has numbered some rows, the writer is between 500 and 700.
    s_wait_written (writer, 500);
    s_wait_last_seq (self->registry, 1);
    s_registry_crash (self, writer, 1500);
    //  Second crash: the writer is between 1200 and 1500.
    s_wait_written (writer, 1200);
    s_registry_crash (self, writer, WRITER_ROWS);

    pthread_join (self->writer_thread, NULL);
    self->writer = NULL;
    char error[sizeof writer->error];
    snprintf (error, sizeof error, "%s", writer->error);
    int written = atomic_load (&writer->written);
    free (writer);
    if (*error)
        fail_msg ("the writer failed: %s", error);
    assert_int_equal (written, WRITER_ROWS);

    s_wait_last_seq (self->registry, WRITER_ROWS);
    //  Page through the whole log: 1..N in order, every row once.
    static bool seen[WRITER_ROWS + 1];
    memset (seen, 0, sizeof seen);
    int64_t after = 0;
    while (after < WRITER_ROWS) {
        msg_events_t page;
        st_error_t err;
        if (s_events_read (self->registry, after, 300, &page, &err) != ST_OK)
            fail_msg ("events.read after %lld: %s", (long long) after, err.message);
        assert_int_equal (page.last_seq, WRITER_ROWS);
        if (page.events.count == 0)
            fail_msg ("events.read after %lld returned no event, last_seq %lld", (long long) after,
                      (long long) page.last_seq);
        for (size_t i = 0; i < page.events.count; i++) {
            const msg_event_t *event = &page.events.items[i];
            if (event->seq != after + 1)
                fail_msg ("expected event #%lld, got #%lld", (long long) after + 1,
                          (long long) event->seq);
            char name[64];
            s_event_name (event, name, sizeof name);
            int n = atoi (name + strlen ("writer-"));
            assert_true (n >= 1 && n <= WRITER_ROWS);
            if (seen[n])
                fail_msg ("row \"%s\" appears twice in the log (again as #%lld)", name,
                          (long long) event->seq);
            seen[n] = true;
            //  One writer commits its rows in order: the log is in that order.
            if (n != event->seq)
                fail_msg ("event #%lld carries \"%s\": not in commit order", (long long) event->seq,
                          name);
            after = event->seq;
        }
        st_msg_clear (&msg_events_desc, &page);
    }
    assert_int_equal (after, WRITER_ROWS);
    for (int n = 1; n <= WRITER_ROWS; n++)
        if (!seen[n])
            fail_msg ("row \"writer-%d\" is missing from the log", n);
    assert_string_equal (harness_sql (self->h,
                                      "SELECT count (*) || ' ' || count (DISTINCT seq) || ' '"
                                      " || count (*) FILTER (WHERE seq IS NULL) || ' '"
                                      " || min (seq) || ' ' || max (seq) FROM registry.outbox"),
                         "2000 2000 0 1 2000");
    assert_string_equal (harness_sql (self->h, "SELECT last_seq FROM registry.outbox_state"),
                         "2000");
}

//  ---------------------------------------------------------------------------------------
//  3. The consumer killed between events

#define FLOW_VOLUNTEERS 300

//  Waits until the consumer child commits a batch (notify.applied grows), registering the next
//  volunteer whenever it has caught up, then kills it delay_ms later: at 0 the kill lands
//  between two batches, where a cursor kept apart from the applies would be lost; later, most
//  likely inside one. Returns the number of the next volunteer to register.
static int
s_kill_consumer_in_flow (s_fixture_t *self, int next, int delay_ms)
{
    const char *count = "SELECT count (*) FROM notify.applied";
    long long before = s_sql_int (self, count), applied;
    int64_t until = st_clock_ms () + WAIT_MS;
    while ((applied = s_sql_int (self, count)) == before) {
        if (st_clock_ms () >= until)
            fail_msg ("the consumer child applied nothing within %d ms (%lld rows, %d "
                      "registered)",
                      WAIT_MS, applied, next - 1);
        s_consumer_check (self);
        if (applied == next - 1 && next <= FLOW_VOLUNTEERS) {
            char name[32];
            snprintf (name, sizeof name, "volunteer-%d", next);
            s_register (self->registry, next, name);
            next++;
        }
    }
    if (delay_ms)
        zclock_sleep (delay_ms);
    s_consumer_kill (self);
    return next;
}

//  Protects exactly-once application: a consumer killed (SIGKILL) again and again while
//  events flow, between batches and inside them, applies each event once, neither losing
//  nor repeating one.
static void
test_consumer_killed (void **state)
{
    s_fixture_t *self = *state;
    self->h = harness_new ("events_consumer");
    harness_start (self->h, "registry");
    self->registry = harness_client (self->h, "registry", "operator");
    s_notify_schema (self->h);
    snprintf (self->consumer_pub, sizeof self->consumer_pub, "%s",
              harness_endpoint (self->h, "registry", "events"));
    self->consumer_poll_ms = 100;
    s_consumer_start (self);

    int next = 1, kills = 0, kill_at = 50;
    while (next <= FLOW_VOLUNTEERS) {
        char name[32];
        snprintf (name, sizeof name, "volunteer-%d", next);
        s_register (self->registry, next, name);
        next++;
        if (next - 1 >= kill_at && kill_at < FLOW_VOLUNTEERS) {
            next = s_kill_consumer_in_flow (self, next, kills % 2 ? 20 : 0);
            kills++;
            kill_at += 50;
            s_consumer_start (self);
        }
    }
    assert_int_equal (kills, 5);

    s_wait_sql (self, "SELECT last_seq FROM registry.outbox_state", "300", WAIT_MS,
                "registry's relay numbers every registration");
    s_wait_sql (self, "SELECT seq FROM notify.consumer_cursors WHERE publisher = 'registry'", "300",
                WAIT_MS, "the consumer's cursor reaches registry's last_seq");
    assert_string_equal (harness_sql (self->h,
                                      "SELECT count (*) || ' ' || count (DISTINCT seq) || ' '"
                                      " || count (DISTINCT name) || ' ' || min (seq) || ' '"
                                      " || max (seq) FROM notify.applied"),
                         "300 300 300 1 300");
    //  One client registered them one after the other: seq k is volunteer k.
    assert_string_equal (harness_sql (self->h, "SELECT count (*) FROM notify.applied"
                                               " WHERE name <> 'volunteer-' || seq"),
                         "0");
    assert_string_equal (harness_sql (self->h, "SELECT count (*) FROM notify.applied"
                                               " a JOIN registry.outbox o ON o.seq = a.seq"
                                               " WHERE o.topic = a.topic"),
                         "300");
    assert_string_equal (harness_sql (self->h, "SELECT count (*) FROM notify.dead_letters"), "0");
    s_consumer_kill (self);
}

//  ---------------------------------------------------------------------------------------
//  4. Lost hints

//  Protects delivery without hints: with nothing publishing where the consumer listens, its
//  timer alone brings every event within 3 s, round after round.
static void
test_lost_hints (void **state)
{
    s_fixture_t *self = *state;
    self->h = harness_new ("events_hints");
    harness_start (self->h, "registry");
    self->registry = harness_client (self->h, "registry", "operator");
    s_notify_schema (self->h);
    snprintf (self->consumer_pub, sizeof self->consumer_pub, "ipc://%s/nowhere",
              harness_dir (self->h));
    self->consumer_poll_ms = 200;
    s_consumer_start (self);
    //  The child has pulled once (its cursor row exists) before anything is registered.
    s_wait_sql (self, "SELECT count (*) FROM notify.consumer_cursors", "1", WAIT_MS,
                "the consumer child starts and pulls");

    for (int round = 0; round < 3; round++) {
        s_register_range (self->registry, round * 5 + 1, round * 5 + 5);
        char expected[16];
        snprintf (expected, sizeof expected, "%d", round * 5 + 5);
        int64_t took = s_wait_sql (self, "SELECT count (*) FROM notify.applied", expected, 3000,
                                   "registrations reach the consumer without hints");
        print_message ("round %d: applied within %lld ms\n", round, (long long) took);
        zclock_sleep (700); //  idle: the next round needs the timer again
    }
    assert_string_equal (harness_sql (self->h, "SELECT count (*) || ' ' || count (DISTINCT seq)"
                                               " || ' ' || max (seq) FROM notify.applied"),
                         "15 15 15");
    s_consumer_kill (self);
}

//  Waits until the file at `path` holds `text`; fails the test with `what` after WAIT_MS.
static void
s_wait_log (const char *path, const char *text, const char *what)
{
    int64_t until = st_clock_ms () + WAIT_MS;
    while (st_clock_ms () < until) {
        char *content = NULL;
        size_t size = 0;
        FILE *file = fopen (path, "r");
        if (file) {
            content = st_calloc (1, 1 << 20);
            size = fread (content, 1, (1 << 20) - 1, file);
            fclose (file);
        }
        bool found = content && size && strstr (content, text);
        free (content);
        if (found)
            return;
        zclock_sleep (100);
    }
    fail_msg ("%s: \"%s\" not in %s within %d ms", what, text, path, WAIT_MS);
}

//  Protects the operator's view: a consumer whose publisher stops answering says so, naming
//  it, and says again when it answers; what waited then arrives.
static void
test_publisher_unreachable (void **state)
{
    s_fixture_t *self = *state;
    self->h = harness_new ("events_unreachable");
    harness_start (self->h, "registry");
    self->registry = harness_client (self->h, "registry", "operator");
    s_notify_schema (self->h);
    snprintf (self->consumer_pub, sizeof self->consumer_pub, "%s",
              harness_endpoint (self->h, "registry", "events"));
    self->consumer_poll_ms = 200;
    s_consumer_start (self);
    s_wait_sql (self, "SELECT count (*) FROM notify.consumer_cursors", "1", WAIT_MS,
                "the consumer child starts and pulls");
    char log[400];
    snprintf (log, sizeof log, "%s/consumer.log", harness_dir (self->h));

    harness_stop (self->h, "registry", SIGTERM);
    s_wait_log (log, "cannot reach registry at", "the consumer says registry is gone");
    harness_start (self->h, "registry");
    s_register_range (self->registry, 1, 3);
    s_wait_sql (self, "SELECT count (*) FROM notify.applied", "3", WAIT_MS,
                "what registry logged reaches the consumer once it answers again");
    s_wait_log (log, "reached registry again", "the consumer says registry is back");
    s_consumer_kill (self);
}

//  ---------------------------------------------------------------------------------------
//  5. Parking

//  Protects the consumer from a poison event: the one it cannot apply is parked with its
//  reason, topic and body, the cursor passes it, the rest are applied, and it stays parked.
static void
test_parking (void **state)
{
    s_fixture_t *self = *state;
    self->h = harness_new ("events_parking");
    harness_start (self->h, "registry");
    self->registry = harness_client (self->h, "registry", "operator");
    s_notify_schema (self->h);
    snprintf (self->consumer_pub, sizeof self->consumer_pub, "%s",
              harness_endpoint (self->h, "registry", "events"));
    self->consumer_poll_ms = 100;
    self->consumer_refuses = REFUSED;
    s_consumer_start (self);

    s_register_range (self->registry, 1, 2);
    s_register (self->registry, 3, REFUSED);
    s_register_range (self->registry, 4, 6);
    s_wait_sql (self, "SELECT seq FROM notify.consumer_cursors WHERE publisher = 'registry'", "6",
                WAIT_MS, "the consumer's cursor passes the parked event");
    assert_string_equal (harness_sql (self->h, "SELECT string_agg (seq || ':' || name, ','"
                                               " ORDER BY seq) FROM notify.applied"),
                         "1:volunteer-1,2:volunteer-2,4:volunteer-4,5:volunteer-5,"
                         "6:volunteer-6");
    assert_string_equal (harness_sql (self->h, "SELECT count (*) FROM notify.dead_letters"), "1");
    assert_string_equal (harness_sql (self->h, "SELECT publisher || '|' || seq || '|' || topic"
                                               " || '|' || reason FROM notify.dead_letters"),
                         "registry|3|volunteer.registered|volunteer \"" REFUSED
                         "\" is refused by this consumer");
    assert_string_equal (harness_sql (self->h, "SELECT (d.body = o.body)::text"
                                               " FROM notify.dead_letters d"
                                               " JOIN registry.outbox o ON o.seq = d.seq"),
                         "true");

    //  After a restart the parked event is neither applied nor parked again.
    s_consumer_kill (self);
    s_consumer_start (self);
    s_register_range (self->registry, 7, 7);
    s_wait_sql (self, "SELECT seq FROM notify.consumer_cursors WHERE publisher = 'registry'", "7",
                WAIT_MS, "the restarted consumer goes on");
    assert_string_equal (harness_sql (self->h, "SELECT count (*) || ' ' || count (DISTINCT seq)"
                                               " FROM notify.applied"),
                         "6 6");
    assert_string_equal (harness_sql (self->h, "SELECT count (*) FROM notify.dead_letters"), "1");
    s_consumer_kill (self);
}

//  ---------------------------------------------------------------------------------------
//  6. Match as a consumer

//  Protects match's supply replica: every registration reaches it once, across a SIGKILL
//  of match while registrations go on.
static void
test_match_consumer (void **state)
{
    s_fixture_t *self = *state;
    self->h = harness_new ("events_match");
    harness_start (self->h, "registry");
    harness_start (self->h, "match");
    self->registry = harness_client (self->h, "registry", "operator");
    self->match = harness_client (self->h, "match", "operator");

    s_register_range (self->registry, 1, 50);
    s_wait_supply (self->match, 50, 50);

    s_register_range (self->registry, 51, 75);
    int status = harness_stop (self->h, "match", SIGKILL);
    assert_true (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
    s_register_range (self->registry, 76, 85);
    harness_start (self->h, "match");
    s_register_range (self->registry, 86, 100);
    s_wait_supply (self->match, 100, 100);

    assert_string_equal (harness_sql (self->h, "SELECT count (*) FROM match.supply"), "100");
    assert_string_equal (harness_sql (self->h, "SELECT count (DISTINCT registry_seq) || ' '"
                                               " || min (registry_seq) || ' ' || max (registry_seq)"
                                               " FROM match.supply"),
                         "100 1 100");
    assert_string_equal (harness_sql (self->h, "SELECT count (*) FROM match.supply"
                                               " WHERE name <> 'volunteer-' || registry_seq"),
                         "0");
    assert_string_equal (harness_sql (self->h, "SELECT seq FROM match.consumer_cursors"
                                               " WHERE publisher = 'registry'"),
                         "100");
    assert_string_equal (harness_sql (self->h, "SELECT count (*) FROM match.dead_letters"), "0");
}

int
main (int argc, char **argv)
{
    if (argc > 1 && strcmp (argv[1], "--consumer") == 0)
        return s_consumer_main (argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_out_of_order_commit, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_relay_killed, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_consumer_killed, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_lost_hints, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_publisher_unreachable, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_parking, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_match_consumer, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
