# A throwaway PostgreSQL cluster for the tests, listening on loopback only. Source this file, then:
#   start_test_postgres   installs PostgreSQL if missing (Debian), starts a cluster in a temp dir on a
#                         free port and exports PARLEY_TEST_DATABASE_URL;
#   stop_test_postgres    stops the cluster and deletes its files.
# Works as root (the server then runs as the `postgres` user, which the Debian package creates) and
# as an ordinary user. Trust authentication is safe here: only loopback connections are accepted.

test_postgres_bin() {
  local ctl
  ctl=$(ls /usr/lib/postgresql/*/bin/pg_ctl 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$ctl" ]; then ctl=$(command -v pg_ctl || true); fi
  [ -n "$ctl" ] && dirname "$ctl"
}

# Runs a PostgreSQL server binary as a user it accepts (it refuses to run as root).
as_postgres_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_test_postgres() {
  local bin port
  bin=$(test_postgres_bin || true)
  if [ -z "$bin" ]; then
    echo "installing PostgreSQL"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
    bin=$(test_postgres_bin)
  fi
  if [ "$(id -u)" = 0 ] && ! id -u postgres >/dev/null 2>&1; then useradd --system --no-create-home postgres; fi
  port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
  TEST_POSTGRES_DIR=$(mktemp -d "${TMPDIR:-/tmp}/parley-pg.XXXXXX")
  if [ "$(id -u)" = 0 ]; then chown postgres "$TEST_POSTGRES_DIR"; fi
  TEST_POSTGRES_BIN=$bin
  as_postgres_owner "$bin/initdb" -D "$TEST_POSTGRES_DIR/data" -U parley --auth=trust -E UTF8 --no-sync >/dev/null
  # Durability is pointless for a cluster deleted at exit: fsync off keeps the tests fast.
  as_postgres_owner "$bin/pg_ctl" -D "$TEST_POSTGRES_DIR/data" -l "$TEST_POSTGRES_DIR/server.log" -w \
    -o "-h 127.0.0.1 -p $port -k $TEST_POSTGRES_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null \
    || { cat "$TEST_POSTGRES_DIR/server.log" >&2; return 1; }
  export PARLEY_TEST_DATABASE_URL="postgres://parley@127.0.0.1:$port/postgres"
  echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') for the tests at $PARLEY_TEST_DATABASE_URL"
}

stop_test_postgres() {
  if [ -n "${TEST_POSTGRES_DIR:-}" ] && [ -d "$TEST_POSTGRES_DIR" ]; then
    as_postgres_owner "$TEST_POSTGRES_BIN/pg_ctl" -D "$TEST_POSTGRES_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$TEST_POSTGRES_DIR"
  fi
}
