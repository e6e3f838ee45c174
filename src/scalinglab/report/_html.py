"""Self-contained HTML: inline CSS, inline SVG figures, one tiny inline script; no network, no fonts.

Every figure is a ``<figure class="sl-figure">`` holding an inline ``<svg>`` (text
drawn as paths, ids namespaced per figure).  Key numbers carry ``data-key`` /
``data-value`` attributes so tests (and people diffing reports) can find them.
The inline script only records, on load, each figure's rendered size, the page
size and any script error or ``console.error`` into the hidden
``<pre id="sl-checks">``; the page reads the same with JavaScript off.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = ["Section", "fmt", "table_html", "kv_html", "figure_html", "note_html", "render_page"]

e = html.escape


def fmt(v: Any, digits: int = 4) -> str:
    """Numbers for people: 4 significant digits, scientific notation for very large/small values.

    Examples
    --------
    >>> fmt(0.347312), fmt(1.4e12), fmt(120), fmt(float("nan"))
    ('0.3473', '1.4e+12', '120', '–')
    """
    if v is None:
        return "–"
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}" if abs(int(v)) < 10 ** 7 else f"{float(v):.{digits}g}"
    if isinstance(v, (float, np.floating)):
        x = float(v)
        if not math.isfinite(x):
            return "–"
        a = abs(x)
        if a != 0 and (a >= 1e6 or a < 1e-3):
            return f"{x:.{digits}g}"
        return f"{x:.{digits}g}"
    return str(v)


@dataclass(frozen=True)
class Section:
    """One section of the report: ``status`` is ``"ok"``, ``"missing"`` (API not available), ``"skipped"`` or ``"error"``."""

    id: str
    title: str
    body: str
    status: str = "ok"
    note: str = ""
    figures: tuple[str, ...] = ()
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "status": self.status, "note": self.note,
                "figures": list(self.figures)}


def table_html(frame: pd.DataFrame, *, keys: Mapping[tuple[int, str], str] | None = None,
               caption: str | None = None, cls: str = "data", max_rows: int | None = None,
               formats: Mapping[str, Any] | None = None) -> str:
    """A DataFrame as an HTML table; ``keys[(row, column)]`` adds ``data-key`` (and ``data-value``) to a cell."""
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
    return (f"<div class='table-wrap'><table class='{cls}'>{cap}<thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table></div>{more}")


def kv_html(pairs: Iterable[tuple[str, Any]], cls: str = "kv") -> str:
    rows = "".join(f"<tr><th>{e(str(k))}</th><td>{e(fmt(v) if not isinstance(v, str) else v)}</td></tr>"
                   for k, v in pairs)
    return f"<table class='{cls}'><tbody>{rows}</tbody></table>"


def figure_html(svg: str, fig_id: str, caption: str) -> str:
    return (f"<figure class='sl-figure' id='{e(fig_id)}' data-figure='{e(fig_id)}'>{svg}"
            f"<figcaption>{e(caption)}</figcaption></figure>")


def note_html(text: str, kind: str = "note") -> str:
    return f"<p class='callout {e(kind)}' data-note='{e(kind)}'>{e(text)}</p>"


CSS = """
:root{--fg:#1d2430;--muted:#5b6575;--line:#d9dee6;--bg:#ffffff;--soft:#f5f7fa;--accent:#b22222;--warn:#8a5a00}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,
 "Helvetica Neue",Arial,sans-serif}
main{max-width:1060px;margin:0 auto;padding:24px 28px 60px}
header.top{border-bottom:2px solid var(--fg);margin-bottom:18px;padding-bottom:10px}
h1{font-size:26px;margin:0 0 4px} h2{font-size:20px;margin:34px 0 10px;border-bottom:1px solid var(--line);
 padding-bottom:4px} h3{font-size:16px;margin:20px 0 8px}
