"""scalinglab.trends: labels on curves of known shape, the noise model, JSON/figure/section, CLI, real data."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import scalinglab as sl
from scalinglab.analyze import _shape_tests as st
from scalinglab.analyze.trends import trends
from scalinglab.cli import build_app

N = np.geomspace(7e7, 1.2e10, 8)


def _curves() -> pd.DataFrame:
    y = {
        "up": np.linspace(0.35, 0.75, 8),
        "down": np.linspace(0.8, 0.55, 8),
        "peak": [0.55, 0.65, 0.75, 0.82, 0.8, 0.72, 0.63, 0.55],
        "valley": [0.75, 0.65, 0.56, 0.52, 0.55, 0.63, 0.7, 0.78],
        "chance": [0.51, 0.49, 0.5, 0.505, 0.495, 0.5, 0.51, 0.49],
    }
    return pd.DataFrame(
        [
            {"task": t, "family": "f", "params": n, "acc": v, "stderr": 0.01}
            for t, vals in y.items()
            for n, v in zip(N, vals)
        ]
    )


@pytest.fixture(scope="module")
def result():
    return trends(_curves(), "acc", chance=0.5, n_boot=199)


def test_known_shapes_get_their_labels(result):
    got = {c.key["task"]: c.label for c in result.curves}
    assert got == {"up": "positive", "down": "inverse", "peak": "inverted-U", "valley": "U", "chance": "flat"}
    assert sl.trends is trends


def test_turning_point_interval_brackets_the_peak(result):
    tp = result["peak"].evidence["turning_point"]
    lo, hi = tp["log10_ci90"]
    assert lo < math.log10(N[4]) and hi > math.log10(N[3]) and tp["inside_data"]  # the top lies at N[3]-N[4]
    assert math.log10(N[2]) < tp["x"] < math.log10(N[5])
    assert result["peak"].evidence["lind_mehlum"]["p"] < 0.05


def test_lower_is_better_metrics_flip_the_direction():
    df = _curves().query("task == 'up'").assign(loss=lambda d: 3 - d["acc"]).drop(columns="acc")
    r = trends(df, "loss", n_boot=0)
    assert r.higher_is_better is False and r.curves[0].label == "positive"  # the loss falls: it improves


def test_too_few_sizes_is_insufficient():
    df = _curves().query("task == 'up'").iloc[:2]
    assert trends(df, "acc", n_boot=0).curves[0].label == "insufficient"


def test_json_round_trip_figure_and_section(result):
    d = result.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["counts"]["positive"] == 1 and {"noise", "slope"} <= set(d["curves"][0]["evidence"])
    assert len(result.figure().axes) >= 5
    sec = result.section()
    assert sec.figures == ("fig-trends",) and "inverted-U" in sec.body


def test_tau_from_replicates_and_twins():
    rng = np.random.default_rng(0)
    rows = [
        {"task": "t", "params": n, "seed": s, "acc": 0.4 + 0.05 * i + rng.normal(0, 0.03), "stderr": 0.005}
        for i, n in enumerate(N[:6])
        for s in range(3)
    ]
    r = trends(pd.DataFrame(rows), "acc", replicates="seed", n_boot=99)
    noise = r.curves[0].evidence["noise"]
    assert noise["tau_source"] == "replicates" and noise["tau_lo"] < 0.03 < noise["tau_hi"]
    twins = pd.concat(
        [
            _curves().query("task == 'up'"),
            _curves().query("task == 'up'").assign(family="g", acc=lambda d: d["acc"] + 0.01),
        ]
    )
    r2 = trends(twins, "acc", twins={"f": "g"}, n_boot=0)
    assert all(c.evidence["noise"]["tau_source"].startswith("twin") for c in r2.curves)


def test_emergence_and_the_metric_check():
    x = np.geomspace(1e8, 1e11, 10)
    logx = np.log10(x)
    acc = 0.25 + 0.6 / (1 + np.exp(-6 * (logx - 9.7)))
    ce = 3.0 - 0.5 * (logx - 8)  # smooth continuous metric (lower is better)
    df = pd.DataFrame({"params": x, "acc": acc + np.r_[0.002, -0.002].repeat(5), "stderr": 0.005, "ce_loss": ce})
    r = trends(df, "acc", chance=0.25, continuous="ce_loss", n_boot=99)
    c = r.curves[0]
    assert c.label == "emergent"
    assert c.evidence["metric_check"]["verdict"].startswith("metric-induced")


def test_shape_test_is_calibrated_on_small_null_sample():
    """Monotone power laws with Gaussian noise: few U / inverted-U labels (the bench runs 1,000)."""
    rng = np.random.default_rng(3)
    hits = 0
    for i in range(30):
        n = int(rng.integers(5, 11))
        x = np.geomspace(1e8, 1e10, n)
        mu = 0.4 + 0.3 * (1 - (x / x[0]) ** -0.3)
        df = pd.DataFrame({"params": x, "acc": mu + rng.normal(0, 0.02, n), "stderr": 0.02})
        hits += trends(df, "acc", n_boot=99, seed=i).curves[0].label in ("U", "inverted-U")
    assert hits <= 2


def test_pava_prefix_matches_brute_force():
    rng = np.random.default_rng(1)
    for _ in range(50):
        y, w = rng.normal(size=7), rng.uniform(0.5, 2, 7)
        f, _, rss = st.unimodal_fit(y, w)
        assert rss == pytest.approx(float(np.sum(w * (y - f) ** 2)), abs=1e-9)
        assert st.prefix_isotonic_rss(y, w)[-1] == pytest.approx(st.monotone_fit(y, w)[2], abs=1e-9)


def test_bad_input_is_one_clear_error(tmp_path):
    path = tmp_path / "acc.csv"
    _curves().to_csv(path, index=False)
    res = CliRunner().invoke(build_app(), ["trends", str(path), "--metric", "accuracy"])
    assert res.exit_code == 3 and "metric 'accuracy'" in res.output and "--metric" in res.output
    assert "Traceback" not in res.output
    with pytest.raises(sl.ScalingLabError, match="duplicate|sharing"):
        trends(pd.concat([_curves(), _curves()]), "acc")


def test_cli_json_matches_api(tmp_path, result):
    path = tmp_path / "acc.csv"
    _curves().to_csv(path, index=False)
    res = CliRunner().invoke(
        build_app(), ["trends", str(path), "--metric", "acc", "--chance", "0.5", "--n-resamples", "199", "--json"]
    )
    assert res.exit_code == 0, res.output
    payload = json.loads(res.stdout)
    assert [c["label"] for c in payload["curves"]] == [c.label for c in result.curves]


def test_fit_accuracy_without_loss_column(tmp_path):
    L = np.linspace(0.6, 1.6, 12)
    df = pd.DataFrame({"task_loss": L, "accuracy": 0.25 + 0.6 / (1 + np.exp(6 * (L - 1.1)))})
    path = tmp_path / "acc.csv"
    df.to_csv(path, index=False)
    app = build_app()
    res = CliRunner().invoke(
        app, ["fit", str(path), "--law", "accuracy_sigmoid", "--y", "accuracy", "--space", "linear", "--json"]
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["params"]["b"] == pytest.approx(0.25, abs=1e-3)
    df.rename(columns={"accuracy": "acc"}).to_csv(path, index=False)
    res = CliRunner().invoke(
        app, ["fit", str(path), "--law", "accuracy_sigmoid", "--y", "accuracy", "--space", "linear"]
    )
    assert res.exit_code == 3 and "--y" in res.output and "loss=" not in res.output


@pytest.mark.slow
def test_isp_pythia_source_directions(shared_file):
    """Source tests (BH p < 0.01): 5 inverse tasks are inverse; at-chance no-effect tasks are flat."""
    path = shared_file("isp-pythia", "isp_pythia_accuracy.csv")
    chance = {
        t: 0.5
        for t in (
            "hindsight-neglect",
            "into-the-unknown",
            "memo-trap",
            "modus-tollens",
            "neqa",
            "pattern-matching-suppression",
            "redefine",
            "repetitive-algebra",
            "resisting-correction",
            "sig-figs",
        )
    }
    r = trends(path, "accuracy", x="params", chance=chance, covariate="tokens", n_boot=199)
    got = {c.key["task"]: c for c in r.curves}
    for task in ("hindsight-neglect", "memo-trap", "pattern-matching-suppression", "truthfulqa-mc1", "truthfulqa-mc2"):
        assert got[task].label == "inverse", (task, got[task].evidence["reason"])
    assert (
        sum(
            got[t].fragile
            for t in (
                "hindsight-neglect",
                "memo-trap",
                "pattern-matching-suppression",
                "truthfulqa-mc1",
                "truthfulqa-mc2",
                "resisting-correction",
            )
        )
        <= 1
    )
    for task in ("into-the-unknown", "neqa"):
        assert got[task].label == "flat"
