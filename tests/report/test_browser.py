"""The report as a person sees it: opened in headless Chromium (Debian's ``chromium``).

Checks that the page loads with no console or script errors, that every figure
rendered at a non-zero size, and that the numbers shown match the fits; saves
screenshots.  Skips only when Chromium is absent outside CI (``CI=true`` fails).
"""

from __future__ import annotations

import os
import struct

import numpy as np
import pytest

from scalinglab.render import fmt
from scalinglab.report._browser import check_page, find_chromium, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def chromium():
    exe = find_chromium()
    if exe is None:
        msg = (
            "headless Chromium not found (install Debian's 'chromium' package: apt-get install -y chromium, "
            "or set $CHROMIUM)"
        )
        if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
            pytest.fail(msg + "; CI must run the browser test")
        pytest.skip(msg)
    return exe


@pytest.fixture(scope="module")
def page(built_report, chromium):
    _, path = built_report
    return check_page(path, chromium=chromium)


def test_page_loads_without_errors(page):
    assert page.checks.get("ready") is True, f"the page's load handler did not run: {page.stderr[-800:]}"
    assert page.checks["errors"] == []
    assert page.console_errors == []
    assert page.console == []  # the report logs nothing at all


def test_broken_page_is_caught(chromium, tmp_path):
    """Negative control: the same checks see a script error and a console.error."""
    from scalinglab.report._html import CHECK_SCRIPT

    bad = tmp_path / "broken.html"
    bad.write_text(
        f"<!DOCTYPE html><html><head><script>{CHECK_SCRIPT}</script></head><body>"
        "<script>console.error('boom'); not_defined();</script><pre id='sl-checks'></pre></body></html>"
    )
    page = check_page(bad, chromium=chromium)
    assert page.checks["ready"] is True
    assert any("boom" in e for e in page.checks["errors"])
    assert any("not_defined" in e for e in page.console_errors)
    assert len(page.console) >= 2


def test_every_figure_rendered_with_nonzero_size(page, built_report):
    report, _ = built_report
    figs = page.checks["figures"]
    expected = [f for s in report.sections for f in s.figures]
    assert [f["id"] for f in figs] == expected and len(figs) >= 8
    for f in figs:
        assert f["svg"] and f["width"] > 200 and f["height"] > 150, f
        assert f["width"] <= page.checks["page"]["width"]  # nothing spills off the page sideways


def test_numbers_in_the_page_match_the_fit(page, built_report):
    report, _ = built_report
    shown, raw = page.values(), page.raw_values()
    for f in report.fits:
        for p, v in f.params.items():
            key = f"param:{f.law.name}:{p}"
            assert raw[key] == v
            assert shown[key] == fmt(v)
        assert raw[f"rmse_log:{f.law.name}"] == f.rmse_log
        assert shown[f"n_points:{f.law.name}"] == fmt(f.n_points)
    tgt = report.target
    est = float(report.fits[0].predict(params=tgt.point["params"], tokens=tgt.point["tokens"], warn=False))
    assert shown["pred:chinchilla:estimate"] == fmt(est)
    assert shown["actual"] == fmt(tgt.actual)
    assert shown["command"].startswith("scalinglab report")


def _png_size(path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def test_screenshots(page, built_report, chromium, tmp_path):
    """One full-page screenshot; the top of the page and a half-size overview are cut from it."""
    from PIL import Image

    _, path = built_report
    out = os.environ.get("SCALINGLAB_SCREENSHOTS")
    folder = tmp_path if not out else __import__("pathlib").Path(out)
    full_h = min(int(page.checks["page"]["height"]) + 40, 16000)
    full = screenshot(path, folder / "report_page.png", chromium=chromium, width=1280, height=full_h)
    assert _png_size(full) == (1280, full_h)
    with Image.open(full) as im:
        top = im.crop((0, 0, 1280, 1400))
        top.save(folder / "report_top.png")
        im.resize((640, full_h // 2)).save(folder / "report_full.png")
        # not a blank page: many distinct colours (text, tables, figures), and the figures are not empty
        assert len(top.convert("RGB").getcolors(maxcolors=1 << 20) or []) > 50
        fig_rows = np.asarray(im.convert("L"))[1400:].min(axis=1)
        assert (fig_rows < 128).mean() > 0.3  # dark pixels (lines, text) on a good share of the rows
