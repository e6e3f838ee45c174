"""The result every analysis returns: text, plain JSON, a figure and a report section."""

from __future__ import annotations

from typing import Any, ClassVar

from scalinglab.render import FigureRenderer, Section, escape

__all__ = ["AnalysisResult"]


class AnalysisResult:
    """Base class of analysis results (see :mod:`scalinglab.analyze` for the contract).

    Subclasses set ``name`` (section and figure ids) and ``title``, and implement
    :meth:`summary`, :meth:`to_dict` and :meth:`figure`; :meth:`section` has a
    default (the summary as text, then the figure) that most results override with
    tables.  ``str(result)`` is the summary; notebooks show :meth:`section`'s HTML.
    """

    name: ClassVar[str] = "analysis"
    title: ClassVar[str] = "Analysis"

    def summary(self) -> str:
        """Readable text (what ``print(result)`` shows)."""
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON (``json.loads(json.dumps(result.to_dict()))`` gives it back unchanged)."""
        raise NotImplementedError

    def figure(self):
        """A matplotlib Figure (drawn with :mod:`scalinglab.render`)."""
        raise NotImplementedError

    def section(self, render: FigureRenderer | None = None) -> Section:
        """A :class:`~scalinglab.render.Section` for the report: the summary, then the figure."""
        render = render or FigureRenderer()
        fid = f"fig-{self.name}"
        body = f"<pre>{escape(self.summary())}</pre>" + render(self.figure(), fid, self.title)
        return Section(self.name, self.title, body, figures=(fid,))

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return self.section().body
