/*  notify_digest.c — the officials' daily digest (issue 21): once a day, at the digest hour of
    their region (notify.settings, inherited down the tree; 08:00 by default) in their zone
    (prefs; Asia/Shanghai by default), each station and region admin hears what waits for them
    in their region's subtree: requests to review (审单), records to confirm, forgotten
    check-outs and requests left unfilled, as match's digest.region counts them; nobody hears
    anything when nothing waits.

    The worker's tick asks whether a digest time (a local day, hour and zone) has come that no
    run has been through yet (digest_runs). Then it asks registry for the officials' accounts
    (account.list), keeps those whose hour has come today and who have no digest today, asks
    match once per region, and makes each digest in a transaction of its own that first
    claims the row (account, local day) of digests: a second replica's claim waits for the
    first's commit and then finds the row, a crash before the commit leaves the digest to be
    made again. The run is recorded once every account was handled; until then the next tick
    (at most a minute later) tries again.  */
#include "notify.h"
#include "st_client.h"
#include "st_keys.h"
#include "st_log.h"
#include "st_rows.h"
#include "st_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  How long a run that failed (registry or match away) waits before the next try (ms).
#define S_RETRY_MS 60000
//  How long one call to registry or match may take (ms).
#define S_CALL_MS 5000

struct notify_digest_s {
    zcert_t *cert; //  notify's own key pair
    char *registry_rpc, *registry_public;
    char *match_rpc, *match_public;
    int64_t retry_at_ms; //  no run before then (a failed one's pause); the ticker's thread's
    int64_t check_at_ms; //  no look before then: at most one a second, however often it ticks
};

#define S_SLOTS                                                                                    \
    "WITH hours AS (SELECT DISTINCT digest_hour::integer AS hour FROM region_settings"             \
    " WHERE digest_hour IS NOT NULL UNION SELECT 8),"                                              \
    " zones AS (SELECT DISTINCT time_zone AS zone FROM prefs WHERE recipient_kind = 'account'"     \
    " UNION SELECT 'Asia/Shanghai')"

static const st_statement_t s_statements[] = {
    //  The digest times (local day, hour, zone) that have come today and no run went through:
    //  of each digest hour some region sets (and the default) in each zone an official chose.
    {"digest_due",
     S_SLOTS ", slots AS (SELECT h.hour, z.zone,"
             " (now () AT TIME ZONE z.zone)::date AS day FROM hours h CROSS JOIN zones z)"
             " SELECT day::text AS day, hour, zone FROM slots s"
             " WHERE (s.day + make_interval (hours => s.hour)) AT TIME ZONE s.zone <= now ()"
             " AND NOT EXISTS (SELECT 1 FROM digest_runs r WHERE r.day = s.day"
             " AND r.hour = s.hour AND r.zone = s.zone)"},
    //  ms until the next digest time no run went through (0: one is due).
    {"digest_next",
     S_SLOTS ", slots AS (SELECT h.hour, z.zone, d.day FROM hours h CROSS JOIN zones z"
             " CROSS JOIN LATERAL (VALUES ((now () AT TIME ZONE z.zone)::date),"
             " ((now () AT TIME ZONE z.zone)::date + 1)) d (day))"
             " SELECT greatest (0, ceil (extract (epoch FROM min ((s.day + make_interval (hours =>"
             " s.hour)) AT TIME ZONE s.zone) - now ()) * 1000))::bigint FROM slots s"
             " WHERE NOT EXISTS (SELECT 1 FROM digest_runs r WHERE r.day = s.day"
             " AND r.hour = s.hour AND r.zone = s.zone)"},
    //  Of the accounts $1 of regions $2, those whose digest hour has come today in their zone
    //  and who have no digest today, with that local day.
    {"digest_pending",
     "SELECT a.id, a.region, d.day::text AS day FROM unnest ($1::text[], $2::text[]) AS a (id,"
     " region) LEFT JOIN prefs p ON p.recipient_kind = 'account' AND p.recipient_id = a.id"
     " CROSS JOIN LATERAL (SELECT coalesce (p.time_zone, 'Asia/Shanghai') AS zone) z"
     " CROSS JOIN LATERAL (SELECT (now () AT TIME ZONE z.zone)::date AS day) d"
     " WHERE (d.day + make_interval (hours => digest_hour_of (a.region))) AT TIME ZONE z.zone"
     " <= now () AND NOT EXISTS (SELECT 1 FROM digests g WHERE g.account = a.id"
     " AND g.day = d.day) ORDER BY a.region, a.id"},
    //  The claim of account $1's digest of day $2: a row when this transaction made it.
    {"digest_claim",
     "INSERT INTO digests (account, day, region, to_review, to_confirm, open_checkouts, unfilled,"
     " sent) VALUES ($1, $2::date, $3, $4, $5, $6, $7, $8) ON CONFLICT (account, day) DO NOTHING"
     " RETURNING account"},
    {"digest_run_done", "INSERT INTO digest_runs (day, hour, zone) VALUES ($1::date, $2, $3)"
                        " ON CONFLICT (day, hour, zone) DO NOTHING"},
    //  Old claims and runs go (a day's claim is kept while its day may still come round in
    //  some zone, and long after).
    {"digest_prune", "WITH r AS (DELETE FROM digest_runs WHERE day < current_date - 7)"
                     " DELETE FROM digests WHERE day < current_date - 60"},
};

