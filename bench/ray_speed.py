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

Stages run in this order and the results are written after each one, so a run stopped by
``--deadline`` (UTC ``HH:MM``; a slice of jobs not started by then is not run) still records what it
measured: start-up and overhead; the grid (``--grid-every K``: every K-th cell) on Ray, on the process
pool, serially (``--serial-every K``: every K-th of those); the first ``--boot-compare`` bootstrap jobs on
Ray, serially and on the pool, then the other jobs on Ray.  Equality is taken over the jobs both
backends finished.

Run:  python bench/ray_speed.py [--deadline 09:05]   (700 fits + 10,000 resamples: ~1 h on 2 busy cores)
      python bench/ray_speed.py --quick              (a few families, 1,000 resamples)
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


def _boot_batch(part, **kwargs):
    return run_batch(_boot, part, **kwargs)


def timed(func, *args, **kwargs):
    t0 = time.perf_counter()
    out = func(*args, **kwargs)
    return out, time.perf_counter() - t0


def max_param_diff(a, b, relative: bool = False) -> float | None:
    """Largest |difference| of any fitted parameter over the jobs both finished (None when none did)."""
    diffs = [
        abs(x.value.params[p] - y.value.params[p]) / (max(abs(x.value.params[p]), 1e-300) if relative else 1.0)
        for x, y in zip(a, b)
        if x is not None and y is not None and x.ok and y.ok
        for p in x.value.params
    ]
    return float(max(diffs)) if diffs else None


def machine() -> str:
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {platform.platform()}"


def _deadline(text: str | None) -> float | None:
    if not text:
        return None
    now = time.gmtime()
    hh, mm = (int(v) for v in text.split(":"))
    return time.time() + ((hh * 60 + mm) - (now.tm_hour * 60 + now.tm_min)) * 60 - now.tm_sec


