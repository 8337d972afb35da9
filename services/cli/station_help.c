/*  station_help.c — the station command's help: one table of commands (name, arguments, what
    it does), printed whole by `station --help` and `station help`, a command's own by
    `station help COMMAND` and `station COMMAND --help`, as text or (--json) as JSON.  */
#include "station_help.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name; //  the command's words
    const char *args; //  its arguments, as usage shows them
    const char *text; //  what it does and prints; lines of at most 76 columns
} s_command_t;

static const s_command_t s_commands[] = {
    {"keys init", "[--deploy DIR]",
     "Makes every key pair a local deployment needs, and the personal-data keys, in the key\n"
     "directory (--keys). With --deploy DIR: every key and password of a container deploy,\n"
     "one folder per container (docker/). Keys that exist are kept."},
    {"keygen", "NAME ROLE",
     "Makes one CURVE key pair named NAME in the key directory; ROLE is service, operator\n"
     "or gateway. A key that exists is kept."},
    {"call", "SERVICE OP [JSON | - | @FILE]",
     "Calls any op of any service and prints the reply body as JSON. The request body is the\n"
     "JSON given (default {}), standard input with -, or a file with @FILE (an argument holds\n"
     "at most 128 KB). A body that is no JSON, or a file that cannot be read, is refused\n"
     "before anything is sent (exit 1, the field named). The raw op, for scripts: its reply\n"
     "and its errors are JSON on standard output, with --json or without."},
    {"ping", "SERVICE", "Calls sys.ping: whether SERVICE answers within --timeout."},
    {"volunteer register", "--name N --id-number ID --phone P --region CODE [--skill S]...",
     "Real-name registration (实名注册) through registry; prints the volunteer, personal\n"
     "data masked. --skill may be given more than once."},
    {"volunteer get", "ID", "One volunteer as registry shows them, personal data masked."},
    {"volunteer import", "FILE.csv",
     "Bulk registration (登记造册) from a CSV file. A large file goes in chunks, each resent\n"
     "as it is when a reply is lost, so nobody is registered twice; prints the result."},
    {"supply stats", "[--region CODE]",
     "Match's supply: the volunteers it may dispatch, in CODE's subtree (default: all)."},
    {"ledger statement", "ID", "A volunteer's points, hours and stars."},
    {"ledger audit", "", "Every balance of the ledger checked against its journal."},
    {"store items", "REGION [--below]",
     "The points store a volunteer of REGION sees (its items and those of the regions above);\n"
     "with --below, every item of REGION's subtree."},
    {"redemptions", "VOLUNTEER [--status S]", "A volunteer's redemptions, newest first."},
    {"events", "SERVICE [--after SEQ] [--max N]",
     "SERVICE's event log after SEQ (default 0), each body decoded by its topic."},
    {"parked", "SERVICE", "The events SERVICE could not apply (its feeds' dead letters)."},
    {"inbox", "[--unread] [--limit N] [--cursor C]",
     "The notices of the person --as names (a volunteer or a resident by id, an official by\n"
     "account), newest first; --unread: only those not read."},
    {"deliveries", "[--dead] [--status S] [--channel C] [--limit N] [--cursor C]",
     "Notify's deliveries beyond the inbox (email, sms, wechat) in the scope of --as (the\n"
     "operator: all), newest first; --dead: the dead letters only."},
    {"help", "[COMMAND]", "This help, or a command's (the same as: station COMMAND --help)."},
};
#define S_COMMAND_COUNT (sizeof s_commands / sizeof s_commands[0])

//  The options every command takes before its name: flag, what it does.
static const char *const s_options[][2] = {
    {"--keys DIR", "key directory (STATION_KEYS; default var/keys)"},
    {"--key NAME", "the operator key pair to use (STATION_OPERATOR_KEY; default operator)"},
    {"--as ACCOUNT:ROLE[:REGION[:ID]]",
     "call as this actor (ID: the volunteer or resident a volunteer's or resident's account\n"
     "stands for); without it, as the operator"},
    {"--timeout MS", "how long a call may take (STATION_TIMEOUT; default 5000)"},
    {"--json", "machine-readable output: JSON on standard output from every command, errors\n"
               "too (without it, replies are printed for a person: fields as labels, lists as\n"
               "tables; call prints JSON anyway; also allowed after the command)"},
    {"--help, -h", "this help; after a command, that command's"},
};
#define S_OPTION_COUNT (sizeof s_options / sizeof s_options[0])

//  The exit codes: code, meaning.
static const char *const s_exits[][2] = {
    {"0", "success"},
    {"1", "the service answered with an error, or the request was refused before it was sent\n"
          "(unknown op, input that is no JSON, a file or key that cannot be read); the error\n"
          "is one line on standard error, \"station: MESSAGE (field: FIELD)\", or with --json\n"
          "(and from call) {\"code\", \"message\", \"field\"} on standard output"},
    {"2", "bad usage: an unknown command, a missing or unexpected argument (message on\n"
          "standard error)"},
    {"3", "could not reach the service: no reply within --timeout (it is down or unreachable,\n"
          "or it does not accept our key); the error is printed as for 1, code \"unavailable\""},
};
#define S_EXIT_COUNT (sizeof s_exits / sizeof s_exits[0])

