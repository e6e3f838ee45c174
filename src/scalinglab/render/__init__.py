"""The figure and section toolkit: what every layer above ``fit`` draws and writes with.

Below ``evaluate``, ``analyze`` and ``plan`` (and the ``report`` that assembles them),
so any of them can draw a figure or produce a report section.  matplotlib is
imported lazily, inside the functions that draw.

Style and output
    figure_context, new_figure, set_scale, label_for, run_colors   one rc context per figure, log/linear axes
    save_figure, figure_to_svg, FORMATS                              PNG/SVG/PDF with reproducible bytes; inline SVG
Numbers
    fmt, si                                                          the one number formatter (tables, captions)
Sections
    Section, table_html, kv_html, note_html, figure_html            HTML section primitives (``data-key`` cells)
    FigureRenderer                                                   figures to inline SVG with page-unique ids
    register_section, section_providers, SectionContext              the report's section registry
Figures of runs and fits
    plot_loss, plot_compare, plot_parity, plot_residuals             loss curves, laws compared, diagnostics
    Target, resolve_target, law_path, fitted_mask, final_rows        the extrapolation target and the paths drawn
"""

from scalinglab.render._curves import plot_compare, plot_loss
from scalinglab.render._diagnostics import plot_parity, plot_residuals
from scalinglab.render._format import fmt, si
from scalinglab.render._registry import (
    SectionContext,
    SectionProvider,
    register_section,
    section_providers,
    unregister_section,
)
from scalinglab.render._runs import (
    AXES,
    Target,
    as_frame,
    final_rows,
    fitted_mask,
    flops_per_nd,
    law_path,
    resolve_target,
)
from scalinglab.render._section import FigureRenderer, Section, escape, figure_html, kv_html, note_html, table_html
from scalinglab.render._style import (
    FORMATS,
    LABELS,
    STYLE,
    figure_context,
    figure_to_svg,
    label_for,
    new_figure,
    run_colors,
    save_figure,
    set_scale,
)

__all__ = [
    "fmt",
    "si",
    "FORMATS",
    "LABELS",
    "STYLE",
    "figure_context",
    "figure_to_svg",
    "label_for",
    "new_figure",
    "run_colors",
    "save_figure",
    "set_scale",
    "FigureRenderer",
    "Section",
    "escape",
    "figure_html",
    "kv_html",
    "note_html",
    "table_html",
    "SectionContext",
    "SectionProvider",
    "register_section",
    "section_providers",
    "unregister_section",
    "AXES",
    "Target",
    "as_frame",
    "final_rows",
    "fitted_mask",
    "flops_per_nd",
    "law_path",
    "resolve_target",
    "plot_compare",
    "plot_loss",
    "plot_parity",
    "plot_residuals",
]
