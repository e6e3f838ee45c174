"""Readable summaries of planning results (text for the console, dict for JSON, HTML for reports)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from scalinglab._io import format_number, to_jsonable

__all__ = ["PlanSummary", "fmt"]


def fmt(v: Any) -> str:
    """Compact number formatting: 4 significant digits, scientific for large or tiny values.

    >>> fmt(1.824e9), fmt(0.4516), fmt(float("inf"))
    ('1.8240e+09', '0.4516', 'inf')
    """
    return format_number(v, show_infinity=True)


#: Plain-JSON form (NaN and inf become None); the package's one JSON cleaner.
jsonable = to_jsonable


@dataclass(frozen=True)
class PlanSummary:
    """A titled key/value header, one table and a list of warnings."""

    title: str
    header: Sequence[tuple[str, str]]
    columns: Sequence[str]
    rows: Sequence[Sequence[Any]]
    warnings: Sequence[str] = ()

    def as_text(self) -> str:
        lines = [self.title, "=" * len(self.title)]
        if self.header:
            width = max(len(k) for k, _ in self.header)
            lines += [f"{k.ljust(width)}  {v}" for k, v in self.header]
        if self.rows:
            cells = [[fmt(v) for v in row] for row in self.rows]
            widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(self.columns)]
            lines.append("")
            lines.append("  ".join(c.rjust(w) for c, w in zip(self.columns, widths)))
            lines.append("  ".join("-" * w for w in widths))
            lines += ["  ".join(v.rjust(w) for v, w in zip(r, widths)) for r in cells]
        if self.warnings:
            lines.append("")
            lines.append("Warnings:")
            lines += [f"  ! {w}" for w in self.warnings]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.as_text()

    __repr__ = __str__

    def as_dict(self) -> dict[str, Any]:
        return jsonable(
            {
                "title": self.title,
                "header": dict(self.header),
                "table": [dict(zip(self.columns, r)) for r in self.rows],
                "warnings": list(self.warnings),
            }
        )

    def as_html(self) -> str:
        e = html.escape
        head = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in self.header)
        th = "".join(f"<th>{e(c)}</th>" for c in self.columns)
        body = "".join("<tr>" + "".join(f"<td>{e(fmt(v))}</td>" for v in r) + "</tr>" for r in self.rows)
        warn = "".join(f"<li>{e(w)}</li>" for w in self.warnings)
        return (
            f"<div class='plan-summary'><h3>{e(self.title)}</h3><table class='kv'>{head}</table>"
            f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"
            + (f"<ul class='warnings'>{warn}</ul>" if warn else "")
            + "</div>"
        )

    def _repr_html_(self) -> str:
        return self.as_html()
