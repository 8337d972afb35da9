/*  registry_import.c — bulk imports from spreadsheets (登记造册): volunteers and regions from
    the CSV files officials export, with the column names they use, in UTF-8 or in GBK /
    GB18030 (what Excel and WPS on Chinese Windows save as "CSV"). Good rows are created, rows
    already registered skipped, bad rows reported by line, field and reason: the first
    ST_IMPORT_MAX_ERRORS of them, and a count of all. The rows go through the same checks as
    one registration (registry_volunteers.c), each sealed on its own, and are inserted 1,000
    in one statement, their events in another. A file is read a row at a time, never held
    parsed; one larger than a frame comes in chunks (import.begin, import.chunk,
    import.finish), kept in the database and registered a batch at a time, each batch
    committed with where it stopped. A dry run (dry_run) checks every row exactly so and saves
    nothing: the rows are inserted and rolled back. Nothing here is static and mutable: a
    handler may run on any thread, on any connection registry_store_prepare prepared.  */
#include "registry.h"
#include "registry_util.h"
#include "st_checks.h"
#include "st_csv.h"
#include "st_db.h"
#include "st_events.h"
#include "st_log.h"
#include "st_pii.h"
#include "st_rows.h"

#include <errno.h>
#include <iconv.h>
#include <sodium.h>
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
    C_EMAIL,
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
    {"email", {"电子邮箱", "邮箱", "电子邮件"}, false},
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

//  A PostgreSQL array literal of text, built an element at a time: an import binds a batch
//  of rows as one array per column (import_insert_batch), one round trip for them all.
typedef struct {
    char *text;
    size_t used, capacity;
    int count;
} s_array_t;

static void
s_array_reserve (s_array_t *self, size_t more)
{
    if (self->used + more + 2 <= self->capacity)
        return;
    self->capacity = (self->used + more + 2) * 2;
    self->text = realloc (self->text, self->capacity);
    if (!self->text)
        abort ();
}

//  Adds an element: NULL (`value` NULL), text (quoted, quotes and backslashes escaped), or
//  bytes as bytea's hex input (\x…).
static void
s_array_add (s_array_t *self, const char *value, size_t size, bool binary)
{
    s_array_reserve (self, 2 * size + 8);
    if (self->used == 0)
        self->text[self->used++] = '{';
    else
        self->text[self->used++] = ',';
    if (!value) {
        memcpy (self->text + self->used, "NULL", 4);
        self->used += 4;
    } else if (binary) {
        memcpy (self->text + self->used, "\"\\\\x", 4);
        self->used += 4;
        sodium_bin2hex (self->text + self->used, 2 * size + 1, (const unsigned char *) value, size);
        self->used += 2 * size;
        self->text[self->used++] = '"';
    } else {
        self->text[self->used++] = '"';
        for (size_t i = 0; i < size; i++) {
            if (value[i] == '"' || value[i] == '\\')
                self->text[self->used++] = '\\';
            self->text[self->used++] = value[i];
        }
        self->text[self->used++] = '"';
    }
    self->count++;
}

//  The literal (valid until the next add or reset).
static const char *
s_array_text (s_array_t *self)
{
    s_array_reserve (self, 2);
    if (self->used == 0)
        self->text[self->used++] = '{';
    self->text[self->used] = '}';
    self->text[self->used + 1] = 0;
    return self->text;
}

//  The rows of a batch: volunteer_insert's 18 parameters, a column each.
#define S_BATCH_COLUMNS 18
//  Rows inserted in one statement.
#define S_BATCH_ROWS 1000
typedef struct {
    s_array_t columns[S_BATCH_COLUMNS];
    int count;
} s_batch_t;

static void
s_batch_reset (s_batch_t *self, bool release)
{
    for (int i = 0; i < S_BATCH_COLUMNS; i++) {
        if (release) {
            free (self->columns[i].text);
            self->columns[i] = (s_array_t){0};
        }
        self->columns[i].used = 0;
        self->columns[i].count = 0;
    }
    self->count = 0;
}

//  How an import goes: its call, the reply whose counts it keeps, where its errors go: into
//  the reply (one frame), or into import_errors (a chunked import, whose batches commit on
//  their own); and the rows checked but not yet inserted.
typedef struct {
    st_call_t *call;
    msg_import_result_t *reply;
    int64_t import_id; //  0: one frame
    bool dry_run;      //  nothing is saved: the counts say what an import would do
    s_batch_t batch;
} s_import_t;

//  Runs a SAVEPOINT statement (`sql`) in the call's transaction. Returns -1 when the call
//  failed.
static int
s_savepoint (st_call_t *call, const char *sql)
{
    st_error_t err;
    st_status_t rc = st_db_run (st_call_db (call), sql, &err);
    return rc == ST_OK ? 0 : st_call_fail_db (call, rc, &err);
}

//  A dry run of one frame: everything its rows do is undone at the end, in one rollback to
//  a savepoint taken at the start (the errors live in the reply, not in the database).
static int
s_dry_run_begin (st_call_t *call, bool dry_run, msg_import_result_t *reply)
{
    if (!dry_run)
        return 0;
    reply->dry_run = reply->has_dry_run = true;
    return s_savepoint (call, "SAVEPOINT dry_run");
}

static void
s_dry_run_end (st_call_t *call, bool dry_run)
{
    //  A call the database failed rolls back whole anyway.
    if (dry_run && !st_call_failed (call))
        s_savepoint (call, "ROLLBACK TO SAVEPOINT dry_run");
}

