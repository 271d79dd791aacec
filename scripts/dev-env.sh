#!/usr/bin/env bash
# For `make run`: a local superadmin whose password lives in .data/admin-password and a JWT
# signing key in .data/jwt-secret (both created once, never committed), so logins survive
# restarts. Prints export lines on stdout and login instructions on stderr.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
email="${ADMIN_EMAIL:-admin@voiceassist.local}"
if [[ -n "${ADMIN_PASSWORD:-}" ]]; then
  password="$ADMIN_PASSWORD"
else
  mkdir -p .data
  if [[ ! -s .data/admin-password ]]; then
    (umask 077; head -c 18 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' > .data/admin-password)
  fi
  password="$(cat .data/admin-password)"
fi
printf "export ADMIN_EMAIL='%s' ADMIN_PASSWORD='%s'\n" "$email" "$password"
if [[ -z "${JWT_SECRET_KEY:-}" ]]; then
  if [[ ! -s .data/jwt-secret ]]; then
    (umask 077; head -c 48 /dev/urandom | base64 | tr -d '=\n' > .data/jwt-secret)
  fi
  printf "export JWT_SECRET_KEY='%s'\n" "$(cat .data/jwt-secret)"
fi
port="${PORT:-8000}"
cat >&2 <<MSG

  VoiceAssist gateway on http://localhost:${port}  (docs: /docs, /redoc; health: /ready)
  Superadmin: ${email} / ${password}   (password kept in .data/admin-password)
  Log in:  curl -s -X POST localhost:${port}/api/auth/login -H 'Content-Type: application/json' \\
             -d '{"email":"${email}","password":"${password}"}'

MSG
