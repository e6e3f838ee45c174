"""The report's built-in sections, one module each; importing this package registers them.

Each module holds a ``section_*`` function (result objects in, a
:class:`~scalinglab.render.Section` out) and registers a provider with
:func:`scalinglab.render.register_section` that reads the shared
:class:`~scalinglab.report._context.ReportContext`.  The families comparison
registers itself from :mod:`scalinglab.analyze.families`.
"""

from scalinglab.report._sections import backtest, compare, data, figures, fits, plan, predictions, reproduce  # noqa: F401
from scalinglab.report._sections.backtest import section_backtest
from scalinglab.report._sections.compare import section_compare
from scalinglab.report._sections.data import section_data
from scalinglab.report._sections.figures import section_figures
from scalinglab.report._sections.fits import section_fits
from scalinglab.report._sections.plan import section_plan
from scalinglab.report._sections.predictions import section_predictions
from scalinglab.report._sections.reproduce import section_reproduce

__all__ = [
    "section_data",
    "section_fits",
    "section_predictions",
    "section_figures",
    "section_compare",
    "section_backtest",
    "section_plan",
    "section_reproduce",
]
