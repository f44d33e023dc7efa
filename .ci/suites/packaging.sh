#!/usr/bin/env bash
# Packaging suite (issue 6): builds the static release tarball and the .deb with
# packaging/release.sh, checks what they contain, then runs the packaged binary with a copy of
# the example config and checks /healthz, /metrics, sd_notify readiness and a clean SIGTERM.
#
# Run by .ci/run from the repository root, as root, on a fresh Debian machine (apt-get, pip and
# crates.io reachable). One release build (x86_64 musl, fat LTO) is shared by every check.
# Ends with "N passed, M failed".
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TERM_COLOR=never

passed=0
failed=0
ok() {
  passed=$((passed + 1))
  echo "ok   - $*"
}
bad() {
  failed=$((failed + 1))
  echo "FAIL - $*"
}
check() { # check "description" command...
  local what=$1
  shift
  if "$@"; then ok "$what"; else bad "$what"; fi
}
finish() {
  echo
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}

work=$(mktemp -d)
pids=()
installed=0
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  if [ "$installed" = 1 ]; then dpkg --purge frontdesk >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

target=x86_64-unknown-linux-musl
version=$(sed -n 's/^version *= *"\([^"]*\)".*/\1/p' Cargo.toml | head -n 1)
echo "frontdesk $version, target $target"

# ------------------------------------------------------------------------------ tools
echo "--- tools"
rustup target list --installed | grep -qx "$target" || rustup target add "$target"
if ! cargo deb --version >/dev/null 2>&1; then
  cargo install cargo-deb --locked --version '^3.8' 2>&1 | tail -n 2
fi
cargo deb --version
if ! cargo zigbuild --help >/dev/null 2>&1 || ! python3 -m ziglang version >/dev/null 2>&1; then
  # zig from PyPI is the C compiler/linker for the static build; cargo-zigbuild ships as a wheel.
  python3 -m pip install --quiet --disable-pip-version-check ziglang cargo-zigbuild 2>&1 ||
    python3 -m pip install --quiet --disable-pip-version-check --break-system-packages \
      ziglang cargo-zigbuild 2>&1 || true
  scripts=$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))' 2>/dev/null || true)
  [ -n "$scripts" ] && export PATH="$PATH:$scripts"
  hash -r
fi
if cargo zigbuild --help >/dev/null 2>&1 && python3 -m ziglang version >/dev/null 2>&1; then
  echo "zig $(python3 -m ziglang version), cargo-zigbuild"
else
  echo "no zig: falling back to musl-tools"
  command -v musl-gcc >/dev/null 2>&1 ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq musl-tools >/dev/null; }
fi
# systemd-analyze (verify, security) comes with the systemd package; optional.
command -v systemd-analyze >/dev/null 2>&1 ||
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq systemd >/dev/null 2>&1; } || true
command -v curl >/dev/null 2>&1 ||
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl >/dev/null; }

# ------------------------------------------------------------------------------ build
echo "--- packaging/release.sh --deb $target"
rm -rf dist
start=$(date +%s)
if packaging/release.sh --deb "$target" >"$work/release.log" 2>&1; then
  ok "release.sh built the tarball and the .deb ($(($(date +%s) - start)) s)"
else
  tail -n 40 "$work/release.log"
  bad "release.sh failed"
  finish
  exit 1
fi

