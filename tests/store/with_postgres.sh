#!/usr/bin/env bash
# Runs a command against a throwaway PostgreSQL server: initdb into a temporary folder as
# the postgres user (initdb refuses root), listening on 127.0.0.1 and a socket in that
# folder, fsync off; ONEPATH_TEST_PG_DSN names it. The server is stopped and the folder
# removed on the way out, also when the command fails.
set -euo pipefail
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$bin/initdb" ] || { echo "with_postgres: PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }
as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
dir=$(mktemp -d /tmp/onepath-pg.XXXXXX)
chmod 755 "$dir"
[ "$(id -u)" -eq 0 ] && chown postgres "$dir"
port=$(( 20000 + RANDOM % 20000 ))
stop() {
  as_postgres "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap stop EXIT
as_postgres "$bin/initdb" -D "$dir/data" --auth=trust -U postgres >"$dir/initdb.log" 2>&1 ||
  { cat "$dir/initdb.log" >&2; exit 1; }
as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off" start >/dev/null ||
  { cat "$dir/server.log" >&2; exit 1; }
as_postgres "$bin/createdb" -h "$dir" -p "$port" -U postgres onepath_test
export ONEPATH_TEST_PG_DSN="postgresql://postgres@127.0.0.1:$port/onepath_test"
"$@"
