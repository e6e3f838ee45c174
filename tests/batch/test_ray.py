"""The Ray backend on a local Ray instance with two CPUs: equality with the local backends, retry after a
killed worker, resume of an interrupted batch, events, and the sweep's RayExecutor.

Skipped with the reason when Ray is not installed, except in CI (CI=true), where Ray is required.
"""

from __future__ import annotations

import importlib
import os
import signal
import time
import uuid
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scalinglab.batch import run_batch, use_backend
from scalinglab.fit import FitJob, fit_many

pytestmark = pytest.mark.slow  # a local Ray instance takes 5-20 s to start


def _need(module: str, extra: str):
    try:
        return importlib.import_module(module)
    except ImportError:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{module} is required in CI (pip install 'scalinglab[{extra}]')")
        pytest.skip(f"{module} is not installed (pip install 'scalinglab[{extra}]')")


@pytest.fixture(scope="module")
def ray():
    ray = _need("ray", "ray")
    from scalinglab.batch._ray import init_ray, shutdown

    started = not ray.is_initialized()
    init_ray(num_cpus=2)
    yield ray
    if started:
        shutdown()


def _inverse(x):
    return 1.0 / x


def _die_once(x, marker):
    """x*x, but the worker running job 5 is killed (SIGKILL) the first time."""
    if x == 5 and not Path(marker).exists():
        Path(marker).touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return x * x


def _always_die(x):
    if x == 1:
        os.kill(os.getpid(), signal.SIGKILL)
    return x


def _square_logged(x, log_dir):
    Path(log_dir, f"ran_{x}_{time.time_ns()}_{uuid.uuid4().hex}").touch()
    return x * x


def _count_up(n, emit):
    for i in range(n):
        emit(i)
    return n


def _groups(n=6, seed=0):
    rng = np.random.default_rng(seed)
    N = np.geomspace(1e7, 1e9, 5)
    out = []
    for g in range(n):
        rows = [(f"r{i}", N[i], N[i] * f) for i in range(5) for f in (5, 10, 20, 40)]
        df = pd.DataFrame(rows, columns=["run", "params", "tokens"])
        df["loss"] = (1.7 + (300 + 40 * g) / df.params**0.33 + 400 / df.tokens**0.29) * np.exp(
            rng.normal(0, 0.005, len(df))
        )
        out.append(df)
    return out


def test_results_equal_the_local_backends_in_job_order(ray):
    jobs = [FitJob(g, "chinchilla", label=f"g{i}") for i, g in enumerate(_groups())]
    jobs.append(FitJob(_groups()[0].iloc[:2], "chinchilla", label="too-few"))
    serial = fit_many(jobs, backend="serial")
    seen = []
    on_ray = fit_many(jobs, backend="ray", chunksize=2, progress=lambda d, t: seen.append(d))
    assert [o.index for o in on_ray] == list(range(len(jobs)))
    assert seen == list(range(1, len(jobs) + 1))  # progress streams as chunks finish
    assert [o.ok for o in on_ray] == [o.ok for o in serial] == [True] * 6 + [False]
    assert on_ray[-1].error == serial[-1].error
    diff = max(
        abs(a.value.params[p] - b.value.params[p]) for a, b in zip(serial[:6], on_ray[:6]) for p in a.value.params
    )
    assert diff == 0.0  # same code, same input: bitwise equal


def test_failures_are_recorded_not_raised(ray):
    out = run_batch(_inverse, [4.0, 0.0, 2.0], backend="ray")
    assert [o.value for o in out] == [0.25, None, 0.5] and out[1].error_type == "ZeroDivisionError"


def test_a_killed_worker_is_retried_with_no_lost_or_duplicated_result(ray, tmp_path):
    marker = tmp_path / "killed"
    out = run_batch(partial(_die_once, marker=str(marker)), list(range(12)), backend="ray", chunksize=2)
    assert marker.exists()  # a worker really died mid-batch
    assert [o.index for o in out] == list(range(12))
    assert all(o.ok for o in out) and [o.value for o in out] == [x * x for x in range(12)]


def test_a_chunk_whose_retries_are_spent_fails_alone(ray):
    out = run_batch(_always_die, [0, 1, 2, 3], backend="ray", chunksize=1, max_retries=0)
    assert [o.ok for o in out] == [True, False, True, True]
    assert "died" in out[1].error.lower() or "crash" in out[1].error.lower()


