#!/usr/bin/env bash
# Runs a command against a throwaway PostgreSQL server on loopback, installing
# PostgreSQL from Debian's packages if it is missing. The command sees
# EXPORTCTL_TEST_POSTGRES_URL (a database it may create others from).
#   scripts/with-postgres.sh cargo test -p exportctl-tests --test it postgres::
set -euo pipefail

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

if [[ -z "$(pg_bin)" ]]; then
    echo "with-postgres: installing PostgreSQL from Debian packages" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq postgresql >/dev/null
fi
BIN="$(pg_bin)"

DATA="$(mktemp -d /tmp/exportctl-pg.XXXXXX)"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
as_pg() {
    if [[ $(id -u) -eq 0 ]]; then
        su postgres -s /bin/bash -c "$*"
    else
        bash -c "$*"
    fi
}
[[ $(id -u) -eq 0 ]] && chown postgres "$DATA"

cleanup() {
    as_pg "'$BIN/pg_ctl' -D '$DATA' -m fast stop" >/dev/null 2>&1 || true
    rm -rf "$DATA"
}
trap cleanup EXIT

as_pg "'$BIN/initdb' -D '$DATA' -A trust -U postgres" >/dev/null
as_pg "'$BIN/pg_ctl' -D '$DATA' -l '$DATA/server.log' -w -o \"-p $PORT -k '$DATA' -c listen_addresses=127.0.0.1 -c fsync=on\" start" >/dev/null
as_pg "'$BIN/createdb' -h 127.0.0.1 -p $PORT -U postgres exportctl"

export EXPORTCTL_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$PORT/exportctl"
echo "with-postgres: PostgreSQL $("$BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT" >&2
"$@"
