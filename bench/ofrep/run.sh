#!/usr/bin/env bash
# OFREP evaluation over loopback with wrk (docs/benchmarks.md, "OFREP evaluation over HTTP").
#
#   bash bench/ofrep/run.sh                       # the full run, about 6 minutes
#   RUNS=1 DURATION=3s PROFILE=0 INFO_RUN=0 BASELINE=0 bash bench/ofrep/run.sh   # a smoke run
#   SRC=head bash bench/ofrep/run.sh             # measure the last commit, not the work tree
#
# 1. Starts (or reuses) PostgreSQL and Redis with scripts/services.sh, builds bin/voiceassist
#    (make build), recreates a throwaway database on the same server and starts the gateway
#    pinned to CPU $SERVER_CPU with taskset (so GOMAXPROCS is 1), LOG_LEVEL=warn.
# 2. Logs in as the bootstrap superadmin and creates the 10 public flags of flags.json.
# 3. Runs wrk pinned to CPU $WRK_CPU ($THREADS threads, $CONNS connections, $DURATION) $RUNS
#    times per scenario, with ofrep.lua (a fresh targeting key on every request).
# 4. Prints a markdown table with the median of the runs and the exact commands.
# 5. Takes an 8 s CPU profile during a single-evaluation run and a bulk run
#    (bench/ofrep/profile-{single,bulk}.txt, flat and cumulative -top text).
# 6. Measures a bare net/http JSON server (baseline/) the same way, to calibrate the machine.
# 7. Restarts the gateway with LOG_LEVEL=info and measures the single evaluation again.
# On exit it stops the gateway, drops the database and deletes the bench: Redis keys.
# Raw wrk output, the server logs and the profiles (.pb.gz) stay in .data/bench-ofrep/.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
HERE=bench/ofrep
LUA=$HERE/ofrep.lua
OUT=${OUT:-.data/bench-ofrep}

PORT=${PORT:-18080}
PPROF_PORT=${PPROF_PORT:-16060}
SERVER_CPU=${SERVER_CPU:-0}
WRK_CPU=${WRK_CPU:-1}
THREADS=${THREADS:-2}
CONNS=${CONNS:-50}
DURATION=${DURATION:-10s}
RUNS=${RUNS:-3}
PROFILE=${PROFILE:-1}   # 0 skips the CPU profiles
INFO_RUN=${INFO_RUN:-1} # 0 skips the LOG_LEVEL=info run
BASELINE=${BASELINE:-1} # 0 skips the bare net/http calibration run (baseline/main.go)
QUIET_PCT=${QUIET_PCT:-10}         # a run starts when the machine uses at most this % of a CPU ...
QUIET_WAIT=${QUIET_WAIT:-300}      # ... or after this many seconds of waiting
DISTURBED_PCT=${DISTURBED_PCT:-10} # a run during which other work used more is repeated
BENCH_DB=voiceassist_bench
ADMIN_EMAIL=bench@example.org
ADMIN_PASSWORD=Loopback-Passphrase-4711 # must not contain the email's local part
JWT_SECRET_KEY=bench-jwt-secret-key-0123456789abcdef-not-for-production
# The 10-rule scenario sends the attributes of BenchmarkEvaluate10Rules (internal/flag): the
# first condition of every rule matches, the second does not, so all 20 conditions run.
RULE_ATTRS='"plan":"pro","country":"US","email":"ana@example.com","app_version":"2.3.1","age":34,"beta":false,"segment":"a"'

log() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench: ERROR: %s\n' "$*" >&2; exit 1; }

# ------------------------------------------------------------------ prerequisites
need_tool() { # tool debian-package
  command -v "$1" >/dev/null 2>&1 && return 0
  [[ "$(id -u)" -eq 0 ]] || die "$1 is missing: apt-get install -y $2"
  log "installing $2"
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >&2
}
need_tool wrk wrk
need_tool taskset util-linux
need_tool jq jq
need_tool curl curl
need_tool ss iproute2
[[ "$(nproc)" -ge 2 ]] || die "needs 2 CPUs (server on $SERVER_CPU, wrk on $WRK_CPU)"

