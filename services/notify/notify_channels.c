/*  notify_channels.c — a region's webhook, which carries the sms and wechat channels of the
    people there and in the regions below: channel.set by a region admin in scope (or the
    system), channel.get by an official in scope. The secret is stored sealed with a key
    derived from notify's own CURVE secret key and never shown again but as a mask.  */
#include "notify.h"
#include "st_checks.h"
#include "st_rows.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

ST_NOTIFY_CHANNELS_OPS (ST_ROUTE_THUNK)

const st_route_t notify_channels_routes[] = {ST_NOTIFY_CHANNELS_OPS (ST_ROUTE_ROW)};
const size_t notify_channels_route_count =
    sizeof notify_channels_routes / sizeof notify_channels_routes[0];

static int
s_reply (st_call_t *call, const char *region, msg_channel_t *reply)
{
    st_params_t params = {0};
    st_params_text (&params, region);
    return st_call_exec_reply (call, "webhook_get", &params, &msg_channel_desc, reply) < 0 ? -1 : 0;
}

static void
s_channel_get (st_call_t *call, const msg_notify_region_t *request, msg_channel_t *reply)
{
    const msg_actor_t *actor;
    if (st_require_actor (call, &actor) || st_require_official (call, actor)
        || st_require_code (call, "region", request->region)
        || st_require_scope (call, actor, "region", request->region))
        return;
    s_reply (call, request->region, reply);
}

//  "whsec_" and the base64 of 24 to 64 bytes.
static bool
s_secret_valid (const char *secret)
{
    if (strncmp (secret, "whsec_", 6) != 0)
        return false;
    unsigned char key[96];
    size_t len = 0;
    const char *b64 = secret + 6, *end = NULL;
    int rc = sodium_base642bin (key, sizeof key, b64, strlen (b64), NULL, &len, &end,
                                sodium_base64_VARIANT_ORIGINAL);
    sodium_memzero (key, sizeof key);
    return rc == 0 && end && *end == 0 && len >= 24 && len <= 64;
}

static bool
s_url_valid (const char *url)
{
    if (strncmp (url, "http://", 7) != 0 && strncmp (url, "https://", 8) != 0)
        return false;
    for (const unsigned char *p = (const unsigned char *) url; *p; p++)
        if (*p <= ' ' || *p == 0x7F)
            return false;
    return strlen (url) > (url[4] == 's' ? 8u : 7u);
}

static void
s_channel_set (st_call_t *call, const msg_channel_set_t *request, msg_channel_t *reply)
{
    const msg_actor_t *actor;
    if (st_require_actor (call, &actor) || st_require_code (call, "region", request->region)
        || st_require_scope (call, actor, "region", request->region))
        return;
    if (!st_actor_is_system (actor) && strcmp (actor->role, "region_admin") != 0)
        return (void) st_call_fail (call, ST_PERMISSION_DENIED, "actor",
                                    "role \"%s\" may not do this: a region admin may", actor->role);
    if (!s_url_valid (request->url))
        return (void) st_call_fail (call, ST_INVALID_ARGUMENT, "url",
                                    "\"url\" must be an http:// or https:// address");
    if (request->secret && !s_secret_valid (request->secret))
        return (void) st_call_fail (call, ST_INVALID_ARGUMENT, "secret",
                                    "\"secret\" must be whsec_ and the base64 of 24 to 64 bytes");
    for (size_t i = 0; request->has_kinds && i < request->kinds.count; i++)
        if (!notify_kind_known (request->kinds.items[i]))
            return (void) st_call_fail (call, ST_INVALID_ARGUMENT, "kinds",
                                        "\"%s\" is no notice kind", request->kinds.items[i]);
    st_params_t params = {0};
    PGresult *res;
    if (!request->secret) {
        st_params_text (&params, request->region);
        if (st_call_exec (call, "webhook_own", &params, &res))
            return;
        bool exists = PQntuples (res) == 1;
        PQclear (res);
        if (!exists)
            return (void) st_call_fail (call, ST_INVALID_ARGUMENT, "secret",
                                        "a region's first webhook needs a \"secret\"");
    }
    notify_config_t *config = st_call_state (call);
    st_params_text (&params, request->region);
    st_params_text (&params, request->url);
    if (request->secret) {
        uint8_t *sealed;
        size_t sealed_len;
        if (notify_delivery_seal (config->delivery, request->secret, &sealed, &sealed_len)) {
            st_params_clear (&params);
            return (void) st_call_fail (call, ST_INTERNAL, "secret", "could not seal the secret");
        }
        st_params_bin_take (&params, sealed, sealed_len);
        st_params_text (&params, request->secret + strlen (request->secret) - 4);
    } else {
        st_params_null (&params);
        st_params_null (&params);
    }
    if (request->has_kinds)
        st_params_text_array (&params, request->kinds.items, request->kinds.count);
    else
        st_params_text (&params, "{}");
    st_params_text (&params, actor->account ? actor->account : "system");
    if (st_call_exec (call, "webhook_set", &params, NULL))
        return;
    s_reply (call, request->region, reply);
}
