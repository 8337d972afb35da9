/*  harness.h — integration tests against real processes: a fresh database in the test
    PostgreSQL cluster (started by scripts/test), a key directory, and the service binaries
    started on ipc endpoints in a private folder. The harness is the parent of every process
    it starts and reaps each one.  */
#ifndef HARNESS_H_INCLUDED
#define HARNESS_H_INCLUDED

#include "st_client.h"

#include <libpq-fe.h>
#include <sys/types.h>

typedef struct harness_s harness_t;

//  Creates a database, keys (every service, "operator", "gateway") and a folder for `name`.
//  Fails the test (cmocka) when the test cluster is not there: run scripts/test.
harness_t *harness_new (const char *name);

//  Stops every process, drops the database and removes the folder.
void harness_destroy (harness_t **self_p);

//  Starts a service and waits until it answers sys.ping. Returns its pid.
pid_t harness_start (harness_t *self, const char *service);

//  Starts a service without waiting (for tests of start-up failures).
pid_t harness_spawn (harness_t *self, const char *service);

//  harness_spawn with command-line arguments (NULL-terminated, at most 14) after the program.
pid_t harness_spawn_args (harness_t *self, const char *service, const char *const *args);

//  Starts another process of `service` on the same database (a replica sharing its work, as
//  two ledgers do), with rpc and events endpoints of its own and its log in `service`-N.log,
//  and waits until it answers sys.ping. Its rpc endpoint into `endpoint` (HARNESS_ENDPOINT
//  bytes). harness_destroy stops it. Returns its pid.
#define HARNESS_ENDPOINT 320
pid_t harness_start_replica (harness_t *self, const char *service, char *endpoint);

//  Starts another gateway on the same database and services (as harness_start_replica does),
//  its HTTP API on a free port of 127.0.0.1 (into *port), with `env` ("NAME=VALUE",
//  NULL-terminated, may be NULL) set in it: STATION_SESSION_IDLE_S=12. harness_destroy stops
//  it. Returns its pid.
pid_t harness_start_gateway (harness_t *self, const char *const *env, int *port);

//  Sends `sig` to a service and reaps it; returns its wait status.
int harness_stop (harness_t *self, const char *service, int sig);

//  The private folder, the key directory, a service's rpc or events endpoint.
const char *harness_dir (harness_t *self);
const char *harness_keys (harness_t *self);
const char *harness_endpoint (harness_t *self, const char *service, const char *kind);

//  The libpq connection string for a role (its own password from PGPASSFILE).
const char *harness_conninfo (harness_t *self);

//  A superuser connection to the test database, for looking at what services stored.
PGconn *harness_pg (harness_t *self);

//  Runs SQL as the superuser and returns the first value of the first row (static buffer,
//  "" when none); fails the test on error.
const char *harness_sql (harness_t *self, const char *sql);

//  A client of `service` using the key pair `key` ("operator", "gateway", a service).
st_client_t *harness_client (harness_t *self, const char *service, const char *key);

//  A client of the process of `service` at `endpoint` (a replica's), using the key pair `key`.
st_client_t *harness_client_at (harness_t *self, const char *service, const char *endpoint,
                                const char *key);

//  Runs the station CLI with args (NULL-terminated); stdout into `out` (NUL-terminated).
//  Returns its exit status.
int harness_cli (harness_t *self, char *out, size_t out_size, const char *arg, ...);

//  The same with `input` on its standard input.
int harness_cli_input (harness_t *self, const char *input, char *out, size_t out_size,
                       const char *arg, ...);

//  The same as harness_cli, with the command's standard error into `err` (NUL-terminated).
int harness_cli_stderr (harness_t *self, char *out, size_t out_size, char *err, size_t err_size,
                        const char *arg, ...);

//  The port the gateway's HTTP API listens on (127.0.0.1).
int harness_http_port (harness_t *self);

//  Resident set size of a process in KiB (from /proc), -1 when unknown.
long harness_rss_kib (pid_t pid);

//  The variable naming `service`'s endpoint of `kind` ("RPC" or "EVENTS"): STATION_MATCH_RPC.
void harness_endpoint_variable (const char *service, const char *kind, char *name, size_t size);

#endif
