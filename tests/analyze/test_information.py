"""Henighan et al. 2020's information view: per-token vs per-image goldens, MI and infogain, N_opt ~ C^beta."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from scalinglab import published
from scalinglab.analyze.information import (
    PAPER_BETA,
    compute_optimal_exponent,
    fit_log_law,
    mutual_information,
    per_example,
    simulate_information,
)
from scalinglab.errors import DataError, InvalidParameterError

# Table 3 of the reference sheet: per-image reducible loss at C = 1 PF-day and irreducible loss (nats/image)
TABLE3 = {
    "image16x16": (43.34, 2026.0),
    "image32x32": (439.7, 6806.0),
    "image_vq16x16": (52.96, 1047.0),
    "image_vq32x32": (218.3, 3246.0),
}


@pytest.mark.parametrize("domain", sorted(TABLE3))
def test_per_token_table1_converts_to_per_image_table3(domain):
    """Table 1 (nats/token) x tokens per image = Table 3 (nats/image), the sheet's consistency check."""
    reducible_img, irreducible_img = TABLE3[domain]
    tok = published.get(f"henighan2020_{domain}_c")
    assert tok.units["loss_per"] == "token"
    floor = tok.params["E"]
    reducible_tok = tok.predict(C=1.0) - floor
    assert per_example(reducible_tok, domain) == pytest.approx(reducible_img, rel=3e-3)
    assert per_example(floor, domain) == pytest.approx(irreducible_img, rel=3e-3)
    img = published.get(f"henighan2020_{domain}_per_image_c")
    assert img.units["loss_per"] == "image"
    assert img.predict(C=1.0) - img.params["E"] == pytest.approx(reducible_img, rel=1e-3)


def test_per_example_rejects_unknown_domain():
    with pytest.raises(InvalidParameterError, match="unknown domain"):
        per_example(1.0, "image7x7")
    assert per_example(2.0, 10) == 20.0


def test_log_law_exact_and_solve():
    N = np.geomspace(1e6, 1e10, 7)
    f = fit_log_law(N, 0.03 * np.log(N / 2e5))
    assert f.lam == pytest.approx(0.03, rel=1e-10) and f.Nc == pytest.approx(2e5, rel=1e-8)
    assert f.solve(0.2) == pytest.approx(2e5 * np.exp(0.2 / 0.03), rel=1e-8)
    with pytest.raises(DataError, match="at least 3 models"):
        fit_log_law([1e6, 1e7], [0.1, 0.2])


def test_mutual_information_recovers_truth_and_contract():
    r = mutual_information(simulate_information(lam=0.02, Nc=3e5, exact="infogain", seed=1))
    lo, hi = r.infogain_fit.lam_interval
    assert lo <= 0.02 <= hi
    nlo, nhi = r.infogain_fit.Nc_interval
    assert nlo <= 3e5 <= nhi
    assert (r.table["infogain"] < 1).all() and (r.table["mi"] > 0).all()
    d = r.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert "infogain" in r.summary() and "per token" in r.summary()
    per_img = mutual_information(simulate_information(seed=1), tokens_per_example=3072)
    np.testing.assert_allclose(per_img.table["mi"], r.table["mi"] * 3072)
    np.testing.assert_allclose(per_img.table["infogain"], r.table["infogain"])
    assert "per example" in per_img.summary()


@pytest.mark.parametrize("exact, attr", [("infogain", "infogain_fit"), ("mi", "mi_fit")])
def test_information_interval_coverage_fast_version(exact, attr):
    """The suite's version of bench/transfer_coverage.py's infogain part (200 sets there)."""
    hits_l = hits_n = 0
    n = 60
    for s in range(n):
        f = getattr(mutual_information(simulate_information(exact=exact, seed=900 + s)), attr)
        hits_l += f.lam_interval[0] <= 0.02 <= f.lam_interval[1]
        hits_n += f.Nc_interval[0] <= 3e5 <= f.Nc_interval[1]
    assert 0.75 <= hits_l / n <= 1.0 and 0.75 <= hits_n / n <= 1.0, (hits_l, hits_n)


def test_missing_column_is_named():
    with pytest.raises(DataError, match="missing column 'loss_blank'"):
        mutual_information(pd.DataFrame({"params": [1e6], "loss": [2.0]}))


def test_optimal_exponent_from_envelope_beside_paper():
    rows = [
        (f"n{N:g}", N, D, 1.69 + 406.4 / N**0.34 + 410.7 / D**0.28)
        for N in (1e7, 3e7, 1e8, 3e8, 1e9)
        for D in np.geomspace(1e8, 1e11, 16)
    ]
    r = compute_optimal_exponent(pd.DataFrame(rows, columns=["run", "params", "tokens", "loss"]), n_resamples=50)
    assert r.paper == PAPER_BETA == 0.7
    assert 0.3 < r.beta < 0.7 and r.interval[0] <= r.beta <= r.interval[1]
    assert "0.7" in r.summary() and r.to_dict()["paper_beta"] == 0.7
