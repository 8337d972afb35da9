/*  bench_notify.c — notify's figures, each beside a baseline measured in the same run:
    - reminders: 1,000,000 pending, 10,000 of them due within one minute: the time to schedule
      them (one set-based INSERT; and the service's own reminders_schedule for a sample), the
      RSS of notify, and the firing lateness (each notice's created_at against its reminder's
      due_at) p50/p99/max; beside a plain "SELECT ... FOR UPDATE SKIP LOCKED LIMIT 200" claim
      loop on the same table (every 10 ms while nothing is due) firing another 10,000;
    - webhook deliveries per second to a local receiver (libmicrohttpd on 127.0.0.1, answering
      204 at once), each signed as Standard Webhooks, its phone asked of registry per batch,
      its outcome and event recorded; beside curl's own POSTs of bodies of the same size to
      the same receiver, as many at once as notify's batch, on reused connections;
    - e-mail deliveries per second to a local SMTP sink (a minimal one here, on 127.0.0.1,
      accepting and discarding); beside libcurl sending the same message to the same sink, as
      many at once as notify's batch.
    Usage: bench_notify [deliveries (default 5000)] [pending reminders (default 1000000; 0:
    the deliveries alone)]  */
#include "bench_sizes.h"
#include "bench_proc.h"
#include "bench_util.h"
#include "harness.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static atomic_long s_received;

static enum MHD_Result
s_answer (void *cls, struct MHD_Connection *connection, const char *url, const char *method,
          const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    (void) cls, (void) url, (void) method, (void) version, (void) upload_data;
    if (!*con_cls) {
        *con_cls = (void *) 1;
        return MHD_YES;
    }
    if (*upload_data_size) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    atomic_fetch_add (&s_received, 1);
    struct MHD_Response *response =
        MHD_create_response_from_buffer (0, (void *) "", MHD_RESPMEM_PERSISTENT);
    enum MHD_Result rc = MHD_queue_response (connection, 204, response);
    MHD_destroy_response (response);
    return rc;
}

static size_t
s_discard (char *data, size_t size, size_t count, void *user)
{
    (void) data, (void) user;
    return size * count;
}

//  curl's own: n POSTs of `body`, `parallel` at once on one multi handle. Returns seconds.
static double
s_curl (const char *url, const char *body, int n, int parallel)
{
    CURLM *multi = curl_multi_init ();
    curl_multi_setopt (multi, CURLMOPT_MAXCONNECTS, 64L);
    struct curl_slist *headers = curl_slist_append (NULL, "Content-Type: application/json");
    headers = curl_slist_append (headers, "Expect:");
    int started = 0, done = 0;
    int64_t start = bench_ns ();
    while (done < n) {
        int batch = n - started < parallel ? n - started : parallel;
        for (int i = 0; i < batch; i++, started++) {
            CURL *easy = curl_easy_init ();
            curl_easy_setopt (easy, CURLOPT_URL, url);
            curl_easy_setopt (easy, CURLOPT_HTTPHEADER, headers);
            curl_easy_setopt (easy, CURLOPT_POSTFIELDS, body);
            curl_easy_setopt (easy, CURLOPT_WRITEFUNCTION, s_discard);
            curl_easy_setopt (easy, CURLOPT_NOSIGNAL, 1L);
            curl_multi_add_handle (multi, easy);
        }
        int running = 1;
        while (running) {
            curl_multi_perform (multi, &running);
            CURLMsg *msg;
            int left;
            while ((msg = curl_multi_info_read (multi, &left)))
                if (msg->msg == CURLMSG_DONE) {
                    curl_multi_remove_handle (multi, msg->easy_handle);
                    curl_easy_cleanup (msg->easy_handle);
                    done++;
                }
            if (running)
                curl_multi_poll (multi, NULL, 0, 200, NULL);
        }
    }
    double seconds = (double) (bench_ns () - start) / 1e9;
    curl_slist_free_all (headers);
    curl_multi_cleanup (multi);
    return seconds;
}

