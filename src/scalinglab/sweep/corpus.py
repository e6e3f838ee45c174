"""Byte-level corpora built from the running interpreter's standard library.

Every machine that runs Python has these files, so a ladder needs no download.
Three corpora (``kind``), all split into train/held-out by file with the same
hash rule:

- ``"stdlib"``: the ``*.py`` files as they are (the ``tinylm`` ladder);
- ``"english"``: the standard library's English, i.e. its docstrings
  (:func:`ast.get_docstring`) and comments (:mod:`tokenize`), plus the
  documentation in ``pydoc_data/topics.py`` (split by topic);
- ``"code"``: the same files with docstrings and comments removed
  (``pydoc_data`` left out: it is documentation stored as data).

English and code are the two ends of the text -> Python transfer experiment of
Hernandez et al. 2021.  The corpus depends on the Python version:
:func:`build_corpus` records it with the SHA-256 and the byte counts so a
ladder is reproducible.
"""

from __future__ import annotations

import ast
import hashlib
import io
import json
import os
import platform
import sys
import sysconfig
import tokenize
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from scalinglab._io import write_atomic

__all__ = ["CorpusInfo", "build_corpus", "load_corpus", "corpus_files", "english_text", "code_text", "CORPORA"]

#: Corpus kinds :func:`build_corpus` can build.
CORPORA = ("stdlib", "english", "code")
_TOPICS = "pydoc_data/topics.py"

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
    kind: str = "stdlib"

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


_DOC_NODES = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)


