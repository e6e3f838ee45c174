"""Revisiting Neural Scaling Laws benchmark: extrapolate 92 learning curves (Alabdulmohsin et al. 2022).

Data: shared/data/revisiting-nsl/benchmark.{lang,vision}.csv (the language file is
de-duplicated first: 687 of its 1,399 rows are exact repeats).  Per curve
(Domain, Task, Model): fit on ``Training == 1``, predict ``Training == 0``, score RMSE of
log-loss; per domain = mean over its curves.

Estimators (all fitted by scalinglab's fitter: Huber(1e-3) on log residuals, global
grid + batched LM; *not* the paper's own fitting code): M1 = beta x^c, M2 = eps_inf +
beta x^c, M3 = beta (1/x + gamma)^c, M4 = (eps - eps_inf)/(eps0 - eps)^alpha = beta x^c,
bnsl (one break), and two ways to combine them:

* ``select``: :func:`scalinglab.evaluate.select_law` -- each candidate fitted below the top
  30% of the curve's log-x range and scored on that top 30%; the winner refitted on all
  training points (the single-curve default until issue #11);
* ``median``: ``select_law(..., combine="median")`` -- the pointwise median of the laws
  with a floor (M2, M3, M4, bnsl).

The default is chosen among these candidates (declared in ``CANDIDATES`` before any
selection) by leave-one-domain-out: for each domain, the candidate with the lowest mean
RMSE over the other domains' curves is scored on it.

Intervals: share of held-out points inside the 90% interval for a new run (delta method; a
single curve has no run replicates to bootstrap), before (select) and for the chosen default,
uncalibrated and calibrated: widened by an extrapolation error per decade from the curve's
own nested hold-out (the validation split above) and the held-out points of the curves of the
*other* domains (:func:`scalinglab.fit.calibrated_sigma`, the curve's domain left out).

Run:  python bench/revisiting.py [--cache PATH]   (about 10 minutes on 2 idle cores)
The fits of each curve are cached after it finishes, so a cut-off run resumes; the tables are
written over the curves done (``--score-only`` rescoring the cache without fitting).
Writes bench/results/scores-revisiting.{csv,json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import scalinglab as sl
from scalinglab.errors import ScalingLabError
from scalinglab.evaluate import rmse_log, select_law
from scalinglab.fit._calibration import ExtrapolationPrior, calibrated_sigma, input_decades, own_sigma, widen

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SCALINGLAB_SHARED", ROOT.parent / "shared"))
DIR = SHARED / "data" / "revisiting-nsl"
OUT = ROOT / "bench" / "results"
LAWS = ["M1", "M2", "M3", "M4"]
EXTRA = ["bnsl"]
#: Variants examined *after* seeing this benchmark's results (hypotheses, not the default):
POSTHOC = ["select_M2_M4", "median_ensemble"]
DOMAINS = ["IC", "NMT", "LM", "BB"]


def curves():
    lang = pd.read_csv(DIR / "benchmark.lang.csv").drop_duplicates()
    vision = pd.read_csv(DIR / "benchmark.vision.csv")
    d = pd.concat([lang, vision], ignore_index=True)
    return list(d.groupby(["Domain", "Task", "Model"], sort=False))


def frame(c: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"examples": c["Seen Examples"].to_numpy(float), "loss": c["Loss"].to_numpy(float)})


def machine() -> str:
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {platform.platform()}"


def _round_robin(cs: list) -> list:
    """Curves interleaved across domains, so that a cut-off run has scored every domain."""
    by_dom: dict = {}
    for item in cs:
        by_dom.setdefault(item[0][0], []).append(item)
    out = []
    while any(by_dom.values()):
        for v in by_dom.values():
            if v:
                out.append(v.pop(0))
    return out


def material(cache: Path) -> list[dict]:
    """Fit every law and the selection on every curve; one record per curve, cached after each
    curve in ``cache`` (a cut-off run resumes where it stopped)."""
    done = pd.read_pickle(cache) if cache.exists() else {}
    out = []
    for (dom, task, model), c in _round_robin(curves()):
        key = (str(dom), str(task), str(model))
        if key in done:
            out.append(done[key])
            continue
        tr, te = frame(c[c["Training"] == 1]), frame(c[c["Training"] == 0])
        rec = {"domain": dom, "task": str(task), "model": str(model), "train": tr, "test": te}
        preds, seconds, errors = {}, {}, {}
        for law in LAWS + EXTRA:
            t = time.perf_counter()
            try:
                f = sl.fit(tr, law, x="examples")
                p = f.predict(te, interval=0.9, kind="new", method="delta", warn=False)
                preds[law] = p[["estimate", "lower", "upper"]].reset_index(drop=True)
            except ScalingLabError as exc:
                errors[law] = str(exc).splitlines()[0]
            seconds[law] = time.perf_counter() - t
        t = time.perf_counter()
        sel = select_law(tr, x="examples")
        seconds["select"] = time.perf_counter() - t
        X = {sym: te[col].to_numpy(float) for sym, col in sel.fit.columns.items()}
        rec.update(
            preds=preds,
            errors=errors,
            seconds=seconds,
            default_law=sel.law,
            validation=sel.scores,
            validation_preds=sel.validation,
            decades=input_decades(sel.fit.data, sel.fit.columns, X),
        )
        done[key] = rec
        pd.to_pickle(done, cache)
        out.append(rec)
        print(
            f"{dom:<4} {str(task):<22} {str(model):<14} "
            + " ".join(f"{k}={rmse_log(te['loss'], v['estimate']):.4f}" for k, v in preds.items())
            + f" [{sel.law}]",
            flush=True,
        )
    return out


Z90 = 1.6448536269514722
#: Candidate defaults for one curve, declared before any leave-one-domain-out selection:
#: the validation winner (select_law, the default until now), each law alone, and the median of
#: the laws with a floor (select_law(combine="median")).
CANDIDATES = ["select", "median", "M1", "M2", "M3", "M4", "bnsl"]
FLOOR_LAWS = ["M2", "M3", "M4", "bnsl"]
#: Declared in session 10, after the table above was known, and scored once: the forecast combination of
#: Bates & Granger (1969), the laws with a floor averaged in log with weights 1 / (validation RMSE)^2 from
#: the curve's own validation split (between ``select``'s one winner and ``median``'s equal votes; no
#: tuning constant).  Reported beside the declared pool; the issue's figure is the declared pool's.
LATER = ["weighted"]


def _name(key: str) -> str:
    """The law's own name for a candidate key (M1 is the power law)."""
    from scalinglab.laws import get_law

    return get_law(key).name


