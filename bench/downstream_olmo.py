"""Two-step loss -> accuracy vs the direct baseline, backtested on the OLMo ladder and Pythia lambada.

OLMo ladder (Bhagia et al. 2024 data): step 1 = Chinchilla law in (N, D) on the task bits-per-byte of
the 20 ladder runs (190M-1B, final checkpoints); step 2 = sigmoid (floor at chance) from bpb to
accuracy on every ladder checkpoint past 10% of its run; target = the 7B (pre-anneal ``7B-28xC`` and
annealed ``7B-28xC-anneal-new`` rows).  Direct = Chinchilla law on the error 1 - acc of the same
20 runs.  Pythia lambada: log-perplexity -> accuracy, fit on 70M-2.8B checkpoints (step >= 13000 for
step 1 and the direct fit; step >= 1000 for step 2), target = 6.9B and 12B at step 143000, both
families.  Writes bench/results/downstream.json and prints the table.

    PYTHONPATH=src SCALINGLAB_SHARED=... python bench/downstream_olmo.py
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from scalinglab.analyze.downstream import two_step

SHARED = Path(os.environ.get("SCALINGLAB_SHARED", Path(__file__).resolve().parents[2] / "shared")) / "data"

# task: (bpb column, accuracy column, chance)
OLMO_TASKS = {
    "hellaswag": ("hellaswag_rc_5shot_bpb_bpb", "hellaswag_rc_5shot_len_norm", 0.25),
    "arc_easy": ("arc_easy_rc_5shot_bpb_bpb", "arc_easy_rc_5shot_acc", 0.25),
    "arc_challenge": ("arc_challenge_rc_5shot_bpb_bpb", "arc_challenge_rc_5shot_len_norm", 0.25),
    "piqa": ("piqa_rc_5shot_bpb_bpb", "piqa_rc_5shot_len_norm", 0.5),
    "openbookqa": ("openbookqa_rc_5shot_bpb_bpb", "openbookqa_rc_5shot_len_norm", 0.25),
    "csqa": ("csqa_rc_5shot_bpb_bpb", "csqa_rc_5shot_len_norm", 0.2),
    "socialiqa": ("socialiqa_rc_5shot_bpb_bpb", "socialiqa_rc_5shot_len_norm", 1 / 3),
    "winogrande": ("winogrande_rc_5shot_bpb_bpb", "winogrande_rc_5shot_acc", 0.5),
    "boolq": ("boolq_rc_5shot_bpb_bpb", "boolq_rc_5shot_acc", 0.5),
}


def _olmo_frame(path: Path) -> pd.DataFrame:
    df = pd.read_csv(path)
    df.columns = [c.replace("downstream_bpb/", "").replace("downstream/", "") for c in df.columns]
    return df.rename(columns={"n_params": "params"})


def olmo(rows: list) -> None:
    final = _olmo_frame(SHARED / "olmo-ladder" / "final_checkpoints.csv")
    traj = _olmo_frame(SHARED / "olmo-ladder" / "trajectories_main.csv")
    ladder = final[final["size_label"] != "7B"]
    targets = final[final["size_label"] == "7B"]
    last = traj.groupby("run")["tokens"].transform("max")
    traj = traj[traj["tokens"] >= 0.1 * last]
    for task, (bpb, acc, chance) in OLMO_TASKS.items():
        r = two_step(ladder, targets, loss=bpb, metric=acc, step2_runs=traj, x={"N": "params", "D": "tokens"},
                     chance=chance, task=task)
        for _, p in r.predictions.iterrows():
            rows.append({"bed": "olmo", "task": task, "target": p["target"], **_row(p)})


def pythia(rows: list) -> None:
    long = pd.read_csv(SHARED / "pythia-evals" / "pythia_opt_bloom_evals_long.csv")
    lam = long[(long["task"] == "lambada_openai") & (long["shots"] == 0) & long["model_family"].str.startswith("pythia")]
    wide = lam.pivot_table(index=["model_family", "model", "params", "step", "tokens"], columns="metric",
                           values="value").reset_index()
    wide = wide[wide["tokens"] > 0].assign(logppl=lambda d: np.log(d["ppl"]))
    wide["run"] = wide["model"]
    for fam, d in wide.groupby("model_family"):
        small = d[d["params"] < 5e9]
        targets = d[(d["params"] > 5e9) & (d["step"] == 143000)]
        r = two_step(small[small["step"] >= 13000].assign(run=lambda t: t["model"] + "@" + t["step"].astype(str)),
                     targets.assign(run=targets["model"]), loss="logppl", metric="acc",
                     step2_runs=small[small["step"] >= 1000], x={"N": "params", "D": "tokens"}, chance=0.0,
                     task=f"lambada ({fam})")
        for _, p in r.predictions.iterrows():
            rows.append({"bed": "pythia-lambada", "task": f"lambada/{fam}", "target": p["target"], **_row(p)})


def _row(p) -> dict:
    return {k: float(p[k]) for k in ("actual", "loss_actual", "loss_pred", "two_step", "lower", "upper", "direct",
                                     "direct_lower", "direct_upper", "err_two_step", "err_direct")} | {
        "covered": bool(p["covered"]), "direct_covered": bool(p["direct_covered"])}


def main() -> None:
    t0 = time.perf_counter()
    rows: list = []
    olmo(rows)
    pythia(rows)
    df = pd.DataFrame(rows)
    pd.set_option("display.width", 200)
    print(df[["bed", "task", "target", "actual", "two_step", "lower", "upper", "direct", "err_two_step",
              "err_direct", "covered"]].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    summary = {}
    for name, part in (("olmo 7B-28xC (pre-anneal)", df[df["target"] == "7B-28xC"]),
                       ("olmo 7B annealed", df[df["target"] == "7B-28xC-anneal-new"]),
                       ("pythia lambada 6.9B+12B", df[df["bed"] == "pythia-lambada"])):
        s = {"n": len(part), "two_step_beats_direct": int((part["err_two_step"] < part["err_direct"]).sum()),
             "mean_abs_err_two_step": float(part["err_two_step"].mean()),
             "mean_abs_err_direct": float(part["err_direct"].mean()),
             "within_2_points_two_step": int((part["err_two_step"] <= 0.02).sum()),
             "coverage_two_step": float(part["covered"].mean()), "coverage_direct": float(part["direct_covered"].mean())}
        summary[name] = s
        print(f"{name}: two-step beats direct on {s['two_step_beats_direct']} of {s['n']}; mean |err| two-step "
              f"{100 * s['mean_abs_err_two_step']:.1f} pts vs direct {100 * s['mean_abs_err_direct']:.1f} pts; "
              f"within 2 pts: {s['within_2_points_two_step']}/{s['n']}; 90% coverage two-step "
              f"{s['coverage_two_step']:.0%}, direct {s['coverage_direct']:.0%}")
    out = {"rows": rows, "summary": summary, "seconds": time.perf_counter() - t0}
    path = Path(__file__).parent / "results" / "downstream.json"
    path.write_text(json.dumps(out, indent=1))
    print(f"wrote {path} ({out['seconds']:.0f} s)")


if __name__ == "__main__":
    main()
