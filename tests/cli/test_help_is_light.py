"""``scalinglab --help`` builds the whole app without loading the numerical stack (issue 17)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[2] / "src")
HEAVY = ("numpy", "pandas", "scipy", "matplotlib")


def _modules_after(argv: list[str]) -> tuple[int, set[str], str]:
    code = (
        "import sys, json\n"
        f"sys.argv = ['scalinglab', *{argv!r}]\n"
        "from scalinglab.cli import main\n"
        "try:\n    main()\n"
        "except SystemExit as e:\n    code = e.code or 0\n"
        "else:\n    code = 0\n"
        "print('\\nMODULES' + json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    env = dict(os.environ, PYTHONPATH=SRC)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    mods = set(json.loads(out.stderr.rsplit("MODULES", 1)[1]))
    return out.returncode, mods, out.stdout


def test_root_help_does_not_import_the_numerical_stack_nor_typer():
    rc, mods, text = _modules_after(["--help"])
    assert rc == 0 and "fit" in text
    tops = {m.split(".")[0] for m in mods}
    assert not tops & {*HEAVY, "typer", "rich", "click"}, sorted(tops & {*HEAVY, "typer", "rich", "click"})


def test_root_help_lists_every_command_with_its_own_help_line():
    """The static root page says exactly what each registered command's Typer help says."""
    import typer

    from scalinglab.cli import build_app
    from scalinglab.cli._root_help import SUMMARIES, root_help

    group = typer.main.get_command(build_app())
    assert set(group.commands) == set(SUMMARIES)
    for name, command in group.commands.items():
        assert (command.help or "").strip().splitlines()[0] == SUMMARIES[name], name
    page = root_help(width=200)
    assert all(f"  {name} " in page for name in SUMMARIES)


def test_command_help_does_not_import_the_numerical_stack():
    rc, mods, text = _modules_after(["fit", "--help"])
    assert rc == 0 and "--law" in text
    assert not {m.split(".")[0] for m in mods} & set(HEAVY)


def test_progress_line_draws_a_bar_on_a_terminal(monkeypatch):
    """Long jobs show done/total once the API reports steps; off a terminal the callback does nothing."""
    import io

    from rich.console import Console

    from scalinglab.cli import _common

    with _common.progress_line("backtesting", json_output=False) as progress:  # not a terminal under pytest
        progress(1, 2)
    out = io.StringIO()
    monkeypatch.setattr(
        _common, "console", lambda stderr=False: Console(file=out, force_terminal=True, width=100, soft_wrap=True)
    )
    with _common.progress_line("backtesting", json_output=False) as progress:
        progress(3, 7)
        progress(7, 7)
    assert "7/7" in out.getvalue()
    with _common.progress_line("backtesting", json_output=True) as progress:
        progress(1, 1)
