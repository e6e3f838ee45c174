"""Links from loss to downstream accuracy/error (the second step of two-step prediction)."""

from __future__ import annotations

import numpy as np

from scalinglab.laws._registry import Param, law

__all__ = ["accuracy_sigmoid", "error_exponential", "LINKS"]

#: Step-2 links of two-step prediction (scalinglab.analyze.downstream): name -> law.
LINKS = {"sigmoid": "accuracy_sigmoid", "exponential": "error_exponential"}

_K_GRID = (-40.0, -15.0, -6.0, -2.5, -1.0, -0.4, 0.4, 1.0, 2.5, 6.0, 15.0, 40.0)


def _center_grid(inputs, y):
    x = np.ravel(inputs["L"])
    return np.quantile(x, [0.0, 0.25, 0.5, 0.75, 1.0])


@law(
    name="accuracy_sigmoid",
    inputs={"L": "task_loss"},
    params={
        "a": Param(0, np.inf, description="height of the sigmoid (accuracy range)"),
        "b": Param(0, np.inf, description="accuracy floor (e.g. chance level)"),
        "k": Param(-1e3, 1e3, grid=_K_GRID, description="steepness (negative: accuracy falls with loss)"),
        "L0": Param(0, np.inf, grid=_center_grid, description="task loss at the midpoint"),
    },
    linear=("a", "b"),
    formula="acc = a / (1 + exp(-k (L - L0))) + b",
    reference="Bhagia et al. 2024, arXiv:2412.04403 (two-step task prediction, step 2)",
    target="accuracy",
)
def accuracy_sigmoid(L, a, b, k, L0):
    """Task loss -> accuracy link of the two-step approach (Bhagia et al. 2024).

    acc(L) = a / (1 + exp(-k (L - L0))) + b, with L the task loss (e.g. bits per
    byte of the correct answer, predicted in step 1 from (N, D) by a Chinchilla
    law).  With ``a >= 0`` the sign of ``k`` sets the direction (``k < 0``:
    accuracy falls as the loss grows), which removes the (a, k, b) ~ (-a, -k, a + b)
    symmetry.  ``b`` is the floor as L grows (chance level), ``a + b`` the ceiling.

    Fit it with ``space="linear"`` (accuracy can be 0 and its noise is additive):
    ``fit(df, "accuracy_sigmoid", y="accuracy", space="linear")``.  The inputs
    must be > 0, as for every law.

    Examples
    --------
    >>> round(float(accuracy_sigmoid(L=1.0, a=0.7, b=0.25, k=-6.0, L0=0.9)), 4)
    0.498
    """
    # 1 / (1 + exp(-z)) written with tanh: no overflow for large |z|
    return a * 0.5 * (1.0 + np.tanh(0.5 * k * (L - L0))) + b


@law(
    name="error_exponential",
    inputs={"L": "loss"},
    params={
        "eps": Param(0, np.inf, description="error at infinite loss (chance-level error)"),
        "k": Param(0, np.inf, description="scale"),
        "gamma": Param(
            0,
            100,
            grid=(0.1, 0.3, 0.6, 1.0, 1.5, 2.0, 3.0, 5.0, 8.0),
            description="rate of the error decrease with falling loss",
        ),
    },
    linear=("eps", "k"),
    formula="err = eps - k exp(-gamma L)",
    reference="Gadre et al. 2024, arXiv:2403.08540 (average top-1 error vs validation loss)",
    target="error",
)
def error_exponential(L, eps, k, gamma):
    """Average downstream top-1 error from validation loss (Gadre et al. 2024): err = eps - k exp(-gamma L).

    L is the validation (e.g. C4) loss in nats/token; ``eps`` is the error as the
    loss grows (random chance).  Fit with ``space="linear"`` on error in [0, 1].

    Examples
    --------
    >>> round(float(error_exponential(L=3.0, eps=0.85, k=2.0, gamma=0.9)), 4)
    0.7156
    """
    return eps - k * np.exp(-gamma * L)