mkdir -p "$OUT"
rm -f "$OUT"/*.txt "$OUT"/*.log "$OUT"/*.pb.gz

port_free() { ! ss -Htln "sport = :$1" | grep -q .; }
free_port() { local p=$1; until port_free "$p"; do p=$((p + 1)); done; echo "$p"; }
PORT=$(free_port "$PORT")
PPROF_PORT=$(free_port "$PPROF_PORT")
[[ "$PPROF_PORT" != "$PORT" ]] || PPROF_PORT=$(free_port $((PORT + 1)))
BASE=http://127.0.0.1:$PORT

eval "$(scripts/services.sh up)"
need_tool psql postgresql-client
# The throwaway database lives on the same server as $DATABASE_URL.
url_base=${DATABASE_URL%%\?*}
url_query=
[[ "$DATABASE_URL" == *\?* ]] && url_query="?${DATABASE_URL#*\?}"
ADMIN_URL="${url_base%/*}/postgres$url_query"
BENCH_URL="${url_base%/*}/$BENCH_DB$url_query"

SERVER_PID=
WRK_PID=
stop_server() {
  if [[ -n "$SERVER_PID" ]]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
  fi
}
cleanup() {
  local rc=$?
  set +e
  [[ -n "$WRK_PID" ]] && kill "$WRK_PID" 2>/dev/null
  stop_server
  psql "$ADMIN_URL" -qX -c "DROP DATABASE IF EXISTS $BENCH_DB WITH (FORCE)" >/dev/null 2>&1
  if command -v redis-cli >/dev/null 2>&1; then
    redis-cli -u "$REDIS_URL" --scan --pattern 'bench:*' 2>/dev/null |
      xargs -r -n 500 redis-cli -u "$REDIS_URL" DEL >/dev/null 2>&1
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# SRC=head builds the last commit (git archive HEAD) instead of the working tree, for a
# measurement that names its commit while others have edits in progress.
if [[ "${SRC:-tree}" == head ]]; then
  log "building bin/voiceassist from $(git rev-parse --short HEAD) in $OUT/src"
  rm -rf "$OUT/src" && mkdir -p "$OUT/src"
  git archive HEAD | tar -x -C "$OUT/src"
  make -s -C "$OUT/src" build >&2
  BIN=$OUT/src/bin/voiceassist
  REV=$(git rev-parse --short HEAD)
else
  log "building bin/voiceassist"
  make -s build >&2
  BIN=bin/voiceassist
  REV="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!bench' ':!docs' || echo ' + uncommitted changes')"
fi

log "recreating database $BENCH_DB"
psql "$ADMIN_URL" -qX -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $BENCH_DB WITH (FORCE)" >&2
psql "$ADMIN_URL" -qX -v ON_ERROR_STOP=1 -c "CREATE DATABASE $BENCH_DB" >&2

start_server() { # LOG_LEVEL
  local level=$1 i
  env -i PATH="$PATH" HOME="${HOME:-/root}" \
    ENVIRONMENT=test HOST=127.0.0.1 PORT="$PORT" LOG_LEVEL="$level" DATA_DIR="$OUT/data" \
    DATABASE_URL="$BENCH_URL" REDIS_URL="$REDIS_URL" REDIS_KEY_PREFIX=bench: \
    RATE_LIMIT_ENABLED=false ADMIN_EMAIL="$ADMIN_EMAIL" ADMIN_PASSWORD="$ADMIN_PASSWORD" \
    JWT_SECRET_KEY="$JWT_SECRET_KEY" JWT_ACCESS_TOKEN_EXPIRE_MINUTES=60 JWT_REFRESH_TOKEN_EXPIRE_MINUTES=120 \
    PPROF_ADDR="127.0.0.1:$PPROF_PORT" \
    taskset -c "$SERVER_CPU" "$BIN" serve >"$OUT/server-$level.log" 2>&1 &
  SERVER_PID=$!
  for ((i = 0; i < 240; i++)); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      tail -n 30 "$OUT/server-$level.log" >&2
      SERVER_PID=
      die "the gateway exited during start"
    fi
    curl -sf -o /dev/null "$BASE/ready" && break
    sleep 0.25
  done
  curl -sf -o /dev/null "$BASE/ready" || die "the gateway is not ready after 60 s ($OUT/server-$level.log)"
  log "gateway pid $SERVER_PID ready on $BASE (LOG_LEVEL=$level, $(grep Cpus_allowed_list "/proc/$SERVER_PID/status" | tr -s '\t' ' '))"
}

login() {
  curl -sf -X POST -H 'Content-Type: application/json' \
    -d "$(jq -nc --arg e "$ADMIN_EMAIL" --arg p "$ADMIN_PASSWORD" '{email: $e, password: $p}')" \
    "$BASE/api/auth/login" | jq -er .data.access_token
}

# check PATH BODY JQ-EXPRESSION [TOKEN]: one request must answer 200 with a body that passes jq -e.
check() {
  local auth=()
  [[ -n "${4:-}" ]] && auth=(-H "Authorization: Bearer $4")
  local body
  body=$(curl -sS -X POST -H 'Content-Type: application/json' "${auth[@]}" -d "$2" -w '\n%{http_code}' "$BASE$1")
  [[ "${body##*$'\n'}" == 200 ]] || die "POST $1: HTTP ${body##*$'\n'}: ${body%$'\n'*}"
  jq -e "$3" >/dev/null <<<"${body%$'\n'*}" || die "POST $1: unexpected answer ${body%$'\n'*}"
}

median() { printf '%s\n' "$@" | sort -g | sed -n "$((($# + 1) / 2))p"; }

# Other work on this 2-CPU machine (builds, test suites) skews the numbers, so every run first
# waits until the machine is quiet, and counts the CPU time that neither the server nor wrk
# used while it ran ("other", in % of one CPU: kernel threads, PostgreSQL and Redis for the
# authenticated scenario, anything else). A run with more than DISTURBED_PCT is repeated
# (twice at most) unless the scenario's own dependencies are expected to show there.
TCK=$(getconf CLK_TCK)
machine_jiffies() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $9, $8 }' /proc/stat; } # busy-softirq, softirq
proc_jiffies() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }          # utime+stime
children_secs() { awk 'NR == 2 { s = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); sub(/s$/, "", a[2]); s += a[1] * 60 + a[2] } print s }' "$1"; }
wait_quiet() {
  local waited=0 a b busy
  while :; do
    read -r a _ < <(machine_jiffies)
    sleep 1
    read -r b _ < <(machine_jiffies)
    busy=$(((b - a) * 100 / TCK))
    ((busy <= QUIET_PCT)) && return 0
    if ((waited >= QUIET_WAIT)); then
      log "the machine is still busy (${busy}% of a CPU) after ${QUIET_WAIT} s: measuring anyway"
      return 0
    fi
    ((waited == 0)) && log "waiting for other work on the machine to finish (${busy}% of a CPU busy)"
    sleep 4
    waited=$((waited + 5))
  done
}

ROWS=()
CMDS=()
# scenario LABEL PATH [VAR=value ...]: RUNS wrk runs; the median of req/s, p50, p99 and other
# (each taken separately) goes into ROWS. EXPECT_OTHER=1 in the caller's environment accepts
# CPU use outside server and wrk (the authenticated scenario's PostgreSQL and Redis).
scenario() {
  local label=$1 path=$2
  shift 2
  local slug i try line rps=() p50=() p99=() others=() cmd prefix= f
  local m0 m1 soft0 soft1 s0 s1 w0 w1 other
  slug=$(tr -c 'a-zA-Z0-9\n' '-' <<<"$label" | tr -s '-' | sed 's/-$//')
  cmd="taskset -c $WRK_CPU wrk -t$THREADS -c$CONNS -d$DURATION --latency -s $LUA $BASE$path"
  (($# > 0)) && prefix=$(printf '%q ' "$@" | sed 's/OFREP_TOKEN=[^ ]*/OFREP_TOKEN="$TOKEN"/')
  CMDS+=("$prefix$cmd")
  for ((i = 1; i <= RUNS; i++)); do
    f=$OUT/$slug-$i.txt
    for ((try = 1; ; try++)); do
      wait_quiet
      read -r m0 soft0 < <(machine_jiffies)
      s0=$(proc_jiffies "$SERVER_PID")
      times >"$OUT/times0"
      env "$@" $cmd >"$f" 2>&1 || { cat "$f" >&2; die "wrk failed"; }
      times >"$OUT/times1"
      s1=$(proc_jiffies "$SERVER_PID")
      read -r m1 soft1 < <(machine_jiffies)
      w0=$(children_secs "$OUT/times0")
      w1=$(children_secs "$OUT/times1")
      line=$(grep '^BENCH ' "$f") || die "no BENCH line in $f"
      local -A m=()
      for kv in ${line#BENCH }; do m[${kv%%=*}]=${kv#*=}; done
      if ((m[non2xx] + m[socket_errors] > 0)); then
        die "$label run $i: ${m[non2xx]} non-2xx answers, ${m[socket_errors]} socket errors ($f)"
      fi
      # other = machine busy (without softirq, which the server's and wrk's packets cause)
      # minus server minus wrk, in % of one CPU over the run.
      other=$(awk -v m="$((m1 - m0))" -v s="$((s1 - s0))" -v t="$TCK" -v w0="$w0" -v w1="$w1" -v d="${m[duration_us]}" \
        'BEGIN { o = ((m - s) / t - (w1 - w0)) / (d / 1e6) * 100; printf "%.0f", o < 0 ? 0 : o }')
      echo "OTHER_CPU_PCT=$other server_cpu_s=$(awk -v s="$((s1 - s0))" -v t="$TCK" 'BEGIN { print s / t }') wrk_cpu_s=$(awk -v a="$w0" -v b="$w1" 'BEGIN { print b - a }')" >>"$f"
      log "$label run $i: $(printf '%.0f' "${m[rps]}") req/s, p50 ${m[p50_us]} us, p99 ${m[p99_us]} us, other ${other}% of a CPU"
      if ((other <= DISTURBED_PCT)) || [[ "${EXPECT_OTHER:-0}" == 1 ]] || ((try >= 3)); then
        break
      fi
      log "run disturbed by other work (${other}% of a CPU): repeating it"
    done
    rps+=("${m[rps]}")
    p50+=("${m[p50_us]}")
    p99+=("${m[p99_us]}")
    others+=("$other")
    unset m
  done
  ROWS+=("$(printf '| %s | %s | %.2f ms | %.2f ms | %s | %s%% |' "$label" \
    "$(printf '%.0f' "$(median "${rps[@]}")")" \
    "$(awk -v u="$(median "${p50[@]}")" 'BEGIN { print u / 1000 }')" \
    "$(awk -v u="$(median "${p99[@]}")" 'BEGIN { print u / 1000 }')" \
    "$(for r in "${rps[@]}"; do printf '%.0f ' "$r"; done | sed 's/ $//; s/ / \/ /g')" \
    "$(median "${others[@]}")")")
}

