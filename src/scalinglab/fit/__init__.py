"""Fitting: the robust, global, batched fitter and its ``Fit`` result."""

from scalinglab.fit._fit import fit
from scalinglab.fit._result import Diagnostic, Fit, load_fit
from scalinglab.fit._summary import Summary

__all__ = ["fit", "Fit", "Diagnostic", "Summary", "load_fit"]
