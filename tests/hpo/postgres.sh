# postgres.sh — the PostgreSQL backend against a real server: starts a
# throwaway cluster (initdb into a temp dir, unix socket only, no TCP),
# runs the concurrency and kill -9 tests on a postgresql:// study, stops
# it.  Exits 77 (CTest: skipped) only when no server can be started.
SEARCH=$1 FAKE=$2 STORAGE_TEST=$3
set -uo pipefail
HERE=$(dirname "$0")
skip() { echo "SKIP: $*"; exit 77; }

PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
[ -x "$PGBIN/initdb" ] || skip "PostgreSQL server binaries not found (apt-get install postgresql)"
D=$(mktemp -d /tmp/hpo-pg.XXXXXX)
chmod 755 "$D"
# initdb refuses to run as root: run the server as the postgres user
# (created by Debian's package), else as nobody.
as=()
if [ "$(id -u)" -eq 0 ]; then
  user=postgres
  id -u postgres > /dev/null 2>&1 || user=nobody
  chown "$user" "$D"
  as=(runuser -u "$user" --)
fi
cleanup() {
  "${as[@]}" "$PGBIN/pg_ctl" -D "$D/data" -m immediate stop > /dev/null 2>&1
  rm -rf "$D"
}
trap cleanup EXIT
"${as[@]}" "$PGBIN/initdb" -D "$D/data" -U hpo --auth=trust -E UTF8 > "$D/initdb.log" 2>&1 \
  || { cat "$D/initdb.log"; skip "initdb failed"; }
PORT=$((20000 + $$ % 20000))
"${as[@]}" "$PGBIN/pg_ctl" -D "$D/data" -l "$D/server.log" -w -t 30 \
  -o "-c listen_addresses='' -k $D -p $PORT -c fsync=off" start > /dev/null 2>&1 \
  || { cat "$D/server.log"; skip "the server did not start"; }
URL="postgresql://hpo@/postgres?host=$D&port=$PORT"
echo "server up: $URL"

"$STORAGE_TEST" "$URL" || exit 1
# Separate studies in one database: study names differ per test.
HPO_STORE=$URL bash "$HERE/concurrent.sh" "$SEARCH" "$FAKE" || exit 1
HPO_STORE=$URL bash "$HERE/kill9.sh" "$SEARCH" "$FAKE" || exit 1
echo "postgres: all checks passed"
