/*  notify_inbox.c — a person's notices and preferences: inbox.list, inbox.read, prefs.get,
    prefs.set. The person is the actor: a volunteer or a resident by their registry id, an
    official by their account; nobody reads another's inbox.  */
#include "notify.h"
#include "st_checks.h"
#include "st_rows.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

ST_NOTIFY_INBOX_OPS (ST_ROUTE_THUNK)

const st_route_t notify_inbox_routes[] = {ST_NOTIFY_INBOX_OPS (ST_ROUTE_ROW)};
const size_t notify_inbox_route_count = sizeof notify_inbox_routes / sizeof notify_inbox_routes[0];

bool
notify_clock_valid (const char *text)
{
    size_t len = text ? strlen (text) : 0;
    if (len != 5 && len != 8)
        return false;
    for (size_t i = 0; i < len; i++)
        if ((i % 3 == 2) != (text[i] == ':') || (i % 3 != 2 && !isdigit ((unsigned char) text[i])))
            return false;
    return atoi (text) < 24 && atoi (text + 3) < 60 && (len == 5 || atoi (text + 6) < 60);
}

//  Whose inbox the actor's is: (volunteer, id), (resident, id) or (account, account). The
//  system has none.
static int
s_person (st_call_t *call, const char **kind, const char **id)
{
    const msg_actor_t *actor;
    if (st_require_actor (call, &actor))
        return -1;
    if (strcmp (actor->role, "volunteer") == 0 && actor->volunteer_id && *actor->volunteer_id) {
        *kind = "volunteer";
        *id = actor->volunteer_id;
    } else if (strcmp (actor->role, "resident") == 0 && actor->resident_id && *actor->resident_id) {
        *kind = "resident";
        *id = actor->resident_id;
    } else if (st_actor_is_official (actor) && actor->account && *actor->account) {
        *kind = "account";
        *id = actor->account;
    } else
        return st_call_fail (call, ST_PERMISSION_DENIED, "actor",
                             "only a person has an inbox and preferences");
    return 0;
}

//  ---------------------------------------------------------------------------------------
//  inbox.list — newest first, a page at a time

static void
s_inbox_list (st_call_t *call, const msg_inbox_list_t *request, msg_inbox_page_t *reply)
{
    const char *kind, *id;
    if (s_person (call, &kind, &id))
        return;
    int64_t cursor = 0;
    if (request->cursor && !st_parse_id (request->cursor, &cursor))
        return (void) st_call_fail (call, ST_INVALID_ARGUMENT, "cursor",
                                    "\"cursor\" must be the next_cursor of a page");
    int64_t limit = request->has_limit ? request->limit : 50;
    st_params_t params = {0};
    st_params_text (&params, kind);
    st_params_text (&params, id);
    st_params_bool (&params, request->has_unread && request->unread);
    st_params_int_or_null (&params, request->cursor != NULL, cursor);
    st_params_int (&params, limit);
    PGresult *res;
    if (st_call_exec (call, "inbox_list", &params, &res))
        return;
    int count = PQntuples (res);
    st_rows_to_list (res, &msg_notice_desc, (st_list_t *) &reply->items, &reply->has_items);
    if (count == limit && count > 0)
        reply->next_cursor = st_strdup (PQgetvalue (res, count - 1, 0));
    PQclear (res);
    st_params_text (&params, kind);
    st_params_text (&params, id);
    if (st_call_exec (call, "inbox_unread", &params, &res))
        return;
    reply->unread = atoll (PQgetvalue (res, 0, 0));
    reply->has_unread = true;
    PQclear (res);
}

//  ---------------------------------------------------------------------------------------
//  inbox.read — one notice, or all

static void
s_inbox_read (st_call_t *call, const msg_inbox_read_t *request, msg_inbox_read_result_t *reply)
{
    const char *kind, *id;
    if (s_person (call, &kind, &id))
        return;
    bool all = request->has_all && request->all;
    if (!all == !request->id)
        return (void) st_call_fail (call, ST_INVALID_ARGUMENT, "id",
                                    "give either \"id\" or \"all\": true");
    int64_t notice = 0;
    if (request->id && st_require_id (call, "id", "notice", request->id, &notice))
        return;
    st_params_t params = {0};
    st_params_text (&params, kind);
    st_params_text (&params, id);
    if (!all)
        st_params_int (&params, notice);
    PGresult *res;
    if (st_call_exec (call, all ? "inbox_read_all" : "inbox_read_one", &params, &res))
        return;
    reply->read = all ? atoll (PQcmdTuples (res)) : PQntuples (res);
    reply->has_read = true;
    PQclear (res);
    //  Another's notice reads as none at all.
    if (!all && reply->read == 0)
        st_call_fail (call, ST_NOT_FOUND, "id", "no notice %s in your inbox", request->id);
}

//  ---------------------------------------------------------------------------------------
//  prefs.get, prefs.set

static bool
s_listed (const st_strs_t *list, const char *item)
{
    for (size_t i = 0; i < list->count; i++)
        if (strcmp (list->items[i], item) == 0)
            return true;
    return false;
}

