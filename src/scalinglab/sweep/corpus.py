"""Byte-level corpus built from the running interpreter's standard library.

Every machine that runs Python has these files, so a ladder needs no download.
The corpus depends on the Python version: :func:`build_corpus` records it with
the SHA-256 and the byte counts so a ladder is reproducible.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
import sysconfig
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from scalinglab._io import write_atomic

__all__ = ["CorpusInfo", "build_corpus", "load_corpus", "corpus_files"]

#: Directory names never entered (tests, vendored/IDE code, caches, installed packages).
SKIP_DIRS = frozenset(
    {
        "site-packages",
        "dist-packages",
        "test",
        "tests",
        "idle_test",
        "idlelib",
        "lib2to3",
        "turtledemo",
        "ensurepip",
        "__pycache__",
    }
)


@dataclass(frozen=True)
class CorpusInfo:
    """Description of a built corpus (stored as ``corpus.json`` next to the arrays)."""

    sha256: str
    train_bytes: int
    val_bytes: int
    n_files: int
    n_val_files: int
    val_fraction: float
    python_version: str
    python_implementation: str
    stdlib: str

    def to_dict(self) -> dict:
        return asdict(self)


def _is_val(relpath: str, val_fraction: float) -> bool:
    """Deterministic held-out split: ``sha256(relpath) mod 10**6 < val_fraction * 10**6``."""
    h = int.from_bytes(hashlib.sha256(relpath.encode()).digest()[:8], "big")
    return (h % 1_000_000) < round(val_fraction * 1_000_000)


def corpus_files(stdlib: str | os.PathLike | None = None) -> list[tuple[str, Path]]:
    """Sorted ``(relative posix path, absolute path)`` of the stdlib ``*.py`` files used."""
    root = Path(stdlib or sysconfig.get_paths()["stdlib"])
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for fn in filenames:
            if fn.endswith(".py"):
                p = Path(dirpath) / fn
                out.append((p.relative_to(root).as_posix(), p))
    out.sort(key=lambda t: t[0])
    return out


def build_corpus(cache_dir: str | os.PathLike, val_fraction: float = 0.02) -> CorpusInfo:
    """Build (or reuse) the byte corpus in ``cache_dir``.

    Writes ``train.u8``, ``val.u8`` (raw ``uint8`` arrays, read back as memmaps)
    and ``corpus.json``.  The SHA-256 is over the train bytes followed by the
    held-out bytes.  An existing cache is reused only if its recorded Python
    version, stdlib path and split fraction match.
    """
    cache = Path(cache_dir)
    meta_path = cache / "corpus.json"
    stdlib = sysconfig.get_paths()["stdlib"]
    pyver = platform.python_version()
    if meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if (
            meta.get("python_version") == pyver
            and meta.get("stdlib") == stdlib
            and meta.get("val_fraction") == val_fraction
            and (cache / "train.u8").exists()
            and (cache / "val.u8").exists()
        ):
            return CorpusInfo(**meta)
    cache.mkdir(parents=True, exist_ok=True)
    train, val = [], []
    n_val = 0
    files = corpus_files(stdlib)
    for rel, path in files:
        data = path.read_bytes()
        if _is_val(rel, val_fraction):
            val.append(data)
            n_val += 1
        else:
            train.append(data)
    tr, va = b"".join(train), b"".join(val)
    sha = hashlib.sha256(tr + va).hexdigest()
    for name, blob in (("train.u8", tr), ("val.u8", va)):
        write_atomic(cache / name, blob)
    info = CorpusInfo(
        sha256=sha,
        train_bytes=len(tr),
        val_bytes=len(va),
        n_files=len(files),
        n_val_files=n_val,
        val_fraction=val_fraction,
        python_version=pyver,
        python_implementation=f"{platform.python_implementation()} {sys.version.split()[0]}",
        stdlib=stdlib,
    )
    write_atomic(meta_path, json.dumps(info.to_dict(), indent=2))
    return info


def load_corpus(cache_dir: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(train, val)`` as read-only ``uint8`` memmaps."""
    cache = Path(cache_dir)
    train = np.memmap(cache / "train.u8", dtype=np.uint8, mode="r")
    val = np.memmap(cache / "val.u8", dtype=np.uint8, mode="r")
    return train, val
