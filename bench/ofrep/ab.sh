#!/usr/bin/env bash
# Interleaved A/B of two gateway settings on the single OFREP evaluation (docs/benchmarks.md):
#
#   B_ENV="GOGC=400" bash bench/ofrep/ab.sh            # default vs GOGC=400, 4 rounds
#   A_ENV="GOGC=200" B_ENV="GOGC=800" ROUNDS=6 bash bench/ofrep/ab.sh
#   A_BIN=/tmp/old/voiceassist B_BIN=bin/voiceassist bash bench/ofrep/ab.sh   # two builds
#   TARGET=/ofrep/v1/evaluate/flags bash bench/ofrep/ab.sh   # the bulk evaluation instead
#   QUIET=0 bash bench/ofrep/ab.sh     # do not wait for a quiet machine (both sides alike)
#
# Both gateways run at once, pinned to CPU 0, on one throwaway database (voiceassist_ab) with
# the flags of flags.json; wrk (CPU 1, 2 threads, 50 connections, 10 s) hits A then B in each
# round, after waiting for the machine to be quiet. Prints each run and the medians.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
HERE=bench/ofrep
OUT=${OUT:-.data/bench-ofrep-ab}
A_ENV=${A_ENV:-} B_ENV=${B_ENV:-}
A_BIN=${A_BIN:-bin/voiceassist} B_BIN=${B_BIN:-bin/voiceassist}
A_PORT=${A_PORT:-18180} B_PORT=${B_PORT:-18181}
ROUNDS=${ROUNDS:-4}
DURATION=${DURATION:-10s}
FLAG=${FLAG:-ui.dark_mode}
TARGET=${TARGET:-/ofrep/v1/evaluate/flags/$FLAG}
QUIET=${QUIET:-1}
AB_DB=${AB_DB:-voiceassist_ab} # its own database and Redis prefix, so that two runs can share the services
ADMIN_EMAIL=bench@example.org
ADMIN_PASSWORD=Loopback-Passphrase-4711

log() { printf 'ab: %s\n' "$*" >&2; }
die() { printf 'ab: ERROR: %s\n' "$*" >&2; exit 1; }
command -v wrk >/dev/null || die "wrk is missing: apt-get install -y wrk"
for p in "$A_PORT" "$B_PORT"; do
  ! ss -Htln "sport = :$p" | grep -q . || die "port $p is in use"
done
mkdir -p "$OUT"
[[ "$A_BIN" != bin/voiceassist && "$B_BIN" != bin/voiceassist ]] || make -s build >&2

eval "$(scripts/services.sh up)"
url_base=${DATABASE_URL%%\?*}
url_query=
[[ "$DATABASE_URL" == *\?* ]] && url_query="?${DATABASE_URL#*\?}"
ADMIN_URL="${url_base%/*}/postgres$url_query"
AB_URL="${url_base%/*}/$AB_DB$url_query"

