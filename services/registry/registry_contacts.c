/*  registry_contacts.c — the contacts of people for the notify service's deliveries: phones
    and e-mail addresses unsealed for the peer whose key is named "notify" alone, every batch
    written to the audit log first. Notify keeps no phone or address: it asks here each time
    it delivers.  */
#include "registry.h"
#include "registry_util.h"
#include "st_checks.h"
#include "st_pii.h"
#include "st_rows.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ST_REGISTRY_CONTACTS_OPS (ST_ROUTE_THUNK)

const st_route_t registry_contacts_routes[] = {ST_REGISTRY_CONTACTS_OPS (ST_ROUTE_ROW)};
const size_t registry_contacts_route_count =
    sizeof registry_contacts_routes / sizeof registry_contacts_routes[0];

//  The peer that may read contacts: the key name the ZAP handler vouched for (the name in its
//  certificate under the key directory's public/), with the role service.
#define S_CONTACTS_PEER "notify"

//  The kinds of people, each with the statement that finds them by id; in the order of
//  s_kinds, results are kept in s_found_t.
static const char *const s_kinds[] = {"volunteer", "resident", "account", NULL};
static const char *const s_statements[] = {"contact_volunteers", "contact_residents",
                                           "contact_accounts"};
#define S_KINDS 3

//  Columns of the contact_* statements read by position.
enum { C_ID = 0, C_NAME, C_PHONE, C_EMAIL, C_REGION, C_STATUS };

//  The index of `kind` in s_kinds, or -1.
static int
s_kind (const char *kind)
{
    for (int i = 0; s_kinds[i]; i++)
        if (strcmp (kind, s_kinds[i]) == 0)
            return i;
    return -1;
}

