"""Sweep configuration: parsing (TOML/YAML/dict) and validation before any training.

A config file has global training settings and a list of ``models``; each model
is trained at each of its token ``budgets`` with each of its ``seeds``::

    name = "tiny"
    seq_len = 64
    batch_size = 16
    lr = 3e-3

    [[models]]
    width = 32
    depth = 1
    budgets = ["64K", "128K"]   # tokens; ints, floats (2e6) or K/M/G suffixes
    seeds = [0, 1]

Runs are trained in file order (models, then budgets ascending, then seeds), so
put the extrapolation target last.  Every problem is reported as a one-line
:class:`scalinglab.errors.ConfigError` naming the key and the fix.
"""

from __future__ import annotations

import difflib
import math
import os
import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

from scalinglab.errors import ConfigError

__all__ = ["SweepConfig", "ModelSpec", "RunSpec", "load_config", "parse_tokens", "format_tokens"]

MODEL_KEYS = ("width", "depth", "budgets", "seeds", "heads", "lr")


@dataclass(frozen=True)
class ModelSpec:
    """One model size of the ladder and the budgets/seeds it is trained with."""

    width: int
    depth: int
    budgets: tuple[int, ...]
    seeds: tuple[int, ...] = (0,)
    heads: int | None = None
    lr: float | None = None


@dataclass(frozen=True)
class RunSpec:
    """One training run: a model size, a token budget and a seed."""

    run_id: str
    width: int
    depth: int
    heads: int
    budget: int
    seed: int
    lr: float


@dataclass(frozen=True)
class SweepConfig:
    """Validated sweep configuration (see module docstring for the file format).

    Attributes
    ----------
    seq_len, batch_size
        Context length (bytes) and sequences per optimiser step; one step sees
        ``seq_len * batch_size`` tokens.
    lr, min_lr_frac, warmup_frac
        Peak AdamW learning rate; linear warmup over ``warmup_frac`` of the
        run's steps, then cosine decay to ``min_lr_frac * lr`` exactly at the
        end of the run's budget.
    checkpoints
        Number of log-spaced evaluation points per run (the final step is always
        evaluated in addition).
    eval_batches
        Held-out batches (of ``batch_size`` windows, evenly spaced over the
        validation bytes, the same for every run) averaged for ``loss``.
    """

    models: tuple[ModelSpec, ...]
    name: str = "sweep"
    family: str = "tinylm"
    seq_len: int = 128
    batch_size: int = 32
    heads: int = 4
    lr: float = 3e-3
    min_lr_frac: float = 0.1
    warmup_frac: float = 0.05
    weight_decay: float = 0.1
    beta1: float = 0.9
    beta2: float = 0.95
    grad_clip: float = 1.0
    checkpoints: int = 10
    eval_batches: int = 8
    val_fraction: float = 0.02
    device: str = "auto"
    workers: int | None = None
    out: str | None = None
    source: str | None = field(default=None, compare=False)

    @property
    def tokens_per_step(self) -> int:
        return self.seq_len * self.batch_size

    def runs(self) -> list[RunSpec]:
        """All runs in training order."""
        out = []
        for m in self.models:
            heads = m.heads or self.heads
            for b in sorted(m.budgets):
                for s in m.seeds:
                    rid = f"d{m.width}-l{m.depth}-t{format_tokens(b)}-s{s}"
                    out.append(RunSpec(rid, m.width, m.depth, heads, b, s, m.lr or self.lr))
        return out

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("source")
        d["models"] = [
            {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(m).items() if v is not None}
            for m in self.models
        ]
        return {k: v for k, v in d.items() if v is not None}


_SUFFIX = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "B": 10**9}


