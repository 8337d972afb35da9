/*  st_crypto.c — personal data encrypted at rest, keyed look-up hashes, password hashes

    The keys sit in one sodium_malloc'd block (guard pages, mlock'd where the limits allow,
    read-only once loaded) and are wiped on destroy. Key files are written to a temporary name
    and linked into place, so a crash never leaves a half-written key and an existing key is
    never replaced.
*/
#include "st_crypto.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#define S_KEY_SIZE   32
#define S_NONCE_SIZE crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define S_TAG_SIZE   crypto_aead_xchacha20poly1305_ietf_ABYTES
#define S_PATH_SIZE  4096
//  A key file holds 64 hex characters and a newline; read a little more to see any excess
#define S_KEY_TEXT_LEN  (2 * S_KEY_SIZE)
#define S_KEY_FILE_READ (S_KEY_TEXT_LEN + 16)

_Static_assert(S_KEY_SIZE == crypto_aead_xchacha20poly1305_ietf_KEYBYTES, "seal key size");
_Static_assert(S_KEY_SIZE >= crypto_generichash_KEYBYTES_MIN
                   && S_KEY_SIZE <= crypto_generichash_KEYBYTES_MAX,
               "hash key size");
_Static_assert(ST_CRYPTO_SEAL_OVERHEAD == S_NONCE_SIZE + S_TAG_SIZE, "seal overhead");
_Static_assert(ST_CRYPTO_HASH_SIZE >= crypto_generichash_BYTES_MIN
                   && ST_CRYPTO_HASH_SIZE <= crypto_generichash_BYTES_MAX,
               "hash size");
_Static_assert(ST_PASSWORD_HASH_SIZE == crypto_pwhash_STRBYTES, "password hash size");

struct st_crypto_s {
    uint8_t *keys;           //  sodium_malloc'd, 2 * S_KEY_SIZE: the seal key, the hash key
    const uint8_t *seal_key; //  points into keys
    const uint8_t *hash_key; //  points into keys
};

//  Allocates or aborts: running out of memory is not something callers here can handle
static void *
s_malloc (size_t size)
{
    void *p = malloc (size);
    if (!p) {
        fprintf (stderr, "st_crypto: out of memory allocating %zu bytes\n", size);
        abort ();
    }
    return p;
}

//  Writes keydir/name to path; returns 0, or -1 if it does not fit
static int
s_key_path (char *path, size_t path_size, const char *keydir, const char *name)
{
    int n = snprintf (path, path_size, "%s/%s", keydir, name);
    return n < 0 || (size_t) n >= path_size ? -1 : 0;
}

//  Writes all len bytes of data to fd; returns 0, or -1 with errno set
static int
s_write_all (int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write (fd, p, len);
        if (n == -1 && errno == EINTR)
            continue;
        if (n == -1)
            return -1;
        p += n;
        len -= (size_t) n;
    }
    return 0;
}

//  Initialises libsodium; returns 0, or -1 when it cannot start
int
st_crypto_init (void)
{
    return sodium_init () < 0 ? -1 : 0;
}

//  Creates keydir/name with a new random key unless it exists. Returns 1 when it created the
//  file, 0 when the file was already there, -1 with err set on failure.
static int
s_generate_key (const char *keydir, const char *name, st_error_t *err)
{
    char path[S_PATH_SIZE];
    char temp[S_PATH_SIZE];
    int n = snprintf (temp, sizeof temp, "%s/.%s.XXXXXX", keydir, name);
    if (s_key_path (path, sizeof path, keydir, name) || n < 0 || (size_t) n >= sizeof temp) {
        st_error_set (err, ST_INVALID_ARGUMENT, NULL, "key directory path \"%s\" is too long",
                      keydir);
        return -1;
    }
    struct stat st;
    if (lstat (path, &st) == 0)
        return 0;

    int rc = -1;
    uint8_t key[S_KEY_SIZE];
    char text[S_KEY_TEXT_LEN + 2];
    randombytes_buf (key, sizeof key);
    sodium_bin2hex (text, sizeof text - 1, key, sizeof key);
    text[S_KEY_TEXT_LEN] = '\n';
    text[S_KEY_TEXT_LEN + 1] = '\0';

    int fd = mkstemp (temp);
    if (fd == -1) {
        st_error_set (err, ST_INTERNAL, NULL, "could not create key file in \"%s\": %s", keydir,
                      strerror (errno));
        goto wipe;
    }
    if (fchmod (fd, 0600) == -1 || s_write_all (fd, text, S_KEY_TEXT_LEN + 1) == -1
        || fsync (fd) == -1) {
        st_error_set (err, ST_INTERNAL, NULL, "could not write key file \"%s\": %s", temp,
                      strerror (errno));
        close (fd);
        goto unlink_temp;
    }
    if (close (fd) == -1) {
        st_error_set (err, ST_INTERNAL, NULL, "could not write key file \"%s\": %s", temp,
                      strerror (errno));
        goto unlink_temp;
    }
    //  link, unlike rename, fails rather than replace a key that appeared meanwhile
    if (link (temp, path) == 0)
        rc = 1;
    else if (errno == EEXIST)
        rc = 0;
    else
        st_error_set (err, ST_INTERNAL, NULL, "could not create key file \"%s\": %s", path,
                      strerror (errno));
unlink_temp:
    unlink (temp);
wipe:
    sodium_memzero (key, sizeof key);
    sodium_memzero (text, sizeof text);
    return rc;
}

