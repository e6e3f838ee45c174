"""Mixed-modal sweeps: ``mix = {code = 0.5, english = 0.5}`` models, validation, and the columns they write."""

from __future__ import annotations

import pandas as pd
import pytest

from scalinglab.errors import ConfigError
from scalinglab.sweep.config import from_dict
from scalinglab.sweep.train import mixed_columns


def base(**model):
    m = {"width": 16, "depth": 1, "budgets": ["4K"]} | model
    return {
        "seq_len": 32,
        "batch_size": 4,
        "heads": 2,
        "models": [{"corpus": "code", "width": 16, "depth": 1, "budgets": ["4K"]}, m],
    }


def test_mixed_config_names_runs_and_corpora():
    cfg = from_dict(base(mix={"code": 0.5, "english": 0.5}))
    assert cfg.is_mixed and cfg.is_transfer
    ids = [r.run_id for r in cfg.runs()]
    assert ids == ["code-d16-l1-t4K-s0", "code50-english50-d16-l1-t4K-s0"]
    mixed = cfg.runs()[1]
    assert mixed.mix == (("code", 0.5), ("english", 0.5)) and mixed.corpus == "code+english"
    assert cfg.corpora() == ["code", "english"]
    assert cfg.to_dict()["models"][1]["mix"] == {"code": 0.5, "english": 0.5}
    assert from_dict(cfg.to_dict()) == cfg
    assert not from_dict(base()).is_mixed


@pytest.mark.parametrize(
    "mix, match",
    [
        ({"code": 1.0}, "two or more corpora"),
        ({"code": 0.5, "latin": 0.5}, "corpus must be one of"),
        ({"code": 0.5, "english": 0.4}, "sum to 1"),
        ({"code": 0.3, "english": 0.7}, "whole number of sequences"),
        ({"code": 0.0, "english": 1.0}, r"mix.code must lie in"),
    ],
)
def test_bad_mixtures_are_rejected(mix, match):
    with pytest.raises(ConfigError, match=match):
        from_dict(base(mix=mix))


def test_mix_and_corpus_together_are_rejected():
    with pytest.raises(ConfigError, match="both corpus and mix"):
        from_dict(base(mix={"code": 0.5, "english": 0.5}, corpus="code"))


def test_mixed_columns():
    cols = mixed_columns(["code", "english"])
    assert cols[-5:] == ("mix", "tokens_code", "tokens_english", "loss_code", "loss_english")


@pytest.mark.slow
def test_tiny_mixed_sweep_end_to_end(tmp_path):
    pytest.importorskip("torch")
    from scalinglab.sweep import SerialExecutor, run

    cfg = base(mix={"code": 0.25, "english": 0.75}) | {"checkpoints": 2, "eval_batches": 2}
    res = run(cfg, tmp_path / "mm", executor=SerialExecutor(threads=1), progress=False)
    df = pd.read_csv(res.runs_csv)
    assert tuple(df.columns) == mixed_columns(["code", "english"])
    fin = df[df["final"]].set_index("run")
    uni, joint = fin.loc["code-d16-l1-t4K-s0"], fin.loc["code25-english75-d16-l1-t4K-s0"]
    assert uni["tokens_code"] == uni["tokens"] and uni["tokens_english"] == 0 and uni["loss"] == uni["loss_code"]
    # 1 + 3 of every 4 sequences: exact per-modality tokens, loss the mean of the two held-out losses
    assert (
        joint["tokens_code"] * 3 == joint["tokens_english"]
        and joint["tokens_code"] + joint["tokens_english"] == joint["tokens"]
    )
    assert joint["loss"] == pytest.approx((joint["loss_code"] + joint["loss_english"]) / 2, abs=2e-6)
    assert joint["mix"] == "code:0.25,english:0.75"
