/*  registry_import.c — bulk imports from spreadsheets (登记造册): volunteers and regions from
    the CSV files officials export, with the column names they use. Good rows are created, rows
    already registered skipped, bad rows reported by line, field and reason. The rows go
    through the same checks and statements as one registration (registry_volunteers.c).  */
#include "registry.h"
#include "registry_util.h"
#include "st_checks.h"
#include "st_csv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ST_REGISTRY_IMPORT_OPS (ST_ROUTE_THUNK)

const st_route_t registry_import_routes[] = {ST_REGISTRY_IMPORT_OPS (ST_ROUTE_ROW)};
const size_t registry_import_route_count =
    sizeof registry_import_routes / sizeof registry_import_routes[0];

//  ---------------------------------------------------------------------------------------
//  volunteer.import — bulk registration (登记造册) from a spreadsheet's CSV

//  The columns an import reads: the field, and the names officials give it.
enum {
    C_NAME,
    C_ID_NUMBER,
    C_PHONE,
    C_REGION,
    C_SKILLS,
    C_CATEGORIES,
    C_PARTY_MEMBER,
    C_INSURANCE_UNTIL,
    C_CONTACT_NAME,
    C_CONTACT_PHONE,
    C_COUNT
};
static const struct {
    const char *field;
    const char *aliases[3];
    bool required;
} s_columns[C_COUNT] = {
    {"name", {"姓名", NULL}, true},
    {"id_number", {"身份证号", "身份证号码", NULL}, true},
    {"phone", {"手机号", "手机号码", "联系电话"}, true},
    {"region", {"区划代码", "所属区划代码", NULL}, true},
    {"skills", {"技能", "特长", NULL}, false},
    {"categories", {"服务类别", "意向服务类别", NULL}, false},
    {"party_member", {"党员", "是否党员", NULL}, false},
    {"insurance_until", {"保险有效期", "保险有效期至", NULL}, false},
    {"emergency_contact_name", {"紧急联系人", NULL}, false},
    {"emergency_contact_phone", {"紧急联系电话", "紧急联系人电话", NULL}, false},
};

//  Splits a list cell ("急救;手语", "急救、手语", "急救|手语") into owned items.
static void
s_split (const char *cell, st_strs_t *out, bool *has)
{
    size_t len = strlen (cell);
    out->items = st_calloc (len / 2 + 1, sizeof (char *));
    out->count = 0;
    const char *p = cell;
    while (*p) {
        const char *end = p;
        size_t sep = 0;
        while (*end) {
            if (*end == ';' || *end == '|' || *end == ',')
                sep = 1;
            else if (strncmp (end, "、", 3) == 0 || strncmp (end, "；", 3) == 0)
                sep = 3;
            if (sep)
                break;
            end++;
        }
        while (p < end && *p == ' ')
            p++;
        const char *stop = end;
        while (stop > p && stop[-1] == ' ')
            stop--;
        if (stop > p)
            out->items[out->count++] = st_strndup (p, (size_t) (stop - p));
        p = *end ? end + sep : end;
        sep = 0;
    }
    *has = true;
}

static void
s_free_list (st_strs_t *list)
{
    for (size_t i = 0; i < list->count; i++)
        free (list->items[i]);
    free (list->items);
}

static void
s_import_error (msg_import_result_t *reply, size_t *capacity, int line, const char *field,
                st_status_t code, const char *message)
{
    if (reply->errors.count == *capacity) {
        *capacity = *capacity ? 2 * *capacity : 16;
        msg_import_error_t *grown =
            realloc (reply->errors.items, *capacity * sizeof (msg_import_error_t));
        if (!grown)
            abort ();
        reply->errors.items = grown;
    }
    msg_import_error_t *e = &reply->errors.items[reply->errors.count++];
    memset (e, 0, sizeof *e);
    e->line = line;
    e->has_line = true;
    e->field = field && *field ? st_strdup (field) : NULL;
    e->code = st_strdup (st_status_name (code));
    char text[300];
    snprintf (text, sizeof text, "%s", message);
    //  Never cut a character in two.
    size_t n = strlen (text);
    while (n > 0 && ((unsigned char) text[n - 1] & 0xc0) == 0x80 && n == sizeof text - 1)
        text[--n] = 0;
    e->message = st_strdup (text);
}

//  A reader of the file an import carries; NULL (the call failed) when it is not UTF-8 text.
static st_csv_t *
s_csv_open (st_call_t *call, const st_bin_t *file)
{
    const char *data = (const char *) file->data;
    if (!st_utf8_check (data, file->size, NULL)) {
        st_call_fail (call, ST_INVALID_ARGUMENT, "csv",
                      "the file is not UTF-8 text: save it as \"CSV UTF-8\" (a GBK file cannot "
                      "be read)");
        return NULL;
    }
    return st_csv_new (data, file->size);
}

