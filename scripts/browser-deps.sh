#!/usr/bin/env bash
# Headless Chromium for the browser tests (tests/demo_browser_test.go, TestDocsRenderInBrowser):
# checks that /usr/bin/chromium is present, and installs the Debian package `chromium` when it
# is missing and running as root. Prints nothing on stdout; messages go to stderr. It never
# fails the build: without Chromium the browser tests skip (and fail under CI=true).
# BROWSER_TESTS=0 skips the install.
set -euo pipefail

log() { printf 'browser-deps: %s\n' "$*" >&2; }

if [[ "${BROWSER_TESTS:-1}" == "0" ]]; then
  log "BROWSER_TESTS=0: not installing chromium"
  exit 0
fi
if [[ -x /usr/bin/chromium ]]; then
  exit 0
fi
if [[ "$(id -u)" -ne 0 ]]; then
  log "missing: chromium (install it as root) -- the browser tests will skip"
  exit 0
fi
log "apt-get install -y chromium"
export DEBIAN_FRONTEND=noninteractive
{ apt-get -o DPkg::Lock::Timeout=300 update -qq \
    && apt-get -o DPkg::Lock::Timeout=300 install -y -qq chromium; } >&2 \
  || { log "apt-get failed -- the browser tests will skip (fail under CI=true)"; exit 0; }
[[ -x /usr/bin/chromium ]] || log "chromium installed but /usr/bin/chromium not found"
