/*  registry_main.c — the registry service: regions, sites, teams, volunteers, residents,
    accounts (architecture.md, "Services"), one table assembled from its parts (registry.h)  */
#include "registry.h"
#include "registry_store.h"
#include "st_crypto.h"
#include "st_service.h"

extern const st_migration_t registry_migrations[];
extern const size_t registry_migrations_count;

static int
s_init (st_service_t *service, st_error_t *err)
{
    registry_store_prepare (st_service_db (service));
    st_crypto_t *crypto = st_crypto_load (st_service_option (service, "keys"), err);
    if (!crypto)
        return -1;
    st_service_set_state (service, crypto);
    //  Registry's replies carry names, birth dates and contacts: stored ones are sealed too.
    st_service_set_sealer (service, crypto);
    return 0;
}

static void
s_fini (st_service_t *service)
{
    st_crypto_t *crypto = st_service_state (service);
    st_crypto_destroy (&crypto);
}

int
main (int argc, char **argv)
{
    const st_part_t parts[] = {
        {registry_volunteers_routes, &registry_volunteers_route_count},
        {registry_regions_routes, &registry_regions_route_count},
        {registry_accounts_routes, &registry_accounts_route_count},
        {registry_import_routes, &registry_import_route_count},
    };
    st_service_def_t def = {
        .name = "registry",
        .summary = "Station registry service: volunteers, residents, teams, regions, accounts",
        .migrations = registry_migrations,
        .migration_count = registry_migrations_count,
        .parts = parts,
        .part_count = sizeof parts / sizeof parts[0],
        .init = s_init,
        .fini = s_fini,
    };
    return st_service_main (&def, argc, argv);
}
