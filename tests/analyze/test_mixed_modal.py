"""Mixed-modal analysis (Aghajanyan et al. 2023): two stages, intervals through both, the barrier, JSON, CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from scalinglab.analyze.mixed_modal import (
    MixedModalResult,
    load_mixed_modal,
    mixed_modal,
    simulate_mixed_modal,
)
from scalinglab.errors import DataError, InvalidParameterError
from scalinglab.laws import get_law
from scalinglab.laws._multimodal import (
    asymptotic_barrier,
    barrier_same_total,
    barrier_tokens,
    competition_barrier,
    interaction_terms,
)

TRUTH = {"C": 0.12, "A": 6.0, "alpha": 0.35, "B": 5.0, "beta": 0.3}
UNI = {
    "code": {"E": 0.6, "A": 30.0, "alpha": 0.35, "B": 60.0, "beta": 0.3},
    "text": {"E": 0.9, "A": 20.0, "alpha": 0.3, "B": 40.0, "beta": 0.28},
}


@pytest.fixture(scope="module")
def result():
    return mixed_modal(simulate_mixed_modal(seed=0), ("code", "text"), n_resamples=60)


# ------------------------------------------------------------------------------ the law's math (exact)


def test_barrier_solves_its_defining_equation_to_1e_6():
    rng = np.random.default_rng(0)
    n = 500
    p = {
        "C": rng.uniform(0.05, 1.0, n),
        "A": 10 ** rng.uniform(-1, 3, n),
        "alpha": rng.uniform(0.05, 1.0, n),
        "B": 10 ** rng.uniform(-1, 3, n),
        "beta": rng.uniform(0.05, 1.0, n),
    }
    D = 10 ** rng.uniform(3, 12, n)
    N = competition_barrier(D, **p)
    fin = np.isfinite(N)
    assert fin.sum() > 100 and (~fin).sum() > 10  # both cases occur
    rhs = p["A"][fin] / N[fin] ** p["alpha"][fin] + p["B"][fin] / D[fin] ** p["beta"][fin]
    np.testing.assert_allclose(rhs, p["C"][fin], rtol=1e-6)
    # no barrier exactly where the data term alone is at least C
    assert np.array_equal(~fin, p["C"] <= p["B"] / D ** p["beta"])
    # the token form solves the same equation for D at a given N
    Nq = 10 ** rng.uniform(3, 12, n)
    Dq = barrier_tokens(Nq, **p)
    ok = np.isfinite(Dq)
    assert ok.sum() > 100 and np.array_equal(~ok, p["C"] <= p["A"] / Nq ** p["alpha"])
    rhs = p["A"][ok] / Nq[ok] ** p["alpha"][ok] + p["B"][ok] / Dq[ok] ** p["beta"][ok]
    np.testing.assert_allclose(rhs, p["C"][ok], rtol=1e-6)


def test_barrier_separates_wins_from_losses_of_the_law():
    D = np.geomspace(1e5, 1e9, 7)
    N = competition_barrier(D, **TRUTH)
    for d, n in zip(D, N):
        if np.isfinite(n):
            assert interaction_terms(n * 1.01, d / 2, d / 2, **TRUTH)["net"] > 0
            assert interaction_terms(n / 1.01, d / 2, d / 2, **TRUTH)["net"] < 0
    assert float(asymptotic_barrier(TRUTH)) == pytest.approx((6.0 / 0.12) ** (1 / 0.35), rel=1e-12)
    asym = float(get_law("mixed_modal").derive("asymptotic_barrier", TRUTH))
    assert asym == pytest.approx((6.0 / 0.12) ** (1 / 0.35), rel=1e-12)
    assert np.all(np.diff(N[np.isfinite(N)]) < 0) and N[-1] > asym  # falls toward its infinite-data value


def test_same_total_barrier_is_a_root_to_1e_6():
    uni = UNI["code"]
    j = {"C": 0.1, "A": 60.0, "alpha": 0.4, "B": 10.0, "beta": 0.3}
    D = np.geomspace(1e6, 1e10, 5)
    N = barrier_same_total(D / 2, D / 2, joint=j, unimodal_i=uni, unimodal_j=UNI["text"])
    fin = np.isfinite(N)
    assert fin.sum() >= 3 and np.isinf(N[0])  # at 1e6 tokens the data term alone exceeds C
    gain = sum(u["A"] * (2 ** u["alpha"] - 1) / (2 * N[fin] ** u["alpha"]) for u in (uni, UNI["text"]))
    lhs = j["C"] + gain
    rhs = j["A"] / N[fin] ** j["alpha"] + j["B"] / D[fin] ** j["beta"]
    np.testing.assert_allclose(lhs, rhs, rtol=1e-6)
    # vectorised over draws: (B, 1) parameter columns against (1, n) points
    jd = {k: np.full((3, 1), v) for k, v in j.items()}
    Nd = barrier_same_total(D[None] / 2, D[None] / 2, joint=jd, unimodal_i=uni, unimodal_j=UNI["text"])
    assert Nd.shape == (3, 5) and np.array_equal(Nd, np.broadcast_to(N, (3, 5)))


def test_jacobian_matches_finite_differences():
    law = get_law("mixed_modal")
    x = dict(L_i=2.0, L_j=3.0, N=1e6, D_i=3e5, D_j=7e5)
    f, d = law.jacobian(**x, **TRUTH)
    for k in TRUTH:
        h = 1e-6 * max(1.0, abs(TRUTH[k]))
        up = law(**x, **(TRUTH | {k: TRUTH[k] + h}))
        dn = law(**x, **(TRUTH | {k: TRUTH[k] - h}))
        assert float(d[k]) == pytest.approx((up - dn) / (2 * h), rel=1e-5, abs=1e-9)
    assert float(f) == pytest.approx(law(**x, **TRUTH), rel=1e-12)


# ------------------------------------------------------------------------------ the analysis


def test_two_stages_recover_the_truth_at_low_noise():
    r = mixed_modal(simulate_mixed_modal(seed=1, noise=1e-4), ("code", "text"), n_resamples=20)
    for k, v in TRUTH.items():
        assert r.joint[k] == pytest.approx(v, rel=0.1), k
    for m in ("code", "text"):
        for k in ("alpha", "beta"):
            assert r.unimodal[m][k] == pytest.approx(UNI[m][k], rel=0.05)


@pytest.mark.slow
def test_intervals_cover_the_truth_in_a_small_simulation():
    """A fast version of bench/mixed_modal_coverage.py: 6 sets x 5 interaction parameters."""
    hits = []
    for s in range(6):
        r = mixed_modal(simulate_mixed_modal(seed=100 + s), ("code", "text"), n_resamples=40, seed=s)
        hits += [r.intervals[k][0] <= v <= r.intervals[k][1] for k, v in TRUTH.items()]
    assert 0.6 <= np.mean(hits) <= 1.0, np.mean(hits)


def test_result_tables_terms_and_barrier(result):
    r = result
    assert r.modalities == ("code", "text") and r.n_draws >= 50
    assert len(r.runs) == 30 and len(r.unimodal_runs) == 60
    assert set(r.draws.columns) >= {"code.E", "text.beta", "C", "alpha"}
    # predicted = mean unimodal law - net, and measured net matched on (N, D_m, seed)
    np.testing.assert_allclose(r.runs["predicted"], 0.5 * (r.runs["L_i"] + r.runs["L_j"]) - r.runs["net_law"])
    assert r.runs["net_measured"].notna().sum() >= 12
    t = r.terms([1e5, 1e6], 5e5, 5e5)
    np.testing.assert_allclose(t["net"], t["synergy"] - t["capacity"] - t["data"])
    assert (t["net_lower"] <= t["net"]).all() and (t["net"] <= t["net_upper"]).all()
    b = r.barrier([1e6, 1e7])
    fin = b[np.isfinite(b["N_barrier"])]
    rhs = r.joint["A"] / fin["N_barrier"] ** r.joint["alpha"] + r.joint["B"] / fin["D_total"] ** r.joint["beta"]
    np.testing.assert_allclose(rhs, r.joint["C"], rtol=1e-6)
    assert (b["lower"] <= b["N_barrier"]).all()
    assert "found" in r.barrier_statement()
    p = r.predict(1e6, 5e5, 5e5)
    assert float(p["lower"][0]) <= float(p["loss"][0]) <= float(p["upper"][0])
    assert "competition barrier" in r.summary()


def test_json_round_trip_is_exact(result, tmp_path):
    d = result.to_dict()
    assert json.loads(json.dumps(d)) == d
    back = MixedModalResult.from_dict(json.loads(json.dumps(d)))
    assert back.to_dict() == d
    path = result.save(tmp_path / "mm.json")
    again = load_mixed_modal(path)
    assert again.to_dict() == d
    pd.testing.assert_frame_equal(again.barrier([1e7]), result.barrier([1e7]))
    with pytest.raises(DataError, match="not a mixed-modal result"):
        MixedModalResult.from_dict({"analysis": "effective_data"})


def test_figure_and_section(result):
    sec = result.section()
    assert sec.id == "mixed-modal" and "competition barrier" in sec.body
    assert "<img" in sec.body or "<svg" in sec.body


def test_report_section_registers_itself():
    from scalinglab.render import section_providers

    assert "mixed-modal" in {p.name for p in section_providers()}


@pytest.mark.parametrize(
    "mutate, exc, match",
    [
        (lambda df: df.drop(columns=["tokens_text"]), DataError, "no column 'tokens_text'"),
        (lambda df: df.assign(params=df["params"].where(df.index != 3, -1.0)), DataError, "row 3 \\(run"),
        (lambda df: df[~df["run"].str.startswith("joint")].reset_index(drop=True), DataError, "joint runs: 0 run"),
        (lambda df: df[~df["run"].str.startswith("text")].reset_index(drop=True), DataError, "unimodal runs of 'text'"),
    ],
)
def test_bad_input_is_one_clear_error(mutate, exc, match):
    with pytest.raises(exc, match=match):
        mixed_modal(mutate(simulate_mixed_modal(seed=0)), ("code", "text"), n_resamples=10)


def test_bad_options_are_rejected():
    df = simulate_mixed_modal(seed=0)
    with pytest.raises(InvalidParameterError, match="two different modalities"):
        mixed_modal(df, "code")
    with pytest.raises(InvalidParameterError, match="interval"):
        mixed_modal(df, "code,text", interval=1.5)
    with pytest.raises(InvalidParameterError, match="comparison"):
        mixed_modal(df, "code,text", comparison="bigger")
    with pytest.raises(InvalidParameterError, match="Chinchilla"):
        mixed_modal(df, "code,text", unimodal_law="kaplan", comparison="same-total")


# ------------------------------------------------------------------------------ CLI


def _cli(args):
    from scalinglab.cli import build_app

    return CliRunner().invoke(build_app(), args)


@pytest.mark.slow
def test_cli_runs_and_saves(tmp_path):
    csv = tmp_path / "mm.csv"
    simulate_mixed_modal(seed=4).to_csv(csv, index=False)
    out = _cli(
        [
            "mixed-modal",
            str(csv),
            "--modalities",
            "code,text",
            "--n-resamples",
            "20",
            "--barrier-at",
            "10M",
            "--terms",
            "1e6,5e5,5e5",
            "--save",
            str(tmp_path / "r.json"),
            "--figure",
            str(tmp_path / "f.png"),
        ]
    )
    assert out.exit_code == 0, out.output
    assert "competition barrier" in out.output and "D = 1e+07" in out.output
    assert "interaction terms" in out.output and "N=1e+06" in out.output
    assert (tmp_path / "f.png").stat().st_size > 1000
    assert load_mixed_modal(tmp_path / "r.json").modalities == ("code", "text")
    js = _cli(["mixed-modal", str(csv), "--n-resamples", "20", "--json"])
    assert js.exit_code == 0 and json.loads(js.output)["analysis"] == "mixed-modal"


@pytest.mark.parametrize(
    "extra, match",
    [
        (["--modalities", "code,english"], "no column 'tokens_english'"),
        (["--modalities", "code"], "--modalities code,text"),
        (["--interval", "2"], "--interval"),
        (["--barrier-at", "lots"], "--barrier-at"),
        (["--comparison", "x"], "--comparison same-size"),
        (["--terms", "1e6,5e5"], "--terms"),
    ],
)
def test_cli_bad_input_is_one_line_and_nonzero(tmp_path, extra, match):
    csv = tmp_path / "mm.csv"
    simulate_mixed_modal(seed=4).to_csv(csv, index=False)
    out = _cli(["mixed-modal", str(csv), "--n-resamples", "10", *extra])
    assert out.exit_code != 0
    lines = [ln for ln in out.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and match in lines[0], out.output
    assert "Traceback" not in out.output