//  Creates keydir and any missing key file. Returns the number of files created, or -1 with
//  err set.
int
st_crypto_generate (const char *keydir, st_error_t *err)
{
    assert (keydir);
    if (st_crypto_init ()) {
        st_error_set (err, ST_INTERNAL, NULL, "could not initialise libsodium");
        return -1;
    }
    if (mkdir (keydir, 0700) == -1 && errno != EEXIST) {
        st_error_set (err, ST_INTERNAL, NULL, "could not create key directory \"%s\": %s", keydir,
                      strerror (errno));
        return -1;
    }
    int seal = s_generate_key (keydir, ST_CRYPTO_SEAL_KEY_FILE, err);
    if (seal == -1)
        return -1;
    int hash = s_generate_key (keydir, ST_CRYPTO_HASH_KEY_FILE, err);
    if (hash == -1)
        return -1;
    if (seal + hash > 0) {
        //  Make the new names durable too
        int dir = open (keydir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir == -1 || (fsync (dir) == -1 && errno != EINVAL)) {
            st_error_set (err, ST_INTERNAL, NULL, "could not sync key directory \"%s\": %s", keydir,
                          strerror (errno));
            if (dir != -1)
                close (dir);
            return -1;
        }
        close (dir);
    }
    return seal + hash;
}

//  Reads the key in keydir/name into key. Returns 0, or -1 with err set.
static int
s_load_key (const char *keydir, const char *name, uint8_t *key, st_error_t *err)
{
    char path[S_PATH_SIZE];
    if (s_key_path (path, sizeof path, keydir, name)) {
        st_error_set (err, ST_INVALID_ARGUMENT, NULL, "key directory path \"%s\" is too long",
                      keydir);
        return -1;
    }
    //  Symbolic links are followed (container secrets are mounted that way); the checks below
    //  apply to the file they lead to. O_NONBLOCK keeps a FIFO from hanging the open.
    int fd = open (path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd == -1) {
        st_error_set (err, ST_FAILED_PRECONDITION, NULL, "could not open key file \"%s\": %s", path,
                      strerror (errno));
        return -1;
    }
    int rc = -1;
    char text[S_KEY_FILE_READ];
    size_t have = 0;
    struct stat st;
    if (fstat (fd, &st) == -1) {
        st_error_set (err, ST_FAILED_PRECONDITION, NULL, "could not stat key file \"%s\": %s", path,
                      strerror (errno));
        goto close_fd;
    }
    if (!S_ISREG (st.st_mode)) {
        st_error_set (err, ST_FAILED_PRECONDITION, NULL, "key file \"%s\" is not a regular file",
                      path);
        goto close_fd;
    }
    if (st.st_mode & 077) {
        st_error_set (err, ST_FAILED_PRECONDITION, NULL,
                      "key file \"%s\" must not be accessible by group or others (mode %04o): "
                      "chmod 600 it",
                      path, (unsigned) (st.st_mode & 07777));
        goto close_fd;
    }
    while (have < sizeof text) {
        ssize_t n = read (fd, text + have, sizeof text - have);
        if (n == -1 && errno == EINTR)
            continue;
        if (n == -1) {
            st_error_set (err, ST_FAILED_PRECONDITION, NULL, "could not read key file \"%s\": %s",
                          path, strerror (errno));
            goto wipe;
        }
        if (n == 0)
            break;
        have += (size_t) n;
    }
    size_t key_len = 0;
    const char *end = NULL;
    bool shaped = have == S_KEY_TEXT_LEN || (have == S_KEY_TEXT_LEN + 1 && text[have - 1] == '\n');
    if (!shaped || sodium_hex2bin (key, S_KEY_SIZE, text, S_KEY_TEXT_LEN, NULL, &key_len, &end) != 0
        || key_len != S_KEY_SIZE || end != text + S_KEY_TEXT_LEN) {
        st_error_set (err, ST_FAILED_PRECONDITION, NULL,
                      "key file \"%s\" is malformed: expected 64 hex characters and a newline",
                      path);
        sodium_memzero (key, S_KEY_SIZE);
        goto wipe;
    }
    rc = 0;
wipe:
    sodium_memzero (text, sizeof text);
close_fd:
    close (fd);
    return rc;
}

