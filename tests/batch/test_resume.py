"""Resumable batches (checkpoint=): finished outcomes are stored and a re-run skips them; the default backend."""

from __future__ import annotations

import uuid
from functools import partial
from pathlib import Path

import pytest

from scalinglab.batch import default_backend, run_batch, use_backend
from scalinglab.errors import InvalidParameterError


def _square_logged(x, log_dir):
    """x*x, leaving a file per call so a test can count which jobs really ran."""
    Path(log_dir, f"ran_{x}_{uuid.uuid4().hex}").touch()
    if x < 0:
        raise ValueError("negative")
    return x * x


def _ran(log_dir) -> list[int]:
    return sorted(int(p.name.split("_")[1]) for p in Path(log_dir).iterdir())


class _Stop(Exception):
    pass


@pytest.mark.parametrize("backend", ["serial", pytest.param("process", marks=pytest.mark.slow)])
def test_interrupted_batch_resumes_without_redoing_finished_jobs(tmp_path, backend):
    log, ckpt = tmp_path / "log", tmp_path / "ckpt"
    log.mkdir()
    func = partial(_square_logged, log_dir=str(log))
    jobs = list(range(8))

    def stop_after_three(done, total):
        if done == 3:
            raise _Stop  # as Ctrl-C or a lost driver would

    with pytest.raises(_Stop):
        run_batch(func, jobs, backend=backend, workers=2, chunksize=1, checkpoint=ckpt, progress=stop_after_three)
    stored = len(list(ckpt.glob("*.pkl")))
    assert stored >= 3
    before = _ran(log)
    for p in log.iterdir():
        p.unlink()
    out = run_batch(func, jobs, backend=backend, workers=2, chunksize=1, checkpoint=ckpt)
    assert [o.value for o in out] == [x * x for x in jobs] and [o.index for o in out] == jobs
    resumed = [o.index for o in out if o.resumed]
    assert len(resumed) == stored
    assert set(_ran(log)) == set(jobs) - set(resumed)  # only the unfinished jobs ran again
    assert set(before) >= set(resumed)
    # a third run computes nothing
    for p in log.iterdir():
        p.unlink()
    again = run_batch(func, jobs, backend=backend, checkpoint=ckpt)
    assert all(o.resumed for o in again) and _ran(log) == []


def test_failed_jobs_are_not_stored_and_are_retried(tmp_path):
    log = tmp_path / "log"
    log.mkdir()
    func = partial(_square_logged, log_dir=str(log))
    first = run_batch(func, [2, -1, 3], checkpoint=tmp_path / "ckpt")
    assert [o.ok for o in first] == [True, False, True]
    second = run_batch(func, [2, -1, 3], checkpoint=tmp_path / "ckpt")
    assert [o.resumed for o in second] == [True, False, True] and not second[1].ok
    assert _ran(log).count(-1) == 2 and _ran(log).count(2) == 1


def test_checkpoint_of_another_function_is_refused(tmp_path):
    run_batch(abs, [1, -2], checkpoint=tmp_path)
    with pytest.raises(InvalidParameterError, match="another batch function") as err:
        run_batch(str, [1, -2], checkpoint=tmp_path)
    assert "new checkpoint= directory" in err.value.hint


def test_unpicklable_jobs_are_refused_with_a_fix(tmp_path):
    with pytest.raises(InvalidParameterError, match="pickle") as err:
        run_batch(abs, [lambda: 1], checkpoint=tmp_path)
    assert "module-level function" in err.value.hint


def test_default_backend_from_use_backend_and_environment(monkeypatch):
    monkeypatch.delenv("SCALINGLAB_BACKEND", raising=False)
    assert default_backend() == ("serial", {})
    monkeypatch.setenv("SCALINGLAB_BACKEND", "process")
    assert default_backend()[0] == "process"
    with use_backend("serial"):
        assert default_backend() == ("serial", {})
        assert [o.value for o in run_batch(abs, [-1, -2])] == [1, 2]
    with pytest.raises(InvalidParameterError, match="unknown batch backend"):
        with use_backend("rya"):
            pass
