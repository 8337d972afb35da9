/*  st_json.h — the JSON side of the contract: JSON objects mapped to and from messages through
    the same descriptors, so HTTP and the CLI speak exactly what the services validate.  */
#ifndef ST_JSON_H_INCLUDED
#define ST_JSON_H_INCLUDED

#include "st_codec.h"

#include <jansson.h>

//  Fills `out` (zeroed first) from a JSON object and validates it like a received message:
//  null stands for absent, unknown keys are ignored, binary fields are hex strings.
//  Returns 0, or -1 with err naming the field (and `out` cleared).
int st_json_to_msg (const st_desc_t *desc, const json_t *json, void *out, st_error_t *err);

//  Returns a new JSON object for a message (the caller owns the reference).
json_t *st_msg_to_json (const st_desc_t *desc, const void *msg);

#endif
