"""Self-supervised prototype pruning scores and class-balanced keep-masks (Sorscher et al. 2022, sec. 5).

The metric: run k-means on (L2-normalised) self-supervised embeddings; an example's difficulty is
the cosine distance to its nearest centroid, ``score_i = 1 - cos(e_i, c_nearest)``.  Far from every
prototype = hard, close = easy.  Sorscher et al. keep the hard examples when data is abundant
(the easy ones when it is scarce) and found class balancing essential: :func:`keep_mask` keeps the
same fraction of every class.  Performance was insensitive to k within an order of magnitude of
the number of classes.

k-means comes from scikit-learn (``pip install 'scalinglab[prune]'``), imported when scores are
computed.  Inputs are read, never modified; masks are written atomically (``.npy`` boolean mask,
``.csv`` of kept indices) for a data loader to read.

>>> import numpy as np
>>> mask = keep_mask(np.arange(150.0), 0.2, keep="hard", labels=np.repeat([0, 1, 2], 50))
>>> int(mask.sum()), [int(mask[i : i + 50].sum()) for i in (0, 50, 100)]
(30, [10, 10, 10])
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scalinglab._io import write_atomic
from scalinglab.errors import DataError, InvalidParameterError

__all__ = ["PrototypeScores", "prototype_scores", "keep_mask", "write_mask", "load_embeddings", "load_labels"]

_EMB_SUFFIXES = (".npy", ".csv", ".parquet")
_MASK_SUFFIXES = (".npy", ".csv")


def _kmeans_class():
    try:
        from sklearn.cluster import KMeans
    except ImportError:
        raise DataError(
            "prototype scores need the optional dependency scikit-learn (k-means)",
            kind="missing-dependency",
            hint="pip install 'scalinglab[prune]'",
        ) from None
    return KMeans


# --------------------------------------------------------------------------------------------- input


def _read_table(path: Path) -> pd.DataFrame:
    if path.suffix.lower() == ".parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise DataError(
                "reading Parquet needs the optional dependency pyarrow",
                source=str(path),
                kind="missing-dependency",
                hint="pip install 'scalinglab[parquet]', or save the array with numpy.save as .npy",
            ) from None
        return pd.read_parquet(path)
    frame = pd.read_csv(path, header=None)
    first = pd.to_numeric(frame.iloc[0], errors="coerce") if len(frame) else pd.Series(dtype=float)
    default_names = len(frame) > 1 and np.array_equal(first.to_numpy(), np.arange(frame.shape[1]))
    if len(frame) and (first.isna().all() or default_names):  # a header row (names, or pandas' 0..d-1)
        frame = pd.read_csv(path)
    return frame


def _source(obj) -> tuple[Path | None, str]:
    if isinstance(obj, (str, os.PathLike)):
        p = Path(obj)
        if not p.is_file():
            raise DataError(f"no such file: {p}", source=str(p), kind="missing-file", hint="check the path")
        if p.suffix.lower() not in _EMB_SUFFIXES:
            raise DataError(
                f"cannot read '{p.suffix}' files",
                source=str(p),
                kind="bad-format",
                hint=f"save it as one of {', '.join(_EMB_SUFFIXES)}",
            )
        return p, str(p)
    return None, "<array>"


def load_embeddings(source: str | os.PathLike | np.ndarray | pd.DataFrame) -> np.ndarray:
    """Embeddings as a float array of shape (n, d): an ``.npy`` array, a ``.csv`` / ``.parquet`` of numbers.

    A CSV may have a header row (names, or pandas' default 0 .. d-1); a Parquet file is either numeric columns or one column of vectors.
    Every value must be finite and there must be at least two rows.

    >>> load_embeddings([[1.0, 0.0], [0.0, 1.0]]).shape
    (2, 2)
    """
    path, label = _source(source)
    if path is not None and path.suffix.lower() == ".npy":
        arr = np.load(path, allow_pickle=False)
    elif path is not None:
        frame = _read_table(path)
        if frame.shape[1] == 1 and len(frame) and isinstance(frame.iloc[0, 0], (list, tuple, np.ndarray)):
            arr = np.stack([np.asarray(v, dtype=float) for v in frame.iloc[:, 0]])
        else:
            num = frame.apply(pd.to_numeric, errors="coerce")
            bad = [c for c in frame.columns if num[c].isna().all() and frame[c].notna().any()]
            if bad:
                raise DataError(
                    f"embedding column {bad[0]!r} is not numeric",
                    source=label,
                    column=str(bad[0]),
                    kind="bad-value",
                    hint="keep only the vector components in the file (labels go in a separate file)",
                )
            arr = num.to_numpy(dtype=float)
    else:
        arr = np.asarray(source.to_numpy() if isinstance(source, pd.DataFrame) else source)
    try:
        arr = np.asarray(arr, dtype=float)
    except (TypeError, ValueError):
        raise DataError(
            "embeddings must be numbers", source=label, kind="bad-value", hint="give an (n, d) array of floats"
        ) from None
    if arr.ndim != 2 or arr.shape[0] < 2 or arr.shape[1] < 1:
        raise DataError(
            f"embeddings must be a 2-D array (n examples, d dimensions) with n >= 2; got shape {arr.shape}",
            source=label,
            kind="bad-shape",
            hint="save one row per example, e.g. numpy.save('emb.npy', vectors.reshape(n, -1))",
        )
    bad = ~np.isfinite(arr)
    if bad.any():
        i, j = (int(v) for v in np.argwhere(bad)[0])
        raise DataError(
            f"{int(bad.any(axis=1).sum())} embedding row(s) contain NaN or inf "
            f"(first: row {i}, component {j}, counting from 0)",
            source=label,
            row=i,
            kind="bad-value",
            hint="drop or re-embed those examples before scoring",
        )
    return arr


def load_labels(source: str | os.PathLike | np.ndarray | pd.Series | None, n: int) -> np.ndarray | None:
    """Class labels (one per embedding row) from an array, ``.npy``, ``.csv`` or ``.parquet`` (one column,
    or a column named ``label``); None passes through.

    >>> load_labels(["cat", "dog", "cat"], 3).tolist()
    ['cat', 'dog', 'cat']
    """
    if source is None:
        return None
    path, label = _source(source)
    if path is not None and path.suffix.lower() == ".npy":
        arr = np.load(path, allow_pickle=False)
    elif path is not None:
        frame = _read_table(path)
        col = "label" if "label" in frame else frame.columns[0]
        if frame.shape[1] > 1 and "label" not in frame:
            raise DataError(
                f"the labels file has {frame.shape[1]} columns and none is named 'label'",
                source=label,
                kind="bad-shape",
                hint="keep one column, or name the class column 'label'",
            )
        arr = frame[col].to_numpy()
    else:
        arr = np.asarray(source)
    arr = np.asarray(arr)
    if arr.ndim != 1:
        raise DataError(
            f"labels must be one value per example (1-D); got shape {arr.shape}",
            source=label,
            kind="bad-shape",
            hint="give a flat array of class ids",
        )
    if len(arr) != n:
        raise DataError(
            f"{len(arr)} labels for {n} embeddings; there must be one label per embedding row",
            source=label,
            kind="length-mismatch",
            hint="give the labels of the same examples, in the same order",
        )
    if pd.isna(arr).any():
        i = int(np.flatnonzero(pd.isna(arr))[0])
        raise DataError(
            f"a label is missing (row {i}, counting from 0)",
            source=label,
            row=i,
            kind="missing-value",
            hint="label every example",
        )
    return arr


# ---------------------------------------------------------------------------------------------- scores


@dataclass(frozen=True)
class PrototypeScores:
    """Prototype difficulty scores (:func:`prototype_scores`).

    Attributes
    ----------
    scores : ndarray (n,)
        Cosine distance to the nearest centroid, in [0, 2]; high = hard (far from every prototype).
    cluster : ndarray (n,)
        Index of the nearest centroid.
    centroids : ndarray (k, d)
        Unit-norm centroids.
    labels : ndarray or None
    k : int
    seed : int
    """

    scores: np.ndarray
    cluster: np.ndarray
    centroids: np.ndarray = field(repr=False)
    labels: np.ndarray | None = field(default=None, repr=False)
    k: int = 0
    seed: int = 0

    def keep_mask(self, fraction: float, *, keep: str = "hard", class_balanced: bool = True) -> np.ndarray:
        """Boolean mask of the examples to keep (see :func:`keep_mask`), balanced over this result's labels."""
        return keep_mask(self.scores, fraction, keep=keep, labels=self.labels if class_balanced else None)

    def to_frame(self) -> pd.DataFrame:
        """One row per example: ``index``, ``score``, ``cluster`` (and ``label``)."""
        out = pd.DataFrame({"index": np.arange(len(self.scores)), "score": self.scores, "cluster": self.cluster})
        if self.labels is not None:
            out["label"] = self.labels
        return out

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON summary (counts and score quantiles; the scores themselves go to a file)."""
        q = np.quantile(self.scores, [0.0, 0.25, 0.5, 0.75, 1.0])
        return {
            "examples": int(len(self.scores)),
            "dimensions": int(self.centroids.shape[1]),
            "k": int(self.k),
            "seed": int(self.seed),
            "classes": None if self.labels is None else int(len(np.unique(self.labels))),
            "score_quantiles": {k: float(v) for k, v in zip(("min", "q25", "median", "q75", "max"), q, strict=True)},
        }


def _unit(a: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(a, axis=1, keepdims=True)
    return a / np.where(n > 0, n, 1.0)


def prototype_scores(
    embeddings,
    *,
    k: int | None = None,
    labels=None,
    seed: int = 0,
    n_init: int = 3,
) -> PrototypeScores:
    """Self-supervised prototype scores: k-means on unit embeddings, cosine distance to the nearest centroid.

    score_i = 1 - cos(e_i, c_j*), j* = argmax_j cos(e_i, c_j)  (Sorscher et al. 2022, arXiv:2206.14486, sec. 5)

    Parameters
    ----------
    embeddings : (n, d) array or path (.npy, .csv, .parquet)
    k : int, optional
        Clusters; default the number of classes when ``labels`` are given, else ``min(30, n)``
        (the paper found k within an order of magnitude of the classes works alike).
    labels : array or path, optional
        Class labels, kept for class-balanced masks.
    seed : int
        k-means seed (same inputs and seed, same scores).
    n_init : int
        k-means restarts.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> centers = 5 * np.eye(4)
    >>> emb = np.concatenate([c + rng.normal(0, 0.3, (40, 4)) for c in centers])
    >>> emb[0] = [1.0, 1.0, 1.0, 1.0]          # between the prototypes: hard
    >>> res = prototype_scores(emb, k=4)
    >>> int(np.argmax(res.scores)), res.k
    (0, 4)
    """
    X = load_embeddings(embeddings)
    y = load_labels(labels, len(X))
    n = len(X)
    if k is None:
        k = int(len(np.unique(y))) if y is not None else min(30, n)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= n:
        raise InvalidParameterError(
            f"prototype_scores(): 'k' (clusters) must be an int in [1, {n}]; got {k!r}",
            hint="e.g. k=30, or about the number of classes",
            cli_hint="e.g. --k 30, or about the number of classes",
        )
    U = _unit(X)
    km = _kmeans_class()(n_clusters=int(k), random_state=int(seed), n_init=int(n_init)).fit(U)
    C = _unit(km.cluster_centers_)
    cos = U @ C.T
    nearest = np.argmax(cos, axis=1)
    scores = np.clip(1.0 - cos[np.arange(n), nearest], 0.0, 2.0)
    return PrototypeScores(scores=scores, cluster=nearest, centroids=C, labels=y, k=int(k), seed=int(seed))


# ---------------------------------------------------------------------------------------------- masks


def keep_mask(scores, fraction: float, *, keep: str = "hard", labels=None) -> np.ndarray:
    """Boolean mask keeping a ``fraction`` of the examples: the highest scores (``keep="hard"``) or the lowest.

    With ``labels`` the same fraction of every class is kept (``round(fraction * n_class)``, at least
    one per class): Sorscher et al. found class balancing essential.  Ties go to the lower index.

    >>> keep_mask([0.1, 0.9, 0.5, 0.3], 0.5).tolist()
    [False, True, True, False]
    >>> keep_mask([0.1, 0.9, 0.5, 0.3], 0.5, keep="easy").tolist()
    [True, False, False, True]
    """
    s = np.asarray(scores, dtype=float)
    if s.ndim != 1 or not np.all(np.isfinite(s)):
        raise DataError(
            "scores must be one finite number per example", kind="bad-value", hint="pass prototype_scores(...).scores"
        )
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float, np.floating)) or not 0 < fraction <= 1:
        raise InvalidParameterError(
            f"keep_mask(): 'fraction' (share of examples kept) must lie in (0, 1]; got {fraction!r}",
            hint="e.g. fraction=0.7 keeps 70%",
            cli_hint="e.g. --fraction 0.7 keeps 70%",
        )
    if keep not in ("hard", "easy"):
        raise InvalidParameterError(
            f"keep_mask(): 'keep' must be 'hard' or 'easy'; got {keep!r}",
            hint="keep='hard' when data is abundant, 'easy' when scarce",
            cli_hint="--keep hard when data is abundant, --keep easy when scarce",
        )
    y = load_labels(labels, len(s)) if labels is not None else None
    groups = [np.arange(len(s))] if y is None else [np.flatnonzero(y == c) for c in pd.unique(y)]
    mask = np.zeros(len(s), dtype=bool)
    for idx in groups:
        m = max(1, int(round(fraction * len(idx))))
        key = -s[idx] if keep == "hard" else s[idx]
        order = np.argsort(key, kind="stable")
        mask[idx[order[:m]]] = True
    return mask


def write_mask(mask, path: str | os.PathLike, *, protect: tuple[str | os.PathLike, ...] = (), scores=None) -> Path:
    """Write a keep-mask atomically: ``.npy`` (boolean array, ``numpy.load`` it) or ``.csv`` (kept indices).

    ``protect`` names input files that must not be overwritten (the embeddings and labels).
    With ``scores`` a ``.csv`` also gets a ``score`` column.

    >>> import tempfile, pathlib, numpy as np
    >>> out = write_mask([True, False, True], pathlib.Path(tempfile.mkdtemp()) / "keep.npy")
    >>> np.load(out).tolist()
    [True, False, True]
    """
    m = np.asarray(mask)
    if m.ndim != 1 or m.dtype != bool:
        raise InvalidParameterError("write_mask(): 'mask' must be a 1-D boolean array", hint="use keep_mask(...)")
    p = Path(path)
    if p.suffix.lower() not in _MASK_SUFFIXES:
        raise InvalidParameterError(
            f"write_mask(): cannot write '{p.suffix}' masks",
            hint="name the output .npy (boolean mask) or .csv (kept indices)",
            cli_hint="name --out ... .npy (boolean mask) or .csv (kept indices)",
        )
    target = p.resolve()
    for q in protect:
        if q is not None and Path(q).exists() and Path(q).resolve() == target:
            raise InvalidParameterError(
                f"write_mask(): the output {p} is an input file; inputs are never overwritten",
                hint="choose another output path",
                cli_hint="choose another --out path",
            )
    if p.suffix.lower() == ".npy":
        buf = io.BytesIO()
        np.save(buf, m, allow_pickle=False)
        return write_atomic(p, buf.getvalue())
    idx = np.flatnonzero(m)
    frame = pd.DataFrame({"index": idx})
    if scores is not None:
        frame["score"] = np.asarray(scores, dtype=float)[idx]
    return write_atomic(p, frame.to_csv(index=False))
