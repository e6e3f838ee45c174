"""Section "Reproduce": the exact command, package versions and the data fingerprint (always last)."""

from __future__ import annotations

import datetime as _dt
import platform
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scalinglab._version import __version__
from scalinglab.render import Section, escape, kv_html, register_section

__all__ = ["section_reproduce", "report_meta"]


def section_reproduce(meta: Mapping[str, Any]) -> Section:
    """The exact command, package versions and data fingerprint."""
    body = f"<pre class='cmd' data-key='command'>{escape(meta['command'])}</pre>" + kv_html(
        [
            ("scalinglab", meta["version"]),
            ("python", meta["python"]),
            ("numpy / scipy / pandas / matplotlib", meta["libs"]),
            ("data fingerprint", meta["fingerprint"]),
            ("built", meta["built"]),
            ("build time", f"{meta['seconds']:.1f} s"),
        ]
    )
    return Section("reproduce", "Reproduce", body)


def report_meta(ctx) -> dict[str, Any]:
    """Command, versions, data fingerprint, build time so far and date (``Report.meta``)."""
    return {
        "command": ctx.command
        or python_command(ctx.options.get("data"), ctx.laws, ctx.target_spec, ctx.interval, ctx.method),
        "version": __version__,
        "python": platform.python_version(),
        "libs": _libs(),
        "fingerprint": ctx.runs.fingerprint(),
        "seconds": time.perf_counter() - ctx.started,
        "built": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def python_command(data: Any, laws: Sequence, target: Any, interval: float, method: str) -> str:
    """The ``build_report(...)`` call, for reports built from Python rather than the CLI."""
    src = str(data) if isinstance(data, (str, Path)) else f"<{type(data).__name__}>"
    names = [getattr(lw, "name", lw) for lw in laws]
    return (
        f"python: scalinglab.report.build_report({src!r}, {names!r}, target={target!r}, "
        f"interval={interval}, method={method!r})"
    )


def _libs() -> str:
    import matplotlib
    import scipy

    return f"{np.__version__} / {scipy.__version__} / {pd.__version__} / {matplotlib.__version__}"


@register_section("reproduce", title="Reproduce", order=1000)
def _provide(ctx) -> Section:
    ctx.step("writing HTML")
    meta = report_meta(ctx)
    ctx.results["meta"] = meta
    return section_reproduce(meta)
