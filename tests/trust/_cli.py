"""Run a CLI command in-process and check the trust invariants on what it printed."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

import typer
from typer.testing import CliRunner

from scalinglab.cli import build_app
from scalinglab.cli._common import PYTHON_SYNTAX

_APP = build_app()
_RUNNER = CliRunner()
_FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")


def command_flags(name: str) -> set[str]:
    """Every option of command ``name``, read from the typer app itself."""
    cmd = typer.main.get_command(_APP).commands[name]
    return {o for p in cmd.params for o in (*p.opts, *p.secondary_opts) if o.startswith("-")} | {"--help"}


@dataclass
class Outcome:
    args: list
    code: int
    stdout: str
    stderr: str
    exception: BaseException | None


def run(args: list[str]) -> Outcome:
    r = _RUNNER.invoke(_APP, [str(a) for a in args])
    return Outcome(list(args), r.exit_code, r.stdout, r.stderr, r.exception)


def check(o: Outcome) -> str:
    """Assert the invariants; return the class of outcome: 'error', 'strict-refused' or 'result'."""
    text = o.stdout + o.stderr
    assert "Traceback" not in text, (o.args, text)
    assert o.exception is None or isinstance(o.exception, SystemExit), (o.args, repr(o.exception))
    assert "RuntimeWarning" not in text and "unexpected failure" not in text, (o.args, text)
    assert o.code in (0, 1, 2, 3), (o.args, o.code, text)
    if o.code == 2:  # a usage error from click: one readable message, no traceback
        assert "Usage:" in o.stderr or "Error" in o.stderr, (o.args, text)
        return "usage-error"
    if o.code == 3:
        errors = [line for line in o.stderr.splitlines() if line.startswith("error: ")]
        if "--json" in o.args:
            payload = json.loads(o.stdout.strip().splitlines()[-1])
            msg, hint = payload["error"]["message"], payload["error"].get("hint", "")
        else:
            assert len(errors) == 1, (o.args, o.stderr)
            msg, _, hint = errors[0][7:].partition(" Fix: ")
        assert len(msg) > 10, (o.args, msg)
        assert hint, (o.args, "no fix given", msg)
        command = next(a for a in o.args if not str(a).startswith("-"))
        unknown = set(_FLAG.findall(hint)) - command_flags(command)
        assert not unknown, (o.args, f"hint names flags {unknown} that '{command}' lacks", hint)
        assert not re.search(PYTHON_SYNTAX, hint), (o.args, "Python syntax in a CLI hint", hint)
        return "error"
    if o.code == 1:
        assert "--strict" in o.args, (o.args, text)
        return "strict-refused"
    if "--json" in o.args and o.args[0] == "fit":
        check_fit_payload(json.loads(o.stdout))
    return "result"


def check_fit_payload(payload: dict) -> None:
    """A fit's diagnostics match its numbers: every parameter whose interval or stderr says it is not
    pinned down is named in the warnings, and 'trusted' holds only without warnings."""
    summary = payload["summary"]
    warnings = " ".join(summary["warnings"])
    for row in summary["params"]:
        if row["note"] == "fixed" or row["lower"] is None:
            continue
        v, se, lo, hi = row["value"], row["stderr"], row["lower"], row["upper"]
        wide = (se is not None and v and math.isfinite(se) and se > abs(v)) or (
            lo is not None and hi is not None and lo > 0 and hi / lo > 100
        )
        zero = lo is not None and hi is not None and (hi - lo) <= 1e-6 * max(abs(v), 1e-12)
        if wide or zero:
            assert f"parameter '{row['param']}'" in warnings, (row, warnings)
    assert summary["trusted"] == (not summary["warnings"])
