#!/usr/bin/env bash
# before/after/peers side by side: REPS interleaved rounds of mlp and cnn
set -u
OUT=/work/notes/sbs-$(date -u +%H%M).jsonl
PEERS=/work/shared/peers
for rep in $(seq 1 ${REPS:-3}); do
  for w in mlp cnn; do
    for who in before after torchsharp pytorch; do
      case $who in
        before) cmd="dotnet /work/baseline/src/Backprop.Cli/bin/Release/net10.0/Backprop.Cli.dll bench $w" ;;
        after) cmd="dotnet /tmp/after-cli/Backprop.Cli.dll bench $w" ;;
        torchsharp) cmd="$PEERS/torchsharp/run.sh $w" ;;
        pytorch) cmd="env PT_BLAS=openmp $PEERS/pytorch/run.sh $w" ;;
      esac
      $cmd 2>/dev/null | REP=$rep WHO=$who python3 -c '
import json, os, sys
for line in sys.stdin:
    line=line.strip()
    if not line.startswith("{"): continue
    r=json.loads(line); r["rep"]=int(os.environ["REP"]); r["who"]=os.environ["WHO"]; print(json.dumps(r))' >> $OUT
      echo "[$(date -u +%H:%M:%S)] rep $rep $w $who" >&2
    done
  done
done
echo $OUT
