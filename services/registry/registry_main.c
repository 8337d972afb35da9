/*  registry_main.c — the registry service: regions, sites, teams, volunteers, residents,
    accounts (architecture.md, "Services")  */
#include "registry_server.h"
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
    //  One route table for the server, from the tables of registry's parts.
    st_route_t routes[registry_route_count + registry_import_route_count];
    size_t count = 0;
    for (size_t i = 0; i < registry_route_count; i++)
        routes[count++] = registry_routes[i];
    for (size_t i = 0; i < registry_import_route_count; i++)
        routes[count++] = registry_import_routes[i];
    st_service_def_t def = {
        .name = "registry",
        .summary = "Station registry service: volunteers, residents, teams, regions, accounts",
        .migrations = registry_migrations,
        .migration_count = registry_migrations_count,
        .routes = routes,
        .route_count = count,
        .init = s_init,
        .fini = s_fini,
    };
    return st_service_main (&def, argc, argv);
}