//  The person's preferences as prefs.get gives them: the store keeps the kinds muted (so a
//  kind added later comes until left out); the reply lists every kind wanted, so that a page
//  showing some kinds can keep the others as they are.
static int
s_prefs_reply (st_call_t *call, const char *kind, const char *id, msg_notify_prefs_t *reply)
{
    st_params_t params = {0};
    st_params_text (&params, kind);
    st_params_text (&params, id);
    PGresult *res;
    if (st_call_exec (call, "prefs_get", &params, &res))
        return -1;
    st_row_to_msg (res, 0, &msg_notify_prefs_desc, reply);
    reply->quiet_hours.from = st_strdup (st_row_text (res, 0, "quiet_from"));
    reply->quiet_hours.to = st_strdup (st_row_text (res, 0, "quiet_to"));
    reply->has_quiet_hours = true;
    st_strs_t muted = {0};
    st_text_array_parse (st_row_text (res, 0, "muted"), &muted);
    PQclear (res);
    size_t count = 0;
    while (notify_kind_at (count))
        count++;
    reply->kinds.items = st_calloc (count + 1, sizeof (char *));
    for (size_t i = 0; i < count; i++)
        if (!s_listed (&muted, notify_kind_at (i)))
            reply->kinds.items[reply->kinds.count++] = st_strdup (notify_kind_at (i));
    reply->has_kinds = true;
    for (size_t i = 0; i < muted.count; i++)
        free (muted.items[i]);
    free (muted.items);
    return 0;
}

static void
s_prefs_get (st_call_t *call, const msg_empty_t *request, msg_notify_prefs_t *reply)
{
    (void) request;
    const char *kind, *id;
    if (s_person (call, &kind, &id))
        return;
    s_prefs_reply (call, kind, id, reply);
}

static void
s_prefs_set (st_call_t *call, const msg_notify_prefs_t *request, msg_notify_prefs_t *reply)
{
    const char *kind, *id;
    if (s_person (call, &kind, &id))
        return;
    static const char *const languages[] = {"zh", "en", NULL};
    if (request->language && st_require_one_of (call, "language", request->language, languages))
        return;
    const msg_quiet_hours_t *quiet = request->has_quiet_hours ? &request->quiet_hours : NULL;
    if (quiet && !notify_clock_valid (quiet->from))
        return (void) st_call_fail (call, ST_INVALID_ARGUMENT, "quiet_hours.from",
                                    "\"quiet_hours.from\" must be a time of day as HH:MM");
    if (quiet && !notify_clock_valid (quiet->to))
        return (void) st_call_fail (call, ST_INVALID_ARGUMENT, "quiet_hours.to",
                                    "\"quiet_hours.to\" must be a time of day as HH:MM");
    for (size_t i = 0; request->has_kinds && i < request->kinds.count; i++)
        if (!notify_kind_known (request->kinds.items[i]))
            return (void) st_call_fail (call, ST_INVALID_ARGUMENT, "kinds",
                                        "\"%s\" is no notice kind", request->kinds.items[i]);
    //  The inbox is always on: listed or not, it is no channel to keep.
    static const char *const channels[] = {"inbox", "email", "sms", "wechat", NULL};
    const char *wanted[4];
    size_t wanted_count = 0;
    for (size_t i = 0; request->has_channels && i < request->channels.count; i++) {
        const char *channel = request->channels.items[i];
        if (st_require_one_of (call, "channels", channel, channels))
            return;
        bool seen = strcmp (channel, "inbox") == 0;
        for (size_t j = 0; j < wanted_count && !seen; j++)
            seen = strcmp (wanted[j], channel) == 0;
        if (!seen)
            wanted[wanted_count++] = channel;
    }
    st_params_t params = {0};
    PGresult *res;
    if (request->time_zone) {
        st_params_text (&params, request->time_zone);
        if (st_call_exec (call, "time_zone_known", &params, &res))
            return;
        bool known = strcmp (PQgetvalue (res, 0, 0), "t") == 0;
        PQclear (res);
        if (!known)
            return (void) st_call_fail (call, ST_INVALID_ARGUMENT, "time_zone",
                                        "\"%s\" is no time zone name", request->time_zone);
    }
    //  Kept as the kinds not wanted.
    size_t kind_count = 0;
    while (notify_kind_at (kind_count))
        kind_count++;
    const char **muted = st_calloc (kind_count + 1, sizeof (char *));
    size_t muted_count = 0;
    for (size_t i = 0; request->has_kinds && i < kind_count; i++)
        if (!s_listed (&request->kinds, notify_kind_at (i)))
            muted[muted_count++] = notify_kind_at (i);
    st_params_text (&params, kind);
    st_params_text (&params, id);
    st_params_text (&params, request->language);
    st_params_text (&params, request->time_zone);
    st_params_text (&params, quiet ? quiet->from : NULL);
    st_params_text (&params, quiet ? quiet->to : NULL);
    if (request->has_kinds)
        st_params_text_array (&params, (char **) muted, muted_count);
    else
        st_params_null (&params);
    free (muted);
    if (request->has_channels)
        st_params_text_array (&params, (char **) wanted, wanted_count);
    else
        st_params_null (&params);
    if (st_call_exec (call, "prefs_set", &params, NULL))
        return;
    s_prefs_reply (call, kind, id, reply);
}
