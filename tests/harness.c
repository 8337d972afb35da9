/*  harness.c — real processes, a real database, real sockets  */
#include "harness.h"
#include "st_crypto.h"
#include "st_keys.h"
#include "st_log.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#define HARNESS_SERVICES 5
#define HARNESS_REPLICAS 8

static const char *const s_services[HARNESS_SERVICES] = {"registry", "match", "ledger", "notify",
                                                         "gateway"};

struct harness_s {
    char dir[256];
    char keys[300];
    char db[64];
    char conninfo[512];
    char endpoint[32][320];
    pid_t pids[HARNESS_SERVICES];
    pid_t replicas[HARNESS_REPLICAS]; //  more processes of a service (harness_start_replica)
    char replica_logs[HARNESS_REPLICAS][64];
    int http_port; //  the gateway's
    PGconn *pg;
    zcert_t *certs[8];
    char *cert_names[8];
};

static const char *
s_env (const char *name)
{
    const char *value = getenv (name);
    if (!value || !*value) {
        fprintf (stderr,
                 "harness: %s is not set: run the tests with scripts/test, which starts "
                 "the test PostgreSQL cluster\n",
                 name);
        fail ();
    }
    return value;
}

static int
s_index (const char *service)
{
    for (int i = 0; i < HARNESS_SERVICES; i++)
        if (strcmp (s_services[i], service) == 0)
            return i;
    fail_msg ("no service \"%s\"", service);
    return -1;
}

static void
s_noop_notice (void *arg, const char *message)
{
    (void) arg, (void) message;
}

static PGconn *
s_super (const char *db)
{
    char conninfo[512];
    snprintf (conninfo, sizeof conninfo, "host=%s port=%s user=%s dbname=%s",
              s_env ("STATION_TEST_PGHOST"), s_env ("STATION_TEST_PGPORT"),
              s_env ("STATION_TEST_PGUSER"), db);
    PGconn *conn = PQconnectdb (conninfo);
    if (PQstatus (conn) != CONNECTION_OK)
        fail_msg ("harness: could not connect as superuser: %s", PQerrorMessage (conn));
    PQsetNoticeProcessor (conn, s_noop_notice, NULL);
    return conn;
}

static void
s_exec (PGconn *conn, const char *sql)
{
    PGresult *res = PQexec (conn, sql);
    if (PQresultStatus (res) != PGRES_COMMAND_OK && PQresultStatus (res) != PGRES_TUPLES_OK)
        fail_msg ("harness: %s: %s", sql, PQerrorMessage (conn));
    PQclear (res);
}

//  A TCP port on 127.0.0.1 that nothing listens on now (the kernel's choice).
static int
s_free_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = {.sin_family = AF_INET,
                                  .sin_addr.s_addr = htonl (INADDR_LOOPBACK)};
    socklen_t size = sizeof address;
    assert_true (fd >= 0);
    assert_int_equal (bind (fd, (struct sockaddr *) &address, sizeof address), 0);
    assert_int_equal (getsockname (fd, (struct sockaddr *) &address, &size), 0);
    close (fd);
    return ntohs (address.sin_port);
}

int
harness_http_port (harness_t *self)
{
    return self->http_port;
}

