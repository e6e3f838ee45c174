"""Mixed-modal (bimodal) scaling law with interaction terms, and its competition barrier (Aghajanyan et al. 2023).

The law owns its math: the interaction terms at any (N, D_i, D_j)
(:func:`interaction_terms`), the **competition barrier** -- the model size above
which a joint model beats the unimodal ones -- in closed form
(:func:`competition_barrier`, and its token counterpart :func:`barrier_tokens`), the
same barrier against two unimodal models of half the size each, which has no closed
form (:func:`barrier_same_total`, a vectorised root solve), and the barrier at
infinite data as a derived quantity (``law.derive("asymptotic_barrier", params)``).
"""

from __future__ import annotations

import numpy as np

from scalinglab.laws._registry import Param, law

__all__ = [
    "mixed_modal",
    "mixed_modal_synergy",
    "interaction_terms",
    "competition_barrier",
    "barrier_tokens",
    "barrier_same_total",
    "asymptotic_barrier",
    "mixed_modal_jacobian",
    "INTERACTION_PARAMS",
    "BIMODAL_LAW",
    "UNIMODAL_LAW",
    "SAME_TOTAL_LAWS",
]

_EXP_GRID = tuple(np.round(np.linspace(0.02, 1.5, 38), 4))
#: The bimodal law's own parameters (the unimodal losses are its inputs).
INTERACTION_PARAMS = ("C", "A", "alpha", "B", "beta")
#: The registered name of the bimodal law below.
BIMODAL_LAW = "mixed_modal"
#: The paper's unimodal law, L_i = E_i + A_i/N^alpha_i + B_i/D_i^beta_i.
UNIMODAL_LAW = "chinchilla"
#: Unimodal laws :func:`barrier_same_total` can compare with (it uses their A/N^alpha term).
SAME_TOTAL_LAWS = ("chinchilla",)


def asymptotic_barrier(params):
    """The competition barrier at infinite data, N*(D -> inf) = (A_ij / C_ij)^(1/alpha_ij).

    ``inf`` where C_ij <= 0 (no synergy to gain); 0 where A_ij = 0 and C_ij > 0.
    Vectorised over the parameters (Aghajanyan et al. 2023, the barrier with B/D^beta -> 0).

    >>> float(asymptotic_barrier({"C": 0.1, "A": 10.0, "alpha": 0.5}))
    10000.0
    """
    C, A, alpha = (np.asarray(params[k], dtype=float) for k in ("C", "A", "alpha"))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = (A / C) ** (1.0 / alpha)
    return np.where(C > 0, out, np.inf)


def mixed_modal_jacobian(L_i, L_j, N, D_i, D_j, C, A, alpha, B, beta):
    """Value and parameter derivatives of the bimodal law (powers as exp(-alpha ln N)).

    >>> f, d = mixed_modal_jacobian(2.0, 3.0, np.e, 0.5, 0.5, C=0.3, A=1.0, alpha=1.0, B=2.0, beta=0.5)
    >>> round(float(f), 4), round(float(d["alpha"]), 4), d["C"]
    (4.5679, -0.3679, -1.0)
    """
    lnN, lnD = np.log(N), np.log(np.asarray(D_i) + np.asarray(D_j))
    pN, pD = np.exp(-alpha * lnN), np.exp(-beta * lnD)
    aN, bD = A * pN, B * pD
    f = 0.5 * (np.asarray(L_i) + np.asarray(L_j)) - C + aN + bD
    return f, {"C": -1.0, "A": pN, "alpha": -lnN * aN, "B": pD, "beta": -lnD * bD}


