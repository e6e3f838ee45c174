"""Two-step loss -> accuracy: recovers a known chain, intervals carry both steps, backtest and CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from scalinglab.analyze.downstream import backtest_downstream, two_step
from scalinglab.cli import build_app


def _ladder(noise: float = 0.0, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    N = np.repeat(np.geomspace(1e8, 3e9, 6), 3)
    D = np.tile([2e9, 4e9, 8e9], 6) * N / 1e8
    L = (0.5 + 300 / N ** 0.3 + 400 / D ** 0.3) * np.exp(rng.normal(0, noise, N.size))
    acc = 0.25 + 0.6 / (1 + np.exp(8 * (L - 1.2))) + rng.normal(0, noise, N.size)
    return pd.DataFrame({"run": [f"r{i}" for i in range(N.size)], "params": N, "tokens": D, "bpb": L, "acc": acc})


def test_two_step_recovers_the_chain_and_the_interval_covers():
    runs = _ladder(noise=0.01)
    r = backtest_downstream(runs, loss="bpb", metric="acc", chance=0.25, n_draws=1000)
    p = r.predictions
    assert len(p) == 3 and (p["err_two_step"] < 0.05).all()
    assert ((p["lower"] <= p["actual"]) & (p["actual"] <= p["upper"])).mean() >= 2 / 3
    assert {"direct", "direct_lower", "direct_upper", "err_direct"} <= set(p.columns)
    d = r.to_dict()
    assert json.loads(json.dumps(d)) == d and d["step2"]["params"]["b"] == 0.25
    assert r.figure().axes and r.section().figures


def test_exponential_link():
    runs = _ladder()
    r = two_step(runs, runs.iloc[-2:], loss="bpb", metric="acc", link="exponential", n_draws=300)
    assert r.step2.law.name == "error_exponential" and np.all(np.isfinite(r.predictions["two_step"]))


def test_bad_link_is_an_error():
    with pytest.raises(ValueError, match="link"):
        two_step(_ladder(), _ladder().iloc[:1], loss="bpb", metric="acc", link="probit")


def test_cli_downstream(tmp_path):
    path = tmp_path / "ladder.csv"
    _ladder(noise=0.01).to_csv(path, index=False)
    res = CliRunner().invoke(build_app(), ["downstream", str(path), "--loss", "bpb", "--y", "acc", "--chance", "0.25",
                                           "--n-resamples", "500", "--json"])
    assert res.exit_code == 0, res.output
    payload = json.loads(res.stdout)
    assert len(payload["predictions"]) == 3 and payload["link"] == "sigmoid"
    res = CliRunner().invoke(build_app(), ["downstream", str(path), "--loss", "bpb", "--y", "accuracy"])
    assert res.exit_code == 3 and "accuracy" in res.output
