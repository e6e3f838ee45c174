"""Fitting: the robust, global, batched fitter and its ``Fit`` result.

Modules, lowest first (imports only go down): ``_losses``, ``_solver`` (batched
grid search and Levenberg-Marquardt), ``_problem`` (objective from a runs table),
``_engine`` (one global solve; :func:`refit` with a fit's options), ``_calibration``
(extrapolation error by nested refits), ``_uncertainty`` (delta, bootstrap,
calibrated; :func:`resolve_method`), ``_summary``, ``_result`` (:class:`Fit`),
``_fit`` (the front door :func:`fit`), ``_many`` (:func:`fit_many`: many fits as one batch).
"""

from scalinglab.fit._calibration import CalibratedSigma, ExtrapolationPrior, calibrated_sigma
from scalinglab.fit._decompose import Decomposition, ReducibleTarget, decompose, needed_for_reducible
from scalinglab.fit._engine import Solution, refit
from scalinglab.fit._fit import fit
from scalinglab.fit._groups import FitSet, PooledFamiliesWarning, load_fitset, pooled_warning
from scalinglab.fit._many import FitJob, fit_many
from scalinglab.fit._result import Diagnostic, Fit, load_fit
from scalinglab.fit._summary import Summary
from scalinglab.fit._uncertainty import MIN_RUNS_FOR_BOOTSTRAP, BootstrapResult, bootstrap, resolve_method

__all__ = [
    "fit",
    "fit_many",
    "FitJob",
    "Fit",
    "Diagnostic",
    "Summary",
    "load_fit",
    "bootstrap",
    "BootstrapResult",
    "refit",
    "Solution",
    "resolve_method",
    "MIN_RUNS_FOR_BOOTSTRAP",
    "FitSet",
    "load_fitset",
    "PooledFamiliesWarning",
    "pooled_warning",
    "ExtrapolationPrior",
    "CalibratedSigma",
    "calibrated_sigma",
    "decompose",
    "needed_for_reducible",
    "Decomposition",
    "ReducibleTarget",
]