//  ---------------------------------------------------------------------------------------
//  A minimal SMTP sink on 127.0.0.1: accepts every message and discards it, a thread per
//  connection (notify and curl keep their connections open across messages).

static atomic_long s_mails;

static void
s_say (int fd, const char *line)
{
    size_t len = strlen (line);
    if (send (fd, line, len, MSG_NOSIGNAL) != (ssize_t) len)
        return;
}

static void *
s_smtp_session (void *arg)
{
    int fd = (int) (intptr_t) arg;
    char buffer[65536];
    size_t used = 0;
    bool data = false;
    s_say (fd, "220 sink ESMTP\r\n");
    for (;;) {
        ssize_t got = recv (fd, buffer + used, sizeof buffer - used - 1, 0);
        if (got <= 0)
            break;
        used += (size_t) got;
        buffer[used] = 0;
        char *line = buffer, *end;
        while ((end = strstr (line, "\r\n"))) {
            *end = 0;
            if (data) {
                if (strcmp (line, ".") == 0) {
                    data = false;
                    atomic_fetch_add (&s_mails, 1);
                    s_say (fd, "250 OK queued\r\n");
                }
            } else if (strncasecmp (line, "EHLO", 4) == 0)
                s_say (fd, "250-sink\r\n250 8BITMIME\r\n");
            else if (strncasecmp (line, "DATA", 4) == 0) {
                data = true;
                s_say (fd, "354 go ahead\r\n");
            } else if (strncasecmp (line, "QUIT", 4) == 0) {
                s_say (fd, "221 bye\r\n");
                close (fd);
                return NULL;
            } else
                s_say (fd, "250 OK\r\n");
            line = end + 2;
        }
        used = strlen (line);
        memmove (buffer, line, used);
        if (used >= sizeof buffer - 1)
            used = 0; //  a line longer than the buffer: dropped
    }
    close (fd);
    return NULL;
}

static void *
s_smtp_accept (void *arg)
{
    int listener = (int) (intptr_t) arg;
    for (;;) {
        int fd = accept (listener, NULL, NULL);
        if (fd < 0)
            break;
        pthread_t thread;
        if (pthread_create (&thread, NULL, s_smtp_session, (void *) (intptr_t) fd) == 0)
            pthread_detach (thread);
        else
            close (fd);
    }
    return NULL;
}

//  Starts the sink; its port.
static int
s_smtp_start (void)
{
    int listener = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET};
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (listener < 0 || bind (listener, (struct sockaddr *) &addr, sizeof addr) != 0
        || listen (listener, 512) != 0 || getsockname (listener, (struct sockaddr *) &addr, &len))
        return -1;
    pthread_t thread;
    pthread_create (&thread, NULL, s_smtp_accept, (void *) (intptr_t) listener);
    pthread_detach (thread);
    return ntohs (addr.sin_port);
}

typedef struct {
    const char *message;
    size_t sent;
} s_upload_t;

static size_t
s_upload (char *buffer, size_t size, size_t count, void *arg)
{
    s_upload_t *upload = arg;
    size_t left = strlen (upload->message) - upload->sent, room = size * count;
    size_t take = left < room ? left : room;
    memcpy (buffer, upload->message + upload->sent, take);
    upload->sent += take;
    return take;
}

