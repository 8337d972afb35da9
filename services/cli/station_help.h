/*  station_help.h — the station command's help: each command's synopsis and what it does,
    `station help [COMMAND]`, `COMMAND --help`, the options and the exit codes.  */
#ifndef STATION_HELP_H_INCLUDED
#define STATION_HELP_H_INCLUDED

#include <stdbool.h>

//  What the station command exits with. Callers rely on 1 and 2: only ever add codes.
enum {
    STATION_EXIT_OK = 0,
    STATION_EXIT_ERROR = 1,       //  an error reply, or a request refused before it went out
    STATION_EXIT_USAGE = 2,       //  bad usage: unknown command, missing or unexpected argument
    STATION_EXIT_UNREACHABLE = 3, //  no reply within the timeout: down, unreachable, or our key
                                  //  refused
};

//  Prints help on standard output: the whole of it (count 0), or that of the commands the
//  first `count` of `words` name ("volunteer", "volunteer get"; extra words are ignored, so
//  that `station call registry x --help` is call's); as JSON when `json`. Returns
//  STATION_EXIT_OK, or STATION_EXIT_USAGE with a message on standard error when no command
//  has that name.
int station_help (int count, char **words, bool json);

//  Whether `arg` asks for help (--help or -h).
bool station_help_asked (const char *arg);

#endif
