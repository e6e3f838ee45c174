"""Track-B cells where the data cannot identify an exponent: what the fitter returns there.

With two model sizes (k = 2) the size term of E + A/N^alpha + B/D^beta is not identified, and a
training window that is too short (small p) leaves beta free; the optimum then lies at the end of a
ridge. This prints, for a few such cells of the Hitchhiker data (``loss_colpret``), the fitted
parameters, objective, convergence, iterations and the held-out ARE, and the mean ARE of the k = 2
and k = 3 cells of six dev groups with alpha free and held at ``--fix-alpha`` (a variant measured,
not the default). Run it on two checkouts to compare fitters:

    PYTHONPATH=$PWD/src SCALINGLAB_SHARED=/path/to/shared python bench/ridge_cells.py [--fix-alpha 0.4]

It writes nothing (the figures are quoted in bench/README.md, track B).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import hitchhiker as H
from scalinglab.evaluate import backtest_grid

#: (set, k, fractions) of the cells shown one by one
CELLS = [("pythia", 2, (0.5, 1.0)), ("pythia-v0", 2, (0.5, 1.0)), ("OPT", 2, (0.5, 1.0)), ("OPT", 5, (0.1, 0.2, 0.5))]


def show_cells() -> None:
    print("| set | k | p | E | A | alpha | B | beta | objective | converged | iterations | ARE |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|:-:|---:|---:|")
    for name, k, fractions in CELLS:
        g = backtest_grid(H.load_runs(sets=[name]), "chinchilla", interval=None, ks=[k], fractions=fractions)
        for (_fam, _law, job), f in g.fits.items():
            row = g.scores[g.scores["_job"] == job].iloc[0]
            p = f.params
            print(
                f"| {name} | {k} | {row['p']:g} | {p['E']:.4g} | {p['A']:.4g} | {p['alpha']:.4g} | {p['B']:.4g} | "
                f"{p['beta']:.4g} | {f.objective:.6e} | {'yes' if f.converged else 'no'} | {f.n_iter} | "
                f"{row['are']:.3f} |"
            )


def fixed_alpha(alpha: float) -> None:
    runs = H.load_runs(sets=["pythia", "pythia-v0", "OPT", "gpt3", "chinchilla"] + H.GPT2)
    free = backtest_grid(runs, "chinchilla", interval=None, ks=[2, 3]).scores
    held = backtest_grid(runs, "chinchilla", interval=None, ks=[2, 3], fit_options={"fixed": {"alpha": alpha}}).scores
    m = free[["family", "k", "p", "are"]].merge(held[["family", "k", "p", "are"]], on=["family", "k", "p"])
    m["group"] = m["family"].map(H.group_of)
    print(f"\nmean ARE of the k = 2 and k = 3 cells, alpha free (_x) and held at {alpha} (_y):")
    print(m.groupby(["group", "k"])[["are_x", "are_y"]].mean().round(3).to_string())
    print(m.groupby("k")[["are_x", "are_y"]].mean().round(3).to_string())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fix-alpha", type=float, default=None, help="also score k = 2, 3 cells with alpha held here")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    show_cells()
    if args.fix_alpha is not None:
        fixed_alpha(args.fix_alpha)


if __name__ == "__main__":
    main()
