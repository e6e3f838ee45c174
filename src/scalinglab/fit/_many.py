"""``fit_many``: many independent fits (data x law x options) as one batch.

Every place that fits several groups, backtest cells or laws goes through this
function, so the backend (``"serial"``, ``"process"``, or one registered in
:mod:`scalinglab.batch`) is chosen in one place.  Results come back in job
order; a job whose data or fit fails is a recorded failure, not an aborted
batch.  Diagnostics stay on each :class:`~scalinglab.fit.Fit` (its
``diagnostics``); the warnings they would raise are not repeated per job.

On the ``"serial"`` backend the fits are vectorised: every job's problem is built
(as ``fit`` builds it), all problems are solved together
(:func:`~scalinglab.fit._engine.solve_many`: a grid stage each, then one stacked
Levenberg-Marquardt refinement of all their starts), and each job's ``fit`` then
receives its solution.  Rows of the stacked refinement are independent, so every job
ends where its own ``fit`` would.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from scalinglab.batch import Backend, Outcome, default_backend, run_batch
from scalinglab.errors import InvalidParameterError

__all__ = ["FitJob", "fit_many"]


@dataclass(frozen=True)
class FitJob:
    """One fit of a batch: ``fit(data, law, **options)``, with a label for tables.

    ``data`` is anything :func:`scalinglab.fit` takes (a RunsTable, DataFrame or path).
    """

    data: Any
    law: Any = "chinchilla"
    options: Mapping[str, Any] = field(default_factory=dict)
    label: str = ""


def _as_job(job: Any) -> FitJob:
    if isinstance(job, FitJob):
        return job
    if isinstance(job, tuple) and 1 <= len(job) <= 3:
        data, law, options = (
            (tuple(job) + ("chinchilla", {}))[:3] if len(job) == 1 else ((job[0], job[1], {}) if len(job) == 2 else job)
        )
        return FitJob(data=data, law=law, options=dict(options))
    raise InvalidParameterError(
        f"fit_many(): a job must be a FitJob or a (data, law[, options]) tuple; got {type(job).__name__}",
        hint="build jobs as FitJob(data, law, options) or (data, law, options)",
    )


def _fit_job(job: FitJob):
    from scalinglab.fit._fit import fit

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fit(job.data, job.law, **dict(job.options))


class _Collected(Exception):
    """Raised inside ``fit`` once its problem is built (the vectorised path collects problems)."""

    def __init__(self, problem, options: dict):
        super().__init__("problem collected")
        self.problem, self.options = problem, options


def _raise_collected(problem, **options):
    raise _Collected(problem, options)


def _same_problem(a, b) -> bool:
    if a is b:
        return True
    return (
        a.law is b.law
        and a.n == b.n
        and a.names == b.names
        and a.space == b.space
        and a.loss.name == b.loss.name
        and a.loss.delta == b.loss.delta
        and dict(a.fixed) == dict(b.fixed)
        and np.array_equal(a.lower, b.lower)
        and np.array_equal(a.upper, b.upper)
        and np.array_equal(a.y, b.y)
        and set(a.inputs) == set(b.inputs)
        and all(np.array_equal(a.inputs[k], b.inputs[k]) for k in a.inputs)
        and (
            (a.weights is None and b.weights is None)
            or (a.weights is not None and b.weights is not None and np.array_equal(a.weights, b.weights))
        )
    )


def _presolve(jobs: list[FitJob]) -> dict[int, tuple]:
    """Build every job's problem (as ``fit`` does) and solve them together: {index: (problem, Solution)}."""
    from scalinglab.fit._engine import solve_many, solve_override

    collected: dict[tuple, list[tuple[int, object]]] = {}
    with solve_override(_raise_collected):
        for i, job in enumerate(jobs):
            try:
                _fit_job(job)
            except _Collected as c:
                key = (c.options["n_starts"], c.options["max_grid"], c.options["seed"], c.options["max_iter"])
                collected.setdefault(key, []).append((i, c.problem))
            except Exception:  # the job's own fit() raises it again and records it
                pass
    out: dict[int, tuple] = {}
    for (n_starts, max_grid, seed, max_iter), members in collected.items():
        solutions = solve_many(
            [p for _, p in members], n_starts=n_starts, max_grid=max_grid, seed=seed, max_iter=max_iter
        )
        for (i, problem), sol in zip(members, solutions):
            if sol is not None:
                out[i] = (problem, sol)
    return out


def _fit_presolved(item: tuple[FitJob, tuple | None]):
    from scalinglab.fit._engine import solve_override

    job, known = item
    if known is None:
        return _fit_job(job)

    def hook(problem, **_options):
        return known[1] if _same_problem(problem, known[0]) else None

    with solve_override(hook):
        return _fit_job(job)


def fit_many(
    jobs: Sequence[FitJob | tuple],
    *,
    backend: str | Backend | None = None,
    workers: int | None = None,
    progress=None,
    **backend_options: Any,
) -> list[Outcome]:
    """Fit every job; one :class:`~scalinglab.batch.Outcome` per job, in job order.

    Parameters
    ----------
    jobs : sequence of FitJob or (data, law[, options]) tuples
    backend : {"serial", "process", "ray"}, a registered backend name / Backend, or None
        None: :func:`scalinglab.batch.default_backend` ("serial" unless set).
    workers : int, optional
        Processes for the ``"process"`` backend (default: the CPUs available).
    progress : callable, optional
        ``progress(done, total)`` after each fit.

    On the serial backend the jobs' problems are solved together (one stacked
    refinement, see the module notes); each job still gets its own Fit or failure.

    Returns
    -------
    list of Outcome
        ``outcome.value`` is the :class:`~scalinglab.fit.Fit`; ``outcome.error`` the
        one-line reason when the job failed (bad data, too few points, ...).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> x = np.geomspace(1e6, 1e9, 8)
    >>> good = pd.DataFrame({"params": x, "loss": 2.0 + 30 * x ** -0.3})
    >>> out = fit_many([(good, "power_floor"), (good.iloc[:2], "power_floor")])
    >>> round(out[0].value.params["alpha"], 3), out[1].ok
    (0.3, False)
    """
    jobs = [_as_job(j) for j in jobs]
    if backend is None:
        backend, defaults = default_backend()
        backend_options = {**defaults, **backend_options}
    if backend == "serial" and not backend_options and len(jobs) > 1:
        known = _presolve(jobs)
        return run_batch(
            _fit_presolved, [(job, known.get(i)) for i, job in enumerate(jobs)], backend="serial", progress=progress
        )
    return run_batch(_fit_job, jobs, backend=backend, workers=workers, progress=progress, **backend_options)
