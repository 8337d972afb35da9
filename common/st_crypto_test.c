/*  st_crypto_test.c — tests of key files, sealing and opening, keyed hashes and password hashes

    Every test works in its own mkdtemp directory under TMPDIR (or /tmp) and removes it.
*/
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "st_crypto.h"

typedef struct {
    char dir[256];
    char seal_path[300];
    char hash_path[300];
    st_crypto_t *crypto;
} fixture_t;

static void
s_make_dir (char *dir, size_t size)
{
    const char *tmp = getenv ("TMPDIR");
    snprintf (dir, size, "%s/st_crypto_test.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null (mkdtemp (dir));
}

//  Removes the key files, anything else a test left, and the directory
static void
s_remove_dir (const char *dir)
{
    const char *names[] = {ST_CRYPTO_SEAL_KEY_FILE, ST_CRYPTO_HASH_KEY_FILE, "other", "keys"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char path[512];
        snprintf (path, sizeof path, "%s/%s", dir, names[i]);
        unlink (path);
    }
    char inner[512];
    snprintf (inner, sizeof inner, "%s/keys/%s", dir, ST_CRYPTO_SEAL_KEY_FILE);
    unlink (inner);
    snprintf (inner, sizeof inner, "%s/keys/%s", dir, ST_CRYPTO_HASH_KEY_FILE);
    unlink (inner);
    snprintf (inner, sizeof inner, "%s/keys", dir);
    rmdir (inner);
    assert_int_equal (rmdir (dir), 0);
}

//  Reads a whole small file into buf as a string; returns its length
static size_t
s_read_file (const char *path, char *buf, size_t size)
{
    FILE *file = fopen (path, "rb");
    assert_non_null (file);
    size_t n = fread (buf, 1, size - 1, file);
    buf[n] = '\0';
    fclose (file);
    return n;
}

static void
s_write_file (const char *path, const char *text, size_t len, mode_t mode)
{
    unlink (path);
    FILE *file = fopen (path, "wb");
    assert_non_null (file);
    assert_int_equal (fwrite (text, 1, len, file), len);
    assert_int_equal (fclose (file), 0);
    assert_int_equal (chmod (path, mode), 0);
}

static int
s_setup (void **state)
{
    fixture_t *fx = calloc (1, sizeof *fx);
    assert_non_null (fx);
    s_make_dir (fx->dir, sizeof fx->dir);
    snprintf (fx->seal_path, sizeof fx->seal_path, "%s/%s", fx->dir, ST_CRYPTO_SEAL_KEY_FILE);
    snprintf (fx->hash_path, sizeof fx->hash_path, "%s/%s", fx->dir, ST_CRYPTO_HASH_KEY_FILE);
    st_error_t err = {0};
    assert_int_equal (st_crypto_generate (fx->dir, &err), 2);
    fx->crypto = st_crypto_load (fx->dir, &err);
    if (!fx->crypto)
        fail_msg ("load: %s", err.message);
    *state = fx;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *fx = *state;
    st_crypto_destroy (&fx->crypto);
    assert_null (fx->crypto);
    s_remove_dir (fx->dir);
    free (fx);
    return 0;
}

//  Seals text (with its length) for field, opens it again and compares
static void
s_round_trip (st_crypto_t *crypto, const char *field, const char *text)
{
    uint8_t *sealed = NULL;
    size_t sealed_len = 0;
    size_t len = strlen (text);
    assert_int_equal (st_crypto_seal (crypto, field, text, len, &sealed, &sealed_len), 0);
    assert_non_null (sealed);
    assert_int_equal (sealed_len, len + ST_CRYPTO_SEAL_OVERHEAD);
    //  The plaintext does not show through
    for (size_t i = 0; len >= 4 && i + len <= sealed_len; i++)
        assert_memory_not_equal (sealed + i, text, len);
    char *opened = NULL;
    assert_int_equal (st_crypto_open (crypto, field, sealed, sealed_len, &opened), 0);
    assert_non_null (opened);
    assert_string_equal (opened, text);
    free (opened);
    free (sealed);
}

static void
test_generate_writes_private_files (void **state)
{
    fixture_t *fx = *state;
    const char *paths[] = {fx->seal_path, fx->hash_path};
    char text[2][128];
    for (int i = 0; i < 2; i++) {
        struct stat st;
        assert_int_equal (stat (paths[i], &st), 0);
        assert_true (S_ISREG (st.st_mode));
        assert_int_equal (st.st_mode & 0777, 0600);
        assert_int_equal (s_read_file (paths[i], text[i], sizeof text[i]), 65);
        assert_int_equal (text[i][64], '\n');
        assert_int_equal (strspn (text[i], "0123456789abcdef"), 64);
    }
    //  Two independent keys
    assert_string_not_equal (text[0], text[1]);

    //  A missing directory is created, private
    char keys[300];
    snprintf (keys, sizeof keys, "%s/keys", fx->dir);
    st_error_t err = {0};
    assert_int_equal (st_crypto_generate (keys, &err), 2);
    struct stat st;
    assert_int_equal (stat (keys, &st), 0);
    assert_int_equal (st.st_mode & 0777, 0700);
    st_crypto_t *crypto = st_crypto_load (keys, &err);
    assert_non_null (crypto);
    st_crypto_destroy (&crypto);

    //  Nowhere to create it
    assert_int_equal (st_crypto_generate ("/nonexistent-st-dir/keys", &err), -1);
    assert_int_equal (err.code, ST_INTERNAL);
    assert_non_null (strstr (err.message, "/nonexistent-st-dir/keys"));
    assert_int_equal (st_crypto_generate ("/nonexistent-st-dir/keys", NULL), -1);
}

static void
test_generate_never_overwrites (void **state)
{
    fixture_t *fx = *state;
    char seal_before[128], hash_before[128], after[128];
    s_read_file (fx->seal_path, seal_before, sizeof seal_before);
    s_read_file (fx->hash_path, hash_before, sizeof hash_before);
    st_error_t err = {0};
    assert_int_equal (st_crypto_generate (fx->dir, &err), 0);
    s_read_file (fx->seal_path, after, sizeof after);
    assert_string_equal (after, seal_before);
    s_read_file (fx->hash_path, after, sizeof after);
    assert_string_equal (after, hash_before);

    //  Only the missing key is made
    assert_int_equal (unlink (fx->hash_path), 0);
    assert_int_equal (st_crypto_generate (fx->dir, &err), 1);
    s_read_file (fx->seal_path, after, sizeof after);
    assert_string_equal (after, seal_before);
    s_read_file (fx->hash_path, after, sizeof after);
    assert_string_not_equal (after, hash_before);

    //  Even a broken key file is left for a human to look at
    s_write_file (fx->seal_path, "broken\n", 7, 0600);
    assert_int_equal (st_crypto_generate (fx->dir, &err), 0);
    s_read_file (fx->seal_path, after, sizeof after);
    assert_string_equal (after, "broken\n");
}

static void
test_seal_open_round_trip (void **state)
{
    fixture_t *fx = *state;
    s_round_trip (fx->crypto, "id_number", "11010519491231002X");
    s_round_trip (fx->crypto, "phone", "13812345678");
    s_round_trip (fx->crypto, "name", "张三");
    s_round_trip (fx->crypto, "address", "江西省萍乡市安源区后埠街道，新时代文明实践站 3 楼");
    s_round_trip (fx->crypto, "note", "");
    s_round_trip (fx->crypto, "", "empty field name");

    //  A NULL plaintext of length 0 is the empty string
    uint8_t *sealed = NULL;
    size_t sealed_len = 0;
    assert_int_equal (st_crypto_seal (fx->crypto, "note", NULL, 0, &sealed, &sealed_len), 0);
    assert_int_equal (sealed_len, ST_CRYPTO_SEAL_OVERHEAD);
    char *opened = NULL;
    assert_int_equal (st_crypto_open (fx->crypto, "note", sealed, sealed_len, &opened), 0);
    assert_string_equal (opened, "");
    free (opened);
    free (sealed);

    //  Large values too
    size_t big_len = 1 << 20;
    char *big = malloc (big_len + 1);
    assert_non_null (big);
    for (size_t i = 0; i < big_len; i++)
        big[i] = (char) ('a' + i % 26);
    big[big_len] = '\0';
    s_round_trip (fx->crypto, "blob", big);
    free (big);
}

static void
test_seal_uses_fresh_nonces (void **state)
{
    fixture_t *fx = *state;
    const char *text = "360302199001011234";
    uint8_t *a = NULL, *b = NULL;
    size_t a_len = 0, b_len = 0;
    assert_int_equal (st_crypto_seal (fx->crypto, "id_number", text, strlen (text), &a, &a_len), 0);
    assert_int_equal (st_crypto_seal (fx->crypto, "id_number", text, strlen (text), &b, &b_len), 0);
    assert_int_equal (a_len, b_len);
    assert_memory_not_equal (a, b, 24);
    assert_memory_not_equal (a + 24, b + 24, a_len - 24);
    char *opened = NULL;
    assert_int_equal (st_crypto_open (fx->crypto, "id_number", b, b_len, &opened), 0);
    assert_string_equal (opened, text);
    free (opened);
    free (a);
    free (b);
}

static void
test_open_refuses_tampering (void **state)
{
    fixture_t *fx = *state;
    const char *text = "13812345678";
    uint8_t *sealed = NULL;
    size_t sealed_len = 0;
    assert_int_equal (
        st_crypto_seal (fx->crypto, "phone", text, strlen (text), &sealed, &sealed_len), 0);
    char *opened = (char *) "untouched";

    //  Any flipped bit, in nonce, ciphertext or tag
    for (size_t i = 0; i < sealed_len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            sealed[i] ^= (uint8_t) (1u << bit);
            opened = (char *) "untouched";
            assert_int_equal (st_crypto_open (fx->crypto, "phone", sealed, sealed_len, &opened),
                              -1);
            assert_null (opened);
            sealed[i] ^= (uint8_t) (1u << bit);
        }
    }
    //  Every shorter length, down to nothing
    for (size_t len = 0; len < sealed_len; len++) {
        assert_int_equal (st_crypto_open (fx->crypto, "phone", sealed, len, &opened), -1);
        assert_null (opened);
    }
    //  A byte too many
    uint8_t *longer = malloc (sealed_len + 1);
    assert_non_null (longer);
    memcpy (longer, sealed, sealed_len);
    longer[sealed_len] = 0;
    assert_int_equal (st_crypto_open (fx->crypto, "phone", longer, sealed_len + 1, &opened), -1);
    free (longer);
    //  NULL input
    assert_int_equal (st_crypto_open (fx->crypto, "phone", NULL, 0, &opened), -1);
    assert_int_equal (st_crypto_open (fx->crypto, "phone", NULL, 100, &opened), -1);
    //  Random bytes of plausible length
    uint8_t noise[64];
    for (size_t i = 0; i < sizeof noise; i++)
        noise[i] = (uint8_t) (i * 37 + 11);
    assert_int_equal (st_crypto_open (fx->crypto, "phone", noise, sizeof noise, &opened), -1);

    //  Untouched, it still opens
    assert_int_equal (st_crypto_open (fx->crypto, "phone", sealed, sealed_len, &opened), 0);
    assert_string_equal (opened, text);
    free (opened);
    free (sealed);
}

