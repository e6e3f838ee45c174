"""The batch layer: job order, recorded failures, progress, in-job events, pluggable backends."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from scalinglab.batch import Backend, Outcome, as_completed, get_backend, list_backends, register_backend, run_batch
from scalinglab.errors import InvalidParameterError
from scalinglab.fit import FitJob, fit, fit_many


def _inverse(x):
    return 1.0 / x


def _count_up(n, emit):
    for i in range(n):
        emit(i)
    return n


@pytest.mark.parametrize("backend", ["serial", "process"])
def test_results_in_job_order_and_failures_recorded(backend):
    jobs = [4.0, 2.0, 0.0, 8.0, 1.0]
    seen = []
    out = run_batch(_inverse, jobs, backend=backend, workers=2, progress=lambda done, total: seen.append((done, total)))
    assert [o.index for o in out] == list(range(5))
    assert [o.value for o in out] == [0.25, 0.5, None, 0.125, 1.0]
    assert not out[2].ok and out[2].error.startswith("ZeroDivisionError") and out[2].error_type == "ZeroDivisionError"
    assert seen[-1] == (5, 5) and [d for d, _ in seen] == [1, 2, 3, 4, 5]
    with pytest.raises(RuntimeError, match="job 2 failed"):
        out[2].unwrap()


@pytest.mark.parametrize("backend", ["serial", "process"])
def test_jobs_report_events_from_inside(backend):
    events = []
    out = run_batch(_count_up, [2, 3], backend=backend, workers=2, on_event=lambda i, p: events.append((i, p)))
    assert [o.value for o in out] == [2, 3]
    assert sorted(events) == [(0, 0), (0, 1), (1, 0), (1, 1), (1, 2)]


def test_as_completed_yields_every_job_once():
    out = list(as_completed(math.sqrt, [1.0, 4.0, 9.0], backend="process", workers=2, chunksize=1))
    assert sorted(o.index for o in out) == [0, 1, 2] and sorted(o.value for o in out) == [1.0, 2.0, 3.0]


def test_unknown_backend_names_the_known_ones():
    with pytest.raises(InvalidParameterError, match=r"(?s)unknown batch backend 'proces'.*did you mean 'process'"):
        run_batch(abs, [1], backend="proces")


class _Reversed(Backend):
    """A toy backend: runs jobs last-first (results must still come back in job order)."""

    def __init__(self, workers=None):
        self.workers = 1

    def submit(self, func, jobs, *, on_event=None):
        for i in reversed(range(len(jobs))):
            yield Outcome(index=i, value=func(jobs[i]))


def test_a_new_backend_is_one_registration():
    register_backend("reversed-toy", _Reversed, overwrite=True)
    assert "reversed-toy" in list_backends()
    assert isinstance(get_backend("reversed-toy"), _Reversed)
    assert [o.value for o in run_batch(abs, [-1, -2, -3], backend="reversed-toy")] == [1, 2, 3]
    # and every batch user takes it by name, e.g. fit_many
    x = np.geomspace(1e6, 1e9, 8)
    data = pd.DataFrame({"params": x, "loss": 2.0 + 30 * x**-0.3})
    out = fit_many([FitJob(data, "power_floor"), FitJob(data.iloc[:5], "power_floor")], backend="reversed-toy")
    assert all(o.ok for o in out)


def test_fit_many_matches_fit_and_records_bad_jobs():
    rng = np.random.default_rng(0)
    x = np.geomspace(1e6, 1e9, 10)
    groups = [
        pd.DataFrame({"params": x, "loss": (2.0 + a * x**-0.3) * np.exp(rng.normal(0, 0.002, x.size))})
        for a in (20.0, 30.0, 40.0)
    ]
    jobs = [FitJob(g, "power_floor", label=f"g{i}") for i, g in enumerate(groups)]
    jobs.append(FitJob(groups[0].iloc[:2], "power_floor", label="too-few"))
    jobs.append(FitJob(groups[0], "no_such_law", label="bad-law"))
    serial = fit_many(jobs)
    pooled = fit_many(jobs, backend="process", workers=2)
    for i, g in enumerate(groups):
        direct = fit(g, "power_floor")
        assert serial[i].value.params == pytest.approx(direct.params, rel=1e-12)
        assert pooled[i].value.params == pytest.approx(direct.params, rel=1e-12)
    assert not serial[3].ok and "DataError" in serial[3].error and "data point" in serial[3].error
    assert not serial[4].ok and "unknown law 'no_such_law'" in serial[4].error
    assert [o.ok for o in pooled] == [o.ok for o in serial]
