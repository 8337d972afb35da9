/*  st_service.h — the process around a service: configuration, keys and ZAP, the database
    and its migrations, the rpc server, the outbox relay and the event consumers, started in
    order and stopped cleanly on SIGINT or SIGTERM. A service's main is one table.  */
#ifndef ST_SERVICE_H_INCLUDED
#define ST_SERVICE_H_INCLUDED

#include "st_config.h"
#include "st_events.h"
#include "st_migrate.h"
#include "st_server.h"

typedef struct st_service_s st_service_t;

//  One publisher whose log this service consumes, and the topics it acts on.
typedef struct {
    const char *publisher;
    const st_subscription_t *subscriptions;
    size_t count;
    void (*prepare) (st_db_t *db); //  registers the statements the apply functions use
} st_feed_t;

//  One part of a service: a file's op table.
typedef struct {
    const st_route_t *routes;
    const size_t *count;
} st_part_t;

typedef struct {
    const char *name;
    const char *summary;
    const st_migration_t *migrations;
    size_t migration_count;
    const st_part_t *parts; //  the server's op table is theirs, joined
    size_t part_count;
    const st_feed_t *feeds;
    size_t feed_count;
    //  The service's own settings, after those every service reads (--help lists them all).
    const st_option_t *options;
    size_t option_count;
    //  Registers statements and builds the state handlers reach with st_call_state.
    int (*init) (st_service_t *service, st_error_t *err);
    //  Periodic work (a dispatch round, say) in a thread of its own with its own connection,
    //  so that a long round never stalls the rpc loop; `state` is what init set. Every
    //  tick_option (a whole-number option, in ms), or every second. May be NULL.
    void (*tick) (st_db_t *db, void *state);
    const char *tick_option;
    void (*fini) (st_service_t *service);
    //  Instead of tick, work that says when it wants to run again: the ms until then, at most
    //  tick_option's period. tick_listen (may be NULL): a PostgreSQL channel the ticker's
    //  connection LISTENs on, whose notification wakes it at once (new work due sooner).
    int64_t (*tick_due) (st_db_t *db, void *state);
    const char *tick_listen;
    //  Batch functions of some of the feeds' subscriptions (st_events.h): the consumer of
    //  each feed gets a page's run of such a topic at once. May be NULL.
    const st_batch_subscription_t *batches;
    size_t batch_count;
} st_service_def_t;

//  Runs the service until interrupted. Returns the process exit status.
int st_service_main (const st_service_def_t *def, int argc, char **argv);

st_db_t *st_service_db (st_service_t *self);
const char *st_service_option (st_service_t *self, const char *name);
int64_t st_service_whole (st_service_t *self, const char *name);
//  The whole loaded table, the service's own settings included; its size into *count.
const st_option_t *st_service_options (st_service_t *self, size_t *count);

//  The endpoint options of every service (STATION_<SERVICE>_RPC and _EVENTS, with their
//  local defaults), for clients such as the station command.
extern const st_option_t st_endpoint_options[];
extern const size_t st_endpoint_option_count;
void st_service_set_state (st_service_t *self, void *state);
void *st_service_state (st_service_t *self);

#endif
