"""A fuzzer of malformed and adversarial inputs through the CLI and the API (issue 18).

For every case: no traceback; either a non-zero exit with one readable line naming the problem and a
fix that exists where the user is (flags named in a CLI hint are real flags of that command, read from
the typer app; no Python syntax on the CLI), or a result whose diagnostics match its numbers.

Classes: runs files (file-level damage, columns, values, units, structure, command-line misuse),
saved fit files (every field removed, retyped or set to an impossible value), and property-based
mutations (Hypothesis) of runs tables, fit payloads and ``--at`` points.
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from _cli import check, run
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import scalinglab as sl
from conftest import ladder_frame
from scalinglab.errors import DataError, ScalingLabError

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

TALLY: dict[str, int] = {}


def _count(cls: str, outcome: str) -> None:
    TALLY[f"{cls}:{outcome}"] = TALLY.get(f"{cls}:{outcome}", 0) + 1


# ------------------------------------------------------------------ the corpus of runs files
def _runs_corpus(d):
    base = ladder_frame()
    small = base.iloc[:12].copy()
    csv = base.to_csv(index=False)
    cases = {}

    def frame(name, df):
        p = d / f"{name}.csv"
        df.to_csv(p, index=False)
        cases[name] = (p, [])

    def raw(name, data, suffix=".csv"):
        p = d / f"{name}{suffix}"
        p.write_bytes(data if isinstance(data, bytes) else data.encode())
        cases[name] = (p, [])

    # file level
    cases["missing"] = (d / "nope.csv", [])
    raw("empty", b"")
    (d / "adir.csv").mkdir()
    cases["directory"] = (d / "adir.csv", [])
    raw("binary", bytes(range(256)) * 8)
    raw("latin1", csv.replace("r1,", "r\xe9,").encode("latin-1"))
    raw("header-only", "run,params,tokens,loss\n")
    raw("semicolons", csv.replace(",", ";"))
    raw("truncated", csv[: len(csv) // 2 + 7])
    raw("bom", "\ufeff" + csv)
    raw("unknown-suffix", csv, suffix=".dat")
    raw("json-garbage", "{not json", suffix=".json")
    raw("jsonl-mixed", '{"params": 1e8, "tokens": 1e9, "loss": 3}\nnot json\n', suffix=".jsonl")
    # columns
    frame("no-loss", base.drop(columns=["loss"]))
    frame("no-sizes", base.drop(columns=["params", "tokens"]))
    raw(
        "dup-column",
        "run,params,tokens,loss,loss\n"
        + "\n".join(f"{r.run},{r.params},{r.tokens},{r.loss},1" for r in base.itertuples()),
    )
    frame("all-nan-loss", base.assign(loss=np.nan))
    frame("renamed", base.rename(columns={"params": "num_params"}))
    # values
    for name, col, i, v in [
        ("nan", "loss", 3, np.nan),
        ("inf", "tokens", 2, np.inf),
        ("negative", "params", 5, -1e8),
        ("zero-loss", "loss", 1, 0.0),
        ("text", "params", 4, "1.2B"),
        ("comma", "tokens", 0, "1,000"),
        ("tiny", "params", 2, 1e-300),
        ("overflow", "params", 0, 1e300),
        ("huge-loss", "loss", 0, 1e300),
        ("empty-run", "run", 3, ""),
    ]:
        df = base.copy().astype({col: object})
        df.loc[i, col] = v
        frame(name, df)
    frame("booleans", base.assign(params=True))
    # units
    frame("params-millions", base.assign(params=base["params"] / 1e6))
    frame("tokens-millions", base.assign(tokens=base["tokens"] / 1e6))
    one = base.copy()
    one.loc[one["run"] == "r9", "params"] /= 1e6
    frame("one-run-millions", one)
    frame("flops-pfdays", base.assign(flops=6 * base["params"] * base["tokens"] / 8.64e19))
    frame("flops-gflops", base.assign(flops=6 * base["params"] * base["tokens"] / 1e9))
    # structure
    frame("one-row", base.iloc[:1])
    frame("three-rows", base.iloc[:3])
    frame("dup-checkpoints", pd.concat([base, base.iloc[:2]]))
    frame("constant-loss", base.assign(loss=3.0))
    frame("one-size", base.assign(params=1e8))
    frame("small", small)
    frame("clean", base)
    # command-line misuse on a clean file
    clean = cases["clean"][0]
    for name, extra in [
        ("bad-duplicates", ["--duplicates", "avg"]),
        ("bad-unit", ["--unit", "params=x"]),
        ("unit-unknown-col", ["--unit", "nope=2"]),
        ("bad-map", ["--map", "params=nope"]),
        ("y-step", ["--y", "step"]),
        ("x-loss", ["--law", "power_floor", "--x", "loss"]),
        ("fix-unknown", ["--fix", "gamma=1"]),
        ("fix-all", ["--law", "power_law", "--x", "params", "--fix", "A=1", "--fix", "alpha=0.1"]),
        ("bad-window", ["--window", "0.7"]),
        ("out-dir", ["-o", str(d)]),
        ("out-missing-parent", ["-o", str(d / "no" / "fit.json")]),
        ("unknown-law", ["--law", "nope"]),
        ("bad-format", ["--format", "xls"]),
        ("strict-clean", ["--strict", "--json"]),
        ("bad-loss", ["--loss", "l1"]),
        ("bad-delta", ["--delta", "-1"]),
        ("strict-small", ["--strict"]),
    ]:
        cases[name] = (clean if name != "strict-small" else cases["small"][0], extra)
    return cases


SLOW_OK = {
    "clean",
    "strict-clean",
    "small",
    "strict-small",
    "constant-loss",
    "one-size",
    "huge-loss",
    "dup-checkpoints",
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return _runs_corpus(tmp_path_factory.mktemp("fuzz"))


@pytest.mark.slow
def test_runs_file_corpus_through_fit(corpus):
    outcomes = {}
    for name, (path, extra) in corpus.items():
        args = ["fit", path, *extra]
        if name not in ("strict-clean",) and "--json" not in extra and name in SLOW_OK:
            args.append("--json")  # results are checked against their diagnostics
        o = run(args)
        outcomes[name] = check(o)
        _count("runs-file", outcomes[name])
    # the cases that must fail do fail, the clean ones do not
    for name in (
        "missing",
        "empty",
        "directory",
        "binary",
        "dup-column",
        "nan",
        "params-millions",
        "one-run-millions",
        "flops-pfdays",
        "flops-gflops",
        "tokens-millions",
        "overflow",
        "empty-run",
        "y-step",
        "x-loss",
        "fix-all",
        "out-dir",
        "out-missing-parent",
        "booleans",
        "text",
    ):
        assert outcomes[name] in ("error", "usage-error"), (name, outcomes[name])
    assert outcomes["clean"] == "result" and outcomes["strict-clean"] == "result"
    assert outcomes["strict-small"] in ("result", "strict-refused")


@pytest.mark.slow
def test_runs_file_corpus_through_other_commands(corpus, tmp_path):
    for name in ("missing", "binary", "dup-column", "params-millions", "empty-run", "nan"):
        path = corpus[name][0]
        for args in (
            ["backtest", path],
            ["suggest", path, "--target", "params=7e9,tokens=1.4e11", "--budget", "1e20"],
            ["plot", "loss", path, "-o", tmp_path / "x.svg"],
            ["report", path, "-o", tmp_path / "x.html"],
        ):
            o = run(args)
            assert check(o) == "error", (args, o.stderr)
            _count("runs-file-other-commands", "error")


# ------------------------------------------------------------------ the corpus of fit files
def _fit_mutations(payload):
    out = []
    for key in list(payload):
        if key == "checksum":
            continue
        out.append((f"drop {key}", lambda d, k=key: d.pop(k)))
        for bad in (None, "text", [1], {"a": 1}, -1, 1e308):
            out.append((f"{key}={bad!r}", lambda d, k=key, b=bad: d.__setitem__(k, b)))
    for p in payload["params"]:
        for bad in (float("nan"), float("inf"), -5.0, "1.0", None, 1e308):
            out.append((f"params.{p}={bad!r}", lambda d, p=p, b=bad: d["params"].__setitem__(p, b)))
    out.append(("law swapped", lambda d: d.__setitem__("law", "kaplan")))
    out.append(("extra param", lambda d: d["params"].__setitem__("zeta", 1.0)))
    out.append(("data ragged", lambda d: d["data"]["loss"].pop()))
    out.append(("data nan", lambda d: d["data"]["params"].__setitem__(0, None)))
    return out


def test_fit_file_corpus(trust_dir, tmp_path):
    good = json.loads((trust_dir / "fit.json").read_text())
    n = 0
    for label, mutate in _fit_mutations(good):
        payload = json.loads(json.dumps(good))
        payload.pop("checksum")
        mutate(payload)
        path = tmp_path / f"m{n}.json"
        path.write_text(json.dumps(payload))
        n += 1
        try:
            f = sl.load_fit(path)
        except ScalingLabError as exc:
            assert exc.hint and len(exc.message) > 10, label
            _count("fit-file-api", "error")
        else:  # accepted: then everything it says must be usable
            _check_fit(f)
            _count("fit-file-api", "result")
        if n % 4 == 0:  # a quarter of them through the CLI too
            o = run(
                ["predict", path, "--at", "params=7e10,tokens=1.4e12", "--json"]
                if n % 8
                else ["plan", path, "--flops", "1e21", "--method", "delta"]
            )
            _count("fit-file-cli", check(o))
    assert n > 100


def _check_fit(f):
    for p, spec in f.law.params.items():
        v = f.params[p]
        assert math.isfinite(v) and spec.lower - 1e-9 <= v <= spec.upper + 1e-9, (p, v)
    est = f.predict(params=7e10, tokens=1.4e12, warn=False)
    assert np.all(np.isfinite(est))


# ------------------------------------------------------------------ property-based
_TOKENS = st.sampled_from(
    [
        "",
        "nan",
        "NaN",
        "inf",
        "-inf",
        "-1",
        "0",
        "1e400",
        "1e-400",
        "abc",
        "1,000",
        "1.2B",
        "True",
        " ",
        "1e9",
        "3.0",
        "-0",
        "0x10",
        "1e300",
    ]
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    edits=st.lists(
        st.tuples(st.integers(0, 29), st.sampled_from(["run", "params", "tokens", "loss"]), _TOKENS),
        min_size=1,
        max_size=4,
    ),
    scale=st.sampled_from([None, ("params", 1e6), ("tokens", 1e3), ("params", 1e3)]),
)
def test_property_runs_tables(edits, scale):
    df = ladder_frame().astype(object)
    for i, col, v in edits:
        df.loc[i, col] = v
    if scale is not None:
        col, f = scale
        df[col] = [x / f if isinstance(x, float) else x for x in df[col]]
    try:
        runs = sl.read_runs(df)
    except DataError as exc:
        assert exc.hint and exc.message
        _count("property-runs", "error")
        return
    f = runs.frame
    for col in ("params", "tokens", "flops", "loss"):
        assert np.all(np.isfinite(f[col])) and np.all(f[col] > 0), col
    assert scale is None or scale[1] == 1e3  # millions are always caught
    _count("property-runs", "result")


def _json_containers(children):
    """Lists and objects of JSON values (the recursive step of ``_JSON``)."""
    return st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3)


_JSON = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=True) | st.integers() | st.text(max_size=5),
    _json_containers,
    max_leaves=6,
)


@pytest.fixture(scope="module")
def good_payload():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sl.fit(ladder_frame(), "chinchilla").to_dict()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_property_fit_payloads(good_payload, data):
    payload = json.loads(json.dumps(good_payload))
    keys = sorted(payload)
    for _ in range(data.draw(st.integers(1, 3))):
        key = data.draw(st.sampled_from(keys))
        if isinstance(payload.get(key), dict) and payload[key] and data.draw(st.booleans()):
            sub = data.draw(st.sampled_from(sorted(payload[key])))
            payload[key][sub] = data.draw(_JSON)
        elif data.draw(st.booleans()):
            payload.pop(key, None)
        else:
            payload[key] = data.draw(_JSON)
    try:
        f = sl.Fit.from_dict(payload)
    except ScalingLabError as exc:
        assert exc.hint and exc.message
        _count("property-fit", "error")
        return
    _check_fit(f)
    _count("property-fit", "result")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(point=st.text(alphabet="paramstokens=,.e0123456789-+ xyz", max_size=30))
def test_property_predict_points(trust_dir, point):
    o = run(["predict", trust_dir / "fit.json", "--at", point, "--interval", "0"])
    _count("property-predict-at", check(o))


def test_zz_report_tally():
    """Print how many cases ran, by class and outcome (pytest -s shows it)."""
    total = sum(TALLY.values())
    print(f"\nfuzz cases: {total}")
    for k in sorted(TALLY):
        print(f"  {k}: {TALLY[k]}")
    assert total > 100
