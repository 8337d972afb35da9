/*  st_keys.c — CURVE key directory and ZAP  */
#include "st_keys.h"
#include "st_log.h"
#include "st_proto.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void
s_paths (const char *keydir, const char *name, char *pub, char *sec, size_t size)
{
    snprintf (pub, size, "%s/public/%s.cert", keydir, name);
    snprintf (sec, size, "%s/secret/%s.cert_secret", keydir, name);
}

unsigned
st_keys_role_bit (const char *role)
{
    if (!role)
        return 0;
    if (strcmp (role, "service") == 0)
        return ST_PEER_SERVICE;
    if (strcmp (role, "operator") == 0)
        return ST_PEER_OPERATOR;
    if (strcmp (role, "gateway") == 0)
        return ST_PEER_GATEWAY;
    return 0;
}

int
st_keys_generate (const char *keydir, const char *name, const char *role, st_error_t *err)
{
    if (!st_keys_role_bit (role))
        return st_error_set (err, ST_INVALID_ARGUMENT, "role",
                             "role must be service, operator or gateway, not \"%s\"", role),
               -1;
    for (const char *p = name; *p; p++)
        if (!(*p == '-' || *p == '_' || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
            return st_error_set (err, ST_INVALID_ARGUMENT, "name",
                                 "key name may hold only a-z, 0-9, - and _"),
                   -1;
    char pub[1024], sec[1024], dir[1024];
    s_paths (keydir, name, pub, sec, sizeof pub);
    if (zsys_file_exists (sec))
        return 1;
    mkdir (keydir, 0700);
    snprintf (dir, sizeof dir, "%s/public", keydir);
    mkdir (dir, 0755);
    snprintf (dir, sizeof dir, "%s/secret", keydir);
    mkdir (dir, 0700);
    zcert_t *cert = zcert_new ();
    zcert_set_meta (cert, "name", "%s", name);
    zcert_set_meta (cert, "role", "%s", role);
    mode_t old = umask (077);
    int rc = zcert_save_secret (cert, sec);
    umask (old);
    if (rc == 0)
        rc = zcert_save_public (cert, pub);
    zcert_destroy (&cert);
    if (rc)
        return st_error_set (err, ST_INTERNAL, NULL, "could not write key \"%s\": %s", sec,
                             strerror (errno)),
               -1;
    return 0;
}

static zcert_t *
s_load (const char *path, st_error_t *err)
{
    //  Say why a key cannot be had: missing is not the same as unreadable by this process.
    FILE *file = fopen (path, "r");
    if (!file) {
        int error = errno;
        if (error == ENOENT)
            st_error_set (err, ST_FAILED_PRECONDITION, NULL,
                          "key file \"%s\" does not exist (run: station keys init)", path);
        else
            st_error_set (err, ST_FAILED_PRECONDITION, NULL,
                          "cannot read key file \"%s\": %s (this process runs as uid %d)", path,
                          strerror (error), (int) geteuid ());
        return NULL;
    }
    fclose (file);
    zcert_t *cert = zcert_load (path);
    if (!cert)
        st_error_set (err, ST_FAILED_PRECONDITION, NULL, "could not load key file \"%s\"", path);
    return cert;
}

zcert_t *
st_keys_secret (const char *keydir, const char *name, st_error_t *err)
{
    char pub[1024], sec[1024];
    s_paths (keydir, name, pub, sec, sizeof pub);
    return s_load (sec, err);
}

zcert_t *
st_keys_public (const char *keydir, const char *name, st_error_t *err)
{
    char pub[1024], sec[1024];
    s_paths (keydir, name, pub, sec, sizeof pub);
    return s_load (pub, err);
}

//  The ZAP handler (rfc.zeromq.org/spec/27): admits a CURVE client whose public key is in
//  KEYDIR/public with a name and a role Station knows, and hands both to the socket as the
//  connection's metadata, the User-Id being the name. A key listed without a known role is
//  refused like an unlisted one: the peer gets no answer. ZAP metadata comes before what
//  a client says of itself in its handshake, and every admitted peer has both properties
//  from here, so nothing a client sends can stand in for them.
#define S_ZAP_ENDPOINT "inproc://zeromq.zap.01"

//  Appends one ZMTP property (name length, name, 4-byte value length, value).
static void
s_property (zchunk_t *chunk, const char *name, const char *value)
{
    size_t name_len = strlen (name), value_len = strlen (value);
    uint8_t head[1] = {(uint8_t) name_len};
    uint8_t size[4] = {(uint8_t) (value_len >> 24), (uint8_t) (value_len >> 16),
                       (uint8_t) (value_len >> 8), (uint8_t) value_len};
    zchunk_extend (chunk, head, 1);
    zchunk_extend (chunk, name, name_len);
    zchunk_extend (chunk, size, 4);
    zchunk_extend (chunk, value, value_len);
}

//  Refusals logged at most once a second (a peer retrying an unlisted key would otherwise fill
//  the log), the next line counting those left out meanwhile.
typedef struct {
    int64_t last_ms;
    long suppressed;
} s_zap_log_t;

static void
s_zap_warn (s_zap_log_t *log, const char *address, const char *why)
{
    int64_t now = zclock_mono ();
    if (log->last_ms && now - log->last_ms < 1000) {
        log->suppressed++;
        return;
    }
    if (log->suppressed)
        st_warn ("refused a connection from %s: %s (and %ld more refused since the last line)",
                 address ? address : "?", why, log->suppressed);
    else
        st_warn ("refused a connection from %s: %s", address ? address : "?", why);
    log->last_ms = now;
    log->suppressed = 0;
}

//  Answers one ZAP request, always: a REP socket that does not answer takes no further
//  request, so a malformed one (fewer than 7 frames, a version other than 1.0) gets 400 too.
//  libzmq never sends one; this guards against a bug, not a peer.
static void
s_zap_reply (zsock_t *handler, zmsg_t *request, zcertstore_t *store, s_zap_log_t *log)
{
    //  version, request id, domain, address, routing id, mechanism, credentials
    bool whole = zmsg_size (request) >= 7;
    char *version = zmsg_popstr (request);
    zframe_t *request_id = zmsg_pop (request);
    char *domain = zmsg_popstr (request);
    char *address = zmsg_popstr (request);
    zframe_t *routing = zmsg_pop (request);
    char *mechanism = zmsg_popstr (request);
    zframe_t *key = zmsg_pop (request);
    whole = whole && version && strcmp (version, "1.0") == 0;

    const char *name = NULL, *role = NULL;
    if (whole && mechanism && strcmp (mechanism, "CURVE") == 0 && key && zframe_size (key) == 32) {
        char key_txt[41];
        zmq_z85_encode (key_txt, zframe_data (key), 32);
        zcert_t *cert = zcertstore_lookup (store, key_txt);
        if (cert) {
            name = zcert_meta (cert, "name");
            role = zcert_meta (cert, "role");
        }
    }
    bool admitted = name && *name && st_keys_role_bit (role);
    if (!admitted)
        s_zap_warn (log, address,
                    !whole ? "a malformed ZAP request"
                    : name ? "its key has no role Station knows"
                           : "its key is not listed");
    zchunk_t *metadata = zchunk_new (NULL, 0);
    if (admitted) {
        s_property (metadata, "name", name);
        s_property (metadata, "role", role);
    }
    zmsg_t *reply = zmsg_new ();
    zmsg_addstr (reply, "1.0");
    if (request_id)
        zmsg_append (reply, &request_id);
    else
        zmsg_addmem (reply, NULL, 0);
    zmsg_addstr (reply, admitted ? "200" : "400");
    zmsg_addstr (reply, admitted ? "OK" : "not admitted");
    zmsg_addstr (reply, admitted ? name : "");
    zmsg_addmem (reply, zchunk_data (metadata), zchunk_size (metadata));
    zmsg_send (&reply, handler);
    zchunk_destroy (&metadata);
    zframe_destroy (&request_id);
    zframe_destroy (&routing);
    zframe_destroy (&key);
    free (version);
    free (domain);
    free (address);
    free (mechanism);
}

static void
s_zap_actor (zsock_t *pipe, void *args)
{
    char *dir = args;
    //  The store reads the directory again when it changes: a key added or removed while
    //  the service runs takes effect on the next connection.
    zcertstore_t *store = zcertstore_new (dir);
    zsock_t *handler = zsock_new_rep (S_ZAP_ENDPOINT);
    zsock_signal (pipe, handler ? 0 : 1);
    zpoller_t *poller = zpoller_new (pipe, handler, NULL);
    s_zap_log_t log = {0};
    while (handler) {
        void *which = zpoller_wait (poller, -1);
        if (which == handler) {
            zmsg_t *request = zmsg_recv (handler);
            if (request)
                s_zap_reply (handler, request, store, &log);
            zmsg_destroy (&request);
        } else {
            char *command = which ? zstr_recv (pipe) : NULL;
            bool term = !command || strcmp (command, "$TERM") == 0;
            free (command);
            if (term)
                break;
        }
    }
    zpoller_destroy (&poller);
    zsock_destroy (&handler);
    zcertstore_destroy (&store);
    free (dir);
}

zactor_t *
st_keys_auth (const char *keydir)
{
    char *dir = st_malloc (strlen (keydir) + sizeof "/public");
    sprintf (dir, "%s/public", keydir);
    return zactor_new (s_zap_actor, dir);
}

void
st_keys_server (zsock_t *sock, zcert_t *own)
{
    zcert_apply (own, sock);
    zsock_set_curve_server (sock, 1);
    zsock_set_zap_domain (sock, "station");
}

void
st_keys_client (zsock_t *sock, zcert_t *own, const char *server_public_txt)
{
    zcert_apply (own, sock);
    zsock_set_curve_serverkey (sock, server_public_txt);
}