//  Cuts text at `size` bytes, never inside a character.
static void
s_utf8_cut (char *text, size_t size)
{
    if (strlen (text) < size)
        return;
    size_t n = size;
    while (n > 0 && ((unsigned char) text[n] & 0xc0) == 0x80)
        n--; //  text[n] starts the character that would be cut
    text[n] = 0;
}

//  Counts an error of the row on `line`, and keeps it when it is one of the first
//  ST_IMPORT_MAX_ERRORS. Returns -1 when the call failed.
static int
s_import_error (s_import_t *im, int line, const char *field, st_status_t code, const char *message)
{
    msg_import_result_t *reply = im->reply;
    int64_t n = reply->error_count++;
    if (n >= ST_IMPORT_MAX_ERRORS)
        return 0;
    char text[300];
    snprintf (text, sizeof text, "%s", message);
    s_utf8_cut (text, sizeof text - 1);
    if (im->import_id) {
        st_params_t params = {0};
        st_params_int (&params, im->import_id);
        st_params_int (&params, n + 1);
        st_params_int (&params, line);
        st_params_text (&params, field && *field ? field : NULL);
        st_params_text (&params, st_status_name (code));
        st_params_text (&params, text);
        return st_call_exec (im->call, "import_error_put", &params, NULL);
    }
    if (!reply->errors.items)
        reply->errors.items = st_calloc (ST_IMPORT_MAX_ERRORS, sizeof (msg_import_error_t));
    msg_import_error_t *e = &reply->errors.items[reply->errors.count++];
    e->line = line;
    e->has_line = true;
    e->field = field && *field ? st_strdup (field) : NULL;
    e->code = st_strdup (st_status_name (code));
    e->message = st_strdup (text);
    return 0;
}

static void
s_result_init (msg_import_result_t *reply)
{
    reply->has_created = reply->has_skipped = reply->has_errors = reply->has_error_count = true;
}

//  Only the system and officials import.
static int
s_require_importer (st_call_t *call, const msg_actor_t **actor)
{
    if (st_require_actor (call, actor))
        return -1;
    if (!st_actor_is_system (*actor) && !st_actor_is_official (*actor))
        return st_call_fail (call, ST_PERMISSION_DENIED, NULL, "only officials import volunteers");
    return 0;
}

//  ---------------------------------------------------------------------------------------
//  Encodings: a file is read as UTF-8 when its bytes are valid UTF-8 (a byte-order mark
//  or not), else as GB18030, which covers GBK (code page 936, what Excel and WPS on Chinese
//  Windows save as "CSV"), converted to UTF-8 by iconv before the reader sees it.

//  How many bytes at the end of `data` begin a UTF-8 character the next piece may end (a
//  chunk may cut one): 0 to 3.
static size_t
s_utf8_tail (const char *data, size_t size)
{
    for (size_t k = 1; k <= 3 && k <= size; k++) {
        unsigned char c = (unsigned char) data[size - k];
        if ((c & 0xc0) == 0x80)
            continue;
        size_t need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
        return need > k ? k : 0;
    }
    return 0;
}

//  The line (from `line`) on which byte `at` of `data` is.
static int
s_line_at (const char *data, size_t at, int line)
{
    for (size_t i = 0; i < at; i++)
        line += data[i] == '\n';
    return line;
}

//  Converts GB18030 bytes to UTF-8 into *out (NUL-terminated, the caller's), its length
//  into *out_size; *used the bytes converted: all of them, but for an unfinished character
//  at the end when more bytes follow (not `last`). Returns 0, or -1 when byte *used is no
//  GB18030 character (or begins one the file ends inside).
static int
s_gb18030_to_utf8 (const char *in, size_t size, bool last, char **out, size_t *out_size,
                   size_t *used)
{
    //  A character of GB18030 (1, 2 or 4 bytes) is at most 4 bytes of UTF-8: 2 bytes become
    //  at most 3, so twice the input always holds the output.
    size_t capacity = 2 * size + 4;
    char *buffer = st_malloc (capacity);
    char *ip = (char *) in, *op = buffer;
    size_t in_left = size, out_left = capacity - 1;
    int rc = 0;
    iconv_t cd = iconv_open ("UTF-8", "GB18030");
    if (cd == (iconv_t) -1)
        abort (); //  glibc's gconv modules are part of libc6
    if (iconv (cd, &ip, &in_left, &op, &out_left) == (size_t) -1)
        rc = errno == EINVAL && !last ? 0 : -1;
    iconv_close (cd);
    *op = 0;
    *used = (size_t) (ip - in);
    *out = buffer;
    *out_size = (size_t) (op - buffer);
    return rc;
}

static int
s_encoding_error (st_call_t *call, int line)
{
    return st_call_fail (call, ST_INVALID_ARGUMENT, "csv",
                         "line %d of the file is neither UTF-8 nor GB18030 (GBK) text: nothing "
                         "was imported; check the file, or save it again as \"CSV UTF-8\"",
                         line);
}

//  A reader of the file an import carries, UTF-8 or GB18030 (its text converted into *text,
//  the caller's to free after the reader; the encoding into the reply). NULL (the call
//  failed, naming the line) when the bytes are neither.
static st_csv_t *
s_csv_open (st_call_t *call, const st_bin_t *file, char **text, msg_import_result_t *reply)
{
    const char *data = (const char *) file->data;
    *text = NULL;
    free (reply->encoding);
    if (st_utf8_check (data, file->size, NULL)) {
        reply->encoding = st_strdup ("utf-8");
        return st_csv_new (data, file->size);
    }
    size_t size, used;
    if (s_gb18030_to_utf8 (data, file->size, true, text, &size, &used)) {
        free (*text);
        *text = NULL;
        reply->encoding = NULL;
        s_encoding_error (call, s_line_at (data, used, 1));
        return NULL;
    }
    reply->encoding = st_strdup ("gb18030");
    return st_csv_new (*text, size);
}