static void
test_open_refuses_other_field_and_key (void **state)
{
    fixture_t *fx = *state;
    const char *text = "11010519491231002X";
    uint8_t *sealed = NULL;
    size_t sealed_len = 0;
    assert_int_equal (
        st_crypto_seal (fx->crypto, "id_number", text, strlen (text), &sealed, &sealed_len), 0);
    char *opened = NULL;
    assert_int_equal (st_crypto_open (fx->crypto, "phone", sealed, sealed_len, &opened), -1);
    assert_null (opened);
    assert_int_equal (st_crypto_open (fx->crypto, "id_numbe", sealed, sealed_len, &opened), -1);
    assert_int_equal (st_crypto_open (fx->crypto, "id_number ", sealed, sealed_len, &opened), -1);
    assert_int_equal (st_crypto_open (fx->crypto, "", sealed, sealed_len, &opened), -1);

    //  Another key directory's keys cannot open it
    char other[256];
    s_make_dir (other, sizeof other);
    st_error_t err = {0};
    assert_int_equal (st_crypto_generate (other, &err), 2);
    st_crypto_t *crypto = st_crypto_load (other, &err);
    assert_non_null (crypto);
    assert_int_equal (st_crypto_open (crypto, "id_number", sealed, sealed_len, &opened), -1);
    assert_null (opened);
    st_crypto_destroy (&crypto);
    s_remove_dir (other);

    //  The same keys loaded again can
    crypto = st_crypto_load (fx->dir, &err);
    assert_non_null (crypto);
    assert_int_equal (st_crypto_open (crypto, "id_number", sealed, sealed_len, &opened), 0);
    assert_string_equal (opened, text);
    free (opened);
    st_crypto_destroy (&crypto);
    free (sealed);
}