//  Loads both keys from keydir. Returns a new instance the caller destroys, or NULL with err
//  set.
st_crypto_t *
st_crypto_derive (const uint8_t secret[32], const char context[8])
{
    _Static_assert(S_KEY_SIZE == crypto_kdf_KEYBYTES, "derivation key size");
    if (st_crypto_init ())
        return NULL;
    uint8_t *keys = sodium_malloc (2 * S_KEY_SIZE);
    if (!keys)
        return NULL;
    crypto_kdf_derive_from_key (keys, S_KEY_SIZE, 1, context, secret);
    crypto_kdf_derive_from_key (keys + S_KEY_SIZE, S_KEY_SIZE, 2, context, secret);
    sodium_mprotect_readonly (keys);
    st_crypto_t *self = s_malloc (sizeof *self);
    self->keys = keys;
    self->seal_key = keys;
    self->hash_key = keys + S_KEY_SIZE;
    return self;
}

st_crypto_t *
st_crypto_load (const char *keydir, st_error_t *err)
{
    assert (keydir);
    if (st_crypto_init ()) {
        st_error_set (err, ST_INTERNAL, NULL, "could not initialise libsodium");
        return NULL;
    }
    uint8_t *keys = sodium_malloc (2 * S_KEY_SIZE);
    if (!keys) {
        st_error_set (err, ST_INTERNAL, NULL, "could not allocate protected memory for keys: %s",
                      strerror (errno));
        return NULL;
    }
    if (s_load_key (keydir, ST_CRYPTO_SEAL_KEY_FILE, keys, err)
        || s_load_key (keydir, ST_CRYPTO_HASH_KEY_FILE, keys + S_KEY_SIZE, err)) {
        sodium_memzero (keys, 2 * S_KEY_SIZE);
        sodium_free (keys);
        return NULL;
    }
    sodium_mprotect_readonly (keys);
    st_crypto_t *self = s_malloc (sizeof *self);
    self->keys = keys;
    self->seal_key = keys;
    self->hash_key = keys + S_KEY_SIZE;
    return self;
}

//  Wipes and frees the instance and sets *self_p to NULL; accepts NULL.
void
st_crypto_destroy (st_crypto_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    st_crypto_t *self = *self_p;
    sodium_mprotect_readwrite (self->keys);
    sodium_memzero (self->keys, 2 * S_KEY_SIZE);
    sodium_free (self->keys);
    free (self);
    *self_p = NULL;
}

//  Encrypts plain for the column field into a new nonce || ciphertext || tag the caller frees.
//  Returns 0, or -1 if plain_len is too large.
int
st_crypto_seal (st_crypto_t *self, const char *field, const void *plain, size_t plain_len,
                uint8_t **out, size_t *out_len)
{
    assert (self);
    assert (field);
    assert (plain || plain_len == 0);
    assert (out && out_len);
    *out = NULL;
    *out_len = 0;
    if (plain_len > crypto_aead_xchacha20poly1305_ietf_MESSAGEBYTES_MAX
        || plain_len > SIZE_MAX - ST_CRYPTO_SEAL_OVERHEAD)
        return -1;

    static const uint8_t nothing[1] = {0};
    size_t size = S_NONCE_SIZE + plain_len + S_TAG_SIZE;
    uint8_t *sealed = s_malloc (size);
    randombytes_buf (sealed, S_NONCE_SIZE);
    unsigned long long sealed_len = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt (
        sealed + S_NONCE_SIZE, &sealed_len, plain_len ? plain : nothing, plain_len,
        (const uint8_t *) field, strlen (field), NULL, sealed, self->seal_key);
    assert (sealed_len == plain_len + S_TAG_SIZE);
    *out = sealed;
    *out_len = size;
    return 0;
}

