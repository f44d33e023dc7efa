#!/usr/bin/env bash
# Builds the release artifacts into dist/:
#   dist/frontdesk-<version>-<target>.tar.gz   static musl binary, README.md, OPERATIONS.md,
#                                              LICENSE, frontdesk.toml (example), frontdesk.service
#   dist/frontdesk_<version>-1_<arch>.deb      with --deb (needs cargo-deb)
#   dist/SHA256SUMS                            for every artifact of this version in dist/
#
# Usage: packaging/release.sh [--deb] [TARGET...]
#   TARGET defaults to x86_64-unknown-linux-musl, plus aarch64-unknown-linux-musl when
#   cargo-zigbuild is available (cross-compiling the bundled SQLite needs zig's C compiler).
#   TARGETS="..." in the environment does the same as listing them.
#
# Toolchain: rustup targets for each TARGET, and either
#   - cargo-zigbuild + zig  (pip install ziglang cargo-zigbuild; any target), or
#   - musl-tools            (apt-get install musl-tools; x86_64 only, on an x86_64 host).
# Run from anywhere; works in the repository root. Builds reuse target/ (no clean).
set -euo pipefail
cd "$(dirname "$0")/.."

want_deb=0
targets=()
for arg in "$@"; do
  case "$arg" in
    --deb) want_deb=1 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    -*) echo "release.sh: unknown option $arg" >&2; exit 2 ;;
    *) targets+=("$arg") ;;
  esac
done
if [ ${#targets[@]} -eq 0 ] && [ -n "${TARGETS:-}" ]; then
  read -r -a targets <<<"$TARGETS"
fi

have_zigbuild=0
if cargo zigbuild --help >/dev/null 2>&1; then
  if command -v zig >/dev/null 2>&1 || python3 -m ziglang version >/dev/null 2>&1; then
    have_zigbuild=1
  fi
fi
if [ ${#targets[@]} -eq 0 ]; then
  targets=(x86_64-unknown-linux-musl)
  if [ $have_zigbuild -eq 1 ]; then
    targets+=(aarch64-unknown-linux-musl)
  else
    echo "release.sh: cargo-zigbuild/zig not found: building x86_64 only (aarch64 needs zig)" >&2
  fi
fi

version=$(sed -n 's/^version *= *"\([^"]*\)".*/\1/p' Cargo.toml | head -n 1)
[ -n "$version" ] || { echo "release.sh: no version in Cargo.toml" >&2; exit 1; }
target_dir=$(cargo metadata --no-deps --format-version 1 2>/dev/null |
  sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
target_dir=${target_dir:-target}
# Reproducible archives: file times from the last commit (or now outside git).
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}

mkdir -p dist
echo "release.sh: frontdesk $version for ${targets[*]}"

build() {
  local target=$1
  rustup target list --installed 2>/dev/null | grep -qx "$target" || rustup target add "$target"
  if [ $have_zigbuild -eq 1 ]; then
    cargo zigbuild --release --locked --target "$target"
  elif [ "$target" = "x86_64-unknown-linux-musl" ] && [ "$(uname -m)" = x86_64 ] &&
    command -v musl-gcc >/dev/null 2>&1; then
    CC_x86_64_unknown_linux_musl=musl-gcc cargo build --release --locked --target "$target"
  else
    echo "release.sh: cannot build $target: install cargo-zigbuild + zig (or musl-tools for x86_64)" >&2
    return 1
  fi
}

is_static() {
  # A dynamically linked ELF names its loader (/lib/ld-musl-*, /lib64/ld-linux-*) in PT_INTERP.
  ! LC_ALL=C grep -qa -e '/lib/ld-' -e '/lib64/ld-' "$1"
}

for target in "${targets[@]}"; do
  build "$target"
  bin="$target_dir/$target/release/frontdesk"
  [ -x "$bin" ] || { echo "release.sh: $bin was not built" >&2; exit 1; }
  is_static "$bin" || { echo "release.sh: $bin is not statically linked" >&2; exit 1; }
  case "$target" in
    "$(uname -m)"-*) "$bin" --version ;; # runs here: prove it
  esac

  name="frontdesk-$version-$target"
  stage=$(mktemp -d)
  mkdir "$stage/$name"
  install -m 0755 "$bin" "$stage/$name/frontdesk"
  install -m 0644 README.md LICENSE "$stage/$name/"
  install -m 0644 packaging/README.md "$stage/$name/OPERATIONS.md"
  install -m 0644 packaging/frontdesk.toml packaging/frontdesk.service "$stage/$name/"
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" \
    -C "$stage" -cf - "$name" | gzip -9n >"dist/$name.tar.gz"
  rm -rf "$stage"
  echo "release.sh: dist/$name.tar.gz ($(du -h "$bin" | cut -f1) binary)"

  if [ $want_deb -eq 1 ]; then
    # The .deb carries the same static binary: no rebuild, runs on any Debian/Ubuntu.
    deb=$(cargo deb --no-build --target "$target" --output dist/ 2>&1 | tail -n 1)
    [ -f "$deb" ] || { echo "release.sh: cargo deb failed: $deb" >&2; exit 1; }
    echo "release.sh: $deb"
  fi
done

# Every artifact of this version in dist/ (earlier runs for other targets included).
(
  cd dist
  shopt -s nullglob
  files=("frontdesk-$version-"*.tar.gz "frontdesk_$version-"*.deb)
  sha256sum -- "${files[@]}" >SHA256SUMS
)
echo "release.sh: dist/SHA256SUMS"
cat dist/SHA256SUMS
