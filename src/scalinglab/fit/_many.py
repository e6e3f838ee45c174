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


def _start(job: FitJob):
    """Advance ``fit_steps`` for ``job`` to its solve request: (generator, request), or (None, what it ended with)."""
    from scalinglab.fit._fit import fit_steps

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        steps = fit_steps(job.data, job.law, **dict(job.options))
        try:
            return steps, next(steps)
        except StopIteration as done:  # e.g. by=: the groups' fits, no solve of its own
            return None, done.value
        except Exception as exc:  # the job's failure, recorded when the batch reaches it
            return None, exc


def _finish(item: tuple) -> object:
    """The Fit of one started job, from its generator and solution (or what it ended with)."""
    steps, value, solution = item
    if steps is None:
        if isinstance(value, BaseException):
            raise value
        return value
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            steps.send(solution if solution is not None else value.solve())
        except StopIteration as done:
            return done.value
    raise RuntimeError("fit_steps() asked for more than one solve")  # pragma: no cover


def _vectorised(jobs: list[FitJob], progress) -> list[Outcome]:
    """Every job's problem built once, all solved together (one stacked refinement), each job then finished."""
    from scalinglab.fit._engine import solve_many

    started = [_start(job) for job in jobs]
    groups: dict[tuple, list[int]] = {}
    for i, (steps, request) in enumerate(started):
        if steps is not None:
            groups.setdefault((request.n_starts, request.max_grid, request.seed), []).append(i)
    solutions: dict[int, object] = {}
    for (n_starts, max_grid, seed), members in groups.items():
        found = solve_many([started[i][1].problem for i in members], n_starts=n_starts, max_grid=max_grid, seed=seed)
        solutions.update({i: sol for i, sol in zip(members, found) if sol is not None})
    # a problem without an admissible start: its own solve() raises the error, recorded as the job's failure
    items = [(steps, value, solutions.get(i)) for i, (steps, value) in enumerate(started)]
    return run_batch(_finish, items, backend="serial", progress=progress)


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
        return _vectorised(jobs, progress)
    return run_batch(_fit_job, jobs, backend=backend, workers=workers, progress=progress, **backend_options)
