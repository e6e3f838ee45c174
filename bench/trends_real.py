"""Trend labels on public evaluation data: every curve's label and evidence, written to bench/results.

Data (shared/data): isp-pythia (Inverse Scaling Prize tasks on Pythia, with the source's own test
table), isp-pilot-gpt2-gpt3-opt, pythia-evals (final checkpoints over size, Pythia and Pythia-deduped as
twin families for tau; lambada over training with log-perplexity for the metric check),
emergence-difficulty-groups (overall accuracy over training FLOPs), obs-scaling (the emergent-capability
tasks over FLOPs) and lm-eval-legacy-results (BLOOM and XGLM multilingual suites).  Writes
bench/results/trends_real.json and bench/results/trends_real.csv (one row per curve).

    PYTHONPATH=src SCALINGLAB_SHARED=... python bench/trends_real.py
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pandas as pd

from scalinglab.analyze.trends import trends

SHARED = Path(os.environ.get("SCALINGLAB_SHARED", Path(__file__).resolve().parents[2] / "shared")) / "data"
ISP_BINARY = (
    "hindsight-neglect",
    "into-the-unknown",
    "memo-trap",
    "modus-tollens",
    "neqa",
    "pattern-matching-suppression",
    "redefine",
    "repetitive-algebra",
    "resisting-correction",
    "sig-figs",
)
BOOT = 499


def _rows(bed, r, extra=None):
    out = []
    for c in r.curves:
        e = c.evidence
        out.append(
            {
                "bed": bed,
                "curve": c.name,
                "label": c.label,
                "fragile": c.fragile,
                "n": c.n,
                "labels_over_tau": "/".join(c.labels_over_tau.values()),
                "slope": (e.get("slope") or {}).get("slope"),
                "p_slope_bh": (e.get("slope") or {}).get("p_adj"),
                "p_shape_bh": (e.get("shape") or {}).get("p_adj"),
                "p_lind_mehlum": (e.get("lind_mehlum") or {}).get("p"),
                "turning_log10": (e.get("turning_point") or {}).get("x") if c.label in ("U", "inverted-U") else None,
                "tau": e["noise"]["tau"],
                "tau_source": e["noise"]["tau_source"],
                "chance": e.get("chance"),
                "metric_check": (e.get("metric_check") or {}).get("verdict"),
                "reason": e.get("reason"),
                **(extra(c) if extra else {}),
            }
        )
    return out


def isp(rows, timings):
    path = SHARED / "isp-pythia" / "isp_pythia_accuracy.csv"
    tests = pd.read_csv(SHARED / "isp-pythia" / "isp_pythia_source_tests.csv")
    size = tests[tests["effect"] == "log10_params"].set_index("task")

    def src(c):
        t = size.loc[c.key["task"]]
        p = str(t["p_bh"])
        pv = 0.0009 if p.startswith("<") else float(p)
        # only the source's verdict is kept beside ours; its t and p stay in the shared data
        return {"source_direction": ("inverse" if t["t"] < 0 else "positive") if pv < 0.01 else "none"}

    chance = {t: 0.5 for t in ISP_BINARY}
    t0 = time.perf_counter()
    r = trends(path, "accuracy", x="params", chance=chance, covariate="tokens", n_boot=BOOT)
    timings["isp-pythia (N x D slope, covariate tokens)"] = time.perf_counter() - t0
    rows += _rows("isp-pythia", r, src)
    t0 = time.perf_counter()
    r = trends(path, "accuracy", x="params", chance=chance, n_boot=BOOT)
    timings["isp-pythia (final checkpoints only)"] = time.perf_counter() - t0
    rows += _rows("isp-pythia final-only", r, src)


def pilot(rows):
    d = pd.read_csv(SHARED / "isp-pilot-gpt2-gpt3-opt" / "isp_pilot_summary.csv")
    d = d[~d["experiment"].str.contains("combined")]
    acc = d.dropna(subset=["mean_correct"])
    rows += _rows(
        "isp-pilot accuracy",
        trends(
            acc,
            "mean_correct",
            x="params_nominal",
            by=["experiment", "model_family"],
            n_items="n_examples",
            n_boot=BOOT,
        ),
    )
    loss = d.dropna(subset=["mean_loss"])
    loss = loss[loss["experiment"].str.contains("lambada")]
    rows += _rows(
        "isp-pilot lambada loss",
        trends(loss, "mean_loss", x="params_nominal", by=["experiment", "model_family"], n_boot=BOOT),
    )


def pythia(rows):
    d = pd.read_csv(SHARED / "pythia-evals" / "pythia_opt_bloom_evals_long.csv")
    d = d[(d["shots"] == 0) & d["model_family"].str.startswith("pythia") & (d["step"] == 143000)]
    d = d[d["metric"] == "acc"].assign(subtask=lambda t: t["subtask"].fillna(""))
    chance = {
        "lambada_openai": 0.0,
        "piqa": 0.5,
        "arc_easy": 0.25,
        "arc_challenge": 0.25,
        "sciq": 0.25,
        "winogrande": 0.5,
        "wsc": 0.5,
        "logiqa": 0.25,
        "mmlu": 0.25,
    }
    d = d[d["task"].isin(chance)]
    r = trends(
        d,
        "acc",
        x="params",
        by=["task", "subtask", "model_family"],
        chance=chance,
        twins={"pythia": "pythia-deduped"},
        n_boot=BOOT,
    )
    rows += _rows("pythia-evals final", r)
    # emergence over training: lambada accuracy vs tokens, with log-perplexity beside it
    lam = pd.read_csv(SHARED / "pythia-evals" / "pythia_opt_bloom_evals_long.csv")
    lam = lam[(lam["task"] == "lambada_openai") & (lam["shots"] == 0) & (lam["model_family"] == "pythia")]
    r = trends(lam, "acc", x="tokens", by=["model"], chance=0.0, continuous="ppl", n_boot=BOOT)
    rows += _rows("pythia lambada over training", r)


def emergence(rows):
    d = pd.read_csv(SHARED / "emergence-difficulty-groups" / "difficulty_group_scores.csv")
    src = d.groupby("dataset")["source_emergence_type"].first()
    o = d[d["metric"] == "overall_accuracy"].dropna(subset=["flops_1e21"])
    o = o.groupby(["dataset", "flops_1e21"], as_index=False)["value"].mean()  # models with equal FLOPs averaged
    chance = {"mmlu": 0.25, "hellaswag": 0.25, "arc": 0.25, "parsinlu_qa_mc": 0.25}
    r = trends(o, "value", x="flops_1e21", by=["dataset"], chance=chance, n_boot=BOOT)
    rows += _rows("emergence-difficulty overall accuracy", r, lambda c: {"source_label": src[c.key["dataset"]]})


def obs(rows):
    em = pd.read_csv(SHARED / "obs-scaling" / "base_llm_emergent_capability_eval.csv")
    meta = pd.read_csv(SHARED / "obs-scaling" / "base_llm_benchmark_eval.csv")[
        ["Model", "Model Family", "FLOPs (1E21)"]
    ]
    d = em.merge(meta, on="Model").dropna(subset=["FLOPs (1E21)"])
    cols = [c for c in em.columns if c != "Model" and "bleu" not in c]
    long = d.melt(id_vars=["Model", "FLOPs (1E21)"], value_vars=cols, var_name="task", value_name="score").dropna()
    long = long.groupby(["task", "FLOPs (1E21)"], as_index=False)["score"].mean()
    chance = {
        "parsinlu_qa_2_acc": 0.25,
        "word_unscrambling_2_exact_match": 0.0,
        "ipa_transliterate_2_exact_match": 0.0,
        "arithmetic_3ds_2_acc": 0.0,
        "arithmetic_3da_2_acc": 0.0,
        "arithmetic_2dm_2_acc": 0.0,
        "arithmetic_2da_2_acc": 0.0,
    }
    rows += _rows(
        "obs-scaling emergent tasks", trends(long, "score", x="FLOPs (1E21)", by=["task"], chance=chance, n_boot=BOOT)
    )


def legacy(rows):
    d = pd.read_csv(SHARED / "lm-eval-legacy-results" / "lm_eval_legacy_results_long.csv")
    d = d[
        d["model_family"].isin(["bloom", "xglm"])
        & (d["metric"] == "acc")
        & d["suite"].isin(["xnli_0-shot", "xcopa_0-shot", "xstory_cloze_0-shot", "xwinograd_0-shot", "pawsx_0-shot"])
    ]
    chance = {
        **{t: 1 / 3 for t in d["task"].unique() if t.startswith("xnli")},
        **{t: 0.5 for t in d["task"].unique() if not t.startswith("xnli")},
    }
    rows += _rows(
        "lm-eval-legacy multilingual",
        trends(d, "acc", x="params_nominal", by=["task", "model_family"], chance=chance, n_boot=BOOT),
    )


def main() -> None:
    rows: list = []
    timings: dict = {}
    t0 = time.perf_counter()
    for step in (isp, pilot, pythia, emergence, obs, legacy):
        t = time.perf_counter()
        step(rows, timings) if step is isp else step(rows)
        print(f"{step.__name__}: {time.perf_counter() - t:.0f} s", flush=True)
    df = pd.DataFrame(rows)
    out = Path(__file__).parent / "results"
    df.to_csv(out / "trends_real.csv", index=False)
    summary = {bed: part["label"].value_counts().to_dict() for bed, part in df.groupby("bed")}
    (out / "trends_real.json").write_text(
        json.dumps(
            {
                "summary": summary,
                "timings_s": timings,
                "seconds": time.perf_counter() - t0,
                "curves": json.loads(df.to_json(orient="records")),
            },
            indent=1,
        )
    )
    pd.set_option("display.width", 250)
    pd.set_option("display.max_colwidth", 60)
    for bed, part in df.groupby("bed", sort=False):
        print(f"\n== {bed}: {summary[bed]}")
        cols = ["curve", "label", "fragile", "labels_over_tau", "p_slope_bh", "p_shape_bh", "tau"] + [
            c for c in ("source_direction", "source_label", "metric_check") if c in part and part[c].notna().any()
        ]
        print(part[cols].to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    print(f"\ntimings: {timings}; total {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
