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

Transfer ladders (Hernandez et al. 2021) add a ``corpus`` (global or per model:
``"stdlib"``, ``"english"`` or ``"code"``, see :mod:`scalinglab.sweep.corpus`)
and ``[[finetune]]`` stages, each starting from the final weights of named
runs and training on another corpus with its own budgets and schedule::

    corpus = "english"            # pre-training corpus of the models below

    [[models]]
    width = 32
    depth = 1
    budgets = ["64K"]

    [[finetune]]
    from = ["english-d32-l1-t64K-s0"]
    corpus = "code"
    budgets = ["8K", "16K"]       # D_F: fine-tuning tokens, each with its own cosine schedule
    lr_scale = 0.5                # fine-tuning peak lr = 0.5 x the source run's lr (or lr = ...)

A model may instead train on a fixed **mixture** of corpora (a mixed-modal ladder,
Aghajanyan et al. 2023): ``mix = {code = 0.5, english = 0.5}`` splits every batch's
sequences in these proportions (each weight times ``batch_size`` must be a whole
number of sequences).  In a sweep with a mixture every run is evaluated on every
corpus the sweep uses (columns ``loss_<corpus>``, tokens per corpus ``tokens_<corpus>``);
a mixed run's ``loss`` is the unweighted mean of its mixture's corpus losses.  Mixed run
ids start with the mixture (``code50-english50-d32-l1-t64K-s0``).

Runs on a corpus other than ``"stdlib"`` get the corpus as a prefix
(``english-d32-l1-t64K-s0``); a fine-tuned run is ``<source>-ft-<corpus>-t<D_F>-s<seed>``.
Order: the runs that fine-tunes start from, then the fine-tunes, then every
other run in file order.
"""

from __future__ import annotations

import difflib
import math
import os
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from scalinglab.errors import ConfigError

__all__ = ["SweepConfig", "ModelSpec", "RunSpec", "FinetuneSpec", "load_config", "parse_tokens", "format_tokens"]

MODEL_KEYS = ("width", "depth", "budgets", "seeds", "heads", "lr", "corpus", "mix")
FINETUNE_KEYS = ("from", "corpus", "budgets", "seeds", "lr", "lr_scale", "batch_size", "warmup_frac", "min_lr_frac")
CORPORA = ("stdlib", "english", "code")


@dataclass(frozen=True)
class ModelSpec:
    """One model size of the ladder and the budgets/seeds it is trained with."""

    width: int
    depth: int
    budgets: tuple[int, ...]
    seeds: tuple[int, ...] = (0,)
    heads: int | None = None
    lr: float | None = None
    corpus: str | None = None
    mix: tuple[tuple[str, float], ...] | None = None


@dataclass(frozen=True)
class FinetuneSpec:
    """A fine-tuning stage: start from each run in ``sources``' final weights, train on ``corpus``."""

    sources: tuple[str, ...]
    corpus: str
    budgets: tuple[int, ...]
    seeds: tuple[int, ...] = (0,)
    lr: float | None = None
    lr_scale: float = 1.0
    batch_size: int | None = None
    warmup_frac: float | None = None
    min_lr_frac: float | None = None


