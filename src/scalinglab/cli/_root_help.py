"""The root ``scalinglab --help`` page without importing Typer, rich or the numerical stack.

The page a newcomer sees first must appear at once (issue 17: under 0.3 s). Building the Typer
app imports every command module, Typer and rich, which costs seconds on a busy machine, so the
root page is printed from the one-line summaries below; a test checks that they match the help
of the registered commands word for word. Everything else (``scalinglab fit --help`` and every
real command) goes through the Typer app.

>>> text = root_help()
>>> text.splitlines()[0]
'Usage: scalinglab [OPTIONS] COMMAND [ARGS]...'
>>> "  fit " in text
True
"""

from __future__ import annotations

import shutil
import textwrap

#: One line per command (its name as typed): the first line of its Typer help.
SUMMARIES: dict[str, str] = {
    "laws": "List the registered scaling laws with their formulas, inputs and sources.",
    "fit": "Fit a scaling law to runs and print the summary.",
    "predict": "Predict the target at new points from a saved fit (or one group of a saved set of fits).",
    "demo": "Fit Chinchilla to the bundled ladder (all but the largest model) and predict the largest.",
    "backtest": "Backtest one or more laws: fit the smaller models, score predictions of the held-out ones.",
    "plan": "Compute-optimal N*, D* and loss at --flops; the budget for --loss; --served-tokens / --ratio; --params split.",
    "suggest": "Propose runs (sizes x tokens within --budget) that most shrink the interval at --target.",
    "sweep": "Train a ladder of byte-level transformer LMs; finished runs are skipped, so re-running resumes.",
    "plot": "Draw one figure (loss curves, parity, residuals, comparison, frontier, backtest) to PNG, SVG or PDF.",
    "report": "Fit, backtest and plan; write one HTML report that opens offline (figures inline as SVG).",
    "trends": "Label each curve's trend with scale (positive, inverse, U, inverted-U, emergent, flat, insufficient).",
    "downstream": "Backtest two-step downstream prediction on the largest model size, against the direct baseline.",
    "transfer": "D_E by inverting the from-scratch law, D_T = D_E - D_F, the fit D_T = k D_F^alpha N^beta, "
    "ossification.",
    "prune": "Data pruning (Sorscher et al. 2022): does a metric beat power-law scaling; prototype keep-masks.",
    "compare": "Per-arm fits, exponent tests, crossovers and compute (or data) multipliers between arms.",
    "encdec": "Fit L = A Ne^-pe Nd^-pd + L_inf; best split N_e/N_d = pe/pd, pe + pd, loss anywhere, BLEU link.",
    "multilingual": "Joint fit L_i = beta_i (f_i(w) N)^-alpha_i + L_inf,i; effective parameters; does w change only "
    "the factor?",
    "mixed-modal": "Unimodal laws per modality, the bimodal interaction law and the competition barrier, with "
    "intervals.",
}

DESCRIPTION = "Estimate, test and apply neural scaling laws."
OPTIONS = (("--version", "Show the version and exit."), ("--help", "Show this message and exit."))


def root_help(width: int | None = None) -> str:
    """The root help page as plain text, wrapped to ``width`` columns (the terminal's by default)."""
    width = width or min(shutil.get_terminal_size((100, 24)).columns, 120)
    lines = ["Usage: scalinglab [OPTIONS] COMMAND [ARGS]...", "", f"  {DESCRIPTION}", "", "Options:"]
    lines += _table(OPTIONS, width)
    lines += ["", "Commands:"]
    lines += _table(tuple(SUMMARIES.items()), width)
    lines += ["", "Run 'scalinglab COMMAND --help' for a command's options."]
    return "\n".join(lines) + "\n"


def _table(rows: tuple[tuple[str, str], ...], width: int) -> list[str]:
    pad = max(len(name) for name, _ in rows) + 4
    out = []
    for name, text in rows:
        wrapped = textwrap.wrap(text, max(width - pad, 30)) or [""]
        out.append(f"  {name:<{pad - 2}}{wrapped[0]}")
        out += [" " * pad + more for more in wrapped[1:]]
    return out


def wants_root_help(argv: list[str]) -> bool:
    """True for exactly ``scalinglab --help``: the only call answered without the Typer app."""
    return argv == ["--help"]