def parse_tokens(value: Any, key: str = "budgets") -> int:
    """Parse a token count: ``2000000``, ``2e6`` or ``"2M"`` (K/M/G suffixes) → int."""
    if isinstance(value, bool):
        raise ConfigError(f"{key}: {value!r} is not a token count", hint="use e.g. 2000000, 2e6 or \"2M\"")
    if isinstance(value, (int, float)):
        x = float(value)
    elif isinstance(value, str):
        m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([kKmMgGbB]?)\s*", value)
        if not m:
            raise ConfigError(f"{key}: cannot read {value!r} as a token count", hint="use e.g. 2000000, 2e6 or \"2M\"")
        x = float(m.group(1)) * _SUFFIX[m.group(2).upper()]
    else:
        raise ConfigError(f"{key}: {value!r} is not a token count", hint="use e.g. 2000000, 2e6 or \"2M\"")
    if not math.isfinite(x) or x <= 0:
        raise ConfigError(f"{key}: token budget must be positive, got {value!r}", hint="use a positive count such as \"2M\"")
    if abs(x - round(x)) > 1e-6 * max(1.0, x):
        raise ConfigError(f"{key}: token budget must be a whole number, got {value!r}")
    return int(round(x))


def format_tokens(n: int) -> str:
    """Compact label for run ids: 2000000 → ``2M``, 500000 → ``500K``, 1234 → ``1234``."""
    for suf, mult in (("G", 10**9), ("M", 10**6), ("K", 10**3)):
        if n >= mult and n % (mult // 10) == 0:
            return f"{n / mult:g}{suf}"
        if n % mult == 0:
            return f"{n // mult}{suf}"
    return str(n)


def _unknown(key: str, valid: tuple[str, ...], where: str) -> ConfigError:
    close = difflib.get_close_matches(key, valid, n=1)
    hint = f"did you mean '{close[0]}'?" if close else f"valid keys: {', '.join(valid)}"
    return ConfigError(f"unknown key '{key}' in {where}", hint=hint)


def _pos_int(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
        raise ConfigError(f"{key} must be a positive integer, got {value!r}", hint=f"set {key} to an integer >= 1")
    if value <= 0:
        raise ConfigError(f"{key} must be positive, got {value!r}", hint=f"set {key} to an integer >= 1")
    return int(value)


def _num(value: Any, key: str, lo: float, hi: float, lo_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{key} must be a number, got {value!r}")
    x = float(value)
    if not (lo < x if lo_open else lo <= x) or not x <= hi:
        rng = f"{'(' if lo_open else '['}{lo:g}, {hi:g}]"
        raise ConfigError(f"{key} must lie in {rng}, got {value!r}", hint=f"set {key} within {rng}")
    return x


def _as_list(value: Any, key: str) -> list:
    if isinstance(value, (list, tuple)):
        if not value:
            raise ConfigError(f"{key} is empty", hint=f"give at least one value for {key}")
        return list(value)
    return [value]


def from_dict(raw: Mapping[str, Any], source: str | None = None) -> SweepConfig:
    """Validate a plain mapping (as read from TOML/YAML) into a :class:`SweepConfig`."""
    if not isinstance(raw, Mapping):
        raise ConfigError("a sweep config must be a table/mapping of keys")
    if set(raw) == {"sweep"} and isinstance(raw["sweep"], Mapping):
        raw = raw["sweep"]
    valid = tuple(f.name for f in fields(SweepConfig) if f.name != "source")
    for key in raw:
        if key not in valid:
            raise _unknown(str(key), valid, "the sweep config")
    if "models" not in raw:
        raise ConfigError("missing key 'models'", hint="add at least one [[models]] table with width, depth and budgets")
    kw: dict[str, Any] = {}
    for key in ("seq_len", "batch_size", "heads", "checkpoints", "eval_batches"):
        if key in raw:
            kw[key] = _pos_int(raw[key], key)
    if raw.get("workers") is not None:
        kw["workers"] = _pos_int(raw["workers"], "workers")
    for key, lo, hi, lo_open in (
        ("lr", 0.0, 10.0, True),
        ("min_lr_frac", 0.0, 1.0, False),
        ("warmup_frac", 0.0, 0.5, False),
        ("weight_decay", 0.0, 10.0, False),
        ("beta1", 0.0, 1.0, False),
        ("beta2", 0.0, 1.0, False),
        ("grad_clip", 0.0, 1e6, False),
        ("val_fraction", 0.0, 0.5, True),
    ):
        if key in raw:
            kw[key] = _num(raw[key], key, lo, hi, lo_open)
    for key in ("name", "family", "device", "out"):
        if key in raw and raw[key] is not None:
            if not isinstance(raw[key], str) or not raw[key]:
                raise ConfigError(f"{key} must be a non-empty string, got {raw[key]!r}")
            kw[key] = raw[key]
    if kw.get("device", "auto") not in ("auto", "cpu", "cuda", "mps") and not str(kw.get("device")).startswith("cuda:"):
        raise ConfigError(f"device must be auto, cpu, cuda[:N] or mps, got {kw['device']!r}")
    tps = kw.get("seq_len", 128) * kw.get("batch_size", 32)
    gheads = kw.get("heads", 4)
    models_raw = raw["models"]
    if not isinstance(models_raw, (list, tuple)) or not models_raw:
        raise ConfigError("models must be a non-empty list of tables", hint="add [[models]] tables with width, depth and budgets")
    models = []
    seen: set[str] = set()
    for i, m in enumerate(models_raw):
        where = f"models[{i}]"
        if not isinstance(m, Mapping):
            raise ConfigError(f"{where} must be a table with width, depth and budgets")
        for key in m:
            if key not in MODEL_KEYS:
                raise _unknown(str(key), MODEL_KEYS, where)
        for key in ("width", "depth", "budgets"):
            if key not in m:
                raise ConfigError(f"{where}: missing key '{key}'", hint=f"add {key} to {where}")
        width = _pos_int(m["width"], f"{where}.width")
        depth = _pos_int(m["depth"], f"{where}.depth")
        heads = _pos_int(m["heads"], f"{where}.heads") if m.get("heads") is not None else gheads
        if width % heads:
            raise ConfigError(
                f"{where}.width={width} is not divisible by heads={heads}",
                hint="choose a width that is a multiple of heads, or set heads for this model",
            )
        budgets = []
        for b in _as_list(m["budgets"], f"{where}.budgets"):
            n = parse_tokens(b, f"{where}.budgets")
            if n < tps:
                raise ConfigError(
                    f"{where}.budgets: {n} tokens is less than one batch ({tps} = seq_len x batch_size)",
                    hint=f"use a budget of at least {tps} tokens, or a smaller seq_len/batch_size",
                )
            budgets.append(n)
        seeds = []
        for s in _as_list(m.get("seeds", [0]), f"{where}.seeds"):
            if isinstance(s, bool) or not isinstance(s, int) or s < 0:
                raise ConfigError(f"{where}.seeds: {s!r} is not a non-negative integer")
            seeds.append(s)
        lr = _num(m["lr"], f"{where}.lr", 0.0, 10.0, True) if m.get("lr") is not None else None
        spec = ModelSpec(width, depth, tuple(budgets), tuple(seeds), m.get("heads"), lr)
        models.append(spec)
    cfg = SweepConfig(models=tuple(models), source=source, **kw)
    for r in cfg.runs():
        if r.run_id in seen:
            raise ConfigError(f"run {r.run_id} appears twice", hint="remove the duplicate width/depth/budget/seed")
        seen.add(r.run_id)
    return cfg


def load_config(config: SweepConfig | Mapping[str, Any] | str | os.PathLike) -> SweepConfig:
    """Read and validate a sweep config from a TOML/YAML path, a mapping, or pass one through."""
    if isinstance(config, SweepConfig):
        return config
    if isinstance(config, Mapping):
        return from_dict(config)
    path = Path(config)
    if not path.exists():
        raise ConfigError(f"config file not found: {path}")
    suffix = path.suffix.lower()
    text = path.read_text()
    if suffix == ".toml":
        try:
            import tomllib
        except ImportError:  # pragma: no cover - Python 3.10
            try:
                import tomli as tomllib
            except ImportError:
                raise ConfigError("reading TOML on Python 3.10 needs tomli", hint="pip install tomli, or use YAML") from None
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{path}: invalid TOML: {e}") from None
    elif suffix in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:  # pragma: no cover
            raise ConfigError("reading YAML configs needs PyYAML", hint="pip install 'scalinglab[yaml]' or use TOML") from None
        try:
            raw = yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise ConfigError(f"{path}: invalid YAML: {e}".splitlines()[0]) from None
    else:
        raise ConfigError(f"{path}: unknown config format '{suffix}'", hint="use a .toml, .yaml or .yml file")
    return from_dict(raw if raw is not None else {}, source=str(path))
