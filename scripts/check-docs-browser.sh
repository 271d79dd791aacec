#!/usr/bin/env bash
# Renders the API docs pages in headless Chromium and checks that each UI
# actually rendered the spec: the API title must appear inside the app
# (Swagger UI: <h1|h2 class="title">; Redoc: an <h1>), and the browser must
# report no Content-Security-Policy violation.
#
# Usage: scripts/check-docs-browser.sh BASE_URL TITLE
#   e.g. scripts/check-docs-browser.sh http://127.0.0.1:8080 "VoiceAssist API Gateway"
# Installs nothing: needs `chromium` on PATH (Debian package `chromium`), or
# CHROMIUM=/path/to/binary. Exit 0 only if both /docs and /redoc pass.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $# -ne 2 ]]; then
	echo "usage: $0 BASE_URL TITLE" >&2
	exit 2
fi
base=${1%/}
title=$2

chrome=${CHROMIUM:-}
if [[ -z $chrome ]]; then
	for c in chromium chromium-browser google-chrome-stable google-chrome; do
		if command -v "$c" >/dev/null 2>&1; then
			chrome=$(command -v "$c")
			break
		fi
	done
fi
if [[ -z $chrome ]]; then
	echo "check-docs-browser: chromium not found (apt-get install -y chromium, or set CHROMIUM)" >&2
	exit 2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Text nodes come back HTML-escaped in the dumped DOM.
want=$(printf '%s' "$title" | sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/\xc2\xa0/\&nbsp;/g')
want=$(printf '%s' "$want" | sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//')

# render NAME PATH: dumps the DOM to $work/NAME.dom, browser log to $work/NAME.err.
render() {
	local name=$1 path=$2 profile rc=0
	profile=$(mktemp -d -p "$work")
	timeout 120 "$chrome" \
		--headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$profile" --enable-logging=stderr --v=0 \
		--virtual-time-budget=15000 --dump-dom "$base$path" \
		>"$work/$name.dom" 2>"$work/$name.err" </dev/null || rc=$?
	return "$rc"
}

# titles NAME REGEX: text (up to the first child tag, trimmed) of each start tag matching REGEX.
titles() {
	grep -oE "$2[^<]*" "$work/$1.dom" | sed -e 's/^<[^>]*>//' -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' || true
}

fail=0
check() {
	local name=$1 path=$2 tagre=$3 rc=0 found csp
	render "$name" "$path" || rc=$?
	if [[ $rc -ne 0 ]]; then
		echo "FAIL $path: chromium exited $rc" >&2
		grep -v -e 'unexpected operator' -e 'dbus' -e 'D-Bus' "$work/$name.err" | tail -n 20 >&2 || true
		fail=1
		return 0
	fi
	csp=$(grep -i 'Content Security Policy' "$work/$name.err" || true)
	if [[ -n $csp ]]; then
		echo "FAIL $path: Content-Security-Policy violations:" >&2
		printf '%s\n' "$csp" >&2
		fail=1
	fi
	found=$(titles "$name" "$tagre")
	if printf '%s\n' "$found" | grep -qFx -- "$want"; then
		echo "ok   $path: rendered title \"$title\""
	else
		echo "FAIL $path: title \"$title\" not rendered by the app (found: ${found:-nothing}; DOM $(wc -c <"$work/$name.dom") bytes)" >&2
		grep -E 'CONSOLE' "$work/$name.err" | tail -n 10 >&2 || true
		fail=1
	fi
}

check docs /docs '<h[12][^>]*class="([^"]* )?title( [^"]*)?"[^>]*>'
check redoc /redoc '<h1[^>]*>'

if [[ $fail -ne 0 ]]; then
	exit 1
fi
