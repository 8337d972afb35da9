/*  st_proto.h — every message of the wire contract as a C struct and a descriptor, and the
    table of every op and event topic, generated from the *.def files.  */
#ifndef ST_PROTO_H_INCLUDED
#define ST_PROTO_H_INCLUDED

#include "st_codec.h"

#define ST_PROTO_VERSION 1

//  Which peers may call an op (architecture.md, "Security").
#define ST_PEER_OPERATOR 0x1u
#define ST_PEER_GATEWAY  0x2u
#define ST_PEER_SERVICE  0x4u
#define ST_PEER_PEOPLE   (ST_PEER_OPERATOR | ST_PEER_GATEWAY)
#define ST_PEER_ANY      (ST_PEER_OPERATOR | ST_PEER_GATEWAY | ST_PEER_SERVICE)

//  Op flags. A write op runs in one transaction with its idempotency record and events. A
//  slow op (password hashing, a bulk import) runs on one of the server's worker threads, so
//  that it never holds up the loop that answers every other op.
#define ST_OP_WRITE 0x1u
#define ST_OP_SLOW  0x2u

#define ST_MESSAGE(m, LIST)                                                                        \
    typedef struct {                                                                               \
        LIST (ST_S_, m##_t) char st_unused_;                                                       \
    } m##_t;                                                                                       \
    extern const st_desc_t m##_desc;

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

//  One op of one service: its name, messages, flags and admitted peers.
typedef struct {
    const char *service;
    const char *name;
    const st_desc_t *request;
    const st_desc_t *reply;
    unsigned flags;
    unsigned peers;
} st_op_desc_t;

//  One event topic and the message its body carries.
typedef struct {
    const char *service;
    const char *topic;
    const st_desc_t *body;
} st_event_desc_t;

//  Looks an op up by service and name ("common" ops answer for any service); NULL if none.
const st_op_desc_t *st_proto_op (const char *service, const char *name);

//  The op at `index` of the whole table (common ops first), NULL past its end.
const st_op_desc_t *st_proto_op_at (size_t index);

//  Looks an event topic up; NULL if none.
const st_event_desc_t *st_proto_event (const char *topic);

//  Returns the service names known to the contract, NULL-terminated.
const char *const *st_proto_services (void);

#endif
