# Shell functions shared by the load benchmarks (bench/ofrep/run.sh, bench/compare/run.sh).
# Source it from the repository root after setting LOG_PREFIX.
# shellcheck shell=bash

log() { printf '%s: %s\n' "${LOG_PREFIX:-bench}" "$*" >&2; }
die() { printf '%s: ERROR: %s\n' "${LOG_PREFIX:-bench}" "$*" >&2; exit 1; }

# need_tool TOOL DEBIAN-PACKAGE: installs the package when the tool is missing (root only).
need_tool() {
  command -v "$1" >/dev/null 2>&1 && return 0
  [[ "$(id -u)" -eq 0 ]] || die "$1 is missing: apt-get install -y $2"
  log "installing $2"
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >&2
}

port_free() { ! ss -Htln "sport = :$1" | grep -q .; }
# take_port P: appends to TAKEN the first port from P on that is free and not taken yet (no
# command substitution: TAKEN must change in this shell).
TAKEN=" "
take_port() {
  local p=$1
  until port_free "$p" && [[ "$TAKEN" != *" $p "* ]]; do p=$((p + 1)); done
  TAKEN+="$p "
}

# bench_database NAME: sets ADMIN_URL (the server's postgres database) and BENCH_URL (NAME on
# the same server as $DATABASE_URL).
bench_database() {
  local url_base=${DATABASE_URL%%\?*} url_query=
  [[ "$DATABASE_URL" == *\?* ]] && url_query="?${DATABASE_URL#*\?}"
  ADMIN_URL="${url_base%/*}/postgres$url_query"
  BENCH_URL="${url_base%/*}/$1$url_query"
}

# wait_up NAME PID URL LOG: until URL answers 2xx (the process must stay alive).
wait_up() {
  local i
  for ((i = 0; i < 240; i++)); do
    if ! kill -0 "$2" 2>/dev/null; then
      tail -n 30 "$4" >&2
      die "$1 exited during start"
    fi
    curl -sf -o /dev/null "$3" && break
    sleep 0.25
  done
  curl -sf -o /dev/null "$3" || die "$1 is not up after 60 s ($4)"
  log "$1: pid $2 on ${3%/*} ($(grep Cpus_allowed_list "/proc/$2/status" | tr -s '\t' ' '))"
}

# build_gateway: builds bin/voiceassist from the working tree, or with SRC=head the last commit
# (git archive HEAD into $OUT/src), for a measurement that names its commit while others have
# edits in progress. Sets BIN and REV.
build_gateway() {
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
}

# wait_flags BASE BODY N: until the bulk evaluation at BASE answers N flags (a replica's
# snapshot follows LISTEN/NOTIFY or its poll), at most 10 s.
wait_flags() {
  local i n=
  for ((i = 0; i < 40; i++)); do
    n=$(curl -sf -X POST -H 'Content-Type: application/json' -d "$2" "$1/ofrep/v1/evaluate/flags" | jq '.flags | length') || true
    [[ "$n" == "$3" ]] && return 0
    sleep 0.25
  done
  die "bulk evaluation on $1 answers $n flags, want $3"
}

median() { printf '%s\n' "$@" | sort -g | sed -n "$((($# + 1) / 2))p"; }

# Other work on this 2-CPU machine (builds, test suites) skews the numbers, so every run first
# waits until the machine is quiet (at most QUIET_PCT % of one CPU busy, or QUIET_WAIT s).
QUIET_PCT=${QUIET_PCT:-10}
QUIET_WAIT=${QUIET_WAIT:-300}
TCK=$(getconf CLK_TCK)
machine_jiffies() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $9, $8 }' /proc/stat; } # busy-softirq, softirq
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
