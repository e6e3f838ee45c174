"""Fitting: the robust, global, batched fitter and its ``Fit`` result."""

from scalinglab.fit._fit import fit
from scalinglab.fit._many import FitJob, fit_many
from scalinglab.fit._result import Diagnostic, Fit, load_fit
from scalinglab.fit._summary import Summary
from scalinglab.fit._uncertainty import BootstrapResult, bootstrap

__all__ = ["fit", "fit_many", "FitJob", "Fit", "Diagnostic", "Summary", "load_fit", "bootstrap", "BootstrapResult"]
