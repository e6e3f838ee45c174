"""How the time and memory of one Chinchilla fit grow with the number of points (10^2 .. 10^6).

Synthetic runs: N log-uniform in [1e7, 1e10], D log-uniform in [1e9, 1e12], loss from the
Hoffmann et al. (2022) constants with 1% multiplicative noise (seed 0).  Each size is fitted
in a fresh subprocess (``fit(frame, "chinchilla")``, defaults: 1,444-point grid, 8 starts) so
that its peak resident memory (``ru_maxrss``) is its own; the same subprocess also reports the
peak of numpy/Python allocations during the fit alone (``tracemalloc``) and the CPU time of the
fit (``time.process_time``, one BLAS/OpenMP thread), the median of ``--repeats`` fits for sizes
up to 10^5 and one fit above.  The baseline process (imports and data only) is reported too.

Run:  python bench/memory_scaling.py [--sizes 100,1000,10000,100000,1000000]
Writes bench/results/memory_scaling.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "results"

CHILD = r"""
import os, sys, time, json, resource, tracemalloc, warnings
for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[v] = "1"
import numpy as np, pandas as pd
import scalinglab as sl
n, repeats = int(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(0)
N = np.exp(rng.uniform(np.log(1e7), np.log(1e10), n)); D = np.exp(rng.uniform(np.log(1e9), np.log(1e12), n))
L = (1.69 + 406.4 / N**0.34 + 410.7 / D**0.28) * np.exp(rng.normal(0, 0.01, n))
frame = pd.DataFrame({"params": N, "tokens": D, "loss": L})
base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
warnings.simplefilter("ignore")
times, reads, prints, walls = [], [], [], []
for _ in range(repeats):
    t = time.process_time(); w = time.perf_counter(); f = sl.fit(frame, "chinchilla")
    times.append(time.process_time() - t); walls.append(time.perf_counter() - w)
    t = time.process_time(); runs = sl.read_runs(frame); reads.append(time.process_time() - t)
    t = time.process_time(); runs.fingerprint(); prints.append(time.process_time() - t)
tracemalloc.start()
sl.fit(frame, "chinchilla")
_, peak = tracemalloc.get_traced_memory()
tracemalloc.stop()
print(json.dumps({"n": n, "cpu_s": float(np.median(times)), "wall_s": float(np.median(walls)),
                  "read_runs_cpu_s": float(np.median(reads)), "fingerprint_cpu_s": float(np.median(prints)),
                  "load_average": os.getloadavg()[0], "tracemalloc_peak_mb": peak / 2**20,
                  "rss_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "rss_before_fit_mb": base_rss / 1024, "objective": f.objective,
                  "params": f.params, "n_iter": f.n_iter, "converged": f.converged}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100,1000,10000,100000,1000000")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    rows = []
    for n in [int(float(s)) for s in args.sizes.split(",")]:
        reps = args.repeats if n <= 100_000 else 1
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(n), str(reps)], capture_output=True, text=True, env=dict(os.environ)
        )
        if out.returncode != 0:
            print(out.stderr[-2000:])
            rows.append({"n": n, "error": out.stderr.strip().splitlines()[-1]})
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(r)
        print(
            f"n={n:>8}: {r['cpu_s']:7.3f} s CPU ({r['wall_s']:.2f} s wall; read_runs {r['read_runs_cpu_s']:.3f} s, "
            f"fingerprint {r['fingerprint_cpu_s']:.3f} s; load average {r['load_average']:.1f}), fit peak {r['tracemalloc_peak_mb']:7.1f} MB (tracemalloc), "
            f"process peak RSS {r['rss_peak_mb']:7.1f} MB (before fit {r['rss_before_fit_mb']:.0f} MB), "
            f"alpha {r['params']['alpha']:.4f} beta {r['params']['beta']:.4f}",
            flush=True,
        )
    OUT.mkdir(parents=True, exist_ok=True)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    (OUT / "memory_scaling.json").write_text(json.dumps({"rows": rows, "machine": machine}, indent=1))
    lines = [
        "# Time and memory of one Chinchilla fit vs number of points",
        "",
        "| points | CPU s | wall s | of which read_runs CPU s | fingerprint CPU s | fit peak MB (tracemalloc) "
        "| process peak RSS MB | load average | alpha | beta |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['n']:,} | failed: {r['error']} | | | | | | | | |")
            continue
        lines.append(
            f"| {r['n']:,} | {r['cpu_s']:.3f} | {r['wall_s']:.2f} | {r['read_runs_cpu_s']:.3f} | "
            f"{r['fingerprint_cpu_s']:.3f} | {r['tracemalloc_peak_mb']:.1f} | {r['rss_peak_mb']:.0f} | "
            f"{r['load_average']:.1f} | {r['params']['alpha']:.4f} | {r['params']['beta']:.4f} |"
        )
    lines += [
        "",
        f"Command: `python bench/memory_scaling.py --sizes {args.sizes}`; machine: {machine}; one BLAS thread.",
    ]
    (OUT / "memory_scaling.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