def sliced(func, jobs, size: int, deadline: float | None, **kwargs):
    """``func(jobs[i:i+size], **kwargs)`` slice by slice until the deadline: (outcomes or None per job, seconds)."""
    out: list = [None] * len(jobs)
    spent = 0.0
    for start in range(0, len(jobs), size):
        if deadline is not None and time.time() >= deadline:
            break
        part, t = timed(func, jobs[start : start + size], **kwargs)
        out[start : start + len(part)] = list(part)
        spent += t
    return out, spent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="pythia, OPT and two GPT2-c4 sets; 1,000 resamples")
    ap.add_argument("--resamples", type=int, default=10_000)
    ap.add_argument("--chunks", type=int, default=100, help="bootstrap jobs (resamples split evenly)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--noop-tasks", type=int, default=2000)
    ap.add_argument("--cores", type=int, default=16, help="cores per machine in the projection")
    ap.add_argument("--serial-every", type=int, default=1, help="serial grid fits on every K-th job only")
    ap.add_argument("--grid-every", type=int, default=1, help="every K-th grid job on every backend")
    ap.add_argument("--boot-compare", type=int, default=None, help="bootstrap jobs run serially and on the pool")
    ap.add_argument("--deadline", default=None, help="UTC HH:MM: no slice of work starts after it")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    import ray

    from scalinglab.batch._ray import init_ray

    deadline = _deadline(args.deadline)
    sets = ["pythia", "OPT", "GPT2-c4-1", "GPT2-c4-2"] if args.quick else SETS
    resamples = 1000 if args.quick else args.resamples
    frame = load(sets)
    all_jobs = grid_jobs(frame)
    jobs = all_jobs[:: args.grid_every]
    W = args.workers
    J = len(jobs)
    res: dict = {
        "machine": machine(),
        "workers": W,
        "ray": ray.__version__,
        "grid_fits": J,
        "grid_every": args.grid_every,
        "grid_cells_total": len(all_jobs),
        "scaled_sets": sets,
        "quick": args.quick,
        "deadline_utc": args.deadline,
        "load_average_start": list(os.getloadavg()),
        "stages_done": [],
        "rows": [],
    }
    print(f"track B grid: {J} fits over {len(sets)} scaled sets; workers={W}; {machine()}; load {os.getloadavg()}")

    def save(stage: str) -> None:
        res["stages_done"].append(stage)
        res["load_average_now"] = list(os.getloadavg())
        write(res)
        print(f"[{time.strftime('%H:%M:%S', time.gmtime())} UTC] {stage} done", flush=True)

    # Ray start-up (a local instance with W CPUs), measured once; overhead per task: no-op jobs, one per task
    _, t_start = timed(init_ray, num_cpus=W)
    n = args.noop_tasks
    _, t_noop_ray = timed(run_batch, _noop, list(range(n)), backend="ray", chunksize=1)
    _, t_noop_proc = timed(run_batch, _noop, list(range(n // 4)), backend="process", workers=W, chunksize=1)
    res |= {
        "ray_startup_s": t_start,
        "overhead_per_task_ray_s": t_noop_ray / n,
        "overhead_per_task_process_s": t_noop_proc / (n // 4),
    }
    print(
        f"ray start-up {t_start:.1f} s; overhead per task: ray {t_noop_ray / n * 1e3:.2f} ms, process pool "
        f"{t_noop_proc / (n // 4) * 1e3:.2f} ms (incl. pool start)"
    )
    save("start-up and overhead")

    # the track-B grid: Ray, process pool, serial (every K-th job)
    grid = {}
    for name, sel, kw in (
        ("ray", range(J), {"backend": "ray"}),
        ("process", range(J), {"backend": "process", "workers": W}),
        ("serial", range(0, J, args.serial_every), {"backend": "serial"}),
    ):
        chosen = [jobs[i] for i in sel]
        out, t = sliced(fit_many, chosen, 175 if name != "serial" else 50, deadline, **kw)
        full: list = [None] * J
        for i, o in zip(sel, out):
            full[i] = o
        grid[name] = full
        done = sum(o is not None for o in out)
        if done:
            res["rows"].append(
                {
                    "workload": "track-B grid",
                    "backend": name,
                    "jobs": done,
                    "of": len(chosen),
                    "seconds": t,
                    "per_s": done / t,
                    "converged": sum(bool(o is not None and o.ok) for o in out),
                }
            )
        print(f"grid {name}: {done}/{len(chosen)} fits in {t:.1f} s", flush=True)
        save(f"grid {name}")
    same_ok = all(
        (a is None or b is None or a.ok == b.ok) for x in ("process", "serial") for a, b in zip(grid["ray"], grid[x])
    )
    res |= {
        "grid_ok_pattern_equal": same_ok,
        "max_abs_param_diff_ray_serial": max_param_diff(grid["serial"], grid["ray"]),
        "max_rel_param_diff_ray_serial": max_param_diff(grid["serial"], grid["ray"], relative=True),
        "max_abs_param_diff_ray_process": max_param_diff(grid["process"], grid["ray"]),
        "max_abs_param_diff_process_serial": max_param_diff(grid["serial"], grid["process"]),
        "grid_compared_ray_serial": sum(a is not None and b is not None for a, b in zip(grid["ray"], grid["serial"])),
        "grid_compared_ray_process": sum(a is not None and b is not None for a, b in zip(grid["ray"], grid["process"])),
    }
    print(
        f"grid equality: max |param diff| ray-serial {res['max_abs_param_diff_ray_serial']} over "
        f"{res['grid_compared_ray_serial']} fits, ray-process {res['max_abs_param_diff_ray_process']} over "
        f"{res['grid_compared_ray_process']}; same convergence pattern: {same_ok}"
    )
    save("grid equality")

    # bootstrap over groups (runs) of one fit: Ray on every job, serial and pool on the first --boot-compare
    py = frame[frame["family"] == "pythia"]
    fit_rows = CheckpointRule(window=(0.2, 1.0)).apply(sl.read_runs(py[["run", "params", "tokens", "loss"]]))
    base = sl.fit(fit_rows, "chinchilla")
    per = resamples // args.chunks
    bjobs = [(base, per, seed) for seed in range(args.chunks)]
    m = args.boot_compare or len(bjobs)
    boot = {}
    for name, sel, kw in (
        ("ray", bjobs[:m], {"backend": "ray"}),
        ("serial", bjobs[:m], {"backend": "serial"}),
        ("process", bjobs[:m], {"backend": "process", "workers": W}),
        ("ray (the other jobs)", bjobs[m:], {"backend": "ray"}),
    ):
        if not sel:
            continue
        out, t = sliced(_boot_batch, sel, 20 if name != "serial" else 5, deadline, **kw)
        boot[name] = out
        done = sum(o is not None for o in out) * per
        if done:
            res["rows"].append(
                {
                    "workload": f"bootstrap over the {fit_rows.n_runs} Pythia runs ({per} resamples per job)",
                    "backend": name,
                    "jobs": done,
                    "of": len(sel) * per,
                    "seconds": t,
                    "per_s": done / t,
                    "converged": sum(bool(o is not None and o.ok) for o in out) * per,
                }
            )
        print(f"bootstrap {name}: {done}/{len(sel) * per} resamples in {t:.1f} s", flush=True)
        save(f"bootstrap {name}")
    pairs = [(a, b) for a, b in zip(boot["serial"], boot["ray"]) if a is not None and b is not None and a.ok and b.ok]
    res["max_abs_draw_diff_ray_serial"] = max(
        (float(np.max(np.abs(a.value - b.value))) for a, b in pairs), default=None
    )
    res["bootstrap_compared_resamples"] = len(pairs) * per

    # projection to N machines of c cores, from what was measured
    ser = next((r for r in res["rows"] if r["workload"] == "track-B grid" and r["backend"] == "serial"), None)
    if ser is not None:
        t_job, o_ray, c = ser["seconds"] / ser["jobs"], res["overhead_per_task_ray_s"], args.cores
        proj = []
        for N in (1, 4, 16, 64):
            chunk = max(1, math.ceil(J / (4 * N * c)))
            n_tasks = math.ceil(J / chunk)
            T = t_start + max(J * t_job / (N * c), n_tasks * o_ray) + chunk * t_job
            proj.append(
                {"machines": N, "cores_each": c, "chunk": chunk, "tasks": n_tasks, "seconds": T, "fits_per_s": J / T}
            )
        res |= {"serial_s_per_fit": t_job, "projection": proj}
    print(pd.DataFrame(res["rows"]).to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    if "projection" in res:
        print(pd.DataFrame(res["projection"]).to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    save("projection")


def _fmt(v, spec: str = ".3g") -> str:
    return "not measured" if v is None else format(v, spec)


def write(res: dict) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "ray_speed.json").write_text(json.dumps(res, indent=2))
    W = res["workers"]
    la = ", ".join(f"{v:.1f}" for v in res["load_average_start"])
    md = [
        f"# Scale-out (`python bench/ray_speed.py{' --quick' if res['quick'] else ''}`)",
        "",
        f"Machine: {res['machine']}; {W} workers; Ray {res['ray']}; load average at the start {la}. "
        f"Stages done: {', '.join(res['stages_done'])}. Grid: {res['grid_fits']} fits (every "
        f"{res.get('grid_every', 1)}th of the {res.get('grid_cells_total', res['grid_fits'])} track-B cells).",
        "",
        "| workload | backend | done / of | seconds | per second | converged |",
        "|---|---|---:|---:|---:|---:|",
    ]
    md += [
        f"| {r['workload']} | {r['backend']} | {r['jobs']} / {r['of']} | {r['seconds']:.1f} | {r['per_s']:.2f} | "
        f"{r['converged']} |"
        for r in res["rows"]
    ]
    if "max_abs_param_diff_ray_serial" in res:
        md += [
            "",
            f"Ray vs serial: max |parameter difference| {_fmt(res['max_abs_param_diff_ray_serial'])} over "
            f"{res['grid_compared_ray_serial']} fits both ran (relative {_fmt(res['max_rel_param_diff_ray_serial'])}); "
            f"Ray vs process pool {_fmt(res['max_abs_param_diff_ray_process'])} over "
            f"{res['grid_compared_ray_process']} fits; same fits converged on every backend: "
            f"{res['grid_ok_pattern_equal']}.",
        ]
    if "max_abs_draw_diff_ray_serial" in res:
        md.append(
            f"Bootstrap draws Ray vs serial: max |difference| {_fmt(res['max_abs_draw_diff_ray_serial'])} over "
            f"{res['bootstrap_compared_resamples']} resamples."
        )
    if "ray_startup_s" in res:
        md.append(
            f"Ray start-up {res['ray_startup_s']:.1f} s; overhead per task (no-op jobs, one per task): Ray "
            f"{res['overhead_per_task_ray_s'] * 1e3:.2f} ms, process pool {res['overhead_per_task_process_s'] * 1e3:.2f}"
            " ms (pool start included)."
        )
    if "projection" in res:
        md += [
            "",
            f"Projection T(N) = T_start + max(J t_job / (N c), n_tasks o_task) + chunk t_job for the {res['grid_fits']}-fit "
            f"grid (measured: t_job = {res['serial_s_per_fit'] * 1e3:.0f} ms serially here, o_task = "
            f"{res['overhead_per_task_ray_s'] * 1e3:.2f} ms, T_start = {res['ray_startup_s']:.1f} s; assumed: cores as "
            "fast as these, independent jobs, no network cost beyond o_task, 4 chunks per core):",
            "",
            "| machines | cores each | chunk | tasks | seconds | fits/s |",
            "|---:|---:|---:|---:|---:|---:|",
        ]
        md += [
            f"| {p['machines']} | {p['cores_each']} | {p['chunk']} | {p['tasks']} | {p['seconds']:.1f} | "
            f"{p['fits_per_s']:.0f} |"
            for p in res["projection"]
        ]
    (OUT / "ray_speed.md").write_text("\n".join(md) + "\n")


if __name__ == "__main__":
    main()
