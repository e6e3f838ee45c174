"""Where the time of a batch goes: the 280 Hitchhiker subsets of ``batch_speed.py`` through ``fit_many``.

Prints, for one run of ``fit_many`` (CPU seconds, one thread):

* the time in each stage: reading and checking the tables (``read_runs``, and within it the unit
  checks), the grid stages, the refinements, and the rest (diagnostics, assembling each Fit);
* the refinement's work (padded points x iterations, per start) split between the start that wins
  its problem and the others;
* each refinement call (the batch's starts, then the extra starts of subsets whose coefficient
  ended at 0): rows, iterations (each has a fixed cost, whatever its size) and CPU seconds.

``--merge-tol 1e-4,3e-2,0.1,0.3`` instead runs ``fit_many`` once per tolerance of the start
merging (``scalinglab.fit._solver.MERGE_TOL``) and prints the refinement's work (padded points x
iterations over every row) and how many subsets end at another optimum than with the first
tolerance (relative change above 1e-9, up or down).

Run:  python bench/batch_breakdown.py [--merge-tol LIST]
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
import warnings
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # one thread, before numpy loads
    os.environ[_var] = "1"
sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np  # noqa: E402

import scalinglab as sl  # noqa: E402
from batch_speed import subsets  # noqa: E402


def merge_tolerances(tolerances: list[float]) -> None:
    """Refinement work and optima of the batch for each start-merging tolerance."""
    solver = importlib.import_module("scalinglab.fit._solver")
    moments = solver.StackedBatch.moments
    work = [0]

    def counting_moments(self, u, weights=None, rows=None, exact=True):
        picked = np.arange(len(u)) if rows is None else rows
        work[0] += int(sum(self.parts[k].n for k in self.part[picked]))
        return moments(self, u, weights, rows, exact)

    solver.StackedBatch.moments = counting_moments
    jobs = [(frame, "chinchilla") for _, frame in subsets()]
    warnings.simplefilter("ignore")
    first = None
    print("| merge tolerance | refinement work (M points) | CPU s | subsets higher | lower | largest rise |")
    print("|---:|---:|---:|---:|---:|---:|")
    for tol in tolerances:
        solver.MERGE_TOL, work[0] = tol, 0
        t = time.process_time()
        out = sl.fit_many(jobs)
        seconds = time.process_time() - t
        obj = np.array([o.value.objective if o.ok else np.nan for o in out])
        first = obj if first is None else first
        rel = (obj - first) / first
        print(
            f"| {tol:g} | {work[0] / 1e6:.1f} | {seconds:.1f} | {int(np.nansum(rel > 1e-9))} | "
            f"{int(np.nansum(rel < -1e-9))} | {np.nanmax(rel):.1e} |"
        )


def main() -> None:
    engine = importlib.import_module("scalinglab.fit._engine")
    fitmod = importlib.import_module("scalinglab.fit._fit")
    solver = importlib.import_module("scalinglab.fit._solver")
    stage: dict[str, float] = {}
    records: list = []  # (padded n per row, group, result, active iterations per row, iterations) per refinement

    def timed(module, name):
        original = getattr(module, name)

        def wrapper(*args, **kwargs):
            t = time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                stage[name] = stage.get(name, 0.0) + time.process_time() - t

        setattr(module, name, wrapper)

    refine = engine.refine
    timed(engine, "grid_search")
    timed(fitmod, "read_runs")
    timed(importlib.import_module("scalinglab.data._runs"), "check_units")  # inside read_runs
    moments = solver.StackedBatch.moments
    current: dict = {}
    stage_calls: list[float] = []

    def counting_moments(self, u, weights=None, rows=None, exact=True):
        if self is current.get("problem") and rows is not None:
            current["active"][rows] += 1
            current["iterations"] += 1
        return moments(self, u, weights, rows, exact)

    def recording_refine(problem, u0, **kwargs):
        current.update(problem=problem, active=np.zeros(len(u0), int), iterations=0)
        t = time.process_time()
        result = refine(problem, u0, **kwargs)
        stage["refine"] = stage.get("refine", 0.0) + time.process_time() - t
        stage_calls.append(time.process_time() - t)
        # padded points of each row: the size its part is padded to
        n = np.array([problem.parts[k].n for k in problem.part]) if hasattr(problem, "parts") else problem.n
        records.append((n, kwargs.get("group"), result, current["active"].copy(), current["iterations"]))
        return result

    solver.StackedBatch.moments = counting_moments
    engine.refine = recording_refine
    jobs = [(frame, "chinchilla") for _, frame in subsets()]
    warnings.simplefilter("ignore")
    t0 = time.process_time()
    sl.fit_many(jobs)
    total = time.process_time() - t0
    rest = total - sum(v for k, v in stage.items() if k != "check_units")
    print(f"fit_many over {len(jobs)} subsets: {total:.1f} CPU s")
    for name, label in (("read_runs", "read_runs"), ("grid_search", "grid stages"), ("refine", "refinements")):
        print(f"  {label:12s} {stage.get(name, 0.0):6.1f} s")
        if name == "read_runs":
            print(f"    of which the unit checks (check_units) {stage.get('check_units', 0.0):.1f} s")
    print(f"  {'the rest':12s} {rest:6.1f} s (diagnostics, assembling each Fit)")
    best = other = 0
    for n, group, result, active, _ in records:
        for g in np.unique(group):
            rows = np.flatnonzero(group == g)
            obj = np.where(np.isfinite(result.objective[rows]), result.objective[rows], np.inf)
            winner = rows[int(np.argmin(obj))]
            for i in rows:
                work = active[i] * (n[i] if np.ndim(n) else n)
                if i == winner:
                    best += work
                else:
                    other += work
    share = other / max(1, best + other)
    print(f"refinement work (padded points x iterations): winning starts {best / 1e6:.1f}M, others {other / 1e6:.1f}M")
    print(f"  share spent on starts that do not win: {share:.0%}")
    print(f"stacked refinement calls: {len(records)}, iterations over all of them: {sum(r[4] for r in records)}")
    for k, (_, _, _, active, iterations) in enumerate(records):
        print(f"  call {k}: {len(active)} rows, {iterations} iterations, {stage_calls[k]:.1f} s")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--merge-tol", default=None, help="comma-separated tolerances, e.g. 1e-4,3e-2,0.1,0.3")
    args = ap.parse_args()
    if args.merge_tol:
        merge_tolerances([float(x) for x in args.merge_tol.split(",")])
    else:
        main()
