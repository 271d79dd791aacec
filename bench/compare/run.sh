#!/usr/bin/env bash
# `make bench-compare`: the gateway against the fixed yardstick of bench/bare, in one run, with
# one method for every server (docs/benchmarks.md, "The yardstick"), printing each figure as a
# ratio to the reference's.
#
#   make bench-compare                                   # the full run, ~12 minutes
#   RUNS=1 DURATION=3s STREAMS=1000 bash bench/compare/run.sh    # a smoke run
#   SRC=head bash bench/compare/run.sh                   # the last commit, not the work tree
#
# Method (the same for both servers): the server pinned to CPU $SERVER_CPU with taskset, the load
# on CPU $WRK_CPU; the same GOGC and GOMEMLIMIT for every server; tracing off.
#  - OFREP single and bulk (the 10 flags of bench/ofrep/flags.json): wrk, $THREADS threads,
#    $CONNS connections, $DURATION, a fresh targetingKey per request (bench/ofrep/ofrep.lua);
#    $RUNS interleaved rounds, median; each run waits for a quiet machine (bench/lib.sh).
#  - Response size: header + body bytes of one single evaluation.
#  - Streams: for each N in $STREAMS, N idle SSE clients (bench/sse), $CHANGES changes through
#    each server's own admin path, latency at every client from the moment the change request
#    is sent; RSS per idle stream after a GC.
#  - Start-up: exec → first 200 on the single evaluation (bench/startup), the gateway on a
#    database after `voiceassist seed` (voice models load on first use), and the idle RSS 2 s
#    later; median of $STARTUPS.
# Raw output stays in $OUT.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
LOG_PREFIX=compare
# shellcheck source=bench/lib.sh
source bench/lib.sh

OUT=${OUT:-.data/bench-compare}
PORT=${PORT:-18280} # gateway; +10 bare; pprof +1000
SERVER_CPU=${SERVER_CPU:-0}
WRK_CPU=${WRK_CPU:-1}
THREADS=${THREADS:-2}
CONNS=${CONNS:-50}
DURATION=${DURATION:-10s}
RUNS=${RUNS:-3}
STREAMS=${STREAMS:-5000 10000}
CHANGES=${CHANGES:-20}
STARTUPS=${STARTUPS:-3}
export GOGC=${GOGC:-100} GOMEMLIMIT=${GOMEMLIMIT:-off}
FLAGS=bench/ofrep/flags.json
LUA=bench/ofrep/ofrep.lua
ADMIN_EMAIL=bench@example.org
ADMIN_PASSWORD=Loopback-Passphrase-4711
JWT_SECRET_KEY=bench-jwt-secret-key-0123456789abcdef-not-for-production
K='{"context":{"targetingKey":"user-1-1"}}'

