#!/usr/bin/env bash
# govulncheck against an offline copy of the Go vulnerability database (no network here but
# the Go module proxy): the golang.org/x/vulndb module pinned in tools/go.mod carries the OSV
# reports (data/osv/*.json); its cmd/indexdb (also pinned there) turns them into the v1 layout
# govulncheck reads with -db file://... (index/db.json, index/modules.json, ID/*.json).
# The database is built once per vulndb version under $VULNDB_CACHE (default .data/vulndb).
#
# Prints the database's date (the vulndb snapshot's commit time, from its pseudo-version) and
# exits non-zero when the code reaches a known vulnerability. When no usable database can be
# built, it says so and exits 0: a missing database is not a finding.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
GO=${GO:-go}
tools=(-modfile=tools/go.mod)

read -r dir version < <("$GO" mod download "${tools[@]}" -json golang.org/x/vulndb >/dev/null &&
  "$GO" list "${tools[@]}" -m -f '{{.Dir}} {{.Version}}' golang.org/x/vulndb)
# v0.0.0-20261105234957-e22db6528018 -> 2026-11-05T23:49:57Z
stamp=$(sed -E 's/^.*-([0-9]{4})([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})-[0-9a-f]{12}$/\1-\2-\3T\4:\5:\6Z/' <<<"$version")
if [[ ! -d "$dir/data/osv" ]]; then
  echo "vulncheck: golang.org/x/vulndb@$version has no data/osv: no offline database can be built; NOT checked"
  exit 0
fi
cache=${VULNDB_CACHE:-.data/vulndb}
mkdir -p "$cache"
db="$(cd "$cache" && pwd)/$version"
if [[ ! -f "$db/index/db.json" ]]; then
  echo "vulncheck: building the database from golang.org/x/vulndb@$version (about a minute, once)"
  rm -rf "$db.tmp"
  if ! "$GO" tool "${tools[@]}" indexdb -vulns "$dir/data/osv" -out "$db.tmp"; then
    echo "vulncheck: indexdb could not build a database from golang.org/x/vulndb@$version; NOT checked"
    rm -rf "$db.tmp"
    exit 0
  fi
  # indexdb leaves "modified" zero (the published database takes it from git history):
  # date the database by its snapshot, which govulncheck then reports too.
  printf '{"modified":"%s"}' "$stamp" >"$db.tmp/index/db.json"
  mv "$db.tmp" "$db"
fi
entries=$(find "$db/ID" -name '*.json' | wc -l)
echo "vulncheck: Go vulnerability database golang.org/x/vulndb@$version, dated $stamp ($entries reports)"
tags=$(scripts/voice-deps.sh)
exec "$GO" tool "${tools[@]}" govulncheck -db "file://$db" -tags "$tags" "$@" ./...
