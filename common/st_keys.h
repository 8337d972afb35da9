/*  st_keys.h — CURVE keys from the deployment's key directory:
        KEYDIR/public/NAME.cert          public certificates: the allow list
        KEYDIR/secret/NAME.cert_secret   each process's own key pair (mode 0600)
    A certificate carries metadata `name` and `role` (service, operator or gateway); the ZAP
    handler admits only listed keys with a known role and hands name and role to the sockets
    that accept them: a peer's role is what the server's own list says, never the peer.  */
#ifndef ST_KEYS_H_INCLUDED
#define ST_KEYS_H_INCLUDED

#include "st_status.h"

#include <czmq.h>

//  Writes a new key pair for NAME with ROLE. Returns 0, 1 when it already exists (kept), or
//  -1 with err filled.
int st_keys_generate (const char *keydir, const char *name, const char *role, st_error_t *err);

//  Loads NAME's own key pair, or NAME's public certificate; NULL with err filled.
zcert_t *st_keys_secret (const char *keydir, const char *name, st_error_t *err);
zcert_t *st_keys_public (const char *keydir, const char *name, st_error_t *err);

//  Starts the process's ZAP handler over KEYDIR/public. Destroy it last.
zactor_t *st_keys_auth (const char *keydir);

//  Makes a socket a CURVE server with the process's key pair.
void st_keys_server (zsock_t *sock, zcert_t *own);

//  Makes a socket a CURVE client of the server whose public key is given.
void st_keys_client (zsock_t *sock, zcert_t *own, const char *server_public_txt);

//  Returns the role bit (ST_PEER_*) a certificate role name stands for; 0 when unknown.
unsigned st_keys_role_bit (const char *role);

#endif
