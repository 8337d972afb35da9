/*  fixture_ledger.c — the fixture's helpers for tests of the ledger (fixture.h): waiting for
    the ledger to catch up, its statement, audit and adjustments.  */
#include "fixture.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <setjmp.h>
#include <cmocka.h>

void
fx_ledger_caught_up (void)
{
    fx_wait_for (0, "SELECT count (*) FROM match.outbox WHERE seq IS NULL");
    fx_wait_for (1, "SELECT ((SELECT seq FROM ledger.consumer_cursors WHERE publisher = 'match')"
                    " >= (SELECT last_seq FROM match.outbox_state))::int");
}

void
fx_ledger_wait_volunteer (const char *id)
{
    fx_wait_for (1, "SELECT count (*) FROM ledger.volunteers WHERE id = %s", id);
}

json_t *
fx_ledger_statement (const msg_actor_t *actor, const char *volunteer)
{
    char body[64];
    snprintf (body, sizeof body, "{\"volunteer_id\": \"%s\"}", volunteer);
    return fx_call_ok ("ledger", actor, "ledger.statement", body);
}

json_t *
fx_ledger_audit (const char *what)
{
    json_t *audit = fx_call_ok ("ledger", &FX_SYSTEM, "ledger.audit", "{}");
    if (!json_is_true (json_object_get (audit, "ok"))) {
        char *text = json_dumps (audit, 0);
        fail_msg ("%s%sthe audit finds differences: %s", what ? what : "", what ? " " : "", text);
    }
    return audit;
}

void
fx_ledger_adjust (const msg_actor_t *actor, const char *volunteer, const char *unit, int amount,
                  const char *reason)
{
    char body[256];
    snprintf (body, sizeof body,
              "{\"volunteer_id\": \"%s\", \"unit\": \"%s\", \"amount\": %d, \"reason\": \"%s\"}",
              volunteer, unit, amount, reason);
    json_decref (fx_call_ok ("ledger", actor, "ledger.adjust", body));
}