# profile NAME PATH [VAR=value ...]: wrk runs 10 s; an 8 s CPU profile is taken from its second 1.
profile() {
  local name=$1 path=$2
  shift 2
  wait_quiet
  log "profiling $name ($path)"
  env "$@" taskset -c "$WRK_CPU" wrk -t"$THREADS" -c"$CONNS" -d10s --latency -s "$LUA" "$BASE$path" \
    >"$OUT/profile-$name-wrk.txt" 2>&1 &
  WRK_PID=$!
  sleep 1
  curl -sf -o "$OUT/cpu-$name.pb.gz" "http://127.0.0.1:$PPROF_PORT/debug/pprof/profile?seconds=8"
  wait "$WRK_PID"
  WRK_PID=
  go tool pprof -top -nodecount=35 "$OUT/cpu-$name.pb.gz" >"$HERE/profile-$name.txt" 2>/dev/null
  go tool pprof -top -cum -nodecount=60 "$OUT/cpu-$name.pb.gz" >"$HERE/profile-$name-cum.txt" 2>/dev/null
  log "wrote $HERE/profile-$name.txt and $HERE/profile-$name-cum.txt"
}

log "load before start: $(cut -d' ' -f1-3 /proc/loadavg) (other work on this machine skews the numbers)"
start_server warn
TOKEN=$(login) || die "login failed"