//  Maps the header row to column indexes; fails the call when a required column is missing.
static int
s_import_header (st_call_t *call, st_csv_t *csv, int fields, int columns[C_COUNT])
{
    for (int c = 0; c < C_COUNT; c++) {
        columns[c] = -1;
        for (int i = 0; i < fields && columns[c] < 0; i++) {
            const char *title = st_csv_field (csv, i);
            if (strcmp (title, s_columns[c].field) == 0)
                columns[c] = i;
            for (int a = 0; a < 3 && s_columns[c].aliases[a]; a++)
                if (strcmp (title, s_columns[c].aliases[a]) == 0)
                    columns[c] = i;
        }
        if (s_columns[c].required && columns[c] < 0)
            return st_call_fail (call, ST_INVALID_ARGUMENT, "csv",
                                 "the header row has no column \"%s\" (or \"%s\")",
                                 s_columns[c].field, s_columns[c].aliases[0]);
    }
    return 0;
}

static void
s_volunteer_import (st_call_t *call, const msg_volunteer_import_t *request,
                    msg_import_result_t *reply)
{
    const msg_actor_t *actor;
    if (st_require_actor (call, &actor))
        return;
    if (!st_actor_is_system (actor) && !st_actor_is_official (actor)) {
        st_call_fail (call, ST_PERMISSION_DENIED, NULL, "only officials import volunteers");
        return;
    }
    st_csv_t *csv = s_csv_open (call, &request->csv);
    if (!csv)
        return;
    int columns[C_COUNT];
    int fields = st_csv_next (csv);
    if (fields <= 0) {
        st_call_fail (call, ST_INVALID_ARGUMENT, "csv", "the file has no header row");
        st_csv_destroy (&csv);
        return;
    }
    if (s_import_header (call, csv, fields, columns)) {
        st_csv_destroy (&csv);
        return;
    }
    reply->has_created = reply->has_skipped = reply->has_errors = true;
    size_t capacity = 0;
    while ((fields = st_csv_next (csv)) != 0) {
        int line = st_csv_line (csv);
        if (fields < 0) {
            s_import_error (reply, &capacity, line, NULL, ST_INVALID_ARGUMENT, st_csv_error (csv));
            continue;
        }
#define S_CELL(c)                                                                                  \
    (columns[c] >= 0 && *st_csv_field (csv, columns[c]) ? st_csv_field (csv, columns[c]) : NULL)
        msg_volunteer_register_t row = {.name = (char *) S_CELL (C_NAME),
                                        .id_number = (char *) S_CELL (C_ID_NUMBER),
                                        .phone = (char *) S_CELL (C_PHONE),
                                        .region = (char *) S_CELL (C_REGION),
                                        .insurance_until = (char *) S_CELL (C_INSURANCE_UNTIL),
                                        .emergency_contact_name = (char *) S_CELL (C_CONTACT_NAME),
                                        .emergency_contact_phone =
                                            (char *) S_CELL (C_CONTACT_PHONE)};
        s_split (S_CELL (C_SKILLS) ? S_CELL (C_SKILLS) : "", &row.skills, &row.has_skills);
        s_split (S_CELL (C_CATEGORIES) ? S_CELL (C_CATEGORIES) : "", &row.categories,
                 &row.has_categories);
        const char *party = S_CELL (C_PARTY_MEMBER);
#undef S_CELL
        st_error_t err = {0};
        bool bad_party = false;
        if (party) {
            row.has_party_member = true;
            if (strcmp (party, "是") == 0 || strcmp (party, "true") == 0
                || strcmp (party, "1") == 0)
                row.party_member = true;
            else if (!(strcmp (party, "否") == 0 || strcmp (party, "false") == 0
                       || strcmp (party, "0") == 0))
                bad_party = true;
        }
        msg_volunteer_t volunteer = {0};
        int rc = -1;
        if (bad_party)
            st_error_set (&err, ST_INVALID_ARGUMENT, "party_member",
                          "\"party_member\" must be 是 or 否 (true or false)");
        else if (st_validate (&msg_volunteer_register_desc, &row, &err) == 0) {
            rc = registry_insert_volunteer (call, &row, "volunteer_insert_new", &volunteer);
            if (rc < 0 && !st_call_recover (call, &err)) {
                //  The database refused: the whole import is rolled back.
                s_free_list (&row.skills);
                s_free_list (&row.categories);
                st_csv_destroy (&csv);
                return;
            }
        }
        if (rc == 1) {
            reply->created++;
            registry_emit_volunteer (call, "volunteer.registered", &volunteer);
        } else if (rc == 0)
            reply->skipped++;
        else
            s_import_error (reply, &capacity, line, err.field, err.code, err.message);
        st_msg_clear (&msg_volunteer_desc, &volunteer);
        s_free_list (&row.skills);
        s_free_list (&row.categories);
        if (st_call_failed (call))
            break;
    }
    st_csv_destroy (&csv);
}

