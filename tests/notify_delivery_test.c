/*  notify_delivery_test.c — notify's deliveries beyond the inbox to real receivers on
    127.0.0.1: an SMTP sink in this process (a small SMTP server of its own, which can go down
    and come back), and a webhook receiver (libmicrohttpd) that checks signatures and
    timestamps as the Standard Webhooks specification says, with a verifier written here
    (and npm's standardwebhooks where node finds it). E-mail with a Chinese subject and a
    Message-ID; retries while the sink is down; 500 forever dead-lettered while the others go
    through; 400 dead at once; 429 retried; resend; two notify processes; no phone or address
    in notify's schema or log.  */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "fixture.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define VILLAGE  "431022100201"
#define VILLAGE2 "431022100202"
#define VILLAGE3 "431022100203"
#define VILLAGE4 "431022100204"
#define COUNTY   "431022000000"
#define SECRET   "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwMDEyMzQ1Njc4OQ=="
#define SECRET2  "whsec_c3RhdGlvbi1zZWNvbmQtc2VjcmV0LWZvci10ZXN0cw=="
//  /slow* answers this long after a POST's body came (less than the send timeout, 3 s).
#define S_SLOW_MS 1200
//  Attempts: one at once and nine more a second apart (±20%), then dead.
#define RETRIES  "1,1,1,1,1,1,1,1,1"
#define ATTEMPTS 10

//  ---------------------------------------------------------------------------------------
//  The SMTP sink: one thread accepting, one per connection; messages kept in memory

#define S_MAX_MAILS 256

static struct {
    pthread_mutex_t lock;
    int port, listener;
    volatile bool up;
    pthread_t thread;
    char *mails[S_MAX_MAILS];
    int count;
    int sessions[64]; //  open connections (-1: none), shut when the sink stops
} s_smtp = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void
s_say (int fd, const char *line)
{
    if (write (fd, line, strlen (line)) < 0)
        return;
}

//  Reads one CRLF line into line (without it); false at the end of the connection.
static bool
s_line (int fd, char *buf, size_t *have, char *line, size_t size)
{
    for (;;) {
        char *end = memchr (buf, '\n', *have);
        if (end) {
            size_t len = (size_t) (end - buf) + 1;
            size_t copy = len - 1 < size - 1 ? len - 1 : size - 1;
            memcpy (line, buf, copy);
            line[copy] = 0;
            if (copy > 0 && line[copy - 1] == '\r')
                line[copy - 1] = 0;
            memmove (buf, buf + len, *have - len);
            *have -= len;
            return true;
        }
        if (*have >= 65536)
            return false;
        ssize_t got = read (fd, buf + *have, 65536 - *have);
        if (got <= 0)
            return false;
        *have += (size_t) got;
    }
}

static void *
s_smtp_session (void *arg)
{
    int fd = (int) (intptr_t) arg;
    char *buf = malloc (65536), line[4096];
    size_t have = 0;
    s_say (fd, "220 sink ESMTP\r\n");
    while (s_line (fd, buf, &have, line, sizeof line)) {
        if (strncasecmp (line, "EHLO", 4) == 0)
            s_say (fd, "250-sink\r\n250-8BITMIME\r\n250 SIZE 10000000\r\n");
        else if (strncasecmp (line, "HELO", 4) == 0 || strncasecmp (line, "MAIL", 4) == 0
                 || strncasecmp (line, "RCPT", 4) == 0 || strncasecmp (line, "RSET", 4) == 0
                 || strncasecmp (line, "NOOP", 4) == 0)
            s_say (fd, "250 ok\r\n");
        else if (strncasecmp (line, "DATA", 4) == 0) {
            s_say (fd, "354 go on\r\n");
            size_t size = 0, room = 4096;
            char *mail = malloc (room);
            bool ended = false;
            while (s_line (fd, buf, &have, line, sizeof line)) {
                if (strcmp (line, ".") == 0) {
                    ended = true;
                    break;
                }
                const char *text = line[0] == '.' ? line + 1 : line;
                size_t len = strlen (text);
                if (size + len + 3 > room) {
                    room = (size + len + 3) * 2;
                    mail = realloc (mail, room);
                }
                memcpy (mail + size, text, len);
                memcpy (mail + size + len, "\r\n", 2);
                size += len + 2;
            }
            mail[size] = 0;
            if (!ended) {
                free (mail);
                break;
            }
            pthread_mutex_lock (&s_smtp.lock);
            if (s_smtp.count < S_MAX_MAILS)
                s_smtp.mails[s_smtp.count++] = mail;
            else
                free (mail);
            pthread_mutex_unlock (&s_smtp.lock);
            s_say (fd, "250 queued\r\n");
        } else if (strncasecmp (line, "QUIT", 4) == 0) {
            s_say (fd, "221 bye\r\n");
            break;
        } else
            s_say (fd, "502 no\r\n");
    }
    free (buf);
    pthread_mutex_lock (&s_smtp.lock);
    for (int i = 0; i < 64; i++)
        if (s_smtp.sessions[i] == fd)
            s_smtp.sessions[i] = -1;
    pthread_mutex_unlock (&s_smtp.lock);
    close (fd);
    return NULL;
}

static void *
s_smtp_accept (void *arg)
{
    (void) arg;
    while (s_smtp.up) {
        struct pollfd p = {s_smtp.listener, POLLIN, 0};
        if (poll (&p, 1, 100) <= 0)
            continue;
        int fd = accept (s_smtp.listener, NULL, NULL);
        if (fd < 0)
            continue;
        fcntl (fd, F_SETFD, FD_CLOEXEC); //  never inherited by the services started later
        pthread_mutex_lock (&s_smtp.lock);
        for (int i = 0; i < 64; i++)
            if (s_smtp.sessions[i] < 0) {
                s_smtp.sessions[i] = fd;
                break;
            }
        pthread_mutex_unlock (&s_smtp.lock);
        pthread_t session;
        pthread_create (&session, NULL, s_smtp_session, (void *) (intptr_t) fd);
        pthread_detach (session);
    }
    return NULL;
}

//  Starts the sink (on its port of before, when it ran before).
static void
s_smtp_start (void)
{
    int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons (s_smtp.port)};
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    if (bind (fd, (struct sockaddr *) &addr, sizeof addr))
        fail_msg ("the SMTP sink cannot bind port %d: %s", s_smtp.port, strerror (errno));
    socklen_t len = sizeof addr;
    getsockname (fd, (struct sockaddr *) &addr, &len);
    s_smtp.port = ntohs (addr.sin_port);
    assert_int_equal (listen (fd, 64), 0);
    s_smtp.listener = fd;
    s_smtp.up = true;
    pthread_create (&s_smtp.thread, NULL, s_smtp_accept, NULL);
}

