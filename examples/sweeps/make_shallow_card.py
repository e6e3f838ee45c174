"""Package a finished ``tinylm-shallow`` sweep as a bundled dataset and write its card.

Usage (after ``scalinglab sweep examples/sweeps/tinylm-shallow.toml --out sweeps/tinylm-shallow --workers 1``)::

    python examples/sweeps/make_shallow_card.py sweeps/tinylm-shallow [DEST_DIR]

Copies ``<out>/runs.csv`` to ``src/scalinglab/datasets/data/tinylm-shallow.csv`` (and the config
beside it) and writes ``tinylm-shallow.md`` with provenance, the measured cost, the ladder, and the
comparison with ``tinylm`` (``scalinglab.compare`` on the final checkpoints of both ladders, the
Chinchilla law along each arm's compute-optimal frontier).
"""

from __future__ import annotations

import json
import shutil
import sys
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "src" / "scalinglab" / "datasets" / "data"
NAME = "tinylm-shallow"


def _tok(n: float) -> str:
    return f"{n / 2**20:.0f}M" if n >= 2**20 else f"{n / 2**10:.0f}K"


def main(out: Path, dest: Path = DATA) -> None:
    df = pd.read_csv(out / "runs.csv")
    sweep = json.loads((out / "sweep.json").read_text())
    metas = [json.loads((out / "runs" / f"{r}.json").read_text()) for r in df["run"].unique()]
    tiny = (DATA / "tinylm.md").read_text().split("corpus sha256 | `")[1].split("`")[0]
    fin = df[df["final"]]
    cpu = sum(m["cpu_time"] for m in metas)
    wall = sum(m["wall_time"] for m in metas)
    c = sweep["corpus"]

    shutil.copyfile(out / "runs.csv", dest / f"{NAME}.csv")
    shutil.copyfile(REPO / "examples" / "sweeps" / f"{NAME}.toml", dest / f"{NAME}.toml")

    import scalinglab as sl

    both = pd.concat(
        [
            sl.datasets.load("tinylm").query("final").assign(arm="tinylm"),
            fin.assign(arm="shallow"),
        ],
        ignore_index=True,
    )
    cols = ["run", "arm", "params", "tokens", "loss"]
    at1m = both[both["token_budget"] == 999424]
    r1 = sl.compare(at1m[cols], "arm", "power_law", x="params", resamples=1000, reference="tinylm")
    C = 6 * both["params"] * both["tokens"]
    r = sl.compare(both[cols], "arm", "chinchilla", resamples=1000, scale_range=(float(C.min()), float(C.max())),
                   reference="tinylm")

    L = []
    w = L.append
    w(f"# {NAME}: a second arm beside tinylm, one transformer block per model\n")
    w(
        "Held-out loss of byte-level GPTs trained with `scalinglab sweep` exactly like `tinylm` (same corpus, "
        "tokenizer, context, batch, optimiser, schedule and peak-lr rule) except for the shape: every model has "
        "**one** transformer block (tinylm: 2 to 4), so at equal non-embedding parameters it is wider and "
        "shallower. It exists to compare two arms with `scalinglab compare` (Kaplan et al. 2020, sec. 3.1: loss "
        "depends weakly on shape at fixed non-embedding parameters, except for one-layer models).\n"
    )
    w('```python\nimport pandas as pd, scalinglab as sl\n'
      'both = pd.concat([sl.datasets.load("tinylm").assign(arm="tinylm"),\n'
      '                  sl.datasets.load("tinylm-shallow").assign(arm="shallow")]).query("final")\n'
      'print(sl.compare(both, by="arm", law="chinchilla"))\n```\n')
    w("## Regenerate\n")
    w("```bash\npip install 'scalinglab[train]'\n"
      f"scalinglab sweep examples/sweeps/{NAME}.toml --out sweeps/{NAME} --workers 1\n"
      f"python examples/sweeps/make_shallow_card.py sweeps/{NAME}   # copies runs.csv here, rewrites this card\n```\n")
    w("## Provenance\n")
    w("| item | value |\n|---|---|")
    w(f"| corpus | the `tinylm` corpus: `*.py` files of the CPython {c['python_version']} standard library |")
    same = "identical to tinylm's" if c["sha256"] == tiny else "DIFFERENT from tinylm's"
    w(f"| corpus sha256 | `{c['sha256']}` ({same}) |")
    w(f"| corpus size | {c['train_bytes']:,} train bytes, {c['val_bytes']:,} held-out bytes |")
    w(f"| Python | {sweep['python']} |")
    w(f"| torch | {sweep['torch']}, `torch.set_num_threads(1)`, float32 |")
    w("| machine | x86-64, 2 cores shared with other jobs (load average 10-17 while it ran) |")
    w("| workers | 1 (one core, `nice -n 15`) |")
    w(f"| generated | {datetime.now(timezone.utc).strftime('%Y-%m-%d')} |\n")
    w("## Ladder\n")
    w(f"{fin['run'].nunique()} runs, {len(df)} rows (11 log-spaced checkpoints per run including the final one).\n")
    w("| width | depth | params (non-emb.) | params_total | peak lr | token budgets |")
    w("|---|---|---|---|---|---|")
    for (wd, d), g in fin.groupby(["width", "depth"]):
        w(f"| {wd} | {d} | {int(g['params'].iloc[0]):,} | {int(g['params_total'].iloc[0]):,} | {g['lr'].iloc[0]:g} | "
          + ", ".join(_tok(t) for t in sorted(g["token_budget"].unique())) + " |")
    w("")
    w("## Measured cost\n")
    w(f"- CPU time (sum over runs, training + evaluation): **{cpu / 60:.1f} CPU-minutes**")
    w(f"- wall time inside runs: {wall / 60:.1f} min (the machine was shared: wall time is several times CPU time)")
    w(f"- compute: {fin['flops'].sum():.3g} FLOPs by 6ND, {fin['flops_counted'].sum():.3g} counted")
    w(f"- `sweep.json` records {len(sweep['history'])} invocation(s): the ladder was reordered (1M and 2M budgets "
      "at every width before the 4M ones) and trimmed to the time available after the first runs; finished runs "
      "were kept, the run in progress at the stop was retrained.\n")
    w("## Compared with tinylm (`scalinglab.compare`, final checkpoints; `python bench/compare_tinylm.py`)\n")
    w("At a fixed budget of 1M tokens (every width of both ladders), loss vs non-embedding parameters N "
      "(`power_law`); at fixed D compute is proportional to N, so the parameter multiplier is the compute "
      "multiplier. At 1M tokens both ladders are data-limited (loss hardly falls with N), so the curves are "
      "nearly flat and the multiplier is poorly determined:\n")
    w("```\n" + r1.summary() + "\n```\n")
    w("Along each arm's compute-optimal frontier (Chinchilla law, C = 6ND, within the compute range of the "
      "runs). With 8 runs over 0.85 decades of N the shallow arm's five Chinchilla parameters are weakly "
      "identified; the 90% bands below show what this ladder can and cannot tell:\n")
    w("```\n" + r.summary() + "\n```\n")
    w("## Columns\n")
    w("`" + ", ".join(df.columns) + "` (as in `tinylm`).\n")
    w("## Config\n")
    w("```toml\n" + (dest / f"{NAME}.toml").read_text().rstrip() + "\n```")
    (dest / f"{NAME}.md").write_text("\n".join(L) + "\n")
    print(f"wrote {dest / (NAME + '.md')} ({cpu / 60:.1f} CPU-min)")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) > 2 else DATA)