//  Decrypts what st_crypto_seal made for field into new bytes the caller frees. Returns 0, or
//  -1 on anything that does not authenticate.
int
st_crypto_open_bytes (st_crypto_t *self, const char *field, const uint8_t *in, size_t in_len,
                      uint8_t **plain, size_t *plain_len)
{
    assert (self);
    assert (field);
    assert (plain && plain_len);
    *plain = NULL;
    *plain_len = 0;
    if (!in || in_len < ST_CRYPTO_SEAL_OVERHEAD)
        return -1;

    size_t text_len = in_len - ST_CRYPTO_SEAL_OVERHEAD;
    uint8_t *text = s_malloc (text_len + 1);
    unsigned long long opened_len = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt (text, &opened_len, NULL, in + S_NONCE_SIZE,
                                                    in_len - S_NONCE_SIZE, (const uint8_t *) field,
                                                    strlen (field), in, self->seal_key)
        != 0) {
        free (text);
        return -1;
    }
    assert (opened_len == text_len);
    text[text_len] = '\0';
    *plain = text;
    *plain_len = text_len;
    return 0;
}

//  Decrypts what st_crypto_seal made for field into a new C string the caller frees. Returns
//  0, or -1 on anything that does not authenticate or would not be a C string.
int
st_crypto_open (st_crypto_t *self, const char *field, const uint8_t *in, size_t in_len,
                char **plain)
{
    assert (plain);
    *plain = NULL;
    uint8_t *text;
    size_t text_len;
    if (st_crypto_open_bytes (self, field, in, in_len, &text, &text_len))
        return -1;
    if (memchr (text, '\0', text_len)) {
        sodium_memzero (text, text_len);
        free (text);
        return -1;
    }
    *plain = (char *) text;
    return 0;
}

//  Writes the keyed BLAKE2b-256 of field, NUL, plain to out. The layout is part of every stored
//  index: changing it means rehashing every row.
void
st_crypto_hash (st_crypto_t *self, const char *field, const void *plain, size_t len,
                uint8_t out[ST_CRYPTO_HASH_SIZE])
{
    assert (self);
    assert (field);
    assert (plain || len == 0);
    assert (out);
    crypto_generichash_state state;
    crypto_generichash_init (&state, self->hash_key, S_KEY_SIZE, ST_CRYPTO_HASH_SIZE);
    //  The field's NUL ends it unambiguously: ("ab", "c") and ("a", "bc") differ
    crypto_generichash_update (&state, (const uint8_t *) field, strlen (field) + 1);
    if (len > 0)
        crypto_generichash_update (&state, plain, len);
    crypto_generichash_final (&state, out, ST_CRYPTO_HASH_SIZE);
    sodium_memzero (&state, sizeof state);
}

//  Hashes password with Argon2id at the INTERACTIVE limits into out. Returns 0, or -1 when
//  libsodium or the memory it needs is not available.
//  INTERACTIVE (2 passes over 64 MiB, about 0.1 s) rather than MODERATE (3 over 256 MiB): logins
//  run on small county servers, and 256 MiB per concurrent login would let a burst of login
//  attempts exhaust memory; 64 MiB of Argon2id is still far beyond what GPU cracking likes.
int
st_password_hash (const char *password, char out[ST_PASSWORD_HASH_SIZE])
{
    assert (password);
    assert (out);
    if (st_crypto_init ())
        return -1;
    if (crypto_pwhash_str_alg (out, password, strlen (password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                               crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13)
        != 0)
        return -1;
    return 0;
}

//  Returns true when password matches hash; false for any mismatch, NULL or malformed hash.
bool
st_password_verify (const char *hash, const char *password)
{
    if (!hash || !password || st_crypto_init ())
        return false;
    return crypto_pwhash_str_verify (hash, password, strlen (password)) == 0;
}

//  Returns true when hash is not Argon2id at today's limits (or is malformed).
bool
st_password_needs_rehash (const char *hash)
{
    if (!hash || st_crypto_init ())
        return true;
    if (strncmp (hash, crypto_pwhash_argon2id_STRPREFIX, strlen (crypto_pwhash_argon2id_STRPREFIX))
        != 0)
        return true;
    return crypto_pwhash_str_needs_rehash (hash, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                           crypto_pwhash_MEMLIMIT_INTERACTIVE)
           != 0;
}
