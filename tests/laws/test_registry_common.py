"""Checks every registered law must pass: metadata, finite values on its start grid, broadcasting."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import scalinglab.published  # noqa: F401  (import everything that registers laws)
from scalinglab.laws import Law, list_laws

# A sensible input range per input column (the law's default column names).
RANGES = {
    "params": (1e7, 1e10),
    "tokens": (1e9, 1e12),
    "flops": (1e18, 1e23),
    "steps": (1e3, 1e5),
    "encoder_params": (1e8, 2e9),
    "decoder_params": (1e8, 2e9),
    "finetune_data": (1e5, 1e9),
    "loss_i": (2.0, 4.0),
    "loss_j": (2.0, 4.0),
    "tokens_i": (1e9, 1e12),
    "tokens_j": (1e9, 1e12),
    "mixture_weight": (0.05, 1.0),
    "token_multiplier": (5.0, 500.0),
    "task_loss": (0.3, 3.0),
    "loss": (2.0, 5.0),
}
N_POINTS = 12


def _inputs(lw: Law) -> dict[str, np.ndarray]:
    out = {}
    for i, (sym, col) in enumerate(lw.inputs.items()):
        lo, hi = RANGES.get(col, (1.0, 1e3))
        grid = np.geomspace(lo, hi, N_POINTS)
        out[sym] = np.roll(grid, 3 * i)  # decorrelate the inputs of multi-input laws
    return out


def _start_points(lw: Law, X: dict[str, np.ndarray], limit: int = 200) -> list[dict[str, float]]:
    y = np.full(N_POINTS, 2.5)
    axes = []
    for name, spec in lw.params.items():
        if name in lw.linear:
            axes.append([min(1.0, spec.upper)])  # linear parameters are solved, not gridded
        else:
            axes.append(list(spec.start_values(X, y)))
    points = list(itertools.product(*axes))
    rng = np.random.default_rng(0)
    if len(points) > limit:
        points = [points[i] for i in rng.choice(len(points), limit, replace=False)]
    return [dict(zip(lw.params, p)) for p in points]


LAWS = list_laws()


def test_registry_has_the_product_families():
    names = {lw.name for lw in LAWS}
    for required in (
        "chinchilla",
        "kaplan",
        "transfer",
        "nmt_encdec",
        "mixed_modal",
        "multilingual_mixture",
        "overtraining",
        "accuracy_sigmoid",
        "power_law",
        "bnsl",
        "M4",
        "scaled_power",
    ):
        assert required in names


@pytest.mark.parametrize("lw", LAWS, ids=[lw.name for lw in LAWS])
def test_law_metadata(lw: Law):
    assert lw.formula and "=" in lw.formula
    assert lw.reference and ("arXiv:" in lw.reference or "et al." in lw.reference)
    assert lw.inputs and lw.params
    assert set(lw.linear) <= set(lw.params)
    d = lw.describe()
    assert d["name"] == lw.name and d["formula"] == lw.formula and d["target"] == lw.target
    for name, spec in lw.params.items():
        assert spec.lower < spec.upper, name
        assert spec.description, f"{lw.name}.{name} has no description"


@pytest.mark.parametrize("lw", LAWS, ids=[lw.name for lw in LAWS])
def test_law_is_finite_on_its_start_grid(lw: Law):
    X = _inputs(lw)
    finite = 0
    points = _start_points(lw, X)
    for params in points:
        if lw.constraint is not None and not bool(np.all(lw.constraint({k: np.asarray(v) for k, v in params.items()}))):
            continue
        value = lw.evaluate(X, params)
        assert value.shape == (N_POINTS,)
        finite += bool(np.all(np.isfinite(value)))
    # every admissible start is finite over the sensible range (overflow is a sign of a broken grid)
    admissible = sum(
        1
        for p in points
        if lw.constraint is None or bool(np.all(lw.constraint({k: np.asarray(v) for k, v in p.items()})))
    )
    assert finite == admissible, f"{lw.name}: {admissible - finite} of {admissible} starts give non-finite values"


@pytest.mark.parametrize("lw", LAWS, ids=[lw.name for lw in LAWS])
def test_law_broadcasts_batched_params(lw: Law):
    X = _inputs(lw)
    points = [
        p
        for p in _start_points(lw, X, limit=50)
        if lw.constraint is None or bool(np.all(lw.constraint({k: np.asarray(v) for k, v in p.items()})))
    ]
    points = points[:4]
    assert points, lw.name
    batched = {k: np.array([p[k] for p in points], dtype=float)[:, None] for k in lw.params}
    out = lw.evaluate(X, batched)
    assert out.shape == (len(points), N_POINTS)
    for row, params in zip(out, points):
        np.testing.assert_allclose(row, lw.evaluate(X, params), rtol=1e-10, equal_nan=True)