//  Stops: the open connections are cut, a new one is refused.
static void
s_smtp_stop (void)
{
    s_smtp.up = false;
    pthread_join (s_smtp.thread, NULL);
    close (s_smtp.listener);
    pthread_mutex_lock (&s_smtp.lock);
    for (int i = 0; i < 64; i++)
        if (s_smtp.sessions[i] >= 0)
            shutdown (s_smtp.sessions[i], SHUT_RDWR);
    pthread_mutex_unlock (&s_smtp.lock);
}

//  How many mails the sink holds that contain `part`; the last of them into *mail (a copy
//  the caller frees) when not NULL.
static int
s_mails (const char *part, char **mail)
{
    int count = 0;
    pthread_mutex_lock (&s_smtp.lock);
    for (int i = 0; i < s_smtp.count; i++)
        if (strstr (s_smtp.mails[i], part)) {
            count++;
            if (mail) {
                free (*mail);
                *mail = strdup (s_smtp.mails[i]);
            }
        }
    pthread_mutex_unlock (&s_smtp.lock);
    return count;
}

//  ---------------------------------------------------------------------------------------
//  The webhook receiver, and its verifier (written here from the specification)

#define S_MAX_HOOKS 512

typedef struct {
    char path[32], id[96], timestamp[32], signature[256];
    char *body;
    bool valid;
} s_hook_t;

static struct {
    pthread_mutex_t lock;
    struct MHD_Daemon *daemon;
    int port;
    s_hook_t hooks[S_MAX_HOOKS];
    int count;
    int too_many; //  /busy answers 429 this many times more
} s_web = {.lock = PTHREAD_MUTEX_INITIALIZER};

//  Standard Webhooks: the timestamp within five minutes of now; the signature of
//  "<id>.<timestamp>.<body>" with HMAC-SHA256 under the base64-decoded part of the secret
//  after "whsec_", base64, among the header's space-separated "v1,<signature>" entries.
static bool
s_verify (const char *secret, const char *id, const char *timestamp, const char *body,
          size_t body_len, const char *header)
{
    char *end;
    long long ts = strtoll (timestamp, &end, 10);
    if (!*timestamp || *end || llabs ((long long) time (NULL) - ts) > 300)
        return false;
    if (strncmp (secret, "whsec_", 6) != 0)
        return false;
    unsigned char key[128];
    size_t key_len;
    if (sodium_base642bin (key, sizeof key, secret + 6, strlen (secret + 6), NULL, &key_len, NULL,
                           sodium_base64_VARIANT_ORIGINAL))
        return false;
    size_t size = strlen (id) + strlen (timestamp) + body_len + 3;
    char *content = malloc (size);
    int n = snprintf (content, size, "%s.%s.", id, timestamp);
    memcpy (content + n, body, body_len);
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state state;
    crypto_auth_hmacsha256_init (&state, key, key_len);
    crypto_auth_hmacsha256_update (&state, (unsigned char *) content, (size_t) n + body_len);
    crypto_auth_hmacsha256_final (&state, mac);
    free (content);
    char expected[64];
    sodium_bin2base64 (expected, sizeof expected, mac, sizeof mac, sodium_base64_VARIANT_ORIGINAL);
    char copy[512];
    snprintf (copy, sizeof copy, "%s", header);
    char *saveptr;
    for (char *entry = strtok_r (copy, " ", &saveptr); entry;
         entry = strtok_r (NULL, " ", &saveptr))
        if (strncmp (entry, "v1,", 3) == 0 && strlen (entry + 3) == strlen (expected)
            && sodium_memcmp (entry + 3, expected, strlen (expected)) == 0)
            return true;
    return false;
}

typedef struct {
    char *body;
    size_t len;
} s_upload_t;

static enum MHD_Result
s_answer (void *cls, struct MHD_Connection *connection, const char *url, const char *method,
          const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    (void) cls, (void) version, (void) method;
    s_upload_t *upload = *con_cls;
    if (!upload) {
        *con_cls = calloc (1, sizeof (s_upload_t));
        return MHD_YES;
    }
    if (*upload_data_size) {
        upload->body = realloc (upload->body, upload->len + *upload_data_size + 1);
        memcpy (upload->body + upload->len, upload_data, *upload_data_size);
        upload->len += *upload_data_size;
        upload->body[upload->len] = 0;
        *upload_data_size = 0;
        return MHD_YES;
    }
    const char *id = MHD_lookup_connection_value (connection, MHD_HEADER_KIND, "webhook-id");
    const char *ts = MHD_lookup_connection_value (connection, MHD_HEADER_KIND, "webhook-timestamp");
    const char *sig =
        MHD_lookup_connection_value (connection, MHD_HEADER_KIND, "webhook-signature");
    const char *secret = strcmp (url, "/second") == 0 ? SECRET2 : SECRET;
    bool valid = id && ts && sig && upload->body
                 && s_verify (secret, id, ts, upload->body, upload->len, sig);
    unsigned status = valid ? 204 : 401;
    pthread_mutex_lock (&s_web.lock);
    if (s_web.count < S_MAX_HOOKS) {
        s_hook_t *hook = &s_web.hooks[s_web.count++];
        snprintf (hook->path, sizeof hook->path, "%s", url);
        snprintf (hook->id, sizeof hook->id, "%s", id ? id : "");
        snprintf (hook->timestamp, sizeof hook->timestamp, "%s", ts ? ts : "");
        snprintf (hook->signature, sizeof hook->signature, "%s", sig ? sig : "");
        hook->body = upload->body ? strdup (upload->body) : strdup ("");
        hook->valid = valid;
    }
    if (valid && strcmp (url, "/fail") == 0)
        status = 500;
    else if (valid && strcmp (url, "/bad") == 0)
        status = 400;
    else if (valid && strcmp (url, "/busy") == 0 && s_web.too_many > 0) {
        s_web.too_many--;
        status = 429;
    }
    pthread_mutex_unlock (&s_web.lock);
    if (strncmp (url, "/slow", 5) == 0)
        fx_sleep_ms (S_SLOW_MS);
    struct MHD_Response *response =
        MHD_create_response_from_buffer (0, (void *) "", MHD_RESPMEM_PERSISTENT);
    enum MHD_Result rc = MHD_queue_response (connection, status, response);
    MHD_destroy_response (response);
    return rc;
}

