"""Backtests over many groups: by=, recorded group failures, borrowing across families, track grids,
the calibration prior, seeds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from scalinglab.cli import build_app
from scalinglab.data import CheckpointRule
from scalinglab.errors import InvalidParameterError
from scalinglab.evaluate import (
    Policy,
    average_seeds,
    backtest,
    backtest_grid,
    backtest_windows,
    combine_params,
    combine_pivoted,
    grid_table,
    seed_spread,
    size_coupled,
)
from scalinglab.fit import ExtrapolationPrior, calibrated_sigma
from scalinglab.laws import get_law

SHARED = dict(alpha=0.34, A=400.0)  # size parameters shared by every family
FAMILIES = {
    "f1": dict(E=1.7, B=410.0, beta=0.28),
    "f2": dict(E=2.0, B=900.0, beta=0.32),
    "f3": dict(E=1.5, B=300.0, beta=0.25),
    "f4": dict(E=1.9, B=500.0, beta=0.30),
}
SIZES = (1e7, 3e7, 1e8, 3e8, 1e9)


def family(name, sizes=SIZES, ckpts=8):
    p = {**SHARED, **FAMILIES[name]}
    rows = []
    for N in sizes:
        for f in np.linspace(1 / ckpts, 1.0, ckpts):
            D = 20 * N * f
            rows.append(
                {
                    "set": name,
                    "run": f"{name}-{N:g}",
                    "params": N,
                    "tokens": D,
                    "loss": p["E"] + p["A"] / N ** p["alpha"] + p["B"] / D ** p["beta"],
                }
            )
    return pd.DataFrame(rows)


def table():
    return pd.concat(
        [family(n) for n in FAMILIES] + [family("f4", sizes=(5e8,)).assign(set="single")], ignore_index=True
    )


def test_backtest_by_column_records_a_group_failure_not_an_abort():
    bt = backtest(table(), "chinchilla", by="set", interval=None)
    s = bt.scores.set_index("family")
    assert set(s.index) == {"f1", "f2", "f3", "f4", "single"}
    assert "has only 1" in s.loc["single", "error"]
    assert (s.drop(index="single")["are"] < 1e-3).all()
    assert "1 failed: single" in bt.summary()


def test_size_coupled_reads_the_law():
    law = get_law("chinchilla")
    X = {"N": np.full(3, 1e8), "D": np.array([1e9, 2e9, 4e9])}
    assert size_coupled(law, {**SHARED, **FAMILIES["f1"]}, X) == ("A", "alpha")
    # a degenerate one-size fit (A ~ 0): rounding in E, B, beta is no size effect
    tiny = dict(E=1.77, A=2.2e-5, alpha=0.65, B=144.0, beta=0.22)
    assert set(size_coupled(law, tiny, {"N": np.full(3, 3e8), "D": np.array([1e9, 3e9, 6e9])})) <= {"A", "alpha"}


def test_borrowing_recovers_the_target_from_one_model():
    single = Policy(fit_models="window:1", checkpoints=CheckpointRule())
    data = table().query("set != 'single'")
    # families that share loss units and size parameters: borrowed as fitted
    bt = backtest(data, "chinchilla", single, by="set", borrow_from="others", borrow_scale="absolute", interval=None)
    s = bt.scores.set_index("family")
    assert (s["fit_runs"] == 1).all()
    assert (s["are"] < 1e-3).all(), s["are"]
    for b in s["borrowed"]:
        assert b["alpha"] == pytest.approx(0.34, rel=1e-3) and b["A"] == pytest.approx(400, rel=1e-2)
    assert all(len(v) == 3 for v in s["lenders"])  # every other family lends
    for terms in s["lender_terms"]:  # the lenders agree on the size term: no spread
        lo, hi = terms["A"]
        assert lo == pytest.approx(hi, rel=1e-3)
    assert "lenders' A-term here" in bt.summary()
    assert "Borrowed size parameters (absolute scale):" in bt.summary()
    # given values (a published fit) work the same way; a wrong exponent shows in the score
    wrong = backtest(family("f1"), "chinchilla", single, borrow_from={"A": 400.0, "alpha": 0.30}, interval=None)
    assert wrong.scores["are"].iloc[0] > 0.01


def test_relative_borrowing_follows_a_family_on_another_loss_scale():
    # f2's losses are 5x f1's (another tokenizer): all of its law's coefficients scale with it
    single = Policy(fit_models="window:1", checkpoints=CheckpointRule())
    f2 = family("f1").assign(set="f2", run=lambda d: "x" + d["run"], loss=lambda d: 5 * d["loss"])
    data = pd.concat([family("f1"), family("f3"), f2], ignore_index=True)
    rel = backtest(data, "chinchilla", single, by="set", borrow_from=["f1"], interval=None).scores.set_index("family")
    assert rel.loc["f2", "are"] < 1e-3
    assert rel.loc["f2", "borrowed"]["A"] == pytest.approx(2000, rel=1e-2)
    ab = backtest(data, "chinchilla", single, by="set", borrow_from=["f1"], borrow_scale="absolute", interval=None)
    assert ab.scores.set_index("family").loc["f2", "are"] > 0.01


def test_borrowing_where_one_model_size_cannot_set_the_size_term():
    # "one" fits a single size (its larger one held out): the free fit cannot know how loss changes
    # with size, so the size term is borrowed from the families that can; they keep their own fits
    one = family("f4", sizes=(1e8, 1e9)).assign(set="one", run=lambda d: "o" + d["run"])
    data = pd.concat([family(n) for n in ("f1", "f2", "f3")] + [one], ignore_index=True)
    bt = backtest(
        data,
        "chinchilla",
        by="set",
        interval=None,
        borrow_from="others",
        borrow_when="undetermined",
        borrow_scale="absolute",
    )
    s = bt.scores.set_index("family")
    assert s.loc["one", "fit_sizes"] == 1 and (s.drop(index="one")["fit_sizes"] == 4).all()
    assert s.loc["one", "borrow_reason"] == "one model size"
    assert "Fitted on one model size" not in bt.summary()
    # a law whose every parameter is tied to size cannot be refitted with them all fixed: its free fit stays
    pw = backtest(data, "power_law", by="set", interval=None, borrow_from="others", borrow_when="undetermined")
    row = pw.scores.set_index("family").loc["one"]
    assert pd.isna(row["error"]) and "the refit with borrowed values failed" in row["borrow_reason"]
    plain = backtest(data, "chinchilla", by="set", interval=None)  # no borrowing: the summary says what to do
    assert "Fitted on one model size: one." in plain.summary() and "--borrow-when undetermined" in plain.summary()
    assert s.loc["one", "borrowed"] == pytest.approx(SHARED, rel=1e-3)
    assert s.loc["one", "are"] < 1e-3
    assert s.drop(index="one")["borrow_reason"].isna().all()
    # with no family able to lend (two sizes cannot), the free fit stays and the summary says why
    two = family("f1", sizes=(1e7, 3e7)).assign(set="two", run=lambda d: "t" + d["run"])
    alone = backtest(
        pd.concat([one, two], ignore_index=True),
        "chinchilla",
        by="set",
        interval=None,
        borrow_from="others",
        borrow_when="undetermined",
    )
    reason = alone.scores.set_index("family").loc["one", "borrow_reason"]
    assert reason.startswith("one model size; nothing borrowed: no other group's fit could lend")
    assert "Kept their own fits (nothing to borrow):" in alone.summary()


def test_borrowed_size_term_is_one_lenders_term_not_a_mix_of_coordinates():
    # three lenders whose A and alpha move together: the median of A and the median of alpha taken
    # separately pair values no lender holds; the pivoted median keeps the middle lender's size term
    law = get_law("chinchilla")
    at = {"N": 1e9, "D": 2e10}
    pairs = ((700.0, 0.36), (2000.0, 0.39), (6700.0, 0.4055), (5e5, 0.63))
    lenders = [{**FAMILIES["f1"], "A": a, "alpha": al} for a, al in pairs]
    terms = sorted(p["A"] * at["N"] ** -p["alpha"] for p in lenders)
    middle = np.sqrt(terms[1] * terms[2])  # the geometric median of the four terms
    v = combine_pivoted(law, lenders, ["A", "alpha"], at)
    assert v["alpha"] == pytest.approx(np.sqrt(0.39 * 0.4055)) and v["A"] * at["N"] ** -v["alpha"] == pytest.approx(
        middle
    )
    separate = combine_params(lenders, ["A", "alpha"])
    assert separate["A"] * at["N"] ** -separate["alpha"] > 1.1 * middle
    same = combine_pivoted(law, [lenders[0]] * 3, ["A", "alpha"], at)
    assert same == pytest.approx({"A": 700.0, "alpha": 0.36})


def test_a_borrowed_interval_carries_the_lenders_disagreement():
    # lenders whose size exponents differ (0.28-0.40): one model of the target cannot tell which is
    # right, so its 90% interval must be as wide as their disagreement at the target, not only the
    # fit's own scatter; lenders that agree add nothing
    single = Policy(fit_models="window:1", checkpoints=CheckpointRule())
    alphas = {"f1": 0.28, "f2": 0.32, "f3": 0.36, "f4": 0.40}
    frames = []
    for n, al in alphas.items():
        d = family(n)
        N, D, p = d["params"], d["tokens"], FAMILIES[n]
        frames.append(d.assign(loss=p["E"] + 400 * 1e7 ** (al - 0.34) / N**al + p["B"] / D ** p["beta"]))
    data = pd.concat(frames, ignore_index=True)
    kw = dict(by="set", interval=0.9, method="delta", prior=None, borrow_scale="absolute")
    bt = backtest(data, "chinchilla", single, borrow_from="others", **kw)
    s = bt.scores.set_index("family")
    assert (s["lender_sd"] > 1e-3).all(), s["lender_sd"]
    assert "lenders' predictions differ by sd" in bt.summary()
    # the same borrowed values given outright (no lenders to disagree): the interval is the fit's own
    given = {
        n: backtest(data[data["set"] == n], "chinchilla", single, borrow_from=s.loc[n, "borrowed"], **kw)
        for n in ("f1", "f4")
    }
    for n, g in given.items():
        assert g.scores["are"].iloc[0] == pytest.approx(s.loc[n, "are"], rel=1e-6)
        assert g.scores["coverage"].iloc[0] == 0.0  # the extreme families miss with the fit's own interval
        assert s.loc[n, "coverage"] == 1.0  # and are inside the interval that carries the lenders' spread
    agree = backtest(table().query("set != 'single'"), "chinchilla", single, borrow_from="others", **kw)
    assert (agree.scores["lender_sd"] < 1e-3).all()
    # one lending family: nothing to measure the disagreement with, and the summary says so
    two = backtest(data[data["set"].isin(["f1", "f4"])], "chinchilla", single, borrow_from="others", **kw)
    assert two.scores["lender_sd"].isna().all()
    assert "1 lending family: the interval does not carry how far families disagree" in two.summary()


def test_a_fit_that_cannot_determine_its_parameters_lends_nothing():
    single = Policy(fit_models="window:1", checkpoints=CheckpointRule())
    flat = family("f1", sizes=(1e7, 3e7)).assign(
        set="two-sizes", run=lambda d: "x" + d["run"]
    )  # two sizes: alpha cannot be identified
    data = pd.concat([family("f3"), flat], ignore_index=True)
    s = backtest(data, "chinchilla", single, by="set", borrow_from="others", interval=None).scores.set_index("family")
    assert "no other group's fit could lend" in s.loc["f3", "error"] and "two-sizes:" in s.loc["f3", "error"]


def test_borrowing_only_where_the_own_fit_left_a_size_parameter_at_its_bound():
    # borrow_when="undetermined": "two" has two fit sizes (its largest is held out) and exact losses with alpha = 0.34; with
    # alpha bounded to [0.01, 0.1] its free fit ends at the bound, and it is refitted with the
    # borrowed values.  "wide" (four fit sizes, alpha = 0.08 inside the bound) keeps its own fit.
    two = family("f1", sizes=(1e7, 3e7, 1e9)).assign(set="two", run=lambda d: "t" + d["run"])
    wide = family("f2").assign(set="wide", run=lambda d: "w" + d["run"])
    wide["loss"] += 400 / wide["params"] ** 0.08 - 400 / wide["params"] ** 0.34
    data = pd.concat([two, wide], ignore_index=True)
    opts = {"bounds": {"alpha": (0.01, 0.1)}}
    free = backtest(data, "chinchilla", by="set", interval=None, fit_options=opts).scores.set_index("family")
    given = {"A": 400.0, "alpha": 0.34}  # e.g. a published fit
    bt = backtest(
        data, "chinchilla", by="set", interval=None, fit_options=opts, borrow_from=given, borrow_when="undetermined"
    )
    s = bt.scores.set_index("family")
    assert s.loc["two", "borrow_reason"] == "alpha at a bound"
    assert s.loc["two", "borrowed"] == given
    assert free.loc["two", "are"] > 1e-3 and s.loc["two", "are"] < 1e-9
    assert pd.isna(s.loc["wide", "borrow_reason"]) and not isinstance(s.loc["wide", "borrowed"], dict)
    assert s.loc["wide", "are"] == free.loc["wide", "are"] < 1e-9
    assert "two chinchilla: A=400, alpha=0.34 (own fit: alpha at a bound)" in bt.summary()
    assert bt.options["borrow_when"] == "undetermined"
    with pytest.raises(InvalidParameterError, match="borrow_when"):
        backtest(data, "chinchilla", by="set", borrow_from=given, borrow_when="sometimes", interval=None)


def test_track_grids_have_cells_compute_and_scale_up():
    runs = family("f1", ckpts=5)
    g = backtest_grid(runs, "chinchilla", fractions=(0.5, 1.0), interval=None, by="set")
    assert sorted(set(g.scores["k"])) == [2, 3, 4]
    assert (g.scores["compute"] > 0).all()
    # compute grows with k and p
    t = grid_table(g, "compute")
    assert (np.diff(t.to_numpy(), axis=0) > 0).all() and (np.diff(t.to_numpy(), axis=1) > 0).all()
    w = backtest_windows(runs, "chinchilla", ks=[2], interval=None, by="set")
    assert w.scores["scale_up"].round(2).tolist() == [33.33, 10.0, 3.33]


def test_calibrated_sigma_prior_own_and_too_thin():
    rng = np.random.default_rng(1)
    d = rng.uniform(0.1, 1.0, 300)
    pts = pd.DataFrame(
        {"group": np.repeat(["a", "b", "c"], 100), "decades": d, "log_error": rng.normal(0, 0.1 * d), "base_sd": 0.0}
    )
    prior = ExtrapolationPrior(pts)
    s = calibrated_sigma(None, prior, 0.9).sigma_per_decade
    assert 0.07 < s < 0.13
    thin = calibrated_sigma(None, prior.without("a").without("b"), 0.9)
    assert thin.thin and "too little information" in thin.note
    # own hold-outs that err more pull sigma up
    own = pd.DataFrame({"decades": [0.5] * 20, "log_error": rng.normal(0, 0.2, 20), "base_sd": 0.0})
    assert calibrated_sigma(own, prior, 0.9).sigma_per_decade > s


def test_backtest_prior_from_other_groups_widens_two_run_groups():
    noisy = []
    for i, n in enumerate(FAMILIES):
        f = family(n, sizes=(3e8, 5e8, 1e9))
        f["loss"] *= np.exp(np.where(f["params"] == 1e9, 0.03 * (i - 1.5), 0.0))  # misses the law at the target
        noisy.append(f)
    bt = backtest(pd.concat(noisy, ignore_index=True), "chinchilla", by="set")
    s = bt.scores
    assert (s["interval_method"] == "calibrated").all()
    assert "other group" in s["interval_note"].iloc[0]
    assert (s["coverage"] >= s["coverage_base"]).all()
    one = backtest(family("f1", sizes=(3e8, 5e8, 1e9)), "chinchilla")  # nothing to learn from
    assert "uncalibrated" in one.scores["interval_method"].iloc[0]
    assert "Intervals not calibrated" in one.summary()


def test_seeds_spread_and_average():
    a = family("f1", sizes=(1e7, 1e8)).assign(seed=0)
    b = a.assign(seed=1, run=a["run"] + "-s1", loss=a["loss"] * 1.01)
    runs = pd.concat([a, b], ignore_index=True)
    spread = seed_spread(runs)
    assert spread["seeds"].tolist() == [2, 2]
    assert spread["curve_gap"].to_numpy() == pytest.approx(np.log(1.01), rel=1e-6)
    avg = average_seeds(runs)
    assert avg["run"].nunique() == 2 and len(avg) == len(a)


def test_cli_backtest_by_lists_failures(tmp_path):
    path = tmp_path / "runs.csv"
    table().to_csv(path, index=False)
    res = CliRunner().invoke(build_app(), ["backtest", str(path), "--by", "set", "--interval", "0"])
    assert res.exit_code == 0, res.output
    assert "single" in res.output and "FAILED" in res.output and "1 failed" in res.output
    # exact synthetic losses leave zero-width intervals on all four fits: one warning line for them all
    untrusted = [ln for ln in res.output.splitlines() if "cannot be trusted" in ln]
    assert len(untrusted) == 1 and "4 of 4 fits" in untrusted[0] and "scalinglab fit DATA --by set" in untrusted[0]


def test_cli_plot_backtest_grid(tmp_path):
    path, out = tmp_path / "runs.csv", tmp_path / "grid.svg"
    family("f1", ckpts=4).to_csv(path, index=False)
    res = CliRunner().invoke(build_app(), ["plot", "backtest-grid", str(path), "--by", "set", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert out.stat().st_size > 1000 and "<svg" in out.read_text()[:500]
    # the grid with the size term borrowed where a cell's own fit cannot set it
    two = pd.concat([family("f1", ckpts=4), family("f2", ckpts=4)], ignore_index=True)
    two.to_csv(path, index=False)
    args = ["plot", "backtest-grid", str(path), "--by", "set", "--group", "f1", "--borrow-from", "others"]
    res = CliRunner().invoke(build_app(), [*args, "-o", str(out)])
    assert res.exit_code == 0, res.output
    bad = CliRunner().invoke(build_app(), [*args[:-1], "nobody", "-o", str(out)])
    assert bad.exit_code != 0 and "nobody" in bad.output and "Traceback" not in bad.output


def test_cli_backtest_borrow_scale(tmp_path):
    path = tmp_path / "runs.csv"
    table().query("set != 'single'").to_csv(path, index=False)
    base = [
        "backtest",
        str(path),
        "--by",
        "set",
        "--interval",
        "0",
        "--fit-models",
        "window:1",
        "--borrow-from",
        "others",
    ]
    res = CliRunner().invoke(build_app(), base + ["--borrow-scale", "absolute"])
    assert res.exit_code == 0, res.output
    assert "Borrowed size parameters (absolute scale):" in res.output and "Lent by" in res.output
    bad = CliRunner().invoke(build_app(), base + ["--borrow-scale", "log"])
    assert bad.exit_code != 0 and "borrow_scale" in bad.output and "Traceback" not in bad.output
    bad = CliRunner().invoke(build_app(), base + ["--borrow-when", "never"])
    assert bad.exit_code != 0 and "borrow_when" in bad.output and "Traceback" not in bad.output