static void
test_open_refuses_embedded_nul (void **state)
{
    fixture_t *fx = *state;
    uint8_t *sealed = NULL;
    size_t sealed_len = 0;
    assert_int_equal (st_crypto_seal (fx->crypto, "note", "a\0b", 3, &sealed, &sealed_len), 0);
    char *opened = NULL;
    assert_int_equal (st_crypto_open (fx->crypto, "note", sealed, sealed_len, &opened), -1);
    assert_null (opened);
    //  As bytes it opens whole, NUL and all; for another field it does not.
    uint8_t *bytes = NULL;
    size_t len = 0;
    assert_int_equal (st_crypto_open_bytes (fx->crypto, "note", sealed, sealed_len, &bytes, &len),
                      0);
    assert_int_equal (len, 3);
    assert_memory_equal (bytes, "a\0b", 3);
    free (bytes);
    assert_int_equal (st_crypto_open_bytes (fx->crypto, "other", sealed, sealed_len, &bytes, &len),
                      -1);
    assert_null (bytes);
    free (sealed);
}

static void
test_hash_deterministic_and_separated (void **state)
{
    fixture_t *fx = *state;
    const char *id = "11010519491231002X";
    uint8_t a[ST_CRYPTO_HASH_SIZE], b[ST_CRYPTO_HASH_SIZE];
    st_crypto_hash (fx->crypto, "id_number", id, strlen (id), a);
    st_crypto_hash (fx->crypto, "id_number", id, strlen (id), b);
    assert_memory_equal (a, b, sizeof a);

    //  Deterministic across loads of the same key file
    st_error_t err = {0};
    st_crypto_t *again = st_crypto_load (fx->dir, &err);
    assert_non_null (again);
    st_crypto_hash (again, "id_number", id, strlen (id), b);
    assert_memory_equal (a, b, sizeof a);
    st_crypto_destroy (&again);

    //  Another field, another value, another field boundary
    st_crypto_hash (fx->crypto, "phone", id, strlen (id), b);
    assert_memory_not_equal (a, b, sizeof a);
    st_crypto_hash (fx->crypto, "id_number", "11010519491231002x", 18, b);
    assert_memory_not_equal (a, b, sizeof a);
    uint8_t c[ST_CRYPTO_HASH_SIZE];
    st_crypto_hash (fx->crypto, "ab", "c", 1, b);
    st_crypto_hash (fx->crypto, "a", "bc", 2, c);
    assert_memory_not_equal (b, c, sizeof b);

    //  Empty values hash, and differently per field
    st_crypto_hash (fx->crypto, "phone", NULL, 0, b);
    st_crypto_hash (fx->crypto, "email", "", 0, c);
    assert_memory_not_equal (b, c, sizeof b);

    //  It is keyed: not plain BLAKE2b, and another key gives another hash
    char other[256];
    s_make_dir (other, sizeof other);
    assert_int_equal (st_crypto_generate (other, &err), 2);
    st_crypto_t *crypto = st_crypto_load (other, &err);
    assert_non_null (crypto);
    st_crypto_hash (crypto, "id_number", id, strlen (id), b);
    assert_memory_not_equal (a, b, sizeof a);
    st_crypto_destroy (&crypto);
    s_remove_dir (other);
}