def test_an_interrupted_ray_batch_resumes(ray, tmp_path):
    log, ckpt = tmp_path / "log", tmp_path / "ckpt"
    log.mkdir()
    func = partial(_square_logged, log_dir=str(log))
    jobs = list(range(10))

    def stop(done, total):
        if done == 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_batch(func, jobs, backend="ray", chunksize=1, checkpoint=ckpt, progress=stop)
    stored = {p.name for p in ckpt.glob("*.pkl")}
    assert len(stored) >= 4
    time.sleep(1.0)  # tasks of the first run that were in flight when it stopped are cancelled or done by now
    t0 = time.time_ns()
    out = run_batch(func, jobs, backend="ray", chunksize=1, checkpoint=ckpt)
    assert [o.value for o in out] == [x * x for x in jobs]
    resumed = {o.index for o in out if o.resumed}
    assert len(resumed) == len(stored)
    ran = [int(p.name.split("_")[1]) for p in log.iterdir() if int(p.name.split("_")[2]) >= t0]
    assert sorted(ran) == sorted(set(jobs) - resumed)  # finished jobs were not redone, none twice


def test_events_reach_the_driver(ray):
    events = []
    out = run_batch(_count_up, [2, 3], backend="ray", on_event=lambda i, p: events.append((i, p)))
    assert [o.value for o in out] == [2, 3]
    assert sorted(events) == [(0, 0), (0, 1), (1, 0), (1, 1), (1, 2)]


def test_backtest_and_use_backend_run_on_ray(ray):
    from scalinglab.evaluate import backtest

    frames = []
    for i, g in enumerate(_groups(3)):
        frames.append(g.assign(family=f"f{i}", run=g.run + f"-f{i}"))
    runs = pd.concat(frames, ignore_index=True)
    local = backtest(runs, "chinchilla", interval=None)
    with use_backend("ray", chunksize=1):
        remote = backtest(runs, "chinchilla", interval=None)
    pd.testing.assert_frame_equal(
        local.scores.drop(columns=["seconds"], errors="ignore"),
        remote.scores.drop(columns=["seconds"], errors="ignore"),
    )


def test_sweep_trains_on_ray_with_the_serial_losses(ray, tmp_path):
    _need("torch", "train")
    from scalinglab.sweep import SerialExecutor, run
    from scalinglab.sweep.executor import RayExecutor

    cfg = {
        "seq_len": 16,
        "batch_size": 4,
        "heads": 1,
        "checkpoints": 2,
        "eval_batches": 1,
        "models": [{"width": 8, "depth": 1, "budgets": [640], "seeds": [0, 1]}],
    }
    ray_res = run(cfg, tmp_path / "ray", executor=RayExecutor(2), progress=False)
    assert sorted(ray_res.trained) == ["d8-l1-t640-s0", "d8-l1-t640-s1"]
    serial = run(cfg, tmp_path / "serial", executor=SerialExecutor(threads=1), progress=False)
    cols = ["run", "tokens", "loss"]
    a = pd.read_csv(ray_res.runs_csv)[cols]
    b = pd.read_csv(serial.runs_csv)[cols]
    pd.testing.assert_frame_equal(a, b)
    again = run(cfg, tmp_path / "ray", executor=RayExecutor(2), progress=False)
    assert again.trained == [] and len(again.skipped) == 2  # a re-run resumes: nothing is trained twice
    assert RayExecutor()._options([])["num_gpus"] == 0


def test_sweep_asks_for_a_gpu_per_run_when_the_config_trains_on_cuda(ray):
    from scalinglab.sweep.config import load_config
    from scalinglab.sweep.executor import RayExecutor
    from scalinglab.sweep.train import TrainTask

    cfg = load_config(
        {"seq_len": 16, "batch_size": 4, "device": "cuda", "models": [{"width": 8, "depth": 1, "budgets": [640]}]}
    )
    task = TrainTask(cfg.runs()[0], cfg, "corpus", "out")
    options = RayExecutor(address="auto")._options([task])
    assert options["num_gpus"] == 1 and options["chunksize"] == 1 and options["address"] == "auto"
    assert RayExecutor(gpus_per_run=0.5)._options([task])["num_gpus"] == 0.5