static void
s_completed (void *cls, struct MHD_Connection *connection, void **con_cls,
             enum MHD_RequestTerminationCode code)
{
    (void) cls, (void) connection, (void) code;
    s_upload_t *upload = *con_cls;
    if (upload) {
        free (upload->body);
        free (upload);
    }
    *con_cls = NULL;
}

static void
s_web_start (void)
{
    s_web.daemon = MHD_start_daemon (
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL, NULL, s_answer,
        NULL, MHD_OPTION_NOTIFY_COMPLETED, s_completed, NULL, MHD_OPTION_SOCK_ADDR,
        &(struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK)},
        MHD_OPTION_END);
    assert_non_null (s_web.daemon);
    s_web.port = MHD_get_daemon_info (s_web.daemon, MHD_DAEMON_INFO_BIND_PORT)->port;
}

//  How many POSTs reached `path` whose body holds `part` (NULL: any), and how many of them
//  carried a valid signature; the last one into *last when not NULL.
static int
s_hooks (const char *path, const char *part, int *valid, s_hook_t *last)
{
    int count = 0;
    if (valid)
        *valid = 0;
    pthread_mutex_lock (&s_web.lock);
    for (int i = 0; i < s_web.count; i++) {
        s_hook_t *hook = &s_web.hooks[i];
        if (strcmp (hook->path, path) != 0 || (part && !strstr (hook->body, part)))
            continue;
        count++;
        if (valid && hook->valid)
            (*valid)++;
        if (last)
            *last = *hook;
    }
    pthread_mutex_unlock (&s_web.lock);
    return count;
}

//  How many POSTs reached `path` for delivery `delivery` (its id): those whose webhook-id is
//  the delivery's, as the receiver would drop copies by it. A person's id is a small number
//  that any body may hold (in a time, a phone, another notice's id), so this is how a test
//  counts the sends of one notice; the last one into *last when not NULL.
static int
s_hooks_of (const char *path, const char *delivery, int *valid, s_hook_t *last)
{
    char id[96];
    snprintf (id, sizeof id, "msg_station_delivery_%s", delivery);
    int count = 0;
    if (valid)
        *valid = 0;
    pthread_mutex_lock (&s_web.lock);
    for (int i = 0; i < s_web.count; i++) {
        s_hook_t *hook = &s_web.hooks[i];
        if (strcmp (hook->path, path) != 0 || strcmp (hook->id, id) != 0)
            continue;
        count++;
        if (valid && hook->valid)
            (*valid)++;
        if (last)
            *last = *hook;
    }
    pthread_mutex_unlock (&s_web.lock);
    return count;
}

//  Fails unless exactly `expected` POSTs reached `path` for delivery `delivery`, all validly
//  signed, listing every POST to `path` when not.
static void
s_expect_hooks (const char *path, const char *delivery, int expected)
{
    int valid;
    int count = s_hooks_of (path, delivery, &valid, NULL);
    if (count == expected && valid == expected)
        return;
    pthread_mutex_lock (&s_web.lock);
    for (int i = 0; i < s_web.count; i++)
        if (strcmp (s_web.hooks[i].path, path) == 0)
            print_message ("POST %s webhook-id %s (%s): %s\n", path, s_web.hooks[i].id,
                           s_web.hooks[i].valid ? "valid" : "invalid", s_web.hooks[i].body);
    pthread_mutex_unlock (&s_web.lock);
    fail_msg ("%d POSTs to %s for delivery %s (%d validly signed), not %d", count, path, delivery,
              valid, expected);
}

//  How many POSTs reached `path`, and under how many distinct webhook-ids (*distinct).
static int
s_copies (const char *path, int *distinct)
{
    int count = 0;
    *distinct = 0;
    pthread_mutex_lock (&s_web.lock);
    for (int i = 0; i < s_web.count; i++) {
        if (strcmp (s_web.hooks[i].path, path) != 0)
            continue;
        count++;
        bool seen = false;
        for (int k = 0; k < i && !seen; k++)
            seen = strcmp (s_web.hooks[k].path, path) == 0
                   && strcmp (s_web.hooks[k].id, s_web.hooks[i].id) == 0;
        *distinct += !seen;
    }
    pthread_mutex_unlock (&s_web.lock);
    return count;
}

//  ---------------------------------------------------------------------------------------
//  The fixture

static int
s_setup (void **state)
{
    (void) state;
    assert_int_equal (sodium_init () < 0, 0);
    for (int i = 0; i < 64; i++)
        s_smtp.sessions[i] = -1;
    s_smtp_start ();
    s_web_start ();
    char url[64];
    snprintf (url, sizeof url, "smtp://127.0.0.1:%d", s_smtp.port);
    setenv ("STATION_SMTP_URL", url, 1);
    setenv ("STATION_SMTP_FROM", "Station <notify@station.test>", 1);
    setenv ("STATION_NOTIFY_RETRY_S", RETRIES, 1);
    setenv ("STATION_NOTIFY_SEND_TIMEOUT_MS", "3000", 1);
    fx_new ("notify_delivery_test", FX_REGISTRY | FX_MATCH | FX_NOTIFY);
    fx_county_add ();
    //  No quiet hours in the county: the tests run at any hour.
    fx_notify_no_quiet_hours (COUNTY);
    return 0;
}

static int
s_teardown (void **state)
{
    fx_teardown (state);
    MHD_stop_daemon (s_web.daemon);
    if (s_smtp.up)
        s_smtp_stop ();
    return 0;
}

//  A volunteer of `region` with an e-mail address (when email is not NULL) and channels (a
//  JSON array); their id into `id`, their phone into `phone` (from volunteer.reveal).
static void
s_person (const char *name, const char *region, const char *email, const char *channels,
          char id[32], char phone[32])
{
    char extra[128] = "";
    if (email)
        snprintf (extra, sizeof extra, ", \"email\": \"%s\"", email);
    fx_volunteer_add (name, region, "[\"急救\"]", "[]", 25.401, 112.951, extra, id);
    msg_actor_t self = fx_volunteer (id);
    char body[256];
    snprintf (body, sizeof body, "{\"channels\": %s}", channels);
    json_decref (fx_call_ok ("notify", &self, "prefs.set", body));
    if (phone) {
        snprintf (body, sizeof body, "{\"id\": \"%s\", \"reason\": \"test\"}", id);
        msg_actor_t admin = fx_admin ("region_admin", COUNTY);
        json_t *revealed = fx_call_ok ("registry", &admin, "volunteer.reveal", body);
        snprintf (phone, 32, "%s", fx_str (revealed, "phone"));
        json_decref (revealed);
    }
    //  notify knows where they belong (for the region's webhook).
    fx_wait_for (1, "SELECT count (*) FROM notify.recipients WHERE id = '%s'", id);
}

