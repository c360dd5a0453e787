#!/usr/bin/env bash
# Trains the same small models in WebAssembly and on this machine and compares the losses (issue #14).
# Builds examples/wasm/Browser (browser-wasm, Mono interpreter, no AOT and no workload: the runtime pack restores
# from NuGet) and runs it under Node.js through the generated dotnet.js (examples/wasm/Browser/main.mjs); builds
# the same code (examples/wasm/Shared) as a console app and runs it three times: at full width, with
# DOTNET_EnableAVX=0 (the 128-bit paths WebAssembly takes) and with DOTNET_EnableHWIntrinsic=0 (scalar).
# The app saves and reloads the MLP (checkpoint, safetensors read and memory-mapped) and fails if its loss changes.
# Every "loss ...:" line of the WebAssembly run must match the same line of each x86 run within a relative
# tolerance of 1e-4 (absolute 1e-9 near zero): fused or unfused multiply-add and the order of a reduction move
# the last bits (seen: up to 6e-7 relative after 500 Adam steps at 512 bits), a wrong kernel moves far more.
# With --publish the WebAssembly side is `dotnet publish`ed (trimmed, as a deployed Blazor app is) instead of built.
# The runs' output stays in examples/wasm/bin/check/. Prints one summary line; exits non-zero on a failed
# build, a crash, a missing line or a difference above the tolerance.
set -uo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
out=examples/wasm/bin/check
mkdir -p "$out"
tolerance=1e-4
publish=false
case "${1:-}" in
  --publish) publish=true ;;
  "") ;;
  *) echo "usage: tools/check-wasm-run.sh [--publish]"; exit 2 ;;
esac

fail() { echo "wasm check: FAILED: $*"; exit 1; }

# Node.js runs the build's dotnet.js (tried with Node.js 20); installed with apt-get when missing.
if ! command -v node > /dev/null; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  { $SUDO apt-get update -qq || true; DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs; } >&2 \
    || fail "could not install Node.js (apt-get install nodejs)"
  command -v node > /dev/null || fail "node not found after installing nodejs"
fi
for project in Browser Console; do
  if ! dotnet build "examples/wasm/$project" -c Release > "$out/build-$project.log" 2>&1; then
    tail -n 20 "$out/build-$project.log"
    fail "dotnet build examples/wasm/$project -c Release (log: $out/build-$project.log)"
  fi
done

framework=examples/wasm/Browser/bin/Release/net10.0/wwwroot/_framework
app=built
if $publish; then
  rm -rf "$out/publish"
  if ! dotnet publish examples/wasm/Browser -c Release -o "$out/publish" > "$out/publish.log" 2>&1; then
    tail -n 20 "$out/publish.log"
    fail "dotnet publish examples/wasm/Browser -c Release (log: $out/publish.log)"
  fi
  framework="$out/publish/wwwroot/_framework"
  app="published, trimmed"
fi
wasm_start=$SECONDS
timeout 900 node examples/wasm/Browser/main.mjs "$framework" > "$out/wasm.txt" 2>&1
rc=$?
[ "$rc" -eq 0 ] || { tail -n 20 "$out/wasm.txt"; fail "the WebAssembly run exited with $rc (output: $out/wasm.txt)"; }
wasm_seconds=$(( SECONDS - wasm_start ))
console=examples/wasm/Console/bin/Release/net10.0/Backprop.Wasm.Console
run_x86() { # name, environment assignments...
  local name=$1; shift
  env "$@" "$console" > "$out/$name.txt" 2>&1
  local rc=$?
  [ "$rc" -eq 0 ] || { tail -n 20 "$out/$name.txt"; fail "the x86 run $name exited with $rc (output: $out/$name.txt)"; }
}
run_x86 x86-full
run_x86 x86-128 DOTNET_EnableAVX=0
run_x86 x86-scalar DOTNET_EnableHWIntrinsic=0
for f in wasm x86-full x86-128 x86-scalar; do
  grep -qx done "$out/$f.txt" || fail "the $f run did not finish (output: $out/$f.txt)"
done

# "width" of a run: the VectorWidth it reported.
width() { sed -n 's/.*VectorWidth=\([a-z0-9]*\).*/\1/p' "$out/$1.txt"; }
# Compares the loss lines of two runs: prints "lines maxrel identical" or "MISSING label" / "DIFF label a b".
compare() {
  awk -v tol="$tolerance" -F': ' '
    FNR == NR { if ($1 ~ /^loss /) ref[$1] = $2; next }
    $1 ~ /^loss / {
      if (!($1 in ref)) { print "MISSING " $1; bad = 1; exit }
      a = $2 + 0; b = ref[$1] + 0; d = a - b; if (d < 0) d = -d
      m = (a < 0 ? -a : a); if ((b < 0 ? -b : b) > m) m = (b < 0 ? -b : b)
      rel = m > 0 ? d / m : 0
      if (d > tol * m && d > 1e-9) { print "DIFF " $1 " wasm " $2 " x86 " ref[$1]; bad = 1; exit }
      if (rel > maxrel) maxrel = rel
      n++; if ($2 == ref[$1]) same++; seen[$1] = 1
    }
    END {
      if (bad) exit 1
      for (k in ref) if (!(k in seen)) { print "MISSING " k; exit 1 }
      if (n == 0) { print "MISSING every loss line"; exit 1 }
      printf "%d %.1e %d\n", n, maxrel, same
    }' "$out/$2.txt" "$out/$1.txt"
}

summary=""
for ref in x86-full x86-128 x86-scalar; do
  result=$(compare wasm "$ref") || fail "wasm against $ref ($(width "$ref")): $result (outputs: $out/)"
  read -r lines maxrel same <<< "$result"
  summary+="; vs x86 $(width "$ref"): max rel diff $maxrel, $same/$lines identical"
done
simd=$(sed -n 's/^simd: Vector128.IsHardwareAccelerated=\([A-Za-z]*\) Vector256.IsHardwareAccelerated=\([A-Za-z]*\).*/Vector128 \1, Vector256 \2/p' "$out/wasm.txt")
echo "wasm check: ok: wasm ($app; $simd, width $(width wasm), training ${wasm_seconds} s) trained XOR/MLP/CNN and reloaded the MLP, $lines losses within rel $tolerance$summary ($(( SECONDS - start )) s)"
