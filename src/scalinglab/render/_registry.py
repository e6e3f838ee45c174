"""The report's section registry: each section of the report is a provider registered here.

A *section provider* is a function ``provider(ctx) -> Section | list[Section] | None``
registered with a name, a title, an ``order`` (its place on the page) and a progress
``weight`` (how many progress steps it takes; an int or ``weight(ctx) -> int``).
:func:`scalinglab.report.build_report` builds one shared context and calls every
registered provider in order; returning ``None`` leaves the section out without a
trace, a ``Section`` with ``status != "ok"`` leaves it out with a visible note.

The registry lives below the report so that an analysis (:mod:`scalinglab.analyze`)
or a user module can add its section without importing the report or editing it::

    @register_section("my-analysis", title="My analysis", order=65)
    def my_section(ctx):
        return my_analysis(ctx.fit_table).section(render=ctx.render)

The context (:class:`SectionContext`) carries the runs, the fit table, the fits,
the target, the options and the figure renderer.  Built-in orders: data 10, fits
20, predictions 30, figures 40, compare 50, families 60, backtest 70, plan 80,
reproduce 1000 (always last).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, Union

from scalinglab.errors import InvalidParameterError
from scalinglab.render._section import FigureRenderer, Section

__all__ = ["SectionContext", "SectionProvider", "register_section", "unregister_section", "section_providers"]


class SectionContext(Protocol):
    """What a section provider may read (the report's context object has these attributes)."""

    runs: Any  #: RunsTable: every run as read (``runs.frame``, ``runs.source``)
    fit_table: Any  #: RunsTable the fits saw: the target's runs held out, checkpoint rule applied
    target: Any  #: Target or None (``scalinglab.render.Target``)
    target_spec: Any  #: the target as given ("largest", a run id, a mapping or None)
    laws: Sequence[Any]  #: the laws, main one first
    x: Any  #: law inputs, as given to ``fit``
    y: str  #: target column
    interval: float  #: interval level (0.9 = 90%)
    method: str  #: "delta" or "bootstrap" (``"auto"`` already resolved)
    fit_options: Mapping[str, Any]  #: extra arguments for ``fit``
    options: Mapping[str, Any]  #: report options (backtest, backtest_over, plan, flops, checkpoints, ...)
    render: FigureRenderer  #: figures to inline SVG with page-unique ids
    results: dict  #: results a provider leaves for others and for the Report

    @property
    def frame(self) -> Any: ...  # ``runs.frame``

    @property
    def fits(self) -> list: ...  # one Fit per law (fitted once, on first use)

    def step(self, text: str) -> None: ...  # advance the progress bar by one step, with a description

    def have(self, module: str) -> bool: ...  # whether an optional module is available in this build


Weight = Union[int, Callable[[Any], int]]
Provider = Callable[[Any], Union[Section, Sequence[Section], None]]


@dataclass(frozen=True)
class SectionProvider:
    """A registered section: ``func(ctx)`` returns a Section, a list of them, or None (left out)."""

    name: str
    title: str
    order: float
    func: Provider
    weight: Weight = 1

    def steps(self, ctx: Any) -> int:
        """Progress steps this section takes for ``ctx``."""
        w = self.weight(ctx) if callable(self.weight) else self.weight
        return max(int(w), 0)


_PROVIDERS: dict[str, SectionProvider] = {}


def register_section(name: str, *, title: str | None = None, order: float = 500, weight: Weight = 1):
    """Decorator: register ``func(ctx)`` as the report section ``name`` (replacing one of that name).

    Parameters
    ----------
    name : str
        Unique name (also the section's id by convention).
    title : str, optional
        Shown when the section fails (default: ``name``).
    order : float
        Place on the page (lower first); see the module docstring for the built-in ones.
    weight : int or callable
        Progress steps (``weight(ctx)`` may depend on the data and options; 0 = none).

    Examples
    --------
    >>> @register_section("hello", title="Hello", order=65)
    ... def hello(ctx):
    ...     return Section("hello", "Hello", "<p>hi</p>")
    >>> [(p.name, p.order, p.title) for p in section_providers() if p.name == "hello"]
    [('hello', 65.0, 'Hello')]
    >>> unregister_section("hello")
    """
    if not isinstance(name, str) or not name:
        raise InvalidParameterError(
            f"register_section(): 'name' must be a non-empty string; got {name!r}",
            hint="e.g. @register_section('families', order=60)",
        )

    def decorate(func: Provider) -> Provider:
        if not callable(func):
            raise InvalidParameterError(
                f"register_section('{name}'): the provider must be callable",
                hint="decorate a function taking the report context: def section(ctx): ...",
            )
        _PROVIDERS[name] = SectionProvider(name=name, title=title or name, order=float(order), func=func, weight=weight)
        return func

    return decorate


def unregister_section(name: str) -> None:
    """Remove the section ``name`` from the registry (no error if it is not registered)."""
    _PROVIDERS.pop(name, None)


def section_providers() -> list[SectionProvider]:
    """The registered providers in page order (built-in sections and analyses included)."""
    return sorted(_PROVIDERS.values(), key=lambda p: (p.order, p.name))