//  Whether `text` is an id some row may have: a positive whole number that fits a bigint.
static bool
s_id_valid (const char *text)
{
    if (!*text || strlen (text) > 19)
        return false;
    for (const char *p = text; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    errno = 0;
    long long id = strtoll (text, NULL, 10);
    return errno == 0 && id > 0;
}

//  The row of result `res` whose id is `id`, or -1.
static int
s_row_of (PGresult *res, const char *id)
{
    for (int row = 0; res && row < PQntuples (res); row++)
        if (strcmp (PQgetvalue (res, row, C_ID), id) == 0)
            return row;
    return -1;
}

//  Fills `contact` from row `row` of a contact_* statement: the phone masked, and unless
//  `masked` the phone and e-mail address unsealed. Returns -1 (the call failed) when a sealed
//  value does not open.
static int
s_contact_from_row (st_call_t *call, PGresult *res, int row, bool masked, msg_contact_t *contact)
{
    if (!PQgetisnull (res, row, C_NAME))
        contact->name = st_strdup (PQgetvalue (res, row, C_NAME));
    contact->region = st_strdup (PQgetvalue (res, row, C_REGION));
    contact->status = st_strdup (PQgetvalue (res, row, C_STATUS));
    contact->phone = registry_open (call, res, row, C_PHONE, "phone");
    if (contact->phone) {
        char phone_masked[32];
        st_mask_phone (contact->phone, phone_masked, sizeof phone_masked);
        contact->phone_masked = st_strdup (phone_masked);
    }
    if (masked && contact->phone) {
        sodium_memzero (contact->phone, strlen (contact->phone));
        free (contact->phone);
        contact->phone = NULL;
    }
    if (!masked)
        contact->email = registry_open (call, res, row, C_EMAIL, "email");
    if ((!PQgetisnull (res, row, C_PHONE) && !contact->phone_masked)
        || (!masked && !PQgetisnull (res, row, C_EMAIL) && !contact->email))
        return st_call_fail (call, ST_INTERNAL, NULL, "personal data of %s %s does not open",
                             contact->kind, contact->id);
    return 0;
}

//  ---------------------------------------------------------------------------------------
//  contact.list — the contacts of up to 500 people, in the order asked; an id nobody has
//  comes back with status "unknown" and nothing else

static void
s_contact_list (st_call_t *call, const msg_contact_list_t *request, msg_contacts_t *reply)
{
    //  Any service key reaches the op table's ST_PEER_SERVICE: the name decides.
    if (st_call_peer_role (call) != ST_PEER_SERVICE
        || strcmp (st_call_peer (call), S_CONTACTS_PEER) != 0) {
        st_call_fail (call, ST_PERMISSION_DENIED, "op",
                      "peer \"%s\" may not call \"contact.list\": only the notify service may",
                      st_call_peer (call));
        return;
    }
    size_t count = request->people.count;
    //  Every kind checked before anything is read; the ids of each kind that may exist, and
    //  the audit log's entries ("volunteer:42").
    char **ids[S_KINDS];
    size_t id_count[S_KINDS] = {0};
    for (int kind = 0; kind < S_KINDS; kind++)
        ids[kind] = st_calloc (count ? count : 1, sizeof (char *));
    char **audit = st_calloc (count ? count : 1, sizeof (char *));
    PGresult *found[S_KINDS] = {NULL};
    st_params_t params = {0};
    for (size_t i = 0; i < count; i++) {
        const msg_contact_person_t *person = &request->people.items[i];
        int kind = s_kind (person->kind);
        if (kind < 0) {
            char field[40];
            snprintf (field, sizeof field, "people[%zu].kind", i);
            st_call_fail (call, ST_INVALID_ARGUMENT, field,
                          "\"%s\" must be volunteer, resident or account, not \"%s\"", field,
                          person->kind);
            goto done;
        }
        size_t len = strlen (person->kind) + strlen (person->id) + 2;
        audit[i] = st_malloc (len);
        snprintf (audit[i], len, "%s:%s", person->kind, person->id);
        if (s_id_valid (person->id))
            ids[kind][id_count[kind]++] = person->id;
    }
    reply->has_contacts = true;
    if (count == 0)
        goto done;
    //  No audit record, no contacts.
    st_params_text (&params, st_call_peer (call));
    st_params_text_array (&params, audit, count);
    if (st_call_exec (call, "contact_reveal_log", &params, NULL))
        goto done;
    for (int kind = 0; kind < S_KINDS; kind++)
        if (id_count[kind]) {
            st_params_text_array (&params, ids[kind], id_count[kind]);
            if (st_call_exec (call, s_statements[kind], &params, &found[kind]))
                goto done;
        }
    reply->contacts.items = st_calloc (count, sizeof (msg_contact_t));
    for (size_t i = 0; i < count; i++) {
        const msg_contact_person_t *person = &request->people.items[i];
        msg_contact_t *contact = &reply->contacts.items[i];
        reply->contacts.count = i + 1;
        contact->kind = st_strdup (person->kind);
        contact->id = st_strdup (person->id);
        int kind = s_kind (person->kind);
        int row = s_id_valid (person->id) ? s_row_of (found[kind], person->id) : -1;
        if (row < 0)
            contact->status = st_strdup ("unknown");
        else if (s_contact_from_row (call, found[kind], row, request->has_masked && request->masked,
                                     contact))
            goto done;
    }
done:
    for (int kind = 0; kind < S_KINDS; kind++) {
        PQclear (found[kind]);
        free (ids[kind]);
    }
    for (size_t i = 0; i < count; i++)
        free (audit[i]);
    free (audit);
}

//  ---------------------------------------------------------------------------------------
//  account.list — the officials' accounts, a page in id order, for notify's daily digest

static void
s_account_list (st_call_t *call, const msg_account_list_t *request, msg_officials_t *reply)
{
    if (st_call_peer_role (call) != ST_PEER_SERVICE
        || strcmp (st_call_peer (call), S_CONTACTS_PEER) != 0) {
        st_call_fail (call, ST_PERMISSION_DENIED, "op",
                      "peer \"%s\" may not call \"account.list\": only the notify service may",
                      st_call_peer (call));
        return;
    }
    if (request->after && !s_id_valid (request->after)) {
        st_call_fail (call, ST_INVALID_ARGUMENT, "after",
                      "\"after\" must be an account id, not \"%s\"", request->after);
        return;
    }
    int64_t limit = request->has_limit ? request->limit : 500;
    st_params_t params = {0};
    st_params_text (&params, request->after);
    st_params_int (&params, limit);
    PGresult *res;
    if (st_call_exec (call, "account_list", &params, &res))
        return;
    st_rows_to_list (res, &msg_official_desc, (st_list_t *) &reply->accounts, &reply->has_accounts);
    int rows = PQntuples (res);
    if (rows == limit)
        reply->next = st_strdup (PQgetvalue (res, rows - 1, 0));
    PQclear (res);
}
