/*  gateway_metrics.c — what /metrics tells, in the Prometheus text format (0.0.4): HTTP
    requests by route and status, their latency as a histogram by route, rpc calls by service,
    op and outcome. Counters are atomics the HTTP threads add to; nothing is locked. Each
    scrape also asks the services for their event logs and notify for its backlog.  */
#include "gateway.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

//  The statuses counted one by one; any other is counted as "other".
static const int s_statuses[] = {200, 201, 204, 400, 401, 403, 404, 405,
                                 409, 413, 414, 422, 429, 500, 503};
#define S_STATUSES (sizeof s_statuses / sizeof s_statuses[0] + 1)

//  Latency buckets, in seconds (Prometheus' defaults).
static const double s_buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
#define S_BUCKETS (sizeof s_buckets / sizeof s_buckets[0])

#define S_ROUTES_MAX 128 //  routes counted; gw_route_count is checked against it
#define S_OPS_MAX    256 //  ops of the proto table counted

typedef struct {
    atomic_ullong by_status[S_STATUSES];
    atomic_ullong bucket[S_BUCKETS]; //  counted in the first bucket that holds it
    atomic_ullong micros;            //  the sum of durations
} s_route_t;

static s_route_t s_routes[S_ROUTES_MAX + 1]; //  the last: no route matched
static atomic_ullong s_calls[S_OPS_MAX][2];  //  [op][0 ok, 1 failed]
static atomic_ullong s_call_errors[S_OPS_MAX][ST_STATUS_COUNT];

static size_t
s_status_index (int status)
{
    for (size_t i = 0; i < S_STATUSES - 1; i++)
        if (s_statuses[i] == status)
            return i;
    return S_STATUSES - 1;
}

void
gw_metrics_http (const gw_route_t *route, int status, int64_t micros)
{
    size_t index = route ? (size_t) (route - gw_routes) : S_ROUTES_MAX;
    if (index > S_ROUTES_MAX)
        index = S_ROUTES_MAX;
    s_route_t *counters = &s_routes[index];
    atomic_fetch_add_explicit (&counters->by_status[s_status_index (status)], 1,
                               memory_order_relaxed);
    double seconds = (double) micros / 1e6;
    size_t bucket = 0;
    while (bucket < S_BUCKETS && seconds > s_buckets[bucket])
        bucket++;
    if (bucket < S_BUCKETS)
        atomic_fetch_add_explicit (&counters->bucket[bucket], 1, memory_order_relaxed);
    atomic_fetch_add_explicit (&counters->micros, (unsigned long long) (micros > 0 ? micros : 0),
                               memory_order_relaxed);
}

void
gw_metrics_call (const st_op_desc_t *op, st_status_t outcome)
{
    for (size_t i = 0; i < S_OPS_MAX; i++) {
        const st_op_desc_t *at = st_proto_op_at (i);
        if (!at)
            return;
        if (at == op) {
            atomic_fetch_add_explicit (&s_calls[i][outcome == ST_OK ? 0 : 1], 1,
                                       memory_order_relaxed);
            if (outcome != ST_OK && (int) outcome < ST_STATUS_COUNT)
                atomic_fetch_add_explicit (&s_call_errors[i][outcome], 1, memory_order_relaxed);
            return;
        }
    }
}

//  The phases' histograms: buckets doubling from 16 us to 4 s (the last bucket +Inf).
#define S_PHASE_BUCKETS 19
static const char *const s_phase_names[GW_PHASE_COUNT] = {"idle", "read",  "lease", "session",
                                                          "rpc",  "reply", "write", "total"};
static struct {
    atomic_ullong bucket[S_PHASE_BUCKETS + 1];
    atomic_ullong micros;
} s_phases[GW_PHASE_COUNT];

int64_t
gw_metrics_now_us (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000000 + now.tv_nsec / 1000;
}

//  Sessions proved by a recent check (gw_session_check's proofs) and by the database.
static atomic_ullong s_sessions[2]; //  [0 proof, 1 database]

void
gw_metrics_session (bool proved)
{
    atomic_fetch_add_explicit (&s_sessions[proved ? 0 : 1], 1, memory_order_relaxed);
}

//  Set while this thread answers /metrics: its scrape's calls are not the requests' phases.
static _Thread_local bool s_untimed;