bool
station_help_asked (const char *arg)
{
    return strcmp (arg, "--help") == 0 || strcmp (arg, "-h") == 0;
}

//  Prints `text` with each line after the first indented by `indent` spaces.
static void
s_print_indented (const char *text, int indent)
{
    for (const char *p = text; *p; p++) {
        putchar (*p);
        if (*p == '\n')
            printf ("%*s", indent, "");
    }
    putchar ('\n');
}

//  The text of `text` on one line (newlines as spaces), malloc'd: for JSON.
static char *
s_one_line (const char *text)
{
    char *line = strdup (text);
    if (!line)
        abort ();
    for (char *p = line; *p; p++)
        if (*p == '\n')
            *p = ' ';
    return line;
}

static json_t *
s_command_json (const s_command_t *command)
{
    char *text = s_one_line (command->text);
    json_t *json = json_pack ("{s:s, s:s, s:s}", "command", command->name, "args", command->args,
                              "description", text);
    free (text);
    return json;
}

//  Whether command `name` is named by the first `count` words (count 0: every command).
static bool
s_named (const char *name, int count, char **words)
{
    const char *p = name;
    for (int i = 0; i < count; i++) {
        size_t len = strlen (words[i]);
        if (strncmp (p, words[i], len) != 0 || (p[len] != ' ' && p[len] != 0))
            return false;
        p += len;
        if (*p == ' ')
            p++;
        else if (i + 1 < count)
            return false;
    }
    return true;
}

static int
s_help_all (bool json)
{
    if (json) {
        json_t *root = json_object (), *commands = json_array (), *options = json_array (),
               *exits = json_object ();
        for (size_t i = 0; i < S_COMMAND_COUNT; i++)
            json_array_append_new (commands, s_command_json (&s_commands[i]));
        for (size_t i = 0; i < S_OPTION_COUNT; i++) {
            char *text = s_one_line (s_options[i][1]);
            json_array_append_new (
                options, json_pack ("{s:s, s:s}", "option", s_options[i][0], "description", text));
            free (text);
        }
        for (size_t i = 0; i < S_EXIT_COUNT; i++) {
            char *text = s_one_line (s_exits[i][1]);
            json_object_set_new (exits, s_exits[i][0], json_string (text));
            free (text);
        }
        json_object_set_new (root, "commands", commands);
        json_object_set_new (root, "options", options);
        json_object_set_new (root, "exit_codes", exits);
        char *text = json_dumps (root, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
        printf ("%s\n", text);
        free (text);
        json_decref (root);
        return STATION_EXIT_OK;
    }
    printf ("usage: station [OPTIONS] COMMAND [ARGS]\n\n"
            "The operator's client of Station: calls the services' ops over CURVE with the\n"
            "operator's key pair, prints their replies for a person (JSON with --json), and\n"
            "makes the deployment's keys.\n\n"
            "Options (before the command):\n");
    for (size_t i = 0; i < S_OPTION_COUNT; i++) {
        printf ("  %s\n      ", s_options[i][0]);
        s_print_indented (s_options[i][1], 6);
    }
    printf ("\nCommands:\n");
    for (size_t i = 0; i < S_COMMAND_COUNT; i++)
        printf ("  %s%s%s\n", s_commands[i].name, *s_commands[i].args ? " " : "",
                s_commands[i].args);
    printf ("Every command takes --help: station COMMAND --help, or station help COMMAND.\n\n"
            "Exit codes:\n");
    for (size_t i = 0; i < S_EXIT_COUNT; i++) {
        printf ("  %s  ", s_exits[i][0]);
        s_print_indented (s_exits[i][1], 5);
    }
    return STATION_EXIT_OK;
}

int
station_help (int count, char **words, bool json)
{
    if (count == 0)
        return s_help_all (json);
    //  The most words that name a command: "volunteer get", else "volunteer".
    if (count > 2)
        count = 2;
    while (count > 0) {
        bool found = false;
        for (size_t i = 0; i < S_COMMAND_COUNT && !found; i++)
            found = s_named (s_commands[i].name, count, words);
        if (found)
            break;
        count--;
    }
    if (count == 0) {
        fprintf (stderr, "station: no command \"%s\" (station help lists them)\n", words[0]);
        return STATION_EXIT_USAGE;
    }
    json_t *list = json ? json_array () : NULL;
    bool first = true;
    for (size_t i = 0; i < S_COMMAND_COUNT; i++) {
        const s_command_t *command = &s_commands[i];
        if (!s_named (command->name, count, words))
            continue;
        if (list)
            json_array_append_new (list, s_command_json (command));
        else {
            printf ("%susage: station [OPTIONS] %s%s%s\n\n  ", first ? "" : "\n", command->name,
                    *command->args ? " " : "", command->args);
            s_print_indented (command->text, 2);
        }
        first = false;
    }
    if (list) {
        json_t *root = json_pack ("{s:o}", "commands", list);
        char *text = json_dumps (root, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
        printf ("%s\n", text);
        free (text);
        json_decref (root);
    } else
        printf ("\nOptions and exit codes (0 ok, 1 error reply, 2 usage, 3 service not reached):"
                " station --help\n");
    return STATION_EXIT_OK;
}
