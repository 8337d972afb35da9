/*  st_config.c — the declarative configuration table  */
#include "st_config.h"
#include "st_log.h"

#include <libpq-fe.h>

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
s_usage (const st_option_t *options, size_t count, const char *program, const char *summary)
{
    printf ("%s — %s\n\nOptions (flag, environment variable, default):\n", program, summary);
    for (size_t i = 0; i < count; i++)
        printf ("  --%-30s %-36s %s\n      %s\n", options[i].name, options[i].env,
                options[i].fallback ? options[i].fallback : "(required)", options[i].help);
}

//  An option's value as a whole number within its range; false when it is not one.
static bool
s_whole (const st_option_t *option, int64_t *out)
{
    const char *value = option->value;
    char *end;
    errno = 0;
    long long v = strtoll (value, &end, 10);
    if (errno || end == value || *end || v < option->lo || v > option->hi)
        return false;
    *out = v;
    return true;
}

int
st_config_load (st_option_t *options, size_t count, int argc, char **argv, const char *summary)
{
    for (size_t i = 0; i < count; i++) {
        const char *env = options[i].env ? getenv (options[i].env) : NULL;
        options[i].value = env && *env ? env : options[i].fallback;
    }
    for (int a = 1; a < argc; a++) {
        const char *arg = argv[a];
        if (strcmp (arg, "--help") == 0 || strcmp (arg, "-h") == 0) {
            s_usage (options, count, argv[0], summary);
            return 1;
        }
        if (strncmp (arg, "--", 2) != 0) {
            fprintf (stderr, "%s: unexpected argument \"%s\"\n", argv[0], arg);
            return -1;
        }
        const char *name = arg + 2, *eq = strchr (name, '=');
        size_t len = eq ? (size_t) (eq - name) : strlen (name);
        st_option_t *option = NULL;
        for (size_t i = 0; i < count; i++)
            if (strlen (options[i].name) == len && strncmp (options[i].name, name, len) == 0)
                option = &options[i];
        if (!option) {
            fprintf (stderr, "%s: unknown option \"--%.*s\" (try --help)\n", argv[0], (int) len,
                     name);
            return -1;
        }
        if (eq)
            option->value = eq + 1;
        else if (a + 1 < argc)
            option->value = argv[++a];
        else {
            fprintf (stderr, "%s: option \"--%s\" needs a value\n", argv[0], option->name);
            return -1;
        }
    }
    for (size_t i = 0; i < count; i++) {
        if (!options[i].value) {
            fprintf (stderr, "%s: option \"--%s\" (or %s) is required\n", argv[0], options[i].name,
                     options[i].env);
            return -1;
        }
        int64_t whole;
        if (options[i].whole && !s_whole (&options[i], &whole)) {
            fprintf (stderr,
                     "%s: option \"--%s\" (or %s) must be a whole number from %lld to %lld, "
                     "not \"%s\"\n",
                     argv[0], options[i].name, options[i].env, (long long) options[i].lo,
                     (long long) options[i].hi, options[i].value);
            return -1;
        }
    }
    return 0;
}

const char *
st_config_get (const st_option_t *options, size_t count, const char *name)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp (options[i].name, name) == 0)
            return options[i].value;
    assert (!"option not in the table");
    return NULL;
}

int64_t
st_config_whole (const st_option_t *options, size_t count, const char *name)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp (options[i].name, name) == 0) {
            int64_t whole = 0;
            bool valid = options[i].whole && s_whole (&options[i], &whole);
            assert (valid && "a whole-number option st_config_load checked");
            return whole;
        }
    assert (!"option not in the table");
    return 0;
}

void
st_config_shown (const st_option_t *option, char *out, size_t size)
{
    if (option->secret) {
        snprintf (out, size, "%s", *option->value ? "********" : "");
        return;
    }
    //  A libpq connection string in any form it accepts (key=value, quoted values, URIs):
    //  shown as key=value with the password masked.
    char *error = NULL;
    PQconninfoOption *parsed = PQconninfoParse (option->value, &error);
    PQfreemem (error);
    bool secret = false;
    for (PQconninfoOption *o = parsed; o && o->keyword; o++)
        secret |= o->val && strcmp (o->keyword, "password") == 0;
    if (!parsed && strstr (option->value, "password")) {
        //  What libpq cannot read is never shown: it may still hold a password.
        snprintf (out, size, "(a connection string libpq cannot read, hidden)");
        return;
    }
    if (!secret) {
        snprintf (out, size, "%s", option->value);
        PQconninfoFree (parsed);
        return;
    }
    size_t used = 0;
    out[0] = 0;
    for (PQconninfoOption *o = parsed; o->keyword && used < size; o++)
        if (o->val) {
            bool password = strcmp (o->keyword, "password") == 0;
            used += (size_t) snprintf (out + used, size - used, "%s%s=%s", used ? " " : "",
                                       o->keyword, password ? "********" : o->val);
        }
    PQconninfoFree (parsed);
}

void
st_config_log (const st_option_t *options, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        char shown[512];
        st_config_shown (&options[i], shown, sizeof shown);
        st_info ("config %s=\"%s\"", options[i].name, shown);
    }
}

extern char **environ;

size_t
st_config_warn_unknown (const st_option_t *options, size_t count, const char *const *elsewhere,
                        size_t elsewhere_count)
{
    size_t warned = 0;
    for (char **entry = environ; entry && *entry; entry++) {
        const char *eq = strchr (*entry, '=');
        size_t len = eq ? (size_t) (eq - *entry) : strlen (*entry);
        if (len < 8 || strncmp (*entry, "STATION_", 8) != 0)
            continue;
        bool known = false;
        for (size_t i = 0; i < count && !known; i++)
            known = options[i].env && strlen (options[i].env) == len
                    && strncmp (options[i].env, *entry, len) == 0;
        for (size_t i = 0; i < elsewhere_count && !known; i++) {
            size_t n = strlen (elsewhere[i]);
            bool prefix = n && elsewhere[i][n - 1] == '_';
            known = (prefix ? len > n : len == n) && strncmp (elsewhere[i], *entry, n) == 0;
        }
        if (!known) {
            st_warn ("environment variable %.*s is set but no Station program reads it"
                     " (misspelt? see --help)",
                     (int) len, *entry);
            warned++;
        }
    }
    return warned;
}

void
st_config_free (st_option_t *options, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free (options[i].owned);
        options[i].owned = NULL;
    }
}
