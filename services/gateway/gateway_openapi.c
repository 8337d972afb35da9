/*  gateway_openapi.c — /v1/openapi.json, an OpenAPI 3.1 document made from the route table
    and the proto descriptors the services validate with, so it cannot drift from the code:
    a field's name, type, limits and whether it is required are declared once, in proto/.  */
#include "gateway.h"

#include <string.h>

//  The schema of one field.
static json_t *s_schema (const st_desc_t *desc, json_t *components);

static json_t *
s_ref (const st_desc_t *desc, json_t *components)
{
    if (!json_object_get (components, desc->name)) {
        //  Placed before it is filled, so that a message reached again refers to itself.
        json_object_set_new (components, desc->name, json_object ());
        json_object_set_new (components, desc->name, s_schema (desc, components));
    }
    char ref[128];
    snprintf (ref, sizeof ref, "#/components/schemas/%s", desc->name);
    return json_pack ("{s:s}", "$ref", ref);
}

static json_t *
s_field_schema (const st_field_t *field, json_t *components)
{
    switch (field->type) {
    case ST_T_STR:
        return json_pack ("{s:s, s:I, s:I}", "type", "string", "minLength", (json_int_t) field->min,
                          "maxLength", (json_int_t) field->max);
    case ST_T_INT:
        return json_pack ("{s:s, s:I, s:I}", "type", "integer", "minimum", (json_int_t) field->min,
                          "maximum", (json_int_t) field->max);
    case ST_T_BOOL:
        return json_pack ("{s:s}", "type", "boolean");
    case ST_T_DOUBLE:
        return json_pack ("{s:s, s:f, s:f}", "type", "number", "minimum", field->dmin, "maximum",
                          field->dmax);
    case ST_T_BIN:
        return json_pack ("{s:s, s:s, s:I, s:I}", "type", "string", "pattern", "^([0-9a-f]{2})*$",
                          "minLength", (json_int_t) (2 * field->min), "maxLength",
                          (json_int_t) (2 * field->max));
    case ST_T_STRS:
        return json_pack ("{s:s, s:I, s:{s:s, s:I, s:I}}", "type", "array", "maxItems",
                          (json_int_t) field->max_items, "items", "type", "string", "minLength",
                          (json_int_t) field->min, "maxLength", (json_int_t) field->max);
    case ST_T_MSG:
        return s_ref (field->sub, components);
    case ST_T_MSGS:
        return json_pack ("{s:s, s:I, s:o}", "type", "array", "maxItems",
                          (json_int_t) field->max_items, "items", s_ref (field->sub, components));
    case ST_T_BODY:
    default:
        return json_pack ("{s:s}", "type", "object");
    }
}

static json_t *
s_schema (const st_desc_t *desc, json_t *components)
{
    json_t *properties = json_object (), *required = json_array ();
    for (size_t i = 0; i < desc->field_count; i++) {
        const st_field_t *field = &desc->fields[i];
        json_object_set_new (properties, field->name, s_field_schema (field, components));
        if (field->required)
            json_array_append_new (required, json_string (field->name));
    }
    json_t *schema = json_pack ("{s:s, s:o}", "type", "object", "properties", properties);
    if (json_array_size (required))
        json_object_set_new (schema, "required", required);
    else
        json_decref (required);
    return schema;
}

static const st_field_t *
s_field (const st_desc_t *desc, const char *name, size_t len)
{
    for (size_t i = 0; desc && i < desc->field_count; i++)
        if (strlen (desc->fields[i].name) == len && strncmp (desc->fields[i].name, name, len) == 0)
            return &desc->fields[i];
    return NULL;
}

//  A parameter (in path or query) named `name`, typed by the op's field of that name.
static json_t *
s_parameter (const char *in, const char *name, size_t len, const st_desc_t *desc,
             json_t *components)
{
    const st_field_t *field = s_field (desc, name, len);
    json_t *schema =
        field ? s_field_schema (field, components) : json_pack ("{s:s}", "type", "string");
    return json_pack ("{s:s%, s:s, s:b, s:o}", "name", name, len, "in", in, "required",
                      strcmp (in, "path") == 0 || (field && field->required), "schema", schema);
}

static const char *
s_status_text (int status)
{
    switch (status) {
    case 201:
        return "created";
    case 204:
        return "done, nothing to say";
    default:
        return "done";
    }
}