need_tool wrk wrk
need_tool taskset util-linux
need_tool jq jq
need_tool curl curl
need_tool ss iproute2
need_tool psql postgresql-client
[[ "$(nproc)" -ge 2 ]] || die "needs 2 CPUs (servers on $SERVER_CPU, load on $WRK_CPU)"
ulimit -n "$(ulimit -Hn)" # 10,000 streams need 10,000 descriptors on each side
mkdir -p "$OUT"
rm -f "$OUT"/*.txt "$OUT"/*.log

take_port "$PORT"
take_port $((PORT + 10))
take_port $((PORT + 1000))
take_port $((PORT + 1010))
read -r GW_PORT BARE_PORT GW_PPROF BARE_PPROF <<<"$TAKEN"
GW=http://127.0.0.1:$GW_PORT
BARE=http://127.0.0.1:$BARE_PORT

eval "$(scripts/services.sh up)"
bench_database voiceassist_compare
LOAD_URL=$BENCH_URL
bench_database voiceassist_compare_seed
SEED_URL=$BENCH_URL

PIDS=()
cleanup() {
  local rc=$? p
  set +e
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  psql "$ADMIN_URL" -qX -c "DROP DATABASE IF EXISTS voiceassist_compare WITH (FORCE)" \
    -c "DROP DATABASE IF EXISTS voiceassist_compare_seed WITH (FORCE)" >/dev/null 2>&1
  redis-cli -u "$REDIS_URL" --scan --pattern 'compare:*' 2>/dev/null | xargs -r -n 500 redis-cli -u "$REDIS_URL" DEL >/dev/null 2>&1
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------------ build
build_gateway
go build -C bench/bare -o "$(realpath -m "$OUT")/bare" .
go build -o "$OUT/sse-load" ./bench/sse
go build -o "$OUT/startup" ./bench/startup

for db in voiceassist_compare voiceassist_compare_seed; do
  psql "$ADMIN_URL" -qX -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" \
    -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >&2
done

# gateway_env DATABASE_URL: the environment of every gateway start (tracing off).
gateway_env() {
  echo PATH="$PATH" HOME="${HOME:-/root}" GOGC="$GOGC" GOMEMLIMIT="$GOMEMLIMIT" \
    ENVIRONMENT=test HOST=127.0.0.1 PORT="$GW_PORT" LOG_LEVEL=warn DATA_DIR="$OUT/data" \
    DATABASE_URL="$1" REDIS_URL="$REDIS_URL" REDIS_KEY_PREFIX=compare: \
    RATE_LIMIT_ENABLED=false SSE_MAX_STREAMS=50000 SSE_MAX_STREAMS_PER_IP=50000 \
    ADMIN_EMAIL="$ADMIN_EMAIL" ADMIN_PASSWORD="$ADMIN_PASSWORD" JWT_SECRET_KEY="$JWT_SECRET_KEY" \
    JWT_ACCESS_TOKEN_EXPIRE_MINUTES=120 JWT_REFRESH_TOKEN_EXPIRE_MINUTES=240 OTEL_EXPORTER_OTLP_ENDPOINT= OTEL_TRACES_EXPORTER=none \
    PPROF_ADDR="127.0.0.1:$GW_PPROF"
}
start_gateway() { # DATABASE_URL: its pid is GW_PID
  # shellcheck disable=SC2046
  env -i $(gateway_env "$1") taskset -c "$SERVER_CPU" "$BIN" serve >>"$OUT/gateway.log" 2>&1 &
  GW_PID=$!
  PIDS+=("$GW_PID")
  wait_up gateway "$GW_PID" "$GW/ready" "$OUT/gateway.log"
}
stop() { kill "$1" && wait "$1" 2>/dev/null || true; }
login() {
  curl -sf -X POST -H 'Content-Type: application/json' \
    -d "$(jq -nc --arg e "$ADMIN_EMAIL" --arg p "$ADMIN_PASSWORD" '{email: $e, password: $p}')" \
    "$GW/api/auth/login" | jq -er .data.access_token
}

# ------------------------------------------------------------------ state
# The seeded database (start-up): `voiceassist seed`, as `make run` does.
# shellcheck disable=SC2046
env -i $(gateway_env "$SEED_URL") "$BIN" migrate up >>"$OUT/gateway.log" 2>&1
# shellcheck disable=SC2046
env -i $(gateway_env "$SEED_URL") "$BIN" seed >>"$OUT/gateway.log" 2>&1
# The load database: exactly the 10 flags of flags.json, plus the stream's flag.
start_gateway "$LOAD_URL"
TOKEN=$(login) || die "login failed"
while read -r f; do
  code=$(curl -s -o "$OUT/flag-create.json" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    -H "Authorization: Bearer $TOKEN" -d "$f" "$GW/api/admin/feature-flags")
  [[ "$code" == 20[01] ]] || die "creating $(jq -r .key <<<"$f"): HTTP $code: $(cat "$OUT/flag-create.json")"
done < <(jq -c '.[]' "$FLAGS")
NFLAGS=$(jq length "$FLAGS")
taskset -c "$SERVER_CPU" "$OUT/bare" -addr "127.0.0.1:$BARE_PORT" -flags "$FLAGS" -pprof "127.0.0.1:$BARE_PPROF" >"$OUT/bare.log" 2>&1 &
BARE_PID=$!
PIDS+=("$BARE_PID")
wait_up bare "$BARE_PID" "http://127.0.0.1:$BARE_PPROF/debug/pprof/cmdline" "$OUT/bare.log"
wait_flags "$GW" "$K" "$NFLAGS"
wait_flags "$BARE" "$K" "$NFLAGS"

# ------------------------------------------------------------------ OFREP
declare -A RPS=()
wrk_run() { # NAME URL [BEARER-TOKEN]
  local f=$OUT/wrk-$1-$r.txt line
  wait_quiet
  OFREP_TOKEN=${3:-} taskset -c "$WRK_CPU" wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s "$LUA" "$2" >"$f" 2>&1 || { cat "$f" >&2; die "wrk failed"; }
  line=$(grep '^BENCH ' "$f") || die "no BENCH line in $f"
  [[ "$line" == *" non2xx=0 socket_errors=0" ]] || die "$1: errors: $line"
  RPS[$1]+="$(sed 's/.* rps=\([0-9.]*\).*/\1/' <<<"$line") "
  log "round $r, $1: $(sed 's/.* rps=\([0-9.]*\).*/\1/' <<<"$line") req/s"
}
log "warm-up (3 s each)"
for u in "$GW" "$BARE"; do taskset -c "$WRK_CPU" wrk -t"$THREADS" -c"$CONNS" -d3s -s "$LUA" "$u/ofrep/v1/evaluate/flags/ui.dark_mode" >/dev/null; done
for ((r = 1; r <= RUNS; r++)); do
  wrk_run gw-single "$GW/ofrep/v1/evaluate/flags/ui.dark_mode"
  wrk_run gw-bearer "$GW/ofrep/v1/evaluate/flags/ui.dark_mode" "$TOKEN"
  wrk_run bare-single "$BARE/ofrep/v1/evaluate/flags/ui.dark_mode"
  wrk_run gw-bulk "$GW/ofrep/v1/evaluate/flags"
  wrk_run bare-bulk "$BARE/ofrep/v1/evaluate/flags"
