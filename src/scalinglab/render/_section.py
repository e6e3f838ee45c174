"""HTML section primitives: a :class:`Section` and the tables, notes and figures it is built from.

Key numbers carry ``data-key`` / ``data-value`` attributes so tests (and people
diffing reports) can find them.  Figures become inline ``<svg>`` through
:class:`FigureRenderer`, which keeps element ids unique across a page.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from scalinglab.render._format import fmt
from scalinglab.render._style import figure_to_svg

__all__ = ["Section", "table_html", "kv_html", "figure_html", "note_html", "FigureRenderer", "escape"]

escape = html.escape
e = html.escape


@dataclass(frozen=True)
class Section:
    """One section of the report.

    ``status`` is ``"ok"``, ``"missing"`` (API not available), ``"skipped"`` (turned off) or
    ``"error"`` (the data could not support it); ``figures`` are the ids of its figures.
    """

    id: str
    title: str
    body: str
    status: str = "ok"
    note: str = ""
    figures: tuple[str, ...] = ()
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status,
            "note": self.note,
            "figures": list(self.figures),
        }


def table_html(
    frame: pd.DataFrame,
    *,
    keys: Mapping[tuple[int, str], str] | None = None,
    caption: str | None = None,
    cls: str = "data",
    max_rows: int | None = None,
    formats: Mapping[str, Any] | None = None,
) -> str:
    """A DataFrame as an HTML table; ``keys[(row, column)]`` adds ``data-key`` (and ``data-value``) to a cell.

    Cells go through :func:`~scalinglab.render.fmt` unless ``formats[column]`` gives a formatter.

    Examples
    --------
    >>> import pandas as pd
    >>> html = table_html(pd.DataFrame({"law": ["chinchilla"], "ARE": [0.01234567]}), keys={(0, "ARE"): "are"})
    >>> '<td class="num" data-key="are" data-value="0.01234567">0.01235</td>' in html
    True
    """
    keys = keys or {}
    formats = formats or {}
    shown = frame if max_rows is None else frame.head(max_rows)
    head = "".join(f"<th>{e(str(c))}</th>" for c in shown.columns)
    body = []
    for i, (_, row) in enumerate(shown.iterrows()):
        cells = []
        for c in shown.columns:
            v = row[c]
            text = formats[c](v) if c in formats else fmt(v)
            num = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
            attrs = ' class="num"' if num else ""
            k = keys.get((i, c))
            if k:
                attrs += f' data-key="{e(k)}"' + (f' data-value="{float(v)!r}"' if num else "")
            cells.append(f"<td{attrs}>{e(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    more = ""
    if max_rows is not None and len(frame) > max_rows:
        more = f"<p class='muted'>… and {len(frame) - max_rows} more rows not shown.</p>"
    cap = f"<caption>{e(caption)}</caption>" if caption else ""
    return (
        f"<div class='table-wrap'><table class='{cls}'>{cap}<thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table></div>{more}"
    )


def kv_html(pairs: Iterable[tuple[str, Any]], cls: str = "kv") -> str:
    """Key-value pairs as a two-column table (numbers through :func:`~scalinglab.render.fmt`).

    Examples
    --------
    >>> kv_html([("runs", 12), ("law", "chinchilla")])
    "<table class='kv'><tbody><tr><th>runs</th><td>12</td></tr><tr><th>law</th><td>chinchilla</td></tr></tbody></table>"
    """
    rows = "".join(
        f"<tr><th>{e(str(k))}</th><td>{e(fmt(v) if not isinstance(v, str) else v)}</td></tr>" for k, v in pairs
    )
    return f"<table class='{cls}'><tbody>{rows}</tbody></table>"


def figure_html(svg: str, fig_id: str, caption: str) -> str:
    """An inline SVG in a ``<figure class="sl-figure">`` with its id and caption (see :class:`FigureRenderer`)."""
    return (
        f"<figure class='sl-figure' id='{e(fig_id)}' data-figure='{e(fig_id)}'>{svg}"
        f"<figcaption>{e(caption)}</figcaption></figure>"
    )


def note_html(text: str, kind: str = "note") -> str:
    """A call-out paragraph; ``kind`` is ``"note"``, ``"warning"`` or ``"missing"`` (its style).

    Examples
    --------
    >>> note_html("Left out: no target.", "missing")
    "<p class='callout missing' data-note='missing'>Left out: no target.</p>"
    """
    return f"<p class='callout {e(kind)}' data-note='{e(kind)}'>{e(text)}</p>"


class FigureRenderer:
    """Renders figures to inline ``<figure>`` HTML with page-unique SVG ids (``f1-``, ``f2-``, ...).

    One renderer per page: sections and analyses call it with a figure, an id and a caption.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> render = FigureRenderer()
    >>> fig = Figure(figsize=(2, 1)); _ = fig.subplots().plot([1, 2], [3, 4])
    >>> html = render(fig, "fig-line", "A line.")
    >>> html.startswith("<figure class='sl-figure' id='fig-line'"), render.count
    (True, 1)
    """

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, fig, fig_id: str, caption: str) -> str:
        self.count += 1
        svg = figure_to_svg(fig, prefix=f"f{self.count}")
        return figure_html(svg, fig_id, caption)
