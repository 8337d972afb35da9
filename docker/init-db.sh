#!/bin/sh
# init-db.sh — the database, one login role and one schema per service, nothing shared.
set -e
for role in registry match ledger notify; do
    password=$(cut -d: -f5 "/etc/station/keys/db/$role.pgpass" 2>/dev/null || echo "")
    psql -v ON_ERROR_STOP=1 -U postgres <<SQL
CREATE ROLE $role LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '$password';
SQL
done
psql -v ON_ERROR_STOP=1 -U postgres -c "CREATE DATABASE station"
for role in registry match ledger notify; do
    psql -v ON_ERROR_STOP=1 -U postgres -d station \
        -c "GRANT CONNECT ON DATABASE station TO $role; CREATE SCHEMA $role AUTHORIZATION $role"
done
psql -v ON_ERROR_STOP=1 -U postgres -d station \
    -c "REVOKE ALL ON DATABASE station FROM PUBLIC; REVOKE ALL ON SCHEMA public FROM PUBLIC" \
    -c "CREATE EXTENSION IF NOT EXISTS btree_gist SCHEMA match"