//  Whether every field of the row the reader holds is UTF-8 text (a chunked file is checked
//  row by row: a chunk may end inside a character).
static bool
s_row_utf8 (st_csv_t *csv, int fields)
{
    for (int i = 0; i < fields; i++) {
        const char *field = st_csv_field (csv, i);
        if (!st_utf8_check (field, strlen (field), NULL))
            return false;
    }
    return true;
}

//  Maps the header row to column indexes; fails the call when a required column is missing.
static int
s_import_header (st_call_t *call, st_csv_t *csv, int fields, int columns[C_COUNT])
{
    if (fields <= 0)
        return st_call_fail (call, ST_INVALID_ARGUMENT, "csv", "the file has no header row");
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

//  Inserts the rows of the batch in one statement and writes their events in another, one
//  per volunteer created, in the order of the file; counts the rows created and skipped
//  (registered already, before or earlier in the file). In a chunked dry run the batch is
//  undone at once, and the ID numbers it would have created kept (import_dry_seen), so that
//  a later row of the same person counts as skipped, as in a real import. Returns -1 when
//  the call failed.
static int
s_flush (s_import_t *im)
{
    s_batch_t *batch = &im->batch;
    st_call_t *call = im->call;
    if (batch->count == 0)
        return 0;
    st_params_t params = {0};
    for (int i = 0; i < S_BATCH_COLUMNS; i++)
        st_params_text (&params, s_array_text (&batch->columns[i]));
    bool undo = im->dry_run && im->import_id;
    PGresult *res;
    if ((undo && s_savepoint (call, "SAVEPOINT dry_batch"))
        || st_call_exec (call, "import_insert_batch", &params, &res))
        return -1;
    int rows = PQntuples (res), created = rows;
    s_array_t topics = {0}, bodies = {0};
    int rc = 0;
    if (undo) {
        int hash = PQfnumber (res, "id_number_hash");
        for (int r = 0; r < rows; r++)
            s_array_add (&bodies, PQgetvalue (res, r, hash), (size_t) PQgetlength (res, r, hash),
                         false);
        PQclear (res);
        st_params_int (&params, im->import_id);
        st_params_text (&params, s_array_text (&bodies));
        rc = s_savepoint (call, "ROLLBACK TO SAVEPOINT dry_batch");
        if (rc == 0 && (rc = st_call_exec (call, "import_dry_seen_batch", &params, &res)) == 0) {
            created = PQntuples (res);
            PQclear (res);
        }
    } else if (!im->dry_run) {
        for (int r = 0; r < rows && rc == 0; r++) {
            msg_volunteer_t volunteer = {0};
            st_row_to_msg (res, r, &msg_volunteer_desc, &volunteer);
            msg_volunteer_registered_t event;
            registry_volunteer_event (&volunteer, &event);
            st_params_t one = {0};
            st_error_t err;
            if (st_event_params ("volunteer.registered", &msg_volunteer_registered_desc, &event,
                                 &one, &err))
                rc = st_call_fail (call, err.code, NULL, "%s", err.message);
            else {
                s_array_add (&topics, one.values[0], strlen (one.values[0]), false);
                s_array_add (&bodies, one.values[1], (size_t) one.lengths[1], true);
            }
            st_params_clear (&one);
            st_msg_clear (&msg_volunteer_desc, &volunteer);
        }
        PQclear (res);
        st_params_text (&params, s_array_text (&topics));
        st_params_text (&params, s_array_text (&bodies));
        if (rc == 0 && rows > 0)
            rc = st_call_exec (call, "import_outbox_batch", &params, NULL);
        st_params_clear (&params);
    } else
        PQclear (res);
    free (topics.text);
    free (bodies.text);
    im->reply->created += created;
    im->reply->skipped += batch->count - created;
    s_batch_reset (batch, false);
    return rc ? -1 : 0;
}

//  Checks the row the reader holds (`fields` fields, -1 when it is malformed) and adds it to
//  the batch, or counts it as an error; the batch is inserted when full (s_flush counts
//  the rows created and skipped). Returns -1 when the call failed
//  (the database refused a statement: the import stops, its transaction rolled back).
static int
s_volunteer_row (s_import_t *im, st_csv_t *csv, int fields, const int columns[C_COUNT])
{
    st_call_t *call = im->call;
    int line = st_csv_line (csv);
    if (fields < 0)
        return s_import_error (im, line, NULL, ST_INVALID_ARGUMENT, st_csv_error (csv));
    if (!s_row_utf8 (csv, fields))
        return s_import_error (im, line, NULL, ST_INVALID_ARGUMENT,
                               "the row is not UTF-8 text: save the file as \"CSV UTF-8\"");
#define S_CELL(c)                                                                                  \
    (columns[c] >= 0 && *st_csv_field (csv, columns[c]) ? st_csv_field (csv, columns[c]) : NULL)
    msg_volunteer_register_t row = {.name = (char *) S_CELL (C_NAME),
                                    .id_number = (char *) S_CELL (C_ID_NUMBER),
                                    .phone = (char *) S_CELL (C_PHONE),
                                    .region = (char *) S_CELL (C_REGION),
                                    .insurance_until = (char *) S_CELL (C_INSURANCE_UNTIL),
                                    .emergency_contact_name = (char *) S_CELL (C_CONTACT_NAME),
                                    .emergency_contact_phone = (char *) S_CELL (C_CONTACT_PHONE),
                                    .email = (char *) S_CELL (C_EMAIL)};
    s_split (S_CELL (C_SKILLS) ? S_CELL (C_SKILLS) : "", &row.skills, &row.has_skills);
    s_split (S_CELL (C_CATEGORIES) ? S_CELL (C_CATEGORIES) : "", &row.categories,
             &row.has_categories);
    const char *party = S_CELL (C_PARTY_MEMBER);
#undef S_CELL
    st_error_t err = {0};
    bool bad_party = false;
    if (party) {
        row.has_party_member = true;
        if (strcmp (party, "是") == 0 || strcmp (party, "true") == 0 || strcmp (party, "1") == 0)
            row.party_member = true;
        else if (!(strcmp (party, "否") == 0 || strcmp (party, "false") == 0
                   || strcmp (party, "0") == 0))
            bad_party = true;
    }
    int result = 0;
    st_params_t params = {0};
    char text[16];
    if (bad_party) {
        st_error_set (&err, ST_INVALID_ARGUMENT, "party_member",
                      "\"party_member\" must be 是 or 否 (true or false)");
        result = s_import_error (im, line, err.field, err.code, err.message);
    } else if (st_validate (&msg_volunteer_register_desc, &row, &err) == 0) {
        //  Checked and sealed a row at a time, inserted a batch at a time.
        if (registry_volunteer_params (call, &row, &params, text) == 0) {
            s_batch_t *batch = &im->batch;
            for (int i = 0; i < S_BATCH_COLUMNS; i++) {
                const char *value = params.values[i];
                bool binary = params.formats[i] != 0;
                size_t size = !value ? 0 : binary ? (size_t) params.lengths[i] : strlen (value);
                s_array_add (&batch->columns[i], value, size, binary);
            }
            st_params_clear (&params);
            if (++batch->count >= S_BATCH_ROWS)
                result = s_flush (im);
        } else if (!st_call_recover (call, &err))
            result = -1; //  the database refused: the import stops, rolled back
        else
            result = s_import_error (im, line, err.field, err.code, err.message);
    } else
        result = s_import_error (im, line, err.field, err.code, err.message);
    s_free_list (&row.skills);
    s_free_list (&row.categories);
    return st_call_failed (call) ? -1 : result;
}

static void
s_volunteer_import (st_call_t *call, const msg_volunteer_import_t *request,
                    msg_import_result_t *reply)
{
    const msg_actor_t *actor;
    if (s_require_importer (call, &actor))
        return;
    char *text;
    st_csv_t *csv = s_csv_open (call, &request->csv, &text, reply);
    if (!csv)
        return;
    int columns[C_COUNT];
    int fields = st_csv_next (csv);
    if (s_import_header (call, csv, fields, columns) == 0
        && s_dry_run_begin (call, request->dry_run, reply) == 0) {
        s_result_init (reply);
        s_import_t im = {.call = call, .reply = reply, .dry_run = request->dry_run};
        while ((fields = st_csv_next (csv)) != 0)
            if (s_volunteer_row (&im, csv, fields, columns))
                break;
        if (!st_call_failed (call))
            s_flush (&im);
        s_batch_reset (&im.batch, true);
        s_dry_run_end (call, request->dry_run);
    }
    st_csv_destroy (&csv);
    free (text);
}

//  ---------------------------------------------------------------------------------------
//  region.import — a list of regions from CSV, parents placed before their children

//  The pass in which a row of `code` is registered: shallower levels first, so that a parent
//  exists before its children arrive; non-codes last, to be reported after the rest.
#define S_REGION_PASSES 7
static int
s_region_pass (const char *code)
{
    int level = st_region_level (code);
    return level < 0 ? S_REGION_PASSES - 1 : level;
}

//  Registers the region of one row (within its pass). Returns -1 when the call failed.
static int
s_region_row (s_import_t *im, const msg_actor_t *actor, int line, const char *code,
              const char *name)
{
    st_call_t *call = im->call;
    st_error_t err = {0};
    size_t chars = 0;
    st_utf8_check (name, strlen (name), &chars);
    int level = st_region_level (code);
    char parent[ST_REGION_SIZE];
    st_region_parent (code, parent);
    if (level < 0)
        st_error_set (&err, ST_INVALID_ARGUMENT, "code",
                      "\"code\" must be a 12-digit statistical division code");
    else if (chars < 1 || chars > 50)
        st_error_set (&err, ST_INVALID_ARGUMENT, "name", "\"name\" must be 1 to 50 characters");
    else if (!st_actor_in_scope (actor, level > 0 ? parent : code))
        st_error_set (&err, ST_PERMISSION_DENIED, "code", "region \"%s\" is outside your region",
                      code);
    if (err.code != ST_OK)
        return s_import_error (im, line, err.field, err.code, err.message);
    st_params_t params = {0};
    int rc = registry_region_row (call, code, name, parent, &params);
    if (rc < 0)
        return -1;
    if (rc > 0)
        return s_import_error (im, line, "code", ST_FAILED_PRECONDITION,
                               "its parent region is neither in the file nor registered");
    PGresult *res;
    if (st_call_exec (call, "region_insert_new", &params, &res))
        return -1;
    if (PQntuples (res) == 1)
        im->reply->created++;
    else
        im->reply->skipped++;
    PQclear (res);
    return 0;
}

//  The file is read once per level (it is in memory already; its rows never are), so that
//  parents go before their children whatever the order of the file.
static void
s_region_import (st_call_t *call, const msg_region_import_t *request, msg_import_result_t *reply)
{
    const msg_actor_t *actor;
    if (st_require_actor (call, &actor)
        || registry_require_region_admin (call, actor, "only a region admin imports regions")
        || s_dry_run_begin (call, request->dry_run, reply))
        return;
    s_import_t im = {.call = call, .reply = reply, .dry_run = request->dry_run};
    for (int pass = 0; pass < S_REGION_PASSES && !st_call_failed (call); pass++) {
        char *text;
        st_csv_t *csv = s_csv_open (call, &request->csv, &text, reply);
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
            free (text);
            st_call_fail (call, ST_INVALID_ARGUMENT, "csv",
                          "the header row needs columns \"code\" and \"name\" (or 区划代码, 名称)");
            return;
        }
        s_result_init (reply);
        while ((fields = st_csv_next (csv)) != 0 && !st_call_failed (call)) {
            //  A malformed row is reported once, in the first pass.
            if (fields < 0) {
                if (pass == 0)
                    s_import_error (&im, st_csv_line (csv), NULL, ST_INVALID_ARGUMENT,
                                    st_csv_error (csv));
                continue;
            }
            char code[ST_REGION_SIZE];
            snprintf (code, sizeof code, "%s", st_csv_field (csv, code_col));
            if (s_region_pass (code) == pass)
                s_region_row (&im, actor, st_csv_line (csv), code, st_csv_field (csv, name_col));
        }
        st_csv_destroy (&csv);
        free (text);
    }
    s_dry_run_end (call, request->dry_run);
}

