"""Encoder/decoder NMT (Ghorbani et al. 2021): the law's closed forms, the generic split planner, the analysis.

No public encoder/decoder grid exists: every data set here is drawn from the law with known truth.
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import brentq
from typer.testing import CliRunner

from scalinglab.analyze.encdec import BLEU_TRUTH, TRUTH, encdec, simulate_encdec, stall_check
from scalinglab.errors import DataError, InvalidParameterError, PlanError
from scalinglab.fit import fit
from scalinglab.laws import Param, define_law, get_law
from scalinglab.plan import compute_optimal, split_params

P = {"L_inf": 1.5, "A": 40.0, "pe": 0.3, "pd": 0.2}
LAW = get_law("nmt_encdec")


@pytest.mark.parametrize("pe,pd", [(0.3, 0.2), (0.05, 0.9), (0.7, 0.7), (0.12, 0.41)])
@pytest.mark.parametrize("B", [1e6, 1e9, 3.5e12])
def test_optimal_split_is_pe_over_pd_to_1e6(pe, pd, B):
    params = dict(P, pe=pe, pd=pd)
    a = split_params(("nmt_encdec", params), B)
    assert a.table["split_ratio"][0] == pytest.approx(pe / pd, rel=1e-6)
    assert a.table["encoder_params"][0] + a.table["decoder_params"][0] == pytest.approx(B, rel=1e-12)

    # an independent numeric check: the stationary point of log(L - L_inf) along N_e + N_d = B (same
    # minimiser as L, not flattened by the floor), from a central-difference derivative and brentq
    def g(z):
        reducible = dict(params, L_inf=0.0)  # L - L_inf, evaluated without the floor's rounding
        return math.log(float(LAW(Ne=B / (1 + math.exp(-z)), Nd=B / (1 + math.exp(z)), **reducible)))

    z = brentq(lambda z: (g(z + 1e-5) - g(z - 1e-5)) / 2e-5, -15, 15, xtol=1e-14)
    share = 1 / (1 + math.exp(-z))
    assert share / (1 - share) == pytest.approx(pe / pd, rel=1e-6)
    assert float(LAW.derive("optimal_split", params)) == pytest.approx(pe / pd, rel=1e-12)


def test_proportional_scaling_exponent_is_pe_plus_pd():
    a = split_params(("nmt_encdec", P), [1e8, 1e10])
    assert np.allclose(a.table["exponent"], P["pe"] + P["pd"], rtol=1e-6)
    for r in (0.2, 0.5, 0.9):  # any fixed share, not just the best one
        B = np.array([1e8, 1e11])
        red = LAW(Ne=r * B, Nd=(1 - r) * B, **P) - P["L_inf"]
        slope = -np.diff(np.log(red))[0] / np.diff(np.log(B))[0]
        assert slope == pytest.approx(P["pe"] + P["pd"], rel=1e-9)
    assert float(LAW.derive("proportional_exponent", P)) == pytest.approx(0.5)


def test_numeric_split_for_a_law_without_a_hook_matches_the_closed_form():
    twin = define_law(
        lambda Na, Nb, L_inf, A, pe, pd: L_inf + A * Na**-pe * Nb**-pd,
        name="twin_parts_test",
        inputs={"Na": "tower_a_params", "Nb": "tower_b_params"},
        params={k: Param(0, np.inf if k in ("L_inf", "A") else 3) for k in P},
        linear=("L_inf", "A"),
        formula="L = L_inf + A Na^-pe Nb^-pd",
        reference="test double of Ghorbani et al. 2021",
        floor="L_inf",
    )
    a = split_params((twin, P), 1e9)
    assert a.solver.startswith("numeric")
    assert a.table["split_ratio"][0] == pytest.approx(1.5, rel=1e-6)
    assert a.table["exponent"][0] == pytest.approx(0.5, rel=1e-5)


def test_split_plan_from_a_fit_has_intervals_and_other_verbs_point_to_it():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = fit(simulate_encdec(seed=4), "nmt_encdec")
    a = split_params(f, 1e9, n_resamples=30)
    t = a.table.iloc[0]
    assert t["split_ratio_lower"] <= t["split_ratio"] <= t["split_ratio_upper"]
    assert a.method == "bootstrap" and "closed form" in a.solver
    with pytest.raises(PlanError, match="--params B|split_params"):
        compute_optimal(f, 1e20)
    with pytest.raises(PlanError, match="no inputs that split"):
        split_params(("chinchilla", dict(E=1.69, A=406.4, alpha=0.34, B=410.7, beta=0.28)), 1e9)


def test_encdec_analysis_recovers_the_truth_and_round_trips():
    d = simulate_encdec(seed=0, bleu=BLEU_TRUTH)
    at = pd.DataFrame({"encoder_params": [3e8], "decoder_params": [5e8]})
    r = encdec(d, params=[1e9], at=at, metric="bleu", n_resamples=60)
    est = r.estimates.set_index("quantity")
    for q, v in (("pe", TRUTH["pe"]), ("pd", TRUTH["pd"]), ("optimal_split", TRUTH["pe"] / TRUTH["pd"])):
        assert est.loc[q, "estimate"] == pytest.approx(v, rel=0.1)
    assert r.value("optimal_split") == pytest.approx(r.value("pe") / r.value("pd"), rel=1e-12)
    true_at = float(LAW(Ne=3e8, Nd=5e8, **TRUTH))
    assert abs(r.at["loss"][0] - true_at) < 0.01 and r.at["lower"][0] <= r.at["loss"][0] <= r.at["upper"][0]
    assert r.bleu["stall"]["stalled"] is False
    d2 = r.to_dict()
    assert json.loads(json.dumps(d2)) == d2
    assert d2["split"][0]["split_ratio"] == pytest.approx(r.value("optimal_split"))
    assert "pe/pd" in r.summary() and "BLEU" not in r.summary().split("Second step")[0]
    assert r.section().figures == ("fig-encdec",)


def test_stall_check_flags_a_stalled_link_only():
    L = simulate_encdec(seed=7)["loss"].to_numpy()
    good = 100 * (1 - 1.0 + 2.0 * np.exp(-1.2 * L))
    stalled = 100 * (1 - 1.0 + 2.0 * np.exp(-1.2 * np.maximum(L, np.median(L))))
    assert stall_check(L, good)["stalled"] is False
    s = stall_check(L, stalled)
    assert s["stalled"] is True and "STALLED" in s["message"]
    r = encdec(simulate_encdec(seed=1, stall_loss=1.75), metric="bleu", n_resamples=40)
    assert r.bleu["stall"]["stalled"] is True and any("stalls" in n for n in r.notes)


def test_encdec_bad_input():
    d = simulate_encdec(seed=0)
    with pytest.raises(DataError, match="score column 'bleu'"):
        encdec(d, metric="bleu", n_resamples=40)
    with pytest.raises(InvalidParameterError, match="interval"):
        encdec(d, interval=1.5)
    with pytest.raises(DataError, match="lacks columns"):
        encdec(d, at=pd.DataFrame({"encoder_params": [1e8]}), n_resamples=40)


@pytest.mark.slow
def test_encdec_interval_coverage_small():
    """A fast version of bench/encdec_coverage.py: 10 simulated sets."""
    hits = {"pe": 0, "pd": 0, "optimal_split": 0, "proportional_exponent": 0}
    truth = {"pe": 0.25, "pd": 0.35, "optimal_split": 0.25 / 0.35, "proportional_exponent": 0.6}
    for s in range(10):
        r = encdec(simulate_encdec(seed=100 + s), params=[1e9], n_resamples=40, seed=s)
        e = r.estimates.set_index("quantity")
        for q, v in truth.items():
            hits[q] += int(e.loc[q, "lower"] <= v <= e.loc[q, "upper"])
    assert all(h >= 6 for h in hits.values()), hits


@pytest.mark.slow
def test_cli_plan_params_and_encdec(tmp_path):
    from scalinglab.cli import build_app

    data = tmp_path / "encdec.csv"
    simulate_encdec(seed=2, bleu=BLEU_TRUTH).to_csv(data, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fpath = fit(pd.read_csv(data), "nmt_encdec").save(tmp_path / "fit.json")
    runner = CliRunner()
    res = runner.invoke(build_app(), ["plan", str(fpath), "--params", "1e9", "--n-resamples", "40", "--json"])
    assert res.exit_code == 0, res.output
    row = json.loads(res.output)["rows"][0]
    assert row["encoder_params"] / row["decoder_params"] == pytest.approx(row["split_ratio"])
    res = runner.invoke(build_app(), ["plan", str(fpath), "--flops", "1e20"])
    assert res.exit_code != 0 and "--params" in res.output and "Traceback" not in res.output
    res = runner.invoke(build_app(), ["encdec", str(data), "--metric", "bleu", "--n-resamples", "30", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["analysis"] == "encdec" and out["bleu"]["stall"]["stalled"] is False
    for args in (["--at", "1e8"], ["--metric", "nope"], ["--link", "cubic"]):
        res = runner.invoke(build_app(), ["encdec", str(data), *args])
        assert res.exit_code != 0 and len(res.output.strip().splitlines()) == 1, res.output


@pytest.mark.slow
def test_report_has_the_encdec_section():
    from scalinglab.report import build_report

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = build_report(
            simulate_encdec(seed=0, bleu=BLEU_TRUTH), "nmt_encdec", backtest=False, plan=False, progress=False
        )
    status = {s.id: s.status for s in r.sections}
    assert status.get("encdec") == "ok", status
