/*  st_keys.c — CURVE key directory and ZAP  */
#include "st_keys.h"
#include "st_proto.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

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
    if (!zsys_file_exists (path)) {
        st_error_set (err, ST_FAILED_PRECONDITION, NULL,
                      "key file \"%s\" does not exist (run: station keygen)", path);
        return NULL;
    }
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

zactor_t *
st_keys_auth (const char *keydir)
{
    zactor_t *auth = zactor_new (zauth, NULL);
    char dir[1024];
    snprintf (dir, sizeof dir, "%s/public", keydir);
    zstr_sendx (auth, "CURVE", dir, NULL);
    zsock_wait (auth);
    return auth;
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
