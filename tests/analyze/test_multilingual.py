"""Multilingual mixtures (Fernandes et al. 2023): forms, the joint fit, effective parameters, the exponent test.

No public multilingual table exists: every data set here is drawn from the law with known truth.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from typer.testing import CliRunner

from scalinglab.analyze.multilingual import TRUTH, exponent_test, multilingual, simulate_multilingual
from scalinglab.errors import DataError, InvalidParameterError
from scalinglab.laws import get_law
from scalinglab.laws._multilingual import FORMS, effective_fraction, factor_law, joint_mixture_law


@pytest.mark.parametrize("form", list(FORMS))
def test_every_form_gives_the_whole_model_at_weight_one_and_grows_with_w(form):
    w = np.linspace(0.05, 1.0, 20)
    f = effective_fraction(form, w, 0.6)
    assert f[-1] == pytest.approx(1.0) and np.all(np.diff(f) > 0) and np.all(f > 0)
    assert FORMS[form][3].startswith("f(w)")


def test_hyperbolic_law_matches_its_fraction_and_is_proportional_at_kappa_one():
    lw = get_law("multilingual_hyperbolic")
    N, w = 3e8, 0.3
    got = lw(N=N, w=w, L_inf=1.0, beta=20.0, alpha=0.3, kappa=0.4)
    assert got == pytest.approx(1.0 + 20.0 * (effective_fraction("hyperbolic", w, 0.4) * N) ** -0.3)
    assert effective_fraction("hyperbolic", w, 1.0) == pytest.approx(w)


@pytest.mark.parametrize("free", [False, True])
def test_factor_law_jacobian_matches_central_differences(free):
    lw = factor_law(3, free_exponents=free)
    N = np.array([1e7, 1e8, 1e9, 1e7, 1e9, 3e8])
    wi = np.array([1, 1, 2, 2, 3, 3], dtype=float)
    p = {"L_inf": 1.1, "b1": 20.0, "b2": 30.0, "b3": 25.0}
    p.update({"alpha1": 0.2, "alpha2": 0.3, "alpha3": 0.25} if free else {"alpha": 0.27})
    value, grads = lw.jacobian(N=N, wi=wi, **p)
    assert np.allclose(value, lw(N=N, wi=wi, **p))
    for k in p:
        h = 1e-6 * max(abs(p[k]), 1.0)
        num = (lw(N=N, wi=wi, **{**p, k: p[k] + h}) - lw(N=N, wi=wi, **{**p, k: p[k] - h})) / (2 * h)
        assert np.allclose(grads[k], num, rtol=1e-5, atol=1e-9), k


def test_joint_law_shares_one_exponent():
    lw = joint_mixture_law(2, "hyperbolic")
    assert [p for p in lw.params if p.startswith("alpha")] == ["alpha"]
    assert "g_2" in lw.params and "w / (w + kappa" in lw.formula


def test_multilingual_recovers_the_truth_and_round_trips():
    d = simulate_multilingual(seed=0)
    r = multilingual(d, test=False, n_resamples=30, weights=[0.2, 0.5])
    est = r.estimates.set_index(["pair", "quantity"])
    for pair, t in TRUTH.items():
        assert est.loc[(pair, "alpha"), "estimate"] == pytest.approx(t["alpha"], abs=0.03)
        assert est.loc[(pair, "gamma"), "estimate"] == pytest.approx(t["g"], abs=0.1)
    eff = r.effective.set_index(["pair", "weight"])
    assert eff.loc[("en-fr", 0.5), "fraction"] == pytest.approx(0.5 ** TRUTH["en-fr"]["g"], abs=0.03)
    assert eff.loc[("en-fr", 0.5), "effective_params"] == pytest.approx(eff.loc[("en-fr", 0.5), "fraction"] * 1e9)
    p = r.predict("de-en", [0.1, 0.9], [1e10, 1e10])
    t = TRUTH["de-en"]
    truth = t["L_inf"] + t["beta"] * (np.array([0.1, 0.9]) ** t["g"] * 1e10) ** -t["alpha"]
    assert np.all(np.abs(p["loss"] - truth) < 0.02) and np.all(p["lower"] <= p["loss"])
    out = r.to_dict()
    assert json.loads(json.dumps(out)) == out
    assert out["form"] == "power" and "scalinglab's choice" in r.summary()
    assert r.section().figures == ("fig-multilingual",)


@pytest.mark.parametrize("form,exponent", [("hyperbolic", "pair"), ("proportional", "shared")])
def test_other_forms_and_a_shared_exponent(form, exponent):
    r = multilingual(simulate_multilingual(seed=1), form=form, exponent=exponent, test=False, n_resamples=20)
    assert FORMS[form][3] in r.summary()
    alphas = r.estimates[r.estimates["quantity"] == "alpha"]["estimate"]
    if exponent == "shared":
        assert alphas.nunique() == 1
    if form == "proportional":
        assert np.allclose(r.effective["fraction"], r.effective["weight"])


@pytest.mark.slow
def test_exponent_test_keeps_the_null_and_rejects_a_moving_exponent():
    """One data set each way (a null data set is rejected 5% of the time by design: the rate over 200 null
    sets is measured by bench/multilingual_coverage.py --part test)."""
    null = exponent_test(simulate_multilingual(seed=101), n_null=19, seed=1)
    assert not null["rejected"] and null["p_value"] > 0.05
    alt = exponent_test(simulate_multilingual(seed=11, exponent_shift=0.5), n_null=19, seed=1)
    assert alt["rejected"] and alt["p_value"] == pytest.approx(0.05) and "REJECTED" in alt["message"]


def test_bad_input_names_the_field():
    d = simulate_multilingual(seed=0)
    bad = d.copy()
    bad.loc[4, "mixture_weight"] = 1.5
    with pytest.raises(DataError, match=r"row 5.*not in \(0, 1\]"):
        multilingual(bad, test=False)
    with pytest.raises(DataError, match="single mixture weight"):
        multilingual(d[d["mixture_weight"] > 0.99].assign(pair="en-de"), test=False)
    with pytest.raises(InvalidParameterError, match="form must be"):
        multilingual(d, form="cubic")
    with pytest.raises(DataError, match="no column 'lang'"):
        multilingual(d, pair="lang")
    r = multilingual(d, test=False, n_resamples=20)
    with pytest.raises(InvalidParameterError, match="no language pair"):
        r.predict("xx-yy", 0.5, 1e9)


@pytest.mark.slow
def test_multilingual_coverage_small():
    """A fast version of bench/multilingual_coverage.py: 6 simulated sets x 3 pairs."""
    hits = n = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for s in range(6):
            r = multilingual(simulate_multilingual(seed=200 + s), test=False, n_resamples=40, seed=s)
            e = r.estimates.set_index(["pair", "quantity"])
            for pair, t in TRUTH.items():
                for q, v in (("alpha", t["alpha"]), ("gamma", t["g"])):
                    hits += int(e.loc[(pair, q), "lower"] <= v <= e.loc[(pair, q), "upper"])
                    n += 1
    assert hits / n >= 0.6, (hits, n)


@pytest.mark.slow
def test_cli_multilingual(tmp_path):
    from scalinglab.cli import build_app

    p = tmp_path / "mix.csv"
    simulate_multilingual(seed=3).to_csv(p, index=False)
    runner = CliRunner()
    res = runner.invoke(
        build_app(),
        ["multilingual", str(p), "--n-null", "9", "--n-resamples", "20", "--predict", "en-de,0.25,1e10", "--json"],
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["analysis"] == "multilingual" and out["test"]["n_null"] == 9
    assert out["predictions"][0]["pair"] == "en-de"
    for args in (["--form", "cubic"], ["--pair", "lang"], ["--predict", "en-de,0.2"], ["--n-null", "3"]):
        res = runner.invoke(build_app(), ["multilingual", str(p), "--no-test", *args])
        assert res.exit_code != 0 and len(res.output.strip().splitlines()) == 1, res.output
