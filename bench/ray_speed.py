"""Scale-out: fits per second on the serial, process-pool and Ray backends, and a projection to a cluster.

Workloads (both through :mod:`scalinglab.batch`, identical jobs on every backend):

* **Hitchhiker track B grid** (shared/reference/hitchhiker-protocol.md, sec. 4): for every dev scaled
  set (pythia, pythia-v0, OPT, gpt3, chinchilla, the eight GPT2-c4 sets), every k = 2 ... n-1 smallest
  sizes and every training fraction p in {0.1, ..., 1.0}: fit the Chinchilla law (scalinglab defaults)
  to the k smallest sizes' checkpoints with tokens <= p x (their max tokens), column ``loss_colpret``.
  One ``fit_many`` job per cell; cells with fewer points than the law needs fail the same way everywhere.
* **Bootstrap over groups**: 10,000 resamples of the runs of the Chinchilla fit to Pythia (all sizes,
  checkpoints after the first 20% of each run), as ``--chunks`` jobs of ``bootstrap(fit, n, seed=i)``.

Measured: wall time and fits (or resamples) per second for each backend on this machine; the maximum
absolute difference of every fitted parameter (and bootstrap draw) between Ray and serial; Ray's and
the process pool's scheduling overhead per task (no-op tasks, one job each); Ray's start-up time.

Projection to N machines of c cores (a model, printed with its assumptions):
    T(N) = T_start + max(J * t_job / (N * c),  n_tasks * o_task) + t_tail
with t_job the serial seconds per job measured here, o_task the measured per-task overhead on the
driver (it does not shrink with N), n_tasks = ceil(J / chunk), t_tail = chunk * t_job (the last chunk).

Run:  python bench/ray_speed.py            (about 10 minutes on 2 busy cores)
      python bench/ray_speed.py --quick    (a few families, 1,000 resamples)
Writes bench/results/ray_speed.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import scalinglab as sl
from scalinglab.batch import run_batch
from scalinglab.data import CheckpointRule
from scalinglab.fit import FitJob, bootstrap, fit_many

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SCALINGLAB_SHARED", ROOT.parent / "shared"))
DATA = SHARED / "data" / "hitchhiker" / "derived" / "loss_curves_unified.csv"
OUT = ROOT / "bench" / "results"
GPT2 = [f"GPT2-c4-{i}" for i in (1, 2, 3, 4, 5, 7, 14, 44)]
SETS = ["pythia", "pythia-v0", "OPT", "gpt3", "chinchilla", *GPT2]
FRACTIONS = [round(0.1 * i, 1) for i in range(1, 11)]


def load(sets) -> pd.DataFrame:
    d = pd.read_csv(DATA)
    d = d[d["scaled_set"].isin(sets)].drop(columns=["family"])
    d = d.rename(
        columns={
            "scaled_set": "family",
            "model_name": "run",
            "num_params": "params",
            "tokens_seen": "tokens",
            "loss_colpret": "loss",
        }
    )
    return sl.read_runs(d[["family", "run", "params", "tokens", "loss"]], duplicates="mean").frame


def grid_jobs(frame: pd.DataFrame) -> list[FitJob]:
    jobs = []
    for fam, g in frame.groupby("family", sort=False):
        sizes = sorted(g["params"].unique())
        for k in range(2, len(sizes)):
            small = g[g["params"].isin(sizes[:k])]
            top = small["tokens"].max()
            for p in FRACTIONS:
                rows = small[small["tokens"] <= p * top][["run", "params", "tokens", "loss"]]
                jobs.append(FitJob(rows.reset_index(drop=True), "chinchilla", label=f"{fam}|k={k}|p={p}"))
    return jobs


def _noop(x):
    return x


def _boot(job):
    f, n, seed = job
    return bootstrap(f, n, seed=seed).draws.to_numpy()


def timed(func, *args, **kwargs):
    t0 = time.perf_counter()
    out = func(*args, **kwargs)
    return out, time.perf_counter() - t0


def max_param_diff(a, b) -> float:
    diffs = [abs(x.value.params[p] - y.value.params[p]) for x, y in zip(a, b) if x.ok and y.ok for p in x.value.params]
    return float(max(diffs)) if diffs else 0.0


def machine() -> str:
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {platform.platform()}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="pythia, OPT and two GPT2-c4 sets; 1,000 resamples")
    ap.add_argument("--resamples", type=int, default=10_000)
    ap.add_argument("--chunks", type=int, default=100, help="bootstrap jobs (resamples split evenly)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--noop-tasks", type=int, default=2000)
    ap.add_argument("--cores", type=int, default=16, help="cores per machine in the projection")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    import ray

    from scalinglab.batch._ray import init_ray

    sets = ["pythia", "OPT", "GPT2-c4-1", "GPT2-c4-2"] if args.quick else SETS
    resamples = 1000 if args.quick else args.resamples
    frame = load(sets)
    jobs = grid_jobs(frame)
    W = args.workers
    print(f"track B grid: {len(jobs)} fits over {len(sets)} scaled sets; workers={W}; {machine()}")

    # Ray start-up (a local instance with W CPUs), measured once
    _, t_start = timed(init_ray, num_cpus=W)
    print(f"ray start-up: {t_start:.1f} s")

    # scheduling overhead per task: no-op jobs, one per task
    n = args.noop_tasks
    _, t_noop_ray = timed(run_batch, _noop, list(range(n)), backend="ray", chunksize=1)
    _, t_noop_proc = timed(run_batch, _noop, list(range(n // 4)), backend="process", workers=W, chunksize=1)
    o_ray, o_proc = t_noop_ray / n, t_noop_proc / (n // 4)
    print(f"overhead per task: ray {o_ray * 1e3:.2f} ms, process pool {o_proc * 1e3:.2f} ms (incl. pool start)")

    rows = []
    serial, t_serial = timed(fit_many, jobs, backend="serial")
    pool, t_pool = timed(fit_many, jobs, backend="process", workers=W)
    on_ray, t_ray = timed(fit_many, jobs, backend="ray")
    ok = sum(o.ok for o in serial)
    assert [o.ok for o in on_ray] == [o.ok for o in serial] == [o.ok for o in pool]
    d_ray, d_pool = max_param_diff(serial, on_ray), max_param_diff(serial, pool)
    rel = max(
        abs(x.value.params[p] - y.value.params[p]) / max(abs(x.value.params[p]), 1e-300)
        for x, y in zip(serial, on_ray)
        if x.ok
        for p in x.value.params
    )
    for name, t in (("serial", t_serial), ("process", t_pool), ("ray", t_ray)):
        rows.append(
            {
                "workload": "track-B grid",
                "backend": name,
                "jobs": len(jobs),
                "seconds": t,
                "per_s": len(jobs) / t,
                "speedup": t_serial / t,
            }
        )
    print(
        f"grid: {ok}/{len(jobs)} fits converged; serial {t_serial:.1f} s, process {t_pool:.1f} s, "
        f"ray {t_ray:.1f} s; max |param diff| ray-serial {d_ray:.3g} (relative {rel:.3g}), "
        f"process-serial {d_pool:.3g}"
    )

    # bootstrap over groups (runs) of one fit
    py = frame[frame["family"] == "pythia"]
    fit_rows = CheckpointRule(window=(0.2, 1.0)).apply(sl.read_runs(py[["run", "params", "tokens", "loss"]]))
    base = sl.fit(fit_rows, "chinchilla")
    per = resamples // args.chunks
    bjobs = [(base, per, seed) for seed in range(args.chunks)]
    b_serial, tb_serial = timed(run_batch, _boot, bjobs, backend="serial")
    b_pool, tb_pool = timed(run_batch, _boot, bjobs, backend="process", workers=W)
    b_ray, tb_ray = timed(run_batch, _boot, bjobs, backend="ray")
    db = max(float(np.max(np.abs(a.value - b.value))) for a, b in zip(b_serial, b_ray))
    assert all(o.ok for o in b_serial + b_ray + b_pool)
    n_res = per * args.chunks
    for name, t in (("serial", tb_serial), ("process", tb_pool), ("ray", tb_ray)):
        rows.append(
            {
                "workload": f"bootstrap {n_res} resamples ({args.chunks} jobs)",
                "backend": name,
                "jobs": n_res,
                "seconds": t,
                "per_s": n_res / t,
                "speedup": tb_serial / t,
            }
        )
    print(
        f"bootstrap: {n_res} resamples of {fit_rows.n_runs} runs; serial {tb_serial:.1f} s, process "
        f"{tb_pool:.1f} s, ray {tb_ray:.1f} s; max |draw diff| ray-serial {db:.3g}"
    )

    # projection to N machines of c cores
    t_job = t_serial / len(jobs)
    J, c = len(jobs), args.cores
    proj = []
    for N in (1, 4, 16, 64):
        chunk = max(1, math.ceil(J / (4 * N * c)))
        n_tasks = math.ceil(J / chunk)
        T = t_start + max(J * t_job / (N * c), n_tasks * o_ray) + chunk * t_job
        proj.append(
            {"machines": N, "cores_each": c, "chunk": chunk, "tasks": n_tasks, "seconds": T, "fits_per_s": J / T}
        )
    table = pd.DataFrame(rows)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    print(pd.DataFrame(proj).to_string(index=False, float_format=lambda v: f"{v:.3g}"))

    OUT.mkdir(parents=True, exist_ok=True)
    result = {
        "machine": machine(),
        "workers": W,
        "ray": ray.__version__,
        "grid_fits": J,
        "grid_ok": ok,
        "max_abs_param_diff_ray_serial": d_ray,
        "max_rel_param_diff_ray_serial": rel,
        "max_abs_param_diff_process_serial": d_pool,
        "max_abs_draw_diff_ray_serial": db,
        "ray_startup_s": t_start,
        "overhead_per_task_ray_s": o_ray,
        "overhead_per_task_process_s": o_proc,
        "serial_s_per_fit": t_job,
        "rows": rows,
        "projection": proj,
        "quick": args.quick,
    }
    (OUT / "ray_speed.json").write_text(json.dumps(result, indent=2))
    md = [
        f"# Scale-out (`python bench/ray_speed.py{' --quick' if args.quick else ''}`)",
        "",
        f"Machine: {machine()}; {W} workers; Ray {ray.__version__}.",
        "",
        "| workload | backend | jobs | seconds | per second | speed-up |",
        "|---|---|---:|---:|---:|---:|",
    ]
    md += [
        f"| {r['workload']} | {r['backend']} | {r['jobs']} | {r['seconds']:.1f} | {r['per_s']:.1f} | "
        f"{r['speedup']:.2f}x |"
        for r in rows
    ]
    md += [
        "",
        f"Ray vs serial: max |parameter difference| {d_ray:.3g} over {ok} converged fits "
        f"(relative {rel:.3g}); bootstrap draws {db:.3g}. Ray start-up {t_start:.1f} s; overhead per task: "
        f"Ray {o_ray * 1e3:.2f} ms, process pool {o_proc * 1e3:.2f} ms.",
        "",
        f"Projection (model above; t_job = {t_job * 1e3:.0f} ms measured serially here, o_task = "
        f"{o_ray * 1e3:.2f} ms, T_start = {t_start:.1f} s; assumed: cores as fast as these, independent jobs, "
        "no network cost beyond o_task, 4 chunks per core):",
        "",
        "| machines | cores each | chunk | tasks | seconds | fits/s |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    md += [
        f"| {p['machines']} | {p['cores_each']} | {p['chunk']} | {p['tasks']} | {p['seconds']:.1f} | "
        f"{p['fits_per_s']:.0f} |"
        for p in proj
    ]
    (OUT / "ray_speed.md").write_text("\n".join(md) + "\n")


if __name__ == "__main__":
    main()
