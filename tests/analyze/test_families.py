"""compare_families: one fit per family (through fit_many); text, JSON, figure and report section."""

from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pandas as pd
import pytest

from scalinglab.analyze import AnalysisResult, FamiliesResult, compare_families
from scalinglab.errors import DataError
from scalinglab.fit import fit
from scalinglab.render import FigureRenderer

TRUE = {"a": {"E": 2.0, "A": 3000.0, "alpha": 0.2}, "b": {"E": 1.5, "A": 2000.0, "alpha": 0.15}}


def two_families(seed: int = 0) -> pd.DataFrame:
    """Two families of one-checkpoint runs on compute, each on its own power law with a floor (plus one tiny one)."""
    rng = np.random.default_rng(seed)
    C = np.geomspace(1e15, 1e21, 7)
    rows = []
    for fam, p in TRUE.items():
        loss = (p["E"] + p["A"] * C ** -p["alpha"]) * np.exp(rng.normal(0, 0.001, C.size))
        rows += [
            {"run": f"{fam}{i}", "family": fam, "flops": c, "params": (c / 120) ** 0.5, "loss": v}
            for i, (c, v) in enumerate(zip(C, loss))
        ]
    rows.append({"run": "c0", "family": "c", "flops": 1e16, "params": 1e7, "loss": 3.0})  # too few runs to fit
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def result() -> FamiliesResult:
    return compare_families(two_families(), "power_floor", x="flops")


def test_each_family_gets_its_own_fit(result):
    assert isinstance(result, AnalysisResult)
    assert list(result.fits) == ["a", "b"] and list(result.failed) == ["c"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        direct = {fam: fit(g, "power_floor", x="flops") for fam, g in two_families().groupby("family") if fam != "c"}
    for fam, f in result.fits.items():
        assert f.params == pytest.approx(direct[fam].params, rel=1e-9)  # the batch fits are plain fits
        assert f.params["E"] == pytest.approx(TRUE[fam]["E"], rel=0.05)
    assert result.fits["a"].params["alpha"] > result.fits["b"].params["alpha"]


def test_summary_and_json(result):
    text = result.summary()
    assert str(result) == text
    assert "power_floor fitted to each of 2 families" in text and "not fitted: c" in text
    d = result.to_dict()
    assert json.loads(json.dumps(d)) == d  # plain JSON that reloads unchanged
    assert [f["family"] for f in d["families"]] == ["a", "b"]
    assert d["families"][1]["params"]["alpha"] == result.fits["b"].params["alpha"]
    assert d["families"][0]["points"] == 7 and set(d["failed"]) == {"c"}


def test_figure_and_section(result):
    fig = result.figure()
    labels = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    assert any("(a)" in t for t in labels) and any("(b)" in t for t in labels)
    render = FigureRenderer()
    section = result.section(render=render)
    assert section.id == "families" and section.status == "ok" and section.figures == ("fig-families",)
    assert render.count == 1 and "<svg" in section.body
    m = re.search(r'data-key="family-param:b:alpha" data-value="([^"]+)"', section.body)
    assert float(m.group(1)) == result.fits["b"].params["alpha"]
    assert "<figure class='sl-figure' id='fig-families'" in result._repr_html_()


def test_hold_out_largest_and_too_few_families():
    runs = two_families()
    held = compare_families(runs, "power_floor", x="flops", hold_out_largest=True, families=["a", "b"])
    for fam, f in held.fits.items():  # each family's own largest run is not fitted, the others are
        assert set(f.data["run"]) == set(runs.loc[runs["family"] == fam, "run"]) - {f"{fam}6"}
    assert held.to_dict()["hold_out_largest"] is True
    one = compare_families(runs, "power_floor", x="flops", families=["a", "c"])
    section = one.section()
    assert section.status == "error" and "fewer than two families" in section.note
    with pytest.raises(DataError, match="family"):
        compare_families(runs.drop(columns="family"), "power_floor", x="flops")
