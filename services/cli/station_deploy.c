/*  station_deploy.c — `station keys init --deploy DIR`: every key and password a container
    deploy needs (docker/compose.yml), each in the folder of the one container that may read it:

        DIR/registry/   its CURVE key pair, every public certificate, the personal-data keys,
                        db.pgpass (its database role's password)
        DIR/match/      its CURVE key pair, every public certificate, db.pgpass
        DIR/ledger/     likewise
        DIR/notify/     likewise
        DIR/gateway/    likewise (its key's role is gateway: it asserts people's roles)
        DIR/operator/   the operator's key pair and every public certificate (the host's CLI)
        DIR/postgres/   postgres.password (the superuser's) and ROLE.password for each role

    Run as root, it gives each folder to the uid its container runs as (ST_DEPLOY_*_UID, the
    same numbers docker/Dockerfile and docker/postgres.Dockerfile pin), folders 0700 and files
    0600, public certificates 0644. What exists already is kept: running it again changes
    nothing but what is missing.  */
#include "station_deploy.h"
#include "st_crypto.h"
#include "st_keys.h"

#include <sodium.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

//  The members of a deploy: who gets a key pair, which of them a database role.
static const struct {
    const char *name;
    const char *role;
    bool database; //  has a database role of its name
    bool personal; //  holds the personal-data keys
} s_members[] = {
    {"registry", "service", true, true}, {"match", "service", true, false},
    {"ledger", "service", true, false},  {"notify", "service", true, false},
    {"gateway", "gateway", true, false}, {"operator", "operator", false, false},
};
#define S_MEMBERS (sizeof s_members / sizeof s_members[0])

static int
s_fail (st_error_t *err, const char *what, const char *path)
{
    return st_error_set (err, ST_INTERNAL, NULL, "could not %s \"%s\": %s", what, path,
                         strerror (errno)),
           -1;
}

//  Writes `text` to `path` (mode 0600) unless the file exists.
static int
s_write_new (const char *path, const char *text, st_error_t *err)
{
    if (access (path, F_OK) == 0)
        return 0;
    mode_t old = umask (077);
    FILE *file = fopen (path, "w");
    umask (old);
    if (!file)
        return s_fail (err, "create", path);
    bool ok = fputs (text, file) >= 0;
    ok = fclose (file) == 0 && ok;
    return ok ? 0 : s_fail (err, "write", path);
}

//  Reads the first line of `path` into `out` (its newline dropped).
static int
s_read_line (const char *path, char *out, size_t size, st_error_t *err)
{
    FILE *file = fopen (path, "r");
    if (!file)
        return s_fail (err, "read", path);
    bool ok = fgets (out, (int) size, file) != NULL;
    fclose (file);
    if (!ok)
        return st_error_set (err, ST_FAILED_PRECONDITION, NULL, "\"%s\" is empty", path), -1;
    out[strcspn (out, "\r\n")] = 0;
    return 0;
}

//  Copies `from` to `to` (mode 0644), replacing it: public certificates only.
static int
s_copy_public (const char *from, const char *to, st_error_t *err)
{
    FILE *in = fopen (from, "r");
    if (!in)
        return s_fail (err, "read", from);
    FILE *out = fopen (to, "w");
    if (!out) {
        fclose (in);
        return s_fail (err, "create", to);
    }
    char buffer[4096];
    size_t n;
    bool ok = true;
    while ((n = fread (buffer, 1, sizeof buffer, in)) > 0)
        ok = ok && fwrite (buffer, 1, n, out) == n;
    fclose (in);
    ok = fclose (out) == 0 && ok;
    chmod (to, 0644);
    return ok ? 0 : s_fail (err, "write", to);
}