//  ---------------------------------------------------------------------------------------
//  import.begin, import.chunk, import.finish — a file larger than one frame, in chunks

//  Rows a chunked file may have: a header and a million (its bytes are bounded too).
#define S_IMPORT_MAX_ROWS 1000001
//  Rows registered between two commits: a concurrent registration of the same person waits
//  for one batch at most.
#define S_IMPORT_BATCH 1000
//  How long one import.finish call works before it answers (not done: call it again): while
//  ops run on the one rpc thread, the longest any other op waits for an import.
#define S_IMPORT_BUDGET_MS 1000

//  An import as import_lock reads it.
typedef struct {
    int chunks;
    int64_t size, declared_size;
    bool done, has_declared_size;
    st_csv_mark_t mark;
    int64_t created, skipped, error_count;
    bool dry_run;
    char encoding[16]; //  "" until the first finish decides it
} s_import_row_t;

//  Locks import `id_text` of the actor into *row: not found, naming "import_id", when there
//  is no such import, it expired, or another actor began it. Returns -1 when the call failed.
static int
s_import_lock (st_call_t *call, const msg_actor_t *actor, const char *id_text, int64_t *id,
               s_import_row_t *row)
{
    if (st_require_id (call, "import_id", "import", id_text, id))
        return -1;
    st_params_t params = {0};
    st_params_int (&params, *id);
    PGresult *res;
    if (st_call_exec (call, "import_lock", &params, &res))
        return -1;
    bool found = PQntuples (res) == 1;
    if (found) {
        const char *region = st_row_text (res, 0, "region");
        found = strcmp (st_row_text (res, 0, "account"), actor->account ? actor->account : "") == 0
                && strcmp (st_row_text (res, 0, "role"), actor->role ? actor->role : "") == 0
                && strcmp (region, actor->region ? actor->region : "") == 0;
    }
    if (found) {
        memset (row, 0, sizeof *row);
        row->chunks = (int) st_row_int (res, 0, "chunks");
        row->size = st_row_int (res, 0, "size");
        row->has_declared_size = !st_row_null (res, 0, "declared_size");
        row->declared_size = st_row_int (res, 0, "declared_size");
        row->done = st_row_bool (res, 0, "done");
        row->mark.offset = st_row_int (res, 0, "mark_offset");
        row->mark.line = (int) st_row_int (res, 0, "mark_line");
        row->mark.rows = (int) st_row_int (res, 0, "mark_rows");
        row->mark.after_cr = st_row_bool (res, 0, "mark_after_cr");
        row->created = st_row_int (res, 0, "created");
        row->skipped = st_row_int (res, 0, "skipped");
        row->error_count = st_row_int (res, 0, "error_count");
        row->dry_run = st_row_bool (res, 0, "dry_run");
        snprintf (row->encoding, sizeof row->encoding, "%s", st_row_text (res, 0, "encoding"));
    }
    PQclear (res);
    if (!found)
        return st_call_fail (call, ST_NOT_FOUND, "import_id",
                             "no import \"%s\" of yours is open: it expired or was never begun",
                             id_text);
    return 0;
}

