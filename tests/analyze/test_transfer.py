"""Transfer (Hernandez et al. 2021): goldens, the vectorised inversion, recovery with known truth, CLI."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from scalinglab.analyze.transfer import (
    PAPER_TEXT_TO_PYTHON,
    TransferResult,
    effective_data,
    multiplier,
    simulate_transfer,
    split_stages,
    transfer,
    transfer_law,
)
from scalinglab.errors import DataError
from scalinglab.fit import fit

TEXT = PAPER_TEXT_TO_PYTHON
MIX = {"k": 2.1e5, "alpha": 0.096, "beta": 0.38}
TRUTH = {"k": 50.0, "alpha": 0.5, "beta": 0.3}


def printed(value, text: str) -> None:
    """``value`` rounds to the printed number (its last printed digit)."""
    digits = text.replace(".", "").split("e")[0].lstrip("0")
    sig = len(digits)
    assert float(f"{value:.{sig}g}") == pytest.approx(float(text), rel=1e-12), (value, text)


# ------------------------------------------------------------------ reference-sheet goldens (section 2)


def test_text_to_python_goldens():
    dt = float(transfer_law(1e6, 1e8, **TEXT))
    printed(dt, "2.505e8")
    printed(float(multiplier(1e6, 1e8, **TEXT)), "251.47")
    printed(float(transfer_law(1e6, 1e9, **TEXT)) / dt, "2.399")
    printed(float(transfer_law(1e7, 1e8, **TEXT)) / dt, "1.514")
    printed(float(transfer_law(1e8, 1e8, **TEXT)) / dt, "2.291")
    printed(float(transfer_law(1.0, 1.75e11, **TEXT)), "3.56e8")
    printed(float(transfer_law(300.0, 1.75e11, **TEXT) / transfer_law(1.0, 1.75e11, **TEXT)), "2.79")
    fig1 = float(transfer_law(3e5, 4e7, **TEXT))
    printed(fig1, "1.424e8")
    printed(fig1 / 3e5, "475")


def test_mixture_goldens():
    dm = float(transfer_law(1e6, 1e8, **MIX))
    printed(dm, "8.674e8")
    printed(float(multiplier(1e6, 1e8, **MIX)), "868.40")
    printed(float(transfer_law(1e6, 1e9, **MIX)) / dm, "2.399")
    printed(float(transfer_law(1.0, 1.75e11, **MIX)), "3.93e9")
    printed(float(transfer_law(300.0, 1.75e11, **MIX) / transfer_law(1.0, 1.75e11, **MIX)), "1.73")


def test_published_entry_agrees_with_analysis_functions():
    from scalinglab import published

    e = published.get("hernandez2021_text_python")
    assert e.predict(D_F=1e6, N=1e8) == pytest.approx(float(transfer_law(1e6, 1e8, **TEXT)), rel=1e-12)


# ------------------------------------------------------------------ the inversion


@pytest.fixture(scope="module")
def chin_fit():
    N, D = np.repeat([1e6, 3e6, 1e7, 3e7], 4), np.tile([1e7, 3e7, 1e8, 3e8], 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fit(
            pd.DataFrame(
                {
                    "run": [f"r{i}" for i in range(16)],
                    "params": N,
                    "tokens": D,
                    "loss": 1.0 + 50 / N**0.3 + 300 / D**0.3,
                }
            ),
            "chinchilla",
        )


def test_effective_data_matches_closed_form(chin_fit):
    p = chin_fit.params
    N = np.array([1e6, 1e7, 3e7])
    D_true = np.array([2e6, 5e7, 4e9])
    L = p["E"] + p["A"] / N ** p["alpha"] + p["B"] / D_true ** p["beta"]
    closed = (p["B"] / (L - p["E"] - p["A"] / N ** p["alpha"])) ** (1 / p["beta"])
    np.testing.assert_allclose(effective_data(chin_fit, N, L), closed, rtol=1e-9)
    np.testing.assert_allclose(closed, D_true, rtol=1e-9)


def test_effective_data_is_vectorised_over_draws_and_flags_unreachable(chin_fit):
    draws = pd.DataFrame([chin_fit.params] * 3)
    draws.loc[1, "B"] *= 2
    L = np.array([2.5, 1.0, 1e3])  # reachable; below L(N, inf); above L(N, one token)
    out = effective_data(chin_fit, [1e7, 1e7, 1e7], L, draws=draws)
    assert out.shape == (3, 3)
    assert np.isinf(out[:, 1]).all() and (out[:, 2] == 0).all()
    assert out[1, 0] == pytest.approx(out[0, 0] * 2 ** (1 / chin_fit.params["beta"]), rel=1e-8)


def test_effective_data_with_kaplan_law():
    Nc, Dc, aN, aD = 8.8e13, 5.4e13, 0.076, 0.095
    N, D = np.repeat(np.geomspace(1e6, 1e9, 4), 4), np.tile(np.geomspace(1e8, 1e11, 4), 4)
    L = ((Nc / N) ** (aN / aD) + Dc / D) ** aD
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = fit(pd.DataFrame({"params": N, "tokens": D, "loss": L}), "kaplan")
    De = effective_data(f, [1e7], [((Nc / 1e7) ** (aN / aD) + Dc / 3e9) ** aD])
    assert De[0] == pytest.approx(3e9, rel=2e-3)


# ------------------------------------------------------------------ transfer() with known truth


@pytest.fixture(scope="module")
def syn():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return transfer(simulate_transfer(**TRUTH, seed=7, noise=0.005), law="chinchilla", n_resamples=100)


def test_recovers_known_truth_inside_intervals(syn):
    assert isinstance(syn, TransferResult)
    for k, v in TRUTH.items():
        lo, hi = syn.intervals[k]
        assert lo <= v <= hi, (k, lo, v, hi)
        assert lo < syn.params[k] < hi
    assert not syn.runs["ossified"].any() and syn.fraction_not_helping == 0
    assert (syn.runs["multiplier"] > 1).all()
    m = syn.multiplier_table()
    assert m.shape == (4, 6)
    pred = syn.predict([1e5], [1e5])
    assert pred["D_T_lower"][0] < pred["D_T"][0] < pred["D_T_upper"][0]


def test_result_contract(syn):
    d = syn.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["paper_text_to_python"] == TEXT and len(d["runs"]) == 24
    text = syn.summary()
    assert "k =" in text and "paper text->python" in text and "ossification" in text


@pytest.mark.slow
def test_figure_and_section(syn):
    fig = syn.figure()
    assert len(fig.axes) >= 3
    sec = syn.section()
    assert "fig-transfer" in sec.body and sec.figures == ("fig-transfer",)


def test_ossification_is_flagged_with_its_region():
    df = simulate_transfer(**TRUTH, seed=3, noise=0.002)
    ft = df["stage"] == "finetune"
    # the two smallest models at the two largest D_F end worse than from scratch
    small = ft & df["params"].isin([2.5e4, 5.7e4]) & (df["tokens"] >= 2.5e5)
    df.loc[small, "loss"] = 0.8 + 20 / df.loc[small, "params"] ** 0.3 + 40 / (0.2 * df.loc[small, "tokens"]) ** 0.35
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = transfer(df, law="chinchilla", n_resamples=50)
    oss = r.runs[r.runs["ossified"]]
    assert len(oss) == 4 and set(oss["params"]) == {2.5e4, 5.7e4} and oss["D_F"].min() >= 2.5e5
    assert "small models and large D_F" in r.ossification_region
    assert r.fraction_not_helping == pytest.approx(4 / 24)
    assert r.params is not None  # fitted on the 20 runs with D_T > 0


@pytest.mark.slow
def test_interval_coverage_fast_version():
    """The suite's small version of bench/transfer_coverage.py (200 data sets there)."""
    hits = {k: 0 for k in TRUTH}
    n = 8
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for s in range(n):
            r = transfer(simulate_transfer(**TRUTH, seed=100 + s), law="chinchilla", n_resamples=60, seed=s)
            for k, v in TRUTH.items():
                hits[k] += int(r.intervals[k][0] <= v <= r.intervals[k][1])
    assert all(h >= 5 for h in hits.values()), hits


