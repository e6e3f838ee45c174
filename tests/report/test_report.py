"""The HTML report: self-contained, complete, numbers that match the fits; sections left out are said so; CLI."""

from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pytest
from typer.testing import CliRunner

from scalinglab.render import fmt


def test_report_is_self_contained(built_report):
    report, path = built_report
    text = path.read_text()
    assert text == report.html
    # nothing is fetched: no external src/href, stylesheet links, imports or fonts; a CSP forbids fetches
    assert not re.search(r'\b(?:src|href)\s*=\s*["\']?(?:https?:)?//', text)
    assert "<link" not in text and "@import" not in text and "@font-face" not in text
    assert not re.search(r"url\(\s*['\"]?(?:https?:)?//", text)
    assert "default-src 'none'" in text
    scripts = re.findall(r"<script([^>]*)>", text)
    assert scripts == [""], "only the inline check script is allowed"
    # figures are inline SVG, one per <figure>
    n_fig = text.count("<figure class='sl-figure'")
    assert n_fig == report.to_dict()["figures"] >= 8
    assert text.count("<svg") == n_fig
    assert "<img" not in text


def test_report_sections_and_numbers(built_report):
    report, _ = built_report
    text = report.html
    ids = [s.id for s in report.sections]
    assert ids[:3] == ["data", "fits", "predictions"]
    assert {"figures-chinchilla", "figures-kaplan", "compare", "reproduce"} <= set(ids)
    # key numbers match the fits exactly (data-value) and as displayed
    for f in report.fits:
        for p, v in f.params.items():
            m = re.search(rf'data-key="param:{f.law.name}:{p}" data-value="([^"]+)">([^<]+)<', text)
            assert m, f"{f.law.name}.{p} missing"
            assert float(m.group(1)) == v
            assert m.group(2) == fmt(v)
    # the prediction at the target is the fit's prediction
    tgt = report.target
    f = report.fits[0]
    est = float(f.predict(params=tgt.point["params"], tokens=tgt.point["tokens"], warn=False))
    m = re.search(r'data-key="pred:chinchilla:estimate" data-value="([^"]+)"', text)
    assert float(m.group(1)) == pytest.approx(est, rel=1e-12)
    m = re.search(r'data-key="actual" data-value="([^"]+)"', text)
    assert float(m.group(1)) == pytest.approx(tgt.actual)
    # the exact command and the package version are in the page
    from scalinglab import __version__

    assert "scalinglab report ladder.csv --law chinchilla --law kaplan --target largest" in text
    assert f"scalinglab {__version__}" in text
    # the data section records the selection applied
    assert "held out as the extrapolation target" in text


def test_report_backtest_and_plan_sections(built_report):
    report, _ = built_report
    by_id = {s.id: s for s in report.sections}
    pytest.importorskip("scalinglab.evaluate")
    pytest.importorskip("scalinglab.plan")
    bt = by_id["backtest"]
    assert bt.status == "ok" and "fig-backtest-fraction" in bt.figures
    lb = report.backtests[0].leaderboard()
    for law, row in lb.iterrows():
        assert f'data-key="backtest-are:{law}" data-value="{float(row["are"])!r}"' in report.html
    plan = by_id["plan"]
    assert plan.status == "ok" and plan.figures == ("fig-frontier",)
    np.testing.assert_allclose(
        [float(v) for v in re.findall(r'data-key="plan-params:\d+" data-value="([^"]+)"', report.html)],
        report.allocation.table["params"],
    )


def test_missing_api_is_left_out_with_a_visible_note(ladder, monkeypatch, capsys):
    from scalinglab.report import _build, build_report

    real = _build._have
    monkeypatch.setattr(
        _build, "_have", lambda m: False if m in ("scalinglab.evaluate", "scalinglab.plan") else real(m)
    )
    import pandas as pd

    import scalinglab as sl

    two = pd.concat(
        [
            ladder.frame.assign(family="A"),
            ladder.frame.assign(family="B", run=lambda d: "b-" + d["run"], loss=lambda d: d["loss"] * 1.1),
        ]
    )
    report = build_report(two, "chinchilla", progress=True, method="delta")
    err = capsys.readouterr().err  # progress on stderr: every step done, the sections left out count as steps
    assert "writing HTML" in err and "9/9" in err
    # two families: the law is also fitted to each family on its own, and the numbers are those fits'
    fam = {s.id: s for s in report.sections}["families"]
    assert fam.status == "ok" and fam.figures == ("fig-families",)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fb = sl.fit(two[two["family"] == "B"], "chinchilla")
    m = re.search(r'data-key="family-param:B:alpha" data-value="([^"]+)"', report.html)
    assert float(m.group(1)) == pytest.approx(fb.params["alpha"], rel=1e-6)
    by_id = {s.id: s for s in report.sections}
    for sid, module in (("backtest", "scalinglab.evaluate"), ("plan", "scalinglab.plan")):
        assert by_id[sid].status == "missing"
        assert module in by_id[sid].note
        assert f"<section id='{sid}' data-status='missing'>" in report.html
        assert module in report.html
    assert set(report.left_out) >= {"Backtest", "Compute-optimal planning"}
    # no target: predictions are left out with the reason, nothing invented
    assert by_id["predictions"].status == "missing" and "--target" in report.html


@pytest.mark.slow
def test_cli_report_and_plot(ladder, tmp_path):
    from scalinglab.cli import build_app

    csv = tmp_path / "runs.csv"
    ladder.frame.to_csv(csv, index=False)
    app = build_app()
    runner = CliRunner()
    out = tmp_path / "r.html"
    res = runner.invoke(
        app,
        [
            "report",
            str(csv),
            "--law",
            "chinchilla",
            "--target",
            "largest",
            "-o",
            str(out),
            "--no-backtest",
            "--no-plan",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    payload = json.loads(res.output)  # --json: no progress bar mixed into the output
    assert payload["output"] == str(out) and out.exists()
    assert payload["laws"] == ["chinchilla"] and set(payload["left_out"]) == {"Backtest", "Compute-optimal planning"}
    html = out.read_text()
    assert "report" in html and "--target largest" in html  # the exact command is recorded
    # method "auto" with >= 5 fitted runs: run-bootstrap intervals everywhere, and the page says so
    assert "Parameters with 90% intervals: run bootstrap" in html and "prediction band (bootstrap)" in html
    assert "<td>bootstrap</td>" in html  # the prediction table's interval method
    for kind, suffix in (("loss", "svg"), ("parity", "pdf")):
        fig = tmp_path / f"{kind}.{suffix}"
        res = runner.invoke(
            app, ["plot", kind, str(csv), "--law", "chinchilla", "-t", "largest", "-o", str(fig), "--json"]
        )
        assert res.exit_code == 0, res.output
        assert json.loads(res.output)["bytes"] == fig.stat().st_size > 1000
    res = runner.invoke(app, ["plot", "histogram", str(csv), "-o", str(tmp_path / "x.svg")])
    assert res.exit_code == 3 and "'kind' must be one of" in res.output
    res = runner.invoke(app, ["report", str(csv), "--target", "nope", "-o", str(tmp_path / "y.html"), "--no-progress"])
    assert res.exit_code == 3 and "neither 'largest' nor a run id" in res.output


def test_target_label_is_not_repeated(built_report):
    """The predictions table says "target" once: "target | largest size ...", not "target: target: ..."."""
    _, path = built_report
    html = path.read_text()
    assert "<th>target</th><td>target: " not in html
    assert "<th>target</th><td>largest size" in html
