# lib.sh — what scripts/run and scripts/test share: packages, the build, a private PostgreSQL
# cluster. Sourced, never run. Functions print what they do and fail loudly.

STATION_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATION_SERVICES="registry match ledger notify gateway" # started in this order; each owns one schema
STATION_ROLES="registry match ledger notify gateway"
STATION_PACKAGES="build-essential cmake pkg-config clang clang-format libclang-rt-14-dev valgrind
    libzmq3-dev libczmq-dev libpq-dev libmsgpack-dev libsodium-dev libmicrohttpd-dev
    libjansson-dev libcurl4-openssl-dev libcmocka-dev liblemon-dev postgresql postgresql-contrib
    libqrencode-dev libpng-dev zlib1g-dev prometheus python3-aiosmtpd openssl wrk"

say () { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die () { printf 'error: %s\n' "$*" >&2; exit 1; }

# Installs whatever of STATION_PACKAGES is missing (apt-get, as root).
st_install_packages () {
    local missing=()
    for p in $STATION_PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    # Packages are for their files: no daemon they bring (PostgreSQL's default cluster,
    # Prometheus) is started by the install (policy-rc.d, as Debian's own images use it).
    local policy=/usr/sbin/policy-rc.d added=""
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null && $sudo chmod 755 "$policy" && added=1
    fi
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    [ -z "$added" ] || $sudo rm -f "$policy"
}

# st_install_node_tools: the checkers some tests run (tests/js: an OpenAPI validator, Standard
# Webhooks), at the versions package-lock.json pins; Debian's nodejs and npm where there is no npm.
st_install_node_tools () {
    local dir=$STATION_ROOT/tests/js
    if ! command -v npm >/dev/null; then
        STATION_PACKAGES="nodejs npm" st_install_packages
    fi
    if [ ! -f "$dir/node_modules/.package-lock.json" ] ||
       [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
        say "installing the tests' node tools (tests/js, pinned by package-lock.json)"
        (cd "$dir" && npm ci --no-audit --no-fund --silent) || die "npm ci in tests/js failed"
    fi
}

# st_build DIR [cmake args...]: configures and builds into DIR.
st_build () {
    local dir=$1; shift
    say "building in ${dir#"$STATION_ROOT"/}"
    mkdir -p "$dir"
    if ! { cmake -S "$STATION_ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" &&
           cmake --build "$dir" -j "$(nproc)"; } >"$dir/build.log" 2>&1; then
        grep -E 'error|Error' "$dir/build.log" | head -n 40 >&2
        die "build failed (whole log: ${dir#"$STATION_ROOT"/}/build.log)"
    fi
}

st_pg_bin () {
    local bin
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -n "$bin" ] || die "PostgreSQL server binaries not found (package postgresql)"
    echo "$bin"
}

# PostgreSQL refuses to run as root: as root the cluster belongs to the "postgres" user.
st_pg_user () { if [ "$(id -u)" -eq 0 ]; then echo postgres; else id -un; fi; }
st_as_pg () {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# st_pg_init DATADIR: a new cluster listening only on a socket inside DATADIR; the
# superuser authenticates by peer, every other role by password (scram-sha-256).
st_pg_init () {
    local data=$1 bin
    bin=$(st_pg_bin)
    mkdir -p "$data"
    data=$(cd "$data" && pwd)   # the socket path in postgresql.conf must be absolute
    [ "$(id -u)" -eq 0 ] && chown postgres: "$data"
    chmod 700 "$data"
    st_as_pg "$bin/initdb" -D "$data" -U "$(st_pg_user)" -E UTF8 --locale=C.UTF-8 \
        --auth-local=peer --auth-host=reject >/dev/null
    cat <<CONF | st_as_pg tee -a "$data/postgresql.conf" >/dev/null
listen_addresses = ''
unix_socket_directories = '$data'
unix_socket_permissions = 0770
max_connections = 200
shared_buffers = 256MB
fsync = ${STATION_PG_FSYNC:-on}
log_min_messages = warning
timezone = 'Asia/Shanghai'
CONF
    printf 'local all %s peer\nlocal all all scram-sha-256\n' "$(st_pg_user)" |
        st_as_pg tee "$data/pg_hba.conf" >/dev/null
}

# st_pg_start DATADIR PORT
st_pg_start () {
    local data=$1 port=$2
    st_as_pg "$(st_pg_bin)/pg_ctl" -D "$data" -o "-p $port" -l "$data/server.log" -w -t 60 start >/dev/null ||
        { cat "$data/server.log" >&2; die "PostgreSQL did not start"; }
}

st_pg_stop () {
    local data=$1
    [ -f "$data/postmaster.pid" ] || return 0
    st_as_pg "$(st_pg_bin)/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
}

# st_psql DATADIR PORT DB SQL...: runs SQL as the cluster's superuser.
st_psql () {
    local data=$1 port=$2 db=$3; shift 3
    st_as_pg psql -X -q -v ON_ERROR_STOP=1 -h "$data" -p "$port" -d "$db" "$@"
}

# st_pg_roles DATADIR PORT PASSDIR: one login role per service with a random password,
# written to PASSDIR/ROLE.pgpass (mode 0600) for that service alone.
st_pg_roles () {
    local data=$1 port=$2 passdir=$3 role password
    mkdir -p "$passdir"; chmod 700 "$passdir"
    for role in $STATION_ROLES; do
        password=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
        # The SQL goes on standard input: an argument would show the password in `ps`.
        st_psql "$data" "$port" postgres <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$role') THEN
    CREATE ROLE $role LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;
  END IF;
END \$\$;
ALTER ROLE $role PASSWORD '$password';
SQL
        (umask 077; echo "*:*:*:$role:$password" > "$passdir/$role.pgpass")
    done
}

# st_pg_upgrade DATADIR PORT PASSDIR DB: the roles and schemas of services added since the
# cluster was made (a data folder of an older Station), each with its own password.
st_pg_upgrade () {
    local data=$1 port=$2 passdir=$3 db=$4 role
    for role in $STATION_ROLES; do
        [ -f "$passdir/$role.pgpass" ] && continue
        say "adding the database role of $role"
        STATION_ROLES=$role st_pg_roles "$data" "$port" "$passdir"
        st_psql "$data" "$port" "$db" -c "GRANT CONNECT ON DATABASE $db TO $role;
            CREATE SCHEMA IF NOT EXISTS $role AUTHORIZATION $role;"
    done
}

# st_pg_database DATADIR PORT DB: a database where each service owns its schema and can
# reach nothing else.
st_pg_database () {
    local data=$1 port=$2 db=$3 role
    st_psql "$data" "$port" postgres -c "CREATE DATABASE $db"
    st_psql "$data" "$port" "$db" -c "REVOKE ALL ON DATABASE $db FROM PUBLIC;
        REVOKE ALL ON SCHEMA public FROM PUBLIC;"
    for role in $STATION_ROLES; do
        st_psql "$data" "$port" "$db" -c "GRANT CONNECT ON DATABASE $db TO $role;
            CREATE SCHEMA $role AUTHORIZATION $role;"
    done
    # match's exclusion constraint (no overlapping commitments) needs btree_gist, which only a
    # superuser may create: here, in match's own schema.
    st_psql "$data" "$port" "$db" -c "CREATE EXTENSION IF NOT EXISTS btree_gist SCHEMA match"
}

# st_test_cluster DIR: a throwaway cluster for tests and benchmarks (fsync off), with the
# service roles and a superuser "station_test", all by password from DIR/pgpass; exports
# what the test harness reads (PGPASSFILE, STATION_TEST_PG*).
st_test_cluster () {
    local dir=$1 port password
    port=$(( 56000 + $$ % 4000 ))
    chmod 755 "$dir"
    say "starting a throwaway PostgreSQL cluster"
    STATION_PG_FSYNC=off st_pg_init "$dir/pg"
    st_pg_start "$dir/pg" "$port"
    st_pg_roles "$dir/pg" "$port" "$dir/pass"
    password=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
    st_psql "$dir/pg" "$port" postgres <<<"CREATE ROLE station_test LOGIN SUPERUSER PASSWORD '$password'"
    cat "$dir"/pass/*.pgpass > "$dir/pgpass"
    echo "*:*:*:station_test:$password" >> "$dir/pgpass"
    chmod 600 "$dir/pgpass"
    export PGPASSFILE=$dir/pgpass STATION_TEST_PGHOST=$dir/pg STATION_TEST_PGPORT=$port
    export STATION_TEST_PGUSER=station_test
}
