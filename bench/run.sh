#!/usr/bin/env bash
# Runs the benchmarks: the Go micro-benchmarks, then jobsbench on private
# emulators beside a private Redis (for Asynq) and PostgreSQL (for River),
# each on a Unix socket in a temporary directory, stopped at the end.
# Installs redis-server and postgresql from Debian when they are missing.
# Writes bench/results/. Used by `make bench`.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
results="$here/results"
mkdir -p "$results"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
[ -n "$(pg_bin)" ] || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  echo "bench: installing ${missing[*]} from Debian" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/jobs-bench.XXXXXX")"
chmod 755 "$work"
pg="$(pg_bin)"
# PostgreSQL refuses to run as root: then it runs as the postgres user.
pg_user="$(id -un)"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && pg_user=postgres

cleanup() {
  [ -f "$work/redis.pid" ] && kill "$(cat "$work/redis.pid")" 2>/dev/null || true
  [ -f "$work/pg/postmaster.pid" ] && as_pg "$pg/pg_ctl" -D "$work/pg" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "bench: starting Redis and PostgreSQL in $work" >&2
redis-server --port 0 --unixsocket "$work/redis.sock" --unixsocketperm 700 --save '' --appendonly no \
  --daemonize yes --pidfile "$work/redis.pid" --logfile "$work/redis.log" --dir "$work"
mkdir "$work/pg" "$work/pgsock"
[ "$(id -u)" = 0 ] && chown postgres "$work/pg" "$work/pgsock"
as_pg "$pg/initdb" -D "$work/pg" -U "$pg_user" -A trust >/dev/null
as_pg "$pg/pg_ctl" -D "$work/pg" -l "$work/pgsock/postgres.log" -w \
  -o "-c listen_addresses='' -c unix_socket_directories=$work/pgsock -c fsync=off -c max_connections=200" start >/dev/null
for _ in $(seq 50); do [ -S "$work/redis.sock" ] && break; sleep 0.1; done

echo "bench: Go micro-benchmarks" >&2
cd "$repo"
localstack/with-emulators.sh --fresh \
  go test -run '^$' -bench . -benchmem -count 5 -timeout 10m ./internal/worker/ ./internal/api/ \
  | tee "$results/micro.txt"

echo "bench: cost, latency, throughput, peers, read cost, catalog imports and exports" >&2
cd "$here"
"$repo/localstack/with-emulators.sh" --fresh \
  go run . -out "$results" -redis "unix:$work/redis.sock" \
  -postgres "host=$work/pgsock user=$pg_user dbname=postgres sslmode=disable" "$@"