harness_t *
harness_new (const char *name)
{
    harness_t *self = calloc (1, sizeof *self);
    snprintf (self->dir, sizeof self->dir, "/tmp/station-%s-XXXXXX", name);
    assert_non_null (mkdtemp (self->dir));
    snprintf (self->keys, sizeof self->keys, "%s/keys", self->dir);
    st_error_t err;
    for (int i = 0; i < HARNESS_SERVICES; i++)
        if (strcmp (s_services[i], "gateway") != 0)
            assert_true (st_keys_generate (self->keys, s_services[i], "service", &err) >= 0);
    assert_true (st_keys_generate (self->keys, "operator", "operator", &err) >= 0);
    assert_true (st_keys_generate (self->keys, "gateway", "gateway", &err) >= 0);
    assert_true (st_crypto_generate (self->keys, &err) >= 0);

    snprintf (self->db, sizeof self->db, "st_%s_%d", name, (int) getpid ());
    PGconn *postgres = s_super ("postgres");
    char sql[1024];
    snprintf (sql, sizeof sql, "DROP DATABASE IF EXISTS %s", self->db);
    s_exec (postgres, sql);
    snprintf (sql, sizeof sql, "CREATE DATABASE %s", self->db);
    s_exec (postgres, sql);
    PQfinish (postgres);
    self->pg = s_super (self->db);
    snprintf (sql, sizeof sql,
              "REVOKE ALL ON DATABASE %s FROM PUBLIC;"
              " REVOKE ALL ON SCHEMA public FROM PUBLIC",
              self->db);
    s_exec (self->pg, sql);
    for (int i = 0; i < HARNESS_SERVICES; i++) {
        snprintf (sql, sizeof sql,
                  "GRANT CONNECT ON DATABASE %s TO %s;"
                  " CREATE SCHEMA %s AUTHORIZATION %s",
                  self->db, s_services[i], s_services[i], s_services[i]);
        s_exec (self->pg, sql);
    }
    //  As scripts/lib.sh does: match's exclusion constraints need btree_gist.
    s_exec (self->pg, "CREATE EXTENSION IF NOT EXISTS btree_gist SCHEMA match");
    snprintf (self->conninfo, sizeof self->conninfo, "host=%s port=%s dbname=%s",
              s_env ("STATION_TEST_PGHOST"), s_env ("STATION_TEST_PGPORT"), self->db);
    for (int i = 0; i < HARNESS_SERVICES; i++) {
        snprintf (self->endpoint[2 * i], sizeof self->endpoint[0], "ipc://%s/%s.rpc", self->dir,
                  s_services[i]);
        snprintf (self->endpoint[2 * i + 1], sizeof self->endpoint[0], "ipc://%s/%s.events",
                  self->dir, s_services[i]);
    }
    self->http_port = s_free_port ();
    return self;
}

const char *
harness_dir (harness_t *self)
{
    return self->dir;
}

const char *
harness_keys (harness_t *self)
{
    return self->keys;
}

const char *
harness_conninfo (harness_t *self)
{
    return self->conninfo;
}

const char *
harness_endpoint (harness_t *self, const char *service, const char *kind)
{
    return self->endpoint[2 * s_index (service) + (strcmp (kind, "events") == 0)];
}

PGconn *
harness_pg (harness_t *self)
{
    return self->pg;
}

const char *
harness_sql (harness_t *self, const char *sql)
{
    static char value[4096];
    PGresult *res = PQexec (self->pg, sql);
    if (PQresultStatus (res) != PGRES_COMMAND_OK && PQresultStatus (res) != PGRES_TUPLES_OK)
        fail_msg ("harness: %s: %s", sql, PQerrorMessage (self->pg));
    snprintf (value, sizeof value, "%s",
              PQntuples (res) && PQnfields (res) ? PQgetvalue (res, 0, 0) : "");
    PQclear (res);
    return value;
}

void
harness_endpoint_variable (const char *service, const char *kind, char *name, size_t size)
{
    snprintf (name, size, "STATION_%s_%s", service, kind);
    for (char *p = name; *p; p++)
        *p = (char) toupper ((unsigned char) *p);
}

//  The environment every child gets: endpoints, keys, database.
static void
s_child_env (harness_t *self)
{
    setenv ("STATION_KEYS", self->keys, 1);
    setenv ("STATION_DB", self->conninfo, 1);
    setenv ("STATION_LOG_LEVEL",
            getenv ("STATION_TEST_LOG_LEVEL") ? getenv ("STATION_TEST_LOG_LEVEL") : "warn", 1);
    setenv ("STATION_POLL_MS", getenv ("STATION_POLL_MS") ? getenv ("STATION_POLL_MS") : "1000", 1);
    char http[32];
    snprintf (http, sizeof http, "127.0.0.1:%d", self->http_port);
    setenv ("STATION_GATEWAY_HTTP", http, 1);
    for (int i = 0; i < HARNESS_SERVICES; i++) {
        char name[64];
        harness_endpoint_variable (s_services[i], "RPC", name, sizeof name);
        setenv (name, self->endpoint[2 * i], 1);
        harness_endpoint_variable (s_services[i], "EVENTS", name, sizeof name);
        setenv (name, self->endpoint[2 * i + 1], 1);
    }
}

static const char *
s_bin (const char *program, char *buf, size_t size)
{
    snprintf (buf, size, "%s/%s", s_env ("STATION_BIN_DIR"), program);
    return buf;
}

