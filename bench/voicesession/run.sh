#!/usr/bin/env bash
# Voice WebSocket benchmark: the gateway pinned to core 0, fake providers and the driver on
# core 1. Phase 1 (fake providers of fixed latency): gateway overhead over $TURNS turns, then
# $SESSIONS simultaneous sessions streaming real-time audio for $SECONDS s. Phase 2 (offline
# providers): end of speech -> first audio for a one-sentence question, $OFFLINE_TURNS times.
#   bash bench/voicesession/run.sh            # TURNS=1000 SESSIONS=200 SECONDS=30 OFFLINE_TURNS=20
set -euo pipefail
cd "$(dirname "$0")/../.."
TURNS="${TURNS:-1000}"; SESSIONS="${SESSIONS:-200}"; SECONDS_="${SECONDS:-30}"; OFFLINE_TURNS="${OFFLINE_TURNS:-20}"
PORT=18094; FAKE=127.0.0.1:18095
ulimit -n "$(ulimit -Hn)"
eval "$(scripts/services.sh up)"
tags="$(scripts/voice-deps.sh)"
make -s build
go build -o bin/voice-load ./bench/voicesession

db_base="${DATABASE_URL%/*}"
PW="bench-Passphrase-4711"
start_gateway() { # extra env...
  psql "${db_base}/postgres" -qc "DROP DATABASE IF EXISTS voiceassist_voicebench WITH (FORCE)" -c "CREATE DATABASE voiceassist_voicebench" >/dev/null
  redis-cli -u "$REDIS_URL" --scan --pattern 'voicebench:*' | xargs -r redis-cli -u "$REDIS_URL" del >/dev/null
  env HOST=127.0.0.1 PORT="$PORT" ENVIRONMENT=test LOG_LEVEL=warn RATE_LIMIT_ENABLED=false \
    DATABASE_URL="${db_base}/voiceassist_voicebench?sslmode=disable" REDIS_KEY_PREFIX=voicebench: \
    JWT_SECRET_KEY=voice-bench-secret-key-0123456789abcdef ADMIN_EMAIL=voice-admin@example.org ADMIN_PASSWORD="$PW" \
    RATE_LIMIT_VOICE_RELAY_PER_MINUTE=10000 VOICE_MAX_SESSIONS=1000 VOICE_MAX_SESSIONS_PER_USER=100 \
    EMBEDDING_PROVIDER=offline "$@" taskset -c 0 bin/voiceassist serve 2>/tmp/voice-bench-server.log &
  SERVER=$!
  for _ in $(seq 200); do curl -fs "http://127.0.0.1:$PORT/ready" >/dev/null && break; sleep 0.1; done
}
login() {
  curl -fs -X POST "http://127.0.0.1:$PORT/api/auth/login" -H 'Content-Type: application/json' \
    -d "{\"email\":\"$1\",\"password\":\"$PW\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["access_token"])'
}
users() { # n -> comma-separated tokens (the admin and n-1 registered users)
  local toks; toks=$(login voice-admin@example.org)
  for i in $(seq 2 "$1"); do
    curl -fs -X POST "http://127.0.0.1:$PORT/api/auth/register" -H 'Content-Type: application/json' \
      -d "{\"email\":\"voice$i@example.org\",\"password\":\"$PW\",\"full_name\":\"Bench $i\"}" >/dev/null
    toks="$toks,$(login "voice$i@example.org")"
  done
  echo "$toks"
}
stop_gateway() { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; }

taskset -c 1 bin/voice-load -mode fake -addr "$FAKE" &
FAKEPID=$!
trap 'stop_gateway; kill $FAKEPID 2>/dev/null || true' EXIT
start_gateway OPENAI_BASE_URL="http://$FAKE/v1" OPENAI_API_KEY=bench CHAT_PROVIDER=openai \
  VOICE_STT_PROVIDER=openai VOICE_TTS_PROVIDER=openai
TOKENS=$(users 4)
echo "## fake providers (STT 50 ms, model 50 ms to the first token, TTS 50 ms per sentence), external: PHI_POLICY=redact on the model's input"
taskset -c 1 bin/voice-load -mode overhead -url "http://127.0.0.1:$PORT" -tokens "$TOKENS" -turns "$TURNS"
taskset -c 1 bin/voice-load -mode load -url "http://127.0.0.1:$PORT" -tokens "$TOKENS" -sessions "$SESSIONS" -seconds "$SECONDS_" -pid "$SERVER"
stop_gateway

start_gateway OPENAI_BASE_URL="http://$FAKE/v1" OPENAI_API_KEY=bench CHAT_PROVIDER=openai \
  VOICE_STT_PROVIDER=openai VOICE_TTS_PROVIDER=openai PROVIDERS_TRUSTED=true
TOKENS=$(users 1)
echo "## the same, PROVIDERS_TRUSTED=true (no PHI guard: the gateway alone)"
taskset -c 1 bin/voice-load -mode overhead -url "http://127.0.0.1:$PORT" -tokens "$TOKENS" -turns "$TURNS"
stop_gateway

if [ -n "$tags" ]; then # make build included the offline voice
  start_gateway CHAT_PROVIDER=offline VOICE_STT_PROVIDER=offline VOICE_TTS_PROVIDER=offline
  echo "## offline providers (pocketsphinx, extractive answer, flite kal16)"
  TOKENS=$(users 1)
  curl -fs -X POST "http://127.0.0.1:$PORT/api/admin/kb/documents" -H "Authorization: Bearer $TOKENS" -H 'Content-Type: application/json' \
    -d '{"title":"Hypertension treatment","text":"Thiazide diuretics, ACE inhibitors and calcium channel blockers are first line treatments for hypertension. Blood pressure is rechecked within four weeks."}' >/dev/null
  sleep 3
  taskset -c 1 bin/voice-load -mode offline -url "http://127.0.0.1:$PORT" -tokens "$TOKENS" -turns "$OFFLINE_TURNS"
fi
