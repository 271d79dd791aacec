#!/usr/bin/env bash
# Interleaved A/B of two gateway builds on the flag stream fan-out (docs/benchmarks.md,
# "Flag stream fan-out (issue 17)"):
#
#   A_BIN=/tmp/old/bin/voiceassist B_BIN=bin/voiceassist bash bench/sse/ab.sh
#   A_BIN=... B_BIN=... N=10000 ROUNDS=6 bash bench/sse/ab.sh
#   B_ENV="GOGC=400" bash bench/sse/ab.sh          # one build, two settings
#   PROFILE=1 ...                                   # also the servers' CPU profiles of the change phase
#   A_BIN=bare B_BIN=bin/voiceassist bash bench/sse/ab.sh   # the yardstick (bench/bare) as side A
#
# Method: the method of `make bench-compare` for streams (bench/sse: N idle streams, $CHANGES
# toggles through the admin API, change→delivery at every client from the moment the change
# request is sent, RSS per idle stream after a GC), the gateway pinned to CPU 0 and the driver to
# CPU 1, GOGC=100, tracing off. Each round starts a fresh server for each side (so RSS per stream
# is not hidden by a heap an earlier round grew), in the order A B, then B A, ... so a drift in
# the machine's load hits both sides alike; each run first waits (at most QUIET_WAIT s) for a
# quiet machine. Prints every run and the medians of p50, p99 and RSS per stream.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
LOG_PREFIX=sse-ab
QUIET_WAIT=${QUIET_WAIT:-30} # the machine is shared: wait a little, then measure (interleaved)
# shellcheck source=bench/lib.sh
source bench/lib.sh

OUT=${OUT:-.data/bench-sse-ab}
A_ENV=${A_ENV:-} B_ENV=${B_ENV:-}
A_BIN=${A_BIN:-bin/voiceassist} B_BIN=${B_BIN:-bin/voiceassist}
N=${N:-5000}
CHANGES=${CHANGES:-20}
ROUNDS=${ROUNDS:-4}
PORT=${PORT:-18380}
export GOGC=${GOGC:-100} GOMEMLIMIT=${GOMEMLIMIT:-off}
ADMIN_EMAIL=bench@example.org
ADMIN_PASSWORD=Loopback-Passphrase-4711