//  An activity of `region`, two days ahead, and `volunteer` signed up to it: a
//  signup.confirmed notice. The activity's id into `activity`.
static void
s_signup (const char *title, const char *region, const char *volunteer, char activity[32])
{
    time_t t = time (NULL) + 2 * 86400 + 8 * 3600;
    char starts[40], ends[40], body[512];
    struct tm tm;
    gmtime_r (&t, &tm);
    strftime (starts, sizeof starts, "%Y-%m-%dT%H:%M:%S+08:00", &tm);
    t += 7200;
    gmtime_r (&t, &tm);
    strftime (ends, sizeof ends, "%Y-%m-%dT%H:%M:%S+08:00", &tm);
    snprintf (body, sizeof body,
              "{\"title\": \"%s\", \"category\": \"助老\", \"region\": \"%s\","
              " \"starts_at\": \"%s\", \"ends_at\": \"%s\", \"capacity\": 50,"
              " \"signup_closes_at\": \"%s\"}",
              title, region, starts, ends, starts);
    fx_activity_add (body, activity);
    msg_actor_t self = fx_volunteer (volunteer);
    fx_activity_signup (&self, activity);
}

//  The deliveries of volunteer `id` on `channel` as the system lists them: the newest's
//  field `field` (static buffer; "" when none).
static const char *
s_delivery (const char *id, const char *channel, const char *field)
{
    static char value[512];
    value[0] = 0;
    char body[128];
    snprintf (body, sizeof body, "{\"channel\": \"%s\", \"limit\": 200}", channel);
    json_t *page = fx_call_ok ("notify", &FX_SYSTEM, "delivery.list", body);
    size_t i;
    json_t *item;
    json_array_foreach (json_object_get (page, "items"), i, item)
    {
        if (strcmp (fx_str (item, "recipient_id"), id) == 0) {
            json_t *v = json_object_get (item, field);
            if (json_is_string (v))
                snprintf (value, sizeof value, "%s", json_string_value (v));
            else if (json_is_integer (v))
                snprintf (value, sizeof value, "%lld", (long long) json_integer_value (v));
            break;
        }
    }
    json_decref (page);
    return value;
}

//  Waits until that delivery reads `status`.
static void
s_wait_delivery (const char *id, const char *channel, const char *status, int ms)
{
    for (int waited = 0; waited < ms; waited += 100) {
        if (strcmp (s_delivery (id, channel, "status"), status) == 0)
            return;
        fx_sleep_ms (100);
    }
    char now[32];
    snprintf (now, sizeof now, "%s", s_delivery (id, channel, "status"));
    fail_msg ("the %s delivery of %s is \"%s\", not \"%s\" (%s)", channel, id, now, status,
              s_delivery (id, channel, "last_error"));
}

static void
s_webhook_set (const char *region, const char *path, const char *secret, const char *kinds)
{
    char body[512];
    snprintf (body, sizeof body, "{\"region\": \"%s\", \"url\": \"http://127.0.0.1:%d%s\"%s%s%s%s}",
              region, s_web.port, path, secret ? ", \"secret\": \"" : "", secret ? secret : "",
              secret ? "\"" : "", kinds ? kinds : "");
    msg_actor_t admin = fx_admin ("region_admin", region);
    json_decref (fx_call_ok ("notify", &admin, "channel.set", body));
}

//  The value of header `name` in a mail (static buffer, unfolded).
static const char *
s_header (const char *mail, const char *name)
{
    static char value[2048];
    value[0] = 0;
    char key[64];
    snprintf (key, sizeof key, "\r\n%s: ", name);
    const char *at = strstr (mail, key);
    if (!at)
        return value;
    at += strlen (key);
    size_t n = 0;
    while (*at && n + 1 < sizeof value) {
        if (at[0] == '\r' && at[1] == '\n') {
            if (at[2] != ' ' && at[2] != '\t')
                break;
            at += 2;
            continue;
        }
        value[n++] = *at++;
    }
    value[n] = 0;
    return value;
}

//  An RFC 2047 header of base64 UTF-8 words decoded (static buffer).
static const char *
s_decode_words (const char *header)
{
    static char out[2048];
    size_t n = 0;
    const char *p = header;
    while ((p = strstr (p, "=?UTF-8?B?"))) {
        p += 10;
        const char *end = strstr (p, "?=");
        assert_non_null (end);
        size_t len;
        assert_int_equal (sodium_base642bin ((unsigned char *) out + n, sizeof out - n - 1, p,
                                             (size_t) (end - p), NULL, &len, NULL,
                                             sodium_base64_VARIANT_ORIGINAL),
                          0);
        n += len;
        p = end + 2;
    }
    out[n] = 0;
    return out;
}

//  ---------------------------------------------------------------------------------------
//  E-mail

static void
test_email (void **state)
{
    (void) state;
    char v[32], activity[32];
    s_person ("邮件甲", VILLAGE, "jia@example.cn", "[\"email\"]", v, NULL);
    s_signup ("敬老院探访", VILLAGE, v, activity);
    s_wait_delivery (v, "email", "sent", 15000);
    char *mail = NULL;
    assert_int_equal (s_mails ("<jia@example.cn>", &mail), 1);
    const char *subject = s_decode_words (s_header (mail, "Subject"));
    if (strncmp (subject, "报名成功：「敬老院探访」", strlen ("报名成功：「敬老院探访」")) != 0)
        fail_msg ("the subject decodes to \"%s\"", subject);
    char message_id[128];
    snprintf (message_id, sizeof message_id, "%s", s_header (mail, "Message-ID"));
    char expected[128];
    char notice[32];
    snprintf (notice, sizeof notice, "%s", s_delivery (v, "email", "notice_id"));
    snprintf (expected, sizeof expected, "<notice-%s.delivery-%s@station.notify>", notice,
              s_delivery (v, "email", "id"));
    assert_string_equal (message_id, expected);
    assert_non_null (strstr (mail, "Content-Transfer-Encoding: base64"));
    free (mail);
    assert_string_equal (s_delivery (v, "email", "attempts"), "1");
    assert_true (fx_events ("notification.delivered", s_delivery (v, "email", "id")) == 1);
}

