#!/bin/sh
# station-postgres — PostgreSQL for a Station container deploy. Reads the passwords that
# `station keys init --deploy` made (mounted at $STATION_DB_SECRETS: postgres.password and
# ROLE.password for each service role), makes the cluster on first start, brings roles,
# database, schemas and extension to what Station needs (what exists is kept; a password is set
# again only when its file changed), then runs the server. Passwords reach psql through
# standard input and psql's own variables, never a command line.
set -eu
SECRETS=${STATION_DB_SECRETS:-/run/station/db}
ROLES=${STATION_DB_ROLES:-registry match ledger notify gateway}
BIN=/usr/lib/postgresql/15/bin
STATE=$PGDATA/station

die () { echo "station-postgres: $*" >&2; exit 1; }
# One line of SQL for psql (dash's echo would read "\c" as an escape).
say () { printf '%s\n' "$*"; }

# A secret must be there, readable by this container's uid, and not empty.
need () {
    [ -e "$1" ] || die "missing $1 (make it with: station keys init --deploy DIR)"
    [ -r "$1" ] || die "cannot read $1: permission denied (this container runs as uid $(id -u);" \
        "the file belongs to uid $(stat -c %u "$1") with mode $(stat -c %a "$1"))"
    [ -s "$1" ] || die "$1 is empty"
}
need "$SECRETS/postgres.password"
for role in $ROLES; do need "$SECRETS/$role.password"; done

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    echo "station-postgres: first start: making the cluster in $PGDATA"
    mkdir -p "$PGDATA" && chmod 700 "$PGDATA"
    "$BIN/initdb" -D "$PGDATA" -U postgres -E UTF8 --locale=C.UTF-8 --auth-local=peer \
        --auth-host=scram-sha-256 --pwfile="$SECRETS/postgres.password" >/dev/null
    echo "listen_addresses = '*'" >> "$PGDATA/postgresql.conf"
    # The superuser only over the local socket; each service role only to database station.
    {
        echo "local all postgres peer"
        echo "host station $(echo $ROLES | tr ' ' ',') all scram-sha-256"
    } > "$PGDATA/pg_hba.conf"
fi
mkdir -p "$STATE" && chmod 700 "$STATE"

# The bootstrap runs on a private socket with no network listener.
"$BIN/pg_ctl" -D "$PGDATA" -o "-c listen_addresses= -c unix_socket_directories=/tmp" -w \
    -l "$PGDATA/bootstrap.log" start >/dev/null || { cat "$PGDATA/bootstrap.log" >&2; exit 1; }
{
    say "SELECT 'CREATE DATABASE station' WHERE NOT EXISTS"
    say "    (SELECT FROM pg_database WHERE datname = 'station') \\gexec"
    for role in $ROLES; do
        say "SELECT format ('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT',"
        say "    '$role') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$role') \\gexec"
        sum=$(sha256sum < "$SECRETS/$role.password" | cut -c1-64)
        if [ "$(cat "$STATE/$role.sum" 2>/dev/null)" != "$sum" ]; then
            say "\\set password \`cat $SECRETS/$role.password\`"
            say "ALTER ROLE $role PASSWORD :'password';"
            say "\\unset password"
        fi
    done
    say "\\c station"
    say "REVOKE ALL ON DATABASE station FROM PUBLIC;"
    say "REVOKE ALL ON SCHEMA public FROM PUBLIC;"
    for role in $ROLES; do
        say "GRANT CONNECT ON DATABASE station TO $role;"
        say "CREATE SCHEMA IF NOT EXISTS $role AUTHORIZATION $role;"
    done
    # match's exclusion constraint (no overlapping commitments) needs btree_gist, which only
    # a superuser may create: here, in match's own schema.
    say "CREATE EXTENSION IF NOT EXISTS btree_gist SCHEMA match;"
} | psql -X -q -v ON_ERROR_STOP=1 -h /tmp -U postgres -d postgres >/dev/null ||
    { "$BIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null; die "could not bootstrap the database"; }
for role in $ROLES; do
    sha256sum < "$SECRETS/$role.password" | cut -c1-64 > "$STATE/$role.sum"
done
"$BIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
echo "station-postgres: database station ready for: $ROLES"
exec "$BIN/postgres" -D "$PGDATA"
