/*  gateway_import.c — POST /v1/volunteers/import (text/csv): a spreadsheet that fits in one
    frame goes to registry whole, as volunteer.import; a larger one (a county's roster,
    100,000 rows, 6 MB or more) as the CLI sends it, in chunks: import.begin, import.chunk
    for each ST_IMPORT_MAX_CHUNK bytes, then import.finish until it says done, each finish
    registering its rows 1,000 a transaction. The calls run on a worker thread, the
    connection waiting; the answer is import.finish's last result (created, skipped, errors,
    encoding, done). A retry of the whole request imports the same file again, which
    changes nothing: its people are registered already (skipped).  */
#include "gateway.h"
#include "st_proto.h"

#include <stdio.h>
#include <string.h>

//  Above this many bytes, a file goes in chunks (as station volunteer import sends it).
#define S_ONE_FRAME_IMPORT 3000000
//  Finish calls an import may take (each registers a batch or more).
#define S_MAX_FINISH_CALLS 100000

//  One call of registry's `op` for the request; NULL with err filled when it failed.
static json_t *
s_call (gw_request_t *request, const char *op, json_t *body, st_error_t *err)
{
    json_t *reply =
        gw_rpc_call_traced ("registry", op, gw_request_actor (request), NULL,
                            gw_request_id (request), body, gw_http_config ()->call_ms, err);
    json_decref (body);
    return reply;
}

static int
s_import_chunked (gw_request_t *request, json_t *body)
{
    const char *hex = json_string_value (json_object_get (body, "csv"));
    size_t size = strlen (hex) / 2;
    json_t *dry_run = json_object_get (body, "dry_run");
    st_error_t err = {0};
    json_t *begin = json_pack ("{s:s, s:I}", "kind", "volunteers", "size", (json_int_t) size);
    if (dry_run)
        json_object_set (begin, "dry_run", dry_run);
    json_t *reply = s_call (request, "import.begin", begin, &err);
    if (!reply)
        return gw_reply_error (request, &err);
    char id[32];
    snprintf (id, sizeof id, "%s", json_string_value (json_object_get (reply, "import_id")));
    json_decref (reply);
    int seq = 0;
    for (size_t at = 0; at < size; at += ST_IMPORT_MAX_CHUNK) {
        size_t n = size - at < ST_IMPORT_MAX_CHUNK ? size - at : ST_IMPORT_MAX_CHUNK;
        json_t *chunk = json_pack ("{s:s, s:i, s:s%}", "import_id", id, "seq", ++seq, "csv",
                                   hex + 2 * at, 2 * n);
        reply = s_call (request, "import.chunk", chunk, &err);
        if (!reply)
            return gw_reply_error (request, &err);
        json_decref (reply);
    }
    for (int calls = 0; calls < S_MAX_FINISH_CALLS; calls++) {
        json_t *finish = json_pack ("{s:s, s:i}", "import_id", id, "chunks", seq);
        reply = s_call (request, "import.finish", finish, &err);
        if (!reply)
            return gw_reply_error (request, &err);
        if (json_is_true (json_object_get (reply, "done")))
            return gw_reply_json (request, 200, reply);
        json_decref (reply);
    }
    st_error_set (&err, ST_INTERNAL, "import_id", "import %s did not finish", id);
    return gw_reply_error (request, &err);
}

int
gw_map_csv (gw_request_t *request, json_t *body)
{
    const char *hex = json_string_value (json_object_get (body, "csv"));
    if (!hex || strlen (hex) / 2 <= S_ONE_FRAME_IMPORT)
        return 0;
    return gw_request_offload (request, s_import_chunked, body);
}
