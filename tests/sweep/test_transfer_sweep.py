"""Transfer sweeps: English / code corpora from the standard library, the fine-tuning stage, its config."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pandas as pd
import pytest

from scalinglab.errors import ConfigError
from scalinglab.sweep.config import from_dict
from scalinglab.sweep.corpus import code_text, english_text

TINY = Path(__file__).resolve().parents[2] / "examples" / "sweeps" / "tiny-transfer.toml"
SRC = '''#!/usr/bin/env python
"""Module doc."""
import os  # the os module


class A:
    """Class doc."""

    def f(self):
        """Only a docstring."""

    def g(self, x):
        # double it
        s = "# not a comment"
        return 2 * x  # twice
'''


def test_english_text_keeps_docstrings_and_comments_only():
    text = english_text(SRC)
    assert text.split("\n\n") == [
        "Module doc.",
        "the os module",
        "Class doc.",
        "Only a docstring.",
        "double it",
        "twice\n",
    ]
    assert "import" not in text and "not a comment" not in text


def test_code_text_removes_them_and_still_parses():
    code = code_text(SRC)
    ast.parse(code)
    assert "doc" not in code and "twice" not in code and "#!" not in code
    assert '"# not a comment"' in code and "def f(self):\n        pass" in code
    assert all(line == line.rstrip() and line.strip() for line in code.splitlines())


def base(**over):
    cfg = {
        "seq_len": 32,
        "batch_size": 8,
        "heads": 2,
        "corpus": "english",
        "models": [
            {"width": 16, "depth": 1, "budgets": ["32K"]},
            {"width": 16, "depth": 1, "budgets": ["8K"], "corpus": "code"},
        ],
        "finetune": [{"from": ["english-d16-l1-t32K-s0"], "corpus": "code", "budgets": ["4K", "8K"], "lr_scale": 0.5}],
    }
    cfg.update(over)
    return cfg


def test_transfer_config_orders_sources_then_finetunes_then_scratch():
    cfg = from_dict(base())
    runs = cfg.runs()
    assert [r.run_id for r in runs] == [
        "english-d16-l1-t32K-s0",
        "english-d16-l1-t32K-s0-ft-code-t4K-s0",
        "english-d16-l1-t32K-s0-ft-code-t8K-s0",
        "code-d16-l1-t8K-s0",
    ]
    assert [r.stage for r in runs] == ["pretrain", "finetune", "finetune", "scratch"]
    assert runs[0].save_weights and not runs[3].save_weights
    assert runs[1].init_from == "english-d16-l1-t32K-s0" and runs[1].lr == pytest.approx(0.5 * runs[0].lr)
    assert cfg.is_transfer and cfg.corpora() == ["english", "code"]
    d = cfg.to_dict()
    assert d["finetune"][0]["from"] == ["english-d16-l1-t32K-s0"] and d["corpus"] == "english"


def test_plain_config_is_unchanged():
    cfg = from_dict(
        {"models": [{"width": 16, "depth": 1, "budgets": ["16K"]}], "seq_len": 32, "batch_size": 8, "heads": 2}
    )
    assert not cfg.is_transfer and "finetune" not in cfg.to_dict() and "corpus" not in cfg.to_dict()
    assert [r.run_id for r in cfg.runs()] == ["d16-l1-t16K-s0"]


@pytest.mark.parametrize(
    "ft, match",
    [
        (
            {"from": ["english-d16-l1-t32K-s1"], "corpus": "code", "budgets": ["4K"]},
            r"finetune\[0\]\.from: 'english-d16-l1-t32K-s1' is not a run.*did you mean 'english-d16-l1-t32K-s0'",
        ),
        ({"from": ["english-d16-l1-t32K-s0"], "corpus": "german", "budgets": ["4K"]}, r"corpus must be one of"),
        (
            {"from": ["english-d16-l1-t32K-s0"], "corpus": "code", "budgets": ["4K"], "lr_scael": 1},
            r"unknown key 'lr_scael' in finetune\[0\].*lr_scale",
        ),
        ({"from": ["english-d16-l1-t32K-s0"], "corpus": "code", "budgets": [100]}, r"less than one batch"),
        ({"corpus": "code", "budgets": ["4K"]}, r"missing key 'from'"),
    ],
)
def test_bad_finetune_tables_are_rejected(ft, match):
    with pytest.raises(ConfigError, match="(?s)" + match) as ei:
        from_dict(base(finetune=[ft]))
    assert "\n" not in ei.value.message


def test_bad_corpus_is_rejected():
    with pytest.raises(ConfigError, match="corpus must be one of"):
        from_dict(base(corpus="latin"))


@pytest.mark.slow
def test_tiny_transfer_sweep_end_to_end(tmp_path):
    pytest.importorskip("torch")
    from scalinglab.sweep import SerialExecutor, run
    from scalinglab.sweep.train import TRANSFER_COLUMNS

    res = run(TINY, tmp_path / "tt", executor=SerialExecutor(threads=1), progress=False)
    df = pd.read_csv(res.runs_csv)
    assert tuple(df.columns) == TRANSFER_COLUMNS
    assert set(df["stage"]) == {"pretrain", "finetune", "scratch"}
    ft = df[df["stage"] == "finetune"]
    assert set(ft["init_run"]) == {"english-d16-l1-t32K-s0"} and set(ft["init_corpus"]) == {"english"}
    assert (ft["corpus"] == "code").all() and (ft["init_tokens"] > 0).all()
    assert ft["init_loss"].notna().all() and (ft["init_loss"] < 5.5).all()  # below ln 256: it learnt bytes
    final = df[df["final"]]
    assert final.loc[final["stage"] == "finetune", "tokens"].tolist() == [3968, 7936]  # D_F, batch_size 4 x 32
    assert (tmp_path / "tt" / "weights" / "english-d16-l1-t32K-s0.pt").exists()
    meta = json.loads((tmp_path / "tt" / "sweep.json").read_text())
    assert set(meta["corpora"]) == {"english", "code"}
    assert all(len(c["sha256"]) == 64 for c in meta["corpora"].values())
    assert meta["corpora"]["english"]["sha256"] != meta["corpora"]["code"]["sha256"]
    again = run(TINY, tmp_path / "tt", executor=SerialExecutor(threads=1), progress=False)
    assert again.trained == [] and len(again.skipped) == 5
