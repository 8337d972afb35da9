/*  st_crypto.h — personal data encrypted at rest, keyed look-up hashes, password hashes

    Two keys live in a key directory, each as 64 hex characters and a newline in a file only
    its owner may read: pii.key (XChaCha20-Poly1305, for st_crypto_seal and st_crypto_open)
    and pii-hash.key (keyed BLAKE2b, for st_crypto_hash). A loaded st_crypto_t only reads its
    keys, so one instance may be shared by any number of threads. Built on libsodium 1.0.18.
*/
#ifndef ST_CRYPTO_H_INCLUDED
#define ST_CRYPTO_H_INCLUDED

#include "st_status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

//  File names inside the key directory
#define ST_CRYPTO_SEAL_KEY_FILE "pii.key"
#define ST_CRYPTO_HASH_KEY_FILE "pii-hash.key"

//  Bytes st_crypto_seal adds to a plaintext: a 24-byte nonce in front, a 16-byte tag behind
#define ST_CRYPTO_SEAL_OVERHEAD 40

//  Bytes in a keyed hash
#define ST_CRYPTO_HASH_SIZE 32

//  Bytes for a password hash string with its NUL; equal to libsodium's crypto_pwhash_STRBYTES,
//  so that this header does not pull in <sodium.h>
#define ST_PASSWORD_HASH_SIZE 128

typedef struct st_crypto_s st_crypto_t;

//  Initialises libsodium. Safe to call any number of times from any thread; the other
//  functions here call it themselves. Returns 0, or -1 when libsodium cannot start.
int st_crypto_init (void);

//  Creates keydir (mode 0700) if it is missing, then each key file that is missing, with a new
//  random key and mode 0600. Never overwrites an existing file. Returns the number of files it
//  created (0, 1 or 2), or -1 with err filled (internal; invalid_argument for a keydir path
//  too long). err may be NULL.
int st_crypto_generate (const char *keydir, st_error_t *err);

//  Loads both keys from keydir, refusing a file that is missing, readable or writable by group
//  or others, or not 64 hex characters and an optional newline. Returns a new instance the
//  caller destroys, or NULL with err filled: failed_precondition with a message naming the
//  file, internal when libsodium cannot start. err may be NULL.
st_crypto_t *st_crypto_load (const char *keydir, st_error_t *err);

//  An instance whose two keys are derived (libsodium's crypto_kdf, BLAKE2b) from a 32-byte
//  secret and an 8-character context: the same secret and context give the same keys, any
//  other gives unrelated ones. For a process that seals what only it reads again (the rpc
//  replies it stores, sealed with keys derived from its own CURVE secret key), so that it
//  needs no key file of its own. Returns a new instance, or NULL when libsodium cannot start
//  or memory cannot be protected.
st_crypto_t *st_crypto_derive (const uint8_t secret[32], const char context[8]);

//  Wipes the keys and frees the instance, then sets *self_p to NULL. Accepts NULL and *self_p
//  NULL.
void st_crypto_destroy (st_crypto_t **self_p);

//  Encrypts plain_len bytes for the column named field (the associated data: a ciphertext
//  copied to another column will not open). Sets *out to nonce || ciphertext || tag, which the
//  caller frees with free(), and *out_len to plain_len + ST_CRYPTO_SEAL_OVERHEAD. Returns 0,
//  or -1 (with *out NULL) if plain_len is too large. plain may be NULL when plain_len is 0.
int st_crypto_seal (st_crypto_t *self, const char *field, const void *plain, size_t plain_len,
                    uint8_t **out, size_t *out_len);

//  Decrypts what st_crypto_seal made for the same field. Sets *plain to a NUL-terminated copy
//  the caller frees with free(). Returns 0, or -1 (with *plain NULL) when in is NULL, short,
//  tampered with, sealed for another field or with another key, or holds a NUL byte (which a
//  C string cannot carry).
int st_crypto_open (st_crypto_t *self, const char *field, const uint8_t *in, size_t in_len,
                    char **plain);

//  Decrypts what st_crypto_seal made for the same field, as bytes: sets *plain to a copy the
//  caller frees with free() (NUL-terminated for convenience; any byte may occur before it) and
//  *plain_len to its length. Returns 0, or -1 (with *plain NULL) when in is NULL, short,
//  tampered with, or sealed for another field or with another key.
int st_crypto_open_bytes (st_crypto_t *self, const char *field, const uint8_t *in, size_t in_len,
                          uint8_t **plain, size_t *plain_len);

//  Writes to out the keyed BLAKE2b-256 of field, a NUL byte, then the len bytes at plain.
//  Deterministic under one key, different for the same value in another field: use it for
//  unique constraints and look-ups on encrypted columns. plain may be NULL when len is 0.
void st_crypto_hash (st_crypto_t *self, const char *field, const void *plain, size_t len,
                     uint8_t out[ST_CRYPTO_HASH_SIZE]);

//  Hashes a password with Argon2id at libsodium's INTERACTIVE limits (2 passes, 64 MiB), into
//  a NUL-terminated "$argon2id$..." string in out. Returns 0, or -1 when the memory could not
//  be had.
int st_password_hash (const char *password, char out[ST_PASSWORD_HASH_SIZE]);

//  Returns true when password matches hash (made by st_password_hash), false otherwise,
//  including for a NULL or malformed hash. Takes as long as hashing does.
bool st_password_verify (const char *hash, const char *password);

//  Returns true when hash was made with other parameters than st_password_hash uses today (or
//  is malformed), so that the caller should store a new hash after the next good login.
bool st_password_needs_rehash (const char *hash);

#ifdef __cplusplus
}
#endif

#endif