void
notify_digest_prepare (st_db_t *db)
{
    st_db_statements (db, s_statements, sizeof s_statements / sizeof s_statements[0]);
}

//  The public key of `name` as text (malloc'd), or NULL with err filled.
static char *
s_public (const char *keydir, const char *name, st_error_t *err)
{
    zcert_t *cert = st_keys_public (keydir, name, err);
    if (!cert)
        return NULL;
    char *text = st_strdup (zcert_public_txt (cert));
    zcert_destroy (&cert);
    return text;
}

notify_digest_t *
notify_digest_new (st_service_t *service, st_error_t *err)
{
    const char *keydir = st_service_option (service, "keys");
    notify_digest_t *self = st_calloc (1, sizeof *self);
    self->registry_rpc = st_strdup (st_service_option (service, "registry-rpc"));
    self->match_rpc = st_strdup (st_service_option (service, "match-rpc"));
    self->cert = st_keys_secret (keydir, "notify", err);
    if (!self->cert || !(self->registry_public = s_public (keydir, "registry", err))
        || !(self->match_public = s_public (keydir, "match", err))) {
        notify_digest_destroy (&self);
        return NULL;
    }
    return self;
}

void
notify_digest_destroy (notify_digest_t **self_p)
{
    notify_digest_t *self = *self_p;
    if (!self)
        return;
    zcert_destroy (&self->cert);
    free (self->registry_rpc);
    free (self->registry_public);
    free (self->match_rpc);
    free (self->match_public);
    free (self);
    *self_p = NULL;
}

//  `items` (count of them) moved into an array of `size`.
static char **
s_grow (char **items, size_t count, size_t size)
{
    char **grown = st_calloc (size, sizeof (char *));
    if (count)
        memcpy (grown, items, count * sizeof (char *));
    free (items);
    return grown;
}

