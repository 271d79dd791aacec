#!/usr/bin/env bash
# Flag-stream load benchmark: a gateway pinned to core 0, the load driver on core 1; for each
# N in $SIZES it opens N streams, applies $CHANGES toggles and prints a markdown row.
#   bash bench/sse/run.sh                 # SIZES="1000 5000 10000" CHANGES=20
set -euo pipefail
cd "$(dirname "$0")/../.."
SIZES="${SIZES:-1000 5000 10000}"
CHANGES="${CHANGES:-20}"
PORT="${PORT:-18090}"
ulimit -n "$(ulimit -Hn)" # 10,000 streams need 10,000 descriptors on each side

eval "$(scripts/services.sh up)"
make -s build
go build -o bin/sse-load ./bench/sse

db_base="${DATABASE_URL%/*}"
psql "${db_base}/postgres" -qc "DROP DATABASE IF EXISTS voiceassist_ssebench WITH (FORCE)" -c "CREATE DATABASE voiceassist_ssebench" >/dev/null
export DATABASE_URL="${db_base}/voiceassist_ssebench?sslmode=disable"
PW="bench-Passphrase-4711"
env HOST=127.0.0.1 PORT="$PORT" ENVIRONMENT=test LOG_LEVEL=warn RATE_LIMIT_ENABLED=false \
  SSE_MAX_STREAMS=50000 SSE_MAX_STREAMS_PER_IP=50000 REDIS_KEY_PREFIX=ssebench: \
  JWT_SECRET_KEY=sse-bench-secret-key-0123456789abcdef ADMIN_EMAIL=sse-admin@example.org ADMIN_PASSWORD="$PW" \
  PPROF_ADDR=127.0.0.1:16061 taskset -c 0 bin/voiceassist serve 2>/tmp/sse-bench-server.log &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/ready" >/dev/null && break; sleep 0.1; done

TOKEN=$(curl -fs -X POST "http://127.0.0.1:$PORT/api/auth/login" -H 'Content-Type: application/json' \
  -d "{\"email\":\"sse-admin@example.org\",\"password\":\"$PW\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["access_token"])')
curl -fs -X POST "http://127.0.0.1:$PORT/api/admin/feature-flags" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d '{"key":"ui.bench_stream","type":"boolean","enabled":true,"visibility":"public"}' >/dev/null

echo "| streams | p50 | p99 | max | RSS per stream | connect time | deliveries | missing |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
for n in $SIZES; do
  taskset -c 1 bin/sse-load -url "http://127.0.0.1:$PORT" -token "$TOKEN" -n "$n" -changes "$CHANGES" -pid "$SERVER" -pprof 127.0.0.1:16061
  sleep 2
done
