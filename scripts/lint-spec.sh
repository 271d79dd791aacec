#!/usr/bin/env bash
# Lints an OpenAPI description with Redocly CLI (redocly.yaml: recommended) and
# Spectral (.spectral.yaml: spectral:oas plus our rules; custom functions in
# scripts/spectral/, e.g. shared-input-responses). Fails on any Redocly error and on any
# Spectral warning or error. Both linters always run, so one pass shows everything.
#
# Usage: scripts/lint-spec.sh SPEC   (SPEC relative to the current directory)
# Needs `npm ci` in tools/npm first; downloads nothing itself.
set -euo pipefail

if [[ $# -ne 1 ]]; then
	echo "usage: $0 SPEC" >&2
	exit 2
fi
spec=$(realpath -e -- "$1")
cd "$(dirname "$0")/.."

bin=tools/npm/node_modules/.bin
for b in redocly spectral; do
	if [[ ! -x $bin/$b ]]; then
		echo "lint-spec: $bin/$b missing: run (cd tools/npm && npm ci)" >&2
		exit 2
	fi
done

export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
rc=0
echo "== redocly lint $1"
"$bin/redocly" lint --config redocly.yaml --lint-config=error "$spec" || rc=1
echo "== spectral lint $1"
"$bin/spectral" lint --ruleset .spectral.yaml --fail-severity=warn "$spec" || rc=1

if [[ $rc -ne 0 ]]; then
	echo "lint-spec: FAILED" >&2
	exit 1
fi
echo "lint-spec: ok"
