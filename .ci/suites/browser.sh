#!/usr/bin/env bash
# Browser tests of the web UI (issue 4): the widget on a host page, the visitor chat and the staff
# console, in headless Debian Chromium driven by playwright-core, against the real server.
# Run from the repo root by .ci/run after `cargo test`. Prints "N passed, M failed" last.
set -euo pipefail
cd "$(dirname "$0")/../.."

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

if [ ! -x /usr/bin/chromium ]; then
  echo "installing chromium (apt)"
  apt_install chromium
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "installing nodejs and npm (apt)"
  apt_install nodejs npm
fi
/usr/bin/chromium --version
echo "node $(node --version), npm $(npm --version)"

# Reproducible install from tests/browser/package-lock.json (playwright-core only; no browser download).
(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)

cargo build
# About 4-5 minutes for ~100 checks on the 2-core VM (5.5 under load); the limit only stops a hang.
timeout 900 tests/browser/run.sh target/debug/frontdesk