//  Every official's account registry knows (account.list, page after page): the admins'
//  ids and regions (12 digits: a grid's counts as its village's) into ids and regions, with
//  their count. Returns ST_OK, or the call's failure in err.
static st_status_t
s_admins (notify_digest_t *self, st_client_t *registry, char ***ids, char ***regions, size_t *count,
          st_error_t *err)
{
    size_t size = 0;
    *ids = *regions = NULL;
    *count = 0;
    char *after = NULL;
    st_status_t rc = ST_OK;
    do {
        msg_account_list_t query = {.after = after, .limit = 1000, .has_limit = true};
        msg_officials_t page = {0};
        rc = st_client_call (registry, "account.list", NULL, NULL, &msg_account_list_desc, &query,
                             &msg_officials_desc, &page, S_CALL_MS, err);
        free (after);
        after = NULL;
        if (rc != ST_OK) {
            st_msg_clear (&msg_officials_desc, &page);
            break;
        }
        for (size_t i = 0; i < page.accounts.count; i++) {
            const msg_official_t *account = &page.accounts.items[i];
            //  The digest is for station and region admins; a team leader leads a team.
            if (strcmp (account->role, "region_admin") != 0
                && strcmp (account->role, "station_admin") != 0)
                continue;
            if (*count == size) {
                size = size ? size * 2 : 64;
                *ids = s_grow (*ids, *count, size);
                *regions = s_grow (*regions, *count, size);
            }
            (*ids)[*count] = st_strdup (account->id);
            (*regions)[*count] = st_strdup (account->region);
            (*regions)[*count][12] = 0;
            (*count)++;
        }
        if (page.next)
            after = st_strdup (page.next);
        st_msg_clear (&msg_officials_desc, &page);
    } while (after);
    (void) self;
    return rc;
}

static void
s_strings_free (char **items, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free (items[i]);
    free (items);
}

//  Account `id`'s digest of local day `day`, in one transaction: claimed, and its notice made
//  when something waits. Returns ST_OK (made, or another replica's already) or the failure.
static st_status_t
s_digest_one (st_db_t *db, const char *id, const char *region, const char *day,
              const msg_region_digest_t *counts, st_error_t *err)
{
    bool something =
        counts->to_review || counts->to_confirm || counts->open_checkouts || counts->unfilled;
    if (st_db_run (db, "BEGIN", err) != ST_OK)
        return err->code ? err->code : ST_UNAVAILABLE;
    st_params_t params = {0};
    st_params_text (&params, id);
    st_params_text (&params, day);
    st_params_text (&params, region);
    st_params_int (&params, counts->to_review);
    st_params_int (&params, counts->to_confirm);
    st_params_int (&params, counts->open_checkouts);
    st_params_int (&params, counts->unfilled);
    st_params_bool (&params, something);
    PGresult *res = NULL;
    st_status_t rc = st_db_exec (db, "digest_claim", &params, &res, err);
    st_params_clear (&params);
    bool claimed = rc == ST_OK && PQntuples (res) == 1;
    PQclear (res);
    if (claimed && something) {
        char source[64], items[128];
        snprintf (source, sizeof source, "digest:%s", day);
        snprintf (items, sizeof items, "%lld %lld %lld %lld", (long long) counts->to_review,
                  (long long) counts->to_confirm, (long long) counts->open_checkouts,
                  (long long) counts->unfilled);
        notify_notice_t notice = {.recipient_kind = "account",
                                  .recipient_id = id,
                                  .kind = "digest.daily",
                                  .source = source,
                                  .region = region,
                                  .items = items};
        rc = notify_notice_add (db, &notice, err);
    }
    if (st_db_finish (db, rc, err, "digest"))
        return rc != ST_OK ? rc : ST_INTERNAL;
    return ST_OK;
}