def _key(name: str) -> str:
    return next((k for k in LAWS + EXTRA if _name(k) == name), name)


def candidate_predictions(rec: dict) -> dict:
    """Each candidate's (estimate, lower, upper) at the curve's held-out points, from the cached fits."""
    P = rec["preds"]
    out = {k: tuple(P[k][c].to_numpy(float) for c in ("estimate", "lower", "upper")) for k in P}
    out["select"] = out[_key(rec["default_law"])]
    mem = [k for k in FLOOR_LAWS if k in P]
    if mem:
        est = np.median([out[k][0] for k in mem], axis=0)
        lo = np.minimum(np.median([out[k][1] for k in mem], axis=0), est)
        hi = np.maximum(np.median([out[k][2] for k in mem], axis=0), est)
        out["median"] = (est, lo, hi)
    w = _weights(rec, mem)
    if w:
        out["weighted"] = tuple(np.exp(sum(w[k] * np.log(out[k][i]) for k in w) / sum(w.values())) for i in range(3))
    return out


def _weights(rec: dict, members: list[str]) -> dict:
    """Bates-Granger weights 1 / RMSE^2 of each member on the curve's own validation split."""
    v = rec["validation"]["rmse_log"]
    out = {k: 1.0 / float(v[_name(k)]) ** 2 for k in members if _name(k) in v and np.isfinite(v[_name(k)])}
    return {k: x for k, x in out.items() if np.isfinite(x) and x > 0}


