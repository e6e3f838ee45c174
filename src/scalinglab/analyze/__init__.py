"""Analyses: questions asked of runs or fits, each answered by one module.

The contract
------------
An analysis is a module here with one public function that takes runs (a
RunsTable, DataFrame or path) or fits and returns a result object derived from
:class:`AnalysisResult`, which gives

* ``summary()`` -- readable text (also ``str(result)``);
* ``to_dict()`` -- plain JSON: ``json.loads(json.dumps(result.to_dict()))`` gives it back unchanged;
* ``figure()`` -- a matplotlib Figure, drawn with :mod:`scalinglab.render`;
* ``section(render=None)`` -- a :class:`scalinglab.render.Section` for the HTML report
  (notebooks show its HTML through ``_repr_html_``).

Fits of many groups go through :func:`scalinglab.fit.fit_many` (one batch, any backend).

An analysis joins the report by registering a section provider in its own module
with :func:`scalinglab.render.register_section` (``name``, ``order`` on the page,
progress ``weight``); the provider gets the report's shared context (runs, fit
table, fits, target, options, figure renderer) and returns ``result.section(...)``,
or ``None`` when it does not apply.  Importing :mod:`scalinglab.analyze` registers
the built-in ones; ``build_report`` needs no edit.

Analyses
--------
compare            arms (``by=``) compared by their scaling: exponent tests, crossovers, multipliers (``CompareResult``)
compare_families   one law fitted to each family on its own, compared (``FamiliesResult``)
trends             per-curve labels: positive, inverse, U, inverted-U, emergent, flat (``TrendsResult``)
two_step           loss -> accuracy in two steps, with the direct baseline and a backtest (``DownstreamResult``)
transfer           effective data transferred by pre-training, D_T = k D_F^alpha N^beta (``TransferResult``)
pruning            error vs kept data: power, exponential, broken laws by backtest and AICc (``PruningResult``);
                   prototype_scores / keep_mask / write_mask: self-supervised prototype pruning
encdec             encoder/decoder NMT: best split N_e/N_d = pe/pd, L - L_inf ~ B^-(pe+pd), loss -> BLEU
                   link with a stall check (``EncDecResult``)
multilingual       multilingual mixtures: effective parameters f_i(w) N per language pair, and a
                   calibrated test that the weight changes only the factor (``MultilingualResult``)
mixed_modal        unimodal laws, the bimodal interaction law and the competition barrier (``MixedModalResult``)
mutual_information Henighan's mutual information and infogain vs N (``InformationResult``);
                   compute_optimal_exponent: N_opt ~ C^beta beside the paper's 0.7
"""

from scalinglab.analyze._base import AnalysisResult
from scalinglab.analyze.compare import CompareResult, compare
from scalinglab.analyze.encdec import EncDecResult, encdec
from scalinglab.analyze.families import FamiliesResult, compare_families
from scalinglab.analyze.information import InformationResult, compute_optimal_exponent, mutual_information
from scalinglab.analyze.mixed_modal import MixedModalResult, load_mixed_modal, mixed_modal
from scalinglab.analyze.multilingual import MultilingualResult, multilingual
from scalinglab.analyze.pruning import PruningResult, keep_mask, prototype_scores, pruning, write_mask
from scalinglab.analyze.transfer import TransferResult, effective_data, transfer
from scalinglab.analyze.trends import TrendsResult, trends

__all__ = [
    "AnalysisResult",
    "compare",
    "CompareResult",
    "compare_families",
    "FamiliesResult",
    "trends",
    "TrendsResult",
    "transfer",
    "TransferResult",
    "effective_data",
    "mutual_information",
    "InformationResult",
    "compute_optimal_exponent",
    "pruning",
    "PruningResult",
    "prototype_scores",
    "keep_mask",
    "write_mask",
    "encdec",
    "EncDecResult",
    "multilingual",
    "MultilingualResult",
    "mixed_modal",
    "MixedModalResult",
    "load_mixed_modal",
]
