#!/usr/bin/env bash
# Runs backprop's benchmark workloads and the peers' (../shared/peers) interleaved, REPS times, each in
# a fresh process, and writes bench/results/<stamp>/{raw.jsonl,table.md}. The table is what
# BENCHMARKS.md shows: medians with min–max, and backprop's ratio to each peer.
#   usage: REPS=3 bench/side-by-side.sh            (about 5 minutes per rep)
#   WORKLOADS="transformer lstm" limits the workloads.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$HERE")"
PEERS="${PEERS:-$ROOT/../shared/peers}"
REPS="${REPS:-3}"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
OUT="$HERE/results/$STAMP"
mkdir -p "$OUT"
RAW="$OUT/raw.jsonl"
log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }

"$PEERS/setup.sh"
"$PEERS/torchsharp/run.sh" build
"$ROOT/backprop" --version >/dev/null   # builds the CLI if needed, outside the timed runs

run() {  # run <label> <cmd...>: keeps the JSON lines, tagged with the rep
  local label="$1"; shift
  "$@" 2>/dev/null | REP="$rep" LABEL="$label" python3 -c '
import json, os, sys
for line in sys.stdin:
    line = line.strip()
    if not line.startswith("{"): continue
    r = json.loads(line); r["rep"] = int(os.environ["REP"]); r["run"] = os.environ["LABEL"]; print(json.dumps(r))' >> "$RAW"
  log "rep $rep $label done"
}
for rep in $(seq 1 "$REPS"); do
  for w in ${WORKLOADS:-gemm mlp cnn transformer lstm}; do
    run "backprop/$w" "$ROOT/backprop" bench "$w"
    run "torchsharp/$w" "$PEERS/torchsharp/run.sh" "$w"
    [ "$w" = gemm ] && run "numpy/gemm" "$PEERS/blas/run.sh" gemm || run "pytorch/$w" env PT_BLAS=openmp "$PEERS/pytorch/run.sh" "$w"
  done
done
python3 "$HERE/summarize.py" "$RAW" > "$OUT/table.md"
{ echo "date_utc: $(date -u +%FT%TZ)"; grep -m1 "model name" /proc/cpuinfo; echo "nproc: $(nproc)"; echo "reps: $REPS"; git -C "$ROOT" rev-parse --short HEAD | sed 's/^/backprop commit: /'; } > "$OUT/env.txt"
cat "$OUT/table.md"
log "done: $OUT"
