# scripts/chaos.d/containers.sh — `scripts/chaos --containers` (issue 25), sourced by
# scripts/chaos with SECONDS_RUN set: builds the images as scripts/deploy-test does, makes the
# deploy's keys, runs chaos.py against the stack (scripts/chaos.d/containers.py) and takes the
# stack down on exit. Sets RESULT.
PROJECT=station-chaos
if command -v podman >/dev/null && command -v podman-compose >/dev/null; then
    ENGINE=podman COMPOSE=(podman-compose -p "$PROJECT")
elif command -v docker >/dev/null && docker info >/dev/null 2>&1; then
    ENGINE=docker COMPOSE=(docker compose -p "$PROJECT")
else
    echo "chaos: --containers skipped: neither podman (with podman-compose) nor a running docker"
    RESULT=0
    return 0
fi
command -v python3 >/dev/null || die "python3 is missing"

DIR=$(mktemp -d /tmp/station-chaos-containers-XXXXXX)
RESULT=1
STARTED=$(date +%s)
containers_cleanup () {
    if [ -n "${STATION_CHAOS_KEEP:-}" ]; then
        echo "chaos: stack $PROJECT and folder $DIR kept (remove: cd $DIR &&" \
            "${COMPOSE[*]} -f compose.json down -v; $ENGINE rm -f $PROJECT-operator;" \
            "$ENGINE network rm $PROJECT""_default)" >&2
        return
    fi
    if [ -f "$DIR/compose.json" ]; then
        (cd "$DIR" && "${COMPOSE[@]}" -f compose.json down -v >/dev/null 2>&1) || true
    fi
    "$ENGINE" rm -f "$PROJECT-operator" >/dev/null 2>&1 || true
    "$ENGINE" network rm -f "${PROJECT}_default" >/dev/null 2>&1 || true
    # The keys belong to the containers' uids: removed as whoever we are (root here).
    if [ "$RESULT" -eq 0 ]; then
        rm -rf "$DIR"
    else
        echo "chaos: logs kept in $DIR (the containers' in DIR/NAME.log)" >&2
    fi
}
trap containers_cleanup EXIT
trap 'exit 130' INT TERM

if [ "$ENGINE" = podman ]; then
    # runc, and limits no higher than this machine's hard ones (as scripts/deploy-test).
    cat > "$DIR/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=$(ulimit -Hn):$(ulimit -Hn)", "nproc=4096:4096"]
[engine]
runtime = "runc"
CONF
    export CONTAINERS_CONF=$DIR/containers.conf
fi

# The base image: the one named, Debian's from a registry, or one made from the archive.
if [ -z "${STATION_BASE_IMAGE:-}" ]; then
    if "$ENGINE" image inspect localhost/station-base:bookworm >/dev/null 2>&1; then
        STATION_BASE_IMAGE=localhost/station-base:bookworm
    elif timeout 60 "$ENGINE" pull -q docker.io/library/debian:12 >/dev/null 2>&1; then
        STATION_BASE_IMAGE=docker.io/library/debian:12
    else
        STATION_BASE_IMAGE=localhost/station-base:bookworm
        command -v mmdebstrap >/dev/null || die "no image registry reachable and no mmdebstrap"
        say "making a Debian 12 base image from the archive (mmdebstrap)"
        mmdebstrap --quiet --variant=minbase bookworm "$DIR/base.tar"
        "$ENGINE" import -q "$DIR/base.tar" "$STATION_BASE_IMAGE" >/dev/null
        rm -f "$DIR/base.tar"
    fi
fi
export STATION_BASE_IMAGE STATION_POSTGRES_BASE_IMAGE=${STATION_POSTGRES_BASE_IMAGE:-$STATION_BASE_IMAGE}
export STATION_SOURCE=$STATION_ROOT

say "building the images from $STATION_BASE_IMAGE ($ENGINE)"
mkdir -p "$DIR/build"
cp docker/compose.yml "$DIR/build/"
(cd "$DIR/build" && "${COMPOSE[@]}" build) >"$DIR/build.log" 2>&1 ||
    { tail -n 30 "$DIR/build.log" >&2; die "build failed"; }
say "images built in $(( $(date +%s) - STARTED )) s"

mkdir -p "$DIR/keys"
"$ENGINE" run --rm --user 0 -v "$DIR/keys:/keys" localhost/station station keys init --deploy /keys \
    >"$DIR/keys.log" 2>&1 || { cat "$DIR/keys.log" >&2; die "no keys"; }

set +e
CHAOS_DIR=$DIR CHAOS_SECONDS=$SECONDS_RUN CHAOS_CONTAINERS=$ENGINE CHAOS_SOURCE=$STATION_ROOT \
    python3 "$STATION_ROOT/scripts/chaos.py"
RESULT=$?
set -e
say "--containers run took $(( $(date +%s) - STARTED )) s in all (images included)"
