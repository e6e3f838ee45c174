"""Scaling laws: declarative definitions and the registry.

Built-in laws (``scalinglab laws`` lists them with formulas and sources):
``power_law`` (alias ``M1``), ``power_floor``, ``kaplan``, ``chinchilla``,
``bnsl``/``bnsl2``/``bnsl3``, ``M2``, ``M3``, ``M4``, ``transfer``, ``nmt_encdec``,
``mixed_modal`` (bimodal interaction law), ``multilingual_mixture``, ``overtraining``
(loss in compute and token multiplier), ``accuracy_sigmoid`` and ``error_exponential``
(loss -> downstream links), ``scaled_power`` (y = k x^p, compute-optimal allocations),
``exp_decay`` and ``exp_floor`` (error exponential in pruned data size, Sorscher et al. 2022).

Define your own with :func:`law` (registers it) or :func:`define_law`.  A law may
carry its own math: ``allocation=`` (closed-form compute-optimal N*, D*, used by
planning) and ``derived=`` (quantities of the parameters, :meth:`Law.derive`).
Published constants (:class:`PublishedLaw`) are defined beside their laws and
catalogued in :mod:`scalinglab.laws.published`.
"""

# registration order is the order `scalinglab laws` lists them
from scalinglab.laws import (  # noqa: F401  (register built-ins)  # noqa: F401  # noqa: F401
    _allocation,
    _bnsl,
    _chinchilla,
    _downstream,
    _encdec,
    _kaplan,
    _multilingual,
    _multimodal,
    _overtraining,
    _power,
    _pruning,
    _revisiting,
    _transfer,
)
from scalinglab.laws._allocation import scaled_power
from scalinglab.laws._bnsl import bnsl_law
from scalinglab.laws._chinchilla import chinchilla
from scalinglab.laws._downstream import accuracy_sigmoid, error_exponential
from scalinglab.laws._encdec import nmt_encdec
from scalinglab.laws._kaplan import kaplan
from scalinglab.laws._multilingual import multilingual_mixture
from scalinglab.laws._multimodal import mixed_modal, mixed_modal_synergy
from scalinglab.laws._overtraining import overtraining
from scalinglab.laws._power import power_floor, power_law
from scalinglab.laws._pruning import PRUNING_CANDIDATES, PRUNING_FORMS, exp_decay, exp_floor
from scalinglab.laws._published import PublishedLaw
from scalinglab.laws._registry import ComputeOptimum, Law, Param, define_law, get_law, law, list_laws, register
from scalinglab.laws._revisiting import m2, m3, m4
from scalinglab.laws._transfer import transfer

#: The law fitted or assumed when none is named: L = E + A/N^alpha + B/D^beta (Hoffmann et al. 2022).
DEFAULT_LAW = "chinchilla"
#: Laws compared by model selection on one learning curve (Alabdulmohsin et al. 2022; Caballero et al. 2022).
ONE_CURVE_CANDIDATES = ("M1", "M2", "M3", "M4", "bnsl")

__all__ = [
    "DEFAULT_LAW",
    "ONE_CURVE_CANDIDATES",
    "Law",
    "Param",
    "ComputeOptimum",
    "PublishedLaw",
    "law",
    "define_law",
    "register",
    "get_law",
    "list_laws",
    "bnsl_law",
    "power_law",
    "power_floor",
    "kaplan",
    "chinchilla",
    "nmt_encdec",
    "transfer",
    "m2",
    "m3",
    "m4",
    "mixed_modal",
    "mixed_modal_synergy",
    "multilingual_mixture",
    "overtraining",
    "accuracy_sigmoid",
    "error_exponential",
    "scaled_power",
    "exp_decay",
    "exp_floor",
    "PRUNING_FORMS",
    "PRUNING_CANDIDATES",
]
