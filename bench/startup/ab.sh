#!/usr/bin/env bash
# Interleaved A/B of the start-up of two gateway builds, as bench-compare measures it (exec →
# first 200 on the single OFREP evaluation, RSS 2 s later; docs/benchmarks.md):
#
#   A_BIN=/tmp/old/voiceassist B_BIN=bin/voiceassist ROUNDS=8 bash bench/startup/ab.sh
#
# Both run on one throwaway database after `migrate up` and `seed` (A's binary does both),
# pinned to CPU 0 with GOGC=100 and tracing off; each round starts A then B (B then A in odd
# rounds, so neither always follows the other). No wait for a quiet machine: on a busy one,
# give more rounds and read the medians. Prints each run and the medians.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
LOG_PREFIX=startup-ab
source bench/lib.sh
OUT=${OUT:-.data/bench-startup-ab}
A_BIN=${A_BIN:?A_BIN: the "before" binary} B_BIN=${B_BIN:-bin/voiceassist}
ROUNDS=${ROUNDS:-6}
CPU=${CPU:-0}
mkdir -p "$OUT"
OUT=$(realpath "$OUT")
[[ "$B_BIN" != bin/voiceassist ]] || make -s build >&2
# Copies, written alike: a binary the linker has just written is mapped in 2 MiB pages and
# shows ~25 MiB more RSS than the same file copied (bench/startup/main.go).
cp "$A_BIN" "$OUT/A" && cp "$B_BIN" "$OUT/B"
A_BIN=$OUT/A B_BIN=$OUT/B
take_port 18290
read -r PORT <<<"$TAKEN"

eval "$(scripts/services.sh up)"
bench_database voiceassist_startup_ab
cleanup() {
  local rc=$?
  psql "$ADMIN_URL" -qX -c "DROP DATABASE IF EXISTS voiceassist_startup_ab WITH (FORCE)" >/dev/null 2>&1
  redis-cli -u "$REDIS_URL" --scan --pattern 'startupab:*' 2>/dev/null | xargs -r -n 500 redis-cli -u "$REDIS_URL" DEL >/dev/null 2>&1
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
psql "$ADMIN_URL" -qX -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" \
  -c "DROP DATABASE IF EXISTS voiceassist_startup_ab WITH (FORCE)" -c "CREATE DATABASE voiceassist_startup_ab" >&2
go build -o "$OUT/startup" ./bench/startup

genv() {
  echo PATH="$PATH" HOME="${HOME:-/root}" GOGC=100 GOMEMLIMIT=off ENVIRONMENT=test HOST=127.0.0.1 PORT="$PORT" \
    LOG_LEVEL=warn DATA_DIR="$OUT/data" DATABASE_URL="$BENCH_URL" REDIS_URL="$REDIS_URL" REDIS_KEY_PREFIX=startupab: \
    RATE_LIMIT_ENABLED=false ADMIN_EMAIL=bench@example.org ADMIN_PASSWORD=Loopback-Passphrase-4711 \
    JWT_SECRET_KEY=bench-jwt-secret-key-0123456789abcdef-not-for-production \
    OTEL_EXPORTER_OTLP_ENDPOINT= OTEL_TRACES_EXPORTER=none
}
# shellcheck disable=SC2046
env -i $(genv) "$A_BIN" migrate up >>"$OUT/server.log" 2>&1
# shellcheck disable=SC2046
env -i $(genv) "$A_BIN" seed >>"$OUT/server.log" 2>&1
# One start of each first: the bootstrap admin (password hashing) and the index rebuild of a
# first start are not what is compared.
declare -A MS=() RSS=() CPU_MS=() ANON=()
run() { # NAME BIN
  local line
  # shellcheck disable=SC2046
  line=$("$OUT/startup" -url "http://127.0.0.1:$PORT/ofrep/v1/evaluate/flags/ui.dark_mode" -- \
    env -i $(genv) taskset -c "$CPU" "$2" serve 2>>"$OUT/server.log" | grep '^STARTUP ') || die "start-up of $1 failed ($OUT/server.log)"
  MS[$1]+="$(sed 's/.* ms=\([0-9.]*\).*/\1/' <<<"$line") "
  RSS[$1]+="$(sed 's/.* rss_kib=\([0-9]*\).*/\1/' <<<"$line") "
  CPU_MS[$1]+="$(sed 's/.* cpu_ms=\([0-9.]*\).*/\1/' <<<"$line") "
  ANON[$1]+="$(sed 's/.* anon_kib=\([0-9]*\).*/\1/' <<<"$line") "
  log "$1: $line"
}
run warm-A "$A_BIN"
run warm-B "$B_BIN"
for ((r = 1; r <= ROUNDS; r++)); do
  if ((r % 2)); then run A "$A_BIN"; run B "$B_BIN"; else run B "$B_BIN"; run A "$A_BIN"; fi
done
# shellcheck disable=SC2086
for n in A B; do
  printf '%s: start-up ms %s| median %s; CPU ms %s| median %s; RSS KiB %s| median %s\n' "$n" "${MS[$n]}" "$(median ${MS[$n]})" \
    "${CPU_MS[$n]}" "$(median ${CPU_MS[$n]})" "${RSS[$n]}" "$(median ${RSS[$n]})"
  printf '%s: RssAnon KiB %s| median %s\n' "$n" "${ANON[$n]}" "$(median ${ANON[$n]})"
done
