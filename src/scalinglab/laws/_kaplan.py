"""Kaplan et al. (2020): the two-variable law L(N, D) and the constants the paper reports."""

from __future__ import annotations

import numpy as np

from scalinglab.laws._published import NON_EMBEDDING, PF_DAYS, PublishedLaw, fmt_constant
from scalinglab.laws._registry import Param, law

__all__ = ["kaplan", "PUBLISHED"]


def _scale_grid(inputs, y):
    return 10.0 ** np.arange(6.0, 17.0, 1.5)


@law(
    name="kaplan",
    inputs={"N": "params", "D": "tokens"},
    params={
        "Nc": Param(0, np.inf, grid=_scale_grid, log=True, description="model-size scale"),
        "alpha_N": Param(1e-4, 2, grid=(0.03, 0.08, 0.2, 0.5), description="model-size exponent"),
        "Dc": Param(0, np.inf, grid=_scale_grid, log=True, description="data scale"),
        "alpha_D": Param(1e-4, 2, grid=(0.03, 0.1, 0.25, 0.6), description="data exponent"),
    },
    formula="L = [(Nc/N)^(alpha_N/alpha_D) + Dc/D]^alpha_D",
    reference="Kaplan et al. 2020, arXiv:2001.08361 (eq. 1.5)",
    params_convention="non-embedding",
)
def kaplan(N, D, Nc, alpha_N, Dc, alpha_D):
    """Kaplan et al. (2020) eq. 1.5: L(N, D) = [(Nc/N)^(alpha_N/alpha_D) + Dc/D]^alpha_D.

    N is non-embedding parameters, D tokens; no irreducible term.
    """
    return ((Nc / N) ** (alpha_N / alpha_D) + Dc / D) ** alpha_D


# ------------------------------------------------------------------------------ published constants

_KAPLAN = "Kaplan et al. 2020, arXiv:2001.08361"
_L_KAPLAN = "nats/token (WebText2, GPT-2 BPE)"


