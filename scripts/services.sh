#!/usr/bin/env bash
# Make PostgreSQL and Redis available for tests and local runs.
#
#   scripts/services.sh up      # prints `export DATABASE_URL=... REDIS_URL=...` on stdout
#   eval "$(scripts/services.sh up)"
#   scripts/services.sh status
#   scripts/services.sh down    # stops only the private instances started by `up`
#
# `up` keeps the servers named by $DATABASE_URL / $REDIS_URL when they answer;
# otherwise it starts private, throw-away instances (PostgreSQL on
# 127.0.0.1:55432, Redis on 127.0.0.1:56379) whose files live in .data/ (see
# scripts/README.md). All human messages go to stderr; stdout carries only the
# export lines, which are also written to .data/services.env.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$REPO_ROOT"

DEFAULT_DATABASE_URL='postgres://postgres@127.0.0.1:5432/voiceassist?sslmode=disable'
DEFAULT_REDIS_URL='redis://127.0.0.1:6379/0'
PRIVATE_PG_PORT=55432
PRIVATE_REDIS_PORT=56379

DATA_DIR="$REPO_ROOT/.data"
ENV_FILE="$DATA_DIR/services.env"
REDIS_DIR="$DATA_DIR/redis"
REDIS_LOG="$DATA_DIR/redis.log"
REDIS_PIDFILE="$DATA_DIR/redis.pid"
# Used when the postgres OS user cannot traverse the repo path (running as root
# in e.g. /root/src/...): one directory per checkout, keyed by its path.
FALLBACK_PG_ROOT="/var/tmp/voiceassist-$(printf '%s' "$REPO_ROOT" | sha1sum | cut -c1-12)"

export PGCONNECT_TIMEOUT="${PGCONNECT_TIMEOUT:-3}"

log() { printf 'services: %s\n' "$*" >&2; }
die() { printf 'services: ERROR: %s\n' "$*" >&2; exit 1; }
is_root() { [[ "$(id -u)" -eq 0 ]]; }

# Call in the subshell that starts a daemon: the daemon must not inherit our
# lock (fd 9) nor any pipe of the caller (make, CI), or those never see EOF.
close_extra_fds() {
  local f n
  for f in /proc/self/fd/*; do
    n="${f##*/}"
    if [[ "$n" =~ ^[0-9]+$ ]] && (( n > 2 && n != 255 )); then eval "exec $n>&-" 2>/dev/null || true; fi
  done
  return 0
}

# ---------------------------------------------------------------- apt helpers
APT_UPDATED=0
POLICY_RC_CREATED=0
cleanup_policy_rc() {
  if [[ "$POLICY_RC_CREATED" -eq 1 ]]; then
    rm -f /usr/sbin/policy-rc.d
    POLICY_RC_CREATED=0
  fi
}
trap cleanup_policy_rc EXIT