//  In a child: appends its stderr to `log`.log in the harness's folder and runs `path` as
//  `program` with `args` (NULL-terminated, may be NULL); exits 127 when it cannot.
static void
s_run_program_args (harness_t *self, const char *path, const char *program, const char *log,
                    const char *const *args)
{
    char file[512];
    snprintf (file, sizeof file, "%s/%s.log", self->dir, log);
    int fd = open (file, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
        dup2 (fd, 2);
        close (fd);
    }
    const char *argv[16] = {program};
    for (int i = 0; args && args[i] && i < 14; i++)
        argv[i + 1] = args[i];
    execv (path, (char *const *) argv);
    _exit (127);
}

static void
s_run_program (harness_t *self, const char *path, const char *program, const char *log)
{
    s_run_program_args (self, path, program, log, NULL);
}

pid_t
harness_spawn (harness_t *self, const char *service)
{
    return harness_spawn_args (self, service, NULL);
}

pid_t
harness_spawn_args (harness_t *self, const char *service, const char *const *args)
{
    int i = s_index (service);
    char path[512], program[64];
    snprintf (program, sizeof program, "station-%s", service);
    s_bin (program, path, sizeof path);
    pid_t pid = fork ();
    assert_true (pid >= 0);
    if (pid == 0) {
        //  A test that fails half-way leaves no service behind.
        prctl (PR_SET_PDEATHSIG, SIGKILL);
        s_child_env (self);
        s_run_program_args (self, path, program, service, args);
    }
    self->pids[i] = pid;
    return pid;
}

//  Waits until process `pid` (`name`, its log `name`.log) answers sys.ping through `client`,
//  which it destroys; fails the test (and zeroes *slot) when it exits first, or after 20 s.
static void
s_await (harness_t *self, st_client_t *client, pid_t pid, pid_t *slot, const char *name)
{
    int64_t until = st_clock_ms () + 20000;
    bool up = false;
    while (!up && st_clock_ms () < until) {
        msg_empty_t request = {0};
        msg_pong_t pong;
        st_error_t err;
        up = st_client_call (client, "sys.ping", NULL, NULL, &msg_empty_desc, &request,
                             &msg_pong_desc, &pong, 300, &err)
             == ST_OK;
        if (up)
            st_msg_clear (&msg_pong_desc, &pong);
        int status;
        if (!up && waitpid (pid, &status, WNOHANG) == pid) {
            *slot = 0;
            fail_msg ("%s exited during start-up (see %s/%s.log)", name, self->dir, name);
        }
    }
    st_client_destroy (&client);
    if (!up)
        fail_msg ("%s did not answer within 20 s (see %s/%s.log)", name, self->dir, name);
}

//  Starts another process of `service` (see harness_start_replica) with `env` ("NAME=VALUE",
//  NULL-terminated, may be NULL) set in it after the harness's own, and waits for it.
static pid_t
s_start_replica (harness_t *self, const char *service, char *endpoint, const char *const *env)
{
    s_index (service);
    int n = 0;
    while (n < HARNESS_REPLICAS && self->replicas[n] > 0)
        n++;
    if (n == HARNESS_REPLICAS)
        fail_msg ("harness: %d replicas at most", HARNESS_REPLICAS);
    char events[HARNESS_ENDPOINT], program[64], path[512];
    snprintf (self->replica_logs[n], sizeof self->replica_logs[n], "%s-%d", service, n + 2);
    snprintf (endpoint, HARNESS_ENDPOINT, "ipc://%s/%s.rpc", self->dir, self->replica_logs[n]);
    snprintf (events, sizeof events, "ipc://%s/%s.events", self->dir, self->replica_logs[n]);
    snprintf (program, sizeof program, "station-%s", service);
    s_bin (program, path, sizeof path);
    pid_t pid = fork ();
    assert_true (pid >= 0);
    if (pid == 0) {
        prctl (PR_SET_PDEATHSIG, SIGKILL);
        s_child_env (self);
        char name[64];
        harness_endpoint_variable (service, "RPC", name, sizeof name);
        setenv (name, endpoint, 1);
        harness_endpoint_variable (service, "EVENTS", name, sizeof name);
        setenv (name, events, 1);
        for (size_t i = 0; env && env[i]; i++)
            putenv ((char *) env[i]);
        s_run_program (self, path, program, self->replica_logs[n]);
    }
    self->replicas[n] = pid;
    s_await (self, harness_client_at (self, service, endpoint, "operator"), pid, &self->replicas[n],
             self->replica_logs[n]);
    return pid;
}

