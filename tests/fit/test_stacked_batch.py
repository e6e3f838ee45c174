"""StackedBatch: several stacked parts refined in one call give each row exactly what its part gives alone."""

import importlib
import warnings

import numpy as np
import pandas as pd

solver = importlib.import_module("scalinglab.fit._solver")
fitmod = importlib.import_module("scalinglab.fit._fit")


def _problem(seed: int, per_size: int):
    rng = np.random.default_rng(seed)
    N = np.repeat(np.geomspace(1e7, 1e9, 5), per_size)
    D = np.tile(np.geomspace(1e9, 1e11, per_size), 5)
    L = (1.7 + 400 * N**-0.34 + 410 * D**-0.28) * np.exp(rng.normal(0, 0.01, N.size))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return next(fitmod.fit_steps(pd.DataFrame({"params": N, "tokens": D, "loss": L}), "chinchilla")).problem


def _starts(problem, k: int = 3) -> np.ndarray:
    grid = solver.grid_search(problem)
    return solver.select_starts(grid.u, grid.objective, k, problem)


def test_rows_of_a_batch_end_where_their_part_ends_alone():
    probs = [_problem(0, 4), _problem(1, 5), _problem(2, 12)]
    starts = [_starts(p) for p in probs]
    sizes = [len(s) for s in starts]
    # one call: two parts, each data set held once, every start a row of the batch
    batch = solver.StackedBatch(
        [solver.stack_problems(probs[:2], [1, 1]), solver.stack_problems(probs[2:], [1])], [sizes[:2], sizes[2:]]
    )
    group = np.repeat(np.arange(3), sizes)
    together = solver.refine(batch, np.concatenate(starts), max_iter=300, group=group)
    # one call per part, one padded row per start (as before StackedBatch)
    split = sizes[0] + sizes[1]
    first = solver.refine(
        solver.stack_problems(probs[:2], sizes[:2]), np.concatenate(starts[:2]), max_iter=300, group=group[:split]
    )
    second = solver.refine(solver.stack_problems(probs[2:], sizes[2:]), starts[2], max_iter=300, group=group[split:])
    alone_u = np.concatenate([first.u, second.u])
    alone_f = np.concatenate([first.objective, second.objective])
    assert np.array_equal(together.u, alone_u)
    assert np.array_equal(together.objective, alone_f)
    assert np.array_equal(together.n_iter, np.concatenate([first.n_iter, second.n_iter]))
    assert np.all(np.isfinite(together.objective))
