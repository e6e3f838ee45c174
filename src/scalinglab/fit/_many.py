"""``fit_many``: many independent fits (data x law x options) as one batch.

Every place that fits several groups, backtest cells or laws goes through this
function, so the backend (``"serial"``, ``"process"``, or one registered in
:mod:`scalinglab.batch`) is chosen in one place.  Results come back in job
order; a job whose data or fit fails is a recorded failure, not an aborted
batch.  Diagnostics stay on each :class:`~scalinglab.fit.Fit` (its
``diagnostics``); the warnings they would raise are not repeated per job.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from scalinglab.batch import Backend, Outcome, run_batch
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
        data, law, options = (tuple(job) + ("chinchilla", {}))[:3] if len(job) == 1 else (
            (job[0], job[1], {}) if len(job) == 2 else job)
        return FitJob(data=data, law=law, options=dict(options))
    raise InvalidParameterError(f"fit_many(): a job must be a FitJob or a (data, law[, options]) tuple; "
                                f"got {type(job).__name__}",
                                hint="build jobs as FitJob(data, law, options) or (data, law, options)")


def _fit_job(job: FitJob):
    from scalinglab.fit._fit import fit

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fit(job.data, job.law, **dict(job.options))


def fit_many(jobs: Sequence[FitJob | tuple], *, backend: str | Backend | None = None, workers: int | None = None,
             progress=None, **backend_options: Any) -> list[Outcome]:
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
    return run_batch(_fit_job, [_as_job(j) for j in jobs], backend=backend, workers=workers, progress=progress,
                     **backend_options)