//  libcurl's own: n e-mails of `message` to the sink, `parallel` at once on one multi handle
//  (its connections reused). Returns seconds.
static double
s_curl_smtp (const char *url, const char *message, int n, int parallel)
{
    CURLM *multi = curl_multi_init ();
    curl_multi_setopt (multi, CURLMOPT_MAXCONNECTS, (long) parallel);
    struct curl_slist *rcpt = curl_slist_append (NULL, "<bench@example.cn>");
    s_upload_t *uploads = calloc ((size_t) parallel, sizeof *uploads);
    int started = 0, done = 0;
    int64_t start = bench_ns ();
    while (done < n) {
        int batch = n - started < parallel ? n - started : parallel;
        for (int i = 0; i < batch; i++, started++) {
            CURL *easy = curl_easy_init ();
            uploads[i] = (s_upload_t){.message = message};
            curl_easy_setopt (easy, CURLOPT_URL, url);
            curl_easy_setopt (easy, CURLOPT_MAIL_FROM, "<notify@station.invalid>");
            curl_easy_setopt (easy, CURLOPT_MAIL_RCPT, rcpt);
            curl_easy_setopt (easy, CURLOPT_READFUNCTION, s_upload);
            curl_easy_setopt (easy, CURLOPT_READDATA, &uploads[i]);
            curl_easy_setopt (easy, CURLOPT_UPLOAD, 1L);
            curl_easy_setopt (easy, CURLOPT_NOSIGNAL, 1L);
            curl_multi_add_handle (multi, easy);
        }
        int running = 1;
        while (running) {
            curl_multi_perform (multi, &running);
            CURLMsg *msg;
            int left;
            while ((msg = curl_multi_info_read (multi, &left)))
                if (msg->msg == CURLMSG_DONE) {
                    curl_multi_remove_handle (multi, msg->easy_handle);
                    curl_easy_cleanup (msg->easy_handle);
                    done++;
                }
            if (running)
                curl_multi_poll (multi, NULL, 0, 200, NULL);
        }
    }
    double seconds = (double) (bench_ns () - start) / 1e9;
    free (uploads);
    curl_slist_free_all (rcpt);
    curl_multi_cleanup (multi);
    return seconds;
}

//  ---------------------------------------------------------------------------------------
//  Reminders

//  p50, p99 and max of `what` (an expression in ms) over `from` (the rest of a query), as
//  text "p50 X ms  p99 Y ms  max Z ms".
static void
s_lateness (harness_t *h, const char *what, const char *from, char *out, size_t size)
{
    char sql[1024];
    snprintf (sql, sizeof sql,
              "SELECT format ('p50 %%s ms  p99 %%s ms  max %%s ms  (%%s fired)',"
              " round (percentile_cont (0.5) WITHIN GROUP (ORDER BY %s)::numeric),"
              " round (percentile_cont (0.99) WITHIN GROUP (ORDER BY %s)::numeric),"
              " round (max (%s)::numeric), count (*)) %s",
              what, what, what, from);
    snprintf (out, size, "%s", harness_sql (h, sql));
}

//  Waits until `count` reminders of ids [first, first + count) are sent, at most `limit_s`.
static bool
s_wait_sent (harness_t *h, long first, long count, int limit_s)
{
    char sql[256];
    snprintf (sql, sizeof sql,
              "SELECT count (*) FROM notify.reminders WHERE id >= %ld AND id < %ld"
              " AND status = 'sent'",
              first, first + count);
    int64_t start = bench_ns ();
    while (atol (harness_sql (h, sql)) < count) {
        if (bench_ns () - start > (int64_t) limit_s * 1000000000LL)
            return false;
        usleep (200000);
    }
    return true;
}

//  Makes reminders [first, first + 10000) due one by one over a minute from 5 s from now.
static void
s_due_soon (harness_t *h, long first)
{
    char sql[512];
    snprintf (sql, sizeof sql,
              "UPDATE notify.reminders SET due_at = now () + interval '5 s'"
              " + (id - %ld) * interval '6 ms' WHERE id >= %ld AND id < %ld",
              first, first, first + 10000);
    harness_sql (h, sql);
    harness_sql (h, "SELECT pg_notify ('notify.reminders', '')");
}