static void
s_import_begin (st_call_t *call, const msg_import_begin_t *request, msg_import_begun_t *reply)
{
    const msg_actor_t *actor;
    if (s_require_importer (call, &actor)
        || st_require_one_of (call, "kind", request->kind,
                              (const char *const[]){"volunteers", NULL}))
        return;
    //  Abandoned imports go, their chunks with them.
    if (st_call_exec (call, "import_expire", NULL, NULL))
        return;
    st_params_t params = {0};
    st_params_text (&params, request->kind);
    st_params_text (&params, actor->account ? actor->account : "");
    st_params_text (&params, actor->role ? actor->role : "");
    st_params_text (&params, actor->region);
    st_params_int_or_null (&params, request->has_size, request->size);
    st_params_bool (&params, request->dry_run);
    if (st_call_exec_reply (call, "import_insert", &params, &msg_import_begun_desc, reply))
        return;
    reply->dry_run = reply->has_dry_run = request->dry_run;
    reply->max_chunk = ST_IMPORT_MAX_CHUNK;
    reply->max_size = ST_IMPORT_MAX_SIZE;
    reply->has_max_chunk = reply->has_max_size = true;
}

static void
s_import_chunk (st_call_t *call, const msg_import_chunk_t *request, msg_import_chunked_t *reply)
{
    const msg_actor_t *actor;
    int64_t id;
    s_import_row_t row;
    if (s_require_importer (call, &actor)
        || s_import_lock (call, actor, request->import_id, &id, &row))
        return;
    if (row.done) {
        st_call_fail (call, ST_FAILED_PRECONDITION, "import_id", "import \"%s\" is finished",
                      request->import_id);
        return;
    }
    uint8_t hash[crypto_generichash_BYTES];
    crypto_generichash (hash, sizeof hash, request->csv.data, request->csv.size, NULL, 0);
    st_params_t params = {0};
    PGresult *res;
    if (request->seq <= row.chunks) {
        //  A chunk sent again: the same bytes are the same chunk; other bytes are a mistake.
        st_params_int (&params, id);
        st_params_int (&params, request->seq);
        if (st_call_exec (call, "import_chunk_hash", &params, &res))
            return;
        size_t len = 0;
        unsigned char *stored =
            PQntuples (res) ? PQunescapeBytea ((const unsigned char *) PQgetvalue (res, 0, 0), &len)
                            : NULL;
        bool same = stored && len == sizeof hash && memcmp (stored, hash, len) == 0;
        PQfreemem (stored);
        PQclear (res);
        if (!same) {
            st_call_fail (call, ST_CONFLICT, "seq",
                          "chunk %lld of import \"%s\" was sent already with other bytes",
                          (long long) request->seq, request->import_id);
            return;
        }
    } else if (request->seq > row.chunks + 1) {
        st_call_fail (call, ST_FAILED_PRECONDITION, "seq",
                      "import \"%s\" holds %d chunks: chunk %d comes next, not %lld",
                      request->import_id, row.chunks, row.chunks + 1, (long long) request->seq);
        return;
    } else {
        int64_t size = (int64_t) request->csv.size;
        if (row.size + size > ST_IMPORT_MAX_SIZE) {
            st_call_fail (call, ST_RESOURCE_EXHAUSTED, "csv",
                          "an import holds at most %d bytes: split the file", ST_IMPORT_MAX_SIZE);
            return;
        }
        if (row.has_declared_size && row.size + size > row.declared_size) {
            st_call_fail (call, ST_INVALID_ARGUMENT, "csv",
                          "the chunks are longer than the %lld bytes import.begin declared",
                          (long long) row.declared_size);
            return;
        }
        //  All open imports together, and those of one account, stay within bounds: appends
        //  take turns to count, and abandoned imports go first, their chunks with them.
        st_params_text (&params, actor->account ? actor->account : "");
        if (st_call_exec (call, "import_space_lock", NULL, NULL)
            || st_call_exec (call, "import_expire", NULL, NULL)
            || st_call_exec (call, "import_space_used", &params, &res))
            return;
        int64_t used = atoll (PQgetvalue (res, 0, 0));
        int64_t used_by_account = atoll (PQgetvalue (res, 0, 1));
        PQclear (res);
        if (used_by_account + size > ST_IMPORT_MAX_ACCOUNT) {
            st_call_fail (call, ST_RESOURCE_EXHAUSTED, "csv",
                          "your imports under way hold %lld bytes already, of at most %d: finish "
                          "them first",
                          (long long) used_by_account, ST_IMPORT_MAX_ACCOUNT);
            return;
        }
        if (used + size > ST_IMPORT_MAX_TOTAL) {
            st_call_fail (call, ST_RESOURCE_EXHAUSTED, "csv",
                          "the imports under way hold %lld bytes already: finish them or try "
                          "again later",
                          (long long) used);
            return;
        }
        st_params_int (&params, id);
        st_params_int (&params, request->seq);
        st_params_int (&params, row.size);
        st_params_int (&params, size);
        st_params_bin (&params, hash, sizeof hash);
        st_params_bin (&params, request->csv.data, request->csv.size);
        if (st_call_exec (call, "import_chunk_put", &params, NULL))
            return;
        st_params_int (&params, id);
        st_params_int (&params, size);
        if (st_call_exec (call, "import_grow", &params, NULL))
            return;
    }
    st_params_int (&params, id);
    if (st_call_exec_reply (call, "import_touch", &params, &msg_import_chunked_desc, reply))
        return;
    reply->import_id = st_strdup (request->import_id);
    reply->seq = request->seq;
    reply->has_seq = true;
}

