#!/usr/bin/env bash
# Runs the linux-arm64 build of the CLI on this x86-64 machine under qemu-aarch64 (user-mode emulation: the ARM64
# JIT, its 128-bit AdvSimd code and fused multiply-adds, executed instruction by instruction) and checks that it
# trains to the same losses as the x86 JIT build. tools/check-arm64-build.sh only publishes for ARM64; the kernel
# tests run the 128-bit paths on x86 (DOTNET_EnableAVX=0), where Vector128 is SSE and multiply-adds are not fused.
#
# Installs qemu-user and the aarch64 C/C++ runtime libraries (libc6-, libstdc++6-, libgcc-s1-arm64-cross, into
# /usr/aarch64-linux-gnu) with apt-get when missing; publishes the CLI self-contained for linux-arm64 (JIT, not
# NativeAOT) into a temporary folder with its own bin/obj (--artifacts-path), so the work tree's build is untouched;
# then trains two short seeded jobs that go through the main kernels:
#   cnn  64 Fashion-MNIST images, 2 epochs of 4 steps: conv1 by im2col GEMM, conv2 by Winograd F(2×2, 5×5) (16 images × 14×14), fused conv+ReLU+max-pool, linear, Adam
#   gpt  width 32, 2 heads, 1 block on README.md, 2 epochs of 10 steps: embeddings, layer norm, attention, GELU,
#        softmax cross-entropy, AdamW (the attention and norm kernels are where Width128.MulAdd is used); README.md
#        is always there, and both builds read the same copy, so an edit changes the losses but not the comparison
# and compares every step's training loss (steps.csv) and each epoch's evaluation loss (metrics.jsonl) with the
# x86 JIT build (./backprop with BACKPROP_JIT=1) at this machine's full SIMD width and at 128 bits
# (DOTNET_EnableAVX=0). The ARM64 run must say it took the 128-bit SIMD paths (not scalar).
#
# Tolerance: relative difference at most 1e-5 on every loss. Correct builds differ in the last bits only (fused
# against unfused multiply-adds, other reduction orders): at most 2e-7 between ARM64 and x86 on these jobs, and
# 6.5e-7 between x86's scalar and SIMD builds on a longer mlp run. A wrong 128-bit kernel moves the losses far more:
# Width128.MulAdd that dropped the addend in one lane of four moved the gpt's first loss by 2.4e-4 and later ones by
# up to 1.8e-3; dropping it in every lane moved them by 1.2e-4 to 1e-2. The same one-lane fault in the 128-bit GEMM
# micro-kernel moved the cnn's first loss by 1.5e-3 and later ones by up to 0.2.
#
# Prints one line, "arm64 run: ...", and exits non-zero when a package, the publish or a run fails, the ARM64 run is
# not at 128 bits, or a loss differs by more than the tolerance (the differing steps first).
set -uo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
start=$SECONDS
tolerance=1e-5
sysroot=/usr/aarch64-linux-gnu
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

fail() { echo "arm64 run: FAILED: $*"; exit 1; }

packages=""
command -v qemu-aarch64 >/dev/null || packages="$packages qemu-user"
[ -f "$sysroot/lib/ld-linux-aarch64.so.1" ] || packages="$packages libc6-arm64-cross"
[ -f "$sysroot/lib/libstdc++.so.6" ] || packages="$packages libstdc++6-arm64-cross"
[ -f "$sysroot/lib/libgcc_s.so.1" ] || packages="$packages libgcc-s1-arm64-cross"
if [ -n "$packages" ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  echo "installing ARM64 emulation:$packages" >&2
  $SUDO apt-get update -qq || true
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $packages >&2 \
    || fail "could not install$packages (apt-get install$packages)"
fi
[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] \
  || fail "Fashion-MNIST is not installed (tools/install-test-data.sh)"

if ! dotnet publish src/Backprop.Cli -c Release -r linux-arm64 --self-contained true \
    --artifacts-path "$work/artifacts" -o "$work/arm64" > "$work/publish.log" 2>&1; then
  tail -n 20 "$work/publish.log"
  fail "dotnet publish src/Backprop.Cli -c Release -r linux-arm64 --self-contained true"
fi

cnn=(train --model cnn --train-limit 64 --test-limit 64 --batch-size 16 --epochs 2 --threads 2 --seed 0)
gpt=(train --model gpt --text README.md --width 32 --heads 2 --layers 1 --context 32 --batch-size 8
     --steps-per-epoch 10 --epochs 2 --threads 2 --seed 0)

# run NAME JOB WHERE: trains job cnn or gpt into $work/NAME (WHERE: arm64, full or 128), keeping its output in NAME.log.
run() {
  local -n args=$2
  local out="$work/$1" status
  case "$3" in
    arm64) timeout 900 qemu-aarch64 -L "$sysroot" "$work/arm64/Backprop.Cli" "${args[@]}" --out "$out" ;;
    full) BACKPROP_JIT=1 timeout 300 ./backprop "${args[@]}" --out "$out" ;;
    128) DOTNET_EnableAVX=0 BACKPROP_JIT=1 timeout 300 ./backprop "${args[@]}" --out "$out" ;;
  esac > "$work/$1.log" 2>&1
  status=$?
  if [ "$status" -ne 0 ]; then
    tail -n 20 "$work/$1.log"
    [ "$3" = arm64 ] && fail "$2 under qemu-aarch64 exited with $status: qemu-aarch64 -L $sysroot Backprop.Cli ${args[*]}"
    [ "$3" = 128 ] && fail "$2 on x86 at 128 bits exited with $status: DOTNET_EnableAVX=0 ./backprop ${args[*]}"
    fail "$2 on x86 exited with $status: ./backprop ${args[*]}"
  fi
}