# apt_install PKG... : root only. Keeps maintainer scripts from starting
# machine-wide services (there is no systemd here; invoke-rc.d would otherwise
# run /etc/init.d scripts, and a failing restart aborts the install).
apt_install() {
  if ! is_root; then
    die "missing: $* -- install it (e.g. 'sudo apt-get install -y $*') or run this script as root"
  fi
  export DEBIAN_FRONTEND=noninteractive
  if [[ ! -e /usr/sbin/policy-rc.d && ! -L /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\n# temporary, from %s\nexit 101\n' "$0" >/usr/sbin/policy-rc.d
    chmod 0755 /usr/sbin/policy-rc.d
    POLICY_RC_CREATED=1
  fi
  if [[ "$APT_UPDATED" -eq 0 ]]; then
    log "apt-get update"
    apt-get -o DPkg::Lock::Timeout=300 update -qq >&2 || die "apt-get update failed"
    APT_UPDATED=1
  fi
  log "apt-get install -y $*"
  RUNLEVEL=1 apt-get -o DPkg::Lock::Timeout=300 install -y -qq "$@" >&2 9>&- \
    || { cleanup_policy_rc; die "apt-get install $* failed"; }
  cleanup_policy_rc
}

# ---------------------------------------------------------------- URL helpers
# url_parts URL -> sets U_SCHEME U_AUTH (user[:pw]@host:port) U_HOST U_PORT
#                  U_USER U_PATH (without leading /) U_QUERY (with leading ?)
url_parts() {
  local url="$1" rest hostport
  U_SCHEME="${url%%://*}"
  rest="${url#*://}"
  U_QUERY=""
  if [[ "$rest" == *\?* ]]; then U_QUERY="?${rest#*\?}"; rest="${rest%%\?*}"; fi
  if [[ "$rest" == */* ]]; then U_AUTH="${rest%%/*}"; U_PATH="${rest#*/}"; else U_AUTH="$rest"; U_PATH=""; fi
  hostport="${U_AUTH##*@}"
  U_USER=""
  if [[ "$U_AUTH" == *@* ]]; then U_USER="${U_AUTH%@*}"; U_USER="${U_USER%%:*}"; fi
  if [[ "$hostport" == \[*\]* ]]; then          # [::1]:5432
    U_HOST="${hostport%%]*}"; U_HOST="${U_HOST#[}"
    U_PORT="${hostport##*]}"; U_PORT="${U_PORT#:}"
  elif [[ "$hostport" == *:* ]]; then
    U_HOST="${hostport%%:*}"; U_PORT="${hostport##*:}"
  else
    U_HOST="$hostport"; U_PORT=""
  fi
}

shell_quote() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

# ---------------------------------------------------------------- PostgreSQL
# Call the client binaries directly: Debian's /usr/bin wrappers are Perl and
# cost ~50 ms each, which matters for the "< 1 s when all is up" goal.
PSQL=psql
PG_ISREADY=pg_isready
find_pg_client() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    if [[ -x "$d/psql" && -x "$d/pg_isready" ]]; then PSQL="$d/psql"; PG_ISREADY="$d/pg_isready"; fi
  done
  [[ "$PSQL" == /* ]] || { command -v psql && command -v pg_isready; } >/dev/null 2>&1
}
need_pg_client() {
  find_pg_client || { apt_install postgresql-client; find_pg_client; } \
    || die "psql/pg_isready still missing after installing postgresql-client"
}

pg_reachable() { "$PG_ISREADY" -q -t 3 -d "$1" >/dev/null 2>&1; }

# pg_ensure_db URL : create the URL's database if missing (via the `postgres`
# maintenance database on the same server/user).
pg_ensure_db() {
  local url="$1" db maint
  url_parts "$url"
  db="${U_PATH:-${U_USER:-postgres}}"
  maint="${U_SCHEME}://${U_AUTH}/postgres${U_QUERY}"
  "$PSQL" "$maint" -X -q -v ON_ERROR_STOP=1 -v db="$db" >/dev/null <<'SQL' \
    || die "PostgreSQL at ${U_HOST}:${U_PORT:-5432} answers but 'select 1' / CREATE DATABASE failed (credentials? permissions?)"
SELECT format('CREATE DATABASE %I', :'db')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db')\gexec
SQL
}

# Start a stopped machine-wide Debian cluster that listens on the URL's port.
pg_try_machine_cluster() {
  local url="$1" ver name port status rest
  command -v pg_lsclusters >/dev/null 2>&1 || return 1
  url_parts "$url"
  case "$U_HOST" in 127.0.0.1|localhost|::1|"") ;; *) return 1 ;; esac
  # Cheap pre-check before the (Perl) pg_lsclusters: a cluster on that port?
  grep -qsE "^[[:space:]]*port[[:space:]]*=[[:space:]]*${U_PORT:-5432}([^0-9]|$)" /etc/postgresql/*/main/postgresql.conf || return 1
  while read -r ver name port status rest; do
    [[ "$name" == main && "$port" == "${U_PORT:-5432}" && "$status" == down* ]] || continue
    log "machine-wide cluster $ver/main is stopped; starting it"
    (close_extra_fds; pg_ctlcluster --skip-systemctl-redirect "$ver" main start) >&2 || { log "could not start cluster $ver/main"; continue; }
    for _ in $(seq 1 20); do pg_reachable "$url" && return 0; sleep 0.5; done
  done < <(pg_lsclusters -h 2>/dev/null || true)
  return 1
}

pg_bindir() {
  # Prefer the version an existing data dir was made with.
  local ver="" d
  if [[ -n "${1:-}" && -f "$1/PG_VERSION" ]]; then
    ver="$(cat "$1/PG_VERSION")"
    [[ -x "/usr/lib/postgresql/$ver/bin/initdb" ]] && { echo "/usr/lib/postgresql/$ver/bin"; return 0; }
  fi
  # shellcheck disable=SC2012
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)"
  [[ -n "$d" && -x "$d/initdb" ]] && { echo "$d"; return 0; }
  return 1
}

# Run a command as the postgres OS user when we are root (initdb/postgres
# refuse to run as root); from / so an untraversable cwd does not matter.
as_pg() {
  if is_root; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

# Where the private cluster lives: .data/ inside the repo when the postgres
# user can reach it, else /var/tmp/voiceassist-<hash>/.
pg_root() {
  mkdir -p "$DATA_DIR"
  if ! is_root || (cd / && runuser -u postgres -- test -x "$DATA_DIR") 2>/dev/null; then
    echo "$DATA_DIR"
  else
    echo "$FALLBACK_PG_ROOT"
  fi
}

pg_private_url() {
  local db="$1"
  echo "postgres://postgres@127.0.0.1:${PRIVATE_PG_PORT}/${db}?sslmode=disable"
}

pg_start_private() {
  local db="$1" root pgdata pglog sockdir bindir url
  url="$(pg_private_url "$db")"
  if pg_reachable "$url"; then
    log "reusing private PostgreSQL on 127.0.0.1:${PRIVATE_PG_PORT}"
    pg_ensure_db "$url"; PG_URL="$url"; return 0
  fi
  if ! pg_bindir >/dev/null; then apt_install postgresql; fi
  if is_root && ! id postgres >/dev/null 2>&1; then
    die "OS user 'postgres' missing (normally created by the postgresql package)"
  fi
  root="$(pg_root)"
  pgdata="$root/postgres"; pglog="$root/postgres.log"; sockdir="$root/pgsock"
  mkdir -p "$root" "$sockdir"
  [[ -f "$pgdata/PG_VERSION" ]] || rm -rf "$pgdata"   # half-made cluster
  bindir="$(pg_bindir "$pgdata")" || {
    log "data dir $pgdata was made by a PostgreSQL that is gone; recreating"; rm -rf "$pgdata"; bindir="$(pg_bindir)"; }
  mkdir -p "$pgdata"; touch "$pglog"
  chmod 0700 "$pgdata"
  if is_root; then chown postgres: "$pgdata" "$sockdir" "$pglog"; fi
  if [[ ! -f "$pgdata/PG_VERSION" ]]; then
    log "initdb $pgdata ($bindir)"
    as_pg "$bindir/initdb" -D "$pgdata" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >>"$pglog" 2>&1 \
      || as_pg "$bindir/initdb" -D "$pgdata" -A trust -U postgres -E UTF8 >>"$pglog" 2>&1 \
      || die "initdb failed, see $pglog"
    # Socket paths are limited to ~107 bytes; without a usable dir use TCP only.
    local sock="$sockdir"
    (( ${#sockdir} + 20 > 100 )) && sock=""
    as_pg tee -a "$pgdata/postgresql.conf" >/dev/null <<EOF

# --- added by scripts/services.sh (private, throw-away test instance) ---
listen_addresses = '127.0.0.1'
port = ${PRIVATE_PG_PORT}
unix_socket_directories = '${sock}'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
EOF
  fi
  log "starting private PostgreSQL on 127.0.0.1:${PRIVATE_PG_PORT} (data: $pgdata, log: $pglog)"
  (close_extra_fds; as_pg "$bindir/pg_ctl" -D "$pgdata" -l "$pglog" -w -t 60 start) >&2 \
    || { tail -n 20 "$pglog" >&2 || true; die "private PostgreSQL did not start (port ${PRIVATE_PG_PORT} taken?), see $pglog"; }
  pg_reachable "$url" || die "private PostgreSQL started but does not answer on ${PRIVATE_PG_PORT}"
  pg_ensure_db "$url"
  PG_URL="$url"
}

pg_up() {
  local url="${DATABASE_URL:-$DEFAULT_DATABASE_URL}"
  need_pg_client
  if pg_reachable "$url" || pg_try_machine_cluster "$url"; then
    pg_ensure_db "$url"
    PG_URL="$url"
    return 0
  fi
  url_parts "$url"
  log "PostgreSQL at ${U_HOST}:${U_PORT:-5432} not reachable; using a private instance"
  pg_start_private "${U_PATH:-voiceassist}"
}

pg_down() {
  local root pgdata bindir stopped=0
  for root in "$DATA_DIR" "$FALLBACK_PG_ROOT"; do
    pgdata="$root/postgres"
    [[ -f "$pgdata/postmaster.pid" ]] || continue
    bindir="$(pg_bindir "$pgdata")" || continue
    log "stopping private PostgreSQL ($pgdata)"
    as_pg "$bindir/pg_ctl" -D "$pgdata" -m fast -w -t 60 stop >&2 || true
    stopped=1
  done
  [[ "$stopped" -eq 1 ]] || log "no private PostgreSQL running"
}

# ---------------------------------------------------------------- Redis
redis_ping() { [[ "$(redis-cli -u "$1" ping 2>/dev/null)" == PONG ]]; }

redis_private_pid() {
  local pid
  [[ -f "$REDIS_PIDFILE" ]] || return 1
  pid="$(cat "$REDIS_PIDFILE" 2>/dev/null)"
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  grep -q redis "/proc/$pid/comm" 2>/dev/null || return 1
  echo "$pid"
}

redis_up() {
  local url="${REDIS_URL:-$DEFAULT_REDIS_URL}" priv db
  command -v redis-cli >/dev/null 2>&1 || apt_install redis-tools
  if redis_ping "$url"; then RD_URL="$url"; return 0; fi
  url_parts "$url"
  db="${U_PATH:-0}"
  priv="redis://127.0.0.1:${PRIVATE_REDIS_PORT}/${db}"
  log "Redis at ${U_HOST}:${U_PORT:-6379} not reachable; using a private instance"
  if redis_ping "$priv"; then
    log "reusing private Redis on 127.0.0.1:${PRIVATE_REDIS_PORT}"
    RD_URL="$priv"; return 0
  fi
  command -v redis-server >/dev/null 2>&1 || apt_install redis-server
  mkdir -p "$REDIS_DIR"
  log "starting private Redis on 127.0.0.1:${PRIVATE_REDIS_PORT} (log: $REDIS_LOG)"
  (close_extra_fds; exec redis-server --port "$PRIVATE_REDIS_PORT" --bind 127.0.0.1 --daemonize yes \
    --save "" --appendonly no --dir "$REDIS_DIR" \
    --logfile "$REDIS_LOG" --pidfile "$REDIS_PIDFILE") >&2 \
    || die "redis-server failed to start, see $REDIS_LOG"
  for _ in $(seq 1 50); do
    if redis_ping "$priv"; then RD_URL="$priv"; return 0; fi
    sleep 0.2
  done
  tail -n 20 "$REDIS_LOG" >&2 || true
  die "private Redis did not answer on ${PRIVATE_REDIS_PORT} (port taken?), see $REDIS_LOG"
}

redis_down() {
  local pid
  if ! pid="$(redis_private_pid)"; then log "no private Redis running"; rm -f "$REDIS_PIDFILE"; return 0; fi
  log "stopping private Redis (pid $pid)"
  redis-cli -h 127.0.0.1 -p "$PRIVATE_REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then kill "$pid" 2>/dev/null || true; fi
  rm -f "$REDIS_PIDFILE"
}

# ---------------------------------------------------------------- commands
# Serialise concurrent up/down (daemons are started via close_extra_fds so they
# do not inherit and keep holding the lock).
with_lock() {
  mkdir -p "$DATA_DIR"
  exec 9>"$DATA_DIR/.services.lock"
  flock -w 300 9 || die "could not lock $DATA_DIR/.services.lock"
}

cmd_up() {
  with_lock
  PG_URL=""; RD_URL=""
  pg_up
  redis_up
  local out tmp
  out="export DATABASE_URL=$(shell_quote "$PG_URL")
export REDIS_URL=$(shell_quote "$RD_URL")"
  tmp="$(mktemp "$DATA_DIR/.services.env.XXXXXX")"
  printf '%s\n' "$out" >"$tmp"
  chmod 0644 "$tmp"
  mv -f "$tmp" "$ENV_FILE"
  log "DATABASE_URL=$PG_URL"
  log "REDIS_URL=$RD_URL"
  printf '%s\n' "$out"
}

cmd_down() {
  with_lock
  pg_down
  redis_down
  if [[ -f "$ENV_FILE" ]] && grep -qE ":(${PRIVATE_PG_PORT}|${PRIVATE_REDIS_PORT})/" "$ENV_FILE"; then
    rm -f "$ENV_FILE"
  fi
}

cmd_status() {
  local root pgdata found=0 pid
  if [[ -f "$ENV_FILE" ]]; then
    echo "last 'up' ($ENV_FILE):"; sed 's/^/  /' "$ENV_FILE"
  else
    echo "no $ENV_FILE (run: scripts/services.sh up)"
  fi
  for root in "$DATA_DIR" "$FALLBACK_PG_ROOT"; do
    pgdata="$root/postgres"
    [[ -f "$pgdata/postmaster.pid" ]] || continue
    pid="$(head -n1 "$pgdata/postmaster.pid" 2>/dev/null || true)"
    if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
      echo "private PostgreSQL: running on 127.0.0.1:${PRIVATE_PG_PORT} (pid $pid, data $pgdata)"
      found=1
    fi
  done
  [[ "$found" -eq 1 ]] || echo "private PostgreSQL: not running"
  if pid="$(redis_private_pid)"; then
    echo "private Redis: running on 127.0.0.1:${PRIVATE_REDIS_PORT} (pid $pid, dir $REDIS_DIR)"
  else
    echo "private Redis: not running"
  fi
  if [[ -f "$ENV_FILE" ]]; then
    local DATABASE_URL REDIS_URL
    # shellcheck disable=SC1090
    eval "$(sed 's/^export //' "$ENV_FILE")"
    if find_pg_client && pg_reachable "$DATABASE_URL"; then
      echo "DATABASE_URL: reachable"; else echo "DATABASE_URL: NOT reachable"; fi
    if command -v redis-cli >/dev/null 2>&1 && redis_ping "$REDIS_URL"; then
      echo "REDIS_URL: reachable"; else echo "REDIS_URL: NOT reachable"; fi
  fi
}

main() {
  case "${1:-}" in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
  esac
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi
