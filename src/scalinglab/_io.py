"""Small helpers at the bottom of the package: atomic writes, content hashes,
plain-JSON conversion and number formatting for people."""

from __future__ import annotations

import math
import os
import stat
import sys
from pathlib import Path
from typing import Any

__all__ = ["write_atomic", "sha256_bytes", "to_jsonable", "format_number"]


def _numpy():
    """numpy if it is already imported, else None: an object cannot be a numpy one before numpy is loaded
    (keeps ``scalinglab --help`` and other light paths free of the numpy import)."""
    return sys.modules.get("numpy")


def write_atomic(path: str | os.PathLike, data: str | bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file in the same folder + rename).

    A reader never sees a half-written file, and an interrupted write leaves the
    previous content in place.  Text is written as UTF-8.  A new file gets the
    usual permissions (``0o666`` less the umask, e.g. ``0o644`` under umask 022,
    as :func:`open` would give it); a replaced file keeps its permissions.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
    >>> _ = write_atomic(p, "hello")
    >>> p.read_text()
    'hello'
    >>> _ = write_atomic(p, b"bytes too")
    >>> p.read_bytes()
    b'bytes too'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    # os.open applies the umask to 0o666, like open(); tempfile.mkstemp would force 0o600.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(tmp, flags, 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.chmod(tmp, stat.S_IMODE(path.stat().st_mode))
        except FileNotFoundError:
            pass
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    import hashlib

    return hashlib.sha256(data).hexdigest()


def to_jsonable(obj: Any) -> Any:
    """``obj`` as plain JSON types: what :func:`json.dumps` accepts with ``allow_nan=False``.

    Mappings become dicts with string keys, tuples and arrays become lists, numpy
    scalars become Python numbers, NaN and +-inf become ``None`` (JSON has no
    such numbers) and paths become strings.  Anything else is returned unchanged.

    Examples
    --------
    >>> import numpy as np, pathlib
    >>> to_jsonable({"a": np.float64(0.5), "b": (np.int64(3), float("nan")), 2: np.array([1.0, np.inf])})
    {'a': 0.5, 'b': [3, None], '2': [1.0, None]}
    >>> to_jsonable([np.bool_(True), pathlib.PurePosixPath("runs/a.csv"), "text", None])
    [True, 'runs/a.csv', 'text', None]
    """
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, bool):
        return obj
    if isinstance(obj, float):  # numpy's float64 is a float too: made plain here
        return float(obj) if math.isfinite(obj) else None
    np = _numpy()
    if np is not None:
        if isinstance(obj, np.ndarray):
            return to_jsonable(obj.tolist())
        if isinstance(obj, np.bool_):
            return bool(obj)
        if isinstance(obj, np.floating):
            v = float(obj)
            return v if math.isfinite(v) else None
        if isinstance(obj, np.integer):
            return int(obj)
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    return obj


def format_number(
    value: Any,
    digits: int = 4,
    *,
    sci_digits: int | None = None,
    small: float = 1e-3,
    large: float = 1e5,
    missing: str = "-",
    show_infinity: bool = False,
) -> str:
    """A number for people: ``digits`` significant digits, scientific notation outside ``[small, large)``.

    ``|x|`` in ``[small, large)`` (or zero) is written ``f"{x:.{digits}g}"``, anything
    else ``f"{x:.{sci_digits}e}"`` (``sci_digits`` defaults to ``digits``).  ``None``
    and NaN give ``missing``; so do infinities unless ``show_infinity`` is set.
    Strings and booleans are returned as ``str(value)``.

    Examples
    --------
    >>> format_number(0.347312), format_number(1.4e12), format_number(120), format_number(None)
    ('0.3473', '1.4000e+12', '120', '-')
    >>> format_number(2.5e-5, 5, sci_digits=4), format_number(float("inf"), show_infinity=True)
    ('2.5000e-05', 'inf')
    >>> format_number(1.4e12, small=0, large=float("inf"), missing="–")  # never scientific by range
    '1.4e+12'
    """
    if value is None:
        return missing
    np = _numpy()
    if isinstance(value, (str, bool)) or (np is not None and isinstance(value, np.bool_)):
        return str(value)
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not math.isfinite(x):
        if show_infinity and math.isinf(x):
            return "inf" if x > 0 else "-inf"
        return missing
    a = abs(x)
    if a == 0 or small <= a < large:
        return f"{x:.{digits}g}"
    return f"{x:.{digits if sci_digits is None else sci_digits}e}"
