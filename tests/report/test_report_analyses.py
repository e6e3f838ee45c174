"""build_report(analyses=...) and `scalinglab report --analysis`: analysis sections switched on by name with options."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from scalinglab.cli import build_app
from scalinglab.errors import InvalidParameterError
from scalinglab.report import build_report

from .conftest import make_ladder


def _with_accuracy():
    df = make_ladder(sizes=(2e6, 5e6, 1.2e7, 3e7, 8e7, 2e8))
    rng = np.random.default_rng(3)
    df["acc"] = 0.25 + 0.6 / (1 + np.exp(-2.0 * (np.log10(df["params"]) - 7.3))) + rng.normal(0, 0.005, len(df))
    return df


FAST = {"method": "delta", "backtest": False, "plan": False, "progress": False}


def test_trends_section_appears_only_when_asked():
    df = _with_accuracy()
    plain = build_report(df, "chinchilla", **FAST)
    assert "trends" not in [s.id for s in plain.sections]
    r = build_report(
        df, "chinchilla", analyses={"trends": {"metric": "acc", "n_boot": 49, "replicates": "seed"}}, **FAST
    )
    sec = {s.id: s for s in r.sections}
    assert "trends" in sec and sec["trends"].status == "ok", [(s.id, s.status, s.note) for s in r.sections]
    assert r.results["trends"].table()["label"].tolist() == ["positive"]
    assert "Downstream trends" in r.html


def test_unknown_or_reserved_analysis_is_one_clear_error():
    df = _with_accuracy()
    with pytest.raises(InvalidParameterError, match="no report section named 'trend'") as e:
        build_report(df, "chinchilla", analyses={"trend": {}}, **FAST)
    assert "trends" in e.value.hint
    with pytest.raises(InvalidParameterError, match="report's own options"):
        build_report(df, "chinchilla", analyses={"plan": {}}, **FAST)
    with pytest.raises(InvalidParameterError, match="mapping or True"):
        build_report(df, "chinchilla", analyses={"trends": "acc"}, **FAST)


def test_cli_analysis_flags(tmp_path):
    path = tmp_path / "runs.csv"
    _with_accuracy().to_csv(path, index=False)
    out = tmp_path / "r.html"
    args = ["report", str(path), "-o", str(out), "--method", "delta", "--no-backtest", "--no-plan", "--json"]
    res = CliRunner().invoke(
        build_app(),
        args
        + [
            "--analysis",
            "trends",
            "--analysis-option",
            "trends.metric=acc",
            "--analysis-option",
            "trends.n_boot=49",
            "--analysis-option",
            "trends.replicates=seed",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "trends" in [s["id"] for s in json.loads(res.output)["sections"]]
    bad = CliRunner().invoke(build_app(), args + ["--analysis-option", "trends-metric"])
    assert bad.exit_code != 0 and "NAME.KEY=VALUE" in bad.output and "Traceback" not in bad.output
