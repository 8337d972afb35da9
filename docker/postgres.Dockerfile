# docker/postgres.Dockerfile — PostgreSQL 15 from Debian's own packages, as a fixed uid, with
# an entry point that bootstraps Station's database from the password files it is given.
#   podman build -f docker/postgres.Dockerfile -t localhost/station-postgres .
# BASE may name the official image instead (docker.io/library/postgres:15): its server is
# kept and only the uid and the entry point change.
ARG BASE=docker.io/library/debian:12
FROM ${BASE}
# The uid `station keys init --deploy` gives the postgres key folder to: set before the
# packages make the user, or moved to it where the base image made it already.
RUN if id postgres >/dev/null 2>&1; then \
        usermod --uid 10002 postgres && groupmod --gid 10002 postgres \
        && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql; \
    else \
        groupadd --gid 10002 postgres \
        && useradd --uid 10002 --gid 10002 --home-dir /var/lib/postgresql --shell /bin/sh postgres; \
    fi \
    && if [ ! -x /usr/lib/postgresql/15/bin/postgres ]; then \
        apt-get update && apt-get install -y --no-install-recommends postgresql-15 \
        && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt /var/log/dpkg.log; \
    fi \
    && mkdir -p /var/lib/postgresql/data /var/run/postgresql \
    && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql
COPY docker/postgres-entrypoint.sh /usr/local/bin/station-postgres
USER 10002:10002
ENV PGDATA=/var/lib/postgresql/data/pg
ENTRYPOINT ["/usr/local/bin/station-postgres"]
