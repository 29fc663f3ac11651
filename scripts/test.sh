#!/usr/bin/env bash
# Install everything and run the whole test suite: ruff, then pytest on SQLite and again on
# PostgreSQL, with a real redis-server. Extra arguments go to both pytest runs.
# Exits non-zero if anything failed (pytest's "no tests collected" included).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup-env.sh

# --- Debian packages the tests need (skipped when already present)
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
need=()
command -v redis-server >/dev/null || need+=(redis-server)
[ -n "$PG_BIN" ] || need+=(postgresql)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v chromedriver >/dev/null || need+=(chromium-driver)
apt_install "${need[@]+"${need[@]}"}"
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)

make_venv "test"

# --- throwaway servers, stopped on exit
WORK=$(mktemp -d /tmp/hub-test.XXXXXX)
chmod 755 "$WORK"
PG_DATA="$WORK/pg"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
  for pid_file in "$WORK"/pytest-*.pid; do  # a pass still running (the script was interrupted)
    [ -f "$pid_file" ] && { kill "$(cat "$pid_file")" 2>/dev/null || true; }
  done
  wait 2>/dev/null || true
  [ -f "$PG_DATA/postmaster.pid" ] && as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate stop >/dev/null 2>&1
  [ -f "$WORK/redis.pid" ] && kill "$(cat "$WORK/redis.pid")" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

REDIS_PORT=$(free_port)
redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no --daemonize yes \
  --pidfile "$WORK/redis.pid" --logfile "$WORK/redis.log" --dir "$WORK"
export HUB_TEST_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done

PG_PORT=$(free_port)
mkdir -p "$PG_DATA"
[ "$(id -u)" = 0 ] && chown postgres "$PG_DATA"
as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres -A trust -E UTF8 --no-sync >/dev/null
as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_DATA/server.log" -w start \
  -o "-h 127.0.0.1 -p $PG_PORT -k $PG_DATA -c fsync=off -c synchronous_commit=off \
      -c full_page_writes=off -c max_connections=200" >/dev/null
as_pg "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres hub_test
PG_URL="postgresql+psycopg://postgres@127.0.0.1:$PG_PORT/hub_test"
echo "==> redis-server on 127.0.0.1:$REDIS_PORT, PostgreSQL on 127.0.0.1:$PG_PORT"

# --- the checks
export CI="${CI:-}" PYTHONDONTWRITEBYTECODE=1
failed=()
echo "==> ruff check" && .venv/bin/ruff check . || failed+=("ruff check")
echo "==> ruff format --check" && .venv/bin/ruff format --check . || failed+=("ruff format")
echo "==> mypy hub/core" && .venv/bin/mypy hub/core || failed+=("mypy")
# Extract every string the UI shows (babel.cfg) and fail naming any the zh_CN catalog lacks.
echo "==> translations" && .venv/bin/python scripts/check_translations.py || failed+=("translations")

summaries=()
passes=()
start_pytest() {  # start_pytest NAME [ENV=VALUE...] -- [pytest args...]: in the background
  local name="$1" envs=()
  shift
  while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do envs+=("$1"); shift; done
  shift
  echo "==> pytest on $name: started (its output follows when it ends)"
  (
    start=$SECONDS
    set +e
    env ${envs[@]+"${envs[@]}"} .venv/bin/python -m pytest -q --durations=25 \
      --basetemp "$WORK/tmp-$name" "$@" \
      </dev/null >"$WORK/pytest-$name.log" 2>&1 &
    echo "$!" >"$WORK/pytest-$name.pid"
    wait "$!"
    echo "$? $((SECONDS - start))" >"$WORK/pytest-$name.rc"
    rm -f "$WORK/pytest-$name.pid"
  ) &
  passes+=("$name:$!")
}
finish_pytest() {  # finish_pytest NAME: wait for it (a progress line a minute), show its output
  local name="$1" log="$WORK/pytest-$1.log" rc=1 secs=0 pass pid waited=0 line
  for pass in "${passes[@]}"; do [ "${pass%%:*}" = "$name" ] && pid="${pass#*:}"; done
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    waited=$((waited + 1))
    [ $((waited % 60)) = 0 ] || continue
    line="  ... running:"
    for pass in "${passes[@]}"; do
      line+=" ${pass%%:*} $({ grep -o '[0-9]*%' "$WORK/pytest-${pass%%:*}.log" || true; } | tail -n 1)"
    done
    echo "$line"
  done
  wait "$pid" || true
  [ -f "$WORK/pytest-$name.rc" ] && read -r rc secs <"$WORK/pytest-$name.rc"
  echo "==> pytest on $name"
  cat "$log"
  [ "$rc" = 0 ] || failed+=("pytest on $name (exit $rc)")
  summaries+=("$name ($secs s, exit $rc): $(grep -E '(passed|failed|error|skipped|no tests ran).* in [0-9.]+s' "$log" | tail -n 1 | tr -d '=' | xargs)")
}
# The two passes run at the same time, each with its own Redis database and temporary folder
# (the PostgreSQL pass runs only the tests that reach the database: see tests/conftest.py).
# HUB_TEST_SEQUENTIAL=1 runs one after the other.
start_pytest SQLite "HUB_TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0" -- "$@"
[ -z "${HUB_TEST_SEQUENTIAL:-}" ] || finish_pytest SQLite
start_pytest PostgreSQL "HUB_TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/1" \
  "HUB_TEST_DATABASE_URL=$PG_URL" -- "$@"
[ -n "${HUB_TEST_SEQUENTIAL:-}" ] || finish_pytest SQLite
finish_pytest PostgreSQL

echo
echo "==> summary"
printf '  %s\n' "${summaries[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
  printf '  FAILED: %s\n' "${failed[@]}"
  exit 1
fi
echo "  all checks passed"