log "creating $(jq length "$HERE/flags.json") flags"
while read -r f; do
  code=$(curl -s -o "$OUT/flag-create.json" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    -H "Authorization: Bearer $TOKEN" -d "$f" "$BASE/api/admin/feature-flags")
  [[ "$code" == 20[01] ]] || die "creating $(jq -r .key <<<"$f"): HTTP $code: $(cat "$OUT/flag-create.json")"
done < <(jq -c '.[]' "$HERE/flags.json")
NFLAGS=$(jq length "$HERE/flags.json")
for ((i = 0; i < 40; i++)); do # the snapshot follows LISTEN/NOTIFY (or the 1 s poll)
  n=$(curl -sf -X POST -H 'Content-Type: application/json' -d '{}' "$BASE/ofrep/v1/evaluate/flags" | jq '.flags | length') || true
  [[ "$n" == "$NFLAGS" ]] && break
  sleep 0.25
done
[[ "$n" == "$NFLAGS" ]] || die "bulk evaluation shows $n flags, want $NFLAGS"

K='{"context":{"targetingKey":"user-1-1"}}'
check /ofrep/v1/evaluate/flags/ui.dark_mode "$K" '.value == true and .reason == "STATIC"'
check /ofrep/v1/evaluate/flags/experiment.new_checkout "$K" '.reason == "SPLIT" and (.variant | IN("control", "variant_a", "variant_b"))'
check /ofrep/v1/evaluate/flags/experiment.checkout_rules "{\"context\":{\"targetingKey\":\"user-1-1\",$RULE_ATTRS}}" '.reason != "TARGETING_MATCH"'
check /ofrep/v1/evaluate/flags "$K" '.flags | length == 10'
check /ofrep/v1/evaluate/flags/ui.dark_mode "$K" '.value == true' "$TOKEN"