//  One run: every admin whose digest is due gets it. Returns ST_OK once all were handled.
static st_status_t
s_run (st_db_t *db, notify_digest_t *self, st_error_t *err)
{
    st_client_t *registry = st_client_new (self->registry_rpc, self->cert, self->registry_public);
    char **ids, **regions;
    size_t count;
    st_status_t rc = s_admins (self, registry, &ids, &regions, &count, err);
    st_client_destroy (&registry);
    if (rc != ST_OK)
        return rc;
    st_params_t params = {0};
    st_params_text_array (&params, ids, count);
    st_params_text_array (&params, regions, count);
    PGresult *res = NULL;
    rc = st_db_exec (db, "digest_pending", &params, &res, err);
    st_params_clear (&params);
    s_strings_free (ids, count);
    s_strings_free (regions, count);
    if (rc != ST_OK)
        return rc;
    //  Match once per region (the rows come in region order).
    st_client_t *match = st_client_new (self->match_rpc, self->cert, self->match_public);
    msg_region_digest_t counts = {0};
    char asked[16] = "";
    int made = 0;
    for (int i = 0; i < PQntuples (res) && rc == ST_OK; i++) {
        const char *region = st_row_text (res, i, "region");
        if (strcmp (region, asked) != 0) {
            st_msg_clear (&msg_region_digest_desc, &counts);
            memset (&counts, 0, sizeof counts);
            msg_digest_query_t query = {.region = (char *) region};
            rc = st_client_call (match, "digest.region", NULL, NULL, &msg_digest_query_desc, &query,
                                 &msg_region_digest_desc, &counts, S_CALL_MS, err);
            snprintf (asked, sizeof asked, "%s", rc == ST_OK ? region : "");
        }
        if (rc == ST_OK)
            rc = s_digest_one (db, st_row_text (res, i, "id"), region, st_row_text (res, i, "day"),
                               &counts, err);
        made += rc == ST_OK;
    }
    st_msg_clear (&msg_region_digest_desc, &counts);
    st_client_destroy (&match);
    if (made)
        st_info ("digest: %d official(s) handled", made);
    PQclear (res);
    return rc;
}

int64_t
notify_digest_tick (st_db_t *db, notify_digest_t *self)
{
    if (!self)
        return -1;
    //  The worker ticks as often as reminders fall due (many a second when they crowd): the
    //  digest costs those ticks nothing more than a clock read. A changed digest hour wakes
    //  the worker (settings_digest_hour) and is seen within a second.
    int64_t now = st_now_ms ();
    if (now < self->check_at_ms)
        return self->check_at_ms - now;
    self->check_at_ms = now + 1000;
    st_error_t err = {0};
    PGresult *due = NULL;
    if (st_db_exec (db, "digest_due", NULL, &due, &err) != ST_OK) {
        st_warn ("digest: %s", err.message);
        return S_RETRY_MS;
    }
    if (PQntuples (due) > 0 && now < self->retry_at_ms) {
        PQclear (due);
        return self->retry_at_ms - now;
    }
    if (PQntuples (due) > 0) {
        if (s_run (db, self, &err) != ST_OK) {
            st_warn ("digest: not every official's digest was made, again in %d s: %s",
                     S_RETRY_MS / 1000, err.message);
            self->retry_at_ms = now + S_RETRY_MS;
            PQclear (due);
            return S_RETRY_MS;
        }
        for (int i = 0; i < PQntuples (due); i++) {
            st_params_t params = {0};
            st_params_text (&params, st_row_text (due, i, "day"));
            st_params_int (&params, st_row_int (due, i, "hour"));
            st_params_text (&params, st_row_text (due, i, "zone"));
            if (st_db_exec (db, "digest_run_done", &params, NULL, &err) != ST_OK)
                st_warn ("digest: %s", err.message);
            st_params_clear (&params);
        }
        if (st_db_exec (db, "digest_prune", NULL, NULL, &err) != ST_OK)
            st_warn ("digest: %s", err.message);
    }
    PQclear (due);
    PGresult *res = NULL;
    if (st_db_exec (db, "digest_next", NULL, &res, &err) != ST_OK)
        return S_RETRY_MS;
    int64_t wait = PQgetisnull (res, 0, 0) ? -1 : atoll (PQgetvalue (res, 0, 0));
    PQclear (res);
    //  A time come that the run above recorded as done reads 0 only between two replicas'
    //  runs: the other's run records it, and a second's pause costs nothing.
    return wait == 0 ? 1000 : wait;
}
