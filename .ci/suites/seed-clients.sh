#!/usr/bin/env bash
# The seed protocol's core journey through third-party Socket.IO clients with default options:
# python-socketio (polling, then upgrade; token in the Authorization header) and
# socket.io-client for Node (auth: {token}). Both run against the real server.
set -euo pipefail
cd "$(dirname "$0")/../.."

python3 -m pip install -q --disable-pip-version-check "python-socketio[client]>=5,<6" websocket-client
(cd tests/clients && npm ci --silent --no-audit --no-fund)
cargo build --quiet
BIN="$PWD/target/debug/frontdesk"

WORK=$(mktemp -d)
LOG="$WORK/server.log"
cleanup() {
  [ -n "${PID:-}" ] && kill "$PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

PASSWORD=seed-clients-pw
for who in agent:agent sup:supervisor admin:admin; do
  "$BIN" user add --email "${who%%:*}@shop.test" --name "${who%%:*}" --role "${who##*:}" \
    --password "$PASSWORD" --data "$WORK/data" >/dev/null
done
"$BIN" serve --listen 127.0.0.1:0 --data "$WORK/data" --config /dev/null 2>"$LOG" &
PID=$!
ADDR=""
for _ in $(seq 100); do
  ADDR=$(grep -o 'listening on http://[0-9.:]*' "$LOG" | head -1 | sed 's|listening on http://||' || true)
  [ -n "$ADDR" ] && break
  sleep 0.1
done
[ -n "$ADDR" ] || { cat "$LOG"; echo "server did not start"; exit 1; }
BASE="http://$ADDR"

token() {
  curl -sf -X POST "$BASE/api/v1/auth/login" -H 'Content-Type: application/json' \
    -d "{\"email\": \"$1@shop.test\", \"password\": \"$PASSWORD\"}" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])'
}
AGENT=$(token agent)
SUP=$(token sup)
ADMIN=$(token admin)

status=0
echo "--- python-socketio"
python3 tests/clients/python_journey.py "$BASE" "$AGENT" "$SUP" "$ADMIN" || status=1
# Fresh sessions for the second client (the first ones disconnected).
echo "--- socket.io-client (Node)"
node tests/clients/node_journey.mjs "$BASE" "$AGENT" "$SUP" "$ADMIN" || status=1
if grep -q panicked "$LOG"; then
  echo "the server panicked:"; cat "$LOG"; status=1
fi
exit $status
