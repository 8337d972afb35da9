/*  bench_notify.c — notify's webhook deliveries per second to a local receiver (libmicrohttpd
    on 127.0.0.1, answering 204 at once), each signed as Standard Webhooks, its phone asked of
    registry per batch, its outcome and event recorded; beside the baseline: curl's own POSTs
    of bodies of the same size to the same receiver, as many at once as notify's batch, on
    reused connections, unsigned, with nothing recorded.
    Usage: bench_notify [deliveries (default 5000)]  */
#include "bench_util.h"
#include "harness.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int
main (int argc, char **argv)
{
    int n = argc > 1 ? atoi (argv[1]) : 5000;
    curl_global_init (CURL_GLOBAL_DEFAULT);
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

    setenv ("STATION_TEST_LOG_LEVEL", "error", 1);
    setenv ("STATION_NOTIFY_BATCH", "200", 1);
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
    harness_destroy (&h);
    (void) start;
    long received = atomic_exchange (&s_received, 0);
    double curl_s = s_curl (url, sample, n, 200);
    printf ("notify webhook deliveries, signed, recorded  %8.0f /s  (%d in %.2f s; %ld received,"
            " %ld failed or dead; lateness p50 %.0f ms p99 %.0f ms)\n",
            n / notify_s, n, notify_s, received, dead, p50, p99);
    printf ("curl's own POSTs, 200 at once (baseline)      %8.0f /s  (%d in %.2f s, %zu-byte"
            " bodies)\n",
            n / curl_s, n, curl_s, strlen (sample));
    free (sample);
    MHD_stop_daemon (daemon);
    curl_global_cleanup ();
    return 0;
}
