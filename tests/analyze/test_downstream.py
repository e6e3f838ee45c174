"""Two-step loss -> accuracy: recovers a known chain, step 2 on every checkpoint, intervals carry both steps,
the out-of-range flag, backtest and CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from scalinglab.analyze.downstream import backtest_downstream, link_points, nested_holdouts, two_step
from scalinglab.cli import build_app


def _loss(N, D):
    return 0.5 + 300 / N**0.3 + 400 / D**0.3


def _acc(L, floor=0.25, k=8.0, L0=1.2):
    return floor + (1 - floor) / (1 + np.exp(k * (L - L0)))


SIZES = np.geomspace(1e8, 3e9, 6)


def _checkpoints(noise: float = 0.0, seed: int = 0, sizes=SIZES, n_ck: int = 12, acc=_acc) -> pd.DataFrame:
    """Every checkpoint of a ladder (sizes x 3 token multipliers); the last one of a run is its final checkpoint."""
    rng = np.random.default_rng(seed)
    rows = []
    for N in sizes:
        for mult in (2e9, 4e9, 8e9):
            D_end = mult * N / 1e8
            for i, D in enumerate(np.geomspace(D_end / 20, D_end, n_ck)):
                L = _loss(N, D) * np.exp(rng.normal(0, noise))
                rows.append(
                    {
                        "run": f"{N:.3g}-{mult:.0g}",
                        "params": N,
                        "tokens": D,
                        "bpb": L,
                        "acc": float(acc(L) + rng.normal(0, noise)),
                        "final": i == n_ck - 1,
                    }
                )
    return pd.DataFrame(rows)


def test_two_step_recovers_the_chain_and_the_interval_covers():
    ck = _checkpoints(noise=0.005)
    final = ck[ck["final"]].drop(columns="final")
    r = backtest_downstream(final, loss="bpb", metric="acc", step2_runs=ck, chance=0.25, n_draws=40)
    p = r.predictions
    truth = _acc(_loss(p["params"], p["tokens"]))  # the noise-free accuracy at the held-out size
    assert len(p) == 3 and ((p["two_step"] - truth).abs() < 0.02).all()
    assert ((p["lower"] <= p["actual"]) & (p["actual"] <= p["upper"])).mean() >= 2 / 3
    assert ((p["lower"] <= p["two_step"]) & (p["two_step"] <= p["upper"])).all()
    assert {"direct", "direct_lower", "direct_upper", "err_direct", "in_link_range", "step2_at_actual_loss"} <= set(p)
    # step 2 saw the checkpoints of the smaller runs only, less the first 10 % of each
    assert len(r.step2_points) == 15 * (12 - 2)
    d = r.to_dict()
    assert json.loads(json.dumps(d)) == d and d["step2"]["anchors"] is True
    assert r.figure().axes and r.section().figures


def test_point_estimate_inside_its_interval_when_the_link_is_weakly_identified():
    # the ladder only sees the lower tail of the sigmoid (as WinoGrande does): its height and midpoint trade off,
    # and parameter draws from a linearised covariance fell off that ridge and below the point estimate
    ck = _checkpoints(noise=0.015, seed=3, acc=lambda L: _acc(L, floor=0.5, k=14.0, L0=0.95))
    final = ck[ck["final"]].drop(columns="final")
    targets = pd.DataFrame({"params": [7e9, 2e10], "tokens": [1.4e12, 4e12]})
    r = two_step(
        final, targets, loss="bpb", metric="acc", step2_runs=ck, chance=0.5, n_draws=80, seed=1, extrapolation="none"
    )
    p = r.predictions
    assert ((p["lower"] <= p["two_step"]) & (p["two_step"] <= p["upper"])).all(), p
    assert (p["upper"] <= 1.0).all()


def test_predicted_loss_outside_the_link_range_is_flagged():
    ck = _checkpoints(noise=0.005, sizes=np.geomspace(1e8, 4e8, 4))
    final = ck[ck["final"]].drop(columns="final")
    targets = pd.DataFrame({"run": ["far"], "params": [5e10], "tokens": [1e13]})
    r = two_step(final, targets, loss="bpb", metric="acc", step2_runs=ck, chance=0.25, n_draws=40, extrapolation="none")
    assert not bool(r.predictions["in_link_range"][0])
    assert r.predictions["loss_pred"][0] < r.link_range[0]
    assert any("far" in n and "below the smallest" in n for n in r.notes)
    assert "below the smallest" in r.summary()


def test_link_points_skip_and_smooth_within_each_run():
    ck = pd.DataFrame(
        {
            "run": ["a"] * 5 + ["b"] * 5,
            "tokens": list(range(5, 0, -1)) * 2,
            "bpb": [1.0, 2.0, 3.0, 4.0, 5.0] * 2,
            "acc": np.linspace(0.3, 0.6, 10),
        }
    )
    pts = link_points(ck, loss="bpb", metric="acc", skip_first=0.2, smooth=2)
    # ordered by tokens (bpb 5 first), the first checkpoint of each run dropped, then a 2-point trailing mean
    assert list(pts["run"]) == ["a"] * 4 + ["b"] * 4
    assert list(pts["L"][:4]) == [4.0, 3.5, 2.5, 1.5]
    with pytest.raises(ValueError, match="skip_first"):
        link_points(ck, loss="bpb", metric="acc", skip_first=1.0)


def test_without_anchors_the_floor_is_fixed_at_chance():
    ck = _checkpoints(noise=0.01)
    final = ck[ck["final"]].drop(columns="final")
    r = two_step(
        final,
        final.iloc[-2:],
        loss="bpb",
        metric="acc",
        step2_runs=ck,
        chance=0.25,
        anchors=False,
        n_draws=30,
        extrapolation="none",
    )
    assert r.step2.params["b"] == 0.25 and r.to_dict()["step2"]["anchors"] is False


def test_exponential_link():
    ck = _checkpoints()
    final = ck[ck["final"]].drop(columns="final")
    r = two_step(final, final.iloc[-2:], loss="bpb", metric="acc", link="exponential", n_draws=30, extrapolation="none")
    assert r.step2.law.name == "error_exponential" and np.all(np.isfinite(r.predictions["two_step"]))


def test_bad_arguments_are_errors():
    ck = _checkpoints()
    with pytest.raises(ValueError, match="link"):
        two_step(ck, ck.iloc[:1], loss="bpb", metric="acc", link="probit")
    with pytest.raises(ValueError, match="chance"):
        two_step(ck, ck.iloc[:1], loss="bpb", metric="acc", chance=1.2)
    with pytest.raises(ValueError, match="extrapolation"):
        two_step(ck, ck.iloc[:1], loss="bpb", metric="acc", extrapolation="nested")


@pytest.mark.slow
def test_chained_extrapolation_error_widens_beyond_the_ladder_only():
    ck = _checkpoints(noise=0.01, seed=2)
    final = ck[ck["final"]].drop(columns="final")
    kw = dict(loss="bpb", metric="acc", step2_runs=ck, chance=0.25, n_draws=40, task="toy")
    own = nested_holdouts(final, **{k: v for k, v in kw.items() if k != "n_draws"})
    # hold-outs of the 1 and 2 largest sizes, both methods, at a positive distance beyond the nested fit
    assert set(own["held_out_sizes"]) == {1, 2} and set(own["method"]) == {"two_step", "direct"}
    assert (
        (own["decades"] > 0).all()
        and (own["base_sd"] > 0).all()
        and own[own["method"] == "two_step"]["log_error"].abs().max() < 1
    )
    # other tasks that missed by much more: the leave-one-task-out prior raises the error per decade
    rng = np.random.default_rng(0)
    d = np.tile(np.linspace(0.1, 0.5, 10), 3)
    prior = pd.DataFrame(
        {
            "group": np.repeat(["a", "b", "c"], 10),
            "method": "two_step",
            "decades": d,
            "log_error": rng.normal(0, 1.0, d.size) * d,
            "base_sd": 0.0,
        }
    )
    targets = pd.DataFrame(
        {"run": ["inside", "far"], "params": [SIZES[2], 3e10], "tokens": [8e9 * SIZES[2] / 1e8, 1e12]}
    )
    none = two_step(final, targets, extrapolation="none", **kw)
    wide = two_step(final, targets, extrapolation_prior=prior, holdouts=own, **kw)
    # a row of this task in the prior is left out (leave-one-task-out)
    same = two_step(
        final,
        targets,
        extrapolation_prior=pd.concat([prior, prior.assign(group="toy", log_error=50.0)]),
        holdouts=own,
        **kw,
    )
    assert wide.extrapolation_sigma > 0 and same.extrapolation_sigma == wide.extrapolation_sigma
    pn, pw = none.predictions, wide.predictions
    assert pw["decades"][0] == 0 and pw["decades"][1] > 0.5
    assert pw["lower"][0] == pn["lower"][0] and pw["upper"][0] == pn["upper"][0]  # nothing added inside the ladder
    assert (pw["upper"] - pw["lower"])[1] > 1.2 * (pn["upper"] - pn["lower"])[1]
    assert pw["two_step"][1] == pn["two_step"][1] and 0.25 <= pw["lower"][1] and pw["upper"][1] <= 1
    d = wide.to_dict()
    assert d["extrapolation"]["method"] == "chained" and d["extrapolation"]["n_holdout_points"] == len(own)
    assert any("extrapolation error of the chain" in n for n in wide.notes)
    with pytest.warns(DeprecationWarning, match="extrapolation="):
        old = two_step(final, targets.iloc[:1], step1_drift=False, **kw)
    assert old.extrapolation == "none"


def test_cli_downstream(tmp_path):
    ck = _checkpoints(noise=0.01)
    path, step2 = tmp_path / "ladder.csv", tmp_path / "checkpoints.csv"
    ck[ck["final"]].drop(columns="final").to_csv(path, index=False)
    ck.drop(columns="final").to_csv(step2, index=False)
    args = ["downstream", str(path), "--loss", "bpb", "--y", "acc", "--chance", "0.25", "--n-resamples", "40"]
    res = CliRunner().invoke(build_app(), args + ["--step2", str(step2), "--smooth", "2", "--json"])
    assert res.exit_code == 0, res.output
    payload = json.loads(res.stdout)
    assert len(payload["predictions"]) == 3 and payload["link"] == "sigmoid" and payload["step2"]["smooth"] == 2
    assert payload["extrapolation"]["method"] == "chained"
    bad = CliRunner().invoke(build_app(), args + ["--extrapolation", "both"])
    assert bad.exit_code != 0 and "--extrapolation" in bad.output and "Traceback" not in bad.output
    assert payload["step2"]["n_points"] == 15 * 10
    res = CliRunner().invoke(build_app(), ["downstream", str(path), "--loss", "bpb", "--y", "accuracy"])
    assert res.exit_code == 3 and "accuracy" in res.output
    res = CliRunner().invoke(build_app(), args + ["--skip-first", "1.5"])
    assert res.exit_code != 0 and "--skip-first" in res.output and "Traceback" not in res.output