json_t *
gw_openapi (void)
{
    json_t *components = json_object (), *paths = json_object ();
    json_t *error =
        json_pack ("{s:s, s:{s:{s:s, s:{s:{s:s}, s:{s:s}, s:{s:s}}, s:[s, s]}}, s:[s]}", "type",
                   "object", "properties", "error", "type", "object", "properties", "code", "type",
                   "string", "message", "type", "string", "field", "type", "string", "required",
                   "code", "message", "required", "error");
    json_object_set_new (components, "Error", error);
    for (size_t r = 0; r < gw_route_count; r++) {
        const gw_route_t *route = &gw_routes[r];
        const st_op_desc_t *op = route->service ? st_proto_op (route->service, route->op) : NULL;
        json_t *operation = json_object ();
        char id[96];
        snprintf (id, sizeof id, "%s %s", route->method, route->pattern);
        json_object_set_new (operation, "operationId", json_string (id));
        json_object_set_new (operation, "summary",
                             json_string (op ? op->name : "answered by the gateway"));
        json_t *parameters = json_array ();
        for (const char *p = strchr (route->pattern, '{'); p; p = strchr (p + 1, '{')) {
            const char *end = strchr (p, '}');
            json_array_append_new (parameters, s_parameter ("path", p + 1, (size_t) (end - p - 1),
                                                            op ? op->request : NULL, components));
        }
        for (const char *q = route->query; q && *q;) {
            size_t len = strcspn (q, " ");
            json_array_append_new (
                parameters, s_parameter ("query", q, len, op ? op->request : NULL, components));
            q += len + (q[len] ? 1 : 0);
        }
        if (json_array_size (parameters))
            json_object_set_new (operation, "parameters", parameters);
        else
            json_decref (parameters);
        bool has_body = strcmp (route->method, "POST") == 0 || strcmp (route->method, "PUT") == 0
                        || strcmp (route->method, "PATCH") == 0;
        if (has_body && op && route->map == gw_map_csv)
            json_object_set_new (
                operation, "requestBody",
                json_pack ("{s:{s:{s:{s:s}}}}", "content", "text/csv", "schema", "type", "string"));
        else if (has_body && op)
            json_object_set_new (operation, "requestBody",
                                 json_pack ("{s:{s:{s:o}}}", "content", "application/json",
                                            "schema", s_ref (op->request, components)));
        json_t *responses = json_object ();
        char status[8];
        snprintf (status, sizeof status, "%d", route->status ? route->status : 200);
        json_t *success = json_pack ("{s:s}", "description", s_status_text (route->status));
        if (op && route->status != 204)
            json_object_set_new (success, "content",
                                 json_pack ("{s:{s:o}}", "application/json", "schema",
                                            s_ref (op->reply, components)));
        json_t *content = op ? NULL : gw_reports_openapi (route);
        if (content)
            json_object_set_new (success, "content", content);
        json_object_set_new (responses, status, success);
        json_object_set_new (responses, "default",
                             json_pack ("{s:s, s:{s:{s:{s:s}}}}", "description",
                                        "an error: 400, 401, 403, 404, 409, 413, 422, 429 or 503",
                                        "content", "application/json", "schema", "$ref",
                                        "#/components/schemas/Error"));
        json_object_set_new (operation, "responses", responses);
        if (route->who == GW_SIGNED_IN)
            json_object_set_new (operation, "security", json_pack ("[{s:[]}]", "session"));
        json_t *item = json_object_get (paths, route->pattern);
        if (!item) {
            item = json_object ();
            json_object_set_new (paths, route->pattern, item);
        }
        char method[8];
        snprintf (method, sizeof method, "%s", route->method);
        for (char *m = method; *m; m++)
            *m = (char) (*m - 'A' + 'a');
        json_object_set_new (item, method, operation);
    }
    return json_pack (
        "{s:s, s:{s:s, s:s, s:s}, s:o, s:{s:o, s:{s:{s:s, s:s}}}}", "openapi", "3.1.0", "info",
        "title", "Station", "version", "1", "description",
        "The HTTP API of Station (../shared/design/http-api.md), made from the gateway's route "
        "table and the services' message descriptors.",
        "paths", paths, "components", "schemas", components, "securitySchemes", "session", "type",
        "http", "scheme", "bearer");
}
