"""Shared figure styling: one rc context per figure, axis labels with units, log/linear choice, saving.

Nothing here touches the global ``matplotlib.rcParams``: every figure is built inside
:func:`figure_context` (a ``matplotlib.rc_context``) on a plain ``Figure`` (no pyplot state).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from scalinglab._io import write_atomic
from scalinglab.errors import InvalidParameterError

__all__ = [
    "STYLE",
    "figure_context",
    "new_figure",
    "label_for",
    "set_scale",
    "run_colors",
    "save_figure",
    "figure_to_svg",
    "FORMATS",
]

#: rc settings applied per figure (never globally).
STYLE: dict[str, object] = {
    "font.size": 9.5,
    "axes.titlesize": 10.5,
    "axes.labelsize": 9.5,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "xtick.labelsize": 8.5,
    "ytick.labelsize": 8.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.which": "major",
    "grid.alpha": 0.25,
    "grid.linewidth": 0.6,
    "lines.linewidth": 1.4,
    "lines.markersize": 4,
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "svg.fonttype": "path",  # text as paths: the SVG renders identically with no fonts installed
    "svg.hashsalt": "scalinglab",  # deterministic element ids
    "pdf.fonttype": 42,
}

FORMATS = ("png", "svg", "pdf")

#: Axis labels with units for the canonical columns.
LABELS: dict[str, str] = {
    "params": "Parameters N",
    "params_total": "Parameters N (incl. embeddings)",
    "tokens": "Training tokens D",
    "flops": "Training compute C (FLOPs)",
    "loss": "Loss (nats/token)",
    "step": "Optimizer step",
}
SYMBOLS = {"params": "N", "tokens": "D", "flops": "C"}


@contextmanager
def figure_context() -> Iterator[None]:
    """``matplotlib.rc_context`` with :data:`STYLE`.

    Figures are plain :class:`matplotlib.figure.Figure` objects (no pyplot, so no
    global figure registry and no GUI backend): they are freed when dropped.
    """
    import matplotlib

    with matplotlib.rc_context(STYLE):
        yield


def new_figure(
    ncols: int = 1, nrows: int = 1, *, width: float | None = None, height: float = 3.6, sharey: bool = False
):
    """A figure with constrained layout (no overlapping labels) and its axes array."""
    from matplotlib.figure import Figure

    width = width or (5.8 if ncols == 1 else 3.4 * ncols)
    fig = Figure(figsize=(width, height * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, sharey=sharey)
    return fig, axes


def label_for(column: str, unit: str | None = None) -> str:
    """Axis label with units for a runs-table column (``"tokens"`` -> ``"Training tokens D"``)."""
    if unit:
        return f"{column} ({unit})"
    return LABELS.get(column, column.replace("_", " "))


def set_scale(ax, axis: str, values: Sequence[float], *, force_log: bool | None = None) -> str:
    """Log scale when the positive ``values`` span more than one decade, else linear; returns the scale.

    Log axes get 1-2-5 labels up to 1.5 decades, decades only beyond (no crowding).

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = Figure().subplots()
    >>> set_scale(ax, "x", [1e6, 3e8]), set_scale(ax, "y", [2.1, 3.4])
    ('log', 'linear')
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    pos = v[v > 0]
    use_log = (
        force_log if force_log is not None else (pos.size == v.size and pos.size > 0 and pos.max() / pos.min() > 10.0)
    )
    scale = "log" if use_log else "linear"
    (ax.set_xscale if axis == "x" else ax.set_yscale)(scale)
    if use_log:
        from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

        target = ax.xaxis if axis == "x" else ax.yaxis
        span = float(np.log10(pos.max() / pos.min())) if pos.size else 1.0
        if span > 1.5:
            target.set_major_locator(LogLocator(base=10, numticks=9))
        else:  # few decades: label 1-2-5 (or every) mantissa so the axis has enough readable ticks
            subs = (1.0, 2.0, 5.0) if span > 0.7 else tuple(float(i) for i in range(1, 10))
            target.set_major_locator(LogLocator(base=10, subs=subs, numticks=12))
            target.set_major_formatter(FuncFormatter(_log_tick))
        target.set_minor_formatter(NullFormatter())
    return scale


def _log_tick(v: float, _pos=None) -> str:
    """``2×10⁶``-style label for any mantissa (matplotlib's log formatter drops non-decade labels)."""
    if not np.isfinite(v) or v <= 0:
        return ""
    e = int(np.floor(np.log10(v) + 1e-9))
    m = v / 10**e
    if -2 <= e <= 2:
        return f"{v:g}"
    if abs(m - 1) < 1e-6:
        return f"$10^{{{e}}}$"
    return f"${m:g}{{\\times}}10^{{{e}}}$"


def run_colors(order: Sequence[str], cmap: str = "viridis") -> dict[str, tuple]:
    """One colour per run, in ``order`` (small to large): a perceptual map stays readable for many runs."""
    import matplotlib

    cm = matplotlib.colormaps[cmap]
    n = len(order)
    pts = np.linspace(0.0, 0.9, n) if n > 1 else np.array([0.35])
    return {r: cm(float(p)) for r, p in zip(order, pts)}


def save_figure(fig, path: str | Path, *, fmt: str | None = None) -> Path:
    """Save ``fig`` to PNG, SVG or PDF (chosen by the suffix, or ``fmt``), atomically.

    SVG text is drawn as paths (renders the same without fonts); SVG and PDF carry
    no creation date, so the same figure gives the same bytes.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from matplotlib.figure import Figure
    >>> fig = Figure(); _ = fig.subplots().plot([1, 2], [3, 4])
    >>> out = save_figure(fig, pathlib.Path(tempfile.mkdtemp()) / "line.pdf")
    >>> out.read_bytes()[:4]
    b'%PDF'
    """
    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise InvalidParameterError(
            f"save_figure(): unsupported figure format {fmt!r}; use one of {', '.join(FORMATS)} (e.g. path='loss.svg')"
        )
    buf = io.BytesIO()
    with figure_context():
        fig.savefig(buf, format=fmt, metadata=_metadata(fmt))
    return write_atomic(path, buf.getvalue())


def _metadata(fmt: str) -> dict:
    # Reproducible bytes: no creation dates in SVG/PDF.
    if fmt == "svg":
        return {"Date": None}
    if fmt == "pdf":
        return {"CreationDate": None}
    return {}


_ID = re.compile(r'\bid="([^"]+)"')
_REF = re.compile(r'(\bid="|href="#|url\(#)([^")]+)')


def figure_to_svg(fig, prefix: str) -> str:
    """``fig`` as an inline ``<svg>`` element: ids namespaced by ``prefix``, scalable to its container."""
    buf = io.StringIO()
    with figure_context():
        fig.savefig(buf, format="svg", metadata={"Date": None})
    text = buf.getvalue()
    text = text[text.index("<svg") :]
    ids = set(_ID.findall(text))
    text = _REF.sub(lambda m: m.group(1) + (f"{prefix}-" if m.group(2) in ids else "") + m.group(2), text)
    # responsive: keep the viewBox, let CSS set the width; the aspect ratio follows from the viewBox
    text = re.sub(r'<svg([^>]*?)\swidth="[^"]+"\s+height="[^"]+"', r"<svg\1", text, count=1)
    # natural size: ~130 CSS px per inch, so narrow figures (parity) are not blown up to the page width
    max_px = int(round(fig.get_figwidth() * 130))
    return text.replace("<svg", f'<svg class="figure-svg" role="img" style="max-width:{max_px}px"', 1)