@law(
    name="mixed_modal",
    inputs={"L_i": "loss_i", "L_j": "loss_j", "N": "params", "D_i": "tokens_i", "D_j": "tokens_j"},
    params={
        "C": Param(description="maximum synergy C_ij (> 0: joint training can beat the unimodal models)"),
        "A": Param(0, np.inf, description="competition-for-capacity scale A_ij"),
        "alpha": Param(0, 3, grid=_EXP_GRID, description="capacity-competition exponent alpha_ij"),
        "B": Param(0, np.inf, description="data/optimisation-competition scale B_ij"),
        "beta": Param(0, 3, grid=_EXP_GRID, description="data-competition exponent beta_ij"),
    },
    linear=("C", "A", "B"),
    derived={"asymptotic_barrier": asymptotic_barrier},
    jacobian=mixed_modal_jacobian,
    formula="L_ij = (L_i + L_j)/2 - C + A/N^alpha + B/(D_i + D_j)^beta",
    reference="Aghajanyan et al. 2023, arXiv:2301.03728 (bimodal law with interaction terms)",
)
def mixed_modal(L_i, L_j, N, D_i, D_j, C, A, alpha, B, beta):
    """Bimodal loss from the unimodal losses plus interaction terms (Aghajanyan et al. 2023).

    L_ij(N, D_i, D_j) = [L_i(N, D_i) + L_j(N, D_j)] / 2 - C_ij + A_ij / N^alpha_ij
    + B_ij / (D_i + D_j)^beta_ij, where ``L_i`` and ``L_j`` are the unimodal
    losses of modality i and j at the same model size and per-modality tokens
    (each a Chinchilla law L_i = E_i + A_i/N^alpha_i + B_i/D_i^beta_i).

    Parametrisation (why the unimodal losses are inputs): with both unimodal
    parameter sets free, E_i, E_j and C_ij enter bimodal data only through
    (E_i + E_j)/2 - C_ij and cannot be separated.  The practical, identifiable
    route is two-stage: fit ``chinchilla`` to each modality's unimodal runs,
    evaluate L_i and L_j at the bimodal runs' (N, D_i) and (N, D_j) (or use the
    measured unimodal losses of matched runs), then fit this law to the bimodal
    losses.  The interaction part is then a Chinchilla surface with the
    constant -C in place of E, identifiable under the same conditions (several
    distinct N and total-token values).  C is unbounded (negative: no synergy).
    The exact denominators follow the reference sheet (structure [S1]); no
    constants of this law are confirmed.

    Examples
    --------
    >>> round(float(mixed_modal(L_i=2.0, L_j=3.0, N=1e9, D_i=1e10, D_j=1e10,
    ...                         C=0.3, A=100.0, alpha=0.3, B=500.0, beta=0.3)), 4)
    2.8057
    """
    return 0.5 * (L_i + L_j) - C + A * N ** (-alpha) + B * (D_i + D_j) ** (-beta)


def mixed_modal_synergy(N, D_i, D_j, *, C, A, alpha, B, beta):
    """Net synergy C_ij - A_ij/N^alpha_ij - B_ij/(D_i + D_j)^beta_ij of a bimodal model.

    Positive values mean the joint model's loss is below the mean of the two
    unimodal losses: the "competition barrier" of Aghajanyan et al. (2023) is
    crossed.  Vectorised over the inputs and parameters.

    Examples
    --------
    >>> bool(mixed_modal_synergy(1e11, 5e10, 5e10, C=0.5, A=100.0, alpha=0.3, B=500.0, beta=0.3) > 0)
    True
    """
    N, D_i, D_j = (np.asarray(v, dtype=float) for v in (N, D_i, D_j))
    return C - A * N ** (-alpha) - B * (D_i + D_j) ** (-beta)


def interaction_terms(N, D_i, D_j, *, C, A, alpha, B, beta) -> dict[str, np.ndarray]:
    """The bimodal law's interaction terms at (N, D_i, D_j), vectorised (Aghajanyan et al. 2023).

    ``synergy`` = C_ij (maximum synergy), ``capacity`` = A_ij/N^alpha_ij (competition for
    model capacity), ``data`` = B_ij/(D_i + D_j)^beta_ij (competition from data and
    optimisation), and ``net`` = synergy - capacity - data = (L_i + L_j)/2 - L_ij: positive
    when the joint model beats the mean of the two unimodal models of the same size.

    >>> t = interaction_terms(1e6, 5e5, 5e5, C=0.2, A=10.0, alpha=0.5, B=100.0, beta=0.5)
    >>> {k: round(float(v), 4) for k, v in t.items()}
    {'synergy': 0.2, 'capacity': 0.01, 'data': 0.1, 'net': 0.09}
    """
    N, D = np.asarray(N, dtype=float), np.asarray(D_i, dtype=float) + np.asarray(D_j, dtype=float)
    C = np.asarray(C, dtype=float)
    capacity = A * N ** (-np.asarray(alpha, dtype=float))
    data = B * D ** (-np.asarray(beta, dtype=float))
    synergy = np.broadcast_to(C, np.broadcast(C, capacity, data).shape)
    return {"synergy": synergy, "capacity": capacity, "data": data, "net": C - capacity - data}