tarball="dist/frontdesk-$version-$target.tar.gz"
debs=(dist/*.deb)
deb=${debs[0]}
check "tarball $tarball exists" test -f "$tarball"
check ".deb exists ($deb)" test -n "$deb" -a -f "$deb"
check "SHA256SUMS lists the tarball and the .deb" \
  bash -c "grep -q ' $(basename "$tarball")\$' dist/SHA256SUMS && grep -q ' $(basename "$deb")\$' dist/SHA256SUMS"
check "sha256sum -c SHA256SUMS" bash -c 'cd dist && sha256sum -c SHA256SUMS'

# ------------------------------------------------------------------------------ tarball
echo "--- tarball"
mkdir "$work/tar"
tar -xzf "$tarball" -C "$work/tar"
dir="$work/tar/frontdesk-$version-$target"
for f in frontdesk README.md LICENSE OPERATIONS.md frontdesk.toml frontdesk.service; do
  check "tarball holds $f" test -f "$dir/$f"
done
check "tarball binary is executable" test -x "$dir/frontdesk"
check "tarball binary is statically linked (no ELF interpreter)" \
  bash -c "! LC_ALL=C grep -qa -e '/lib/ld-' -e '/lib64/ld-' '$dir/frontdesk'"
check "tarball binary --version says $version" \
  bash -c "'$dir/frontdesk' --version | grep -qx 'frontdesk $version'"
check "tarball config and unit are the ones in packaging/" \
  bash -c "cmp -s '$dir/frontdesk.toml' packaging/frontdesk.toml && cmp -s '$dir/frontdesk.service' packaging/frontdesk.service"

# ------------------------------------------------------------------------------ .deb
echo "--- .deb"
dpkg-deb --info "$deb" >"$work/deb-info.txt"
dpkg-deb --contents "$deb" >"$work/deb-contents.txt"
cat "$work/deb-contents.txt"
check ".deb Package: frontdesk" grep -q '^ Package: frontdesk$' "$work/deb-info.txt"
check ".deb Version: $version-1" grep -q "^ Version: $version-1\$" "$work/deb-info.txt"
check ".deb Architecture: amd64" grep -q '^ Architecture: amd64$' "$work/deb-info.txt"
check ".deb has /usr/bin/frontdesk (755)" \
  grep -Eq '^-rwxr-xr-x .* \./usr/bin/frontdesk$' "$work/deb-contents.txt"
check ".deb has /etc/frontdesk/frontdesk.toml (640)" \
  grep -Eq '^-rw-r----- .* \./etc/frontdesk/frontdesk\.toml$' "$work/deb-contents.txt"
check ".deb has the systemd unit" \
  grep -Eq ' \./(usr/)?lib/systemd/system/frontdesk\.service$' "$work/deb-contents.txt"
check ".deb has the operations guide" \
  grep -q ' \./usr/share/doc/frontdesk/OPERATIONS\.md$' "$work/deb-contents.txt"
mkdir "$work/deb" "$work/deb-control"
dpkg-deb -x "$deb" "$work/deb"
dpkg-deb -e "$deb" "$work/deb-control"
unit="$work/deb/usr/lib/systemd/system/frontdesk.service"
[ -f "$unit" ] || unit="$work/deb/lib/systemd/system/frontdesk.service"
check ".deb unit is packaging/frontdesk.service" cmp -s "$unit" packaging/frontdesk.service
check ".deb config is packaging/frontdesk.toml" cmp -s "$work/deb/etc/frontdesk/frontdesk.toml" packaging/frontdesk.toml
check ".deb marks the config as a conffile" \
  grep -qx /etc/frontdesk/frontdesk.toml "$work/deb-control/conffiles"
check ".deb postinst reloads systemd, restarts on upgrade, never starts on install" \
  bash -c "grep -q 'daemon-reload' '$work/deb-control/postinst' && grep -q 'try-restart frontdesk.service' '$work/deb-control/postinst' && ! grep -q 'invoke start' '$work/deb-control/postinst'"
check ".deb postinst leaves the unit disabled on install (enables only if it was enabled)" \
  grep -q 'was-enabled frontdesk.service' "$work/deb-control/postinst"
check ".deb prerm/postrm handle the unit" \
  bash -c "grep -q frontdesk.service '$work/deb-control/prerm' && grep -q frontdesk.service '$work/deb-control/postrm'"
bin="$work/deb/usr/bin/frontdesk"
check "packaged binary --version runs and says $version" \
  bash -c "'$bin' --version | grep -qx 'frontdesk $version'"
check "packaged binary is the tarball's binary" cmp -s "$bin" "$dir/frontdesk"

# Install, inspect and purge it with dpkg (as root, only if no frontdesk package is installed).
if [ "$(id -u)" = 0 ] && ! dpkg -s frontdesk >/dev/null 2>&1; then
  installed=1
  check "dpkg -i installs the .deb" bash -c "dpkg -i '$deb' >'$work/dpkg.log' 2>&1"
  check "installed: /usr/bin/frontdesk --version" bash -c "/usr/bin/frontdesk --version | grep -qx 'frontdesk $version'"
  check "installed: /etc/frontdesk/frontdesk.toml is 640 root:root" \
    bash -c "[ \"\$(stat -c '%a %U:%G' /etc/frontdesk/frontdesk.toml)\" = '640 root:root' ]"
  if command -v systemd-analyze >/dev/null 2>&1; then
    check "installed: systemd-analyze verify frontdesk.service" \
      bash -c "systemd-analyze verify '$(sed -n 's#.* \./\(.*lib/systemd/system/frontdesk\.service\)$#/\1#p' "$work/deb-contents.txt")' 2>&1"
  fi
  check "dpkg --purge removes it (and its config)" \
    bash -c "dpkg --purge frontdesk >>'$work/dpkg.log' 2>&1 && [ ! -e /usr/bin/frontdesk ] && [ ! -e /etc/frontdesk/frontdesk.toml ]"
  installed=0
fi

# ------------------------------------------------------------------------------ unit and config
echo "--- unit and config"
unit_has() { grep -qx "$1" packaging/frontdesk.service; }
for line in Type=notify DynamicUser=yes StateDirectory=frontdesk ProtectSystem=strict \
  NoNewPrivileges=yes PrivateTmp=yes ProtectHome=yes \
  "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6" SystemCallFilter=@system-service \
  Restart=on-failure "LoadCredential=frontdesk.toml:/etc/frontdesk/frontdesk.toml"; do
  check "unit: $line" unit_has "$line"
done
if command -v systemd-analyze >/dev/null 2>&1; then
  systemd-analyze security --offline=yes packaging/frontdesk.service >"$work/security.txt" 2>&1 || true
  exposure=$(sed -n 's/.*Overall exposure level for frontdesk.service: \([0-9.]*\).*/\1/p' "$work/security.txt")
  echo "systemd-analyze security exposure: ${exposure:-?}"
  check "systemd-analyze security exposure <= 2.0 (got ${exposure:-none})" \
    awk -v e="${exposure:-99}" 'BEGIN { exit !(e <= 2.0) }'
else
  echo "systemd-analyze not installed: exposure not measured"
fi
# Every key of src/config.rs FileConfig is documented (as a commented default) in the example.
keys=$(sed -n '/^pub struct FileConfig {/,/^}/s/^ *pub \([a-z_]*\):.*/\1/p' src/config.rs)
check "src/config.rs has FileConfig keys" test -n "$keys"
for k in $keys; do
  check "example config documents \`$k\`" grep -Eq "^#?$k = " packaging/frontdesk.toml
done

# ------------------------------------------------------------------------------ run it
echo "--- run the packaged binary"
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_healthz() { # url, pid
  for _ in $(seq 1 300); do
    if [ "$(curl -s --max-time 2 "$1/healthz" 2>/dev/null)" = ok ]; then return 0; fi
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}
stop_expect_0() { # pid
  local rc=0
  kill -TERM "$1"
  for _ in $(seq 1 150); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  wait "$1" || rc=$?
  [ "$rc" -eq 0 ]
}

# 1. The example config exactly as shipped, with the address and data dir given as flags.
cp packaging/frontdesk.toml "$work/frontdesk.toml"
port=$(free_port)
url="http://127.0.0.1:$port"
notify="$work/notify.sock"
# A stand-in for systemd's notify socket: records what the server reports (Type=notify).
python3 - "$notify" "$work/notify.txt" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(60)
with open(sys.argv[2], "a") as out:
    try:
        while True:
            msg = s.recv(4096).decode()
            out.write(msg + "\n")
            out.flush()
            if "STOPPING=1" in msg:
                break
    except socket.timeout:
        pass
PY
pids+=($!)
for _ in $(seq 1 50); do [ -S "$notify" ] && break; sleep 0.1; done
NOTIFY_SOCKET="$notify" "$bin" serve --config "$work/frontdesk.toml" --listen "127.0.0.1:$port" \
  --data "$work/data" >"$work/serve.log" 2>&1 &
server=$!
pids+=("$server")
if wait_healthz "$url" "$server"; then ok "/healthz answers ok (example config, port $port)"; else
  bad "/healthz answers ok"
  tail -n 20 "$work/serve.log"
fi
curl -s --max-time 5 -o "$work/metrics.txt" -w '%{http_code} %{content_type}\n' "$url/metrics" >"$work/metrics.status" || true
check "/metrics answers 200" grep -q '^200 ' "$work/metrics.status"
check "/metrics is Prometheus text (# HELP / # TYPE lines)" \
  bash -c "grep -q '^# TYPE ' '$work/metrics.txt' && grep -q '^# HELP ' '$work/metrics.txt'"
check "/metrics has the store commit latency histogram" \
  grep -q '^frontdesk_store_commit_seconds_bucket' "$work/metrics.txt"
check "frontdesk healthcheck --listen exits 0 while it runs" \
  bash -c "'$bin' healthcheck --listen '127.0.0.1:$port' >/dev/null"
check "sd_notify: READY=1 reached the notify socket" grep -q 'READY=1' "$work/notify.txt"
check "the database is in the data dir" test -f "$work/data/frontdesk.db"
check "SIGTERM: clean exit 0" stop_expect_0 "$server"
for _ in $(seq 1 30); do grep -q STOPPING=1 "$work/notify.txt" 2>/dev/null && break; sleep 0.1; done
check "sd_notify: STOPPING=1 on shutdown" grep -q 'STOPPING=1' "$work/notify.txt"
check "frontdesk healthcheck fails once it is stopped" \
  bash -c "! '$bin' healthcheck --listen '127.0.0.1:$port' 2>/dev/null"
check "frontdesk backup writes a copy" \
  bash -c "'$bin' backup '$work/backup.db' --data '$work/data' >/dev/null && test -s '$work/backup.db'"

# 2. Every documented key uncommented at its documented value: the defaults are valid.
sed -E 's/^#([a-z_]+ = )/\1/' packaging/frontdesk.toml >"$work/all-keys.toml"
port=$(free_port)
"$bin" serve --config "$work/all-keys.toml" --listen "127.0.0.1:$port" --data "$work/data2" \
  >"$work/serve2.log" 2>&1 &
server=$!
pids+=("$server")
if wait_healthz "http://127.0.0.1:$port" "$server"; then
  ok "starts with every documented key set to its documented value"
else
  bad "starts with every documented key set to its documented value"
  tail -n 20 "$work/serve2.log"
fi
check "public_url from the config is used in the start-up log" \
  grep -q 'https://chat.example.com/console/' "$work/serve2.log"
check "SIGTERM: clean exit 0 (all keys)" stop_expect_0 "$server"

# 3. A typo in the config stops the server before it binds, naming the key.
printf 'lisen = "127.0.0.1:1"\n' >"$work/typo.toml"
check "an unknown config key is refused, naming it" \
  bash -c "! '$bin' serve --config '$work/typo.toml' --data '$work/data3' 2>'$work/typo.err' && grep -q lisen '$work/typo.err'"

finish
