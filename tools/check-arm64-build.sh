#!/usr/bin/env bash
# Publishes the CLI for linux-arm64 and osx-arm64 (framework-dependent JIT builds, as a user on a Raspberry Pi or
# an Apple Silicon Mac would) into a temporary folder, with its own bin/obj (--artifacts-path) so the work tree's
# build is untouched. Fails when either publish fails (a package without ARM64 assets, a build break on those
# runtime identifiers) or when the app host is not an ARM64 executable (ELF machine 183, Mach-O CPU type
# 0x0100000c). The IL is the same on every CPU; x86-only code paths are caught by the kernel tests' re-runs with
# AVX and SIMD disabled, and tools/check-arm64-run.sh runs the linux-arm64 build under emulation, not here.
# Prints one line, "arm64 publish: ...", and exits non-zero on failure (the publish log's tail first).
set -uo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
start=$SECONDS

# The app host's architecture from its header: "arm64", or what it is instead.
host_arch() {
  local magic
  magic=$(od -An -tx1 -N4 "$1" | tr -d ' \n')
  case "$magic" in
    7f454c46) [ "$(od -An -tu2 -j18 -N2 "$1" | tr -d ' ')" = 183 ] && echo arm64 || echo "ELF, not aarch64" ;;
    cffaedfe) [ "$(od -An -tx1 -j4 -N4 "$1" | tr -d ' \n')" = 0c000001 ] && echo arm64 || echo "Mach-O, not arm64" ;;
    *) echo "not an executable (magic $magic)" ;;
  esac
}

for rid in linux-arm64 osx-arm64; do
  if ! dotnet publish src/Backprop.Cli -c Release -r "$rid" --self-contained false \
      --artifacts-path "$work/artifacts" -o "$work/$rid" > "$work/$rid.log" 2>&1; then
    tail -n 20 "$work/$rid.log"
    echo "arm64 publish: FAILED for $rid (dotnet publish src/Backprop.Cli -c Release -r $rid --self-contained false)"
    exit 1
  fi
  arch=$(host_arch "$work/$rid/Backprop.Cli")
  if [ "$arch" != arm64 ]; then
    echo "arm64 publish: FAILED for $rid: the app host $rid/Backprop.Cli is $arch"
    exit 1
  fi
done
echo "arm64 publish: linux-arm64 and osx-arm64 ok ($(( SECONDS - start )) s)"