//  ---------------------------------------------------------------------------------------
//  region.import — a list of regions from CSV, parents placed before their children

typedef struct {
    int line;
    char code[ST_REGION_SIZE];
    char *name;
} s_region_row_t;

static int
s_region_row_order (const void *a, const void *b)
{
    const s_region_row_t *x = a, *y = b;
    //  Shallower levels first, so a parent exists before its children arrive.
    //  Non-codes (level -1) go last, to be reported after the rest.
    int lx = st_region_level (x->code), ly = st_region_level (y->code);
    lx = lx < 0 ? 9 : lx;
    ly = ly < 0 ? 9 : ly;
    return lx != ly ? lx - ly : x->line - y->line;
}

static void
s_region_import (st_call_t *call, const msg_region_import_t *request, msg_import_result_t *reply)
{
    const msg_actor_t *actor;
    if (st_require_actor (call, &actor)
        || registry_require_region_admin (call, actor, "only a region admin imports regions"))
        return;
    st_csv_t *csv = s_csv_open (call, &request->csv);
    if (!csv)
        return;
    int fields = st_csv_next (csv), code_col = -1, name_col = -1;
    for (int i = 0; i < fields; i++) {
        const char *title = st_csv_field (csv, i);
        if (strcmp (title, "code") == 0 || strcmp (title, "区划代码") == 0)
            code_col = i;
        if (strcmp (title, "name") == 0 || strcmp (title, "名称") == 0)
            name_col = i;
    }
    if (code_col < 0 || name_col < 0) {
        st_csv_destroy (&csv);
        st_call_fail (call, ST_INVALID_ARGUMENT, "csv",
                      "the header row needs columns \"code\" and \"name\" (or 区划代码, 名称)");
        return;
    }
    reply->has_created = reply->has_skipped = reply->has_errors = true;
    size_t capacity = 0, count = 0, allocated = 64;
    s_region_row_t *rows = st_calloc (allocated, sizeof *rows);
    while ((fields = st_csv_next (csv)) != 0) {
        if (fields < 0) {
            s_import_error (reply, &capacity, st_csv_line (csv), NULL, ST_INVALID_ARGUMENT,
                            st_csv_error (csv));
            continue;
        }
        if (count == allocated) {
            allocated *= 2;
            s_region_row_t *grown = realloc (rows, allocated * sizeof *rows);
            if (!grown)
                abort ();
            rows = grown;
        }
        s_region_row_t *row = &rows[count++];
        row->line = st_csv_line (csv);
        snprintf (row->code, sizeof row->code, "%s", st_csv_field (csv, code_col));
        row->name = st_strdup (st_csv_field (csv, name_col));
    }
    st_csv_destroy (&csv);
    qsort (rows, count, sizeof *rows, s_region_row_order);
    for (size_t i = 0; i < count && !st_call_failed (call); i++) {
        s_region_row_t *row = &rows[i];
        st_error_t err = {0};
        size_t chars = 0;
        st_utf8_check (row->name, strlen (row->name), &chars);
        int level = st_region_level (row->code);
        char parent[ST_REGION_SIZE];
        st_region_parent (row->code, parent);
        if (level < 0)
            st_error_set (&err, ST_INVALID_ARGUMENT, "code",
                          "\"code\" must be a 12-digit statistical division code");
        else if (chars < 1 || chars > 50)
            st_error_set (&err, ST_INVALID_ARGUMENT, "name", "\"name\" must be 1 to 50 characters");
        else if (!st_actor_in_scope (actor, level > 0 ? parent : row->code))
            st_error_set (&err, ST_PERMISSION_DENIED, "code",
                          "region \"%s\" is outside your region", row->code);
        if (err.code != ST_OK) {
            s_import_error (reply, &capacity, row->line, err.field, err.code, err.message);
            continue;
        }
        st_params_t params = {0};
        int rc = registry_region_row (call, row->code, row->name, parent, &params);
        if (rc < 0)
            break;
        if (rc > 0) {
            s_import_error (reply, &capacity, row->line, "code", ST_FAILED_PRECONDITION,
                            "its parent region is neither in the file nor registered");
            continue;
        }
        PGresult *res;
        if (st_call_exec (call, "region_insert_new", &params, &res))
            break;
        if (PQntuples (res) == 1)
            reply->created++;
        else
            reply->skipped++;
        PQclear (res);
    }
    for (size_t i = 0; i < count; i++)
        free (rows[i].name);
    free (rows);
}