done
size() { curl -s -o /dev/null -w '%{size_header} %{size_download}' -X POST -H 'Content-Type: application/json' -d "$K" "$1" | awk '{ print $1 + $2 }'; }
GW_BYTES=$(size "$GW/ofrep/v1/evaluate/flags/ui.dark_mode")
BARE_BYTES=$(size "$BARE/ofrep/v1/evaluate/flags/ui.dark_mode")

# ------------------------------------------------------------------ streams
declare -A SSE=()
sse_run() { # NAME BASE PID PPROF N
  local f=$OUT/sse-$1-$5.txt
  wait_quiet
  taskset -c "$WRK_CPU" "$OUT/sse-load" -url "$2" -token "$TOKEN" -n "$5" -changes "$CHANGES" -pid "$3" -pprof "$4" \
    >>"$OUT/sse-table.txt" 2>"$f" || { cat "$f" >&2; die "stream run $1 with $5 streams failed"; }
  SSE[$1-$5]=$(grep '^SSEBENCH ' "$f") || die "no SSEBENCH line in $f"
  log "$1, $5 streams: ${SSE[$1-$5]}"
  sleep 2 # the streams close; let both servers settle
}
curl -sf -o /dev/null -X POST -H 'Content-Type: application/json' -H "Authorization: Bearer $TOKEN" \
  -d '{"key":"ui.bench_stream","type":"boolean","enabled":true,"visibility":"public"}' "$GW/api/admin/feature-flags" ||
  die "creating ui.bench_stream"
for n in $STREAMS; do
  TOKEN=$(login) || die "login failed"
  sse_run gw "$GW" "$GW_PID" "127.0.0.1:$GW_PPROF" "$n"
  sse_run bare "$BARE" "$BARE_PID" "127.0.0.1:$BARE_PPROF" "$n"
done
stop "$GW_PID"
stop "$BARE_PID"

# ------------------------------------------------------------------ start-up
declare -A UP_MS=() UP_RSS=()
# A copy of the binary: the one the linker has just written is mapped in 2 MiB pages and shows
# ~25 MiB more RSS than the same file installed by a copy (bench/startup/main.go).
cp "$BIN" "$OUT/voiceassist-startup"
startup_run() { # NAME URL CMD...
  local name=$1 url=$2 line
  shift 2
  wait_quiet
  line=$("$OUT/startup" -url "$url" -- "$@" 2>>"$OUT/startup.log" | grep '^STARTUP ') || die "start-up of $name failed ($OUT/startup.log)"
  UP_MS[$name]+="$(sed 's/.* ms=\([0-9.]*\).*/\1/' <<<"$line") "
  UP_RSS[$name]+="$(sed 's/.* rss_kib=\([0-9]*\).*/\1/' <<<"$line") "
  log "start-up $name: $line"
}
for ((r = 1; r <= STARTUPS; r++)); do
  # shellcheck disable=SC2046
  startup_run gw "$GW/ofrep/v1/evaluate/flags/ui.dark_mode" env -i $(gateway_env "$SEED_URL") taskset -c "$SERVER_CPU" "$OUT/voiceassist-startup" serve
  startup_run bare "$BARE/ofrep/v1/evaluate/flags/ui.dark_mode" taskset -c "$SERVER_CPU" "$OUT/bare" -addr "127.0.0.1:$BARE_PORT" -flags "$FLAGS"
