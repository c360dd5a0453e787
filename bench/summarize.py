#!/usr/bin/env python3
"""raw.jsonl from side-by-side.sh -> markdown: one row per (workload, metric, N, threads), one column per
peer as 'median (min–max)', plus backprop's ratio to TorchSharp and to the best other peer. The simd column is
the vector width backprop's kernels ran at (its records' "simd" field); runs at different widths (e.g. one with
DOTNET_EnableAVX=0) get a row each, beside the same peer numbers."""
import json, statistics, sys
from collections import defaultdict

recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
vals = defaultdict(lambda: defaultdict(list))
units = {}
simds = defaultdict(lambda: defaultdict(list))  # key -> backprop's simd width -> its values
for r in recs:
    key = (r["workload"], r["metric"] + (f" ({r['process']})" if r.get("process") else ""), r.get("n"), r.get("threads"))
    vals[key][r["peer"]].append(r["value"])
    units[key] = r["unit"]
    if r["peer"] == "backprop":
        simds[key][r.get("simd", "")].append(r["value"])

peers = ["backprop", "torchsharp", "pytorch-debian", "numpy-openblas"]
lower_is_better = {"bwd_over_fwd", "step_over_fwd", "train_seconds", "peak_rss"}

def fmt(v):
    a = abs(v)
    return f"{v:.3f}" if a < 10 else f"{v:.1f}" if a < 1000 else f"{v:,.0f}"

def cell(xs):
    if not xs: return ""
    return f"{fmt(statistics.median(xs))} ({fmt(min(xs))}–{fmt(max(xs))})"

order = ["gemm", "mlp", "mlp_2epoch", "cnn", "transformer", "lstm", "memory"]
def simd_order(width):  # widest first, unlabelled (older records) last
    return -int(width) if width.isdigit() else 0 if width == "scalar" else 1

print("| workload | metric | N | thr | simd | " + " | ".join(peers) + " | backprop / torchsharp | backprop / best other |")
print("|---|---|---|---|---|" + "---|" * len(peers) + "---|---|")
rows = [(key, width) for key in vals if "backprop" in vals[key] for width in sorted(simds[key], key=simd_order)]
for key, width in sorted(rows, key=lambda kw: (order.index(kw[0][0]) if kw[0][0] in order else 99, kw[0][1], kw[0][2] or 0, kw[0][3] or 0, simd_order(kw[1]))):
    w, m, n, t = key
    v = dict(vals[key])
    v["backprop"] = simds[key][width]
    ours = statistics.median(v["backprop"])
    others = {p: statistics.median(v[p]) for p in peers[1:] if v.get(p)}
    base = m.split(" ")[0]
    def ratio(x):  # > 1 means backprop is better
        if not x: return ""
        r = x / ours if base in lower_is_better else ours / x
        return f"{r:.2f}×"
    best = (min(others.values()) if base in lower_is_better else max(others.values())) if others else None
    print(f"| {w} | {m} [{units[key]}] | {n or ''} | {t if t is not None else ''} | {width} | " + " | ".join(cell(v.get(p, [])) for p in peers)
          + f" | {ratio(others.get('torchsharp'))} | {ratio(best)} |")
print()
print("Ratios are oriented so that > 1× means backprop is better (faster, or smaller for ratios/seconds/memory).")

# backprop's managed memory traffic per timed phase (detail fields of its records; the peers do not report them)
alloc = defaultdict(lambda: defaultdict(list))
for r in recs:
    if r["peer"] == "backprop" and "alloc_bytes_per_step" in r:
        for f in ("alloc_bytes_per_step", "gen0", "gen1", "gen2"):
            alloc[(r["workload"], r["metric"], r.get("threads"))][f].append(r[f])
if alloc:
    print()
    print("backprop's managed allocations in each timed phase (median over the runs; GC counts are per phase, min–max):")
    print()
    print("| workload | phase (metric) | thr | allocated bytes per step | gen0 | gen1 | gen2 |")
    print("|---|---|---|---|---|---|---|")
    for (w, m, t), f in sorted(alloc.items(), key=lambda kv: (order.index(kv[0][0]) if kv[0][0] in order else 99, kv[0][1])):
        rng = lambda xs: f"{min(xs)}–{max(xs)}" if min(xs) != max(xs) else f"{min(xs)}"
        print(f"| {w} | {m} | {t} | {statistics.median(f['alloc_bytes_per_step']):,.0f} | {rng(f['gen0'])} | {rng(f['gen1'])} | {rng(f['gen2'])} |")
