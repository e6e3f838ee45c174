"""Self-supervised prototype pruning scores (k-means, cosine distance to the nearest centroid), class-balanced
keep-masks and their files.  Tests that run k-means skip with the reason when scikit-learn is absent, except
in CI (CI=true), where it is required (``pip install 'scalinglab[prune]'``)."""

from __future__ import annotations

import hashlib
import importlib
import os

import numpy as np
import pandas as pd
import pytest

from scalinglab.analyze.pruning import keep_mask, load_embeddings, load_labels, prototype_scores, write_mask
from scalinglab.errors import DataError, InvalidParameterError


def _need_sklearn():
    try:
        return importlib.import_module("sklearn")
    except ImportError:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("scikit-learn is required in CI (pip install 'scalinglab[prune]')")
        pytest.skip("scikit-learn is not installed (pip install 'scalinglab[prune]')")


def _blobs(seed: int = 0, per: int = 40, d: int = 8):
    rng = np.random.default_rng(seed)
    emb = np.concatenate([6 * np.eye(d)[i] + rng.normal(0, 1, (per, d)) for i in range(3)])
    return emb, np.repeat(["a", "b", "c"], per)


def test_scores_are_cosine_distances_to_the_nearest_centroid():
    _need_sklearn()
    emb, lab = _blobs()
    emb[5] = [1.0] * 8  # equidistant from every prototype: the hardest example
    res = prototype_scores(emb, labels=lab, seed=0)
    assert res.k == 3 and res.centroids.shape == (3, 8)
    assert int(np.argmax(res.scores)) == 5
    unit = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    expect = 1 - np.max(unit @ res.centroids.T, axis=1)
    np.testing.assert_allclose(res.scores, expect, atol=1e-12)
    # clusters recover the blobs (each blob is one cluster)
    others = np.arange(len(lab)) != 5
    majority = [np.bincount(res.cluster[(lab == c) & others]).argmax() for c in "abc"]
    assert len(set(majority)) == 3
    assert all(np.all(res.cluster[(lab == c) & others] == m) for c, m in zip("abc", majority))
    again = prototype_scores(emb, labels=lab, seed=0)
    np.testing.assert_array_equal(res.scores, again.scores)
    frame = res.to_frame()
    assert list(frame.columns) == ["index", "score", "cluster", "label"] and len(frame) == 120
    d = res.to_dict()
    assert d["examples"] == 120 and d["classes"] == 3 and d["score_quantiles"]["max"] == pytest.approx(res.scores.max())


def test_class_balanced_masks_keep_the_same_share_of_every_class():
    _need_sklearn()
    emb, lab = _blobs()
    lab = lab.copy()
    lab[:10] = "d"  # an unbalanced fourth class of 10
    res = prototype_scores(emb, labels=lab, k=3)
    hard = res.keep_mask(0.3, keep="hard")
    easy = res.keep_mask(0.3, keep="easy")
    counts = pd.Series(lab[hard]).value_counts().to_dict()
    assert counts == {"a": 9, "b": 12, "c": 12, "d": 3}
    for c in set(lab):  # within a class, every kept hard example is harder than every dropped one
        s, m = res.scores[lab == c], hard[lab == c]
        assert s[m].min() >= s[~m].max()
        assert res.scores[(lab == c) & easy].max() <= res.scores[(lab == c) & ~easy].min()
    assert res.keep_mask(1.0).all()


def test_keep_mask_without_labels_and_bad_fraction():
    m = keep_mask([0.1, 0.9, 0.5, 0.3, 0.7], 0.4)
    assert m.tolist() == [False, True, False, False, True]
    assert keep_mask([0.2, 0.2, 0.2], 0.34, keep="easy").tolist() == [True, False, False]
    for bad in (0.0, 1.5, -0.1, float("nan")):
        with pytest.raises(InvalidParameterError, match="'fraction'"):
            keep_mask([0.1, 0.2], bad)
    with pytest.raises(InvalidParameterError, match="'keep'"):
        keep_mask([0.1, 0.2], 0.5, keep="middle")
    with pytest.raises(DataError, match="one label per embedding"):
        keep_mask([0.1, 0.2, 0.3], 0.5, labels=[0, 1])


