"""Backtesting: metrics, policies on synthetic families with known answers, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from scalinglab.cli import build_app
from scalinglab.data import CheckpointRule
from scalinglab.errors import DataError, InvalidParameterError
from scalinglab.evaluate import Backtest, Policy, are, backtest, best_seen, coverage, rmse_log, signed_error, split

TRUTH = dict(E=1.8, A=400.0, alpha=0.34, B=410.0, beta=0.28)
SIZES = [1e7, 2e7, 5e7, 1e8, 2e8, 5e8]

FINAL = Policy(checkpoints=CheckpointRule(final_only=True), target="final")


def chinchilla(N, D):
    return TRUTH["E"] + TRUTH["A"] / N ** TRUTH["alpha"] + TRUTH["B"] / D ** TRUTH["beta"]


def family(noise=0.0, seed=0, ckpts=10, name=None):
    """Runs trained to 20 tokens/param, checkpoints at 10%, 20%, ..., 100% of training."""
    rng = np.random.default_rng(seed)
    rows = []
    for N in SIZES:
        total = 20 * N
        for j in range(1, ckpts + 1):
            D = total * j / ckpts
            rows.append(
                {"run": f"m{N:g}", "params": N, "tokens": D, "loss": chinchilla(N, D) * np.exp(rng.normal(0, noise))}
            )
    df = pd.DataFrame(rows)
    if name:
        df["family"] = name
    return df


# ------------------------------------------------------------------ metrics
def test_metrics_known_values():
    y, yh = np.array([2.0, 4.0]), np.array([2.2, 3.6])
    assert are(y, yh) == pytest.approx(0.1)
    assert signed_error(y, yh) == pytest.approx(0.0)
    assert signed_error([2.0], [2.5]) == pytest.approx(0.25)
    assert rmse_log(y, yh) == pytest.approx(np.sqrt(np.mean(np.log(yh / y) ** 2)))
    assert rmse_log([1.0], [0.0]) == np.inf
    assert coverage([1, 2, 3], [0.5, 2.5, 2.0], [1.5, 3.0, 4.0]) == pytest.approx(2 / 3)
    assert np.isnan(coverage([1.0], [np.nan], [np.nan]))
    assert best_seen([3.0, 2.5, 2.7]) == 2.5
    with pytest.raises(ValueError):
        are([], [])


# ------------------------------------------------------------------ policies
def test_default_policy_splits_largest_and_last30():
    fit_rows, target = split(family(), Policy())
    assert set(target["run"]) == {"m5e+08"}
    # last 30% of training: checkpoints at 70%, 80%, 90%, 100%
    assert np.allclose(np.sort(target["tokens"] / (20 * 5e8)), [0.7, 0.8, 0.9, 1.0])
    assert fit_rows["params"].max() == 2e8 and fit_rows["params"].nunique() == 5
    assert len(fit_rows) == 5 * 10


@pytest.mark.parametrize(
    "policy, sizes, n_fit, n_target",
    [
        (Policy(holdout="largest:2"), SIZES[:4], 40, 8),
        (Policy(fit_models="smallest:2"), SIZES[:2], 20, 4),
        (Policy(fit_models="window:2"), SIZES[3:5], 20, 4),
        (
            Policy(checkpoints=CheckpointRule(window=(0.2, 1.0))),
            SIZES[:5],
            5 * 9,
            4,
        ),  # 10% dropped; 20% (on the boundary) kept
        (Policy(checkpoints=CheckpointRule(window=(0.0, 0.5))), SIZES[:5], 5 * 5, 4),
        (Policy(checkpoints=CheckpointRule(final_only=True), target="final"), SIZES[:5], 5, 1),
        (Policy(target="last:0.5"), SIZES[:5], 50, 6),
    ],
)
def test_policies_select_known_rows(policy, sizes, n_fit, n_target):
    fit_rows, target = split(family(), policy)
    assert sorted(fit_rows["params"].unique()) == sizes
    assert len(fit_rows) == n_fit
    assert len(target) == n_target


def test_compute_and_token_policies():
    df = family()
    comp = 6 * 2e8 * 20 * 2e8  # final compute of the 2e8 run
    fit_rows, target = split(df, Policy(holdout=f"compute>{comp * 1.01:.6g}"))
    assert set(target["params"]) == {5e8}
    fit_rows, target = split(df, Policy(holdout=f"compute>{comp * 0.99:.6g}"))
    assert set(target["params"]) == {2e8, 5e8}
    fit_rows, _ = split(df, Policy(checkpoints=CheckpointRule(min_tokens=1e9)))
    assert fit_rows["tokens"].min() >= 1e9


def test_bad_policies_fail_clearly():
    df = family()
    with pytest.raises(DataError, match=r"holds out 6 model size\(s\) but the family has only 6"):
        split(df, Policy(holdout="largest:6"))
    with pytest.raises(DataError, match="asks for 9 model sizes but only 5 remain"):
        split(df, Policy(fit_models="smallest:9"))
    with pytest.raises(DataError, match="fit set is empty after the checkpoint rules"):
        split(df, Policy(checkpoints=CheckpointRule(min_tokens=1e10)))  # the 10B cut empties a small-model family
    with pytest.raises(DataError, match="no run has final compute above"):
        split(df, Policy(holdout="compute>1e30"))
    with pytest.raises(InvalidParameterError, match="'holdout'"):
        Policy(holdout="biggest")
    with pytest.raises(InvalidParameterError, match="'fit_models'"):
        Policy(fit_models="smallest")
    with pytest.raises(InvalidParameterError, match="'target'"):
        Policy(target="last:2")
    with pytest.raises(InvalidParameterError, match="'window'"):
        Policy(checkpoints=CheckpointRule(window=(0.5, 0.2)))
    with pytest.raises(InvalidParameterError):
        Policy(holdout="largest:0")


# ------------------------------------------------------------------ backtest
def test_backtest_recovers_exact_law_and_beats_baseline():
    bt = backtest(family(), "chinchilla")
    assert isinstance(bt, Backtest)
    row = bt.scores.iloc[0]
    assert row["are"] < 1e-3 and abs(row["signed_error"]) < 1e-3 and row["rmse_log"] < 1e-3
    assert row["baseline_are"] > 0.05 and row["beats_baseline"]
    assert row["fit_runs"] == 5 and row["targets"] == 4
    # the baseline is the best loss seen in the fit set
    fit_rows, target = split(family(), bt.policy)
    assert row["baseline_are"] == pytest.approx(are(target["loss"], fit_rows["loss"].min()))
    d = bt.to_dict()
    for key in ("are", "signed_error", "rmse_log", "coverage", "baseline_are"):
        assert key in d
    json.dumps(d)
    assert "hold out the largest size" in bt.summary()


def test_backtest_leaderboard_and_signed_error_direction():
    bt = backtest(family(noise=0.003, seed=1), ["chinchilla", "power_law"], method="delta")
    lb = bt.leaderboard()
    assert list(lb.index) == ["chinchilla", "power_law"] and bt.best == "chinchilla"
    # a pure power law in N ignores the data term: it cannot follow the held-out curve as well
    assert lb.loc["power_law", "are"] > lb.loc["chinchilla", "are"]
    assert "Leaderboard" in bt.summary()
    assert set(bt.predictions["law"]) == {"chinchilla", "power_law"}
    assert bt.to_frame().shape[0] == 2


def test_backtest_coverage_on_noisy_family():
    bt = backtest(family(noise=0.01, seed=2), "chinchilla", interval=0.9, method="delta")
    cov = bt.scores.loc[0, "coverage"]
    assert 0.0 <= cov <= 1.0 and bt.scores.loc[0, "interval_method"] == "delta"
    p = bt.predictions
    assert ((p["lower"] <= p["y_hat"]) & (p["y_hat"] <= p["upper"])).all()


def test_backtest_per_family_and_failures_reported():
    df = pd.concat([family(name="a"), family(noise=0.002, seed=3, name="b")], ignore_index=True)
    df["run"] = df["family"] + "-" + df["run"]
    bt = backtest(df, "chinchilla", FINAL, interval=None)
    # 5 final checkpoints for 5 parameters: too few points -> a recorded failure, not a number
    assert list(bt.scores["family"]) == ["a", "b"]
    assert bt.scores["error"].str.contains("free parameters").all()
    assert bt.scores["are"].isna().all() and not bt.scores["beats_baseline"].any()
    assert "FAILED" in bt.summary()
    ok = backtest(df, "power_law", FINAL, interval=None)
    assert ok.scores["error"].isna().all()


def test_backtest_validates_arguments():
    with pytest.raises(InvalidParameterError):
        backtest(family(), "chinchilla", weighting="seed")
    with pytest.raises(InvalidParameterError):
        backtest(family(), [], interval=None)
    with pytest.raises(InvalidParameterError, match="target column"):
        backtest(family(), "chinchilla", y="ppl")


# ------------------------------------------------------------------ CLI
def test_cli_backtest_defaults_json(tmp_path):
    path = tmp_path / "runs.csv"
    family(noise=0.002, seed=4).to_csv(path, index=False)
    res = CliRunner().invoke(build_app(), ["backtest", str(path), "--law", "chinchilla", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    for key in ("are", "signed_error", "rmse_log", "coverage", "baseline_are"):
        assert key in out
    assert out["policy"]["holdout"] == "largest" and out["policy"]["target"] == "last30"
    assert out["are"] < out["baseline_are"]


def test_cli_backtest_text_leaderboard_and_errors(tmp_path):
    path = tmp_path / "runs.csv"
    family().rename(columns={"params": "n_params"}).to_csv(path, index=False)
    app = build_app()
    res = CliRunner().invoke(
        app,
        [
            "backtest",
            str(path),
            "--law",
            "chinchilla",
            "--law",
            "power_law",
            "--map",
            "params=n_params",
            "--interval",
            "0",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "Leaderboard" in res.output and "power_law" in res.output
    res = CliRunner().invoke(
        app, ["backtest", str(path), "--map", "params=n_params", "--holdout", "largest:7", "--json"]
    )
    assert res.exit_code == 3
    assert "holds out 7 model size(s)" in json.loads(res.output)["error"]["message"]


# ------------------------------------------------------------------ law selection, docstrings
def test_select_law_prefers_the_true_form():
    from scalinglab.evaluate import select_law

    x = np.geomspace(1e6, 1e10, 30)
    df = pd.DataFrame({"params": x, "loss": 1.5 + 30 * x**-0.25})
    sel = select_law(df, ["power_law", "power_floor", "M2"])
    assert sel.law in ("power_floor", "M2")  # both contain the true law
    assert sel.scores.loc["power_law", "rmse_log"] > sel.scores.loc[sel.law, "rmse_log"]
    assert sel.fit.n_points == 30 and "selected" in sel.summary()
    with pytest.raises(InvalidParameterError):
        select_law(df, [])


@pytest.mark.parametrize(
    "name",
    [
        "scalinglab.evaluate._metrics",
        "scalinglab.evaluate._policies",
        "scalinglab.fit._uncertainty",
        "scalinglab.evaluate._backtest",
        "scalinglab.evaluate._select",
        "scalinglab.cli._common",
    ],
)
def test_docstring_examples(name):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


def test_deprecated_policy_keywords_still_work_and_warn():
    with pytest.warns(DeprecationWarning, match="skip_fraction"):
        old = Policy(skip_fraction=0.2, fraction=0.8)
    assert old == Policy(checkpoints=CheckpointRule(window=(0.2, 0.8)))
    with pytest.warns(DeprecationWarning):
        bt = backtest(family(), "chinchilla", final_only=True, target="final", interval=None)
    assert bt.policy == Policy(checkpoints=CheckpointRule(window=(0.2, 1.0), final_only=True), target="final")
    with pytest.warns(DeprecationWarning, match="interval_method"):
        bt = backtest(family(), "chinchilla", interval_method="delta")
    assert bt.options["method"] == "delta"


def test_backtest_cells_run_on_the_process_backend_with_identical_scores():
    serial = backtest(family(), ["chinchilla", "power_law"], interval=None)
    pooled = backtest(family(), ["chinchilla", "power_law"], interval=None, backend="process", workers=2)
    pd.testing.assert_frame_equal(serial.scores, pooled.scores)


def test_policy_from_options_replaces_fields_of_the_default_policy():
    from scalinglab.evaluate import DEFAULT_POLICY
    from scalinglab.evaluate._backtest import DEFAULT_POLICY as from_backtest

    assert from_backtest is DEFAULT_POLICY
    assert Policy.from_options() == DEFAULT_POLICY
    p = Policy.from_options("largest:2", "smallest:3", "final", min_tokens=1e9, final_only=True)
    assert p == Policy(
        holdout="largest:2",
        fit_models="smallest:3",
        target="final",
        checkpoints=CheckpointRule(min_tokens=1e9, window=(0.2, 1.0), final_only=True),
    )
    assert Policy.from_options(window=(0.0, 1.0)).checkpoints.is_noop
    assert Policy.from_options(window=(0.5, 1.0), base=FINAL) == Policy(
        checkpoints=CheckpointRule(window=(0.5, 1.0), final_only=True), target="final"
    )
    with pytest.raises(InvalidParameterError):
        Policy.from_options(window=(0.9, 0.1))


def test_select_law_validation_fraction_and_deprecated_holdout():
    from scalinglab.evaluate import select_law

    x = np.geomspace(1e6, 1e10, 30)
    df = pd.DataFrame({"params": x, "loss": 1.5 + 30 * x**-0.25})
    new = select_law(df, ["power_law", "power_floor"], validation_fraction=0.4)
    with pytest.warns(DeprecationWarning, match="validation_fraction"):
        old = select_law(df, ["power_law", "power_floor"], holdout=0.4)
    assert old.law == new.law and old.validation_fraction == new.validation_fraction == 0.4
    pd.testing.assert_frame_equal(old.scores, new.scores)
    assert "last 40%" in new.summary()
    with pytest.warns(DeprecationWarning, match="validation_fraction"):
        assert new.holdout == 0.4
    with pytest.raises(InvalidParameterError, match="validation_fraction"):
        select_law(df, ["power_law"], validation_fraction=1.5)
    with pytest.raises(InvalidParameterError, match="unexpected"):
        select_law(df, ["power_law"], holdouts=0.4)
