"""Two-step loss -> accuracy vs the direct baseline, backtested on the OLMo ladder and Pythia lambada.

OLMo ladder (the data of Bhagia et al. 2024, arXiv:2412.04403), their recipe:
  step 1 = Chinchilla law in (N, D) on the task bits-per-byte of the 20 ladder runs (190M-1B x 1, 2, 5,
           10 xC; final checkpoints);
  step 2 = sigmoid from bpb to accuracy on every intermediate checkpoint of those runs, the first 10 % of
           each run's checkpoints dropped, bpb smoothed by a 20-checkpoint trailing moving average, with
           the two ideal points (bpb 0 -> accuracy 1, largest bpb -> chance);
  target = the 7B: the annealed row ``7B-28xC-anneal-new`` (the paper's target) and the pre-anneal
           ``7B-28xC`` row.
Direct = Chinchilla law on the error 1 - acc of the same 20 final checkpoints.  Tasks: the paper's
eight (MMLU as the question-weighted mean of its four subject groups, HellaSwag, ARC-C, ARC-E, PIQA,
CSQA, SocialIQA, OpenBookQA) plus WinoGrande and BoolQ, which the ladder data also hold.
Pythia lambada: log-perplexity -> accuracy; step 1 and the direct fit on the checkpoints from step
13000 on of 70M-2.8B (one token count per size at the final step, so later checkpoints supply the D
axis), step 2 on all their checkpoints from step 1000 on; targets 6.9B and 12B at step 143000, both
families.  The intervals carry the chain's extrapolation error (``extrapolation="chained"``): both steps
and the direct baseline are refitted without the 1 and 2 largest ladder sizes and predict them
(``nested_holdouts``); the error per decade is calibrated on those own hold-outs together with the other
tasks' (leave-one-task-out: a task's interval never sees its own 7B, nor the 7B of any task).
``--ablation`` reruns the OLMo ladder with step 1's drift only (``extrapolation="step1"``, the earlier
version), with no extrapolation term, and without the anchors (point estimates; the sigmoid's floor then
fixed at chance).
Writes bench/results/downstream.json (predictions, intervals, errors and coverage; the observed
accuracies and losses stay in the shared data) and prints the tables.

    PYTHONPATH=$PWD/src SCALINGLAB_SHARED=/path/to/shared python bench/downstream_olmo.py [--ablation]

In parts (e.g. on two cores): ``--holdouts DIR`` caches each task's nested hold-outs (a part computes
its own tasks' and waits for the others'), ``--tasks a,b`` and ``--beds olmo|pythia`` pick a part, ``--out FILE`` names its JSON, and
``--merge A.json B.json ...`` joins the parts into bench/results/downstream.json with the summary.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from scalinglab.analyze.downstream import nested_holdouts, two_step

SHARED = Path(os.environ.get("SCALINGLAB_SHARED", Path(__file__).resolve().parents[2] / "shared")) / "data"
N_DRAWS = 300
PAPER_TASKS = ("mmlu", "hellaswag", "arc_challenge", "arc_easy", "piqa", "csqa", "socialiqa", "openbookqa")

# task: (bpb column, accuracy column, chance)
OLMO_TASKS = {
    "mmlu": ("mmlu_bpb", "mmlu_len_norm", 0.25),
    "hellaswag": ("hellaswag_rc_5shot_bpb_bpb", "hellaswag_rc_5shot_len_norm", 0.25),
    "arc_challenge": ("arc_challenge_rc_5shot_bpb_bpb", "arc_challenge_rc_5shot_len_norm", 0.25),
    "arc_easy": ("arc_easy_rc_5shot_bpb_bpb", "arc_easy_rc_5shot_acc", 0.25),
    "piqa": ("piqa_rc_5shot_bpb_bpb", "piqa_rc_5shot_len_norm", 0.5),
    "csqa": ("csqa_rc_5shot_bpb_bpb", "csqa_rc_5shot_len_norm", 0.2),
    "socialiqa": ("socialiqa_rc_5shot_bpb_bpb", "socialiqa_rc_5shot_len_norm", 1 / 3),
    "openbookqa": ("openbookqa_rc_5shot_bpb_bpb", "openbookqa_rc_5shot_len_norm", 0.25),
    "winogrande": ("winogrande_rc_5shot_bpb_bpb", "winogrande_rc_5shot_acc", 0.5),
    "boolq": ("boolq_rc_5shot_bpb_bpb", "boolq_rc_5shot_acc", 0.5),
}
# MMLU subject groups weighted by their share of the test questions
MMLU_WEIGHTS = {"stem": 0.215, "humanities": 0.335, "social_sciences": 0.219, "other": 0.231}
HOLDOUTS: list = []
ABLATIONS = ["step1", "none", "no-anchors"]
RECIPE = {"skip_first": 0.1, "smooth": 20, "anchors": True, "extrapolation": "chained"}


def _olmo_frame(path: Path) -> pd.DataFrame:
    df = pd.read_csv(path)
    df.columns = [c.replace("downstream_bpb/", "").replace("downstream/", "") for c in df.columns]
    extra = {
        "mmlu_bpb": sum(w * df[f"mmlu_{k}_var_bpb_bpb"] for k, w in MMLU_WEIGHTS.items()),
        "mmlu_len_norm": sum(w * df[f"mmlu_{k}_var_len_norm"] for k, w in MMLU_WEIGHTS.items()),
    }
    return pd.concat([df, pd.DataFrame(extra)], axis=1).rename(columns={"n_params": "params"})


def olmo(rows: list, recipe: dict, n_draws: int, label: str, tasks=None, cache: Path | None = None) -> None:
    final = _olmo_frame(SHARED / "olmo-ladder" / "final_checkpoints.csv")
    traj = _olmo_frame(SHARED / "olmo-ladder" / "trajectories_main.csv")
    ladder = final[final["size_label"] != "7B"]
    targets = final[final["size_label"] == "7B"]
    common = {"step2_runs": traj, "x": {"N": "params", "D": "tokens"}}
    options = {k: v for k, v in recipe.items() if k != "extrapolation"}
    holdouts = {}
    if recipe.get("extrapolation") == "chained":  # every task's nested hold-outs first: the leave-one-task-out prior
        mine = [t for t in OLMO_TASKS if tasks is None or t in tasks]
        for task in OLMO_TASKS if cache is None else mine:  # a part computes its own tasks' and reads the rest
            bpb, acc, chance = OLMO_TASKS[task]
            file = None if cache is None else cache / f"holdouts_{task}.csv"
            if file is not None and file.exists():
                continue
            h = nested_holdouts(ladder, loss=bpb, metric=acc, chance=chance, task=task, **common, **options)
            if file is None:
                holdouts[task] = h
            else:
                h.to_csv(file.with_suffix(".tmp"), index=False)
                file.with_suffix(".tmp").rename(file)
        if cache is not None:
            files = {t: cache / f"holdouts_{t}.csv" for t in OLMO_TASKS}
            while not all(f.exists() for f in files.values()):  # the other parts' hold-outs
                time.sleep(10)
            holdouts = {t: pd.read_csv(f) for t, f in files.items()}
        HOLDOUTS.extend(h.assign(config=label) for h in holdouts.values())
    prior = pd.concat(holdouts.values(), ignore_index=True) if holdouts else None
    for task, (bpb, acc, chance) in OLMO_TASKS.items():
        if tasks is not None and task not in tasks:
            continue
        t0 = time.perf_counter()
        r = two_step(
            ladder,
            targets,
            loss=bpb,
            metric=acc,
            chance=chance,
            task=task,
            n_draws=n_draws,
            extrapolation_prior=prior,
            holdouts=holdouts.get(task),
            **common,
            **recipe,
        )
        for _, p in r.predictions.iterrows():
            rows.append(
                {
                    "bed": "olmo",
                    "config": label,
                    "task": task,
                    "paper_task": task in PAPER_TASKS,
                    "target": p["target"],
                    **_row(p),
                    "link_range": list(r.link_range),
                    "sigma_per_decade": r.extrapolation_sigma,
                    "direct_sigma_per_decade": r.direct_extrapolation_sigma,
                    "seconds": time.perf_counter() - t0,
                }
            )


def pythia(rows: list, n_draws: int, extrapolation: str = "chained", label: str = "recipe") -> None:
    long = pd.read_csv(SHARED / "pythia-evals" / "pythia_opt_bloom_evals_long.csv")
    lam = long[
        (long["task"] == "lambada_openai") & (long["shots"] == 0) & long["model_family"].str.startswith("pythia")
    ]
    wide = lam.pivot_table(
        index=["model_family", "model", "params", "step", "tokens"], columns="metric", values="value"
    ).reset_index()
    wide = wide[wide["tokens"] > 0].assign(logppl=lambda d: np.log(d["ppl"]))
    wide["run"] = wide["model"]
    for fam, d in wide.groupby("model_family"):
        small = d[d["params"] < 5e9]
        targets = d[(d["params"] > 5e9) & (d["step"] == 143000)]
        t0 = time.perf_counter()
        step1 = small[small["step"] >= 13000].assign(run=lambda t: t["model"] + "@" + t["step"].astype(str))
        r = two_step(
            step1,
            targets.assign(run=targets["model"]),
            loss="logppl",
            metric="acc",
            step2_runs=small[small["step"] >= 1000],
            x={"N": "params", "D": "tokens"},
            chance=0.0,
            skip_first=0.0,
            smooth=1,
            n_draws=n_draws,
            extrapolation=extrapolation,
            task=f"lambada ({fam})",
        )
        for _, p in r.predictions.iterrows():
            rows.append(
                {
                    "bed": "pythia-lambada",
                    "config": label,
                    "task": f"lambada/{fam}",
                    "paper_task": False,
                    "target": p["target"],
                    **_row(p),
                    "link_range": list(r.link_range),
                    "sigma_per_decade": r.extrapolation_sigma,
                    "direct_sigma_per_decade": r.direct_extrapolation_sigma,
                    "seconds": time.perf_counter() - t0,
                }
            )


def _row(p) -> dict:
    out = {
        k: float(p[k])
        for k in (
            "actual",
            "loss_actual",
            "loss_pred",
            "two_step",
            "lower",
            "upper",
            "step2_at_actual_loss",
            "direct",
            "direct_lower",
            "direct_upper",
            "err_two_step",
            "err_direct",
        )
    }
    return out | {
        "err_step2_at_actual_loss": abs(float(p["step2_at_actual_loss"]) - float(p["actual"])),
        "decades": float(p["decades"]),
        "in_link_range": bool(p["in_link_range"]),
        "covered": bool(p["covered"]),
        "direct_covered": bool(p["direct_covered"]),
    }


def _summary(part: pd.DataFrame) -> dict:
    return {
        "n": len(part),
        "two_step_beats_direct": int((part["err_two_step"] < part["err_direct"]).sum()),
        "mean_abs_err_two_step": float(part["err_two_step"].mean()),
        "mean_abs_err_direct": float(part["err_direct"].mean()),
        "mean_abs_err_step2_at_actual_loss": float(part["err_step2_at_actual_loss"].mean()),
        "within_2_points_two_step": int((part["err_two_step"] <= 0.02).sum()),
        "within_2_points_direct": int((part["err_direct"] <= 0.02).sum()),
        "coverage_two_step": float(part["covered"].mean()),
        "coverage_direct": float(part["direct_covered"].mean()),
        "mean_width_two_step": float((part["upper"] - part["lower"]).mean()),
        "mean_width_direct": float((part["direct_upper"] - part["direct_lower"]).mean()),
        "predicted_loss_outside_link_range": int((~part["in_link_range"]).sum()),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description="two-step downstream backtests")
    ap.add_argument("--ablation", action="store_true")
    ap.add_argument("--configs", default=None, help="recipe, step1, none, no-anchors (default: recipe [+ --ablation])")
    ap.add_argument("--tasks", default=None, help="comma-separated OLMo tasks (default: all)")
    ap.add_argument("--beds", default="olmo,pythia")
    ap.add_argument("--holdouts", type=Path, default=None, help="folder caching each task's nested hold-outs")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "downstream.json")
    ap.add_argument("--merge", nargs="+", type=Path, default=None, help="join part JSONs into --out")
    args = ap.parse_args()
    t0 = time.perf_counter()
    rows: list = []
    if args.merge:
        parts = [json.loads(p.read_text()) for p in args.merge]
        rows = [r for part in parts for r in part["rows"]]
        HOLDOUTS.extend(pd.DataFrame(part["holdouts"]) for part in parts if part["holdouts"])
        del HOLDOUTS[1:]  # every OLMo part holds the same (cached) hold-outs
        t0 -= sum(part["seconds"] for part in parts)
        summarise(rows, args.out, t0)
        return
    tasks = args.tasks.split(",") if args.tasks else None
    beds = args.beds.split(",")
    configs = args.configs.split(",") if args.configs else ["recipe"] + (ABLATIONS if args.ablation else [])
    if "olmo" in beds:
        if "recipe" in configs:
            olmo(rows, RECIPE, N_DRAWS, "recipe", tasks, args.holdouts)
        if "step1" in configs:
            olmo(rows, {**RECIPE, "extrapolation": "step1"}, N_DRAWS, "step-1 drift only (earlier)", tasks)
        if "none" in configs:
            olmo(rows, {**RECIPE, "extrapolation": "none"}, N_DRAWS, "no extrapolation term", tasks)
        if "no-anchors" in configs:
            olmo(rows, {**RECIPE, "anchors": False, "extrapolation": "none"}, 40, "no anchors (floor at chance)", tasks)
    if "pythia" in beds:
        if "recipe" in configs:
            pythia(rows, N_DRAWS)
        if "step1" in configs:
            pythia(rows, N_DRAWS, "step1", "step-1 drift only (earlier)")
    summarise(rows, args.out, t0)


def summarise(rows: list, path: Path, t0: float) -> None:
    df = pd.DataFrame(rows)
    pd.set_option("display.width", 250)
    cols = [
        "task",
        "target",
        "actual",
        "loss_actual",
        "loss_pred",
        "in_link_range",
        "two_step",
        "lower",
        "upper",
        "step2_at_actual_loss",
        "direct",
        "err_two_step",
        "err_direct",
        "covered",
        "direct_covered",
    ]
    cols = [c for c in cols if c in df]  # merged parts hold no observed values (see public_free)
    print(df[df["config"] == "recipe"][cols].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    summary = {}
    groups = []
    for config in df["config"].unique():
        o = df[(df["bed"] == "olmo") & (df["config"] == config)]
        for tgt, name in (("7B-28xC-anneal-new", "7B annealed (paper's target)"), ("7B-28xC", "7B pre-anneal")):
            groups.append((f"olmo {config}: {name}, paper's 8 tasks", o[(o["target"] == tgt) & o["paper_task"]]))
            groups.append((f"olmo {config}: {name}, all 10 tasks", o[o["target"] == tgt]))
    for config in df[df["bed"] == "pythia-lambada"]["config"].unique():
        groups.append(
            (f"pythia lambada 6.9B+12B, {config}", df[(df["bed"] == "pythia-lambada") & (df["config"] == config)])
        )
    for name, part in groups:
        s = summary[name] = _summary(part)
        print(
            f"{name}: two-step beats direct on {s['two_step_beats_direct']} of {s['n']}; mean |err| two-step "
            f"{100 * s['mean_abs_err_two_step']:.1f} pts vs direct {100 * s['mean_abs_err_direct']:.1f} pts "
            f"(step 2 fed the true loss {100 * s['mean_abs_err_step2_at_actual_loss']:.1f}); within 2 pts "
            f"{s['within_2_points_two_step']}/{s['n']} (direct {s['within_2_points_direct']}); 90% coverage "
            f"two-step {s['coverage_two_step']:.0%}, direct {s['coverage_direct']:.0%} (mean width "
            f"{100 * s['mean_width_two_step']:.1f} / {100 * s['mean_width_direct']:.1f} pts); predicted loss outside "
            f"the link's range: {s['predicted_loss_outside_link_range']}"
        )
    hold = pd.concat(HOLDOUTS, ignore_index=True) if HOLDOUTS else pd.DataFrame()
    out = {
        "recipe": RECIPE,
        "n_draws": N_DRAWS,
        "rows": public_free(rows),
        "summary": summary,
        "holdouts": public_free(hold.to_dict(orient="records")),
        "seconds": time.perf_counter() - t0,
    }
    path.write_text(json.dumps(out, indent=1))
    print(f"wrote {path} ({out['seconds']:.0f} s)")


#: Observed values of the public data (accuracies and losses of the ladder and the 7B); they stay in
#: ../shared/data and are not written into the results, which keep only what this benchmark computed
#: (predictions, intervals, errors, coverage).
PUBLIC_FIELDS = ("actual", "loss_actual")


def public_free(records: list) -> list:
    """``records`` without the observed public values (:data:`PUBLIC_FIELDS`)."""
    return [{k: v for k, v in r.items() if k not in PUBLIC_FIELDS} for r in records]


if __name__ == "__main__":
    main()