.muted{color:var(--muted)} code,pre{font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre.cmd{background:var(--soft);border:1px solid var(--line);padding:8px 10px;white-space:pre-wrap;
 word-break:break-all;border-radius:4px}
nav.toc ol{columns:2;margin:6px 0 0;padding-left:20px}
.table-wrap{overflow-x:auto;margin:8px 0}
table{border-collapse:collapse;font-size:13.5px}
table.data th,table.data td{border-bottom:1px solid var(--line);padding:3px 10px;text-align:left;
 white-space:nowrap} table.data thead th{border-bottom:2px solid var(--fg)}
table.data td.num{text-align:right;font-variant-numeric:tabular-nums}
table.data caption{caption-side:top;text-align:left;color:var(--muted);font-size:13px;padding-bottom:4px}
table.kv th{text-align:left;padding:2px 14px 2px 0;color:var(--muted);font-weight:600;vertical-align:top;
 white-space:nowrap} table.kv td{padding:2px 0}
figure.sl-figure{margin:16px 0 22px;padding:0}
figure.sl-figure svg{display:block;width:100%;max-width:980px;height:auto}
figcaption{color:var(--muted);font-size:13.5px;margin-top:4px;max-width:900px}
.callout{border-left:4px solid var(--line);background:var(--soft);padding:8px 12px;margin:10px 0}
.callout.missing{border-color:var(--warn);background:#fff8e6}
.callout.warning{border-color:var(--accent);background:#fdf0f0}
ul.diag{margin:4px 0 8px;padding-left:28px}
.grid2{display:grid;grid-template-columns:1fr 1fr;gap:18px} @media (max-width:820px){.grid2{grid-template-columns:1fr}}
footer{margin-top:40px;border-top:1px solid var(--line);padding-top:10px;color:var(--muted);font-size:13px}
#sl-checks{display:none}
"""

CHECK_SCRIPT = """
(function () {
  var errors = [];
  window.addEventListener('error', function (ev) { errors.push(String(ev.message || ev)); });
  var consoleError = console.error;
  console.error = function () {
    errors.push('console.error: ' + Array.prototype.join.call(arguments, ' '));
    return consoleError.apply(console, arguments);
  };
  window.addEventListener('load', function () {
    var figs = Array.prototype.slice.call(document.querySelectorAll('figure.sl-figure'));
    var out = figs.map(function (f) {
      var s = f.querySelector('svg'); var r = (s || f).getBoundingClientRect();
      return {id: f.id, width: Math.round(r.width), height: Math.round(r.height), svg: !!s};
    });
    var el = document.getElementById('sl-checks');
    var page = {width: document.documentElement.scrollWidth, height: document.documentElement.scrollHeight};
    if (el) { el.textContent = JSON.stringify({ready: true, figures: out, errors: errors, page: page}); }
  });
})();
"""


def render_page(*, title: str, subtitle: str, sections: Sequence[Section], footer: str) -> str:
    """The whole document: header, table of contents, sections, footer."""
    toc = "".join(f"<li><a href='#{e(s.id)}'>{e(s.title)}</a>"
                  + (" <span class='muted'>(left out)</span>" if s.status != "ok" else "") + "</li>"
                  for s in sections)
    body = "".join(
        f"<section id='{e(s.id)}' data-status='{e(s.status)}'><h2>{e(s.title)}</h2>"
        + (note_html(s.note, "warning" if s.status == "error" else "missing") if s.note else "")
        + s.body + "</section>" for s in sections)
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; style-src 'unsafe-inline'; "
        "script-src 'unsafe-inline'; img-src data:\">"
        f"<title>{e(title)}</title><style>{CSS}</style><script>{CHECK_SCRIPT}</script></head><body><main>"
        f"<header class='top'><h1>{e(title)}</h1><div class='muted'>{e(subtitle)}</div></header>"
        f"<nav class='toc'><strong>Contents</strong><ol>{toc}</ol></nav>{body}"
        f"<footer>{footer}</footer><pre id='sl-checks'></pre></main></body></html>\n")