//  The sink down: the delivery fails and is tried again; back up, it goes through, once.
static void
test_email_sink_down (void **state)
{
    (void) state;
    char v[32], activity[32];
    s_person ("邮件乙", VILLAGE, "yi@example.cn", "[\"email\"]", v, NULL);
    s_smtp_stop ();
    s_signup ("社区义诊", VILLAGE, v, activity);
    for (int waited = 0; waited < 15000 && atoi (s_delivery (v, "email", "attempts")) < 2;
         waited += 100)
        fx_sleep_ms (100);
    assert_true (atoi (s_delivery (v, "email", "attempts")) >= 2);
    assert_string_equal (s_delivery (v, "email", "status"), "failed");
    assert_non_null (strstr (s_delivery (v, "email", "last_error"), "smtp"));
    s_smtp_start ();
    s_wait_delivery (v, "email", "sent", 15000);
    fx_sleep_ms (1500);
    assert_int_equal (s_mails ("<yi@example.cn>", NULL), 1);
}

//  Quiet hours hold a non-urgent notice's e-mail as they hold its inbox copy.
static void
test_email_quiet_hours (void **state)
{
    (void) state;
    char v[32], activity[32];
    s_person ("邮件丙", VILLAGE, "bing@example.cn", "[\"email\"]", v, NULL);
    msg_actor_t self = fx_volunteer (v);
    //  Quiet all day but the last second (a run in that second would see it sent).
    json_decref (fx_call_ok ("notify", &self, "prefs.set",
                             "{\"quiet_hours\": {\"from\": \"00:00\", \"to\": \"23:59:59\"}}"));
    s_signup ("安静时段", VILLAGE, v, activity);
    fx_wait_for (1,
                 "SELECT count (*) FROM notify.deliveries d JOIN notify.notices n"
                 " ON n.id = d.notice_id WHERE n.recipient_id = '%s' AND d.channel = 'email'"
                 " AND d.status = 'pending' AND d.next_at > now () + interval '1 minute'",
                 v);
    fx_sleep_ms (1500);
    assert_string_equal (s_delivery (v, "email", "attempts"), "0");
    assert_int_equal (s_mails ("<bing@example.cn>", NULL), 0);
}

//  ---------------------------------------------------------------------------------------
//  Webhooks

//  npm's standardwebhooks verifies the POST too: tests/js's (scripts/test installs it with npm
//  ci), else wherever node finds it (NODE_PATH); skipped with a message where neither is.
static void
s_node_verify (const s_hook_t *hook, const char *secret, bool expected)
{
    char modules[600];
    const char *source = getenv ("STATION_SOURCE_DIR");
    snprintf (modules, sizeof modules, "%s/tests/js/node_modules", source ? source : ".");
    const char *outer = getenv ("NODE_PATH");
    char node_path[1200];
    snprintf (node_path, sizeof node_path, "%s%s%s", modules, outer ? ":" : "", outer ? outer : "");
    setenv ("NODE_PATH", node_path, 1);
    if (system ("node -e 'require(\"standardwebhooks\")' >/dev/null 2>&1") != 0) {
        print_message (
            "skipped: node with npm's standardwebhooks not found (tests/js, NODE_PATH)\n");
        return;
    }
    char dir[512], path[600], command[1400];
    snprintf (dir, sizeof dir, "%s", harness_dir (fx_harness ()));
    snprintf (path, sizeof path, "%s/hook.json", dir);
    FILE *file = fopen (path, "w");
    assert_non_null (file);
    json_t *json =
        json_pack ("{s:s, s:s, s:s, s:s, s:s}", "secret", secret, "id", hook->id, "timestamp",
                   hook->timestamp, "signature", hook->signature, "body", hook->body);
    json_dumpf (json, file, 0);
    json_decref (json);
    fclose (file);
    snprintf (command, sizeof command,
              "node -e 'const {Webhook} = require(\"standardwebhooks\");"
              " const h = JSON.parse(require(\"fs\").readFileSync(\"%s\"));"
              " new Webhook(h.secret).verify(h.body, {\"webhook-id\": h.id,"
              " \"webhook-timestamp\": h.timestamp, \"webhook-signature\": h.signature});'"
              " >/dev/null 2>&1",
              path);
    int status = system (command);
    assert_int_equal (WIFEXITED (status) && WEXITSTATUS (status) == 0, expected);
}

static void
test_webhook_signed (void **state)
{
    (void) state;
    char v[32], phone[32], activity[32];
    s_webhook_set (COUNTY, "/ok", SECRET, NULL);
    //  channel.get shows a mask, never the secret.
    msg_actor_t admin = fx_admin ("region_admin", COUNTY);
    json_t *got = fx_call_ok ("notify", &admin, "channel.get", "{\"region\": \"" VILLAGE "\"}");
    assert_string_equal (fx_str (got, "from"), COUNTY);
    assert_string_equal (fx_str (got, "secret"), "whsec_****OQ==");
    json_decref (got);
    assert_int_equal (fx_count ("SELECT count (*) FROM notify.webhooks"
                                " WHERE encode (secret, 'escape') LIKE '%%MfKQ9r8%%'"),
                      0);
    s_person ("短信甲", VILLAGE, NULL, "[\"sms\"]", v, phone);
    s_signup ("助老陪诊", VILLAGE, v, activity);
    s_wait_delivery (v, "sms", "sent", 15000);
    char delivery[32];
    snprintf (delivery, sizeof delivery, "%s", s_delivery (v, "sms", "id"));
    s_expect_hooks ("/ok", delivery, 1);
    s_hook_t hook;
    assert_int_equal (s_hooks_of ("/ok", delivery, NULL, &hook), 1);
    json_t *body = json_loads (hook.body, 0, NULL);
    assert_non_null (body);
    json_t *data = json_object_get (body, "data");
    assert_string_equal (fx_str (data, "phone"), phone);
    assert_string_equal (fx_str (data, "kind"), "signup.confirmed");
    assert_string_equal (fx_str (data, "channel"), "sms");
    assert_string_equal (fx_str (data, "language"), "zh");
    assert_non_null (strstr (fx_str (data, "text"), "报名成功"));
    assert_string_equal (fx_str (json_object_get (data, "params"), "title"), "助老陪诊");
    assert_string_equal (fx_str (json_object_get (data, "recipient"), "id"), v);
    json_decref (body);
    //  The verifier accepts what notify signed, and refuses a tampered body, another
    //  secret, an old timestamp.
    assert_true (
        s_verify (SECRET, hook.id, hook.timestamp, hook.body, strlen (hook.body), hook.signature));
    char *tampered = strdup (hook.body);
    char *digit = strpbrk (tampered, "0123456789");
    *digit = *digit == '9' ? '8' : (char) (*digit + 1);
    assert_false (
        s_verify (SECRET, hook.id, hook.timestamp, tampered, strlen (tampered), hook.signature));
    assert_false (
        s_verify (SECRET2, hook.id, hook.timestamp, hook.body, strlen (hook.body), hook.signature));
    char old[32];
    snprintf (old, sizeof old, "%lld", atoll (hook.timestamp) - 600);
    assert_false (s_verify (SECRET, hook.id, old, hook.body, strlen (hook.body), hook.signature));
    s_node_verify (&hook, SECRET, true);
    s_hook_t bad = hook;
    bad.body = tampered;
    s_node_verify (&bad, SECRET, false);
    free (tampered);
}

