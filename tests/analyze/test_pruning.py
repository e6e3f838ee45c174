"""The pruning-law comparison (power vs exponential vs broken, by backtest and AICc): verdicts on curves of
known form, the result contract (summary, JSON round trip, figure, report section) and bad input."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from scalinglab.analyze.pruning import PruningResult, aicc, pruning
from scalinglab.errors import DataError, InvalidParameterError
from scalinglab.render import section_providers

FAST = ["power_law", "exp_decay", "exp_floor"]


def _curves(noise: float = 0.02, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = np.linspace(40, 640, 11)
    jitter = lambda: np.exp(rng.normal(0, noise, x.size))  # noqa: E731
    return pd.concat(
        [
            pd.DataFrame({"metric": "prototypes", "kept": x, "error": 0.5 * np.exp(-x / 150) * jitter()}),
            pd.DataFrame({"metric": "random", "kept": x, "error": 2.0 * x**-0.5 * jitter()}),
        ],
        ignore_index=True,
    )


@pytest.fixture(scope="module")
def result() -> PruningResult:
    return pruning(_curves(), by="metric", laws=FAST, holdout=2)


def test_verdicts_follow_the_true_form(result):
    assert result.verdict("prototypes") == "exponential"
    assert result.verdict("random") == "power"
    g = result.groups.set_index("group")
    assert g.loc["prototypes", "rmse_exponential"] < g.loc["prototypes", "rmse_power"]
    assert g.loc["prototypes", "delta_aicc_power_minus_exp"] > 10
    assert g.loc["random", "delta_aicc_power_minus_exp"] < -10
    # Akaike weights sum to one per group; the held-out points are the two largest kept sizes
    assert np.allclose(result.table.groupby("group")["weight"].sum(), 1.0)
    held = result.points[result.points["held_out"]]
    assert sorted(held["x"].unique()) == [580.0, 640.0]


@pytest.mark.slow
def test_default_candidates_include_the_broken_law():
    res = pruning(_curves().query("metric == 'random'"), holdout=2)
    forms = dict(zip(res.table["law"], res.table["form"]))
    assert set(forms.values()) == {"power", "exponential", "broken"}
    assert res.verdict() == "power"


def test_to_dict_round_trips_through_json(result):
    payload = result.to_dict()
    again = PruningResult.from_dict(json.loads(json.dumps(payload)))
    assert again.to_dict() == payload
    assert again.verdict("random") == "power"
    assert "exponential" in again.summary() and "AICc" in again.summary()
    with pytest.raises(InvalidParameterError):
        PruningResult.from_dict({"analysis": "other"})


def test_figure_and_report_section(result):
    fig = result.figure()
    assert len([ax for ax in fig.axes if ax.get_visible()]) == 2
    sec = result.section()
    assert sec.id == "pruning" and "fig-pruning" in sec.figures and "<svg" in sec.body
    assert "pruning" in {p.name for p in section_providers()}


def test_aicc_matches_the_formula():
    n, k, rss = 12, 3, 0.2
    assert aicc(rss, n, k) == pytest.approx(n * math.log(rss / n) + 2 * k + 2 * k * (k + 1) / (n - k - 1))
    assert math.isnan(aicc(rss, 4, 3))


def test_a_group_with_too_few_sizes_is_left_out_with_a_note():
    df = pd.concat([_curves(), pd.DataFrame({"metric": "tiny", "kept": [10.0, 20.0, 30.0], "error": [0.3, 0.2, 0.1]})])
    res = pruning(df, by="metric", laws=["power_law", "exp_decay"])
    assert "tiny" not in set(res.groups["group"])
    assert any("'tiny'" in n and "distinct kept sizes" in n for n in res.notes)


@pytest.mark.parametrize(
    ("change", "kwargs", "column", "kind"),
    [
        (lambda d: d.drop(columns="kept"), {}, "kept", "missing-column"),
        (lambda d: d.assign(error=np.where(d.index == 3, 0.0, d["error"])), {}, "error", "bad-value"),
        (lambda d: d.assign(kept=np.where(d.index == 2, np.nan, d["kept"])), {}, "kept", "bad-value"),
        (lambda d: d, {"by": "nope"}, "nope", "missing-column"),
        (lambda d: d.iloc[:4], {}, "kept", "too-few-points"),
    ],
)
def test_bad_input_is_one_clear_error(change, kwargs, column, kind):
    df = change(_curves().query("metric == 'random'").reset_index(drop=True))
    with pytest.raises(DataError) as err:
        pruning(df, laws=FAST, **kwargs)
    assert err.value.column == column and err.value.kind == kind
    assert err.value.hint and err.value.cli_hint


def test_bad_arguments():
    df = _curves()
    with pytest.raises(InvalidParameterError, match="inputs"):
        pruning(df, laws=["chinchilla"])
    with pytest.raises(InvalidParameterError, match="holdout"):
        pruning(df, holdout=0)
    with pytest.raises(InvalidParameterError, match="DataFrame"):
        pruning(42)


def test_reads_a_file_and_never_modifies_it(tmp_path):
    path = tmp_path / "runs.csv"
    _curves().to_csv(path, index=False)
    before = path.read_bytes()
    res = pruning(path, by="metric", laws=FAST)
    assert set(res.groups["group"]) == {"prototypes", "random"}
    assert path.read_bytes() == before


@pytest.mark.slow
def test_report_provider_runs_on_a_pruning_table_and_skips_others():
    from types import SimpleNamespace

    from scalinglab.analyze.pruning import _report_section
    from scalinglab.render import FigureRenderer

    steps = []
    ctx = SimpleNamespace(frame=_curves(), step=steps.append, results={}, render=FigureRenderer())
    sec = _report_section(ctx)
    assert sec is not None and sec.id == "pruning" and steps == ["pruning"]
    assert set(ctx.results["pruning"].groups["group"]) == {"prototypes", "random"}  # grouped by 'metric'
    assert _report_section(SimpleNamespace(frame=pd.DataFrame({"params": [1.0], "loss": [2.0]}))) is None
