/*  st_proto.c — descriptors and the op and event tables, generated from the *.def files  */
#include "st_proto.h"

#include <string.h>

//  A message with no fields still needs an array: the sentinel is never counted.
#define ST_MESSAGE(m, LIST)                                                                        \
    static const st_field_t m##_fields[] = {LIST (ST_D_, m##_t){.name = NULL}};                    \
    const st_desc_t m##_desc = {#m, sizeof (m##_t), m##_fields,                                    \
                                sizeof m##_fields / sizeof m##_fields[0] - 1};

#include "envelope.def"
#include "registry_volunteers.def"
#include "registry_regions.def"
#include "registry_accounts.def"
#include "registry_import.def"
#include "registry_contacts.def"
#include "match_supply.def"
#include "match_activities.def"
#include "match_wishes.def"
#include "match_dispatch.def"
#include "match_records.def"
#include "ledger_books.def"
#include "ledger_rules.def"
#include "ledger_reports.def"
#include "ledger_shop.def"
#include "notify_inbox.def"
#include "notify_reminders.def"
#include "notify_delivery.def"

#undef ST_MESSAGE

#define ST_OP_ROW(svc, name, fn, req, rep, flags, peers)                                           \
    {#svc, name, &req##_desc, &rep##_desc, flags, peers},
static const st_op_desc_t s_ops[] = {
    ST_COMMON_OPS (ST_OP_ROW) ST_REGISTRY_VOLUNTEERS_OPS (ST_OP_ROW)
        ST_REGISTRY_REGIONS_OPS (ST_OP_ROW) ST_REGISTRY_ACCOUNTS_OPS (ST_OP_ROW)
            ST_REGISTRY_IMPORT_OPS (ST_OP_ROW) ST_REGISTRY_CONTACTS_OPS (ST_OP_ROW)
                ST_MATCH_SUPPLY_OPS (ST_OP_ROW) ST_MATCH_ACTIVITIES_OPS (ST_OP_ROW)
                    ST_MATCH_WISHES_OPS (ST_OP_ROW) ST_MATCH_DISPATCH_OPS (ST_OP_ROW)
                        ST_MATCH_RECORDS_OPS (ST_OP_ROW) ST_LEDGER_BOOKS_OPS (ST_OP_ROW)
                            ST_LEDGER_RULES_OPS (ST_OP_ROW) ST_LEDGER_SHOP_OPS (ST_OP_ROW)
                                ST_LEDGER_REPORTS_OPS (ST_OP_ROW) ST_NOTIFY_INBOX_OPS (ST_OP_ROW)
                                    ST_NOTIFY_REMINDERS_OPS (ST_OP_ROW)
                                        ST_NOTIFY_CHANNELS_OPS (ST_OP_ROW)
                                            ST_NOTIFY_DELIVERY_OPS (ST_OP_ROW)};

#define ST_EVENT_ROW(svc, topic, msg) {#svc, topic, &msg##_desc},
static const st_event_desc_t s_events[] = {
    ST_REGISTRY_VOLUNTEERS_EVENTS (ST_EVENT_ROW) ST_REGISTRY_REGIONS_EVENTS (ST_EVENT_ROW)
        ST_REGISTRY_ACCOUNTS_EVENTS (ST_EVENT_ROW) ST_MATCH_SUPPLY_EVENTS (ST_EVENT_ROW)
            ST_MATCH_ACTIVITIES_EVENTS (ST_EVENT_ROW) ST_MATCH_WISHES_EVENTS (ST_EVENT_ROW)
                ST_MATCH_DISPATCH_EVENTS (ST_EVENT_ROW) ST_MATCH_RECORDS_EVENTS (ST_EVENT_ROW)
                    ST_LEDGER_BOOKS_EVENTS (ST_EVENT_ROW) ST_LEDGER_RULES_EVENTS (ST_EVENT_ROW)
                        ST_LEDGER_SHOP_EVENTS (ST_EVENT_ROW) ST_LEDGER_REPORTS_EVENTS (ST_EVENT_ROW)
                            ST_NOTIFY_INBOX_EVENTS (ST_EVENT_ROW)
                                ST_NOTIFY_REMINDERS_EVENTS (ST_EVENT_ROW)
                                    ST_NOTIFY_DELIVERY_EVENTS (ST_EVENT_ROW){NULL, NULL, NULL}};

static const char *const s_services[] = {"registry", "match", "ledger", "notify", NULL};

const st_op_desc_t *
st_proto_op (const char *service, const char *name)
{
    for (size_t i = 0; i < sizeof s_ops / sizeof s_ops[0]; i++)
        if (strcmp (s_ops[i].name, name) == 0
            && (strcmp (s_ops[i].service, "common") == 0
                || strcmp (s_ops[i].service, service) == 0))
            return &s_ops[i];
    return NULL;
}

const st_op_desc_t *
st_proto_op_at (size_t index)
{
    return index < sizeof s_ops / sizeof s_ops[0] ? &s_ops[index] : NULL;
}

const st_event_desc_t *
st_proto_event (const char *topic)
{
    for (size_t i = 0; s_events[i].topic; i++)
        if (strcmp (s_events[i].topic, topic) == 0)
            return &s_events[i];
    return NULL;
}

const char *const *
st_proto_services (void)
{
    return s_services;
}