need_tool taskset util-linux
need_tool jq jq
need_tool curl curl
need_tool ss iproute2
need_tool psql postgresql-client
[[ "$(nproc)" -ge 2 ]] || die "needs 2 CPUs (server on 0, driver on 1)"
ulimit -n "$(ulimit -Hn)" # 10,000 streams need 10,000 descriptors on each side
mkdir -p "$OUT"
rm -f "$OUT"/*.txt "$OUT"/*.log

take_port "$PORT"
take_port $((PORT + 1000))
read -r GW_PORT GW_PPROF <<<"$TAKEN"
GW=http://127.0.0.1:$GW_PORT

[[ "$A_BIN" != bin/voiceassist && "$B_BIN" != bin/voiceassist ]] || make -s build >&2
go build -o "$OUT/sse-load" ./bench/sse
[[ "$A_BIN" == bare || "$B_BIN" == bare ]] && go build -C bench/bare -o "$(realpath -m "$OUT")/bare" .

eval "$(scripts/services.sh up)"
bench_database voiceassist_sse_ab_a
A_URL=$BENCH_URL
bench_database voiceassist_sse_ab_b
B_URL=$BENCH_URL

PID=
cleanup() {
  local rc=$?
  set +e
  [[ -n "$PID" ]] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
  psql "$ADMIN_URL" -qX -c "DROP DATABASE IF EXISTS voiceassist_sse_ab_a WITH (FORCE)" \
    -c "DROP DATABASE IF EXISTS voiceassist_sse_ab_b WITH (FORCE)" >/dev/null 2>&1
  redis-cli -u "$REDIS_URL" --scan --pattern 'sseab:*' 2>/dev/null | xargs -r -n 500 redis-cli -u "$REDIS_URL" DEL >/dev/null 2>&1
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
for db in voiceassist_sse_ab_a voiceassist_sse_ab_b; do
  psql "$ADMIN_URL" -qX -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" \
    -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >&2
done

start() { # SIDE: starts that side's server (PID), logs in (TOKEN), creates the flag once
  local bin=$A_BIN env=$A_ENV url=$A_URL
  [[ $1 == B ]] && bin=$B_BIN env=$B_ENV url=$B_URL
  if [[ "$bin" == bare ]]; then # the reference: no database, no login; it ignores the token
    taskset -c 0 "$OUT/bare" -addr "127.0.0.1:$GW_PORT" -flags bench/ofrep/flags.json -pprof "127.0.0.1:$GW_PPROF" >>"$OUT/server-$1.log" 2>&1 &
    PID=$!
    wait_up "$1" "$PID" "http://127.0.0.1:$GW_PPROF/debug/pprof/cmdline" "$OUT/server-$1.log"
    TOKEN=none
    return 0
  fi
  # shellcheck disable=SC2086
  env -i PATH="$PATH" HOME="${HOME:-/root}" GOGC="$GOGC" GOMEMLIMIT="$GOMEMLIMIT" \
    ENVIRONMENT=test HOST=127.0.0.1 PORT="$GW_PORT" LOG_LEVEL=warn DATA_DIR="$OUT/data-$1" \
    DATABASE_URL="$url" REDIS_URL="$REDIS_URL" REDIS_KEY_PREFIX=sseab: \
    RATE_LIMIT_ENABLED=false SSE_MAX_STREAMS=50000 SSE_MAX_STREAMS_PER_IP=50000 \
    ADMIN_EMAIL="$ADMIN_EMAIL" ADMIN_PASSWORD="$ADMIN_PASSWORD" \
    JWT_SECRET_KEY=bench-jwt-secret-key-0123456789abcdef-not-for-production \
    OTEL_EXPORTER_OTLP_ENDPOINT= OTEL_TRACES_EXPORTER=none PPROF_ADDR="127.0.0.1:$GW_PPROF" $env \
    taskset -c 0 "$bin" serve >>"$OUT/server-$1.log" 2>&1 &
  PID=$!
  wait_up "$1" "$PID" "$GW/ready" "$OUT/server-$1.log"
  TOKEN=$(curl -sf -X POST -H 'Content-Type: application/json' \
    -d "$(jq -nc --arg e "$ADMIN_EMAIL" --arg p "$ADMIN_PASSWORD" '{email: $e, password: $p}')" \
    "$GW/api/auth/login" | jq -er .data.access_token) || die "login on $1 failed"
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' -H "Authorization: Bearer $TOKEN" \
    -d '{"key":"ui.bench_stream","type":"boolean","enabled":true,"visibility":"public"}' "$GW/api/admin/feature-flags")
  [[ "$code" == 20[01] || "$code" == 409 ]] || die "creating ui.bench_stream on $1: HTTP $code"
}
stop() { kill "$PID" && wait "$PID" 2>/dev/null || true; PID=; }

declare -A P50=() P99=() RSS=() MISSING=()
run() { # SIDE ROUND
  local f=$OUT/run-$1-$2.txt line
  start "$1"
  wait_quiet
  local prof=()
  [[ -n "${PROFILE:-}" ]] && prof=(-cpuprofile "$OUT/cpu-$1-$2.pprof")
  taskset -c 1 "$OUT/sse-load" -url "$GW" -token "$TOKEN" -n "$N" -changes "$CHANGES" -pid "$PID" \
    -pprof "127.0.0.1:$GW_PPROF" "${prof[@]}" >/dev/null 2>"$f" || { cat "$f" >&2; die "run $1 $2 failed"; }
  stop
  line=$(grep '^SSEBENCH ' "$f") || die "no SSEBENCH line in $f"
  P50[$1]+="$(sed 's/.* p50_ms=\([0-9.]*\).*/\1/' <<<"$line") "
  P99[$1]+="$(sed 's/.* p99_ms=\([0-9.]*\).*/\1/' <<<"$line") "
  RSS[$1]+="$(sed 's/.* rss_per_stream_kib=\([0-9.]*\).*/\1/' <<<"$line") "
  MISSING[$1]+="$(sed 's/.* missing=\([0-9]*\).*/\1/' <<<"$line") "
  log "round $2 $1: $line"
}
for ((r = 1; r <= ROUNDS; r++)); do
  if ((r % 2)); then run A "$r" && run B "$r"; else run B "$r" && run A "$r"; fi
done

med() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# shellcheck disable=SC2086
for side in A B; do
  bin=$A_BIN env=$A_ENV
  [[ $side == B ]] && bin=$B_BIN env=$B_ENV
  printf '%s (%s%s), %d streams: median p50 %.1f ms, p99 %.1f ms, RSS %.1f KiB/stream; runs p99 %s; RSS %s; missing %s\n' \
    "$side" "$bin" "${env:+ $env}" "$N" "$(med ${P50[$side]})" "$(med ${P99[$side]})" "$(med ${RSS[$side]})" \
    "${P99[$side]}" "${RSS[$side]}" "${MISSING[$side]}"
done
awk -v a="$(med ${P99[A]})" -v b="$(med ${P99[B]})" -v ra="$(med ${RSS[A]})" -v rb="$(med ${RSS[B]})" \
  'BEGIN { printf "B/A: p99 %+.1f %%, RSS per stream %+.1f %%\n", (b / a - 1) * 100, (rb / ra - 1) * 100 }'
