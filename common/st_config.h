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
    const char *value; //  effective value, filled by st_config_load
    char *owned;       //  storage st_config_free releases
} st_option_t;

//  Fills every option's value. Returns 0; 1 when --help was printed (exit 0); -1 with a
//  message on stderr for an unknown flag or a missing value (exit 2).
int st_config_load (st_option_t *options, size_t count, int argc, char **argv, const char *summary);

//  Returns an option's effective value; asserts the name is in the table.
const char *st_config_get (const st_option_t *options, size_t count, const char *name);

//  Parses an option as a whole number in [lo, hi]; returns -1 with a message when it is not.
int st_config_int (const st_option_t *options, size_t count, const char *name, int64_t lo,
                   int64_t hi, int64_t *out);

//  Logs every effective value, secrets masked (a password in a connection string too).
void st_config_log (const st_option_t *options, size_t count);

void st_config_free (st_option_t *options, size_t count);

#endif
