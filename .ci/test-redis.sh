# A throwaway Redis for the cluster tests, listening on loopback only. Source this file, then:
#   start_test_redis   installs redis-server if missing (Debian; the service it may start is
#                      stopped and disabled), starts one on a free port without persistence and
#                      exports PARLEY_TEST_REDIS_URL;
#   stop_test_redis    stops it and deletes its files.

start_test_redis() {
  local port
  if ! command -v redis-server >/dev/null 2>&1; then
    echo "installing redis-server"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null
    # Only our own instance below: not a system service left running.
    (service redis-server stop || systemctl disable --now redis-server) >/dev/null 2>&1 || true
  fi
  port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
  TEST_REDIS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/parley-redis.XXXXXX")
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$TEST_REDIS_DIR" \
    --daemonize yes --pidfile "$TEST_REDIS_DIR/redis.pid" --logfile "$TEST_REDIS_DIR/redis.log"
  for _ in $(seq 50); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  export PARLEY_TEST_REDIS_URL="redis://127.0.0.1:$port"
  echo "Redis $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/') for the tests at $PARLEY_TEST_REDIS_URL"
}

stop_test_redis() {
  if [ -n "${TEST_REDIS_DIR:-}" ] && [ -d "$TEST_REDIS_DIR" ]; then
    if [ -f "$TEST_REDIS_DIR/redis.pid" ]; then kill "$(cat "$TEST_REDIS_DIR/redis.pid")" 2>/dev/null || true; fi
    rm -rf "$TEST_REDIS_DIR"
  fi
}