def _docstring_nodes(tree: ast.AST) -> list[tuple[ast.AST, ast.Expr]]:
    """``(owner, docstring expression)`` for every module/class/function docstring."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, _DOC_NODES) and node.body:
            first = node.body[0]
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                out.append((node, first))
    return out


def _comments(source: str) -> list[tuple[int, int, int, str]]:
    """``(line, col, end_col, text)`` of every comment token (``#`` included in the span)."""
    out = []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            out.append((tok.start[0], tok.start[1], tok.end[1], tok.string))
    return out


def english_text(source: str) -> str:
    r"""The English of a Python source: its docstrings and comments, in file order.

    Docstrings are cleaned (:func:`inspect.cleandoc`); comment runs on
    consecutive lines form one paragraph (``#`` and one space stripped; shebang,
    coding and pure-punctuation lines dropped).  Raises ``SyntaxError`` on
    source that does not parse.

    >>> english_text("'''Add numbers.'''\n# sum them up\nx = 1  # one\n")
    'Add numbers.\n\nsum them up\none\n'
    """
    tree = ast.parse(source)
    items: list[tuple[int, str]] = []
    for owner, expr in _docstring_nodes(tree):
        doc = ast.get_docstring(owner, clean=True)
        if doc and doc.strip():
            items.append((expr.lineno, doc.strip()))
    run: list[str] = []
    run_start = run_last = -10
    for line, _c, _e, text in _comments(source):
        body = text.lstrip("#")
        body = body[1:] if body.startswith(" ") else body
        body = body.rstrip()
        if line <= 2 and (text.startswith("#!") or "coding" in text):
            continue
        if not any(ch.isalnum() for ch in body):
            continue
        if line != run_last + 1 and run:
            items.append((run_start, "\n".join(run)))
            run = []
        if not run:
            run_start = line
        run.append(body)
        run_last = line
    if run:
        items.append((run_start, "\n".join(run)))
    items.sort(key=lambda t: t[0])
    return "".join(t + "\n\n" for _, t in items).rstrip("\n") + ("\n" if items else "")


def code_text(source: str) -> str:
    r"""A Python source with its docstrings and comments removed.

    Docstring statements are cut out by their exact AST span (a body left empty
    gets ``pass``), comments by their token span; lines left blank by a removal
    are dropped, trailing spaces stripped.  Raises ``SyntaxError`` on source
    that does not parse.

    >>> print(code_text("def f(x):\n    '''Double x.'''\n    return 2 * x  # twice\n"), end="")
    def f(x):
        return 2 * x
    """
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    # character offsets of each line start (ast columns are UTF-8 byte offsets: work in bytes)
    blines = [ln.encode("utf-8") for ln in lines]
    starts = [0]
    for b in blines:
        starts.append(starts[-1] + len(b))
    data = b"".join(blines)
    cuts: list[tuple[int, int, bytes]] = []
    touched: set[int] = set()
    for owner, expr in _docstring_nodes(tree):
        a = starts[expr.lineno - 1] + expr.col_offset
        b = starts[expr.end_lineno - 1] + expr.end_col_offset
        repl = b"pass" if len(owner.body) == 1 and not isinstance(owner, ast.Module) else b""
        cuts.append((a, b, repl))
        touched.update(range(expr.lineno, expr.end_lineno + 1))
    for line, col, end, _text in _comments(source):
        lb = lines[line - 1]
        a = starts[line - 1] + len(lb[:col].encode("utf-8"))
        b = starts[line - 1] + len(lb[:end].encode("utf-8"))
        cuts.append((a, b, b""))
        touched.add(line)
    cuts.sort()
    out, pos = [], 0
    for a, b, repl in cuts:
        if a < pos:  # nested (cannot happen for well-formed source); keep the first
            continue
        out.append(data[pos:a])
        out.append(repl)
        pos = b
    out.append(data[pos:])
    text = b"".join(out).decode("utf-8")
    kept = []
    for ln in text.splitlines():
        stripped = ln.rstrip()
        if stripped.strip() in ("", ";"):
            continue
        kept.append(stripped)
    return "\n".join(kept) + ("\n" if kept else "")


def _topics(path: Path) -> dict[str, str]:
    """The ``topics`` dict of ``pydoc_data/topics.py``, read without importing it."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "topics" for t in node.targets):
            return ast.literal_eval(node.value)
    return {}


def _documents(kind: str, stdlib: str) -> tuple[list[tuple[str, bytes]], int]:
    """``(name, bytes)`` documents of a corpus kind, in a fixed order, and the number of files skipped."""
    files = corpus_files(stdlib)
    if kind == "stdlib":
        return [(rel, path.read_bytes()) for rel, path in files], 0
    docs: list[tuple[str, bytes]] = []
    skipped = 0
    for rel, path in files:
        if rel == _TOPICS:
            continue
        try:
            src = path.read_bytes().decode("utf-8")
            text = english_text(src) if kind == "english" else code_text(src)
        except (SyntaxError, UnicodeDecodeError, ValueError, tokenize.TokenError):
            skipped += 1
            continue
        if text:
            docs.append((rel, text.encode("utf-8")))
    if kind == "english":
        tp = Path(stdlib) / _TOPICS
        if tp.exists():
            for key, text in sorted(_topics(tp).items()):
                docs.append((f"{_TOPICS}:{key}", (text.strip() + "\n\n").encode("utf-8")))
    return docs, skipped


def build_corpus(cache_dir: str | os.PathLike, val_fraction: float = 0.02, kind: str = "stdlib") -> CorpusInfo:
    """Build (or reuse) the byte corpus of ``kind`` (see :data:`CORPORA`) in ``cache_dir``.

    Writes ``train.u8``, ``val.u8`` (raw ``uint8`` arrays, read back as memmaps)
    and ``corpus.json``.  The SHA-256 is over the train bytes followed by the
    held-out bytes.  An existing cache is reused only if its recorded kind,
    Python version, stdlib path and split fraction match.  Documents (files;
    topics of ``pydoc_data`` for English) are held out by the hash of their name.
    """
    if kind not in CORPORA:
        raise ValueError(f"unknown corpus kind {kind!r}; one of {', '.join(CORPORA)}")
    cache = Path(cache_dir)
    meta_path = cache / "corpus.json"
    stdlib = sysconfig.get_paths()["stdlib"]
    pyver = platform.python_version()
    if meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if (
            meta.get("kind", "stdlib") == kind
            and meta.get("python_version") == pyver
            and meta.get("stdlib") == stdlib
            and meta.get("val_fraction") == val_fraction
            and (cache / "train.u8").exists()
            and (cache / "val.u8").exists()
        ):
            return CorpusInfo(**meta)
    cache.mkdir(parents=True, exist_ok=True)
    train, val = [], []
    n_val = 0
    docs, _skipped = _documents(kind, stdlib)
    for rel, data in docs:
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
        n_files=len(docs),
        n_val_files=n_val,
        val_fraction=val_fraction,
        python_version=pyver,
        python_implementation=f"{platform.python_implementation()} {sys.version.split()[0]}",
        stdlib=stdlib,
        kind=kind,
    )
    write_atomic(meta_path, json.dumps(info.to_dict(), indent=2))
    return info


def load_corpus(cache_dir: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(train, val)`` as read-only ``uint8`` memmaps."""
    cache = Path(cache_dir)
    train = np.memmap(cache / "train.u8", dtype=np.uint8, mode="r")
    val = np.memmap(cache / "val.u8", dtype=np.uint8, mode="r")
    return train, val