@dataclass(frozen=True)
class RunSpec:
    """One training run: a model size, a token budget and a seed (and, for transfer, corpus and source)."""

    run_id: str
    width: int
    depth: int
    heads: int
    budget: int
    seed: int
    lr: float
    corpus: str = "stdlib"
    stage: str = "train"
    init_from: str | None = None
    batch_size: int | None = None
    warmup_frac: float | None = None
    min_lr_frac: float | None = None
    save_weights: bool = False
    mix: tuple[tuple[str, float], ...] = ()


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
    finetune: tuple[FinetuneSpec, ...] = ()
    corpus: str = "stdlib"
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

    @property
    def is_transfer(self) -> bool:
        """True when the sweep uses a corpus other than ``stdlib`` or has fine-tuning stages."""
        return bool(self.finetune) or any(r.corpus != "stdlib" for r in self._model_runs())

    @property
    def is_mixed(self) -> bool:
        """True when some model trains on a mixture of corpora (every run is then evaluated on each)."""
        return any(m.mix for m in self.models)

    def corpora(self) -> list[str]:
        """Corpus kinds the runs train or evaluate on, in first-use order (a mixture's kinds each)."""
        seen: list[str] = []
        for r in self.runs():
            for k in [c for c, _ in r.mix] or [r.corpus]:
                if k not in seen:
                    seen.append(k)
        return seen

    def _model_runs(self) -> list[RunSpec]:
        out = []
        for m in self.models:
            heads = m.heads or self.heads
            corpus = "+".join(k for k, _ in m.mix) if m.mix else (m.corpus or self.corpus)
            prefix = "" if corpus == "stdlib" else f"{corpus}-"
            if m.mix:
                prefix = "".join(f"{k}{100 * w:g}-" for k, w in m.mix)
            for b in sorted(m.budgets):
                for s in m.seeds:
                    rid = f"{prefix}d{m.width}-l{m.depth}-t{format_tokens(b)}-s{s}"
                    out.append(
                        RunSpec(rid, m.width, m.depth, heads, b, s, m.lr or self.lr, corpus=corpus, mix=m.mix or ())
                    )
        return out

    def runs(self) -> list[RunSpec]:
        """All runs in training order: fine-tuning sources, their fine-tunes, then the rest in file order."""
        base = self._model_runs()
        if not self.finetune:
            return base
        by_id = {r.run_id: r for r in base}
        sources = {s for f in self.finetune for s in f.sources}
        ft: list[RunSpec] = []
        for f in self.finetune:
            for src_id in f.sources:
                src = by_id[src_id]
                for b in sorted(f.budgets):
                    for s in f.seeds:
                        rid = f"{src_id}-ft-{f.corpus}-t{format_tokens(b)}-s{s}"
                        lr = f.lr if f.lr is not None else src.lr * f.lr_scale
                        ft.append(
                            RunSpec(
                                rid,
                                src.width,
                                src.depth,
                                src.heads,
                                b,
                                s,
                                lr,
                                corpus=f.corpus,
                                stage="finetune",
                                init_from=src_id,
                                batch_size=f.batch_size,
                                warmup_frac=f.warmup_frac,
                                min_lr_frac=f.min_lr_frac,
                            )
                        )
        pre = [replace(r, stage="pretrain", save_weights=True) for r in base if r.run_id in sources]
        rest = [replace(r, stage="scratch") for r in base if r.run_id not in sources]
        return pre + ft + rest

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("source")
        d["models"] = [
            {
                k: (dict(v) if k == "mix" else list(v) if isinstance(v, tuple) else v)
                for k, v in asdict(m).items()
                if v is not None
            }
            for m in self.models
        ]
        if self.finetune:
            d["finetune"] = [
                {
                    ("from" if k == "sources" else k): (list(v) if isinstance(v, tuple) else v)
                    for k, v in asdict(f).items()
                    if v is not None
                }
                for f in self.finetune
            ]
        else:
            d.pop("finetune")
        if self.corpus == "stdlib":
            d.pop("corpus")
        return {k: v for k, v in d.items() if v is not None}


_SUFFIX = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "B": 10**9}