void
gw_metrics_untimed (bool untimed)
{
    s_untimed = untimed;
}

void
gw_metrics_phase (gw_phase_t phase, int64_t micros)
{
    if ((unsigned) phase >= GW_PHASE_COUNT || s_untimed)
        return;
    if (micros < 0)
        micros = 0;
    size_t bucket = 0;
    while (bucket < S_PHASE_BUCKETS && micros > ((int64_t) 16 << bucket))
        bucket++;
    atomic_fetch_add_explicit (&s_phases[phase].bucket[bucket], 1, memory_order_relaxed);
    atomic_fetch_add_explicit (&s_phases[phase].micros, (unsigned long long) micros,
                               memory_order_relaxed);
}

//  Appends to a growing text.
typedef struct {
    char *data;
    size_t size, room;
} s_text_t;

static void s_add (s_text_t *text, const char *format, ...) __attribute__ ((format (printf, 2, 3)));
static void
s_add (s_text_t *text, const char *format, ...)
{
    va_list args;
    for (;;) {
        va_start (args, format);
        int n = vsnprintf (text->data + text->size, text->room - text->size, format, args);
        va_end (args);
        if (n >= 0 && (size_t) n < text->room - text->size) {
            text->size += (size_t) n;
            return;
        }
        text->room = text->room * 2 + (size_t) (n > 0 ? n : 0) + 1;
        text->data = realloc (text->data, text->room);
    }
}

static unsigned long long
s_load (atomic_ullong *counter)
{
    return atomic_load_explicit (counter, memory_order_relaxed);
}

//  A route's label: its method and pattern ("none" for requests no route took).
static void
s_route_label (size_t index, char *out, size_t size)
{
    if (index == S_ROUTES_MAX)
        snprintf (out, size, "route=\"none\"");
    else
        snprintf (out, size, "method=\"%s\",route=\"%s\"", gw_routes[index].method,
                  gw_routes[index].pattern);
}

//  ---------------------------------------------------------------------------------------
//  What the services say of themselves, asked at each scrape with a short deadline: each
//  one's event log (events.lag), and notify's backlog (notify.backlog). A service that does
//  not answer in time shows station_up 0 and nothing else.

#define S_SCRAPE_MS 500
#define S_SERVICES  4
static const char *const s_services[S_SERVICES] = {"registry", "match", "ledger", "notify"};