log "warm-up (3 s, not counted)"
taskset -c "$WRK_CPU" wrk -t"$THREADS" -c"$CONNS" -d3s -s "$LUA" "$BASE/ofrep/v1/evaluate/flags/ui.dark_mode" >/dev/null

scenario 'GET /health (stack floor, no body)' /health WRK_METHOD=GET
scenario 'single ui.dark_mode (boolean)' /ofrep/v1/evaluate/flags/ui.dark_mode
scenario 'single experiment.new_checkout (3 variants)' /ofrep/v1/evaluate/flags/experiment.new_checkout
scenario 'single experiment.checkout_rules (10 rules)' /ofrep/v1/evaluate/flags/experiment.checkout_rules "OFREP_ATTRS=$RULE_ATTRS"
scenario 'bulk, 10 flags' /ofrep/v1/evaluate/flags
# A fresh token: login took a while ago if the runs above were long.
TOKEN=$(login) || die "login failed"
EXPECT_OTHER=1 scenario 'single ui.dark_mode, Bearer token' /ofrep/v1/evaluate/flags/ui.dark_mode "OFREP_TOKEN=$TOKEN"

if [[ "$PROFILE" == 1 ]]; then
  profile single /ofrep/v1/evaluate/flags/ui.dark_mode
  profile bulk /ofrep/v1/evaluate/flags
fi

stop_server

if [[ "$BASELINE" == 1 ]]; then
  # Calibration: a bare net/http JSON server (baseline/main.go), pinned and driven the same way.
  log "building and starting the bare net/http baseline"
  go build -C "$HERE/baseline" -o "$(realpath -m "$OUT")/baseline" .
  GATEWAY_BASE=$BASE
  BASE=http://127.0.0.1:$(free_port $((PORT + 10)))
  taskset -c "$SERVER_CPU" "$OUT/baseline" -addr "${BASE#http://}" >"$OUT/baseline.log" 2>&1 &
  SERVER_PID=$!
  for ((i = 0; i < 40; i++)); do
    curl -sf -o /dev/null -X POST -d '{}' "$BASE/ofrep/v1/evaluate/flags/ui.dark_mode" && break
    sleep 0.25
  done
  check /ofrep/v1/evaluate/flags/ui.dark_mode "$K" '.value == true'
  taskset -c "$WRK_CPU" wrk -t"$THREADS" -c"$CONNS" -d3s -s "$LUA" "$BASE/ofrep/v1/evaluate/flags/ui.dark_mode" >/dev/null
  scenario 'bare net/http JSON server, same request (calibration)' /ofrep/v1/evaluate/flags/ui.dark_mode
  stop_server
  BASE=$GATEWAY_BASE
fi

if [[ "$INFO_RUN" == 1 ]]; then
  start_server info
  taskset -c "$WRK_CPU" wrk -t"$THREADS" -c"$CONNS" -d3s -s "$LUA" "$BASE/ofrep/v1/evaluate/flags/ui.dark_mode" >/dev/null
  scenario 'single ui.dark_mode, LOG_LEVEL=info' /ofrep/v1/evaluate/flags/ui.dark_mode
  # The access log of the info runs is large: keep its head only.
  head -n 5 "$OUT/server-info.log" >"$OUT/server-info.head.log" && rm -f "$OUT/server-info.log"
  stop_server
fi

cat <<EOF

## OFREP over loopback: median of $RUNS runs ($(date -u +%Y-%m-%d), $REV)

Server on CPU $SERVER_CPU (taskset, GOMAXPROCS 1), wrk on CPU $WRK_CPU: $THREADS threads, $CONNS connections, $DURATION.
LOG_LEVEL=warn unless stated; anonymous callers and public flags unless stated; request validation on.
"other CPU": CPU time used by neither the server nor wrk during the runs, in % of one CPU (median).

| scenario | req/s (median) | p50 | p99 | req/s of each run | other CPU |
| --- | ---: | ---: | ---: | --- | ---: |
EOF
printf '%s\n' "${ROWS[@]}"
echo
echo 'Commands (from the repository root, with the server running):'
echo
echo '```sh'
printf '%s\n' "${CMDS[@]}" | sort -u
echo '```'