//  A receiver answering 500 forever: dead after the schedule, while the person's e-mail and
//  another region's webhook go through at once; resent, it goes through.
static void
test_webhook_dead_others_unaffected (void **state)
{
    (void) state;
    char a[32], b[32], act_a[32], act_b[32];
    s_webhook_set (COUNTY, "/fail", SECRET, NULL);
    s_webhook_set (VILLAGE2, "/second", SECRET2, NULL);
    s_person ("失败甲", VILLAGE, "shibai@example.cn", "[\"sms\", \"email\"]", a, NULL);
    s_person ("成功乙", VILLAGE2, NULL, "[\"wechat\"]", b, NULL);
    s_signup ("失败测试", VILLAGE, a, act_a);
    s_signup ("成功测试", VILLAGE2, b, act_b);
    s_wait_delivery (b, "wechat", "sent", 15000);
    assert_string_equal (s_delivery (b, "wechat", "attempts"), "1");
    s_wait_delivery (a, "email", "sent", 15000);
    assert_string_equal (s_delivery (a, "email", "attempts"), "1");
    //  Counted by delivery (webhook-id), not by the person's id in the body: that is a small
    //  number which another POST's times or phone may hold too (test_webhook_signed's to /ok).
    char id[32];
    snprintf (id, sizeof id, "%s", s_delivery (b, "wechat", "id"));
    s_expect_hooks ("/second", id, 1);
    s_wait_delivery (a, "sms", "dead", 40000);
    char attempts[8];
    snprintf (attempts, sizeof attempts, "%d", ATTEMPTS);
    assert_string_equal (s_delivery (a, "sms", "attempts"), attempts);
    assert_non_null (strstr (s_delivery (a, "sms", "last_error"), "http 500"));
    //  Every attempt carried the same webhook-id: all the POSTs to /fail are this delivery's.
    snprintf (id, sizeof id, "%s", s_delivery (a, "sms", "id"));
    s_expect_hooks ("/fail", id, ATTEMPTS);
    assert_int_equal (s_hooks ("/fail", NULL, NULL, NULL), ATTEMPTS);
    json_t *failed = NULL;
    fx_wait_for (1, "SELECT count (*) FROM notify.outbox WHERE topic = 'notification.failed'");
    assert_int_equal (fx_events_json ("notification.failed", id, &failed), 1);
    assert_non_null (strstr (fx_str (failed, "error"), "http 500"));
    json_decref (failed);
    //  Listed as dead, resent by the county's admin once the receiver is fixed.
    msg_actor_t admin = fx_admin ("region_admin", COUNTY);
    json_t *page = fx_call_ok ("notify", &admin, "delivery.list", "{\"status\": \"dead\"}");
    assert_true (json_array_size (json_object_get (page, "items")) >= 1);
    json_decref (page);
    s_webhook_set (COUNTY, "/ok", NULL, NULL);
    char body[64];
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", id);
    json_t *resent = fx_call_ok ("notify", &admin, "delivery.resend", body);
    assert_string_equal (fx_str (resent, "status"), "pending");
    json_decref (resent);
    s_wait_delivery (a, "sms", "sent", 15000);
    s_expect_hooks ("/ok", id, 1);
    //  A sent one is not sent again; another region's admin sees none of it.
    st_error_t err;
    fx_expect ("resend of a sent delivery",
               fx_call ("notify", &admin, "delivery.resend", body, NULL, &err), &err,
               ST_FAILED_PRECONDITION, "id");
    msg_actor_t other = fx_admin ("region_admin", "431021000000");
    fx_expect ("resend out of scope",
               fx_call ("notify", &other, "delivery.resend", body, NULL, &err), &err, ST_NOT_FOUND,
               "id");
    msg_actor_t self = fx_volunteer (a);
    fx_expect ("a volunteer's delivery.list",
               fx_call ("notify", &self, "delivery.list", "{}", NULL, &err), &err,
               ST_PERMISSION_DENIED, "actor.role");
}

//  400: permanent, dead at once. 429: tried again, then sent.
static void
test_webhook_400_429 (void **state)
{
    (void) state;
    char a[32], b[32], act[32];
    s_webhook_set (COUNTY, "/bad", NULL, NULL);
    s_person ("四百", VILLAGE, NULL, "[\"sms\"]", a, NULL);
    s_signup ("四百测试", VILLAGE, a, act);
    s_wait_delivery (a, "sms", "dead", 15000);
    assert_string_equal (s_delivery (a, "sms", "attempts"), "1");
    assert_string_equal (s_delivery (a, "sms", "last_error"), "http 400");

    pthread_mutex_lock (&s_web.lock);
    s_web.too_many = 2;
    pthread_mutex_unlock (&s_web.lock);
    s_webhook_set (COUNTY, "/busy", NULL, NULL);
    s_person ("四二九", VILLAGE, NULL, "[\"sms\"]", b, NULL);
    s_signup ("忙碌测试", VILLAGE, b, act);
    s_wait_delivery (b, "sms", "sent", 15000);
    assert_string_equal (s_delivery (b, "sms", "attempts"), "3");
    s_webhook_set (COUNTY, "/ok", NULL, NULL);
}