static void
s_scrape (s_text_t *text)
{
    json_t *lag[S_SERVICES];
    st_error_t err;
    json_t *empty = json_object ();
    for (int i = 0; i < S_SERVICES; i++)
        lag[i] = gw_rpc_call (s_services[i], "events.lag", NULL, NULL, empty, S_SCRAPE_MS, &err);
    json_t *backlog =
        lag[3] ? gw_rpc_call ("notify", "notify.backlog", NULL, NULL, empty, S_SCRAPE_MS, &err)
               : NULL;
    json_decref (empty);

    s_add (text,
           "# HELP station_up Whether a service answered this scrape within %d ms.\n"
           "# TYPE station_up gauge\n",
           S_SCRAPE_MS);
    for (int i = 0; i < S_SERVICES; i++)
        s_add (text, "station_up{service=\"%s\"} %d\n", s_services[i], lag[i] ? 1 : 0);
    s_add (text, "# HELP station_event_log_seq The last sequence number of a service's event "
                 "log.\n# TYPE station_event_log_seq gauge\n");
    for (int i = 0; i < S_SERVICES; i++)
        if (lag[i])
            s_add (text, "station_event_log_seq{service=\"%s\"} %lld\n", s_services[i],
                   (long long) json_integer_value (json_object_get (lag[i], "last_seq")));
    s_add (text, "# HELP station_event_unsequenced Committed events a service's relay has not "
                 "numbered yet.\n# TYPE station_event_unsequenced gauge\n");
    for (int i = 0; i < S_SERVICES; i++)
        if (lag[i])
            s_add (text, "station_event_unsequenced{service=\"%s\"} %lld\n", s_services[i],
                   (long long) json_integer_value (json_object_get (lag[i], "unsequenced")));
    s_add (text, "# HELP station_events_parked Events a service could not apply (its dead "
                 "letters).\n# TYPE station_events_parked gauge\n");
    for (int i = 0; i < S_SERVICES; i++)
        if (lag[i])
            s_add (text, "station_events_parked{service=\"%s\"} %lld\n", s_services[i],
                   (long long) json_integer_value (json_object_get (lag[i], "parked")));
    //  A consumer's lag: its publisher's last sequence number less its cursor there (both
    //  must have answered).
    s_add (text, "# HELP station_event_consumer_lag Events of a publisher's log a consumer has "
                 "not applied yet.\n# TYPE station_event_consumer_lag gauge\n");
    for (int i = 0; i < S_SERVICES; i++) {
        size_t c;
        json_t *cursor;
        json_array_foreach (lag[i] ? json_object_get (lag[i], "cursors") : NULL, c, cursor)
        {
            const char *publisher = json_string_value (json_object_get (cursor, "publisher"));
            for (int p = 0; publisher && p < S_SERVICES; p++)
                if (lag[p] && strcmp (publisher, s_services[p]) == 0) {
                    json_int_t behind = json_integer_value (json_object_get (lag[p], "last_seq"))
                                        - json_integer_value (json_object_get (cursor, "seq"));
                    s_add (text,
                           "station_event_consumer_lag{consumer=\"%s\",publisher=\"%s\"} "
                           "%lld\n",
                           s_services[i], publisher, (long long) (behind > 0 ? behind : 0));
                }
        }
    }
    if (backlog) {
        static const struct {
            const char *field, *name, *help;
        } gauges[] = {
            {"reminders_pending", "station_notify_reminders_pending", "Reminders not sent yet."},
            {"reminders_due", "station_notify_reminders_due",
             "Reminders due already and not sent (the backlog)."},
            {"deliveries_due", "station_notify_deliveries_due",
             "Deliveries (not the inbox) due now and not sent."},
            {"deliveries_failed", "station_notify_deliveries_failed",
             "Deliveries that failed and will be tried again."},
            {"deliveries_dead", "station_notify_deliveries_dead",
             "Deliveries given up on after their last try."},
        };
        for (size_t g = 0; g < sizeof gauges / sizeof gauges[0]; g++)
            s_add (text, "# HELP %s %s\n# TYPE %s gauge\n%s %lld\n", gauges[g].name, gauges[g].help,
                   gauges[g].name, gauges[g].name,
                   (long long) json_integer_value (json_object_get (backlog, gauges[g].field)));
        json_t *oldest = json_object_get (backlog, "reminders_oldest_ms");
        s_add (text,
               "# HELP station_notify_reminder_wait_seconds How long the oldest reminder "
               "due has waited.\n# TYPE station_notify_reminder_wait_seconds gauge\n"
               "station_notify_reminder_wait_seconds %.3f\n",
               json_is_integer (oldest) ? (double) json_integer_value (oldest) / 1000 : 0.0);
        json_decref (backlog);
    }
    for (int i = 0; i < S_SERVICES; i++)
        json_decref (lag[i]);
}

