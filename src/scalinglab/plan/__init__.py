"""Planning: what to train next, from a fitted or published scaling law.

Compute-optimal allocation (approaches 1-3 of Hoffmann et al. 2022)
-------------------------------------------------------------------
compute_optimal     N*, D*, tokens/parameter and loss at given budgets, with intervals
                    (the law's own closed form where it has one, else numeric; any cost model)
envelope            approach 1: lower envelope of training curves -> N*(C), D*(C) power laws
isoflop             approach 2: isoFLOP valleys (parabola, or variable projection without its bias)
parametric          approach 3: fit a parametric law with the core fitter, then its closed form

Budgets and trade-offs
----------------------
budget_for_loss     compute needed to reach a target loss
loss_at             loss of a run with N parameters and D tokens
inference_optimal   allocation counting 2N FLOPs per served token
overtrain           loss and compute overhead at a tokens-per-parameter multiple
split_params        best split of a parameter total among a law's parts (encoder/decoder)

Which runs to train next
------------------------
suggest             runs on a candidate grid, within a compute budget, that most shrink the
                    prediction interval at a target (N, D)
"""

from scalinglab.plan._cost import CostModel, cost_model, fit_cost
from scalinglab.plan._frontier import Frontier, IsoFLOPResult, envelope, frontier_from_published, isoflop, parametric
from scalinglab.plan._model import PlanModel, resolve_model
from scalinglab.plan._optimal import Allocation, budget_for_loss, compute_optimal, inference_optimal, loss_at, overtrain
from scalinglab.plan._split import split_params
from scalinglab.plan._suggest import Suggestion, candidate_grid, design_variance, suggest

__all__ = [
    "envelope",
    "isoflop",
    "parametric",
    "Frontier",
    "IsoFLOPResult",
    "frontier_from_published",
    "compute_optimal",
    "budget_for_loss",
    "loss_at",
    "inference_optimal",
    "overtrain",
    "split_params",
    "suggest",
    "Suggestion",
    "candidate_grid",
    "design_variance",
    "Allocation",
    "CostModel",
    "cost_model",
    "fit_cost",
    "PlanModel",
    "resolve_model",
]
