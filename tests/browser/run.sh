#!/usr/bin/env bash
# Browser tests of the web UI (widget, visitor chat, staff console) in headless Chromium,
# against the real server:
#
#   tests/browser/run.sh path/to/frontdesk
#
# Needs node, npm (the first run installs playwright-core here from package-lock.json) and
# Debian's /usr/bin/chromium (override with CHROMIUM=...). Screenshots land in <repo>/screenshots/
# (not committed; override with SCREENSHOTS=...). Prints "N passed, M failed" last.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ $# -ne 1 ]; then
  echo "usage: $0 path/to/frontdesk" >&2
  exit 2
fi
chromium=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
  echo "chromium not found at $chromium (apt-get install -y chromium)" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
if [ ! -d "$here/node_modules/playwright-core" ]; then
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
[ -x "$bin" ] || { echo "not an executable: $1" >&2; echo "0 passed, 1 failed"; exit 1; }
# The journey prints the closing "N passed, M failed" itself; if node dies before that (a syntax
# error, a crash), still close with a failing count.
out=$(mktemp)
trap 'rm -f "$out"' EXIT
set +e
node "$here/journey.mjs" --bin "$bin" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
set -e
if ! tail -n 1 "$out" | grep -Eq '^[0-9]+ passed, [0-9]+ failed$'; then
  echo "0 passed, 1 failed"
  [ "$rc" -ne 0 ] || rc=1
fi
exit "$rc"
