"""Every case of "Never a silent wrong answer" (issue 18), as a regression test."""

from __future__ import annotations

import json
import os
import warnings

import numpy as np
import pandas as pd
import pytest
from _cli import check, command_flags, run

import scalinglab as sl
from conftest import ladder_frame
from scalinglab.errors import DataError, InvalidParameterError, ScalingLabError

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _quiet_fit(*a, **k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sl.fit(*a, **k)


# ------------------------------------------------------------------ units
def test_params_in_millions_with_a_large_maximum_are_caught():
    df = ladder_frame()
    df["params"] = np.round(df["params"] / 1e6 * 4.374) + 10  # 10 .. 21,880 "params"
    assert df["params"].max() >= 1000
    with pytest.raises(DataError) as info:
        sl.read_runs(df)
    assert info.value.kind == "unit-mismatch" and "units={'params'" in info.value.hint


def test_one_run_in_other_units_is_caught():
    df = ladder_frame()
    df.loc[df["run"] == "r7", "params"] /= 1e6
    with pytest.raises(DataError, match="r7") as info:
        sl.read_runs(df)
    assert info.value.kind == "unit-mismatch"
    assert "--unit params=1e6" in info.value.cli_hint


def test_declared_raw_counts_pass():
    df = ladder_frame()
    df["params"] = df["params"] / 1e6
    assert len(sl.read_runs(df, units={"params": 1e6})) == len(df)


def test_tinylm_and_billion_parameter_ladders_pass():
    assert sl.read_runs(sl.datasets.load("tinylm")).n_runs == 21
    assert sl.read_runs(ladder_frame()).n_runs == 30


def test_unit_benchmark_fast_version():
    """A small version of bench/unit_checks.py: clean ladders never flagged; millions, PF-days, GFLOPs caught."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("unit_checks", Path(__file__).parents[2] / "bench" / "unit_checks.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    res = mod.simulate(60, seed=1)
    assert res["clean_flag_rate"] == 0.0
    for c in res["by_class"]:
        if c["unit"] in ("millions", "PF-days", "GFLOPs"):
            assert c["catch_rate"] == 1.0, c


# ------------------------------------------------------------------ overflow and extreme rows
def test_overflowing_derived_flops_is_an_error():
    df = pd.DataFrame({"params": [1e297, 2e297, 4e297], "tokens": [1e288, 2e288, 4e288], "loss": [3.0, 2.9, 2.8]})
    with pytest.raises(DataError, match="overflows"):
        sl.read_runs(df)


def test_one_extreme_row_is_named():
    df = ladder_frame().drop(columns=["tokens"])
    df = df.groupby("params", as_index=False).first()
    df = pd.concat([df, pd.DataFrame({"run": ["wild"], "params": [1e300], "loss": [1.9]})], ignore_index=True)
    with pytest.raises(DataError, match="wild"):  # caught on reading: 2e290x above the other sizes
        sl.read_runs(df)
    f = _quiet_fit(sl.read_runs(df, units={"params": 1}), "power_floor", x="params")  # declared raw: the fit names it
    kinds = {d.kind for d in f.diagnostics}
    assert "isolated-row" in kinds
    assert any("wild" in d.message for d in f.diagnostics if d.kind == "isolated-row")
    assert "no problems found" not in str(f.summary(method="delta"))


def test_outlier_row_is_named():
    df = ladder_frame()
    df.loc[4, "loss"] *= 1.5
    f = _quiet_fit(df, "chinchilla")
    assert any(d.kind == "outlier-rows" and "r4" in d.message for d in f.diagnostics)


# ------------------------------------------------------------------ saved fits
@pytest.mark.parametrize(
    "edit, field",
    [
        (lambda d: d["params"].__setitem__("E", float("nan")), "params.E"),
        (lambda d: d["params"].__setitem__("E", -5.0), "params.E"),
        (lambda d: d["params"].__setitem__("B", float("inf")), "params.B"),
        (lambda d: d.pop("cov"), "cov"),
        (lambda d: d.__setitem__("cov", [[1.0]]), "cov"),
        (lambda d: d["params"].pop("beta"), "params"),
        (lambda d: d["params"].__setitem__("gamma", 1.0), "params"),
        (lambda d: d.__setitem__("law", "kaplan"), "formula"),
        (lambda d: d.__setitem__("n_points", "many"), "n_points"),
        (lambda d: d.__setitem__("params", [1, 2]), "params"),
        (lambda d: d.__setitem__("columns", {"N": "params"}), "columns"),
    ],
)
def test_load_fit_validates_every_field(trust_dir, tmp_path, edit, field):
    payload = json.loads((trust_dir / "fit.json").read_text())
    payload.pop("checksum")
    edit(payload)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(payload))
    with pytest.raises(DataError) as info:
        sl.load_fit(path)
    assert info.value.column == field and info.value.hint
    o = run(["predict", path, "--at", "params=7e10,tokens=1.4e12"])
    assert check(o) == "error" and o.code == 3


def test_checksum_catches_an_edit(trust_dir, tmp_path):
    payload = json.loads((trust_dir / "fit.json").read_text())
    payload["params"]["E"] = 1.0  # plausible, within bounds: only the checksum can tell
    (tmp_path / "edited.json").write_text(json.dumps(payload))
    with pytest.raises(DataError, match="checksum"):
        sl.load_fit(tmp_path / "edited.json")


def test_fit_round_trip_keeps_checksum(trust_dir):
    f = sl.load_fit(trust_dir / "fit.json")
    assert json.loads(f.to_json())["checksum"] == json.loads((trust_dir / "fit.json").read_text())["checksum"]


@pytest.mark.parametrize("content", [None, b"", b"\xff\xfe\x00garbage", b"[1, 2]", b'{"format": 1}', b"not json"])
def test_load_fit_bad_files(tmp_path, content):
    path = tmp_path / "x.json"
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    with pytest.raises(ScalingLabError):
        sl.load_fit(path)
    for cmd in (["predict", path, "--at", "params=1e9,tokens=1e10"], ["plan", path, "--flops", "1e21", "--json"]):
        o = run(cmd)
        assert check(o) == "error", o


# ------------------------------------------------------------------ diagnostics that match the numbers
def test_unidentified_parameter_is_reported_and_strict_exits_1(tmp_path):
    rng = np.random.default_rng(3)
    N = np.geomspace(2e7, 4e7, 8)
    D = 20 * N
    L = (2.0 + 400 / N**0.34 + 400 / D**0.28) * np.exp(rng.normal(0, 0.01, N.size))
    path = tmp_path / "narrow.csv"
    pd.DataFrame({"run": [f"n{i}" for i in range(8)], "params": N, "tokens": D, "loss": L}).to_csv(path, index=False)
    o = run(["fit", path, "--json"])
    assert check(o) == "result"
    payload = json.loads(o.stdout)
    assert not payload["trusted"] and any("not identified" in w for w in payload["summary"]["warnings"])
    o = run(["fit", path, "--strict"])
    assert o.code == 1 and "NOT IDENTIFIED" in o.stdout and "no problems found" not in o.stdout


def test_zero_width_interval_is_reported():
    N = np.repeat([1e7, 3e7, 1e8, 3e8, 1e9], 4)
    D = np.tile([1e9, 3e9, 1e10, 3e10], 5)
    f = _quiet_fit(pd.DataFrame({"params": N, "tokens": D, "loss": 1.7 + 400 / N**0.34 + 410 / D**0.28}))
    assert any(d.kind == "zero-width-interval" for d in f.diagnostics)
    assert "NO UNCERTAINTY" in str(f.summary(method="delta"))


def test_trusted_fit_says_so(trust_dir):
    o = run(["fit", trust_dir / "runs.csv", "--strict", "--json"])
    assert check(o) == "result" and json.loads(o.stdout)["trusted"]


def test_summary_states_the_parameter_count_convention(trust_dir):
    text = str(sl.load_fit(trust_dir / "fit.json").summary(method="delta"))
    assert "counts all parameters, embeddings included" in text
    assert sl.get_law("kaplan").params_convention == "non-embedding"


def test_demo_is_honest_about_its_floor():
    from scalinglab.demo import DemoResult

    f = _quiet_fit(
        sl.select_checkpoints(sl.datasets.load("tinylm"), final_only=True).frame.query("params < params.max()"),
        "chinchilla",
    )
    d = DemoResult(
        fit=f,
        runs=None,
        target=pd.DataFrame(
            {
                "run": ["x"],
                "params": [1.0],
                "tokens": [1.0],
                "actual": [1.0],
                "predicted": [1.0],
                "lower": [0.9],
                "upper": [1.1],
                "rel_error": [0.0],
            }
        ),
    )
    summary = f.summary(method="delta")
    if summary.trusted:
        assert d.explanation(summary) == ""
    else:
        why = d.explanation(summary)
        assert "not identifiable" in why or "cannot be pinned down" in why
        assert "What this fit can tell" in d.as_text()


# ------------------------------------------------------------------ exit codes
def test_backtest_exits_non_zero_when_every_fit_failed(tmp_path):
    df = ladder_frame()
    df = df[df["params"].isin(sorted(df["params"].unique())[-2:])]  # one size left to fit: every fit fails
    path = tmp_path / "two.csv"
    df.to_csv(path, index=False)
    o = run(["backtest", path])
    assert o.code != 0 and check(o) == "error"
    o = run(["backtest", path, "--json"])
    assert o.code != 0 and "error" in json.loads(o.stdout.strip().splitlines()[-1])


def test_constant_loss_is_flagged(tmp_path):
    df = ladder_frame()
    df["loss"] = 3.0
    f = _quiet_fit(df)
    assert any(d.kind == "constant-target" for d in f.diagnostics)


# ------------------------------------------------------------------ columns
def test_duplicate_columns_are_refused(tmp_path):
    df = ladder_frame()
    two = pd.concat([df, df[["loss"]]], axis=1)
    with pytest.raises(DataError, match="more than once"):
        sl.read_runs(two)
    path = tmp_path / "dup.csv"
    path.write_text(
        "run,params,tokens,loss,loss\n"
        + "\n".join(f"{r.run},{r.params},{r.tokens},{r.loss},9" for r in df.itertuples())
    )
    assert check(run(["fit", path])) == "error"


@pytest.mark.parametrize("args", [["--y", "step"], ["--law", "power_floor", "--x", "loss"]])
def test_bookkeeping_targets_and_inputs_are_refused(tmp_path, args):
    df = ladder_frame().assign(step=np.arange(30) + 1.0)
    path = tmp_path / "runs.csv"
    df.to_csv(path, index=False)
    o = run(["fit", path, *args])
    assert check(o) == "error" and "column" in o.stderr


def test_unused_partly_empty_column_is_not_validated(tmp_path):
    df = ladder_frame().assign(step=np.nan)
    df.loc[:3, "step"] = 10.0
    assert len(sl.read_runs(df)) == 30


def test_empty_run_id(tmp_path):
    df = ladder_frame()
    df.loc[3, "run"] = ""
    path = tmp_path / "runs.csv"
    df.to_csv(path, index=False)
    with pytest.raises(DataError, match="run id is empty"):
        sl.read_runs(path)
    assert check(run(["report", path, "-o", tmp_path / "r.html", "--no-backtest", "--no-plan"])) == "error"


# ------------------------------------------------------------------ files in and out
@pytest.mark.parametrize("kind", ["missing", "empty", "directory", "binary"])
def test_predict_points_file_errors(trust_dir, tmp_path, kind):
    path = tmp_path / "points.csv"
    if kind == "empty":
        path.write_text("")
    elif kind == "directory":
        path.mkdir()
    elif kind == "binary":
        path.write_bytes(bytes(range(256)) * 4)
    assert check(run(["predict", trust_dir / "fit.json", "--points", path])) == "error"


@pytest.mark.parametrize("where", ["directory", "missing-parent", "impossible"])
def test_output_path_errors(trust_dir, tmp_path, where):
    out = {
        "directory": tmp_path,
        "missing-parent": tmp_path / "no" / "such" / "fit.json",
        "impossible": tmp_path / "runs_file.csv" / "fit.json",
    }[where]
    (tmp_path / "runs_file.csv").write_text("x")
    o = run(["fit", trust_dir / "runs.csv", "-o", out])
    assert check(o) == "error"
    assert not (tmp_path / "no").exists()


def test_outputs_respect_the_umask_and_are_written_last(trust_dir, tmp_path, monkeypatch):
    old = os.umask(0o022)
    try:
        out = tmp_path / "fit.json"
        assert run(["fit", trust_dir / "runs.csv", "-o", out]).code == 0
        assert (out.stat().st_mode & 0o777) == 0o644
        from scalinglab.fit import _summary

        def interrupted(*a, **k):
            raise KeyboardInterrupt

        monkeypatch.setattr(_summary.Summary, "from_fit", classmethod(interrupted))
        late = tmp_path / "late.json"
        run(["fit", trust_dir / "runs.csv", "-o", late])
        assert not late.exists()
    finally:
        os.umask(old)


def test_report_survives_a_loss_of_1e300(tmp_path):
    df = ladder_frame()
    df.loc[0, "loss"] = 1e300
    path = tmp_path / "runs.csv"
    df.to_csv(path, index=False)
    o = run(["plot", "parity", path, "-o", tmp_path / "p.svg"])
    assert check(o) == "result" and (tmp_path / "p.svg").exists()


# ------------------------------------------------------------------ the API raises its own errors
@pytest.mark.parametrize(
    "call",
    [
        lambda: sl.read_runs(42),
        lambda: sl.read_runs(ladder_frame(), duplicates="avg"),
        lambda: sl.read_runs(ladder_frame(), units={"params": "x"}),
        lambda: sl.read_runs(ladder_frame(), units=[("params", 1e6)]),
        lambda: sl.read_runs(ladder_frame(), params=3),
        lambda: sl.read_runs(""),
        lambda: sl.read_runs(ladder_frame(), required="loss"),
    ],
)
def test_read_runs_bad_arguments(call):
    with pytest.raises(ScalingLabError) as info:
        call()
    assert info.value.hint


def test_fixing_every_parameter_and_bad_predict_inputs(trust_dir):
    f = sl.load_fit(trust_dir / "fit.json")
    with pytest.raises(ScalingLabError):
        _quiet_fit(ladder_frame(), "power_law", x="params", fixed={"A": 1.0, "alpha": 0.1})
    with pytest.raises(InvalidParameterError):
        f.predict(params="abc", tokens=1e10)
    with pytest.raises(InvalidParameterError, match="shapes"):
        f.predict(params=[1e9, 2e9], tokens=[1e10, 2e10, 3e10])


# ------------------------------------------------------------------ guidance
@pytest.mark.parametrize("command", ["backtest", "suggest", "fit", "report", "plot"])
def test_duplicates_flag_exists_where_hints_name_it(command):
    assert "--duplicates" in command_flags(command)


def test_help_shows_plain_flags_and_argument_names():
    o = run(["fit", "--help"])
    assert "<bool>" not in o.stdout and "{data}" not in o.stdout.lower() and "DATA" in o.stdout
    assert "--strict" in o.stdout


def test_no_numpy_warning_leaks(tmp_path):
    df = ladder_frame()
    df["params"] = df["params"] * 1e10  # huge but finite: overflow inside the law's powers
    path = tmp_path / "big.csv"
    df.to_csv(path, index=False)
    o = run(["fit", path, "--law", "kaplan"])
    assert "RuntimeWarning" not in o.stdout + o.stderr
    check(o)


def test_suggest_says_when_no_proposal_helps():
    from scalinglab.plan._suggest import Suggestion

    s = Suggestion(
        runs=pd.DataFrame(
            {"params": [1e8], "tokens": [2e9], "tokens_per_param": [20.0], "flops": [1.2e18], "width_after": [0.263]}
        ),
        target={"params": 7e9, "tokens": 1.4e11},
        budget=1e19,
        spent=1.2e18,
        width_before=0.263,
        width_after=0.263,
        level=0.9,
        law="chinchilla",
    )
    text = str(s)
    assert not s.helps and "no proposal helps" in text and "1e+08" not in text
    s2 = Suggestion(
        runs=s.runs,
        target=s.target,
        budget=1e19,
        spent=1.2e18,
        width_before=0.3,
        width_after=0.2,
        level=0.9,
        law="chinchilla",
    )
    assert s2.helps and "once that run and the rows above it are trained" in str(s2)


def test_readme_plot_kinds_exist():
    import re
    from pathlib import Path

    from scalinglab.report._figures import FIGURE_KINDS

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    line = next(x for x in readme.splitlines() if x.startswith("Figure kinds:"))
    kinds = re.findall(r"`(\w+)`", line + next(x for x in readme.splitlines()[readme.splitlines().index(line) + 1 :]))
    assert kinds and set(kinds) <= set(FIGURE_KINDS), kinds