done

# ------------------------------------------------------------------ report
# shellcheck disable=SC2086
{
  gs=$(median ${RPS[gw-single]}) bs=$(median ${RPS[bare-single]})
  gb=$(median ${RPS[gw-bulk]}) bb=$(median ${RPS[bare-bulk]})
  ga=$(median ${RPS[gw-bearer]})
  field() { sed "s/.* $2=\([0-9.]*\).*/\1/" <<<"${SSE[$1]}"; }
  ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
  cat <<EOF

## bench-compare ($(date -u +%Y-%m-%d), $REV; GOGC=$GOGC GOMEMLIMIT=$GOMEMLIMIT, tracing off)

Servers on CPU $SERVER_CPU, load on CPU $WRK_CPU; wrk $THREADS threads, $CONNS connections, $DURATION, median of $RUNS
interleaved rounds; streams: $CHANGES changes; start-up: median of $STARTUPS.

| figure | gateway | bare | ratio (gateway / bare) |
| --- | ---: | ---: | ---: |
| OFREP single evaluation, req/s | $(printf '%.0f' "$gs") | $(printf '%.0f' "$bs") | $(ratio "$gs" "$bs") |
| OFREP single evaluation with a Bearer token, req/s (ratio: to the gateway's anonymous rate) | $(printf '%.0f' "$ga") | | $(ratio "$ga" "$gs") |
| OFREP bulk ($NFLAGS flags), req/s | $(printf '%.0f' "$gb") | $(printf '%.0f' "$bb") | $(ratio "$gb" "$bb") |
| response size, bytes per single evaluation | $GW_BYTES | $BARE_BYTES | $(ratio "$GW_BYTES" "$BARE_BYTES") |
EOF
  for n in $STREAMS; do
    printf '| change→delivery at %d streams, p50 ms | %s | %s | %s |\n' "$n" "$(field gw-$n p50_ms)" "$(field bare-$n p50_ms)" "$(ratio "$(field gw-$n p50_ms)" "$(field bare-$n p50_ms)")"
    printf '| change→delivery at %d streams, p99 ms | %s | %s | %s |\n' "$n" "$(field gw-$n p99_ms)" "$(field bare-$n p99_ms)" "$(ratio "$(field gw-$n p99_ms)" "$(field bare-$n p99_ms)")"
    printf '| RSS per idle stream at %d, KiB | %s | %s | %s |\n' "$n" "$(field gw-$n rss_per_stream_kib)" "$(field bare-$n rss_per_stream_kib)" "$(ratio "$(field gw-$n rss_per_stream_kib)" "$(field bare-$n rss_per_stream_kib)")"
    printf '| events missing at %d streams | %s | %s | |\n' "$n" "$(field gw-$n missing)" "$(field bare-$n missing)"
  done
  um=$(median ${UP_MS[gw]}) bm=$(median ${UP_MS[bare]})
  ur=$(median ${UP_RSS[gw]}) br=$(median ${UP_RSS[bare]})
  printf '| start-up to first evaluation, ms | %s | %s | %s |\n' "$um" "$bm" "$(ratio "$um" "$bm")"
  printf '| idle RSS after start-up, MiB | %.1f | %.1f | %s |\n' "$(awk -v k="$ur" 'BEGIN { print k / 1024 }')" "$(awk -v k="$br" 'BEGIN { print k / 1024 }')" "$(ratio "$ur" "$br")"
  echo
  echo "Runs (req/s): gateway single ${RPS[gw-single]}/ gateway Bearer ${RPS[gw-bearer]}/ bare single ${RPS[bare-single]}/ gateway bulk ${RPS[gw-bulk]}/ bare bulk ${RPS[bare-bulk]}"
}