def _entries() -> tuple[PublishedLaw, ...]:
    def single(key, sym, col, unit, xc, alpha, eq, notes, pf=False):
        return PublishedLaw(
            key=key,
            law="power_floor",
            params={"E": 0.0, "x0": xc, "alpha": alpha},
            constants={f"{sym}_c": xc, f"alpha_{sym}": alpha},
            inputs={sym: col},
            law_inputs={sym: "x"},
            units={sym: unit, "loss": _L_KAPLAN},
            target="loss",
            source=f"{_KAPLAN}, {eq}",
            confidence="C2",
            formula=f"L({sym}) = ({fmt_constant(xc)}/{sym})^{fmt_constant(alpha)}",
            pf_days=sym if pf else None,
            notes=notes,
        )

    def grow(key, sym, col, unit, k, p, target, tunit, source, notes, conf="C1"):
        return PublishedLaw(
            key=key,
            law="scaled_power",
            params={"k": k, "p": p},
            constants={"k": k, "p": p},
            inputs={sym: col},
            law_inputs={sym: "x"},
            units={sym: unit, target: tunit},
            target=target,
            source=f"{_KAPLAN}, {source}",
            confidence=conf,
            formula=f"{target} = {fmt_constant(k)} * {sym}^{fmt_constant(p)}",
            pf_days=sym if unit == PF_DAYS else None,
            notes=notes,
        )

    return (
        single(
            "kaplan2020_n",
            "N",
            "params",
            NON_EMBEDDING,
            8.8e13,
            0.076,
            "eq. 1.1 / Table 5",
            "Models trained to convergence on enough data (early stopping).",
        ),
        single(
            "kaplan2020_d",
            "D",
            "tokens",
            "tokens",
            5.4e13,
            0.095,
            "eq. 1.2 / Table 5",
            "Large models with early stopping; data-limited regime.",
        ),
        single(
            "kaplan2020_cmin",
            "C",
            "pf_days",
            PF_DAYS + "; C_min, batch << B_crit",
            3.1e8,
            0.050,
            "eq. 1.3 / Table 5 (alpha_C^min, C_c^min)",
            "Compute-efficient training (C_min = C / (1 + B/B_crit)); loss along the frontier.",
            pf=True,
        ),
        single(
            "kaplan2020_c",
            "C",
            "pf_days",
            PF_DAYS + "; fixed batch size",
            1.6e7,
            0.057,
            "Table 5 (naive alpha_C, C_c)",
            "Naive fixed-batch-size compute trend.",
            pf=True,
        ),
        PublishedLaw(
            key="kaplan2020_nd",
            law="kaplan",
            params={"Nc": 6.4e13, "alpha_N": 0.076, "Dc": 1.8e13, "alpha_D": 0.103},
            constants={"N_c": 6.4e13, "alpha_N": 0.076, "D_c": 1.8e13, "alpha_D": 0.103},
            inputs={"N": "params", "D": "tokens"},
            units={"N": NON_EMBEDDING, "D": "tokens", "loss": _L_KAPLAN},
            target="loss",
            source=f"{_KAPLAN}, eq. 1.5 with the Table 2 fit",
            confidence="C2",
            formula="L(N, D) = [(6.4e13/N)^(0.076/0.103) + 1.8e13/D]^0.103",
            notes="Use these Table-2 constants for eq. 1.5, not the single-variable ones (alpha_D = 0.095 gives "
            "2.4354 instead of 2.3739 at N=1e9, D=2e10). D may be inf (infinite data).",
        ),
        PublishedLaw(
            key="kaplan2020_ns",
            law="chinchilla",
            params={"E": 0.0, "A": 6.5e13**0.077, "alpha": 0.077, "B": 2.1e3**0.76, "beta": 0.76},
            constants={"N_c": 6.5e13, "alpha_N": 0.077, "S_c": 2.1e3, "alpha_S": 0.76},
            inputs={"N": "params", "S": "steps"},
            law_inputs={"S": "D"},
            units={"N": NON_EMBEDDING, "S": "optimisation steps S_min (at batch >> B_crit)", "loss": _L_KAPLAN},
            target="loss",
            source=f"{_KAPLAN}, eq. 1.6 with the Table 3 fit",
            confidence="C2",
            formula="L(N, S_min) = (6.5e13/N)^0.077 + (2.1e3/S_min)^0.76",
            notes="S_min = S / (1 + B_crit(L)/B) (eq. 5.4); evaluated as chinchilla with E = 0, "
            "A = N_c^alpha_N, B = S_c^alpha_S.",
        ),
        PublishedLaw(
            key="kaplan2020_bcrit",
            law="power_law",
            params={"A": 2.1e8, "alpha": 1.0 / 0.21},
            constants={"B_star": 2.1e8, "alpha_B": 0.21},
            inputs={"L": "loss"},
            law_inputs={"L": "x"},
            units={"L": _L_KAPLAN, "critical_batch": "tokens"},
            target="critical_batch",
            source=f"{_KAPLAN}, eq. 1.4 / 5.3 and Table 5",
            confidence="C2",
            formula="B_crit(L) = 2.1e8 / L^(1/0.21)",
            notes="Section 1.2 rounds B* to 2e8 tokens.",
        ),
        grow(
            "kaplan2020_overfit_data",
            "N",
            "params",
            NON_EMBEDDING,
            5e3,
            0.74,
            "min_tokens",
            "tokens",
            "eq. 4.4",
            "Data needed to keep the overfitting penalty below about 0.02 nats: D >= 5e3 N^0.74.",
            conf="C2",
        ),
        grow(
            "kaplan2020_frontier_n",
            "C",
            "pf_days",
            PF_DAYS,
            1.3e9,
            0.73,
            "n_opt",
            NON_EMBEDDING,
            "compute-efficient frontier (Appendix Table 6; eq. 1.7)",
            "C is C_min. Cross-checked: Henighan 2020 Table 1 language N_opt(1) = 1.293e9.",
            conf="C2",
        ),
        grow(
            "kaplan2020_frontier_d",
            "C",
            "pf_days",
            PF_DAYS,
            2e10,
            0.27,
            "d_opt",
            "tokens (one epoch)",
            "compute-efficient frontier (Appendix Table 6)",
            "C is C_min.",
        ),
        grow(
            "kaplan2020_frontier_b",
            "C",
            "pf_days",
            PF_DAYS,
            2.0e6,
            0.24,
            "batch",
            "tokens",
            "compute-efficient frontier (Appendix Table 6)",
            "C is C_min.",
        ),
        grow(
            "kaplan2020_frontier_s",
            "C",
            "pf_days",
            PF_DAYS,
            5.4e3,
            0.03,
            "steps",
            "optimisation steps S_min",
            "compute-efficient frontier (Appendix Table 6)",
            "C is C_min.",
        ),
        grow(
            "kaplan2020_frontier_d_eq67",
            "C",
            "pf_days",
            PF_DAYS,
            4e10,
            0.26,
            "d_opt",
            "tokens",
            "eq. 6.7",
            "Data processed along the compute-efficient frontier, D(C_min) ~ 4e10 C_min^0.26.",
        ),
    )


#: Kaplan et al. (2020): single-variable laws, L(N, D), L(N, S), B_crit and the compute-efficient frontier.
PUBLISHED: tuple[PublishedLaw, ...] = _entries()