char *
gw_metrics_text (void)
{
    s_text_t text = {malloc (65536), 0, 65536};
    size_t routes = gw_route_count < S_ROUTES_MAX ? gw_route_count : S_ROUTES_MAX;
    char label[256];

    s_add (&text, "# HELP station_http_requests_total HTTP requests answered, by route and "
                  "status.\n# TYPE station_http_requests_total counter\n");
    for (size_t r = 0; r <= S_ROUTES_MAX; r++) {
        if (r >= routes && r != S_ROUTES_MAX)
            continue;
        s_route_label (r, label, sizeof label);
        for (size_t s = 0; s < S_STATUSES; s++) {
            unsigned long long n = s_load (&s_routes[r].by_status[s]);
            if (!n)
                continue;
            if (s < S_STATUSES - 1)
                s_add (&text, "station_http_requests_total{%s,status=\"%d\"} %llu\n", label,
                       s_statuses[s], n);
            else
                s_add (&text, "station_http_requests_total{%s,status=\"other\"} %llu\n", label, n);
        }
    }

    s_add (&text, "# HELP station_http_request_duration_seconds Time from a request's end to its "
                  "answer, by route.\n# TYPE station_http_request_duration_seconds histogram\n");
    for (size_t r = 0; r <= S_ROUTES_MAX; r++) {
        if (r >= routes && r != S_ROUTES_MAX)
            continue;
        unsigned long long count = 0;
        for (size_t s = 0; s < S_STATUSES; s++)
            count += s_load (&s_routes[r].by_status[s]);
        if (!count)
            continue;
        s_route_label (r, label, sizeof label);
        unsigned long long cumulative = 0;
        for (size_t b = 0; b < S_BUCKETS; b++) {
            cumulative += s_load (&s_routes[r].bucket[b]);
            s_add (&text, "station_http_request_duration_seconds_bucket{%s,le=\"%g\"} %llu\n",
                   label, s_buckets[b], cumulative);
        }
        s_add (&text, "station_http_request_duration_seconds_bucket{%s,le=\"+Inf\"} %llu\n", label,
               count);
        s_add (&text, "station_http_request_duration_seconds_sum{%s} %.6f\n", label,
               (double) s_load (&s_routes[r].micros) / 1e6);
        s_add (&text, "station_http_request_duration_seconds_count{%s} %llu\n", label, count);
    }

    s_add (&text, "# HELP station_rpc_calls_total Calls the gateway made to the services, by op "
                  "and outcome.\n# TYPE station_rpc_calls_total counter\n");
    for (size_t i = 0; i < S_OPS_MAX; i++) {
        const st_op_desc_t *op = st_proto_op_at (i);
        if (!op)
            break;
        for (int failed = 0; failed < 2; failed++) {
            unsigned long long n = s_load (&s_calls[i][failed]);
            if (n)
                s_add (&text,
                       "station_rpc_calls_total{service=\"%s\",op=\"%s\",outcome=\"%s\"} %llu\n",
                       op->service, op->name, failed ? "error" : "ok", n);
        }
    }
    s_add (&text, "# HELP station_rpc_errors_total Calls that failed, by op and error code.\n"
                  "# TYPE station_rpc_errors_total counter\n");
    for (size_t i = 0; i < S_OPS_MAX; i++) {
        const st_op_desc_t *op = st_proto_op_at (i);
        if (!op)
            break;
        for (int code = 0; code < ST_STATUS_COUNT; code++) {
            unsigned long long n = s_load (&s_call_errors[i][code]);
            if (n)
                s_add (&text,
                       "station_rpc_errors_total{service=\"%s\",op=\"%s\",code=\"%s\"} %llu\n",
                       op->service, op->name, st_status_name ((st_status_t) code), n);
        }
    }
    s_add (&text, "# HELP station_gateway_phase_seconds Time HTTP requests spent in each phase "
                  "of their handling in the gateway.\n"
                  "# TYPE station_gateway_phase_seconds histogram\n");
    for (int p = 0; p < GW_PHASE_COUNT; p++) {
        unsigned long long cumulative = 0;
        for (size_t b = 0; b < S_PHASE_BUCKETS; b++) {
            cumulative += s_load (&s_phases[p].bucket[b]);
            s_add (&text, "station_gateway_phase_seconds_bucket{phase=\"%s\",le=\"%g\"} %llu\n",
                   s_phase_names[p], (double) ((int64_t) 16 << b) / 1e6, cumulative);
        }
        cumulative += s_load (&s_phases[p].bucket[S_PHASE_BUCKETS]);
        s_add (&text, "station_gateway_phase_seconds_bucket{phase=\"%s\",le=\"+Inf\"} %llu\n",
               s_phase_names[p], cumulative);
        s_add (&text, "station_gateway_phase_seconds_sum{phase=\"%s\"} %.6f\n", s_phase_names[p],
               (double) s_load (&s_phases[p].micros) / 1e6);
        s_add (&text, "station_gateway_phase_seconds_count{phase=\"%s\"} %llu\n", s_phase_names[p],
               cumulative);
    }
    s_add (&text,
           "# HELP station_gateway_session_checks_total Sessions checked, by what answered:"
           " a proof this process holds from a recent check, or the database.\n"
           "# TYPE station_gateway_session_checks_total counter\n"
           "station_gateway_session_checks_total{answer=\"proof\"} %llu\n"
           "station_gateway_session_checks_total{answer=\"database\"} %llu\n",
           s_load (&s_sessions[0]), s_load (&s_sessions[1]));
    s_scrape (&text);
    return text.data;
}
