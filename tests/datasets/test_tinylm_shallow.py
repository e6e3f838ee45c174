"""The bundled tinylm-shallow ladder: the second arm beside tinylm (one block per model)."""

from __future__ import annotations

from pathlib import Path

from scalinglab import datasets

ROOT = Path(__file__).resolve().parents[2]


def test_shallow_ladder_is_tinylm_with_one_block():
    df = datasets.load("tinylm-shallow")
    tiny = datasets.load("tinylm")
    assert "tinylm-shallow" in datasets.list_datasets()
    assert list(df.columns) == list(tiny.columns)
    assert set(df["depth"]) == {1} and set(df["family"]) == {"tinylm-shallow"}
    assert (df.groupby("run").size() == 11).all() and df["final"].sum() == df["run"].nunique()
    # non-embedding parameters L(12d^2 + 13d) + 2d with L = 1
    d = df["width"]
    assert (df["params"] == 12 * d**2 + 13 * d + 2 * d).all()
    # the same peak-lr rule and held-out windows as tinylm: equal widths share lr
    lr = dict(zip(tiny["width"], tiny["lr"]))
    assert all(abs(r.lr - lr[r.width]) < 1e-12 for r in df.itertuples() if r.width in lr)


def test_shallow_card_and_config():
    card = datasets.card("tinylm-shallow")
    tiny_sha = datasets.card("tinylm").split("corpus sha256 | `")[1].split("`")[0]
    assert tiny_sha in card and "identical to tinylm's" in card
    assert "CPU-minutes" in card and "Compared with tinylm" in card
    shipped = datasets.config_path("tinylm-shallow").read_text()
    assert shipped == (ROOT / "examples" / "sweeps" / "tinylm-shallow.toml").read_text()