pid_t
harness_start_replica (harness_t *self, const char *service, char *endpoint)
{
    return s_start_replica (self, service, endpoint, NULL);
}

pid_t
harness_start_gateway (harness_t *self, const char *const *env, int *port)
{
    char http[64];
    *port = s_free_port ();
    snprintf (http, sizeof http, "STATION_GATEWAY_HTTP=127.0.0.1:%d", *port);
    const char *all[32] = {http};
    size_t count = 1;
    for (size_t i = 0; env && env[i] && count < 31; i++)
        all[count++] = env[i];
    all[count] = NULL;
    char endpoint[HARNESS_ENDPOINT];
    return s_start_replica (self, "gateway", endpoint, all);
}

pid_t
harness_start (harness_t *self, const char *service)
{
    pid_t pid = harness_spawn (self, service);
    s_await (self, harness_client (self, service, "operator"), pid, &self->pids[s_index (service)],
             service);
    return pid;
}

int
harness_stop (harness_t *self, const char *service, int sig)
{
    int i = s_index (service), status = 0;
    if (self->pids[i] <= 0)
        return -1;
    kill (self->pids[i], sig);
    waitpid (self->pids[i], &status, 0);
    self->pids[i] = 0;
    return status;
}

st_client_t *
harness_client (harness_t *self, const char *service, const char *key)
{
    return harness_client_at (self, service, harness_endpoint (self, service, "rpc"), key);
}

st_client_t *
harness_client_at (harness_t *self, const char *service, const char *endpoint, const char *key)
{
    st_error_t err;
    int slot = -1;
    for (int i = 0; i < 8 && slot < 0; i++)
        if (self->cert_names[i] && strcmp (self->cert_names[i], key) == 0)
            slot = i;
    for (int i = 0; i < 8 && slot < 0; i++)
        if (!self->cert_names[i]) {
            self->certs[i] = st_keys_secret (self->keys, key, &err);
            assert_non_null (self->certs[i]);
            self->cert_names[i] = strdup (key);
            slot = i;
        }
    assert_true (slot >= 0);
    zcert_t *server = st_keys_public (self->keys, service, &err);
    assert_non_null (server);
    st_client_t *client = st_client_new (endpoint, self->certs[slot], zcert_public_txt (server));
    zcert_destroy (&server);
    st_client_set_retry (client, 500);
    return client;
}

//  harness_cli, harness_cli_input and harness_cli_stderr: `input` (NULL: the test's own) on
//  standard input; standard error into `err` when not NULL (through a file, read once the
//  command ends), else the test's own.
static int
s_cli (harness_t *self, const char *input, char *out, size_t out_size, char *err, size_t err_size,
       const char *arg, va_list ap)
{
    const char *args[32] = {"station"};
    int n = 1;
    for (const char *a = arg; a && n < 31; a = va_arg (ap, const char *))
        args[n++] = a;
    args[n] = NULL;
    int infd[2] = {-1, -1};
    if (input)
        assert_int_equal (pipe (infd), 0);
    int pipefd[2];
    assert_int_equal (pipe (pipefd), 0);
    char path[512];
    s_bin ("station", path, sizeof path);
    int errfd = -1;
    if (err) {
        char errpath[600];
        snprintf (errpath, sizeof errpath, "%s/cli-stderr-XXXXXX", harness_dir (self));
        errfd = mkstemp (errpath);
        assert_true (errfd >= 0);
        unlink (errpath);
    }
    pid_t pid = fork ();
    assert_true (pid >= 0);
    if (pid == 0) {
        s_child_env (self);
        if (errfd >= 0) {
            dup2 (errfd, 2);
            close (errfd);
        }
        if (input) {
            dup2 (infd[0], 0);
            close (infd[0]);
            close (infd[1]);
        }
        dup2 (pipefd[1], 1);
        close (pipefd[0]);
        close (pipefd[1]);
        execv (path, (char *const *) args);
        _exit (127);
    }
    close (pipefd[1]);
    if (input) {
        //  Small inputs only: the pipe's buffer holds them before the child reads.
        close (infd[0]);
        size_t len = strlen (input);
        assert_int_equal (write (infd[1], input, len), (ssize_t) len);
        close (infd[1]);
    }
    size_t used = 0;
    ssize_t got;
    while ((got = read (pipefd[0], out + used, out_size - 1 - used)) > 0)
        used += (size_t) got;
    out[used] = 0;
    close (pipefd[0]);
    int status;
    waitpid (pid, &status, 0);
    if (errfd >= 0) {
        ssize_t size = pread (errfd, err, err_size - 1, 0);
        err[size > 0 ? size : 0] = 0;
        close (errfd);
    }
    return WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
}