static int
s_reminders (long pending)
{
    harness_t *h = harness_new ("bench_notify_reminders");
    harness_start (h, "registry");
    harness_start (h, "match");
    pid_t notify = harness_start (h, "notify");
    //  What the reminders are of: 10,000 activities two days ahead; no quiet hours.
    harness_sql (h, "INSERT INTO notify.region_settings (region, quiet_from, quiet_to,"
                    " updated_by) VALUES ('431022000000', '00:00', '00:00', 'bench')");
    harness_sql (h, "INSERT INTO notify.subjects (kind, id, title, region, starts_at, ends_at)"
                    " SELECT 'activity', 'a' || i, '压测活动 ' || i, '431022100201',"
                    " now () + interval '2 days', now () + interval '2 days 2 hours'"
                    " FROM generate_series (1, 10000) i");
    //  The pending reminders, all due in a day or more, in one set-based INSERT.
    char sql[1024];
    snprintf (sql, sizeof sql,
              "INSERT INTO notify.reminders (recipient_kind, recipient_id, subject_kind,"
              " subject_id, kind, offset_s, due_at, status) SELECT 'volunteer', i::text,"
              " 'activity', 'a' || (i %% 10000 + 1), 'before', 86400,"
              " now () + interval '1 day' + i * interval '1 ms', 'pending'"
              " FROM generate_series (1, %ld) i",
              pending);
    int64_t start = bench_ns ();
    harness_sql (h, sql);
    double insert_s = (double) (bench_ns () - start) / 1e9;
    harness_sql (h, "ANALYZE notify.reminders");
    //  The service's own scheduling path for a sample: 100 activities of 10 volunteers each,
    //  each given its 24 h and 1 h reminders and its prompt after (3,000 reminders).
    harness_sql (h, "INSERT INTO notify.subjects (kind, id, title, region, starts_at, ends_at)"
                    " SELECT 'activity', 's' || i, '样本活动', '431022100201',"
                    " now () + interval '3 days', now () + interval '3 days 2 hours'"
                    " FROM generate_series (1, 100) i");
    harness_sql (h, "INSERT INTO notify.engagements (recipient_kind, recipient_id, subject_kind,"
                    " subject_id, active) SELECT 'volunteer', 'v' || j, 'activity', 's' || i,"
                    " true FROM generate_series (1, 100) i, generate_series (1, 10) j");
    harness_sql (h, "SET search_path = notify, public"); //  as the service's role has it
    start = bench_ns ();
    harness_sql (h, "SELECT count (notify.reminders_schedule ('activity', 's' || i))"
                    " FROM generate_series (1, 100) i");
    double schedule_s = (double) (bench_ns () - start) / 1e9;
    harness_sql (h, "RESET search_path");
    long sample = atol (harness_sql (h, "SELECT count (*) FROM notify.reminders"
                                        " WHERE subject_id LIKE 's%'"));
    long first = atol (harness_sql (h, "SELECT min (id) FROM notify.reminders"));

    //  notify: 10,000 due over the next minute.
    s_due_soon (h, first);
    if (!s_wait_sent (h, first, 10000, 180)) {
        fprintf (stderr, "bench_notify: notify did not fire 10000 reminders in 180 s\n");
        return 1;
    }
    long rss = harness_rss_kib (notify);
    double notify_load = bench_load_average ();
    char notify_late[256], base_late[256];
    snprintf (sql, sizeof sql,
              "FROM notify.reminders r JOIN notify.notices n ON n.source LIKE 'reminder:%%'"
              " AND split_part (n.source, ':', 2)::bigint = r.id"
              " WHERE r.id >= %ld AND r.id < %ld",
              first, first + 10000);
    s_lateness (h, "extract (epoch FROM n.created_at - r.due_at) * 1000", sql, notify_late,
                sizeof notify_late);
    harness_stop (h, "notify", SIGTERM);
    //  The plan of notify's claim (notify_store.c, "reminder_fire") among the pending ones:
    //  a range scan of reminders_due_order from the oldest due, no sort.
    char plan[2048] = "";
    PGresult *explained =
        PQexec (harness_pg (h),
                "EXPLAIN (COSTS OFF) SELECT r.id FROM notify.reminders r WHERE r.status = 'pending'"
                " AND r.due_at <= now () ORDER BY r.due_at, r.id LIMIT 200 FOR UPDATE SKIP LOCKED");
    for (int i = 0; PQresultStatus (explained) == PGRES_TUPLES_OK && i < PQntuples (explained);
         i++) {
        size_t len = strlen (plan);
        snprintf (plan + len, sizeof plan - len, "    %s\n", PQgetvalue (explained, i, 0));
    }
    PQclear (explained);

    //  The baseline: a plain claim loop on the same table, notify stopped.
    long base = first + 10000;
    s_due_soon (h, base);
    int64_t began = bench_ns ();
    long claimed = 0;
    char claim[1024];
    snprintf (claim, sizeof claim,
              "WITH c AS (SELECT id FROM notify.reminders WHERE status = 'pending'"
              " AND due_at <= now () ORDER BY due_at LIMIT 200 FOR UPDATE SKIP LOCKED),"
              " u AS (UPDATE notify.reminders r SET status = 'sent', sent_at = clock_timestamp ()"
              " FROM c WHERE r.id = c.id RETURNING 1) SELECT count (*) FROM u");
    while (claimed < 10000 && bench_ns () - began < 180 * 1000000000LL) {
        long got = atol (harness_sql (h, claim));
        claimed += got;
        if (got < 200)
            usleep (10000);
    }
    double base_load = bench_load_average ();
    snprintf (sql, sizeof sql, "FROM notify.reminders WHERE id >= %ld AND id < %ld", base,
              base + 10000);
    s_lateness (h, "extract (epoch FROM sent_at - due_at) * 1000", sql, base_late,
                sizeof base_late);
    printf ("reminders pending                             %8ld\n", pending);
    printf ("  scheduled by one INSERT                      %8.2f s  (%.0f /s)\n", insert_s,
            pending / insert_s);
    printf ("  reminders_schedule, 100 activities x 10      %8.2f s  (%ld reminders, %.0f /s)\n",
            schedule_s, sample, sample / schedule_s);
    printf ("  notify RSS after firing                      %8ld KiB\n", rss);
    printf ("  notify firing lateness, 10000 due in 1 min   %s  (load %.1f)\n", notify_late,
            notify_load);
    printf ("  plain SKIP LOCKED claim loop (baseline)      %s  (load %.1f)\n", base_late,
            base_load);
    printf ("  the claim's plan among %ld pending:\n%s", pending, plan);
    bench_sizes (harness_pg (h), "notify", 1000);
    harness_destroy (&h);
    return 0;
}

