/*  st_config.h — configuration as one declarative table: each option has a flag, an
    environment variable, a default and a line of help; flags beat the environment, which
    beats the default (PgBouncer's habit).  */
#ifndef ST_CONFIG_H_INCLUDED
#define ST_CONFIG_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *name;     //  flag: --name value or --name=value
    const char *env;      //  environment variable
    const char *fallback; //  default, may be NULL (then the option must be given)
    const char *help;
    bool secret;       //  masked when logged
    bool whole;        //  a whole number from lo to hi, checked by st_config_load
    int64_t lo, hi;    //  its range
    const char *value; //  effective value, filled by st_config_load
    char *owned;       //  storage st_config_free releases
} st_option_t;

//  Rows of an option table: text, and a whole number from lo to hi.
#define ST_OPTION(name, env, fallback, help)                                                       \
    {                                                                                              \
        name, env, fallback, help, false, false, 0, 0, NULL, NULL                                  \
    }
#define ST_OPTION_SECRET(name, env, fallback, help)                                                \
    {                                                                                              \
        name, env, fallback, help, true, false, 0, 0, NULL, NULL                                   \
    }
#define ST_OPTION_WHOLE(name, env, fallback, lo, hi, help)                                         \
    {                                                                                              \
        name, env, fallback, help, false, true, lo, hi, NULL, NULL                                 \
    }

//  Fills every option's value. Returns 0; 1 when --help was printed (exit 0); -1 with a
//  message on stderr for an unknown flag, a missing value, or a number that is malformed or
//  out of its range, naming the option and its variable (exit 2).
int st_config_load (st_option_t *options, size_t count, int argc, char **argv, const char *summary);

//  Returns an option's effective value; asserts the name is in the table.
const char *st_config_get (const st_option_t *options, size_t count, const char *name);

//  The value of a whole-number option (st_config_load checked it); asserts the name is in the
//  table as one.
int64_t st_config_whole (const st_option_t *options, size_t count, const char *name);

//  An option's effective value as it may be shown (logged): a secret masked whole, a libpq
//  connection string in any form (key=value, quoted, URI) shown as key=value with its
//  password masked.
void st_config_shown (const st_option_t *option, char *out, size_t size);

//  Logs every effective value as st_config_shown shows it.
void st_config_log (const st_option_t *options, size_t count);

//  Warns, naming it, about each STATION_* variable in the environment that neither the table
//  nor `elsewhere` names: a misspelt setting must not pass silently. An entry of `elsewhere`
//  ending in "_" stands for every variable it begins. Returns how many it warned about.
size_t st_config_warn_unknown (const st_option_t *options, size_t count,
                               const char *const *elsewhere, size_t elsewhere_count);

void st_config_free (st_option_t *options, size_t count);

#endif