int
harness_cli (harness_t *self, char *out, size_t out_size, const char *arg, ...)
{
    va_list ap;
    va_start (ap, arg);
    int rc = s_cli (self, NULL, out, out_size, NULL, 0, arg, ap);
    va_end (ap);
    return rc;
}

int
harness_cli_input (harness_t *self, const char *input, char *out, size_t out_size, const char *arg,
                   ...)
{
    va_list ap;
    va_start (ap, arg);
    int rc = s_cli (self, input, out, out_size, NULL, 0, arg, ap);
    va_end (ap);
    return rc;
}

int
harness_cli_stderr (harness_t *self, char *out, size_t out_size, char *err, size_t err_size,
                    const char *arg, ...)
{
    va_list ap;
    va_start (ap, arg);
    int rc = s_cli (self, NULL, out, out_size, err, err_size, arg, ap);
    va_end (ap);
    return rc;
}

long
harness_rss_kib (pid_t pid)
{
    char path[64], line[256];
    snprintf (path, sizeof path, "/proc/%d/status", (int) pid);
    FILE *file = fopen (path, "r");
    if (!file)
        return -1;
    long kib = -1;
    while (fgets (line, sizeof line, file))
        if (strncmp (line, "VmRSS:", 6) == 0)
            kib = atol (line + 6);
    fclose (file);
    return kib;
}

//  Fails the test when a service's log holds a sanitizer report: in the sanitizer build a
//  memory error or leak in a service is a test failure, not a line nobody reads.
static bool
s_check_log (harness_t *self, const char *service, char *path_out, size_t size)
{
    char path[512], line[1024];
    snprintf (path, sizeof path, "%s/%s.log", self->dir, service);
    FILE *file = fopen (path, "r");
    if (!file)
        return false;
    bool report = false;
    while (!report && fgets (line, sizeof line, file))
        report = strstr (line, "ERROR: AddressSanitizer") || strstr (line, "ERROR: LeakSanitizer")
                 || strstr (line, "runtime error:");
    fclose (file);
    if (report)
        snprintf (path_out, size, "%s", path);
    return report;
}

void
harness_destroy (harness_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    harness_t *self = *self_p;
    for (int i = 0; i < HARNESS_SERVICES; i++)
        if (self->pids[i] > 0) {
            kill (self->pids[i], SIGTERM);
            int status;
            waitpid (self->pids[i], &status, 0);
            self->pids[i] = 0;
        }
    for (int i = 0; i < HARNESS_REPLICAS; i++)
        if (self->replicas[i] > 0) {
            kill (self->replicas[i], SIGTERM);
            int status;
            waitpid (self->replicas[i], &status, 0);
            self->replicas[i] = 0;
        }
    char report[512] = "";
    for (int i = 0; i < HARNESS_SERVICES; i++)
        if (s_check_log (self, s_services[i], report, sizeof report))
            setenv ("STATION_TEST_KEEP", "1", 1); //  keep the folder with the report
    for (int i = 0; i < HARNESS_REPLICAS; i++)
        if (*self->replica_logs[i]
            && s_check_log (self, self->replica_logs[i], report, sizeof report))
            setenv ("STATION_TEST_KEEP", "1", 1);
    for (int i = 0; i < 8; i++) {
        zcert_destroy (&self->certs[i]);
        free (self->cert_names[i]);
    }
    PQfinish (self->pg);
    PGconn *postgres = s_super ("postgres");
    char sql[256];
    snprintf (sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", self->db);
    PQclear (PQexec (postgres, sql));
    PQfinish (postgres);
    if (!getenv ("STATION_TEST_KEEP")) {
        char command[400];
        snprintf (command, sizeof command, "rm -rf '%s'", self->dir);
        if (system (command) != 0)
            fprintf (stderr, "harness: could not remove %s\n", self->dir);
    }
    free (self);
    *self_p = NULL;
    if (*report)
        fail_msg ("a service reported a sanitizer error: see %s", report);
}
