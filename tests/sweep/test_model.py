"""Model counts, schedule and checkpoints (counts/schedule need no torch)."""

from __future__ import annotations

import math

import pytest

from scalinglab.sweep.model import flops_per_token, param_counts
from scalinglab.sweep.train import checkpoint_steps, lr_at


def test_import_does_not_import_torch():
    import subprocess
    import sys

    code = "import sys, scalinglab.sweep, scalinglab.datasets; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("width, depth, seq", [(16, 1, 32), (64, 3, 128), (96, 2, 64)])
def test_param_counts_match_torch(width, depth, seq):
    torch = pytest.importorskip("torch")
    from scalinglab.sweep.model import build_model

    torch.manual_seed(0)
    m = build_model(width, depth, 4, seq)
    non_emb, total = param_counts(width, depth, seq)
    assert sum(p.numel() for p in m.parameters()) == total
    emb = m.wte.weight.numel() + m.wpe.weight.numel()
    assert total - emb == non_emb


def test_flops_at_least_6n():
    n, _ = param_counts(64, 2, 128)
    assert flops_per_token(64, 2, 128) > 6 * n


def test_schedule_spans_budget():
    total = 200
    lrs = [lr_at(s, total, 1e-3, 0.05, 0.1) for s in range(1, total + 1)]
    assert lrs[9] == pytest.approx(1e-3)  # end of warmup (10 steps)
    assert max(lrs) == pytest.approx(1e-3)
    assert lrs[-1] == pytest.approx(1e-4)
    assert all(a >= b - 1e-15 for a, b in zip(lrs[10:], lrs[11:]))


def test_checkpoints_log_spaced():
    steps = checkpoint_steps(1000, 10)
    assert steps[-1] == 1000 and len(steps) == 10
    ratios = [b / a for a, b in zip(steps, steps[1:])]
    assert max(ratios) / min(ratios) < 1.3
    assert checkpoint_steps(1, 10) == [1]
    assert math.isclose(steps[0], 1000 / 64, rel_tol=0.1)