static void
test_load_refuses_open_modes (void **state)
{
    fixture_t *fx = *state;
    mode_t modes[] = {0644, 0640, 0604, 0660, 0602, 0610, 0601};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        assert_int_equal (chmod (fx->hash_path, modes[i]), 0);
        st_error_t err = {0};
        assert_null (st_crypto_load (fx->dir, &err));
        assert_non_null (strstr (err.message, fx->hash_path));
        assert_non_null (strstr (err.message, "must not be accessible by group or others"));
        assert_null (st_crypto_load (fx->dir, NULL));
    }
    assert_int_equal (chmod (fx->hash_path, 0400), 0);
    assert_int_equal (chmod (fx->seal_path, 0644), 0);
    st_error_t err = {0};
    assert_null (st_crypto_load (fx->dir, &err));
    assert_non_null (strstr (err.message, fx->seal_path));
    assert_non_null (strstr (err.message, "(mode 0644)"));

    //  Owner-only modes load
    assert_int_equal (chmod (fx->seal_path, 0400), 0);
    st_crypto_t *crypto = st_crypto_load (fx->dir, &err);
    assert_non_null (crypto);
    st_crypto_destroy (&crypto);
}

//  Writes len bytes of text as the seal key and asserts that loading names it as malformed
static void
s_assert_malformed (fixture_t *fx, const char *text, size_t len)
{
    s_write_file (fx->seal_path, text, len, 0600);
    st_error_t err = {0};
    assert_null (st_crypto_load (fx->dir, &err));
    assert_int_equal (err.code, ST_FAILED_PRECONDITION);
    assert_non_null (strstr (err.message, fx->seal_path));
    assert_non_null (strstr (err.message, "is malformed"));
}

static void
test_load_refuses_malformed (void **state)
{
    fixture_t *fx = *state;
    char good[128];
    assert_int_equal (s_read_file (fx->seal_path, good, sizeof good), 65);
    char text[256];
    s_assert_malformed (fx, "", 0);
    s_assert_malformed (fx, "\n", 1);
    s_assert_malformed (fx, "00112233\n", 9);
    //  One hex character short
    memcpy (text, good, 63);
    text[63] = '\n';
    s_assert_malformed (fx, text, 64);
    //  One hex character too many
    memcpy (text, good, 64);
    text[64] = '0';
    s_assert_malformed (fx, text, 65);
    //  A stray byte after the newline
    memcpy (text, good, 65);
    text[65] = 'a';
    s_assert_malformed (fx, text, 66);
    //  The key twice
    memcpy (text, good, 65);
    memcpy (text + 65, good, 65);
    s_assert_malformed (fx, text, 130);
    //  A character that is not hex, a space, a NUL
    const char odd[] = {'g', ' ', '\0', ':'};
    for (size_t i = 0; i < sizeof odd; i++) {
        memcpy (text, good, 65);
        text[10] = odd[i];
        s_assert_malformed (fx, text, 65);
    }
    //  CR LF line end
    memcpy (text, good, 64);
    text[64] = '\r';
    text[65] = '\n';
    s_assert_malformed (fx, text, 66);

    //  The key without its newline, and in upper case, is still the same key
    for (size_t i = 0; i < 64; i++)
        text[i] = (char) (good[i] >= 'a' ? good[i] - 'a' + 'A' : good[i]);
    s_write_file (fx->seal_path, text, 64, 0600);
    st_error_t err = {0};
    st_crypto_t *crypto = st_crypto_load (fx->dir, &err);
    assert_non_null (crypto);
    uint8_t *sealed = NULL;
    size_t sealed_len = 0;
    assert_int_equal (st_crypto_seal (crypto, "phone", "13812345678", 11, &sealed, &sealed_len), 0);
    char *opened = NULL;
    assert_int_equal (st_crypto_open (fx->crypto, "phone", sealed, sealed_len, &opened), 0);
    assert_string_equal (opened, "13812345678");
    free (opened);
    free (sealed);
    st_crypto_destroy (&crypto);
}

static void
test_load_refuses_missing_and_odd_files (void **state)
{
    fixture_t *fx = *state;
    st_error_t err = {0};
    assert_int_equal (unlink (fx->hash_path), 0);
    assert_null (st_crypto_load (fx->dir, &err));
    assert_int_equal (err.code, ST_FAILED_PRECONDITION);
    assert_non_null (strstr (err.message, "could not open key file"));
    assert_non_null (strstr (err.message, fx->hash_path));

    //  A directory where the key should be
    assert_int_equal (mkdir (fx->hash_path, 0700), 0);
    assert_null (st_crypto_load (fx->dir, &err));
    assert_non_null (strstr (err.message, "not a regular file"));
    assert_int_equal (rmdir (fx->hash_path), 0);

    //  A missing directory
    assert_null (st_crypto_load ("/nonexistent-st-dir", &err));
    assert_non_null (strstr (err.message, "/nonexistent-st-dir/pii.key"));

    //  A symbolic link to a private key file is followed
    char target[320];
    snprintf (target, sizeof target, "%s/other", fx->dir);
    assert_int_equal (st_crypto_generate (fx->dir, &err), 1); //  the hash key
    assert_int_equal (rename (fx->seal_path, target), 0);
    assert_int_equal (symlink ("other", fx->seal_path), 0);
    st_crypto_t *crypto = st_crypto_load (fx->dir, &err);
    if (!crypto)
        fail_msg ("load: %s", err.message);
    st_crypto_destroy (&crypto);
    //  and the mode that counts is the target's
    assert_int_equal (chmod (target, 0644), 0);
    assert_null (st_crypto_load (fx->dir, &err));
    assert_non_null (strstr (err.message, "must not be accessible by group or others"));
}

static void
test_destroy_accepts_null (void **state)
{
    st_crypto_destroy (NULL);
    st_crypto_t *crypto = NULL;
    st_crypto_destroy (&crypto);
    assert_null (crypto);
    assert_int_equal (st_crypto_init (), 0);
    assert_int_equal (st_crypto_init (), 0);
}

static void
test_password_hash_and_verify (void **state)
{
    char hash[ST_PASSWORD_HASH_SIZE];
    assert_int_equal (st_password_hash ("correct horse battery staple", hash), 0);
    assert_int_equal (strncmp (hash, "$argon2id$", 10), 0);
    assert_non_null (strstr (hash, "m=65536,t=2,p=1"));
    assert_true (st_password_verify (hash, "correct horse battery staple"));
    assert_false (st_password_verify (hash, "correct horse battery stapl"));
    assert_false (st_password_verify (hash, "Correct horse battery staple"));
    assert_false (st_password_verify (hash, ""));
    assert_false (st_password_needs_rehash (hash));

    //  Salted: the same password hashes differently, both verify
    char again[ST_PASSWORD_HASH_SIZE];
    assert_int_equal (st_password_hash ("correct horse battery staple", again), 0);
    assert_string_not_equal (hash, again);
    assert_true (st_password_verify (again, "correct horse battery staple"));

    //  UTF-8 and empty passwords
    assert_int_equal (st_password_hash ("志愿服务光荣", hash), 0);
    assert_true (st_password_verify (hash, "志愿服务光荣"));
    assert_false (st_password_verify (hash, "志愿服务"));
    assert_int_equal (st_password_hash ("", hash), 0);
    assert_true (st_password_verify (hash, ""));
    assert_false (st_password_verify (hash, " "));

    //  Hashes that are not hashes
    assert_false (st_password_verify (NULL, "x"));
    assert_false (st_password_verify (hash, NULL));
    assert_false (st_password_verify ("", ""));
    assert_false (st_password_verify ("$argon2id$", ""));
    assert_false (st_password_verify ("plain text password", "plain text password"));
    char cut[ST_PASSWORD_HASH_SIZE];
    snprintf (cut, sizeof cut, "%.40s", again);
    assert_false (st_password_verify (cut, "correct horse battery staple"));
    assert_true (st_password_needs_rehash (cut));
    assert_true (st_password_needs_rehash (NULL));
    assert_true (st_password_needs_rehash (""));
    //  Older algorithms and other limits verify but ask to be upgraded
    assert_int_equal (crypto_pwhash_str_alg (
                          again, "secret", 6, crypto_pwhash_argon2i_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_argon2i_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2I13),
                      0);
    assert_int_equal (strncmp (again, "$argon2i$", 9), 0);
    assert_true (st_password_verify (again, "secret"));
    assert_false (st_password_verify (again, "Secret"));
    assert_true (st_password_needs_rehash (again));
    assert_int_equal (crypto_pwhash_str_alg (again, "secret", 6, 3,
                                             crypto_pwhash_MEMLIMIT_INTERACTIVE,
                                             crypto_pwhash_ALG_ARGON2ID13),
                      0);
    assert_true (st_password_verify (again, "secret"));
    assert_true (st_password_needs_rehash (again));
}

