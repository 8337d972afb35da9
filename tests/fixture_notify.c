/*  fixture_notify.c — the fixture's helpers for tests of notify (fixture.h): quiet hours off,
    the inbox and its notices as a person sees them, and a second notify process.  */
#include "fixture.h"

#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

void
fx_notify_no_quiet_hours (const char *region)
{
    char body[128];
    snprintf (body, sizeof body,
              "{\"region\": \"%s\", \"quiet_from\": \"00:00\", \"quiet_to\": \"00:00\"}", region);
    json_decref (fx_call_ok ("notify", &FX_SYSTEM, "notify.settings.set", body));
}

json_t *
fx_inbox (const msg_actor_t *actor)
{
    json_t *page = fx_call_ok ("notify", actor, "inbox.list", "{\"limit\": 200}");
    json_t *items = json_incref (json_object_get (page, "items"));
    json_decref (page);
    return items ? items : json_array ();
}

int
fx_notices (const msg_actor_t *actor, const char *kind, char *text, size_t size)
{
    json_t *items = fx_inbox (actor);
    int count = 0;
    size_t i;
    json_t *item;
    json_array_foreach (items, i, item)
    {
        if (strcmp (fx_str (item, "kind"), kind) == 0) {
            if (text && count == 0)
                snprintf (text, size, "%s", fx_str (item, "text"));
            count++;
        }
    }
    json_decref (items);
    return count;
}

const char *
fx_wait_notice (const msg_actor_t *actor, const char *kind)
{
    static char text[2048];
    for (int waited = 0; waited < FX_WAIT_MS; waited += 100) {
        if (fx_notices (actor, kind, text, sizeof text) > 0)
            return text;
        fx_sleep_ms (100);
    }
    fail_msg ("no notice \"%s\" reached the inbox", kind);
    return NULL;
}

void
fx_contains (const char *text, const char *part)
{
    if (!strstr (text, part))
        fail_msg ("\"%s\" does not say \"%s\"", text, part);
}

pid_t
fx_notify_replica (void)
{
    harness_t *h = fx_harness ();
    pid_t pid = fork ();
    assert_true (pid >= 0);
    if (pid == 0) {
        prctl (PR_SET_PDEATHSIG, SIGKILL);
        char path[512], rpc[300], events[300], log[300];
        snprintf (path, sizeof path, "%s/station-notify", getenv ("STATION_BIN_DIR"));
        snprintf (rpc, sizeof rpc, "ipc://%s/notify2.rpc", harness_dir (h));
        snprintf (events, sizeof events, "ipc://%s/notify2.events", harness_dir (h));
        snprintf (log, sizeof log, "%s/notify2.log", harness_dir (h));
        setenv ("STATION_KEYS", harness_keys (h), 1);
        setenv ("STATION_DB", harness_conninfo (h), 1);
        setenv ("STATION_LOG_LEVEL", "warn", 1);
        setenv ("STATION_REGISTRY_RPC", harness_endpoint (h, "registry", "rpc"), 1);
        setenv ("STATION_REGISTRY_EVENTS", harness_endpoint (h, "registry", "events"), 1);
        setenv ("STATION_MATCH_RPC", harness_endpoint (h, "match", "rpc"), 1);
        setenv ("STATION_MATCH_EVENTS", harness_endpoint (h, "match", "events"), 1);
        setenv ("STATION_NOTIFY_RPC", rpc, 1);
        setenv ("STATION_NOTIFY_EVENTS", events, 1);
        if (!freopen (log, "a", stderr))
            _exit (126);
        execl (path, "station-notify", (char *) NULL);
        _exit (127);
    }
    return pid;
}

void
fx_notify_replica_stop (pid_t pid)
{
    kill (pid, SIGTERM);
    int status;
    waitpid (pid, &status, 0);
    assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
}

void
fx_residents_zh_en (const char *name_zh, const char *name_en, const char *region, char zh[32],
                    char en[32])
{
    fx_resident_add (name_zh, region, NULL, zh);
    fx_resident_add (name_en, region, NULL, en);
    msg_actor_t ren = fx_resident (en);
    json_decref (fx_call_ok ("notify", &ren, "prefs.set", "{\"language\": \"en\"}"));
}
