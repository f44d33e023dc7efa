#!/usr/bin/env bash
# Browser tests of the web UI (widget, visitor chat, staff console) in headless Chromium.
#
#   tests/browser/run.sh path/to/frontdesk    # the real server (what CI runs)
#   tests/browser/run.sh --mock               # the in-memory stand-in (UI work without a build)
#
# Needs node, npm (first run installs playwright-core here) and Debian's /usr/bin/chromium
# (override with CHROMIUM=...). Screenshots land in <repo>/screenshots/ (not committed).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ $# -ne 1 ]; then
  echo "usage: $0 path/to/frontdesk | --mock" >&2
  exit 2
fi
chromium=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
  echo "chromium not found at $chromium (apt-get install -y chromium)" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
if [ ! -d "$here/node_modules/playwright-core" ] || [ ! -d "$here/node_modules/ws" ]; then
  (cd "$here" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
fi
if [ "$1" = "--mock" ]; then
  exec node "$here/journey.mjs" --mock
fi
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
[ -x "$bin" ] || { echo "not an executable: $1" >&2; echo "0 passed, 1 failed"; exit 1; }
exec node "$here/journey.mjs" --bin "$bin"
