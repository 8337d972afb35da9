/*  station_main.c — the operator's command-line client: calls any op of any service over
    CURVE with the operator's key pair, prints the replies for a person (JSON with --json),
    and makes the deployment's keys.

        station [--keys DIR] [--as ACCOUNT:ROLE[:REGION[:ID]]] [--timeout MS] COMMAND ...
        station keys init                        every key a local deployment needs
        station keys init --deploy DIR           every key and password of a container deploy,
                                                 one folder per container (docker/)
        station keygen NAME ROLE                 one CURVE key pair (service|operator|gateway)
        station call SERVICE OP [JSON | - | @FILE] any op; the reply body as JSON (the body
                                                 from standard input with -, a file with @)
        station ping SERVICE
        station volunteer register --name N --id-number ID --phone P --region CODE [--skill S]...
        station volunteer get ID
        station volunteer import FILE.csv        bulk registration (登记造册)
        station supply stats [--region CODE]
        station ledger statement ID              a volunteer's points, hours and stars
        station ledger audit                     every balance against the journal
        station store items REGION [--below]     the points store of a region (and those
                                                 above it), or of its subtree
        station redemptions VOLUNTEER [--status S]   a volunteer's redemptions, newest first
        station events SERVICE [--after SEQ] [--max N]
        station parked SERVICE                   events a service could not apply
        station help [COMMAND]                   every command, or one (also COMMAND --help)

    Every command but call prints for a person (station_print.h): a reply's fields as aligned
    labels, its lists as tables, an error as one line on standard error ("station: MESSAGE
    (field: FIELD)"). --json asks for JSON on standard output instead: the reply as it is, an
    error as {"code", "message", "field"}. call is the raw op, for scripts: JSON always, its
    errors too. An error exits 1; bad usage exits 2; no reply within the timeout exits 3
    (station_help.h).  */
#include "st_client.h"
#include "st_crypto.h"
#include "st_service.h"
#include "st_json.h"
#include "st_keys.h"
#include "station_deploy.h"
#include "station_help.h"
#include "station_print.h"
#include "st_log.h"

#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *keydir;
    const char *key_name;
    int timeout_ms;
    msg_actor_t actor;
    bool has_actor;
    char actor_text[128];
    bool json; //  --json: JSON on standard output from every command
} s_options_t;

static int
s_usage (void)
{
    fprintf (
        stderr,
        "usage: station [--keys DIR] [--as ACCOUNT:ROLE[:REGION[:ID]]] [--timeout MS] COMMAND\n"
        "  keys init [--deploy DIR] | keygen NAME ROLE | ping SERVICE\n"
        "  call SERVICE OP [JSON | - | @FILE]   (the body given, from standard input, or a file)\n"
        "  volunteer register --name N --id-number ID --phone P --region CODE [--skill S]...\n"
        "  volunteer get ID | volunteer import FILE.csv | supply stats [--region CODE]\n"
        "  ledger statement ID | ledger audit\n"
        "  store items REGION [--below] | redemptions VOLUNTEER [--status S]\n"
        "  events SERVICE [--after SEQ] [--max N] | parked SERVICE\n"
        "  inbox [--unread] [--limit N] [--cursor C]   (the notices of the person --as names)\n"
        "  deliveries [--dead] [--status S] [--channel C] [--limit N] [--cursor C]\n"
        "  help [COMMAND]   (every command, its options, and the exit codes)\n");
    return STATION_EXIT_USAGE;
}

//  What the command reads from the environment: its own settings, then every service's
//  endpoints (STATION_<SERVICE>_RPC, the local defaults where unset). Flags given before the
//  command override the first three.
#define S_OWN_SETTINGS 4
static st_option_t *s_settings;
static size_t s_setting_count;

