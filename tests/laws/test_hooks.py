"""A law owns its math: closed-form allocation and derived quantities live on the Law."""

from __future__ import annotations

import doctest
import importlib

import numpy as np
import pytest

from scalinglab.errors import LawError
from scalinglab.laws import ComputeOptimum, Param, define_law, get_law

HOFFMANN = dict(E=1.69, A=406.4, alpha=0.34, B=410.7, beta=0.28)


def test_chinchilla_closed_form_matches_hoffmann_golden():
    opt = get_law("chinchilla").compute_optimum(HOFFMANN, [1e21, 5.76e23], 6.0)
    np.testing.assert_allclose(opt.params, [1.824e9, 3.219e10], rtol=5e-4)
    np.testing.assert_allclose(opt.tokens, [9.136e10, 2.982e12], rtol=5e-4)
    assert np.all(opt.valid)
    assert float(opt.exponent) == pytest.approx(0.28 / 0.62)
    np.testing.assert_allclose(6.0 * opt.params * opt.tokens, [1e21, 5.76e23], rtol=1e-12)


def test_closed_form_is_vectorised_and_flags_invalid_draws():
    P = {k: np.array([v, v]) for k, v in HOFFMANN.items()}
    P["alpha"] = np.array([0.34, -0.1])  # the second draw cannot trade N against D
    opt = get_law("chinchilla").compute_optimum(P, 1e21)
    assert opt.valid.tolist() == [True, False]
    assert np.isfinite(opt.params[0]) and np.isnan(opt.params[1]) and np.isnan(opt.tokens[1])


def test_chinchilla_derived_exponents():
    lw = get_law("chinchilla")
    assert float(lw.derive("params_exponent", HOFFMANN)) == pytest.approx(0.4516, abs=1e-4)
    assert float(lw.derive("tokens_exponent", HOFFMANN) + lw.derive("params_exponent", HOFFMANN)) == pytest.approx(1)


def test_nmt_encdec_optimal_split_minimises_the_loss_at_fixed_total():
    lw = get_law("nmt_encdec")
    P = dict(L_inf=0.8, A=50.0, pe=0.32, pd=0.21)
    total = 4e8
    Ne = np.linspace(0.01, 0.99, 98001) * total
    loss = lw(Ne=Ne, Nd=total - Ne, **P)
    best = Ne[np.argmin(loss)]
    assert best / (total - best) == pytest.approx(float(lw.derive("optimal_split", P)), rel=1e-3)
    assert float(lw.derive("optimal_split", P)) == pytest.approx(0.32 / 0.21)
    assert float(lw.derive("optimal_encoder_fraction", P)) == pytest.approx(0.32 / 0.53)
    # vectorised over draws
    assert lw.derive("optimal_split", pe=np.array([0.2, 0.4]), pd=np.array([0.2, 0.2])).tolist() == [1.0, 2.0]


def test_missing_hooks_raise_with_a_fix():
    with pytest.raises(LawError, match="closed-form") as info:
        get_law("kaplan").compute_optimum({"Nc": 1.0, "alpha_N": 0.1, "Dc": 1.0, "alpha_D": 0.1}, 1e21)
    assert "allocation=" in str(info.value.hint)
    with pytest.raises(LawError, match="derived quantity"):
        get_law("power_law").derive("optimal_split", A=1.0, alpha=0.1)


def test_hooks_are_optional_and_described():
    plain = define_law(
        lambda x, A, alpha: A * x**-alpha,
        name="plain_hook_test",
        inputs={"x": "params"},
        params={"A": Param(0, np.inf), "alpha": Param(0, 2, grid=(0.3,))},
        linear=("A",),
    )
    assert not plain.has_allocation and plain.derived == {} and "allocation" not in plain.describe()
    d = get_law("chinchilla").describe()
    assert d["allocation"] == "Hoffmann et al. 2022, App. D.2"
    assert get_law("nmt_encdec").describe()["derived"] == [
        "optimal_encoder_fraction",
        "optimal_split",
        "proportional_exponent",
    ]


def test_hook_without_exponent_gets_a_numeric_one():
    def allocation(P, C, k):  # the Chinchilla closed form with alpha = beta: N* = sqrt(A C/(B k))
        N = np.sqrt(P["A"] / P["B"] * C / k)
        return N, C / (k * N), np.ones(np.shape(N), bool)

    lw = define_law(
        lambda N, D, E, A, B: E + A / N + B / D,
        name="equal_exponents_test",
        inputs={"N": "params", "D": "tokens"},
        params={"E": Param(0, 5), "A": Param(0, np.inf), "B": Param(0, np.inf)},
        linear=("E", "A", "B"),
        allocation=allocation,
    )
    opt = lw.compute_optimum({"E": 1.0, "A": 2.0, "B": 8.0}, 1e20)
    assert isinstance(opt, ComputeOptimum)
    assert float(opt.exponent) == pytest.approx(0.5, abs=1e-9)


@pytest.mark.parametrize(
    "name",
    [
        "scalinglab.laws._chinchilla",
        "scalinglab.laws._encdec",
        "scalinglab.laws._published",
        "scalinglab.laws.published",
        "scalinglab.published",
    ],
)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0