def nested_points(rec: dict, cand: str, base_sd: float) -> pd.DataFrame | None:
    """The candidate's own nested hold-out: fitted below the top 30% of the curve's log-x range
    (select_law's validation split), errors on that top 30%."""
    V = rec["validation_preds"]
    if V is None:
        return None
    if cand == "select":
        cand = _key(rec["default_law"])
    if cand == "median":
        mem = [_name(k) for k in FLOOR_LAWS if _name(k) in V]
        if not mem:
            return None
        pred = np.median(V[mem].to_numpy(float), axis=1)
    elif cand == "weighted":
        w = _weights(rec, FLOOR_LAWS)
        if not w:
            return None
        pred = np.exp(sum(w[k] * np.log(V[_name(k)].to_numpy(float)) for k in w) / sum(w.values()))
    elif _name(cand) in V:
        pred = V[_name(cand)].to_numpy(float)
    else:
        return None
    e = np.log(V["loss"].to_numpy(float)) - np.log(pred)
    ok = np.isfinite(e)
    return pd.DataFrame({"decades": V["decades"].to_numpy(float)[ok], "log_error": e[ok], "base_sd": base_sd})


def score(recs: list[dict], default: str, mode: str | None = None) -> pd.DataFrame:
    """Per curve: RMSE of every candidate; coverage and width of ``default``'s 90% new-run interval,
    uncalibrated and calibrated (own nested hold-out + prior from the other domains' curves)."""
    rows, cal = [], []
    for rec in recs:
        y = rec["test"]["loss"].to_numpy(float)
        cp = candidate_predictions(rec)
        row = {"domain": rec["domain"], "task": rec["task"], "model": rec["model"], "default_law": rec["default_law"]}
        for k in CANDIDATES + LATER:
            row[k] = rmse_log(y, cp[k][0]) if k in cp else np.nan
        est, lo, hi = cp[default]
        b = np.log(hi / lo) / (2 * Z90)
        b = np.where(np.isfinite(b), b, np.nanmedian(b) if np.isfinite(b).any() else 0.0)
        inside = (y >= lo) & (y <= hi)
        row["coverage90"], row["width_log"] = float(inside.mean()), float(np.median(np.log(hi / lo)))
        # today's default (select) uncalibrated, for the before/after table
        e0, l0, h0 = cp["select"]
        row["coverage90_select"] = float(((y >= l0) & (y <= h0)).mean())
        row["n_test"], row["inside_select"] = len(y), int(((y >= l0) & (y <= h0)).sum())
        row["width_log_select"] = float(np.median(np.log(h0 / l0)))
        targets = pd.DataFrame({"decades": rec["decades"], "log_error": np.log(y / est), "base_sd": b})
        cal.append((targets, nested_points(rec, default, float(np.median(b))), y, est, lo, hi))
        rows.append(row)
    res = pd.DataFrame(rows)
    pool = pd.concat(
        [c[0].assign(group=r["domain"], source="targets", own_sigma=own_sigma(c[1])) for c, r in zip(cal, rows)],
        ignore_index=True,
    )
    prior = ExtrapolationPrior(pool)
    for i, (r, (t, own, y, est, lo, hi)) in enumerate(zip(rows, cal)):
        cs = calibrated_sigma(own, prior.without(r["domain"]), 0.9, **({} if mode is None else {"mode": mode}))
        if not cs.thin:
            lo, hi = widen(est, lo, hi, t["decades"].to_numpy(), cs.sigma_per_decade, 0.9, cs.base_scale)
        res.loc[i, "coverage90_cal"] = float(((y >= lo) & (y <= hi)).mean())
        res.loc[i, "width_log_cal"] = float(np.median(np.log(hi / lo)))
        res.loc[i, "sigma_cal"] = np.nan if cs.thin else cs.sigma_per_decade
    return res