static int
s_settings_load (char *program)
{
    static const st_option_t own[S_OWN_SETTINGS] = {
        ST_OPTION ("keys", "STATION_KEYS", "var/keys", "key directory"),
        ST_OPTION ("key", "STATION_OPERATOR_KEY", "operator", "the operator key pair to use"),
        ST_OPTION_WHOLE ("timeout", "STATION_TIMEOUT", "5000", 1, 3600000,
                         "how long a call may take (ms)"),
        ST_OPTION ("log-level", "STATION_LOG_LEVEL", "warn", "debug, info, warn or error"),
    };
    s_setting_count = S_OWN_SETTINGS + st_endpoint_option_count;
    s_settings = st_calloc (s_setting_count, sizeof (st_option_t));
    memcpy (s_settings, own, sizeof own);
    memcpy (s_settings + S_OWN_SETTINGS, st_endpoint_options,
            st_endpoint_option_count * sizeof (st_option_t));
    char *args[] = {program, NULL};
    return st_config_load (s_settings, s_setting_count, 1, args, "the operator's client");
}

//  The rpc endpoint of a service; NULL for a service the deployment does not know.
static const char *
s_endpoint (const char *service)
{
    char name[64];
    snprintf (name, sizeof name, "%s-rpc", service);
    for (size_t i = S_OWN_SETTINGS; i < s_setting_count; i++)
        if (strcmp (s_settings[i].name, name) == 0)
            return s_settings[i].value;
    return NULL;
}

