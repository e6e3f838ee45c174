"""The report page: one self-contained HTML document (inline CSS, inline SVG figures, one tiny inline script).

No network, no fonts.  Sections are built from :mod:`scalinglab.render` primitives
(:class:`~scalinglab.render.Section`, tables, notes, figures).  The inline script
only records, on load, each figure's rendered size, the page size and any script
error or ``console.error`` into the hidden ``<pre id="sl-checks">``; the page reads
the same with JavaScript off.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from scalinglab.render import Section, note_html

__all__ = ["render_page", "CSS", "CHECK_SCRIPT"]

e = html.escape


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
    toc = "".join(
        f"<li><a href='#{e(s.id)}'>{e(s.title)}</a>"
        + (" <span class='muted'>(left out)</span>" if s.status != "ok" else "")
        + "</li>"
        for s in sections
    )
    body = "".join(
        f"<section id='{e(s.id)}' data-status='{e(s.status)}'><h2>{e(s.title)}</h2>"
        + (note_html(s.note, "warning" if s.status == "error" else "missing") if s.note else "")
        + s.body
        + "</section>"
        for s in sections
    )
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; style-src 'unsafe-inline'; "
        "script-src 'unsafe-inline'; img-src data:\">"
        f"<title>{e(title)}</title><style>{CSS}</style><script>{CHECK_SCRIPT}</script></head><body><main>"
        f"<header class='top'><h1>{e(title)}</h1><div class='muted'>{e(subtitle)}</div></header>"
        f"<nav class='toc'><strong>Contents</strong><ol>{toc}</ol></nav>{body}"
        f"<footer>{footer}</footer><pre id='sl-checks'></pre></main></body></html>\n"
    )