def lodo(res: pd.DataFrame, pool=CANDIDATES) -> tuple[dict, pd.Series]:
    """Leave one domain out: the candidate with the lowest mean RMSE over the other domains' curves,
    scored on the left-out domain's curves."""
    picks, scored = {}, []
    for d in DOMAINS:
        pick = str(res.loc[res["domain"] != d, pool].mean().idxmin())
        picks[d] = pick
        scored.append(res.loc[res["domain"] == d, pick])
    return picks, pd.concat(scored)


def main() -> None:
    warnings.simplefilter("ignore")
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--cache",
        type=Path,
        default=Path(tempfile.gettempdir()) / "scalinglab-revisiting-cache.pkl",
        help="per-curve fits, saved after each curve; a re-run resumes (delete it to refit)",
    )
    ap.add_argument("--score-only", action="store_true", help="score the curves already in the cache")
    args = ap.parse_args()
    if args.score_only:
        recs = list(pd.read_pickle(args.cache).values())
    else:
        recs = material(args.cache)
    report(recs)


def report(recs: list[dict]) -> None:
    n_all = len(curves())
    res0 = score(recs, "select")
    picks, lodo_scores = lodo(res0)
    picks_later, lodo_later = lodo(res0, CANDIDATES + LATER)
    chosen = str(res0[CANDIDATES].mean().idxmin())
    res = score(recs, chosen)
    for m in ("pooled", "typical", "relative"):
        alt = score(recs, chosen, m)
        res[f"coverage90_cal_{m}"], res[f"width_log_cal_{m}"] = alt["coverage90_cal"], alt["width_log_cal"]
    OUT.mkdir(parents=True, exist_ok=True)
    res.to_csv(OUT / "scores-revisiting.csv", index=False, float_format="%.6g")
    cols = (
        CANDIDATES
        + LATER
        + [
            "coverage90_select",
            "width_log_select",
            "coverage90",
            "width_log",
            "coverage90_cal",
            "width_log_cal",
        ]
        + [f"{k}_{m}" for m in ("pooled", "typical", "relative") for k in ("coverage90_cal", "width_log_cal")]
    )
    table = res.groupby("domain")[cols].mean().reindex(DOMAINS)
    table["curves"] = res.groupby("domain").size().reindex(DOMAINS).fillna(0)
    table.loc["all"] = res[cols].mean()
    table.loc["all", "curves"] = len(res)
    lodo_dom = lodo_scores.groupby(res0.loc[lodo_scores.index, "domain"]).mean().reindex(DOMAINS)
    table["lodo"] = lodo_dom
    table.loc["all", "lodo"] = float(lodo_scores.mean())
    table["lodo_later"] = lodo_later.groupby(res0.loc[lodo_later.index, "domain"]).mean().reindex(DOMAINS)
    table.loc["all", "lodo_later"] = float(lodo_later.mean())
    beats = {k: int((table.loc[DOMAINS, k] < table.loc[DOMAINS, "M4"]).sum()) for k in CANDIDATES + LATER}
    seconds = pd.DataFrame([r["seconds"] for r in recs]).sum().to_dict()
    picks_law = res.groupby("domain")["default_law"].value_counts().unstack(fill_value=0).reindex(DOMAINS).fillna(0)
    result = {
        "curves_scored": len(res),
        "curves_total": n_all,
        "per_domain": table.reset_index().to_dict(orient="records"),
        "lodo_picks": picks,
        "lodo_rmse_all": float(lodo_scores.mean()),
        "later_candidates": LATER,
        "lodo_picks_with_later": picks_later,
        "lodo_rmse_all_with_later": float(lodo_later.mean()),
        "chosen_default": chosen,
        "domains_better_than_M4": beats,
        "select_law_picks": picks_law.to_dict(orient="index"),
        "seconds": seconds,
        "machine": machine(),
        # read by bench/calibration.py: select_law's uncalibrated delta interval (the earlier default)
        "calibration": {
            "level": 0.9,
            "pooled_share_inside": float(res["inside_select"].sum() / res["n_test"].sum()),
            "n_points": int(res["n_test"].sum()),
            "curve_mean_share": float(res["coverage90_select"].mean()),
            "chosen_default": chosen,
            "chosen_curve_mean_share": float(res["coverage90"].mean()),
            "chosen_calibrated_curve_mean_share": float(res["coverage90_cal"].mean()),
        },
    }
    (OUT / "scores-revisiting.json").write_text(json.dumps(result, indent=2, default=str))
    f4 = lambda v: "-" if not np.isfinite(v) else f"{v:.4f}"  # noqa: E731
    pc = lambda v: "-" if not np.isfinite(v) else f"{100 * v:.1f}%"  # noqa: E731
    lines = [
        "# Revisiting Neural Scaling Laws: RMSE of log-loss on held-out points (mean over curves)",
        "",
        f"{len(res)} of {n_all} curves scored"
        + ("" if len(res) == n_all else " (the run was cut off; curves are taken round-robin over domains)")
        + ".",
        "",
        "| domain | curves | M1 | M2 | M3 | M4 | bnsl | select (before) | median | LODO-chosen | weighted (later) "
        "| LODO-chosen with later |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for dom, r in table.iterrows():
        lines.append(
            f"| {dom} | {int(r.curves)} | "
            + " | ".join(
                f4(r[k]) for k in ["M1", "M2", "M3", "M4", "bnsl", "select", "median", "lodo", "weighted", "lodo_later"]
            )
            + " |"
        )
    lines += [
        "",
        "Candidate defaults (declared before selection): "
        + ", ".join(CANDIDATES)
        + ". Leave one domain out: "
        + "; ".join(f"{d}: {p}" for d, p in picks.items())
        + f". Chosen on all domains: **{chosen}**. Domains where a candidate beats M4: "
        + ", ".join(f"{k} {v}/4" for k, v in beats.items())
        + ".",
        "",
        "Declared later (session 10, scored once): "
        + ", ".join(LATER)
        + " (Bates-Granger: the laws with a floor averaged in log, weights 1/(validation RMSE)^2). With it in the "
        "pool, leave one domain out: "
        + "; ".join(f"{d}: {p}" for d, p in picks_later.items())
        + f"; RMSE {lodo_later.mean():.4f} (declared pool: {lodo_scores.mean():.4f}).",
        "",
        "Laws picked by select_law (validation on the top 30% of the training range):",
        "",
        "| domain | " + " | ".join(picks_law.columns) + " |",
        "|---|" + "---:|" * len(picks_law.columns),
    ]
    for dom, r in picks_law.iterrows():
        lines.append(f"| {dom} | " + " | ".join(str(int(v)) for v in r) + " |")
    lines += [
        "",
        f"90% new-run intervals (mean over curves): before = select_law's delta interval; {chosen} = its "
        "interval uncalibrated; calibrated = widened by the extrapolation error per decade from the curve's own "
        "nested hold-out (its top 30% of training) and the held-out points of the *other* domains' curves.",
        "",
        "| domain | coverage before | width before (log) | coverage " + chosen + " | width | coverage calibrated | "
        "width calibrated |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for dom, r in table.iterrows():
        lines.append(
            f"| {dom} | {pc(r.coverage90_select)} | {f4(r.width_log_select)} | {pc(r.coverage90)} | "
            f"{f4(r.width_log)} | {pc(r.coverage90_cal)} | {f4(r.width_log_cal)} |"
        )
    lines += [
        "",
        "Calibration modes of `calibrated_sigma` (same prior and own hold-out; coverage / median width):",
        "",
        "| domain | pooled | typical | relative |",
        "|---|---:|---:|---:|",
    ]
    for dom, r in table.iterrows():
        lines.append(
            f"| {dom} | "
            + " | ".join(
                f"{pc(r[f'coverage90_cal_{m}'])} / {f4(r[f'width_log_cal_{m}'])}"
                for m in ("pooled", "typical", "relative")
            )
            + " |"
        )
    lines += [
        "",
        "Fit time (s, curves scored): " + ", ".join(f"{k} {v:.0f}" for k, v in seconds.items()),
        "",
        "Command: `python bench/revisiting.py`",
        "",
        f"Machine: {machine()}",
    ]
    (OUT / "scores-revisiting.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    main()