//  The chunks of an import as the stream of one file: the chunk being read and the next.
typedef struct {
    st_call_t *call;
    int64_t import_id;
    int chunks;
    int next;             //  the next chunk to feed
    unsigned char *piece; //  the chunk the reader is reading (PQfreemem)
} s_chunks_t;

//  Feeds the reader chunk `seq`, or when `seq` is 0 the chunk holding byte `offset` of the
//  file from there (none when the file ends before). Returns -1 when the call failed.
static int
s_chunks_feed (s_chunks_t *self, st_csv_t *csv, int seq, int64_t offset)
{
    st_params_t params = {0};
    st_params_int (&params, self->import_id);
    st_params_int (&params, seq ? seq : offset);
    PGresult *res;
    if (st_call_exec (self->call, seq ? "import_chunk_get" : "import_chunk_at", &params, &res))
        return -1;
    if (PQntuples (res) == 0) {
        PQclear (res);
        if (seq)
            return st_call_fail (self->call, ST_INTERNAL, NULL, "chunk %d of import %lld is lost",
                                 seq, (long long) self->import_id);
        self->next = self->chunks + 1;
        return 0;
    }
    self->next = (int) st_row_int (res, 0, "seq") + 1;
    int64_t start = st_row_int (res, 0, "start");
    size_t len = 0;
    PQfreemem (self->piece);
    self->piece = PQunescapeBytea ((const unsigned char *) PQgetvalue (res, 0, 2), &len);
    PQclear (res);
    if (!self->piece)
        abort ();
    size_t skip = seq ? 0 : (size_t) (offset - start);
    st_csv_feed (csv, (const char *) self->piece + skip, len - skip);
    return 0;
}