//  A database role's password: the one postgres/ROLE.password holds, or a new one written
//  there; the service's db.pgpass says the same.
static int
s_password (const char *dir, const char *role, st_error_t *err)
{
    char path[1024], password[128], line[256];
    snprintf (path, sizeof path, "%s/postgres/%s.password", dir, role);
    if (access (path, F_OK) != 0) {
        uint8_t random[24];
        randombytes_buf (random, sizeof random);
        sodium_bin2hex (password, sizeof password, random, sizeof random);
        snprintf (line, sizeof line, "%s\n", password);
        if (s_write_new (path, line, err))
            return -1;
    }
    if (s_read_line (path, password, sizeof password, err))
        return -1;
    if (strcmp (role, "postgres") == 0)
        return 0;
    snprintf (path, sizeof path, "%s/%s/db.pgpass", dir, role);
    snprintf (line, sizeof line, "*:*:*:%s:%s\n", role, password);
    return s_write_new (path, line, err);
}

//  Gives `path` and everything below it to uid:uid; folders 0700.
static int
s_own (const char *path, uid_t uid, st_error_t *err)
{
    struct stat st;
    if (lstat (path, &st))
        return s_fail (err, "read", path);
    if (lchown (path, uid, uid))
        return s_fail (err, "give to its container's uid", path);
    if (!S_ISDIR (st.st_mode))
        return 0;
    chmod (path, 0700);
    zdir_t *dir = zdir_new (path, NULL);
    if (!dir)
        return 0;
    zlist_t *files = zdir_list (dir);
    int rc = 0;
    for (zfile_t *file = zlist_first (files); file && rc == 0; file = zlist_next (files))
        rc = s_own (zfile_filename (file, NULL), uid, err);
    zlist_destroy (&files);
    //  zdir_list gives files only: the folders under it too.
    char sub[1024];
    const char *folders[] = {"public", "secret"};
    for (size_t i = 0; i < 2 && rc == 0; i++) {
        snprintf (sub, sizeof sub, "%s/%s", path, folders[i]);
        if (access (sub, F_OK) == 0) {
            if (lchown (sub, uid, uid))
                rc = s_fail (err, "give to its container's uid", sub);
            chmod (sub, strcmp (folders[i], "public") == 0 ? 0755 : 0700);
        }
    }
    zdir_destroy (&dir);
    return rc;
}

int
station_keys_deploy (const char *dir, st_error_t *err)
{
    char path[1024], from[1024], to[1024];
    if (mkdir (dir, 0755) && errno != EEXIST)
        return s_fail (err, "create", dir);
    snprintf (path, sizeof path, "%s/postgres", dir);
    if (mkdir (path, 0700) && errno != EEXIST)
        return s_fail (err, "create", path);
    for (size_t i = 0; i < S_MEMBERS; i++) {
        snprintf (path, sizeof path, "%s/%s", dir, s_members[i].name);
        if (st_keys_generate (path, s_members[i].name, s_members[i].role, err) < 0)
            return -1;
        if (s_members[i].personal && st_crypto_generate (path, err) < 0)
            return -1;
    }
    //  Every member knows every member's public certificate: the services admit each
    //  other and the operator, and every client knows the servers it calls.
    for (size_t i = 0; i < S_MEMBERS; i++)
        for (size_t j = 0; j < S_MEMBERS; j++) {
            if (i == j)
                continue;
            snprintf (from, sizeof from, "%s/%s/public/%s.cert", dir, s_members[j].name,
                      s_members[j].name);
            snprintf (to, sizeof to, "%s/%s/public/%s.cert", dir, s_members[i].name,
                      s_members[j].name);
            if (s_copy_public (from, to, err))
                return -1;
        }
    if (s_password (dir, "postgres", err))
        return -1;
    for (size_t i = 0; i < S_MEMBERS; i++)
        if (s_members[i].database && s_password (dir, s_members[i].name, err))
            return -1;
    if (geteuid () != 0)
        return 1;
    for (size_t i = 0; i < S_MEMBERS; i++) {
        snprintf (path, sizeof path, "%s/%s", dir, s_members[i].name);
        if (s_own (path, ST_DEPLOY_SERVICE_UID, err))
            return -1;
    }
    snprintf (path, sizeof path, "%s/postgres", dir);
    return s_own (path, ST_DEPLOY_POSTGRES_UID, err);
}