int
main (int argc, char **argv)
{
    int n = argc > 1 ? atoi (argv[1]) : 5000;
    long pending = argc > 2 ? atol (argv[2]) : 1000000;
    curl_global_init (CURL_GLOBAL_DEFAULT);
    if (pending > 0 && s_reminders (pending))
        return 1;
    int smtp_port = s_smtp_start ();
    if (smtp_port < 0) {
        fprintf (stderr, "bench_notify: the SMTP sink did not start\n");
        return 1;
    }
    char smtp_url[64];
    snprintf (smtp_url, sizeof smtp_url, "smtp://127.0.0.1:%d", smtp_port);
    setenv ("STATION_SMTP_URL", smtp_url, 1);
    struct sockaddr_in addr = {.sin_family = AF_INET};
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    struct MHD_Daemon *daemon = MHD_start_daemon (
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL, NULL, s_answer,
        NULL, MHD_OPTION_SOCK_ADDR, &addr, MHD_OPTION_CONNECTION_LIMIT, 1000u, MHD_OPTION_END);
    if (!daemon) {
        fprintf (stderr, "bench_notify: the receiver did not start\n");
        return 1;
    }
    int port = MHD_get_daemon_info (daemon, MHD_DAEMON_INFO_BIND_PORT)->port;
    char url[64];
    snprintf (url, sizeof url, "http://127.0.0.1:%d/hook", port);

    setenv ("STATION_TEST_LOG_LEVEL", "error", 0); //  debug: the phases of each batch
    setenv ("STATION_NOTIFY_BATCH", "200", 0);
    harness_t *h = harness_new ("bench_notify");
    harness_start (h, "registry");
    harness_start (h, "notify");
    char out[8192], body[512], sql[1024];
    if (harness_cli (h, out, sizeof out, "volunteer", "register", "--name", "压测", "--id-number",
                     "11010519491231002X", "--phone", "13812345678", "--region", "431022100201",
                     NULL)
        != 0) {
        fprintf (stderr, "bench_notify: volunteer register: %s\n", out);
        return 1;
    }
    snprintf (body, sizeof body,
              "{\"region\": \"431022000000\", \"url\": \"%s\","
              " \"secret\": \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwMDEyMzQ1Njc4OQ==\"}",
              url);
    if (harness_cli (h, out, sizeof out, "call", "notify", "channel.set", body, NULL) != 0) {
        fprintf (stderr, "bench_notify: channel.set: %s\n", out);
        return 1;
    }
    //  notify knows the volunteer's region once registry's event is applied.
    for (int i = 0;
         i < 200 && atoi (harness_sql (h, "SELECT count (*) FROM notify.recipients")) == 0; i++)
        usleep (50000);
    harness_sql (h, "INSERT INTO notify.prefs (recipient_kind, recipient_id, channels)"
                    " VALUES ('volunteer', '1', '{sms}')");
    //  n notices at once, as a burst of events would make them: n sms deliveries due now.
    int64_t start = bench_ns ();
    snprintf (sql, sizeof sql,
              "INSERT INTO notify.notices (recipient_kind, recipient_id, kind, source, language,"
              " text, urgent, delivered_at, params) SELECT 'volunteer', '1', 'offer.made',"
              " 'bench:' || i, 'zh', '派单：「陪张奶奶去卫生院复查」，明天 09:00 至 11:30，请在"
              " 今天 20:00 前答复。', true, now (), '{\"title\": \"陪张奶奶去卫生院复查\"}'"
              " FROM generate_series (1, %d) i",
              n);
    harness_sql (h, sql);
    int64_t inserted = bench_ns ();
    long sent = 0;
    while (sent < n) {
        usleep (20000);
        sent = atol (harness_sql (h, "SELECT count (*) FROM notify.deliveries"
                                     " WHERE channel = 'sms' AND status = 'sent'"));
        if (bench_ns () - inserted > 300 * 1000000000LL) {
            fprintf (stderr, "bench_notify: only %ld of %d sent in 300 s\n", sent, n);
            return 1;
        }
    }
    double notify_s = (double) (bench_ns () - inserted) / 1e9;
    double notify_load = bench_load_average ();
    long dead = atol (harness_sql (h, "SELECT count (*) FROM notify.deliveries"
                                      " WHERE status IN ('dead', 'failed')"));
    const char *p = harness_sql (h, "SELECT percentile_cont (0.5) WITHIN GROUP (ORDER BY"
                                    " extract (epoch FROM delivered_at - due_at) * 1000)"
                                    " FROM notify.deliveries WHERE channel = 'sms'");
    double p50 = atof (p);
    p = harness_sql (h, "SELECT percentile_cont (0.99) WITHIN GROUP (ORDER BY"
                        " extract (epoch FROM delivered_at - due_at) * 1000)"
                        " FROM notify.deliveries WHERE channel = 'sms'");
    double p99 = atof (p);
    //  The same bodies' size for the baseline.
    char *sample = strdup (harness_sql (
        h, "SELECT json_build_object ('type', 'notification', 'timestamp', now (), 'data',"
           " json_build_object ('kind', kind, 'channel', 'sms', 'phone', '13812345678', 'text',"
           " text, 'params', params, 'language', language, 'notice_id', id::text, 'recipient',"
           " json_build_object ('kind', recipient_kind, 'id', recipient_id)))::text"
           " FROM notify.notices LIMIT 1"));
    //  E-mail: n notices of a second volunteer reading e-mail, to the sink.
    if (harness_cli (h, out, sizeof out, "call", "registry", "volunteer.register",
                     "{\"name\": \"邮件压测\", \"id_number\": \"110105194912310038\","
                     " \"phone\": \"13812345679\", \"region\": \"431022100201\","
                     " \"email\": \"bench@example.cn\"}",
                     NULL)
        != 0) {
        fprintf (stderr, "bench_notify: volunteer.register: %s\n", out);
        return 1;
    }
    for (int i = 0;
         i < 200 && atoi (harness_sql (h, "SELECT count (*) FROM notify.recipients")) < 2; i++)
        usleep (50000);
    harness_sql (h, "INSERT INTO notify.prefs (recipient_kind, recipient_id, channels)"
                    " VALUES ('volunteer', '2', '{email}')");
    snprintf (
        sql, sizeof sql,
        "INSERT INTO notify.notices (recipient_kind, recipient_id, kind, source, language,"
        " text, urgent, delivered_at, params) SELECT 'volunteer', '2', 'offer.made',"
        " 'bench-mail:' || i, 'zh', '派单：「陪张奶奶去卫生院复查」，明天 09:00 至 11:30，请在"
        " 今天 20:00 前答复。', true, now (), '{\"title\": \"陪张奶奶去卫生院复查\"}'"
        " FROM generate_series (1, %d) i",
        n);
    harness_sql (h, sql);
    int64_t mailed = bench_ns ();
    sent = 0;
    while (sent < n) {
        usleep (20000);
        sent = atol (harness_sql (h, "SELECT count (*) FROM notify.deliveries"
                                     " WHERE channel = 'email' AND status = 'sent'"));
        if (bench_ns () - mailed > 300 * 1000000000LL) {
            fprintf (stderr, "bench_notify: only %ld of %d e-mails sent in 300 s\n", sent, n);
            return 1;
        }
    }
    double mail_s = (double) (bench_ns () - mailed) / 1e9;
    double mail_load = bench_load_average ();
    long mail_dead =
        atol (harness_sql (h, "SELECT count (*) FROM notify.deliveries"
                              " WHERE channel = 'email' AND status IN ('dead', 'failed')"));
    harness_destroy (&h);
    long mails = atomic_exchange (&s_mails, 0);
    static const char message[] =
        "From: Station <notify@station.invalid>\r\nTo: <bench@example.cn>\r\nSubject: "
        "=?UTF-8?B?5rS+5Y2V77ya44CM6Zmq5byg5aW25aW25Y675Y2r55Sf6Zmi5aSN5p+"
        "l44CN77yM5piO5aSpIDA5OjAwIOiHsyAxMTo=?=\r\nDate: Mon, 07 Dec 2026 14:00:00 "
        "+0000\r\nMessage-ID: <notice-1@station.invalid>\r\nMIME-Version: 1.0\r\nContent-Type: "
        "text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: "
        "base64\r\n\r\n5rS+5Y2V77ya44CM6Zmq5byg5aW25aW25Y675Y2r55Sf6Zmi5aSN5p+"
        "l44CN77yM5piO5aSpIDA5OjAwIOiHsyAxMTozMO+8jOivt+WcqCDku4rlpKkgMjA6MDAg5YmN562U5aSN44CC\r\n";
    double curl_mail_s = s_curl_smtp (smtp_url, message, n, 200);
    double curl_mail_load = bench_load_average ();
    long curl_mails = atomic_exchange (&s_mails, 0);
    (void) start;
    long received = atomic_exchange (&s_received, 0);
    double curl_s = s_curl (url, sample, n, 200);
    double curl_load = bench_load_average ();
    printf ("notify webhook deliveries, signed, recorded  %8.0f /s  (%d in %.2f s; %ld received,"
            " %ld failed or dead; lateness p50 %.0f ms p99 %.0f ms; load %.1f)\n",
            n / notify_s, n, notify_s, received, dead, p50, p99, notify_load);
    printf ("curl's own POSTs, 200 at once (baseline)      %8.0f /s  (%d in %.2f s, %zu-byte"
            " bodies; load %.1f)\n",
            n / curl_s, n, curl_s, strlen (sample), curl_load);
    printf ("notify e-mails to an SMTP sink, recorded       %8.0f /s  (%d in %.2f s; %ld accepted,"
            " %ld failed or dead; load %.1f)\n",
            n / mail_s, n, mail_s, mails, mail_dead, mail_load);
    printf ("libcurl's own e-mails, 200 at once (baseline) %8.0f /s  (%d in %.2f s; %ld accepted,"
            " %zu-byte message; load %.1f)\n",
            n / curl_mail_s, n, curl_mail_s, curl_mails, strlen (message), curl_mail_load);
    free (sample);
    MHD_stop_daemon (daemon);
    curl_global_cleanup ();
    return 0;
}