def test_bad_input_names_row_and_column():
    df = simulate_transfer(seed=0)
    with pytest.raises(DataError, match="stage"):
        split_stages(df.drop(columns="stage"))
    with pytest.raises(DataError, match="both are needed"):
        split_stages(df[df["stage"] == "scratch"])
    bad = df.copy()
    bad.loc[30, "loss"] = -1.0
    sc, ft = split_stages(bad)
    with pytest.raises(DataError, match=r"fine-tuned runs, row \d+, column 'loss'"):
        transfer(sc, ft)


def test_cli_transfer(tmp_path):
    from scalinglab.cli import build_app

    p = tmp_path / "ladder.csv"
    simulate_transfer(seed=2).to_csv(p, index=False)
    runner = CliRunner()
    res = runner.invoke(build_app(), ["transfer", str(p), "--law", "chinchilla", "--n-resamples", "40", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["analysis"] == "effective_data" and set(out["params"]) == {"k", "alpha", "beta"}
    res = runner.invoke(build_app(), ["transfer", str(tmp_path / "missing.csv")])
    assert res.exit_code == 3 and "not found" in res.output


def test_bundled_transfer_ladder():
    from scalinglab import datasets

    if "tinylm-transfer" not in datasets.list_datasets():
        pytest.skip("tinylm-transfer not bundled in this checkout")
    df = datasets.load("tinylm-transfer")
    assert {"stage", "corpus", "init_run"} <= set(df.columns)
    assert df.loc[df["final"], "params"].nunique() >= 4
    ft = df[df["final"] & (df["stage"] == "finetune")]
    assert ft["tokens"].nunique() >= 5 and ft["tokens"].max() / ft["tokens"].min() >= 10**1.5 * 0.95
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = transfer(df, n_resamples=50)
    assert len(r.runs) == len(ft)