def parse_tokens(value: Any, key: str = "budgets") -> int:
    """Parse a token count: ``2000000``, ``2e6`` or ``"2M"`` (K/M/G suffixes) → int."""
    if isinstance(value, bool):
        raise ConfigError(f"{key}: {value!r} is not a token count", hint='use e.g. 2000000, 2e6 or "2M"')
    if isinstance(value, (int, float)):
        x = float(value)
    elif isinstance(value, str):
        m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([kKmMgGbB]?)\s*", value)
        if not m:
            raise ConfigError(f"{key}: cannot read {value!r} as a token count", hint='use e.g. 2000000, 2e6 or "2M"')
        x = float(m.group(1)) * _SUFFIX[m.group(2).upper()]
    else:
        raise ConfigError(f"{key}: {value!r} is not a token count", hint='use e.g. 2000000, 2e6 or "2M"')
    if not math.isfinite(x) or x <= 0:
        raise ConfigError(
            f"{key}: token budget must be positive, got {value!r}", hint='use a positive count such as "2M"'
        )
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
        raise ConfigError(
            "missing key 'models'", hint="add at least one [[models]] table with width, depth and budgets"
        )
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
    for key in ("name", "family", "device", "out", "corpus"):
        if key in raw and raw[key] is not None:
            if not isinstance(raw[key], str) or not raw[key]:
                raise ConfigError(f"{key} must be a non-empty string, got {raw[key]!r}")
            kw[key] = raw[key]
    if kw.get("corpus", "stdlib") not in CORPORA:
        raise ConfigError(
            f"corpus must be one of {', '.join(CORPORA)}, got {kw['corpus']!r}",
            hint="stdlib (the .py files), english (docstrings and comments) or code (without them)",
        )
    if kw.get("device", "auto") not in ("auto", "cpu", "cuda", "mps") and not str(kw.get("device")).startswith("cuda:"):
        raise ConfigError(f"device must be auto, cpu, cuda[:N] or mps, got {kw['device']!r}")
    tps = kw.get("seq_len", 128) * kw.get("batch_size", 32)
    gheads = kw.get("heads", 4)
    models_raw = raw["models"]
    if not isinstance(models_raw, (list, tuple)) or not models_raw:
        raise ConfigError(
            "models must be a non-empty list of tables", hint="add [[models]] tables with width, depth and budgets"
        )
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
        corpus = m.get("corpus")
        if corpus is not None and corpus not in CORPORA:
            raise ConfigError(f"{where}.corpus must be one of {', '.join(CORPORA)}, got {corpus!r}")
        mix = _mix(m["mix"], where, kw.get("batch_size", 32)) if m.get("mix") is not None else None
        if mix and corpus is not None:
            raise ConfigError(f"{where} sets both corpus and mix", hint=f"remove corpus from {where}: mix names them")
        spec = ModelSpec(width, depth, tuple(budgets), tuple(seeds), m.get("heads"), lr, corpus, mix)
        models.append(spec)
    cfg = SweepConfig(models=tuple(models), source=source, **kw)
    if raw.get("finetune") is not None:
        cfg = replace(cfg, finetune=_finetune(raw["finetune"], cfg, tps))
    for r in cfg.runs():
        if r.run_id in seen:
            raise ConfigError(f"run {r.run_id} appears twice", hint="remove the duplicate width/depth/budget/seed")
        seen.add(r.run_id)
    return cfg


def _mix(raw: Any, where: str, batch_size: int) -> tuple[tuple[str, float], ...]:
    """Validate ``mix = {corpus = weight, ...}``: two or more corpora, weights summing to 1 in whole sequences."""
    if not isinstance(raw, Mapping) or len(raw) < 2:
        raise ConfigError(
            f"{where}.mix must be a table of two or more corpora and their weights",
            hint="e.g. mix = {code = 0.5, english = 0.5}",
        )
    out = []
    for k, w in raw.items():
        if k not in CORPORA:
            raise ConfigError(f"{where}.mix: corpus must be one of {', '.join(CORPORA)}, got {k!r}")
        out.append((str(k), _num(w, f"{where}.mix.{k}", 0.0, 1.0, True)))
    if abs(sum(w for _, w in out) - 1.0) > 1e-9:
        raise ConfigError(f"{where}.mix: the weights must sum to 1, got {sum(w for _, w in out):g}")
    for k, w in out:
        seqs = w * batch_size
        if abs(seqs - round(seqs)) > 1e-9:
            raise ConfigError(
                f"{where}.mix.{k}={w:g} is not a whole number of sequences of a batch of {batch_size}",
                hint=f"use weights that are multiples of 1/{batch_size}",
            )
    return tuple(out)


