/*  gateway_web.c — the web pages (issue 23), served from the same origin as the API: the
    files under services/gateway/web travel inside the binary (embed_web.cmake); at start each
    is given its type, an ETag and, when it compresses, a gzip copy, so a request costs a
    lookup. A page's path (/order, /offers/…) answers index.html, whose script draws the page;
    /static/… answers the file itself.  */
#include "gateway.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static gw_asset_t *s_assets;
static size_t s_asset_count;
static const gw_asset_t *s_index;

static const struct {
    const char *suffix, *type;
    bool compress;
} s_types[] = {
    {".html", "text/html; charset=utf-8", true},
    {".js", "text/javascript; charset=utf-8", true},
    {".mjs", "text/javascript; charset=utf-8", true},
    {".css", "text/css; charset=utf-8", true},
    {".json", "application/json; charset=utf-8", true},
    {".svg", "image/svg+xml", true},
    {".png", "image/png", false},
    {".webmanifest", "application/manifest+json", true},
    {".txt", "text/plain; charset=utf-8", true},
};

//  The gzip of `data` (malloc'd) into *out, or NULL when it would not be smaller.
static uint8_t *
s_gzip (const uint8_t *data, size_t size, size_t *out_size)
{
    z_stream stream = {0};
    //  31: a gzip wrapper (15 bits of window, +16), as browsers take it.
    if (deflateInit2 (&stream, 9, Z_DEFLATED, 31, 9, Z_DEFAULT_STRATEGY) != Z_OK)
        return NULL;
    size_t bound = deflateBound (&stream, (uLong) size);
    uint8_t *out = st_malloc (bound);
    stream.next_in = (Bytef *) data;
    stream.avail_in = (uInt) size;
    stream.next_out = out;
    stream.avail_out = (uInt) bound;
    int rc = deflate (&stream, Z_FINISH);
    *out_size = stream.total_out;
    deflateEnd (&stream);
    if (rc != Z_STREAM_END || *out_size >= size) {
        free (out);
        return NULL;
    }
    return out;
}

int
gw_web_init (st_error_t *err)
{
    (void) err;
    s_asset_count = gw_web_file_count;
    s_assets = st_calloc (s_asset_count ? s_asset_count : 1, sizeof *s_assets);
    for (size_t i = 0; i < s_asset_count; i++) {
        gw_asset_t *asset = &s_assets[i];
        asset->path = gw_web_files[i].path;
        asset->data = gw_web_files[i].data;
        asset->size = (size_t) (gw_web_files[i].end - gw_web_files[i].data);
        asset->type = "application/octet-stream";
        bool compress = false;
        size_t path_len = strlen (asset->path);
        for (size_t t = 0; t < sizeof s_types / sizeof s_types[0]; t++) {
            size_t len = strlen (s_types[t].suffix);
            if (path_len > len && strcmp (asset->path + path_len - len, s_types[t].suffix) == 0) {
                asset->type = s_types[t].type;
                compress = s_types[t].compress;
            }
        }
        if (compress && asset->size > 256)
            asset->gzip = s_gzip (asset->data, asset->size, &asset->gzip_size);
        uint8_t hash[9];
        crypto_generichash (hash, sizeof hash, asset->data, asset->size, NULL, 0);
        asset->etag[0] = '"';
        sodium_bin2base64 (asset->etag + 1, sizeof asset->etag - 2, hash, sizeof hash,
                           sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        strcat (asset->etag, "\"");
        if (strcmp (asset->path, "/index.html") == 0)
            s_index = asset;
    }
    return 0;
}

void
gw_web_fini (void)
{
    for (size_t i = 0; i < s_asset_count; i++)
        free (s_assets[i].gzip);
    free (s_assets);
    s_assets = NULL;
    s_asset_count = 0;
    s_index = NULL;
}

const gw_asset_t *
gw_web_find (const char *path)
{
    if (strncmp (path, "/static/", 8) == 0) {
        //  Nothing climbs out: the table holds only what was embedded.
        for (size_t i = 0; i < s_asset_count; i++)
            if (strcmp (s_assets[i].path, path) == 0)
                return &s_assets[i];
        return NULL;
    }
    //  A page: a path of letters, digits, '-' and '/', drawn by index.html's script.
    if (strncmp (path, "/v1/", 4) == 0 || strcmp (path, "/v1") == 0)
        return NULL;
    for (const char *p = path; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
              || *p == '-' || *p == '/' || *p == '_'))
            return NULL;
    return s_index;
}
