#!/usr/bin/env bash
# schemathesis over /api/v1/openapi.json against the real server (issue 16): every documented
# operation is called with generated input and an agent's token; the run fails on any 5xx and on
# any answer whose status code, content type or body the document does not allow. The server
# starts with a fresh data dir and some real data (a visitor's chat that the agent serves), so
# the ids in paths can hit something real. Bounded: a few examples per operation and a time
# limit, well under 5 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."

python3 -m pip install -q --disable-pip-version-check "schemathesis>=4,<5" "python-socketio[client]>=5,<6" websocket-client
cargo build --quiet
BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/frontdesk"

WORK=$(mktemp -d)
LOG="$WORK/server.log"
cleanup() {
  [ -n "${PID:-}" ] && kill "$PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

PASSWORD=openapi-suite-pw
"$BIN" user add --email agent@shop.test --name Agent --role agent \
  --password "$PASSWORD" --data "$WORK/data" >/dev/null
# schemathesis sends many bad logins and creates many visitors on purpose: the suite's server
# allows more of both than the defaults (which stay as they are), so that most answers are
# real ones rather than 429s. Every other limit is the default.
cat >"$WORK/frontdesk.toml" <<'EOF'
login_max_failures = 100000
login_account_max_failures = 100000
visitor_creations_per_minute = 100000
EOF
"$BIN" serve --listen 127.0.0.1:0 --data "$WORK/data" --config "$WORK/frontdesk.toml" 2>"$LOG" &
PID=$!
ADDR=""
for _ in $(seq 100); do
  ADDR=$(grep -o 'listening on http://[0-9.:]*' "$LOG" | head -1 | sed 's|listening on http://||' || true)
  [ -n "$ADDR" ] && break
  sleep 0.1
done
[ -n "$ADDR" ] || { cat "$LOG"; echo "server did not start"; exit 1; }
BASE="http://$ADDR"

AGENT=$(curl -sf -X POST "$BASE/api/v1/auth/login" -H 'Content-Type: application/json' \
  -d "{\"email\": \"agent@shop.test\", \"password\": \"$PASSWORD\"}" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')

# Some data: a visitor writes, the agent claims the chat and answers (over Socket.IO), and a
# second visitor waits in the queue. Prints "chat_id visitor_id".
read -r CHAT VISITOR < <(python3 tests/clients/openapi_seed.py "$BASE" "$AGENT")
echo "seeded chat $CHAT of visitor $VISITOR"

AGENT_ID=$(curl -sf "$BASE/api/v1/me" -H "Authorization: $AGENT" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["staff"]["id"])')
# The document as served, with the real ids as the examples of the `{id}` path parameters, so
# the examples phase reaches real resources (the other phases generate ids of their own).
curl -sf "$BASE/api/v1/openapi.json" | python3 -c '
import json, sys
doc = json.load(sys.stdin)
chat, visitor, staff = sys.argv[1:4]
for path, item in doc["paths"].items():
    real = staff if path.startswith("/api/v1/staff/") else (
        visitor if path.startswith("/api/v1/visitors/") else chat)
    # Path parameters are declared per operation or once for the path (`parameters`).
    lists = [item.get("parameters", [])]
    lists += [op.get("parameters", []) for op in item.values() if isinstance(op, dict)]
    for params in lists:
        for p in params:
            if p.get("in") == "path" and p.get("name") == "id":
                p["example"] = real
json.dump(doc, open(sys.argv[4], "w"))
' "$CHAT" "$VISITOR" "$AGENT_ID" "$WORK/openapi.json"

status=0
# The agent's own token must survive the run: logout is left out (it would revoke it).
# Examples per operation and an overall time limit keep the suite bounded. It runs in $WORK so
# that its cache (.schemathesis/) stays out of the repository.
(cd "$WORK" && timeout 300 schemathesis --no-color run "$WORK/openapi.json" \
  --url "$BASE" \
  --header "Authorization: Bearer $AGENT" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --exclude-path /api/v1/auth/logout \
  --max-examples "${OPENAPI_MAX_EXAMPLES:-20}" \
  --max-time "${OPENAPI_MAX_TIME:-120}" \
  --workers 2 \
  --seed 16 \
  --phases examples,coverage,fuzzing \
  --suppress-health-check all \
  --request-timeout 10 \
  --generation-database none) || status=1
if grep -q panicked "$LOG"; then
  echo "the server panicked:"; cat "$LOG"; status=1
fi
exit $status