//  Bad input names its field and changes nothing.
static void
test_channel_checks (void **state)
{
    (void) state;
    msg_actor_t admin = fx_admin ("region_admin", COUNTY);
    msg_actor_t station = fx_admin ("station_admin", COUNTY);
    msg_actor_t other = fx_admin ("region_admin", "431021000000");
    st_error_t err;
    fx_expect ("a secret not whsec_",
               fx_call ("notify", &admin, "channel.set",
                        "{\"region\": \"" COUNTY "\", \"url\": \"http://x.cn/\","
                        " \"secret\": \"plainsecret\"}",
                        NULL, &err),
               &err, ST_INVALID_ARGUMENT, "secret");
    fx_expect ("a url not http",
               fx_call ("notify", &admin, "channel.set",
                        "{\"region\": \"" COUNTY "\", \"url\": \"ftp://x.cn/\"}", NULL, &err),
               &err, ST_INVALID_ARGUMENT, "url");
    fx_expect ("an unknown kind",
               fx_call ("notify", &admin, "channel.set",
                        "{\"region\": \"" COUNTY "\", \"url\": \"http://x.cn/\","
                        " \"kinds\": [\"nonsense\"]}",
                        NULL, &err),
               &err, ST_INVALID_ARGUMENT, "kinds");
    fx_expect ("a first webhook without a secret",
               fx_call ("notify", &admin, "channel.set",
                        "{\"region\": \"431022101000\", \"url\": \"http://x.cn/\"}", NULL, &err),
               &err, ST_INVALID_ARGUMENT, "secret");
    fx_expect ("a station admin",
               fx_call ("notify", &station, "channel.set",
                        "{\"region\": \"" COUNTY "\", \"url\": \"http://x.cn/\"}", NULL, &err),
               &err, ST_PERMISSION_DENIED, "actor");
    fx_expect ("out of scope",
               fx_call ("notify", &other, "channel.set",
                        "{\"region\": \"" COUNTY "\", \"url\": \"http://x.cn/\"}", NULL, &err),
               &err, ST_PERMISSION_DENIED, "region");
    msg_actor_t self = fx_volunteer ("1");
    fx_expect ("an unknown channel",
               fx_call ("notify", &self, "prefs.set", "{\"channels\": [\"fax\"]}", NULL, &err),
               &err, ST_INVALID_ARGUMENT, "channels");
    json_t *got = fx_call_ok ("notify", &admin, "channel.get", "{\"region\": \"" COUNTY "\"}");
    assert_non_null (strstr (fx_str (got, "url"), "/ok"));
    json_decref (got);
}

//  The delivery rows follow a notice made in any session, not only in notify's own (its
//  search path): an operator's repair by hand gets its deliveries too.
static void
test_any_session (void **state)
{
    (void) state;
    char v[32];
    s_person ("会话", VILLAGE, "huihua@example.cn", "[\"email\", \"sms\"]", v, NULL);
    fx_sql ("INSERT INTO notify.notices (recipient_kind, recipient_id, kind, source, language,"
            " text, urgent, delivered_at) VALUES ('volunteer', '%s', 'offer.made', 'by-hand:1',"
            " 'zh', '派单：手工补发。', true, now ())",
            v);
    s_wait_delivery (v, "email", "sent", 15000);
    s_wait_delivery (v, "sms", "sent", 15000);
}

//  ---------------------------------------------------------------------------------------
//  Two notify processes: each delivery once

static void
test_two_replicas (void **state)
{
    (void) state;
    s_webhook_set (COUNTY, "/ok", NULL, NULL);
    pid_t second = fx_notify_replica ();
    enum { N = 12 };
    char v[N][32], act[32];
    for (int i = 0; i < N; i++) {
        char name[32];
        snprintf (name, sizeof name, "副本%c", 'A' + i);
        s_person (name, VILLAGE, NULL, "[\"sms\", \"wechat\"]", v[i], NULL);
    }
    //  One activity, everyone signed up: 2 × N deliveries due at once.
    s_signup ("双进程", VILLAGE, v[0], act);
    char body[64];
    snprintf (body, sizeof body, "{\"activity_id\": \"%s\"}", act);
    for (int i = 1; i < N; i++) {
        msg_actor_t self = fx_volunteer (v[i]);
        json_decref (fx_call_ok ("match", &self, "activity.signup", body));
    }
    for (int i = 0; i < N; i++) {
        s_wait_delivery (v[i], "sms", "sent", 20000);
        s_wait_delivery (v[i], "wechat", "sent", 20000);
    }
    fx_sleep_ms (1500);
    for (int i = 0; i < N; i++) {
        char part[512];
        snprintf (part, sizeof part, "\"id\":\"%s\"}", v[i]);
        assert_int_equal (s_hooks ("/ok", part, NULL, NULL), 2);
        assert_string_equal (s_delivery (v[i], "sms", "attempts"), "1");
    }
    fx_notify_replica_stop (second);
}

//  ---------------------------------------------------------------------------------------
//  A slow receiver and a large batch: each delivery sent once; a notify killed mid-batch
//  sends again only what was in flight

enum { S_SLOW_COUNT = 150 };

//  A person of `region` (sms only, the region's webhook at `path`) and S_SLOW_COUNT notices
//  for them at once: more deliveries than transfers at once to one receiver (64). Their id
//  into `v`.
static void
s_slow_batch (const char *region, const char *path, const char *name, char v[32])
{
    s_webhook_set (region, path, SECRET, NULL);
    s_person (name, region, NULL, "[\"sms\"]", v, NULL);
    fx_sql ("INSERT INTO notify.notices (recipient_kind, recipient_id, kind, source, language,"
            " text, urgent, delivered_at) SELECT 'volunteer', '%s', 'offer.made',"
            " 'by-hand:%s:' || g, 'zh', '派单：慢的接收方。', true, now ()"
            " FROM generate_series (1, %d) g",
            v, path, S_SLOW_COUNT);
}

static long
s_slow_sent (const char *v)
{
    return fx_count ("SELECT count (*) FROM notify.deliveries d JOIN notify.notices n"
                     " ON n.id = d.notice_id WHERE n.recipient_id = '%s' AND d.channel = 'sms'"
                     " AND d.status = 'sent'",
                     v);
}

static void
test_slow_receiver_once (void **state)
{
    (void) state;
    char v[32];
    s_slow_batch (VILLAGE3, "/slow", "慢收", v);
    //  Three waves of 64 at most, each answered after S_SLOW_MS: the last transfers start
    //  long after the batch did, and each must still be waited for, not sent again.
    for (int waited = 0; s_slow_sent (v) < S_SLOW_COUNT && waited < 15000; waited += 100)
        fx_sleep_ms (100);
    fx_sleep_ms (1000);
    int distinct, count = s_copies ("/slow", &distinct);
    assert_int_equal (s_slow_sent (v), S_SLOW_COUNT);
    assert_int_equal (distinct, S_SLOW_COUNT);
    assert_int_equal (count, S_SLOW_COUNT);
}