def competition_barrier(D_total, *, C, A, alpha, B, beta):
    """Model size above which joint training beats the unimodal models, at D_i + D_j = ``D_total``.

    The barrier of Aghajanyan et al. (2023): L_ij < (L_i + L_j)/2 exactly when
    C_ij > A_ij/N^alpha_ij + B_ij/(D_i + D_j)^beta_ij, so in closed form

        N*(D) = [A_ij / (C_ij - B_ij D^-beta_ij)]^(1/alpha_ij),

    ``inf`` where C_ij <= B_ij D^-beta_ij (no model size is enough at that many tokens),
    0 where A_ij = 0 and the data term is below C_ij.  Vectorised and broadcast over
    ``D_total`` and the parameters (e.g. bootstrap draws as ``(B, 1)`` columns).
    Only D_i + D_j enters: at a given total, the token mix does not move the barrier.

    >>> p = dict(C=0.2, A=10.0, alpha=0.5, B=100.0, beta=0.5)
    >>> N = float(competition_barrier(1e6, **p))
    >>> round(N), abs(0.2 - (10.0 / N**0.5 + 100.0 / 1e6**0.5)) < 1e-12
    (10000, True)
    >>> float(competition_barrier(1e4, **p))   # C <= B/D^beta: no size suffices
    inf
    """
    D = np.asarray(D_total, dtype=float)
    A, alpha = np.asarray(A, dtype=float), np.asarray(alpha, dtype=float)
    margin = np.asarray(C, dtype=float) - np.asarray(B, dtype=float) * D ** (-np.asarray(beta, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = (A / margin) ** (1.0 / alpha)
    return np.where(margin > 0, out, np.inf)


def barrier_tokens(N, *, C, A, alpha, B, beta):
    """Total tokens D_i + D_j above which a joint model of size ``N`` beats the unimodal ones.

    The barrier read the other way: D*(N) = [B_ij / (C_ij - A_ij N^-alpha_ij)]^(1/beta_ij),
    ``inf`` where C_ij <= A_ij N^-alpha_ij (the model is too small at any data).

    >>> round(float(barrier_tokens(1e4, C=0.2, A=10.0, alpha=0.5, B=100.0, beta=0.5)))
    1000000
    """
    N = np.asarray(N, dtype=float)
    B, beta = np.asarray(B, dtype=float), np.asarray(beta, dtype=float)
    margin = np.asarray(C, dtype=float) - np.asarray(A, dtype=float) * N ** (-np.asarray(alpha, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = (B / margin) ** (1.0 / beta)
    return np.where(margin > 0, out, np.inf)


def barrier_same_total(
    D_i, D_j, *, joint, unimodal_i, unimodal_j, lo: float = 1.0, hi: float = 1e16, grid: int = 241, iters: int = 60
):
    """Joint size N above which one joint model beats two unimodal models of N/2 parameters each.

    Same total parameters: the joint model wins when L_ij(N, D_i, D_j) <
    [L_i(N/2, D_i) + L_j(N/2, D_j)]/2 with Chinchilla unimodal laws L_m = E_m + A_m/N^a_m
    + B_m/D_m^b_m, i.e. when

        g(N) = C + sum_m A_m (2^a_m - 1) / (2 N^a_m) - A/N^alpha - B/(D_i + D_j)^beta > 0.

    No closed form: g is scanned on a log grid of N in [``lo``, ``hi``] and the last
    crossing from g <= 0 to g > 0 is refined by bisection in log N (vectorised over
    the points and over parameter draws given as arrays).  ``inf`` where g(hi) <= 0
    (a joint model never wins in range), ``lo`` where it wins everywhere in range.
    ``joint``/``unimodal_*`` map parameter names to scalars or arrays that broadcast
    with the points (bootstrap draws as ``(B, 1)`` columns).

    >>> uni = dict(E=0.5, A=10.0, alpha=0.3, B=10.0, beta=0.3)
    >>> j = dict(C=0.1, A=20.0, alpha=0.4, B=10.0, beta=0.3)
    >>> N = float(barrier_same_total(1e9, 1e9, joint=j, unimodal_i=uni, unimodal_j=uni))
    >>> g = 0.1 + 10 * (2**0.3 - 1) / N**0.3 - 20 / N**0.4 - 10 / 2e9**0.3
    >>> abs(g) < 1e-9, round(N / float(competition_barrier(2e9, **j)), 3) < 1
    (True, True)
    """
    D = np.asarray(D_i, dtype=float) + np.asarray(D_j, dtype=float)

    def g(logn):
        N = np.exp(logn)
        gain = sum(
            np.asarray(u["A"], dtype=float)
            * (2.0 ** np.asarray(u["alpha"], dtype=float) - 1.0)
            / (2.0 * N ** np.asarray(u["alpha"], dtype=float))
            for u in (unimodal_i, unimodal_j)
        )
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            return (
                np.asarray(joint["C"], dtype=float)
                + gain
                - np.asarray(joint["A"], dtype=float) * N ** (-np.asarray(joint["alpha"], dtype=float))
                - np.asarray(joint["B"], dtype=float) * D ** (-np.asarray(joint["beta"], dtype=float))
            )

    shape = np.broadcast(D, *(np.asarray(v) for u in (joint, unimodal_i, unimodal_j) for v in u.values())).shape
    xs = np.linspace(np.log(lo), np.log(hi), grid)
    vals = np.stack([np.broadcast_to(g(x), shape) for x in xs], axis=-1)  # (..., grid)
    pos = vals > 0
    # last grid index with g <= 0 (where the joint model stops losing for good)
    last_neg = np.where(~pos, np.arange(grid), -1).max(axis=-1)
    a = xs[np.clip(last_neg, 0, grid - 2)]
    b = xs[np.clip(last_neg, 0, grid - 2) + 1]
    for _ in range(iters):
        m = 0.5 * (a + b)
        right = np.broadcast_to(g(m), shape) > 0
        a, b = np.where(right, a, m), np.where(right, m, b)
    out = np.exp(0.5 * (a + b))
    out = np.where(last_neg == grid - 1, np.inf, out)
    return np.where(last_neg < 0, lo, out)