//  st_csv_next over the chunks, fed as the reader asks. ST_CSV_MORE when the call failed.
static int
s_chunks_next (s_chunks_t *self, st_csv_t *csv)
{
    int fields;
    while ((fields = st_csv_next (csv)) == ST_CSV_MORE) {
        if (self->next > self->chunks)
            st_csv_end (csv);
        else if (s_chunks_feed (self, csv, self->next, 0))
            return ST_CSV_MORE;
    }
    return fields;
}

//  Records where a finish stands and what it counted, in the transaction of its batch.
static int
s_import_progress (st_call_t *call, int64_t id, const st_csv_mark_t *mark,
                   const msg_import_result_t *reply, bool done)
{
    st_params_t params = {0};
    st_params_int (&params, id);
    st_params_int (&params, mark->offset);
    st_params_int (&params, mark->line);
    st_params_int (&params, mark->rows);
    st_params_bool (&params, mark->after_cr);
    st_params_int (&params, reply->created);
    st_params_int (&params, reply->skipped);
    st_params_int (&params, reply->error_count);
    st_params_bool (&params, done);
    return st_call_exec (call, "import_progress", &params, NULL);
}

//  The reply of a finish from the import as recorded; with its errors when it is done.
static int
s_import_reply (st_call_t *call, int64_t id, const s_import_row_t *row, msg_import_result_t *reply)
{
    reply->created = row->created;
    reply->skipped = row->skipped;
    reply->error_count = row->error_count;
    reply->done = row->done;
    reply->rows = row->mark.rows > 0 ? row->mark.rows - 1 : 0; //  the header is no row
    reply->has_done = reply->has_rows = true;
    reply->dry_run = reply->has_dry_run = row->dry_run;
    free (reply->encoding);
    reply->encoding = row->encoding[0] ? st_strdup (row->encoding) : NULL;
    if (!row->done)
        return 0;
    st_params_t params = {0};
    st_params_int (&params, id);
    PGresult *res;
    if (st_call_exec (call, "import_errors", &params, &res))
        return -1;
    st_rows_to_list (res, &msg_import_error_desc, (st_list_t *) &reply->errors, &reply->has_errors);
    PQclear (res);
    return 0;
}

//  The bytes of chunk `seq` as sent into *data (PQfreemem), *size. Returns -1 when the call
//  failed.
static int
s_chunk_raw (st_call_t *call, int64_t id, int seq, unsigned char **data, size_t *size)
{
    st_params_t params = {0};
    st_params_int (&params, id);
    st_params_int (&params, seq);
    PGresult *res;
    if (st_call_exec (call, "import_chunk_raw", &params, &res))
        return -1;
    *data = PQntuples (res) ? PQunescapeBytea ((const unsigned char *) PQgetvalue (res, 0, 0), size)
                            : NULL;
    PQclear (res);
    if (!*data)
        return st_call_fail (call, ST_INTERNAL, NULL, "chunk %d of import %lld is lost", seq,
                             (long long) id);
    return 0;
}

//  Chunk `seq` of import `id`, its raw bytes after the `carried` bytes of `carry` (the end of
//  the chunk before, cut mid-character): a new buffer of *size bytes, the caller's to free.
static int
s_chunk_joined (st_call_t *call, int64_t id, int seq, const char *carry, size_t carried,
                char **joined, size_t *size)
{
    unsigned char *data;
    size_t raw;
    if (s_chunk_raw (call, id, seq, &data, &raw))
        return -1;
    *joined = st_malloc (carried + raw);
    memcpy (*joined, carry, carried);
    memcpy (*joined + carried, data, raw);
    PQfreemem (data);
    *size = carried + raw;
    return 0;
}

