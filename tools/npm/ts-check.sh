#!/usr/bin/env bash
# Type-checks a small openapi-fetch client against an OpenAPI description:
# generates ts-client/generated/schema.d.ts with openapi-typescript, then runs
# tsc on ts-client/. Fails if the spec no longer types the calls in client.ts.
#
# Usage: tools/npm/ts-check.sh SPEC   (SPEC relative to the current directory)
# Needs `npm ci` in tools/npm first; downloads nothing itself.
set -euo pipefail

if [[ $# -ne 1 ]]; then
	echo "usage: $0 SPEC" >&2
	exit 2
fi
spec=$(realpath -e -- "$1")
cd "$(dirname "$0")"
if [[ ! -x node_modules/.bin/openapi-typescript || ! -x node_modules/.bin/tsc ]]; then
	echo "ts-check: tools/npm/node_modules missing: run (cd tools/npm && npm ci)" >&2
	exit 2
fi

mkdir -p ts-client/generated
npx --no -- openapi-typescript "$spec" -o ts-client/generated/schema.d.ts
npx --no -- tsc -p ts-client --noEmit
echo "ts-check: ts-client type-checks against $1"