static void
test_killed_mid_batch (void **state)
{
    (void) state;
    char v[32];
    s_slow_batch (VILLAGE4, "/slow2", "慢杀", v);
    //  The first wave answered (the second has begun), then notify is killed.
    int distinct, waited = 0;
    while (s_copies ("/slow2", &distinct) <= 64 && waited < 10000) {
        fx_sleep_ms (50);
        waited += 50;
    }
    fx_sleep_ms (300);
    fx_restart ("notify", SIGKILL);
    int before = s_copies ("/slow2", &distinct);
    //  What finished before the kill was recorded as it finished, not at the batch's end.
    long recorded = s_slow_sent (v);
    if (recorded < 64)
        fail_msg ("%ld of the first 64 answered deliveries recorded before the kill (%d POSTs)",
                  recorded, before);
    //  The rest when the lease ends, brought forward here (its length is not what this
    //  shows): at most what was in flight sent twice.
    fx_sql ("UPDATE notify.deliveries d SET next_at = now () FROM notify.notices n"
            " WHERE n.id = d.notice_id AND n.recipient_id = '%s' AND d.channel = 'sms'"
            " AND d.status IN ('pending', 'failed')",
            v);
    fx_sql ("SELECT pg_notify ('notify.reminders', '')");
    for (waited = 0; s_slow_sent (v) < S_SLOW_COUNT && waited < 15000; waited += 100)
        fx_sleep_ms (100);
    fx_sleep_ms (1000);
    int count = s_copies ("/slow2", &distinct);
    assert_int_equal (s_slow_sent (v), S_SLOW_COUNT);
    assert_int_equal (distinct, S_SLOW_COUNT);
    if (count - distinct > before - (int) recorded)
        fail_msg ("%d copies sent again; only the %d in flight at the kill may be",
                  count - distinct, before - (int) recorded);
}

//  ---------------------------------------------------------------------------------------
//  Stats, the command, and no phone or address kept

static void
test_stats_and_command (void **state)
{
    (void) state;
    msg_actor_t admin = fx_admin ("region_admin", COUNTY);
    json_t *stats =
        fx_call_ok ("notify", &admin, "notify.stats",
                    "{\"region\": \"" COUNTY "\", \"from\": \"2020-01-01T00:00:00+08:00\","
                    " \"to\": \"2100-01-01T00:00:00+08:00\"}");
    assert_true (fx_int (stats, "sent") >= 5);
    assert_true (fx_int (stats, "dead") >= 1);
    assert_true (fx_int (stats, "lateness_p50_ms") >= 0);
    assert_true (fx_int (stats, "lateness_p99_ms") >= fx_int (stats, "lateness_p50_ms"));
    json_decref (stats);
    st_error_t err;
    fx_expect ("stats backwards",
               fx_call ("notify", &admin, "notify.stats",
                        "{\"region\": \"" COUNTY "\", \"from\": \"2030-01-01T00:00:00+08:00\","
                        " \"to\": \"2020-01-01T00:00:00+08:00\"}",
                        NULL, &err),
               &err, ST_INVALID_ARGUMENT, "to");
    char out[16384];
    assert_int_equal (
        harness_cli (fx_harness (), out, sizeof out, "deliveries", "--dead", "--json", NULL), 0);
    assert_non_null (strstr (out, "dead"));
    assert_non_null (strstr (out, "http 400"));
    assert_null (strstr (out, "\"sent\""));
}

static void
test_no_contacts_kept (void **state)
{
    (void) state;
    //  Every phone and address registry holds for the people of this test.
    PGresult *res = fx_query ("SELECT id FROM registry.volunteers");
    int people = PQntuples (res);
    char log[600], *text = NULL;
    snprintf (log, sizeof log, "%s/notify.log", harness_dir (fx_harness ()));
    FILE *file = fopen (log, "r");
    if (file) {
        size_t size = 0;
        text = calloc (1, 1 << 24);
        size = fread (text, 1, (1 << 24) - 1, file);
        text[size] = 0;
        fclose (file);
    }
    const char *emails[] = {"jia@example.cn", "yi@example.cn", "shibai@example.cn"};
    for (int i = 0; i < 3; i++) {
        assert_int_equal (fx_count ("SELECT count (*) FROM (SELECT to_jsonb (t)::text AS row"
                                    " FROM (SELECT * FROM notify.notices) t UNION ALL"
                                    " SELECT to_jsonb (d)::text FROM notify.deliveries d UNION ALL"
                                    " SELECT to_jsonb (o)::text FROM notify.outbox o) x"
                                    " WHERE row LIKE '%%%s%%'",
                                    emails[i]),
                          0);
        if (text)
            assert_null (strstr (text, emails[i]));
    }
    for (int i = 0; i < people; i++) {
        char body[64];
        snprintf (body, sizeof body, "{\"id\": \"%s\", \"reason\": \"test\"}",
                  PQgetvalue (res, i, 0));
        json_t *revealed = fx_call_ok ("registry", &FX_SYSTEM, "volunteer.reveal", body);
        const char *phone = fx_str (revealed, "phone");
        assert_int_equal (fx_count ("SELECT count (*) FROM (SELECT to_jsonb (t)::text AS row"
                                    " FROM notify.notices t UNION ALL"
                                    " SELECT to_jsonb (d)::text FROM notify.deliveries d UNION ALL"
                                    " SELECT to_jsonb (o)::text FROM notify.outbox o UNION ALL"
                                    " SELECT to_jsonb (p)::text FROM notify.prefs p) x"
                                    " WHERE row LIKE '%%%s%%'",
                                    phone),
                          0);
        if (text)
            assert_null (strstr (text, phone));
        json_decref (revealed);
    }
    free (text);
    PQclear (res);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_email),
        cmocka_unit_test (test_email_sink_down),
        cmocka_unit_test (test_email_quiet_hours),
        cmocka_unit_test (test_webhook_signed),
        cmocka_unit_test (test_webhook_dead_others_unaffected),
        cmocka_unit_test (test_webhook_400_429),
        cmocka_unit_test (test_channel_checks),
        cmocka_unit_test (test_any_session),
        cmocka_unit_test (test_two_replicas),
        cmocka_unit_test (test_slow_receiver_once),
        cmocka_unit_test (test_killed_mid_batch),
        cmocka_unit_test (test_stats_and_command),
        cmocka_unit_test (test_no_contacts_kept),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
