/*  registry_main.c — the registry service: regions, sites, teams, volunteers, residents,
    accounts (architecture.md, "Services"), one table assembled from its parts (registry.h)  */
#include "registry.h"
#include "registry_store.h"
#include "st_crypto.h"
#include "st_log.h"
#include "st_service.h"

extern const st_migration_t registry_migrations[];
extern const size_t registry_migrations_count;

//  Sign-in throttling (registry_accounts.c): after a few failures in a row each attempt at a
//  login waits, longer after each failure but never past the cap, so that guessing is slow
//  and the right password is never kept out for long.
static const st_option_t s_options[] = {
    ST_OPTION_WHOLE ("login-free-failures", "STATION_LOGIN_FREE_FAILURES", "3", 1, 1000,
                     "failed sign-ins in a row at one login before further attempts must wait"),
    ST_OPTION_WHOLE ("login-delay-ms", "STATION_LOGIN_DELAY_MS", "1000", 1, 3600000,
                     "the first wait between attempts at one login (ms); doubles per failure"),
    ST_OPTION_WHOLE ("login-delay-max-ms", "STATION_LOGIN_DELAY_MAX_MS", "60000", 1, 3600000,
                     "the longest wait between attempts at one login (ms), however many failed"),
    ST_OPTION_WHOLE ("login-quiet-ms", "STATION_LOGIN_QUIET_MS", "900000", 1000, 86400000,
                     "a run of failed sign-ins at one login ends once this long (ms) passes"
                     " without one; then none of it counts"),
};

//  Seals the residents' addresses still in clear (written before migration 0021), a batch
//  per transaction, so that none is left once the service answers. Replicas starting together
//  share the work (SKIP LOCKED). Returns 0, or -1 with err filled.
static int
s_seal_plain_addresses (st_db_t *db, st_crypto_t *crypto, st_error_t *err)
{
    size_t sealed = 0;
    while (true) {
        PGresult *res = NULL;
        st_status_t rc = st_db_run (db, "BEGIN", err);
        if (rc == ST_OK)
            rc = st_db_exec (db, "resident_addresses_plain", NULL, &res, err);
        int rows = rc == ST_OK ? PQntuples (res) : 0;
        for (int i = 0; i < rows && rc == ST_OK; i++) {
            const char *address = PQgetvalue (res, i, 1);
            uint8_t *box;
            size_t box_len;
            if (st_crypto_seal (crypto, "address", address, strlen (address), &box, &box_len)) {
                st_error_set (err, ST_INTERNAL, NULL, "could not encrypt a resident's address");
                rc = ST_INTERNAL;
                break;
            }
            st_params_t params = {0};
            st_params_text (&params, PQgetvalue (res, i, 0));
            st_params_bin_take (&params, box, box_len);
            rc = st_db_exec (db, "resident_address_seal", &params, NULL, err);
            st_params_clear (&params);
        }
        PQclear (res);
        if (st_db_finish (db, rc, err, "sealing residents' addresses")) {
            if (rc == ST_OK)
                st_error_set (err, ST_UNAVAILABLE, NULL,
                              "could not commit the residents' addresses sealed");
            return -1;
        }
        sealed += (size_t) rows;
        if (rows == 0)
            break;
    }
    if (sealed)
        st_info ("sealed %zu residents' addresses kept in clear before", sealed);
    return 0;
}

static int
s_init (st_service_t *service, st_error_t *err)
{
    registry_store_prepare (st_service_db (service));
    st_crypto_t *crypto = st_crypto_load (st_service_option (service, "keys"), err);
    if (!crypto)
        return -1;
    if (s_seal_plain_addresses (st_service_db (service), crypto, err)) {
        st_crypto_destroy (&crypto);
        return -1;
    }
    registry_state_t *state = st_calloc (1, sizeof *state);
    state->crypto = crypto;
    state->login_free_failures = st_service_whole (service, "login-free-failures");
    state->login_delay_ms = st_service_whole (service, "login-delay-ms");
    state->login_delay_max_ms = st_service_whole (service, "login-delay-max-ms");
    state->login_quiet_ms = st_service_whole (service, "login-quiet-ms");
    st_service_set_state (service, state);
    return 0;
}

static void
s_fini (st_service_t *service)
{
    registry_state_t *state = st_service_state (service);
    if (state)
        st_crypto_destroy (&state->crypto);
    free (state);
}

int
main (int argc, char **argv)
{
    const st_part_t parts[] = {
        {registry_volunteers_routes, &registry_volunteers_route_count},
        {registry_regions_routes, &registry_regions_route_count},
        {registry_accounts_routes, &registry_accounts_route_count},
        {registry_import_routes, &registry_import_route_count},
        {registry_contacts_routes, &registry_contacts_route_count},
    };
    st_service_def_t def = {
        .name = "registry",
        .summary = "Station registry service: volunteers, residents, teams, regions, accounts",
        .migrations = registry_migrations,
        .migration_count = registry_migrations_count,
        .parts = parts,
        .part_count = sizeof parts / sizeof parts[0],
        .options = s_options,
        .option_count = sizeof s_options / sizeof s_options[0],
        .init = s_init,
        .fini = s_fini,
    };
    return st_service_main (&def, argc, argv);
}
