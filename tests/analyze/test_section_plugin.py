"""An analysis joins the report by registering a section from its own module: build_report is not edited."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from scalinglab.analyze import AnalysisResult
from scalinglab.errors import DataError
from scalinglab.render import Section, kv_html, new_figure, register_section, section_providers, unregister_section
from scalinglab.report import build_report


def small_runs() -> pd.DataFrame:
    """Seven one-checkpoint runs on a power law with a floor (fits in well under a second)."""
    N = np.geomspace(1e6, 1e9, 7)
    return pd.DataFrame({"run": [f"n{i}" for i in range(7)], "params": N, "loss": 2.0 + 50.0 * N**-0.3})


def quick_report(progress: bool):
    """The report of :func:`small_runs` without the slow sections (no target: nothing held out)."""
    return build_report(
        small_runs(), "power_floor", x="params", method="delta", backtest=False, plan=False, progress=progress
    )


# ------------------------------------------------------------------ a toy analysis, as a user module would write it


@dataclass(frozen=True)
class LossSpan(AnalysisResult):
    """The best and worst final loss of a ladder."""

    name = "loss-span"
    title = "Loss span"

    best: float
    worst: float

    def summary(self) -> str:
        return f"loss from {self.worst:.4f} down to {self.best:.4f}"

    def to_dict(self) -> dict:
        return {"best": self.best, "worst": self.worst}

    def figure(self):
        fig, axes = new_figure()
        axes[0, 0].bar(["worst", "best"], [self.worst, self.best])
        return fig

    def section(self, render=None) -> Section:
        body = kv_html([("best loss", self.best), ("worst loss", self.worst)])
        return Section(self.name, self.title, body.replace("<table", "<table data-key='loss-span'", 1))


def loss_span(runs: pd.DataFrame) -> LossSpan:
    return LossSpan(best=float(runs["loss"].min()), worst=float(runs["loss"].max()))


@pytest.fixture
def toy_section():
    @register_section("loss-span", title="Loss span", order=65, weight=2)
    def provide(ctx):
        ctx.step("loss span")
        result = loss_span(ctx.fit_table.frame)
        ctx.results["loss-span"] = result
        return result.section(render=ctx.render)

    yield provide
    unregister_section("loss-span")


def test_registered_analysis_appears_in_the_report(toy_section, capsys):
    names = [p.name for p in section_providers()]
    assert names.index("families") < names.index("loss-span") < names.index("backtest") and names[-1] == "reproduce"
    report = quick_report(progress=True)
    ids = [s.id for s in report.sections]
    assert ids == ["data", "fits", "predictions", "figures-power_floor", "loss-span", "backtest", "plan", "reproduce"]
    section = {s.id: s for s in report.sections}["loss-span"]
    assert section.status == "ok"
    assert "<section id='loss-span' data-status='ok'><h2>Loss span</h2>" in report.html
    assert "<a href='#loss-span'>Loss span</a>" in report.html  # listed in the contents
    # the numbers are the analysis' own, computed on the rows the fits saw
    m = re.search(r"data-key='loss-span'.*?<th>best loss</th><td>([^<]+)</td>", report.html)
    assert m and float(m.group(1)) == pytest.approx(small_runs()["loss"].min(), rel=1e-3)
    # its progress weight is in the bar's total: data, fit, predictions, figures, 2 (toy), writing HTML
    assert "7/7" in capsys.readouterr().err


def test_without_the_plugin_the_report_has_no_such_section(capsys):
    report = quick_report(progress=True)
    assert "loss-span" not in [s.id for s in report.sections] and "Loss span" not in report.html
    assert "5/5" in capsys.readouterr().err


def test_a_failing_analysis_is_left_out_with_its_reason():
    @register_section("broken", title="Broken analysis", order=66)
    def provide(ctx):
        raise DataError("needs a 'family' column", column="family", kind="missing-column")

    try:
        report = quick_report(progress=False)
    finally:
        unregister_section("broken")
    broken = {s.id: s for s in report.sections}["broken"]
    assert broken.status == "error" and "needs a 'family' column" in broken.note
    assert "Broken analysis" in report.left_out
    assert "<section id='broken' data-status='error'>" in report.html


def test_a_provider_returning_none_is_left_out_silently():
    register_section("nothing", order=67, weight=0)(lambda ctx: None)
    try:
        report = quick_report(progress=False)
    finally:
        unregister_section("nothing")
    assert "nothing" not in [s.id for s in report.sections]
    assert json.loads(json.dumps(report.to_dict()))["left_out"] == report.left_out