PIDS=()
cleanup() {
  local rc=$? p
  set +e
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  psql "$ADMIN_URL" -qX -c "DROP DATABASE IF EXISTS $AB_DB WITH (FORCE)" >/dev/null 2>&1
  if command -v redis-cli >/dev/null 2>&1; then
    redis-cli -u "$REDIS_URL" --scan --pattern "$AB_DB:*" 2>/dev/null |
      xargs -r -n 500 redis-cli -u "$REDIS_URL" DEL >/dev/null 2>&1
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
psql "$ADMIN_URL" -qX -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" \
  -c "DROP DATABASE IF EXISTS $AB_DB WITH (FORCE)" -c "CREATE DATABASE $AB_DB" >&2

start() { # NAME BIN PORT ENV
  # shellcheck disable=SC2086
  env -i PATH="$PATH" HOME="${HOME:-/root}" ENVIRONMENT=test HOST=127.0.0.1 PORT="$3" LOG_LEVEL=warn \
    DATA_DIR="$OUT/data-$1" DATABASE_URL="$AB_URL" REDIS_URL="$REDIS_URL" REDIS_KEY_PREFIX="$AB_DB:" \
    RATE_LIMIT_ENABLED=false ADMIN_EMAIL="$ADMIN_EMAIL" ADMIN_PASSWORD="$ADMIN_PASSWORD" \
    JWT_SECRET_KEY=bench-jwt-secret-key-0123456789abcdef-not-for-production $4 \
    taskset -c 0 "$2" serve >"$OUT/server-$1.log" 2>&1 &
  PIDS+=($!)
  local i
  for ((i = 0; i < 240; i++)); do
    curl -sf -o /dev/null "http://127.0.0.1:$3/ready" && return 0
    kill -0 "${PIDS[-1]}" 2>/dev/null || { tail -n 20 "$OUT/server-$1.log" >&2; die "$1 exited"; }
    sleep 0.25
  done
  die "$1 is not ready after 60 s"
}
start A "$A_BIN" "$A_PORT" "$A_ENV" # migrates first; B then finds the schema in place
start B "$B_BIN" "$B_PORT" "$B_ENV"

TOKEN=$(curl -sf -X POST -H 'Content-Type: application/json' \
  -d "$(jq -nc --arg e "$ADMIN_EMAIL" --arg p "$ADMIN_PASSWORD" '{email: $e, password: $p}')" \
  "http://127.0.0.1:$A_PORT/api/auth/login" | jq -er .data.access_token) || die "login failed"
while read -r f; do
  curl -sf -o /dev/null -X POST -H 'Content-Type: application/json' -H "Authorization: Bearer $TOKEN" \
    -d "$f" "http://127.0.0.1:$A_PORT/api/admin/feature-flags" || die "creating $(jq -r .key <<<"$f")"
done < <(jq -c '.[]' "$HERE/flags.json")
for p in "$A_PORT" "$B_PORT"; do
  for ((i = 0; i < 40; i++)); do
    curl -sf -o /dev/null -X POST -H 'Content-Type: application/json' -d '{}' \
      "http://127.0.0.1:$p/ofrep/v1/evaluate/flags/$FLAG" && break
    sleep 0.25
  done
done

quiet() { # up to 5 minutes until the machine uses at most 10 % of a CPU for a second
  local a b i
  [[ $QUIET == 0 ]] && return 0
  for ((i = 0; i < 60; i++)); do
    a=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $9 }' /proc/stat)
    sleep 1
    b=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $9 }' /proc/stat)
    (((b - a) * 100 / $(getconf CLK_TCK) <= 10)) && return 0
    sleep 4
  done
}
wrk_run() { # PORT DURATION
  taskset -c 1 wrk -t2 -c50 -d"$2" --latency -s "$HERE/ofrep.lua" "http://127.0.0.1:$1$TARGET"
}
for p in "$A_PORT" "$B_PORT"; do wrk_run "$p" 3s >/dev/null; done # warm-up
RA=() RB=()
for ((r = 1; r <= ROUNDS; r++)); do
  for side in A B; do
    port=$A_PORT
    [[ $side == B ]] && port=$B_PORT
    quiet
    line=$(wrk_run "$port" "$DURATION" | grep '^BENCH ')
    rps=$(sed 's/.* rps=\([0-9.]*\).*/\1/' <<<"$line")
    [[ $side == A ]] && RA+=("$rps") || RB+=("$rps")
    log "round $r $side: $line"
  done
done
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ma=$(median "${RA[@]}")
mb=$(median "${RB[@]}")
printf 'A (%s%s): median %.0f req/s (%s)\n' "$A_BIN" "${A_ENV:+ $A_ENV}" "$ma" "$(printf '%.0f ' "${RA[@]}")"
printf 'B (%s%s): median %.0f req/s (%s)\n' "$B_BIN" "${B_ENV:+ $B_ENV}" "$mb" "$(printf '%.0f ' "${RB[@]}")"
awk -v a="$ma" -v b="$mb" 'BEGIN { printf "B/A: %+.1f %%\n", (b / a - 1) * 100 }'
