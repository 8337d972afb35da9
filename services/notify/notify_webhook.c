/*  notify_webhook.c — the signature of a webhook POST as the Standard Webhooks specification
    gives it: HMAC-SHA256, keyed with the base64-decoded part of the secret after "whsec_",
    of "<webhook-id>.<webhook-timestamp>.<body>", as "v1," and its base64.  */
#include "notify.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

int
notify_webhook_sign (const char *secret, const char *id, long long timestamp, const char *body,
                     size_t body_len, char *out, size_t size)
{
    if (strncmp (secret, "whsec_", 6) != 0)
        return -1;
    unsigned char key[128];
    size_t key_len = 0;
    const char *b64 = secret + 6;
    if (sodium_base642bin (key, sizeof key, b64, strlen (b64), NULL, &key_len, NULL,
                           sodium_base64_VARIANT_ORIGINAL)
            != 0
        || key_len == 0)
        return -1;
    char stamp[32];
    snprintf (stamp, sizeof stamp, "%lld", timestamp);
    crypto_auth_hmacsha256_state state;
    crypto_auth_hmacsha256_init (&state, key, key_len);
    crypto_auth_hmacsha256_update (&state, (const unsigned char *) id, strlen (id));
    crypto_auth_hmacsha256_update (&state, (const unsigned char *) ".", 1);
    crypto_auth_hmacsha256_update (&state, (const unsigned char *) stamp, strlen (stamp));
    crypto_auth_hmacsha256_update (&state, (const unsigned char *) ".", 1);
    crypto_auth_hmacsha256_update (&state, (const unsigned char *) body, body_len);
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_final (&state, mac);
    sodium_memzero (key, sizeof key);
    if (size < 3 + sodium_base64_ENCODED_LEN (sizeof mac, sodium_base64_VARIANT_ORIGINAL))
        return -1;
    memcpy (out, "v1,", 3);
    sodium_bin2base64 (out + 3, size - 3, mac, sizeof mac, sodium_base64_VARIANT_ORIGINAL);
    return 0;
}