def _seeds(value: Any, where: str) -> list[int]:
    seeds = []
    for s in _as_list(value, f"{where}.seeds"):
        if isinstance(s, bool) or not isinstance(s, int) or s < 0:
            raise ConfigError(f"{where}.seeds: {s!r} is not a non-negative integer")
        seeds.append(s)
    return seeds


def _finetune(raw: Any, cfg: SweepConfig, tps: int) -> tuple[FinetuneSpec, ...]:
    """Validate the ``[[finetune]]`` tables against the model runs they start from."""
    if isinstance(raw, Mapping):
        raw = [raw]
    if not isinstance(raw, (list, tuple)) or not raw:
        raise ConfigError(
            "finetune must be a list of tables", hint="add [[finetune]] tables with from, corpus and budgets"
        )
    ids = [r.run_id for r in cfg._model_runs()]
    out = []
    for i, f in enumerate(raw):
        where = f"finetune[{i}]"
        if not isinstance(f, Mapping):
            raise ConfigError(f"{where} must be a table with from, corpus and budgets")
        for key in f:
            if key not in FINETUNE_KEYS:
                raise _unknown(str(key), FINETUNE_KEYS, where)
        for key in ("from", "corpus", "budgets"):
            if key not in f:
                raise ConfigError(f"{where}: missing key '{key}'", hint=f"add {key} to {where}")
        sources = _as_list(f["from"], f"{where}.from")
        for src in sources:
            if src not in ids:
                close = difflib.get_close_matches(str(src), ids, n=1)
                hint = (
                    f"did you mean '{close[0]}'?"
                    if close
                    else "name a run of [[models]], e.g. " + (ids[0] if ids else "")
                )
                raise ConfigError(f"{where}.from: {src!r} is not a run of this sweep", hint=hint)
        if f["corpus"] not in CORPORA:
            raise ConfigError(f"{where}.corpus must be one of {', '.join(CORPORA)}, got {f['corpus']!r}")
        bs = _pos_int(f["batch_size"], f"{where}.batch_size") if f.get("batch_size") is not None else None
        need = cfg.seq_len * bs if bs else tps
        budgets = []
        for b in _as_list(f["budgets"], f"{where}.budgets"):
            n = parse_tokens(b, f"{where}.budgets")
            if n < need:
                raise ConfigError(
                    f"{where}.budgets: {n} tokens is less than one batch ({need})",
                    hint=f"use a budget of at least {need} tokens, or a smaller batch_size",
                )
            budgets.append(n)
        kw: dict[str, Any] = {}
        if f.get("lr") is not None:
            kw["lr"] = _num(f["lr"], f"{where}.lr", 0.0, 10.0, True)
        if f.get("lr_scale") is not None:
            kw["lr_scale"] = _num(f["lr_scale"], f"{where}.lr_scale", 0.0, 100.0, True)
        for key, lo, hi in (("warmup_frac", 0.0, 0.5), ("min_lr_frac", 0.0, 1.0)):
            if f.get(key) is not None:
                kw[key] = _num(f[key], f"{where}.{key}", lo, hi)
        out.append(
            FinetuneSpec(
                tuple(sources),
                f["corpus"],
                tuple(budgets),
                tuple(_seeds(f.get("seeds", [0]), where)),
                batch_size=bs,
                **kw,
            )
        )
    return tuple(out)


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
                raise ConfigError(
                    "reading TOML on Python 3.10 needs tomli", hint="pip install tomli, or use YAML"
                ) from None
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{path}: invalid TOML: {e}") from None
    elif suffix in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:  # pragma: no cover
            raise ConfigError(
                "reading YAML configs needs PyYAML", hint="pip install 'scalinglab[yaml]' or use TOML"
            ) from None
        try:
            raw = yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise ConfigError(f"{path}: invalid YAML: {e}".splitlines()[0]) from None
    else:
        raise ConfigError(f"{path}: unknown config format '{suffix}'", hint="use a .toml, .yaml or .yml file")
    return from_dict(raw if raw is not None else {}, source=str(path))
