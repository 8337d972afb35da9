#!/usr/bin/env bash
# deploy_keys_test.sh — `station keys init --deploy DIR`: one folder per container with only
# what that container may read; the database passwords agree between a service's db.pgpass and
# PostgreSQL's folder; run as root, every folder belongs to the uid its container runs as;
# running it again changes nothing.
set -euo pipefail
: "${STATION_BIN_DIR:?run under ctest}"
dir=$(mktemp -d /tmp/station-deploy-keys-XXXXXX)
trap 'rm -rf "$dir"' EXIT
fail () { echo "deploy_keys_test: $*" >&2; exit 1; }

"$STATION_BIN_DIR/station" keys init --deploy "$dir/keys" >/dev/null
cd "$dir/keys"
files () { find "$1" -type f | sort | tr '\n' ' '; }
[ "$(files registry)" = "registry/db.pgpass registry/pii-hash.key registry/pii.key registry/public/gateway.cert registry/public/ledger.cert registry/public/match.cert registry/public/notify.cert registry/public/operator.cert registry/public/registry.cert registry/secret/registry.cert_secret " ] ||
    fail "registry holds: $(files registry)"
[ "$(files match)" = "match/db.pgpass match/public/gateway.cert match/public/ledger.cert match/public/match.cert match/public/notify.cert match/public/operator.cert match/public/registry.cert match/secret/match.cert_secret " ] ||
    fail "match holds: $(files match)"
[ "$(files operator)" = "operator/public/gateway.cert operator/public/ledger.cert operator/public/match.cert operator/public/notify.cert operator/public/operator.cert operator/public/registry.cert operator/secret/operator.cert_secret " ] ||
    fail "operator holds: $(files operator)"
[ "$(files ledger)" = "ledger/db.pgpass ledger/public/gateway.cert ledger/public/ledger.cert ledger/public/match.cert ledger/public/notify.cert ledger/public/operator.cert ledger/public/registry.cert ledger/secret/ledger.cert_secret " ] ||
    fail "ledger holds: $(files ledger)"
[ "$(files notify)" = "notify/db.pgpass notify/public/gateway.cert notify/public/ledger.cert notify/public/match.cert notify/public/notify.cert notify/public/operator.cert notify/public/registry.cert notify/secret/notify.cert_secret " ] ||
    fail "notify holds: $(files notify)"
[ "$(files gateway)" = "gateway/db.pgpass gateway/public/gateway.cert gateway/public/ledger.cert gateway/public/match.cert gateway/public/notify.cert gateway/public/operator.cert gateway/public/registry.cert gateway/secret/gateway.cert_secret " ] ||
    fail "gateway holds: $(files gateway)"
[ "$(files postgres)" = "postgres/gateway.password postgres/ledger.password postgres/match.password postgres/notify.password postgres/postgres.password postgres/registry.password " ] ||
    fail "postgres holds: $(files postgres)"
for role in registry match ledger notify gateway; do
    [ "$(cut -d: -f4- "$role/db.pgpass")" = "$role:$(cat "postgres/$role.password")" ] ||
        fail "$role's db.pgpass and postgres/$role.password disagree"
done
# Public certificates are the same everywhere; secrets, passwords and folders are private.
cmp -s registry/public/match.cert match/public/match.cert || fail "match's certificate differs"
for f in $(find . -type f ! -path '*/public/*'); do
    [ "$(stat -c %a "$f")" = 600 ] || fail "$f has mode $(stat -c %a "$f")"
done
for d in registry match ledger notify gateway operator postgres; do
    [ "$(stat -c %a "$d")" = 700 ] || fail "folder $d has mode $(stat -c %a "$d")"
done
if [ "$(id -u)" -eq 0 ]; then
    for d in registry match ledger notify gateway operator; do
        [ -z "$(find "$d" ! -uid 10001)" ] || fail "$d is not all uid 10001"
    done
    [ -z "$(find postgres ! -uid 10002)" ] || fail "postgres is not all uid 10002"
fi
before=$(find . -type f -exec sha256sum {} + | sort)
"$STATION_BIN_DIR/station" keys init --deploy "$dir/keys" >/dev/null
[ "$(find . -type f -exec sha256sum {} + | sort)" = "$before" ] || fail "a second run changed files"
echo "deploy_keys_test: passed"
