/*  registry_util.h — what registry's parts share: actor and value checks, statements that must
    find a row or must not repeat one, and personal data sealed, hashed and masked.  */
#ifndef REGISTRY_UTIL_H_INCLUDED
#define REGISTRY_UTIL_H_INCLUDED

#include "st_crypto.h"
#include "st_server.h"

//  Checks fail the call themselves, naming the field, and return -1.

//  The actor must be the system, or an official whose subtree holds `region`.
int registry_require_official_in_scope (st_call_t *call, const char *region);

//  The system, or a region admin: permission denied with `message` otherwise.
int registry_require_region_admin (st_call_t *call, const msg_actor_t *actor, const char *message);

//  Every item of `list` must be one of the NULL-terminated `allowed`.
int registry_require_list (st_call_t *call, const char *field, const st_strs_t *list,
                           const char *const *allowed);

//  An 11-digit mobile number.
int registry_require_phone (st_call_t *call, const char *field, const char *phone);

//  An e-mail address (st_email_check).
int registry_require_email (st_call_t *call, const char *field, const char *email);

//  Runs a statement with one text parameter inside the call; *res is the caller's.
int registry_exec_text (st_call_t *call, const char *statement, const char *text, PGresult **res);

//  Runs `statement` into *res (the caller's; NULL when only the row's presence matters) and
//  fails the call as not found, naming `field`, when it returns no row. Returns -1 when the
//  call failed.
int registry_exec_found (st_call_t *call, const char *statement, st_params_t *params,
                         PGresult **res, const char *field, const char *format, ...)
    __attribute__ ((format (printf, 6, 7)));

//  The row of a `kind` ("volunteer", "team", …) by its id given as text: `statement` runs with
//  the id into *res (the caller's), the id into *id. Not found, naming "id", when the text is
//  no id or no row has it.
int registry_row_by_id (st_call_t *call, const char *statement, const char *kind,
                        const char *id_text, int64_t *id, PGresult **res);

//  Runs a statement that inserts, where a conflict means the value of `field` is taken: the
//  call then fails as a conflict with the message given. *res may be NULL.
int registry_exec_unique (st_call_t *call, const char *statement, st_params_t *params,
                          PGresult **res, const char *field, const char *format, ...)
    __attribute__ ((format (printf, 6, 7)));

//  A list field of a message as a text[] parameter, NULL when absent (st_db.h's *_or_null
//  forms for a list).
void registry_text_array_param (st_params_t *params, const st_strs_t *list, bool given);

//  Personal data (the crypto keys are the service's state).

//  Seals a value into `params` (as bytea, owned by the params), and its keyed hash too when
//  `hash` is given.
int registry_seal (st_call_t *call, st_params_t *params, const char *field, const char *value,
                   bool hash);

//  The same for an optional value: NULL binds a NULL (and no hash).
int registry_seal_or_null (st_call_t *call, st_params_t *params, const char *field,
                           const char *value);

//  The keyed hash of a value, for lookups and uniqueness.
void registry_hash (st_call_t *call, const char *field, const char *value,
                    uint8_t out[ST_CRYPTO_HASH_SIZE]);
//  The same of `len` bytes that may hold NUL.
void registry_hash_bytes (st_call_t *call, const char *field, const void *value, size_t len,
                          uint8_t out[ST_CRYPTO_HASH_SIZE]);

//  Opens a sealed column; NULL when it is NULL or does not open. The caller frees.
char *registry_open (st_call_t *call, PGresult *res, int row, int col, const char *field);

//  Opens and masks a sealed column (an ID number or a phone); a value that does not open shows
//  as stars; NULL when the column is NULL. The caller frees.
char *registry_open_masked (st_call_t *call, PGresult *res, int row, int col, const char *field,
                            bool id_number);

//  The same for a sealed e-mail address (field "email"): "z***@example.com".
char *registry_open_email_masked (st_call_t *call, PGresult *res, int row, int col);

#endif
