"""The reader registry: file format name and suffixes -> a function returning the raw table.

A reader is any function ``(path: Path, **options) -> pandas.DataFrame`` that
returns the table as stored, before column mapping and validation (those are
:func:`scalinglab.data.read_runs`'s job).  :func:`read_table` wraps every reader
with the checks all formats share: the file exists, is a file, is not empty,
is UTF-8 text where text is expected, and parses; each failure is a
:class:`~scalinglab.errors.DataError` that names the file and a fix.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Union

import pandas as pd

from scalinglab.errors import DataError, InvalidParameterError

__all__ = [
    "Reader",
    "ReaderFunc",
    "reader",
    "register_reader",
    "unregister_reader",
    "get_reader",
    "list_readers",
    "read_table",
    "reader_option_names",
]

#: A reader function: the path, reader-specific keyword options -> the raw table.
ReaderFunc = Callable[..., pd.DataFrame]

_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
_URI = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]+://")


@dataclass(frozen=True)
class Reader:
    """One file format: its ``name`` (for ``format=`` / ``--format``), the file
    ``suffixes`` it claims (lower case, with the dot) and the function that reads it."""

    name: str
    func: ReaderFunc
    suffixes: tuple[str, ...] = ()
    description: str = ""
    #: Also reads a directory (TensorBoard log dirs, MLflow stores...); ``detect(dir)`` claims one unasked.
    directory: bool = False
    #: Also reads a URI such as ``http://host:5000`` (tracking servers).
    uri: bool = False
    detect: Callable[[Path], bool] | None = None

    def __str__(self) -> str:
        return f"{self.name} ({', '.join(self.suffixes)})" if self.suffixes else self.name


_READERS: dict[str, Reader] = {}  # name -> reader, in registration order
_BY_SUFFIX: dict[str, str] = {}  # suffix -> reader name


def register_reader(
    name: str,
    func: ReaderFunc,
    *,
    suffixes: Iterable[str] = (),
    description: str = "",
    overwrite: bool = False,
    directory: bool = False,
    uri: bool = False,
    detect: Callable[[Path], bool] | None = None,
) -> Reader:
    """Add a file format so :func:`~scalinglab.data.read_runs` (and the CLI) can read it.

    Parameters
    ----------
    name : str
        Lower-case format name, e.g. ``"csv"``; picks the reader with ``format=name``.
    func : callable
        ``func(path, **options) -> pandas.DataFrame``, the raw table.
    suffixes : iterable of str
        File endings that select this reader, with the dot: ``(".csv", ".csv.gz")``.
    description : str
        A few words shown in error messages, e.g. ``"comma-separated values with a header row"``.
    overwrite : bool
        Replace a reader of the same name, or take over a suffix another reader claims.
    directory, uri : bool
        The reader also takes a directory / a URI (``scheme://...``) as its source.
    detect : callable, optional
        ``detect(directory) -> bool``: read a directory with this reader when no format is named.

    Examples
    --------
    >>> import pandas as pd
    >>> r = register_reader("semicolon", lambda path, **kw: pd.read_csv(path, sep=";", **kw),
    ...                     suffixes=(".scsv",), description="semicolon-separated values")
    >>> get_reader("runs.scsv").name
    'semicolon'
    >>> unregister_reader("semicolon") is r
    True
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidParameterError(
            f"register_reader(): reader name must be a lower-case word such as 'csv'; got {name!r}",
            hint="use letters, digits, '_' or '-', starting with a letter",
        )
    if not callable(func):
        raise InvalidParameterError(
            f"register_reader(): the reader for '{name}' is not callable ({func!r})",
            hint="pass a function (path, **options) -> pandas.DataFrame",
        )
    if isinstance(suffixes, str):
        suffixes = (suffixes,)
    clean = tuple(dict.fromkeys(str(s).strip().lower() for s in suffixes))
    for s in clean:
        if not s.startswith(".") or len(s) < 2:
            raise InvalidParameterError(
                f"register_reader(): suffix {s!r} of reader '{name}' must start with a dot",
                hint="write suffixes with the dot, e.g. suffixes=('.runs',)",
            )
    if not overwrite:
        if name in _READERS:
            raise InvalidParameterError(
                f"a reader named '{name}' is already registered", hint="choose another name or pass overwrite=True"
            )
        taken = {s: _BY_SUFFIX[s] for s in clean if _BY_SUFFIX.get(s, name) != name}
        if taken:
            s, owner = next(iter(taken.items()))
            raise InvalidParameterError(
                f"suffix '{s}' is already read by the '{owner}' reader",
                hint="pass overwrite=True to take it over, or use another suffix",
            )
    old = _READERS.pop(name, None)
    if old is not None:
        for s in old.suffixes:
            _BY_SUFFIX.pop(s, None)
    for s in clean:
        owner = _BY_SUFFIX.get(s)
        if owner is not None and owner in _READERS:  # another reader gives the suffix up
            other = _READERS[owner]
            _READERS[owner] = replace(other, suffixes=tuple(x for x in other.suffixes if x != s))
        _BY_SUFFIX[s] = name
    entry = Reader(
        name=name, func=func, suffixes=clean, description=description, directory=directory, uri=uri, detect=detect
    )
    _READERS[name] = entry
    return entry


def unregister_reader(name: str) -> Reader:
    """Remove the reader called ``name`` (and its suffixes) from the registry; return it."""
    if name not in _READERS:
        raise InvalidParameterError(
            f"no reader named '{name}' is registered (known formats: {_known()})",
            hint="see scalinglab.data.list_readers()",
        )
    gone = _READERS.pop(name)
    for s in [s for s, owner in _BY_SUFFIX.items() if owner == name]:
        del _BY_SUFFIX[s]
    return gone


def reader(
    name: str, *, suffixes: Iterable[str] = (), description: str = "", overwrite: bool = False, **kinds: Any
) -> Callable[[ReaderFunc], ReaderFunc]:
    """Decorator form of :func:`register_reader`; the function is returned unchanged.

    Examples
    --------
    >>> import pandas as pd
    >>> @reader("pipe", suffixes=(".pipe",), description="'|'-separated values")
    ... def read_pipe(path, **options):
    ...     return pd.read_csv(path, sep="|", **options)
    >>> get_reader("pipe").suffixes
    ('.pipe',)
    >>> _ = unregister_reader("pipe")
    """

    def decorate(func: ReaderFunc) -> ReaderFunc:
        register_reader(
            name,
            func,
            suffixes=suffixes,
            description=description or (func.__doc__ or "").strip().split("\n")[0],
            overwrite=overwrite,
            **kinds,
        )
        return func

    return decorate


def list_readers() -> list[Reader]:
    """Registered readers, in registration order.

    Examples
    --------
    >>> [r.name for r in list_readers()][:5]
    ['csv', 'tsv', 'jsonl', 'json', 'parquet']
    """
    return list(_READERS.values())


def get_reader(name_or_path: Union[str, os.PathLike, Reader]) -> Reader:
    """The reader for a format name (``"csv"``) or for a file, chosen by its suffix.

    A string that is a registered name is a name; any other string is a path.
    The longest matching suffix wins (``runs.csv.gz`` -> ``.csv.gz``).

    Examples
    --------
    >>> get_reader("jsonl").name, get_reader("runs.csv.gz").name, get_reader("data/runs.ndjson").name
    ('jsonl', 'csv', 'jsonl')
    """
    if isinstance(name_or_path, Reader):
        return name_or_path
    if isinstance(name_or_path, str) and name_or_path.strip().lower() in _READERS:
        return _READERS[name_or_path.strip().lower()]
    if isinstance(name_or_path, str) and not (set(name_or_path) & {".", "/", os.sep}):
        close = difflib.get_close_matches(name_or_path.lower(), list(_READERS), n=2, cutoff=0.5)
        raise DataError(
            f"unknown format '{name_or_path}' (known formats: {_known()})",
            kind="unknown-format",
            hint=(f"did you mean {' or '.join(repr(c) for c in close)}? " if close else "")
            + "pass one of the names above as format=NAME (CLI: --format NAME), "
            "or register a reader with scalinglab.data.register_reader()",
            cli_hint=(f"did you mean {' or '.join(repr(c) for c in close)}? " if close else "")
            + "pass one of the names above with --format NAME",
        )
    if not isinstance(name_or_path, (str, os.PathLike)):
        raise InvalidParameterError(
            f"get_reader(): expected a format name or a path, got {type(name_or_path).__name__}"
        )
    path = Path(name_or_path)
    filename = path.name.lower()
    matches = [s for s in _BY_SUFFIX if filename.endswith(s)]
    if matches:
        return _READERS[_BY_SUFFIX[max(matches, key=len)]]
    raise DataError(
        f"unsupported file type {_suffix_label(path)} (known formats: {_known()})",
        source=str(path),
        kind="unsupported-file",
        hint="name the format with format='csv' (or another name above) in Python or --format csv on the CLI, "
        "rename the file to a known suffix, pass a pandas DataFrame, "
        "or register a reader with scalinglab.data.register_reader()",
        cli_hint="name the format with --format csv (or another name above), or rename the file to a known suffix",
    )


def read_table(path: Union[str, os.PathLike], format: Union[str, Reader, None] = None, **options: Any) -> pd.DataFrame:
    """Read the raw table in ``path`` with the reader for ``format`` (default: from the suffix).

    ``options`` go to the reader.  Every failure is a :class:`DataError` naming
    the file: not found, a directory, empty, not UTF-8 text, or not parseable.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "runs.log"
    >>> _ = p.write_text("params,tokens,loss\\n1e6,1e8,3.1\\n")
    >>> read_table(p, format="csv")
       params       tokens  loss
    0  1000000.0  100000000.0   3.1
    """
    special = _directory_or_uri(path, format)
    if special is not None:
        return _call(special, path if _URI.match(str(path)) else Path(path), options)
    path = Path(path)
    if not path.exists():
        raise DataError(f"file not found: {path}", hint="check the path", kind="file-not-found")
    if path.is_dir():
        inside = sorted(p.name for p in path.iterdir() if p.is_file() and _claimed(p))[:3]
        raise DataError(
            "expected a runs file, got a directory",
            source=str(path),
            kind="not-a-file",
            hint="pass the path of a file in it"
            + (f", e.g. {path / inside[0]} (files there: {', '.join(inside)})" if inside else ""),
        )
    try:
        chosen = get_reader(path if format is None else format)
    except DataError as exc:
        if exc.source is None:  # an unknown format= name: say which file it was for
            raise DataError(
                exc.message, source=str(path), kind=exc.kind, hint=exc.hint, cli_hint=exc.cli_hint
            ) from None
        raise
    if path.stat().st_size == 0:
        raise DataError(
            "could not parse the file: it is empty (0 bytes)",
            source=str(path),
            kind="malformed-file",
            hint="check that the file was written or copied completely; a runs file holds one row per checkpoint",
        )
    return _call(chosen, path, options)


def _directory_or_uri(source: Any, format: Union[str, Reader, None]) -> Reader | None:
    """The reader for a directory or URI source that some reader takes, else None (the file path goes on)."""
    text = str(source)
    if _URI.match(text) and not Path(text).exists():
        chosen = get_reader(format) if format is not None else next((r for r in _READERS.values() if r.uri), None)
        if chosen is None or not chosen.uri:
            takers = [r.name for r in _READERS.values() if r.uri]
            raise DataError(
                f"'{text}' is a URI, which the {chosen.name if chosen else 'default'} reader cannot read",
                source=text,
                kind="unsupported-file",
                hint=f"name a reader that reads URIs with format=NAME (CLI: --format NAME): "
                f"{', '.join(takers) or 'none is registered'}",
            )
        return chosen
    path = Path(text)
    if not path.is_dir():
        return None
    if format is not None:
        chosen = get_reader(format)
        return chosen if chosen.directory else None
    for r in _READERS.values():
        if r.directory and r.detect is not None and r.detect(path):
            return r
    return None


def reader_option_names(chosen: Reader) -> list[str] | None:
    """The keyword options ``chosen``'s function takes (None when it takes any, through ``**options``).

    Examples
    --------
    >>> reader_option_names(get_reader("wandb"))
    ['tokens_per_step', 'params', 'join_restarts', 'companions']
    """
    import inspect

    try:
        params = list(inspect.signature(chosen.func).parameters.values())[1:]
    except (TypeError, ValueError):
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return None
    return [
        p.name for p in params if p.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    ]


def _call(chosen: Reader, path: Any, options: dict) -> pd.DataFrame:
    known = reader_option_names(chosen) if options else None
    unknown = [k for k in options if known is not None and k not in known]
    if unknown:
        close = difflib.get_close_matches(unknown[0], known, n=2, cutoff=0.5)
        raise DataError(
            f"the '{chosen.name}' reader has no option '{unknown[0]}' (its options: {', '.join(known) or 'none'})",
            source=str(path),
            kind="unknown-option",
            hint=(f"did you mean {' or '.join(repr(c) for c in close)}? " if close else "")
            + "pass one of its options in reader_options={...}",
            cli_hint=(f"did you mean {' or '.join(repr(c) for c in close)}? " if close else "")
            + "pass one of its options with --reader-option KEY=VALUE",
        )
    try:
        frame = chosen.func(path, **options)
    except DataError:
        raise
    except UnicodeDecodeError as exc:
        raise DataError(
            f"could not parse the file: it is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at "
            f"position {exc.start})",
            source=str(path),
            kind="malformed-file",
            hint="save it as UTF-8 (spreadsheets: 'CSV UTF-8'), or read it with pandas and the right "
            "encoding= and pass the DataFrame",
            cli_hint="save it as UTF-8 (spreadsheets: 'CSV UTF-8')",
        ) from None
    except Exception as exc:  # pandas and pyarrow raise many types for malformed files
        what = f"{chosen.description} (reader '{chosen.name}')" if chosen.description else f"'{chosen.name}'"
        raise DataError(
            f"could not parse the file ({type(exc).__name__}: {exc})",
            source=str(path),
            kind="malformed-file",
            hint=f"check that it is valid {what}, or pick the right reader with format=NAME (CLI: --format NAME); "
            f"formats: {', '.join(_READERS)}",
            cli_hint=f"check that it is valid {what}, or pick the right reader with --format NAME; "
            f"formats: {', '.join(_READERS)}",
        ) from None
    if not isinstance(frame, pd.DataFrame):
        raise InvalidParameterError(
            f"reader '{chosen.name}' returned {type(frame).__name__}, not a pandas DataFrame",
            hint=f"make the function registered as '{chosen.name}' return pandas.DataFrame",
        )
    return frame


def _known() -> str:
    return "; ".join(str(r) for r in _READERS.values())


def _claimed(path: Path) -> bool:
    name = path.name.lower()
    return any(name.endswith(s) for s in _BY_SUFFIX)


def _suffix_label(path: Path) -> str:
    if not path.suffix:
        return f"'{path.name}' (no file extension)"
    suffix = "".join(path.suffixes[-2:]) if path.suffix.lower() == ".gz" else path.suffix
    return f"'{suffix}'"