def test_masks_are_written_atomically_and_inputs_are_never_touched(tmp_path):
    _need_sklearn()
    emb, lab = _blobs()
    src = tmp_path / "emb.npy"
    np.save(src, emb)
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    res = prototype_scores(src, k=3)
    mask = res.keep_mask(0.25)
    out = write_mask(mask, tmp_path / "keep.npy", protect=(src,))
    loaded = np.load(out)
    assert loaded.dtype == bool and loaded.tolist() == mask.tolist()
    csv = write_mask(mask, tmp_path / "keep.csv", scores=res.scores)
    idx = pd.read_csv(csv)
    assert idx["index"].tolist() == np.flatnonzero(mask).tolist() and "score" in idx
    assert hashlib.sha256(src.read_bytes()).hexdigest() == digest
    assert sorted(p.name for p in tmp_path.iterdir()) == ["emb.npy", "keep.csv", "keep.npy"]  # no temp files left
    with pytest.raises(InvalidParameterError, match="input file"):
        write_mask(mask, src, protect=(src,))
    with pytest.raises(InvalidParameterError, match=".txt"):
        write_mask(mask, tmp_path / "keep.txt")


def test_embeddings_from_csv_parquet_and_arrays(tmp_path):
    emb, lab = _blobs(per=5)
    pd.DataFrame(emb).to_csv(tmp_path / "named.csv", index=False)  # header 0..d-1
    pd.DataFrame(emb, columns=[f"e{i}" for i in range(8)]).to_csv(tmp_path / "e.csv", index=False)
    np.savetxt(tmp_path / "plain.csv", emb, delimiter=",")
    for name in ("named.csv", "e.csv", "plain.csv"):
        np.testing.assert_allclose(load_embeddings(tmp_path / name), emb)
    pd.DataFrame({"label": lab}).to_csv(tmp_path / "lab.csv", index=False)
    assert load_labels(tmp_path / "lab.csv", 15).tolist() == lab.tolist()
    if importlib.util.find_spec("pyarrow") is not None:
        pd.DataFrame(emb, columns=[f"e{i}" for i in range(8)]).to_parquet(tmp_path / "e.parquet")
        np.testing.assert_allclose(load_embeddings(tmp_path / "e.parquet"), emb)


@pytest.mark.parametrize(
    ("data", "kind", "words"),
    [
        (np.ones(5), "bad-shape", "2-D"),
        (np.ones((1, 3)), "bad-shape", "n >= 2"),
        (np.array([[1.0, 2.0], [np.nan, 1.0], [3.0, 4.0]]), "bad-value", "row 1"),
        (np.array([[1.0, 2.0], [np.inf, 1.0]]), "bad-value", "NaN or inf"),
    ],
)
def test_bad_embeddings_name_the_problem(data, kind, words):
    with pytest.raises(DataError) as err:
        load_embeddings(data)
    assert err.value.kind == kind and words in str(err.value) and err.value.hint


def test_bad_files_and_labels(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        load_embeddings(tmp_path / "missing.npy")
    (tmp_path / "e.txt").write_text("1,2\n")
    with pytest.raises(DataError, match="cannot read '.txt'"):
        load_embeddings(tmp_path / "e.txt")
    pd.DataFrame({"a": ["x", "y"], "b": [1.0, 2.0]}).to_csv(tmp_path / "mixed.csv", index=False)
    with pytest.raises(DataError, match="not numeric"):
        load_embeddings(tmp_path / "mixed.csv")
    with pytest.raises(DataError) as err:
        load_labels(np.zeros(3), 4)
    assert err.value.kind == "length-mismatch" and "3 labels for 4 embeddings" in str(err.value)
    with pytest.raises(DataError, match="missing"):
        load_labels(np.array([1.0, np.nan]), 2)


def test_k_out_of_range():
    _need_sklearn()
    emb, _ = _blobs(per=4)
    with pytest.raises(InvalidParameterError, match="'k'"):
        prototype_scores(emb, k=100)
    with pytest.raises(InvalidParameterError, match="'k'"):
        prototype_scores(emb, k=0)