//  Decides how the chunks of import `id` are read, once, before its first row: "utf-8" when
//  all of its bytes are valid UTF-8, else "gb18030", each chunk then converted (its text
//  kept beside it, the finishes after this one reading that). Fails the call naming the line
//  when the bytes are neither. Returns -1 when the call failed.
static int
s_import_decode (st_call_t *call, int64_t id, s_import_row_t *row)
{
    //  UTF-8 throughout? A chunk may cut a character: its last bytes go with the next one.
    char carry[8];
    size_t carried = 0;
    bool utf8 = true;
    for (int seq = 1; seq <= row->chunks && utf8; seq++) {
        char *joined;
        size_t size;
        if (s_chunk_joined (call, id, seq, carry, carried, &joined, &size))
            return -1;
        size_t tail = seq < row->chunks ? s_utf8_tail (joined, size) : 0;
        utf8 = st_utf8_check (joined, size - tail, NULL);
        carried = tail;
        memcpy (carry, joined + size - tail, tail);
        free (joined);
    }
    st_params_t params = {0};
    if (utf8) {
        snprintf (row->encoding, sizeof row->encoding, "utf-8");
        st_params_int (&params, id);
        st_params_text (&params, row->encoding);
        return st_call_exec (call, "import_encoding", &params, NULL);
    }
    //  GB18030: each chunk converted, an unfinished character carried to the next.
    carried = 0;
    int64_t start = 0;
    int line = 1;
    for (int seq = 1; seq <= row->chunks; seq++) {
        char *joined;
        size_t size;
        if (s_chunk_joined (call, id, seq, carry, carried, &joined, &size))
            return -1;
        char *text;
        size_t text_size, used;
        int rc = s_gb18030_to_utf8 (joined, size, seq == row->chunks, &text, &text_size, &used);
        line = s_line_at (joined, used, line);
        if (rc == 0 && size - used > 4)
            rc = -1; //  cannot be: an unfinished character is at most 3 bytes
        if (rc) {
            free (joined);
            free (text);
            return s_encoding_error (call, line);
        }
        carried = size - used;
        memcpy (carry, joined + used, carried);
        free (joined);
        st_params_int (&params, id);
        st_params_int (&params, seq);
        st_params_bin_take (&params, text, text_size);
        st_params_int (&params, start);
        if (st_call_exec (call, "import_chunk_text", &params, NULL))
            return -1;
        start += (int64_t) text_size;
    }
    snprintf (row->encoding, sizeof row->encoding, "gb18030");
    st_params_int (&params, id);
    st_params_text (&params, row->encoding);
    return st_call_exec (call, "import_encoding", &params, NULL);
}

static void
s_import_finish (st_call_t *call, const msg_import_finish_t *request, msg_import_result_t *reply)
{
    const msg_actor_t *actor;
    int64_t id;
    s_import_row_t row;
    if (s_require_importer (call, &actor)
        || s_import_lock (call, actor, request->import_id, &id, &row))
        return;
    s_result_init (reply);
    reply->import_id = st_strdup (request->import_id);
    if (row.done) {
        s_import_reply (call, id, &row, reply);
        return;
    }
    if (request->chunks != row.chunks) {
        st_call_fail (call, ST_FAILED_PRECONDITION, "chunks",
                      "import \"%s\" holds %d chunks, not %lld: send the missing ones first",
                      request->import_id, row.chunks, (long long) request->chunks);
        return;
    }
    if (!row.encoding[0] && s_import_decode (call, id, &row))
        return;
    free (reply->encoding);
    reply->encoding = st_strdup (row.encoding);
    s_import_t im = {.call = call, .reply = reply, .import_id = id, .dry_run = row.dry_run};
    //  The header, from the start; then the rows from where the last batch stopped.
    s_chunks_t chunks = {.call = call, .import_id = id, .chunks = row.chunks, .next = 1};
    st_csv_t *csv = st_csv_new_stream (NULL);
    st_csv_set_max_rows (csv, S_IMPORT_MAX_ROWS);
    int columns[C_COUNT];
    int fields = s_chunks_next (&chunks, csv);
    if (st_call_failed (call))
        goto done;
    if (fields > 0 && !s_row_utf8 (csv, fields)) {
        s_encoding_error (call, 1);
        goto done;
    }
    if (s_import_header (call, csv, fields, columns))
        goto done;
    st_csv_mark_t mark;
    st_csv_mark (csv, &mark);
    if (row.mark.offset > mark.offset) {
        st_csv_destroy (&csv);
        csv = st_csv_new_stream (&row.mark);
        st_csv_set_max_rows (csv, S_IMPORT_MAX_ROWS);
        if (s_chunks_feed (&chunks, csv, 0, row.mark.offset))
            goto done;
    }
    reply->created = row.created;
    reply->skipped = row.skipped;
    reply->error_count = row.error_count;
    int64_t started = st_clock_ms ();
    bool finished = false;
    for (int batch = 1;; batch++) {
        fields = s_chunks_next (&chunks, csv);
        if (st_call_failed (call))
            goto done;
        if (fields == 0) {
            finished = true;
            break;
        }
        if (s_volunteer_row (&im, csv, fields, columns))
            goto done;
        if (batch % S_IMPORT_BATCH)
            continue;
        st_csv_mark (csv, &mark);
        if (s_flush (&im) || s_import_progress (call, id, &mark, reply, false)
            || st_call_commit (call))
            goto done;
        //  Another finish of the same import may have gone on meanwhile: this one stops.
        s_import_row_t now;
        if (s_import_lock (call, actor, request->import_id, &id, &now))
            goto done;
        if (now.mark.offset != mark.offset) {
            st_log (ST_LOG_INFO, st_call_id (call), "import %lld went on in another call",
                    (long long) id);
            s_import_reply (call, id, &now, reply);
            goto done;
        }
        if (st_clock_ms () - started >= S_IMPORT_BUDGET_MS)
            break;
    }
    st_csv_mark (csv, &mark);
    if (s_flush (&im) || s_import_progress (call, id, &mark, reply, finished))
        goto done;
    row.mark = mark;
    row.done = finished;
    row.created = reply->created;
    row.skipped = reply->skipped;
    row.error_count = reply->error_count;
    if (finished) {
        //  The chunks are read: their room goes to other imports.
        st_params_t params = {0};
        st_params_int (&params, id);
        if (st_call_exec (call, "import_chunks_drop", &params, NULL))
            goto done;
        st_params_int (&params, id);
        if (st_call_exec (call, "import_dry_seen_drop", &params, NULL))
            goto done;
    }
    s_import_reply (call, id, &row, reply);
done:
    s_batch_reset (&im.batch, true);
    PQfreemem (chunks.piece);
    st_csv_destroy (&csv);
}
