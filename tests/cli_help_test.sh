#!/usr/bin/env bash
# cli_help_test.sh — the station CLI's manners (issue 22): `station --help` and `station help`
# list every command, the options and the exit codes; every command answers --help (and
# `station help COMMAND`) with its usage, exit 0; an unknown command or missing arguments exit
# 2; --json makes the commands that print text print JSON; a service that does not answer
# exits 3, a request refused before it is sent exits 1.
set -euo pipefail
# Debian's own python3, not a version manager's shim in PATH (seconds per start).
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
: "${STATION_BIN_DIR:?run under ctest}"
station=$STATION_BIN_DIR/station
dir=$(mktemp -d /tmp/station-cli-help-XXXXXX)
trap 'rm -rf "$dir"' EXIT
fail () { echo "cli_help_test: $*" >&2; exit 1; }
# Runs station with the arguments given; its output in $out, its exit status in $rc.
run () { set +e; out=$("$station" "$@" 2>"$dir/stderr"); rc=$?; set -e; }
expect () { [ "$rc" = "$1" ] || fail "station ${*:2}: exit $rc, not $1 (out: $out; err: $(cat "$dir/stderr"))"; }
json () { printf '%s' "$out" | "$PY" -c "import json, sys; d = json.load (sys.stdin); $1" ||
    fail "not the JSON expected ($1): $out"; }

commands=("keys init" keygen call ping "volunteer register" "volunteer get" "volunteer import"
    "supply stats" "ledger statement" "ledger audit" "store items" redemptions events parked
    inbox deliveries help)

# The whole help: every command, the options, the exit codes 0 to 3.
run --help; expect 0 --help
whole=$out
for c in "${commands[@]}"; do
    grep -q "^  $c" <<<"$whole" || fail "station --help does not list \"$c\""
done
for option in --keys --key --as --timeout --json --help; do
    grep -q -- "^  $option" <<<"$whole" || fail "station --help does not list option $option"
done
grep -q '^Exit codes:' <<<"$whole" || fail "station --help has no exit codes"
for code in 0 1 2 3; do
    grep -q "^  $code  " <<<"$whole" || fail "station --help does not explain exit code $code"
done
run help; expect 0 help
[ "$out" = "$whole" ] || fail "station help differs from station --help"
run -h; expect 0 -h

# Every command's own help, by --help after it and by station help COMMAND: the same text.
for c in "${commands[@]}"; do
    read -r -a words <<<"$c"
    run "${words[@]}" --help; expect 0 "$c" --help
    grep -q "^usage: station \[OPTIONS\] $c" <<<"$out" || fail "station $c --help: $out"
    own=$out
    run help "${words[@]}"; expect 0 help "$c"
    [ "$out" = "$own" ] || fail "station help $c differs from station $c --help"
done
# --help wins over arguments, even those a command would refuse.
run call registry volunteer.get '{' --help; expect 0 call --help
grep -q '^usage: station \[OPTIONS\] call SERVICE OP' <<<"$out" || fail "call --help: $out"
run volunteer --help; expect 0 volunteer --help
[ "$(grep -c '^usage: station \[OPTIONS\] volunteer ' <<<"$out")" = 3 ] ||
    fail "station volunteer --help does not show its three commands: $out"
run help --json; expect 0 help --json
json 'assert len (d["commands"]) == 17 and sorted (d["exit_codes"]) == ["0", "1", "2", "3"]'
run keygen --help --json; expect 0 keygen --help --json
json 'assert d["commands"][0]["command"] == "keygen" and d["commands"][0]["args"] == "NAME ROLE"'

# Bad usage: 2, with a message on standard error.
run help no-such-command; expect 2 help no-such-command
grep -q 'no command "no-such-command"' "$dir/stderr" || fail "help of an unknown command: $(cat "$dir/stderr")"
run no-such-command; expect 2 no-such-command
run keygen onlyname; expect 2 keygen onlyname
run; expect 2 "(nothing)"
run --timeout; expect 2 --timeout

# --json where a command prints text: before or after the command.
run --keys "$dir/keys" keys init; expect 0 keys init
[ "$out" = "keys ready in $dir/keys" ] || fail "keys init: $out"
run --keys "$dir/keys" --json keys init; expect 0 --json keys init
json "assert d == {'keys': '$dir/keys', 'ready': True}"
run --keys "$dir/keys" keygen probe service --json; expect 0 keygen --json
json "assert d == {'key': 'probe', 'written': True}"
run --keys "$dir/keys" keygen probe service --json; expect 0 keygen again --json
json "assert d == {'key': 'probe', 'written': False}"
run --keys "$dir/keys" keygen probe service; expect 0 keygen again
[ "$out" = 'key "probe" exists already' ] || fail "keygen: $out"
run --json keys init --deploy "$dir/deploy"; expect 0 keys init --deploy --json
json "assert d['deploy'] == '$dir/deploy' and d['ready'] is True and isinstance (d['chown_needed'], bool)"

# A service nobody answers for: 3, the error printed as JSON with --json. A request refused
# before it is sent (no such op, no JSON): 1, as before.
port=$("$PY" -c 'import socket; s = socket.socket (); s.bind (("127.0.0.1", 0)); print (s.getsockname ()[1])')
export STATION_REGISTRY_RPC=tcp://127.0.0.1:$port
run --keys "$dir/keys" --timeout 300 ping registry --json; expect 3 ping registry --json
json 'assert d["code"] == "unavailable"'
# Without --json the error is for a person: one line on standard error, nothing on standard
# output; call's errors stay JSON (the raw op, for scripts).
run --keys "$dir/keys" --timeout 300 ping registry; expect 3 ping registry
[ -z "$out" ] || fail "ping registry printed on standard output: $out"
[ "$(wc -l <"$dir/stderr")" = 1 ] && grep -q '^station: .*' "$dir/stderr" ||
    fail "ping registry: not one line on standard error: $(cat "$dir/stderr")"
run --keys "$dir/keys" --timeout 300 call registry volunteer.get '{"id": "1"}' --json; expect 3 call --json
run --keys "$dir/keys" call registry no.such.op; expect 1 call no.such.op
json 'assert d["code"] == "invalid_argument" and d["field"] == "op"'
run --keys "$dir/keys" call registry volunteer.get '{"id": '; expect 1 call with bad JSON
run --keys "$dir/keys" call registry volunteer.get '{"id": 7}'; expect 1 call with a bad field
json 'assert d["field"] == "id"'
echo "cli_help_test: passed"