# The losses of run $1, one per line: every step's training loss, then each epoch's evaluation loss.
losses() {
  tail -n +2 "$work/$1/steps.csv" | cut -d, -f4
  grep -o '"\(test\|val\)_loss":[^,}]*' "$work/$1/metrics.jsonl" | cut -d: -f2
}

# compare A B: prints the largest relative difference between the losses of runs A and B, or "count" when they have
# different numbers of losses, or "non-finite" for a NaN or infinite loss (which no comparison would catch); exits
# non-zero on those and beyond the tolerance, the losses that differ by more in $work/over.txt.
compare() {
  paste -d' ' <(losses "$1") <(losses "$2") | awk -v tol="$tolerance" -v a="$1" -v b="$2" -v over_file="$work/over.txt" '
    NF != 2 { bad = "count"; next }
    $1 !~ /^-?[0-9.]+([eE][-+]?[0-9]+)?$/ || $2 !~ /^-?[0-9.]+([eE][-+]?[0-9]+)?$/ {
      if (bad == "") bad = "non-finite"; printf "  loss %d: %s %s, %s %s\n", NR, a, $1, b, $2 > over_file; next }
    {
      d = $1 - $2; if (d < 0) d = -d; s = $2 < 0 ? -$2 : $2; r = s > 0 ? d / s : d
      if (r > max) max = r
      if (r > tol) { printf "  loss %d: %s %.9g, %s %.9g (relative %.2g)\n", NR, a, $1, b, $2, r > over_file; over = 1 }
    }
    END { if (bad != "") { print bad; exit 1 } printf "%.1e\n", max; exit over }'
}

x86full=""; maxfull=0; max128=0; steps=0
for job in cnn gpt; do
  run "$job-arm64" $job arm64
  grep -q "parameters, 128-bit SIMD;" "$work/$job-arm64.log" \
    || fail "the linux-arm64 $job run did not take the 128-bit SIMD paths: $(grep -o 'parameters, [^;]*' "$work/$job-arm64.log")"
  run "$job-full" $job full
  run "$job-128" $job 128
  x86full=$(sed -n 's/.*parameters, \([0-9]*\)-bit SIMD;.*/\1/p' "$work/$job-full.log")
  steps=$(( steps + $(tail -n +2 "$work/$job-arm64/steps.csv" | wc -l) ))
  for ref in full 128; do
    bits=$ref; [ "$ref" = full ] && bits=$x86full
    if ! diff=$(compare "$job-arm64" "$job-$ref"); then
      [ "$diff" = count ] && fail "$job: the linux-arm64 run and the x86 run at $bits bits logged different numbers of losses"
      head -n 5 "$work/over.txt"
      [ "$diff" = non-finite ] && fail "$job: a loss of the linux-arm64 run or of the x86 run at $bits bits is not a finite number"
      fail "$job: losses of the linux-arm64 run differ from the x86 run at $bits bits by up to $diff (tolerance $tolerance; $(wc -l < "$work/over.txt") of $(losses "$job-arm64" | wc -l))"
    fi
    if [ "$ref" = full ]; then maxfull=$(printf '%s\n%s\n' "$maxfull" "$diff" | sort -g | tail -n 1)
    else max128=$(printf '%s\n%s\n' "$max128" "$diff" | sort -g | tail -n 1); fi
  done
done
echo "arm64 run: linux-arm64 under qemu-aarch64 at 128-bit SIMD, cnn and gpt ($steps steps) within $tolerance of x86 at $x86full bits (max $maxfull) and 128 bits (max $max128) ($(( SECONDS - start )) s)"
