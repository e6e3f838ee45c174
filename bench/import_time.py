"""Wall time of ``import scalinglab`` and ``scalinglab --help`` (medians of fresh interpreters), numpy as reference.

Each command runs ``--repeats`` times in a fresh ``python`` process (wall clock, including
interpreter start-up); the median is reported with ``python -c pass`` and ``import numpy`` as
references, and ``python -X importtime`` names the heaviest modules ``scalinglab --help`` loads.

Run:  python bench/import_time.py [--repeats 11]
Writes bench/results/import_time.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "results"
HELP = "import sys; sys.argv = ['scalinglab', '--help']; from scalinglab.cli import main; main()"
CASES = {
    "python -c pass": "pass",
    "import numpy": "import numpy",
    "import typer": "import typer",
    "import typer, typer.rich_utils": "import typer, typer.rich_utils",
    "import scalinglab": "import scalinglab",
    "scalinglab --help": HELP,
}


def wall(code: str) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, env=dict(os.environ))
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=11)
    args = ap.parse_args()
    times: dict[str, list[float]] = {k: [] for k in CASES}
    for _ in range(args.repeats):  # interleaved
        for k, code in CASES.items():
            times[k].append(wall(code))
    med = {k: float(np.median(v)) for k, v in times.items()}
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", HELP], capture_output=True, text=True)
    rows = []
    for line in out.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            rows.append((int(parts[1]), parts[2].strip()))
    top = [name for _, name in sorted(rows, reverse=True) if not name.startswith(" ")][:8]
    heavy = [m for m in ("numpy", "pandas", "scipy", "matplotlib") if any(n.strip() == m for _, n in rows)]
    lines = [
        "# Import time",
        "",
        f"Wall seconds, median of {args.repeats} fresh interpreters (interleaved).",
        "",
        "| command | median s | minus `python -c pass` |",
        "|---|---:|---:|",
    ]
    for k, v in med.items():
        lines.append(f"| `{k}` | {v:.3f} | {v - med['python -c pass']:.3f} |")
    lines += [
        "",
        f"Heavy modules loaded by `scalinglab --help`: {', '.join(heavy) or 'none of numpy, pandas, scipy, matplotlib'}; "
        f"largest cumulative imports: {', '.join(top)}.",
        "",
        "`import typer, typer.rich_utils` is the floor of a Typer app with rich help (the help renderer "
        "imports rich.markdown and rich.traceback); what `scalinglab --help` adds above it is building "
        "the app (importing every command module, Typer's signature inspection) and rendering.",
        "",
        f"Load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores.",
        "",
        f"Command: `python bench/import_time.py --repeats {args.repeats}`",
    ]
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "import_time.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
