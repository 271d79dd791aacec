#!/usr/bin/env bash
# OFREP evaluation over loopback with wrk (docs/benchmarks.md, "OFREP evaluation over HTTP").
#
#   bash bench/ofrep/run.sh                      # the full run: 8 scenarios x 3 runs, ~10 minutes
#                                                # (more while it waits for other work to finish)
#   SRC=head bash bench/ofrep/run.sh             # measure the last commit, not the work tree
#   RUNS=1 DURATION=3s PROFILE=0 bash bench/ofrep/run.sh   # a smoke run
#   RUNS=0 bash bench/ofrep/run.sh               # the CPU profiles only
#
# 1. Starts (or reuses) PostgreSQL and Redis with scripts/services.sh, builds bin/voiceassist
#    (make build), recreates a throwaway database on the same server and starts, all pinned to
#    CPU $SERVER_CPU with taskset (so each has GOMAXPROCS 1):
#      - the gateway with LOG_LEVEL=warn (the main subject),
#      - a second gateway on the same database with LOG_LEVEL=info (access log on),
#      - the bare net/http JSON server (bench/bare), to calibrate the machine.
#    Only the server under test gets traffic; the others idle.
# 2. Logs in as the bootstrap superadmin and creates the 10 public flags of flags.json.
# 3. Runs wrk pinned to CPU $WRK_CPU ($THREADS threads, $CONNS connections, $DURATION) with
#    ofrep.lua (a fresh targeting key on every request), RUNS rounds of every scenario,
#    interleaved, so that a slow spell of the machine hits all scenarios alike.
# 4. Prints a markdown table with the median of the runs and the exact commands.
# 5. Takes an 8 s CPU profile during a single-evaluation run and during a bulk run
#    (bench/ofrep/profile-{single,bulk}.txt flat, profile-*-cum.txt cumulative), and the heap
#    allocations of those runs (profile-*-allocs.txt, objects, cumulative); and the same for a
#    single-evaluation run against the LOG_LEVEL=info gateway (profile-single-info*.txt).
# On exit it stops the servers, drops the database and deletes the bench: Redis keys.
# Raw wrk output, the server logs and the profiles (.pb.gz) stay in .data/bench-ofrep/.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
HERE=bench/ofrep
LUA=$HERE/ofrep.lua
OUT=${OUT:-.data/bench-ofrep}

PORT=${PORT:-18080}             # gateway, LOG_LEVEL=warn; +1 the info gateway; +10 the baseline
PPROF_PORT=${PPROF_PORT:-16060} # pprof of the warn gateway (+1: the info gateway's)
SERVER_CPU=${SERVER_CPU:-0}
WRK_CPU=${WRK_CPU:-1}
THREADS=${THREADS:-2}
CONNS=${CONNS:-50}
DURATION=${DURATION:-10s}
RUNS=${RUNS:-3}
PROFILE=${PROFILE:-1}              # 0 skips the CPU profiles
GATEWAY_ENV=${GATEWAY_ENV:-}       # more VAR=value words for both gateways, e.g. GOGC=400
QUIET_PCT=${QUIET_PCT:-10}         # a run starts when the machine uses at most this % of a CPU ...
QUIET_WAIT=${QUIET_WAIT:-300}      # ... or after this many seconds of waiting (bench/lib.sh)
DISTURBED_PCT=${DISTURBED_PCT:-10} # a run during which other work used more is repeated (2x max)
BENCH_DB=voiceassist_bench
ADMIN_EMAIL=bench@example.org
ADMIN_PASSWORD=Loopback-Passphrase-4711 # must not contain the email's local part
JWT_SECRET_KEY=bench-jwt-secret-key-0123456789abcdef-not-for-production
# The 10-rule scenario sends the attributes of BenchmarkEvaluate10Rules (internal/flag): the
# first condition of every rule matches, the second does not, so all 20 conditions run.
RULE_ATTRS='"plan":"pro","country":"US","email":"ana@example.com","app_version":"2.3.1","age":34,"beta":false,"segment":"a"'