static void
s_print_json (json_t *json)
{
    char *text = json_dumps (json, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
    printf ("%s\n", text);
    free (text);
}

//  Prints an error: one line on standard error for a person, the JSON object on standard
//  output with --json. Returns STATION_EXIT_ERROR.
static int
s_print_error (const s_options_t *options, const st_error_t *err)
{
    if (!options->json) {
        station_print_error (stderr, err->message, err->field);
        return STATION_EXIT_ERROR;
    }
    json_t *json = json_object ();
    json_object_set_new (json, "code", json_string (st_status_name (err->code)));
    json_object_set_new (json, "message", json_string (err->message));
    json_object_set_new (json, "field", err->field[0] ? json_string (err->field) : json_null ());
    s_print_json (json);
    json_decref (json);
    return STATION_EXIT_ERROR;
}

//  What the lists of some replies hold, for a person ("no notices"); the others are named
//  by their field.
static const char *const s_nouns[][2] = {{"inbox.list", "notices"},
                                         {"delivery.list", "deliveries"},
                                         {"redemption.list", "redemptions"},
                                         {"events.parked", "parked events"}};

//  Prints the reply of `op`: for a person, or as JSON with --json.
static void
s_print_reply (const s_options_t *options, const st_op_desc_t *op, json_t *reply)
{
    if (options->json) {
        s_print_json (reply);
        return;
    }
    const char *noun = NULL;
    for (size_t i = 0; i < sizeof s_nouns / sizeof s_nouns[0]; i++)
        if (strcmp (s_nouns[i][0], op->name) == 0)
            noun = s_nouns[i][1];
    station_print_reply (stdout, reply, op->reply, noun);
}

//  Prints a message of success (keys made) as text, or as JSON with --json: the members
//  given as name, value pairs (NULL-terminated; a value "true" or "false" as a boolean).
static int
s_print_done (const s_options_t *options, const char *text, ...)
{
    if (!options->json) {
        printf ("%s\n", text);
        return STATION_EXIT_OK;
    }
    json_t *json = json_object ();
    va_list args;
    va_start (args, text);
    const char *name;
    while ((name = va_arg (args, const char *))) {
        const char *value = va_arg (args, const char *);
        if (strcmp (value, "true") == 0 || strcmp (value, "false") == 0)
            json_object_set_new (json, name, json_boolean (strcmp (value, "true") == 0));
        else
            json_object_set_new (json, name, json_string (value));
    }
    va_end (args);
    s_print_json (json);
    json_decref (json);
    return STATION_EXIT_OK;
}

//  Calls SERVICE OP with a decoded request; prints the reply as JSON (or hands it back).
//  Returns STATION_EXIT_OK, STATION_EXIT_ERROR for an error (the service's reply, or a request
//  refused here), STATION_EXIT_UNREACHABLE when no reply came within the timeout: the call is
//  st_client_call's, in its steps, so that a service answering "unavailable" and a service
//  that does not answer at all stay apart.
static int
s_call (const s_options_t *options, const char *service, const char *op_name, const void *request,
        json_t **reply_json)
{
    st_error_t err = {0};
    const st_op_desc_t *op = st_proto_op (service, op_name);
    const char *endpoint = s_endpoint (service);
    if (!op || !endpoint) {
        st_error_set (&err, ST_INVALID_ARGUMENT, "op", "service \"%s\" has no op \"%s\"", service,
                      op_name);
        return s_print_error (options, &err);
    }
    zcert_t *own = st_keys_secret (options->keydir, options->key_name, &err);
    zcert_t *server = own ? st_keys_public (options->keydir, service, &err) : NULL;
    if (!own || !server) {
        zcert_destroy (&own);
        return s_print_error (options, &err);
    }
    st_client_t *client = st_client_new (endpoint, own, zcert_public_txt (server));
    void *reply = st_calloc (1, op->reply->size);
    uint8_t id[16], *body = NULL, *frame = NULL, *reply_frame = NULL;
    size_t body_size, size, reply_size;
    randombytes_buf (id, sizeof id);
    bool reached = false;
    st_status_t rc = st_validate (op->request, request, &err) ? err.code : ST_OK;
    if (rc == ST_OK) {
        st_encode (op->request, request, &body, &body_size);
        st_client_envelope (op->name, options->has_actor ? &options->actor : NULL, id,
                            st_now_ms () + options->timeout_ms, body, body_size, &frame, &size);
        rc = st_client_call_raw (client, frame, size, id, options->timeout_ms, &reply_frame,
                                 &reply_size, &err);
        reached = rc == ST_OK;
    }
    if (reached)
        rc = st_client_decode_reply (reply_frame, reply_size, op->reply, reply, &err);
    free (body);
    free (frame);
    free (reply_frame);
    int status = STATION_EXIT_OK;
    if (rc != ST_OK) {
        status = s_print_error (options, &err);
        if (!reached && err.code == ST_UNAVAILABLE)
            status = STATION_EXIT_UNREACHABLE;
    } else {
        json_t *json = st_msg_to_json (op->reply, reply);
        if (reply_json)
            *reply_json = json;
        else {
            s_print_reply (options, op, json);
            json_decref (json);
        }
    }
    st_msg_clear (op->reply, reply);
    free (reply);
    st_client_destroy (&client);
    zcert_destroy (&server);
    zcert_destroy (&own);
    return status;
}

//  The whole of `file` as text (malloc'd, NUL-terminated); NULL when it cannot be read or
//  holds a NUL byte.
static char *
s_slurp (FILE *file)
{
    size_t size = 0, room = 65536;
    char *text = st_malloc (room);
    size_t got;
    while ((got = fread (text + size, 1, room - size - 1, file)) > 0) {
        size += got;
        if (room - size - 1 == 0)
            text = realloc (text, room *= 2);
        if (!text)
            abort ();
    }
    text[size] = 0;
    if (ferror (file) || strlen (text) != size) {
        free (text);
        return NULL;
    }
    return text;
}

//  station call SERVICE OP [JSON | - | @FILE]: the JSON (given, from standard input, or from
//  a file: an argument holds at most 128 KB) mapped through the op's request descriptor.
static int
s_cmd_call (const s_options_t *options, int argc, char **argv)
{
    if (argc < 2 || argc > 3)
        return s_usage ();
    const st_op_desc_t *op = st_proto_op (argv[0], argv[1]);
    st_error_t err = {0};
    if (!op) {
        st_error_set (&err, ST_INVALID_ARGUMENT, "op", "service \"%s\" has no op \"%s\"", argv[0],
                      argv[1]);
        return s_print_error (options, &err);
    }
    char *input = NULL;
    if (argc == 3 && (strcmp (argv[2], "-") == 0 || argv[2][0] == '@')) {
        bool is_stdin = strcmp (argv[2], "-") == 0;
        FILE *file = is_stdin ? stdin : fopen (argv[2] + 1, "r");
        input = file ? s_slurp (file) : NULL;
        if (file && !is_stdin)
            fclose (file);
        if (!input) {
            st_error_set (&err, ST_INVALID_ARGUMENT, "json", "could not read %s: %s",
                          is_stdin ? "standard input" : argv[2] + 1,
                          file ? "not a text file" : strerror (errno));
            return s_print_error (options, &err);
        }
    }
    json_error_t json_err;
    json_t *json = json_loads (input ? input : argc == 3 ? argv[2] : "{}", 0, &json_err);
    free (input);
    if (!json) {
        st_error_set (&err, ST_INVALID_ARGUMENT, NULL, "input is not JSON: %s (column %d)",
                      json_err.text, json_err.column);
        return s_print_error (options, &err);
    }
    void *request = st_calloc (1, op->request->size);
    int status = st_json_to_msg (op->request, json, request, &err)
                     ? s_print_error (options, &err)
                     : s_call (options, argv[0], argv[1], request, NULL);
    st_msg_clear (op->request, request);
    free (request);
    json_decref (json);
    return status;
}

//  Reads `--flag value` pairs into a JSON object by a table of flag → field names; repeated
//  list flags append.
static int
s_flags_to_json (int argc, char **argv, const char *const (*table)[3], json_t *json)
{
    for (int i = 0; i < argc; i++) {
        const char *const(*row)[3] = NULL;
        for (const char *const(*t)[3] = table; (*t)[0]; t++)
            if (strcmp (argv[i], (*t)[0]) == 0)
                row = t;
        if (!row || i + 1 >= argc) {
            fprintf (stderr, "station: unexpected argument \"%s\"\n", argv[i]);
            return -1;
        }
        const char *value = argv[++i];
        if (strcmp ((*row)[2], "list") == 0) {
            json_t *list = json_object_get (json, (*row)[1]);
            if (!list)
                json_object_set_new (json, (*row)[1], list = json_array ());
            json_array_append_new (list, json_string (value));
        } else if (strcmp ((*row)[2], "int") == 0)
            json_object_set_new (json, (*row)[1], json_integer (atoll (value)));
        else
            json_object_set_new (json, (*row)[1], json_string (value));
    }
    return 0;
}

static int
s_cmd_flags (const s_options_t *options, const char *service, const char *op, int argc, char **argv,
             const char *const (*table)[3])
{
    json_t *json = json_object ();
    if (s_flags_to_json (argc, argv, table, json)) {
        json_decref (json);
        return s_usage ();
    }
    char *text = json_dumps (json, 0);
    char *args[] = {(char *) service, (char *) op, text};
    int status = s_cmd_call (options, 3, args);
    free (text);
    json_decref (json);
    return status;
}

//  station events SERVICE: the log with each body decoded by its topic.
static int
s_cmd_events (const s_options_t *options, int argc, char **argv)
{
    static const char *const table[][3] = {
        {"--after", "after", "int"}, {"--max", "max", "int"}, {NULL, NULL, NULL}};
    if (argc < 1)
        return s_usage ();
    json_t *json = json_pack ("{s:i}", "after", 0);
    if (s_flags_to_json (argc - 1, argv + 1, table, json)) {
        json_decref (json);
        return s_usage ();
    }
    msg_events_read_t request;
    st_error_t err;
    int status;
    if (st_json_to_msg (&msg_events_read_desc, json, &request, &err)) {
        json_decref (json);
        return s_print_error (options, &err);
    }
    json_decref (json);
    json_t *reply = NULL;
    status = s_call (options, argv[0], "events.read", &request, &reply);
    if (reply) {
        //  Replace each hex body with the event decoded by its topic's declaration.
        json_t *events = json_object_get (reply, "events");
        size_t i;
        json_t *event;
        json_array_foreach (events, i, event)
        {
            const char *topic = json_string_value (json_object_get (event, "topic"));
            const char *hex = json_string_value (json_object_get (event, "body"));
            const st_event_desc_t *desc = topic ? st_proto_event (topic) : NULL;
            if (!desc || !hex)
                continue;
            size_t size = strlen (hex) / 2;
            uint8_t *data = st_malloc (size);
            for (size_t j = 0; j < size; j++)
                sscanf (hex + 2 * j, "%2hhx", &data[j]);
            void *body = st_calloc (1, desc->body->size);
            if (st_decode (desc->body, data, size, body, &err) == 0)
                json_object_set_new (event, "body", st_msg_to_json (desc->body, body));
            st_msg_clear (desc->body, body);
            free (body);
            free (data);
        }
        s_print_reply (options, st_proto_op (argv[0], "events.read"), reply);
        json_decref (reply);
    }
    st_msg_clear (&msg_events_read_desc, &request);
    return status;
}

//  A file that fits in one frame goes as volunteer.import; a larger one (a county's roster)
//  in chunks: import.begin, import.chunk for each ST_IMPORT_MAX_CHUNK bytes, then
//  import.finish until it says done. Each call is a request of its own, resent as it is when
//  a reply is lost, so nothing is registered twice. Prints the import's result.
#define S_ONE_FRAME_IMPORT 3000000
static int
s_cmd_import (const s_options_t *options, const char *path)
{
    //  The file travels as bytes: the registry, not the client, judges its encoding.
    zfile_t *file = zfile_new (NULL, path);
    zchunk_t *chunk =
        file && zfile_input (file) == 0 ? zfile_read (file, ST_IMPORT_MAX_SIZE + 1, 0) : NULL;
    zfile_destroy (&file);
    st_error_t err;
    if (!chunk || zchunk_size (chunk) > ST_IMPORT_MAX_SIZE) {
        st_error_set (&err, ST_INVALID_ARGUMENT, "csv",
                      chunk ? "\"%s\" is larger than an import may be (%d bytes)"
                            : "could not read \"%s\"",
                      path, ST_IMPORT_MAX_SIZE);
        zchunk_destroy (&chunk);
        return s_print_error (options, &err);
    }
    const uint8_t *data = zchunk_data (chunk);
    size_t size = zchunk_size (chunk);
    int status;
    if (size <= S_ONE_FRAME_IMPORT) {
        msg_volunteer_import_t request = {.csv = {(uint8_t *) data, size}};
        status = s_call (options, "registry", "volunteer.import", &request, NULL);
        zchunk_destroy (&chunk);
        return status;
    }
    json_t *reply = NULL;
    msg_import_begin_t begin = {.kind = "volunteers", .size = (int64_t) size, .has_size = true};
    status = s_call (options, "registry", "import.begin", &begin, &reply);
    char id[32] = "";
    if (status == 0)
        snprintf (id, sizeof id, "%s", json_string_value (json_object_get (reply, "import_id")));
    json_decref (reply);
    int seq = 0;
    for (size_t at = 0; status == 0 && at < size; at += ST_IMPORT_MAX_CHUNK) {
        size_t n = size - at < ST_IMPORT_MAX_CHUNK ? size - at : ST_IMPORT_MAX_CHUNK;
        msg_import_chunk_t piece = {
            .import_id = id, .seq = ++seq, .has_seq = true, .csv = {(uint8_t *) data + at, n}};
        reply = NULL;
        status = s_call (options, "registry", "import.chunk", &piece, &reply);
        json_decref (reply);
    }
    msg_import_finish_t finish = {.import_id = id, .chunks = seq, .has_chunks = true};
    bool done = false;
    //  Each call registers a batch or more; a finish that never ends would be a registry bug.
    for (int calls = 0; status == 0 && !done; calls++) {
        if (calls == 100000) {
            st_error_set (&err, ST_INTERNAL, "import_id", "import %s did not finish", id);
            status = s_print_error (options, &err);
            break;
        }
        reply = NULL;
        status = s_call (options, "registry", "import.finish", &finish, &reply);
        done = status == 0 && json_is_true (json_object_get (reply, "done"));
        if (done)
            s_print_reply (options, st_proto_op ("registry", "import.finish"), reply);
        json_decref (reply);
    }
    zchunk_destroy (&chunk);
    return status;
}

//  station keys init: every key pair a local deployment needs, and the personal-data keys.
static int
s_cmd_keys_init (const s_options_t *options)
{
    static const char *const keys[][2] = {{"registry", "service"}, {"match", "service"},
                                          {"ledger", "service"},   {"notify", "service"},
                                          {"gateway", "gateway"},  {"operator", "operator"}};
    st_error_t err;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (st_keys_generate (options->keydir, keys[i][0], keys[i][1], &err) < 0)
            return s_print_error (options, &err);
    if (st_crypto_generate (options->keydir, &err) < 0)
        return s_print_error (options, &err);
    char text[600];
    snprintf (text, sizeof text, "keys ready in %s", options->keydir);
    return s_print_done (options, text, "keys", options->keydir, "ready", "true", NULL);
}

int
main (int argc, char **argv)
{
    if (s_settings_load (argv[0]))
        return STATION_EXIT_USAGE;
    s_options_t options = {.keydir = st_config_get (s_settings, s_setting_count, "keys"),
                           .key_name = st_config_get (s_settings, s_setting_count, "key"),
                           .timeout_ms =
                               (int) st_config_whole (s_settings, s_setting_count, "timeout")};
    st_log_init ("station", st_config_get (s_settings, s_setting_count, "log-level"));
    int a = 1;
    bool help = false;
    for (; a < argc && (strncmp (argv[a], "--", 2) == 0 || strcmp (argv[a], "-h") == 0); a += 2) {
        //  The options without a value.
        if (station_help_asked (argv[a]) || strcmp (argv[a], "--json") == 0) {
            help = help || station_help_asked (argv[a]);
            options.json = options.json || strcmp (argv[a], "--json") == 0;
            a--;
            continue;
        }
        if (a + 1 >= argc)
            return s_usage ();
        if (strcmp (argv[a], "--keys") == 0)
            options.keydir = argv[a + 1];
        else if (strcmp (argv[a], "--key") == 0)
            options.key_name = argv[a + 1];
        else if (strcmp (argv[a], "--timeout") == 0)
            options.timeout_ms = atoi (argv[a + 1]);
        else if (strcmp (argv[a], "--as") == 0) {
            //  ACCOUNT:ROLE[:REGION[:ID]], ID: the volunteer or resident a volunteer or
            //  resident account stands for.
            snprintf (options.actor_text, sizeof options.actor_text, "%s", argv[a + 1]);
            char *role = strchr (options.actor_text, ':');
            if (!role)
                return s_usage ();
            *role++ = 0;
            char *region = strchr (role, ':');
            if (region)
                *region++ = 0;
            char *id = region ? strchr (region, ':') : NULL;
            if (id)
                *id++ = 0;
            options.actor.account = options.actor_text;
            options.actor.role = role;
            options.actor.region = region && *region ? region : NULL;
            if (id && strcmp (role, "volunteer") == 0)
                options.actor.volunteer_id = id;
            else if (id && strcmp (role, "resident") == 0)
                options.actor.resident_id = id;
            else if (id)
                return s_usage ();
            options.has_actor = true;
        } else
            return s_usage ();
    }
    if (options.timeout_ms <= 0)
        options.timeout_ms = 5000;
    argc -= a;
    argv += a;
    //  --json and --help after the command too: --json taken out of its arguments, --help
    //  (anywhere) answered with the command's help.
    int kept = 0;
    bool help_after = false;
    for (int i = 0; i < argc; i++) {
        if (i > 0 && strcmp (argv[i], "--json") == 0)
            options.json = true;
        else
            argv[kept++] = argv[i];
        help_after = help_after || (i > 0 && station_help_asked (argv[i]));
    }
    argc = kept;
    bool help_command = argc >= 1 && strcmp (argv[0], "help") == 0;
    if (help || help_after || help_command) {
        //  The command's words: those before its first flag (`station help --help` is help's).
        int skip = help_command && !help_after ? 1 : 0, words = 0;
        while (skip + words < argc && argv[skip + words][0] != '-')
            words++;
        return station_help (words, argv + skip, options.json);
    }
    if (argc < 1)
        return s_usage ();
    const char *command = argv[0];
    if (strcmp (command, "keys") == 0 && argc == 2 && strcmp (argv[1], "init") == 0)
        return s_cmd_keys_init (&options);
    if (strcmp (command, "keys") == 0 && argc == 4 && strcmp (argv[1], "init") == 0
        && strcmp (argv[2], "--deploy") == 0) {
        st_error_t err;
        int rc = station_keys_deploy (argv[3], &err);
        if (rc < 0)
            return s_print_error (&options, &err);
        char text[600];
        snprintf (text, sizeof text, "deploy keys ready in %s", argv[3]);
        if (options.json)
            return s_print_done (&options, text, "deploy", argv[3], "ready", "true", "chown_needed",
                                 rc == 1 ? "true" : "false", NULL);
        s_print_done (&options, text, NULL);
        if (rc == 1)
            printf ("not run as root: the files are still yours. The containers run as uid %d"
                    " (services) and %d (postgres):\n  sudo chown -R %d:%d %s/{registry,match,"
                    "operator}; sudo chown -R %d:%d %s/postgres\n",
                    ST_DEPLOY_SERVICE_UID, ST_DEPLOY_POSTGRES_UID, ST_DEPLOY_SERVICE_UID,
                    ST_DEPLOY_SERVICE_UID, argv[3], ST_DEPLOY_POSTGRES_UID, ST_DEPLOY_POSTGRES_UID,
                    argv[3]);
        return 0;
    }
    if (strcmp (command, "keygen") == 0 && argc == 3) {
        st_error_t err;
        int rc = st_keys_generate (options.keydir, argv[1], argv[2], &err);
        if (rc < 0)
            return s_print_error (&options, &err);
        char text[300];
        snprintf (text, sizeof text, rc ? "key \"%s\" exists already" : "key \"%s\" written",
                  argv[1]);
        return s_print_done (&options, text, "key", argv[1], "written", rc ? "false" : "true",
                             NULL);
    }
    if (strcmp (command, "call") == 0) {
        //  The raw op, for scripts: its reply and its errors as JSON, --json or not.
        s_options_t raw = options;
        raw.json = true;
        return s_cmd_call (&raw, argc - 1, argv + 1);
    }
    if (strcmp (command, "ping") == 0 && argc == 2) {
        char *args[] = {argv[1], "sys.ping"};
        return s_cmd_call (&options, 2, args);
    }
    if (strcmp (command, "parked") == 0 && argc == 2) {
        char *args[] = {argv[1], "events.parked"};
        return s_cmd_call (&options, 2, args);
    }
    if (strcmp (command, "events") == 0)
        return s_cmd_events (&options, argc - 1, argv + 1);
    if (strcmp (command, "volunteer") == 0 && argc >= 2 && strcmp (argv[1], "register") == 0) {
        static const char *const table[][3] = {
            {"--name", "name", "str"},     {"--id-number", "id_number", "str"},
            {"--phone", "phone", "str"},   {"--region", "region", "str"},
            {"--skill", "skills", "list"}, {NULL, NULL, NULL}};
        return s_cmd_flags (&options, "registry", "volunteer.register", argc - 2, argv + 2, table);
    }
    if (strcmp (command, "volunteer") == 0 && argc == 3 && strcmp (argv[1], "get") == 0) {
        json_t *json = json_pack ("{s:s}", "id", argv[2]);
        char *text = json_dumps (json, 0);
        char *args[] = {"registry", "volunteer.get", text};
        int status = s_cmd_call (&options, 3, args);
        free (text);
        json_decref (json);
        return status;
    }
    if (strcmp (command, "volunteer") == 0 && argc == 3 && strcmp (argv[1], "import") == 0)
        return s_cmd_import (&options, argv[2]);
    if (strcmp (command, "supply") == 0 && argc >= 2 && strcmp (argv[1], "stats") == 0) {
        static const char *const table[][3] = {{"--region", "region", "str"}, {NULL, NULL, NULL}};
        return s_cmd_flags (&options, "match", "supply.stats", argc - 2, argv + 2, table);
    }
    if (strcmp (command, "ledger") == 0 && argc == 3 && strcmp (argv[1], "statement") == 0) {
        json_t *json = json_pack ("{s:s}", "volunteer_id", argv[2]);
        char *text = json_dumps (json, 0);
        char *args[] = {"ledger", "ledger.statement", text};
        int status = s_cmd_call (&options, 3, args);
        free (text);
        json_decref (json);
        return status;
    }
    //  station inbox: the notices of the person --as names (a volunteer or a resident by id,
    //  an official by account), newest first.
    if (strcmp (command, "inbox") == 0) {
        static const char *const table[][3] = {
            {"--limit", "limit", "int"}, {"--cursor", "cursor", "str"}, {NULL, NULL, NULL}};
        bool unread = argc >= 2 && strcmp (argv[1], "--unread") == 0;
        json_t *json = json_object ();
        int skip = unread ? 2 : 1;
        if (s_flags_to_json (argc - skip, argv + skip, table, json)) {
            json_decref (json);
            return s_usage ();
        }
        if (unread)
            json_object_set_new (json, "unread", json_true ());
        char *text = json_dumps (json, 0);
        char *args[] = {"notify", "inbox.list", text};
        int status = s_cmd_call (&options, 3, args);
        free (text);
        json_decref (json);
        return status;
    }
    //  station deliveries: notify's deliveries beyond the inbox in the scope of --as (the
    //  operator: all), newest first; --dead: the dead letters only.
    if (strcmp (command, "deliveries") == 0) {
        static const char *const table[][3] = {{"--status", "status", "str"},
                                               {"--channel", "channel", "str"},
                                               {"--limit", "limit", "int"},
                                               {"--cursor", "cursor", "str"},
                                               {NULL, NULL, NULL}};
        bool dead = argc >= 2 && strcmp (argv[1], "--dead") == 0;
        json_t *json = json_object ();
        int skip = dead ? 2 : 1;
        if (s_flags_to_json (argc - skip, argv + skip, table, json)) {
            json_decref (json);
            return s_usage ();
        }
        if (dead)
            json_object_set_new (json, "status", json_string ("dead"));
        char *text = json_dumps (json, 0);
        char *args[] = {"notify", "delivery.list", text};
        int status = s_cmd_call (&options, 3, args);
        free (text);
        json_decref (json);
        return status;
    }
    //  station store items REGION [--below]: what a volunteer there may redeem (the region's
    //  items and those of the regions above), or every item of the region's subtree.
    if (strcmp (command, "store") == 0 && (argc == 3 || argc == 4)
        && strcmp (argv[1], "items") == 0) {
        bool below = argc == 4 && strcmp (argv[3], "--below") == 0;
        if (argc == 4 && !below)
            return s_usage ();
        json_t *json =
            json_pack ("{s:s, s:b, s:i}", "region", argv[2], "below", below, "limit", 500);
        char *text = json_dumps (json, 0);
        char *args[] = {"ledger", "item.list", text};
        int status = s_cmd_call (&options, 3, args);
        free (text);
        json_decref (json);
        return status;
    }
    if (strcmp (command, "redemptions") == 0 && (argc == 2 || argc == 4)) {
        if (argc == 4 && strcmp (argv[2], "--status") != 0)
            return s_usage ();
        json_t *json = json_pack ("{s:s, s:i}", "volunteer_id", argv[1], "limit", 500);
        if (argc == 4)
            json_object_set_new (json, "status", json_string (argv[3]));
        char *text = json_dumps (json, 0);
        char *args[] = {"ledger", "redemption.list", text};
        int status = s_cmd_call (&options, 3, args);
        free (text);
        json_decref (json);
        return status;
    }
    if (strcmp (command, "ledger") == 0 && argc == 2 && strcmp (argv[1], "audit") == 0) {
        char *args[] = {"ledger", "ledger.audit", "{}"};
        return s_cmd_call (&options, 3, args);
    }
    return s_usage ();
}