//  Keys derived from a secret: the same secret and context open what they sealed, another
//  secret or context does not, and the hash keys differ with them.
static void
test_derive (void **state)
{
    (void) state;
    uint8_t secret[32], other[32];
    memset (secret, 7, sizeof secret);
    memset (other, 8, sizeof other);
    st_crypto_t *a = st_crypto_derive (secret, "rpcreply");
    st_crypto_t *again = st_crypto_derive (secret, "rpcreply");
    st_crypto_t *b = st_crypto_derive (other, "rpcreply");
    st_crypto_t *c = st_crypto_derive (secret, "otherctx");
    assert_non_null (a);
    assert_non_null (b);
    assert_non_null (c);
    uint8_t *sealed;
    size_t sealed_len;
    assert_int_equal (st_crypto_seal (a, "f", "reply bytes", 11, &sealed, &sealed_len), 0);
    uint8_t *plain;
    size_t plain_len;
    assert_int_equal (st_crypto_open_bytes (again, "f", sealed, sealed_len, &plain, &plain_len), 0);
    assert_int_equal (plain_len, 11);
    assert_memory_equal (plain, "reply bytes", 11);
    free (plain);
    assert_int_equal (st_crypto_open_bytes (b, "f", sealed, sealed_len, &plain, &plain_len), -1);
    assert_int_equal (st_crypto_open_bytes (c, "f", sealed, sealed_len, &plain, &plain_len), -1);
    free (sealed);
    uint8_t h1[ST_CRYPTO_HASH_SIZE], h2[ST_CRYPTO_HASH_SIZE], h3[ST_CRYPTO_HASH_SIZE];
    st_crypto_hash (a, "f", "x", 1, h1);
    st_crypto_hash (again, "f", "x", 1, h2);
    st_crypto_hash (b, "f", "x", 1, h3);
    assert_memory_equal (h1, h2, sizeof h1);
    assert_memory_not_equal (h1, h3, sizeof h1);
    st_crypto_destroy (&a);
    st_crypto_destroy (&again);
    st_crypto_destroy (&b);
    st_crypto_destroy (&c);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_generate_writes_private_files, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_generate_never_overwrites, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_seal_open_round_trip, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_seal_uses_fresh_nonces, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_open_refuses_tampering, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_open_refuses_other_field_and_key, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_open_refuses_embedded_nul, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_hash_deterministic_and_separated, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_load_refuses_open_modes, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_load_refuses_malformed, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_load_refuses_missing_and_odd_files, s_setup,
                                         s_teardown),
        cmocka_unit_test (test_destroy_accepts_null),
        cmocka_unit_test (test_derive),
        cmocka_unit_test (test_password_hash_and_verify),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
