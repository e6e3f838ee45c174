"""The bundled mixed-modal ladder: what its card promises holds in its table."""

from __future__ import annotations

import numpy as np
import pytest

from scalinglab import datasets


@pytest.fixture(scope="module")
def df():
    if "tinylm-mixed" not in datasets.list_datasets():
        pytest.skip("tinylm-mixed not bundled in this checkout")
    return datasets.load("tinylm-mixed")


def test_ladder_shape(df):
    fin = df[df["final"]]
    joint = fin[(fin["tokens_code"] > 0) & (fin["tokens_english"] > 0)]
    code = fin[(fin["tokens_code"] > 0) & (fin["tokens_english"] == 0)]
    eng = fin[(fin["tokens_english"] > 0) & (fin["tokens_code"] == 0)]
    assert len(joint) + len(code) + len(eng) == len(fin)
    assert joint["params"].nunique() >= 4 and joint["token_budget"].nunique() >= 2
    assert code["params"].nunique() >= 4 and eng["params"].nunique() >= 4
    # per-modality tokens add up, and a joint run's loss is the mean of its two held-out losses
    np.testing.assert_array_equal(fin["tokens_code"] + fin["tokens_english"], fin["tokens"])
    np.testing.assert_allclose(joint["loss"], (joint["loss_code"] + joint["loss_english"]) / 2, atol=2e-6)
    np.testing.assert_array_equal(code["loss"], code["loss_code"])
    # every 50/50 joint run has unimodal partners with exactly its per-modality tokens
    half = joint[joint["mix"] == "code:0.5,english:0.5"]
    keys = set(zip(code["params"], code["tokens_code"], code["seed"]))
    assert all((n, t, s) in keys for n, t, s in zip(half["params"], half["tokens_code"], half["seed"]))


def test_card_states_cost_law_and_barrier(df):
    card = datasets.card("tinylm-mixed")
    for needle in ("CPU-minutes", "Competition barrier", "interaction C", "sha256", "scalinglab sweep"):
        assert needle in card


@pytest.mark.slow
def test_mixed_modal_runs_on_it(df):
    import scalinglab as sl

    r = sl.mixed_modal(df, ("code", "english"), n_resamples=20)
    assert len(r.runs) >= 8 and r.runs["net_measured"].notna().sum() >= 8
    assert r.barrier_statement() and r.measured_statement().startswith("the joint model beats")