LOG_PREFIX=bench
# shellcheck source=bench/lib.sh
source bench/lib.sh

# ------------------------------------------------------------------ prerequisites
need_tool wrk wrk
need_tool taskset util-linux
need_tool jq jq
need_tool curl curl
need_tool ss iproute2
[[ "$(nproc)" -ge 2 ]] || die "needs 2 CPUs (servers on $SERVER_CPU, wrk on $WRK_CPU)"

mkdir -p "$OUT"
rm -f "$OUT"/*.txt "$OUT"/*.log "$OUT"/*.pb.gz

take_port "$PORT"
take_port $((PORT + 1))
take_port $((PORT + 10))
take_port "$PPROF_PORT"
take_port $((PPROF_PORT + 1))
read -r GW_PORT INFO_PORT BASE_PORT PPROF_GW PPROF_INFO <<<"$TAKEN"
GW=http://127.0.0.1:$GW_PORT
INFO=http://127.0.0.1:$INFO_PORT
BASELINE=http://127.0.0.1:$BASE_PORT

eval "$(scripts/services.sh up)"
need_tool psql postgresql-client
# The throwaway database lives on the same server as $DATABASE_URL.
bench_database "$BENCH_DB"

PIDS=()
WRK_PID=
cleanup() {
  local rc=$? p
  set +e
  [[ -n "$WRK_PID" ]] && kill "$WRK_PID" 2>/dev/null
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  psql "$ADMIN_URL" -qX -c "DROP DATABASE IF EXISTS $BENCH_DB WITH (FORCE)" >/dev/null 2>&1
  if command -v redis-cli >/dev/null 2>&1; then
    redis-cli -u "$REDIS_URL" --scan --pattern 'bench:*' 2>/dev/null |
      xargs -r -n 500 redis-cli -u "$REDIS_URL" DEL >/dev/null 2>&1
  fi
  # The info gateway's access log is large: keep its head only.
  if [[ -f "$OUT/server-info.log" ]]; then
    head -n 5 "$OUT/server-info.log" >"$OUT/server-info.head.log" && rm -f "$OUT/server-info.log"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------------ build and start
build_gateway
go build -C bench/bare -o "$(realpath -m "$OUT")/baseline" .

log "recreating database $BENCH_DB"
psql "$ADMIN_URL" -qX -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $BENCH_DB WITH (FORCE)" >&2
psql "$ADMIN_URL" -qX -v ON_ERROR_STOP=1 -c "CREATE DATABASE $BENCH_DB" >&2

# start_gateway LOG_LEVEL PORT PPROF_PORT: the gateway's pid is the last of PIDS.
start_gateway() {
  env -i PATH="$PATH" HOME="${HOME:-/root}" \
    ENVIRONMENT=test HOST=127.0.0.1 PORT="$2" LOG_LEVEL="$1" DATA_DIR="$OUT/data-$1" \
    DATABASE_URL="$BENCH_URL" REDIS_URL="$REDIS_URL" REDIS_KEY_PREFIX=bench: \
    RATE_LIMIT_ENABLED=false ADMIN_EMAIL="$ADMIN_EMAIL" ADMIN_PASSWORD="$ADMIN_PASSWORD" \
    JWT_SECRET_KEY="$JWT_SECRET_KEY" JWT_ACCESS_TOKEN_EXPIRE_MINUTES=60 JWT_REFRESH_TOKEN_EXPIRE_MINUTES=120 \
    PPROF_ADDR="127.0.0.1:$3" $GATEWAY_ENV \
    taskset -c "$SERVER_CPU" "$BIN" serve >"$OUT/server-$1.log" 2>&1 &
  PIDS+=($!)
  wait_up "gateway LOG_LEVEL=$1" $! "http://127.0.0.1:$2/ready" "$OUT/server-$1.log"
}

log "load before start: $(cut -d' ' -f1-3 /proc/loadavg)"
start_gateway warn "$GW_PORT" "$PPROF_GW"
GW_PID=${PIDS[-1]}
# The second replica migrates nothing and finds the superadmin there already.
start_gateway info "$INFO_PORT" "$PPROF_INFO"
INFO_PID=${PIDS[-1]}
taskset -c "$SERVER_CPU" "$OUT/baseline" -addr "127.0.0.1:$BASE_PORT" -flags "$HERE/flags.json" >"$OUT/baseline.log" 2>&1 &
PIDS+=($!)
BASELINE_PID=$!
for ((i = 0; i < 40; i++)); do
  curl -sf -o /dev/null -X POST -d '{}' "$BASELINE/ofrep/v1/evaluate/flags/ui.dark_mode" && break
  sleep 0.25
done

login() {
  curl -sf -X POST -H 'Content-Type: application/json' \
    -d "$(jq -nc --arg e "$ADMIN_EMAIL" --arg p "$ADMIN_PASSWORD" '{email: $e, password: $p}')" \
    "$GW/api/auth/login" | jq -er .data.access_token
}

# check URL BODY JQ-EXPRESSION [TOKEN]: one request must answer 200 with a body that passes jq -e.
check() {
  local auth=() body
  [[ -n "${4:-}" ]] && auth=(-H "Authorization: Bearer $4")
  body=$(curl -sS -X POST -H 'Content-Type: application/json' "${auth[@]}" -d "$2" -w '\n%{http_code}' "$1")
  [[ "${body##*$'\n'}" == 200 ]] || die "POST $1: HTTP ${body##*$'\n'}: ${body%$'\n'*}"
  jq -e "$3" >/dev/null <<<"${body%$'\n'*}" || die "POST $1: unexpected answer ${body%$'\n'*}"
}

# ------------------------------------------------------------------ flags
TOKEN=$(login) || die "login failed"
NFLAGS=$(jq length "$HERE/flags.json")
log "creating $NFLAGS flags"
while read -r f; do
  code=$(curl -s -o "$OUT/flag-create.json" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    -H "Authorization: Bearer $TOKEN" -d "$f" "$GW/api/admin/feature-flags")
  [[ "$code" == 20[01] ]] || die "creating $(jq -r .key <<<"$f"): HTTP $code: $(cat "$OUT/flag-create.json")"
done < <(jq -c '.[]' "$HERE/flags.json")
wait_flags "$GW" '{}' "$NFLAGS"
wait_flags "$INFO" '{}' "$NFLAGS"

K='{"context":{"targetingKey":"user-1-1"}}'
check "$GW/ofrep/v1/evaluate/flags/ui.dark_mode" "$K" '.value == true and .reason == "STATIC"'
check "$GW/ofrep/v1/evaluate/flags/experiment.new_checkout" "$K" '.reason == "SPLIT" and (.variant | IN("control", "variant_a", "variant_b"))'
check "$GW/ofrep/v1/evaluate/flags/experiment.checkout_rules" "{\"context\":{\"targetingKey\":\"user-1-1\",$RULE_ATTRS}}" '.reason != "TARGETING_MATCH"'
check "$GW/ofrep/v1/evaluate/flags" "$K" ".flags | length == $NFLAGS"
check "$GW/ofrep/v1/evaluate/flags/ui.dark_mode" "$K" '.value == true' "$TOKEN"
check "$INFO/ofrep/v1/evaluate/flags/ui.dark_mode" "$K" '.value == true'
check "$BASELINE/ofrep/v1/evaluate/flags/ui.dark_mode" "$K" '.value == true'

# ------------------------------------------------------------------ measuring
# Every run first waits until the machine is quiet (wait_quiet, bench/lib.sh), and counts the
# CPU time that neither the server under test nor wrk used while it ran ("other", in % of one CPU: kernel threads, the idle servers,
# PostgreSQL and Redis for the authenticated scenario, anything else). A run with more than
# DISTURBED_PCT is repeated (twice at most) unless the scenario itself uses PostgreSQL/Redis.
proc_jiffies() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }          # utime+stime
children_secs() { awk 'NR == 2 { s = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); sub(/s$/, "", a[2]); s += a[1] * 60 + a[2] } print s }' "$1"; }
# The scenarios: label, URL, pid of the server under test, extra environment for ofrep.lua
# (VAR=value lines), and whether it sends the bearer token (a fresh login before each run).
S_LABEL=() S_URL=() S_PID=() S_ENV=() S_AUTH=()
add() { S_LABEL+=("$1") S_URL+=("$2") S_PID+=("$3") S_ENV+=("${4:-}") S_AUTH+=("${5:-0}"); }
add 'GET /health (the stack without a body)' "$GW/health" "$GW_PID" 'WRK_METHOD=GET'
add 'single, boolean `ui.dark_mode`' "$GW/ofrep/v1/evaluate/flags/ui.dark_mode" "$GW_PID"
add 'single, 3 variants `experiment.new_checkout`' "$GW/ofrep/v1/evaluate/flags/experiment.new_checkout" "$GW_PID"
add 'single, 10 rules `experiment.checkout_rules`' "$GW/ofrep/v1/evaluate/flags/experiment.checkout_rules" "$GW_PID" "OFREP_ATTRS=$RULE_ATTRS"
add 'bulk, 10 flags' "$GW/ofrep/v1/evaluate/flags" "$GW_PID"
add 'single, boolean, Bearer token' "$GW/ofrep/v1/evaluate/flags/ui.dark_mode" "$GW_PID" '' 1
add 'single, boolean, LOG_LEVEL=info' "$INFO/ofrep/v1/evaluate/flags/ui.dark_mode" "$INFO_PID"
add 'bare net/http JSON server (calibration)' "$BASELINE/ofrep/v1/evaluate/flags/ui.dark_mode" "$BASELINE_PID"
NS=${#S_LABEL[@]}
R_RPS=() R_P50=() R_P99=() R_OTHER=()
for ((s = 0; s < NS; s++)); do R_RPS+=("") R_P50+=("") R_P99+=("") R_OTHER+=(""); done

wrk_cmd() { # URL [DURATION]
  echo "taskset -c $WRK_CPU wrk -t$THREADS -c$CONNS -d${2:-$DURATION} --latency -s $LUA $1"
}

# run_once S ROUND: one measured wrk run of scenario S, repeated when disturbed.
run_once() {
  local s=$1 r=$2 f try line kv other m0 m1 s0 s1 w0 w1 envs=()
  f=$OUT/s$s-run$r.txt
  [[ -n "${S_ENV[s]}" ]] && mapfile -t envs <<<"${S_ENV[s]}"
  for ((try = 1; ; try++)); do
    if [[ "${S_AUTH[s]}" == 1 ]]; then
      TOKEN=$(login) || die "login failed"
      envs=("OFREP_TOKEN=$TOKEN")
    fi
    wait_quiet
    read -r m0 _ < <(machine_jiffies)
    s0=$(proc_jiffies "${S_PID[s]}")
    times >"$OUT/times0"
    env "${envs[@]}" $(wrk_cmd "${S_URL[s]}") >"$f" 2>&1 || { cat "$f" >&2; die "wrk failed"; }
    times >"$OUT/times1"
    s1=$(proc_jiffies "${S_PID[s]}")
    read -r m1 _ < <(machine_jiffies)
    w0=$(children_secs "$OUT/times0")
    w1=$(children_secs "$OUT/times1")
    line=$(grep '^BENCH ' "$f") || die "no BENCH line in $f"
    local -A m=()
    for kv in ${line#BENCH }; do m[${kv%%=*}]=${kv#*=}; done
    if ((m[non2xx] + m[socket_errors] > 0)); then
      die "${S_LABEL[s]} run $r: ${m[non2xx]} non-2xx answers, ${m[socket_errors]} socket errors ($f)"
    fi
    # other = machine busy (without softirq, which the benchmark's own packets cause) minus the
    # server under test minus wrk, in % of one CPU over the run.
    other=$(awk -v m="$((m1 - m0))" -v sv="$((s1 - s0))" -v t="$TCK" -v w0="$w0" -v w1="$w1" -v d="${m[duration_us]}" \
      'BEGIN { o = ((m - sv) / t - (w1 - w0)) / (d / 1e6) * 100; printf "%.0f", o < 0 ? 0 : o }')
    echo "OTHER_CPU_PCT=$other server_cpu_s=$(awk -v s="$((s1 - s0))" -v t="$TCK" 'BEGIN { print s / t }') wrk_cpu_s=$(awk -v a="$w0" -v b="$w1" 'BEGIN { print b - a }')" >>"$f"
    log "round $r, ${S_LABEL[s]}: $(printf '%.0f' "${m[rps]}") req/s, p50 ${m[p50_us]} us, p99 ${m[p99_us]} us, other ${other}% of a CPU"
    if ((other <= DISTURBED_PCT)) || [[ "${S_AUTH[s]}" == 1 ]] || ((try >= 3)); then
      break
    fi
    log "run disturbed by other work (${other}% of a CPU): repeating it"
  done
  R_RPS[s]+="${m[rps]} " R_P50[s]+="${m[p50_us]} " R_P99[s]+="${m[p99_us]} " R_OTHER[s]+="$other "
}

log "warm-up (3 s each, not counted)"
for u in "$GW/ofrep/v1/evaluate/flags/ui.dark_mode" "$INFO/ofrep/v1/evaluate/flags/ui.dark_mode" "$BASELINE/ofrep/v1/evaluate/flags/ui.dark_mode"; do
  $(wrk_cmd "$u" 3s) >/dev/null
done
for ((r = 1; r <= RUNS; r++)); do
  for ((s = 0; s < NS; s++)); do run_once "$s" "$r"; done
done

# ------------------------------------------------------------------ profiles
# memstats BASE: "mallocs bytes" so far, from that gateway's Go collector (/metrics).
memstats() {
  curl -sf "$1/metrics" | awk '/^go_memstats_mallocs_total / { m = $2 } /^go_memstats_alloc_bytes_total / { b = $2 }
    END { printf "%.0f %.0f\n", m, b }'
}
# profile NAME URL [PPROF_PORT]: wrk runs 10 s; an 8 s CPU profile of the gateway behind URL
# (the warn one unless PPROF_PORT says otherwise) is taken from its second 1. The header of the saved text adds the throughput of that run and the heap
# allocations per request over the whole run.
profile() {
  local a0 b0 a1 b1 line pp=${3:-$PPROF_GW} base=${2%/ofrep/*}
  wait_quiet
  log "profiling $1 ($2)"
  read -r a0 b0 < <(memstats "$base")
  curl -sf -o "$OUT/allocs0-$1.pb.gz" "http://127.0.0.1:$pp/debug/pprof/allocs"
  $(wrk_cmd "$2" 10s) >"$OUT/profile-$1-wrk.txt" 2>&1 &
  WRK_PID=$!
  sleep 1
  curl -sf -o "$OUT/cpu-$1.pb.gz" "http://127.0.0.1:$pp/debug/pprof/profile?seconds=8"
  wait "$WRK_PID"
  WRK_PID=
  read -r a1 b1 < <(memstats "$base")
  curl -sf -o "$OUT/allocs1-$1.pb.gz" "http://127.0.0.1:$pp/debug/pprof/allocs"
  line=$(grep '^BENCH ' "$OUT/profile-$1-wrk.txt")
  line=$(awk -v l="$line" -v a="$((a1 - a0))" -v b="$((b1 - b0))" 'BEGIN {
    n = split(l, kv, " "); for (i = 2; i <= n; i++) { split(kv[i], p, "="); v[p[1]] = p[2] }
    printf "# %s: %.0f req/s during the profile (wrk, %d requests); %.0f heap allocations and %.0f bytes per request (go_memstats)\n",
      "'"$1"'", v["rps"], v["requests"], a / v["requests"], b / v["requests"] }')
  { echo "$line"; go tool pprof -top -nodecount=35 "$OUT/cpu-$1.pb.gz" 2>/dev/null; } >"$HERE/profile-$1.txt"
  { echo "$line"; go tool pprof -top -cum -nodecount=60 "$OUT/cpu-$1.pb.gz" 2>/dev/null; } >"$HERE/profile-$1-cum.txt"
  { echo "$line"; go tool pprof -sample_index=alloc_objects -top -cum -nodecount=40 -base "$OUT/allocs0-$1.pb.gz" "$OUT/allocs1-$1.pb.gz" 2>/dev/null; } >"$HERE/profile-$1-allocs.txt"
  log "wrote $HERE/profile-$1{,-cum,-allocs}.txt: ${line#\# }"
}
if [[ "$PROFILE" == 1 ]]; then
  profile single "$GW/ofrep/v1/evaluate/flags/ui.dark_mode"
  profile bulk "$GW/ofrep/v1/evaluate/flags"
  profile single-info "$INFO/ofrep/v1/evaluate/flags/ui.dark_mode" "$PPROF_INFO"
fi

# ------------------------------------------------------------------ report
((RUNS > 0)) || exit 0
ms() { awk -v u="$1" 'BEGIN { printf "%.2f ms", u / 1000 }'; }
cat <<EOF

## OFREP over loopback: median of $RUNS runs ($(date -u +%Y-%m-%d), $REV${GATEWAY_ENV:+, gateway env: $GATEWAY_ENV})

Servers on CPU $SERVER_CPU (taskset, GOMAXPROCS 1), wrk on CPU $WRK_CPU: $THREADS threads, $CONNS connections, $DURATION;
the scenarios ran in $RUNS interleaved rounds. LOG_LEVEL=warn, anonymous caller, public flags unless stated;
request validation on. "other CPU": CPU time used by neither the server under test nor wrk during
the runs, in % of one CPU (median): PostgreSQL and Redis in the Bearer row, noise elsewhere.

| scenario | req/s (median) | p50 | p99 | req/s of each run | other CPU |
| --- | ---: | ---: | ---: | --- | ---: |
EOF
for ((s = 0; s < NS; s++)); do
  # shellcheck disable=SC2086
  printf '| %s | %.0f | %s | %s | %s | %s%% |\n' "${S_LABEL[s]}" "$(median ${R_RPS[s]})" \
    "$(ms "$(median ${R_P50[s]})")" "$(ms "$(median ${R_P99[s]})")" \
    "$(for v in ${R_RPS[s]}; do printf '%.0f ' "$v"; done | sed 's/ $//; s/ / \/ /g')" \
    "$(median ${R_OTHER[s]})"
done
echo
echo 'Commands (from the repository root, with the servers running):'
echo
echo '```sh'
for ((s = 0; s < NS; s++)); do
  prefix=
  if [[ "${S_AUTH[s]}" == 1 ]]; then
    prefix='OFREP_TOKEN="$TOKEN" '
  elif [[ -n "${S_ENV[s]}" ]]; then
    mapfile -t envs <<<"${S_ENV[s]}"
    prefix=$(printf '%q ' "${envs[@]}")
  fi
  echo "$prefix$(wrk_cmd "${S_URL[s]}")"
done
echo '```'
