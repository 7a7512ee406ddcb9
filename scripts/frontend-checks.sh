#!/usr/bin/env bash
# The reference reader (examples/reader) against this build: its script type-checked against a
# client generated from openapi/openapi.json, then the page driven in headless Chromium against
# `BINARY serve --demo` on loopback, once with the captcha on and once with it off.
#
#   scripts/frontend-checks.sh BINARY ARTIFACT_DIR
#
# Screenshots and server logs go to ARTIFACT_DIR. Any failed step stops the run non-zero.
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 BINARY ARTIFACT_DIR" >&2
  exit 2
fi
binary=$(realpath "$1")
mkdir -p "$2"
artifacts=$(realpath "$2")
cd "$(dirname "$0")/.."
reader=examples/reader
export CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
# Known credentials, so the first start creates this admin instead of printing a random one.
export NEWSDESK_ADMIN_EMAIL=reader-check@example.vn
export NEWSDESK_ADMIN_PASSWORD=reader-check-password
started=$SECONDS
work=$(mktemp -d)
server_pid=

step() { printf '\n==> %s (%ds)\n' "$*" $((SECONDS - started)); }

stop_server() {
  if [[ -n $server_pid ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=
  fi
}
cleanup() {
  stop_server
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Waits for any other apt or dpkg run instead of failing on its lock.
apt_install() {
  apt-get -o DPkg::Lock::Timeout=900 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -qq "$@"
}

# start_server NAME [VAR=VALUE…]: `serve --demo` on a free loopback port; sets $base_url.
start_server() {
  local name=$1 port
  shift
  port=$(free_port)
  env NEWSDESK_DATABASE_URL="sqlite://$work/reader.db" NEWSDESK_BIND="127.0.0.1:$port" \
    NEWSDESK_LOG=warn "$@" "$binary" serve --demo >"$artifacts/server-$name.log" 2>&1 &
  server_pid=$!
  base_url=http://127.0.0.1:$port
  for _ in $(seq 300); do
    curl -fs "$base_url/readyz" >/dev/null && return 0
    if ! kill -0 "$server_pid" 2>/dev/null; then
      echo "the server exited at start; its log:"
      cat "$artifacts/server-$name.log"
      exit 1
    fi
    sleep 0.1
  done
  echo "the server did not become ready in 30 s; its log:"
  cat "$artifacts/server-$name.log"
  exit 1
}

step "tools: Node.js, npm, Chromium"
missing=()
command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)
[[ -x $CHROMIUM ]] || missing+=(chromium)
command -v curl >/dev/null || missing+=(curl)
if ((${#missing[@]})); then
  echo "installing ${missing[*]}"
  apt_install "${missing[@]}"
fi
echo "node $(node --version), npm $(npm --version), $("$CHROMIUM" --version 2>/dev/null | tail -n 1)"

step "npm ci in $reader"
(cd "$reader" && npm ci --no-audit --no-fund)

step "client types from openapi/openapi.json (openapi-typescript)"
(cd "$reader" && npx --no-install openapi-typescript ../../openapi/openapi.json --output generated/api.d.ts)

step "tsc --noEmit -p $reader (strict, checkJs)"
"$reader/node_modules/.bin/tsc" --noEmit -p "$reader"

step "browser: the demo article and a refused captcha (captcha on)"
start_server captcha-on
(cd "$reader" && node browser-test.mjs article "$base_url" "$artifacts")
stop_server

step "browser: a comment acknowledged as pending (server restarted with NEWSDESK_CAPTCHA=off)"
start_server captcha-off NEWSDESK_CAPTCHA=off
(cd "$reader" && node browser-test.mjs comment "$base_url" "$artifacts")
stop_server

step "frontend checks passed; screenshots in $artifacts"
