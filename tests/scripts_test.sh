#!/usr/bin/env bash
# scripts_test.sh — what scripts/lib.sh does with secrets: no password it makes reaches a
# command line (where `ps` shows it to every user), and each one really works.
#
# A psql on PATH records every command line it is given before running the real one; the
# roles lib.sh makes must then log in with their own passwords, none of which may appear
# in what was recorded.
set -euo pipefail
: "${STATION_TEST_PGHOST:?run under scripts/test}"
. "$(dirname "$0")/../scripts/lib.sh"

tmp=$(mktemp -d /tmp/station-scripts-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
mkdir "$tmp/bin"
real=$(command -v psql)
cat > "$tmp/bin/psql" <<SHIM
#!/bin/sh
printf '%s\n' "\$*" >> "$tmp/argv.log"
exec "$real" "\$@"
SHIM
chmod 755 "$tmp/bin/psql"
touch "$tmp/argv.log"; chmod 666 "$tmp/argv.log"
export PATH="$tmp/bin:$PATH"

probe="argv_probe_$$"
STATION_ROLES=$probe st_pg_roles "$STATION_TEST_PGHOST" "$STATION_TEST_PGPORT" "$tmp/pass" >/dev/null
password=$(cut -d: -f5 "$tmp/pass/$probe.pgpass")
[ -n "$password" ] || die "st_pg_roles wrote no password for $probe"
grep -c . "$tmp/argv.log" >/dev/null || die "the psql shim saw no command: the test proves nothing"
if grep -qF "$password" "$tmp/argv.log"; then
    die "a password appeared on psql's command line"
fi
PGPASSFILE="$tmp/pass/$probe.pgpass" "$real" -X -q -h "$STATION_TEST_PGHOST" \
    -p "$STATION_TEST_PGPORT" -U "$probe" -d postgres -tAc "SELECT current_user" >"$tmp/who" ||
    die "the role could not log in with the password lib.sh wrote"
[ "$(cat "$tmp/who")" = "$probe" ] || die "logged in as $(cat "$tmp/who"), not $probe"
st_psql "$STATION_TEST_PGHOST" "$STATION_TEST_PGPORT" postgres -c "DROP ROLE $probe"
echo "scripts_test: no password on a command line; the role logs in with its own"
