"""Open a report in headless Chromium (no Python dependencies): rendered DOM, page checks, console errors, screenshot.

Used by the browser test and by anyone who wants to check a report as a person
would see it.  Chromium is driven through its command line only: ``--dump-dom``
after the page's inline script has written its checks (figure sizes, script
errors) into ``<pre id="sl-checks">``, and ``--screenshot``.  Console messages
come from ``--enable-logging=stderr``.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["find_chromium", "PageCheck", "check_page", "screenshot"]

_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--mute-audio",
    "--hide-scrollbars",
    "--enable-logging=stderr",
    "--v=0",
)


def find_chromium() -> str | None:
    """Path of a Chromium/Chrome executable (``$CHROMIUM`` first), or None."""
    env = os.environ.get("CHROMIUM")
    if env and Path(env).exists():
        return env
    for name in _CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass(frozen=True)
class PageCheck:
    """What the page looked like in the browser.

    Attributes
    ----------
    dom : str
        The rendered DOM (after scripts ran).
    checks : dict
        Written by the page's inline script: ``ready``, ``figures`` (id, width, height), ``errors``.
    console : list of str
        Every console message Chromium logged (a report logs none).
    console_errors : list of str
        Uncaught exceptions among them, plus errors the page's own hook recorded.
    stderr : str
    """

    dom: str
    checks: dict[str, Any]
    console: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    stderr: str = ""

    def values(self) -> dict[str, str]:
        """``data-key`` -> displayed text of every keyed element in the rendered page."""
        out = {}
        for m in re.finditer(r'<(\w+)[^>]*\bdata-key="([^"]+)"[^>]*>(.*?)</\1>', self.dom, flags=re.S):
            out[html.unescape(m.group(2))] = html.unescape(re.sub(r"<[^>]+>", "", m.group(3))).strip()
        return out

    def raw_values(self) -> dict[str, float]:
        """``data-key`` -> ``data-value`` (full precision) of keyed numeric cells."""
        out = {}
        for m in re.finditer(r'<\w+[^>]*\bdata-key="([^"]+)"[^>]*\bdata-value="([^"]+)"', self.dom):
            out[html.unescape(m.group(1))] = float(m.group(2))
        return out


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)


_CONSOLE = re.compile(r":CONSOLE[:(]")


def _console(stderr: str) -> list[str]:
    """Console messages in Chromium's log (``...:INFO:CONSOLE:12] "message", source: ...``).

    The log does not say whether a message came from ``console.log`` or
    ``console.error``, so every message is returned; the page's own hook records
    ``console.error`` calls and uncaught errors separately.
    """
    return [line.strip() for line in stderr.splitlines() if _CONSOLE.search(line)]


def check_page(
    path: str | Path, *, chromium: str | None = None, width: int = 1280, height: int = 2000, timeout: float = 90.0
) -> PageCheck:
    """Load ``path`` in headless Chromium and return the rendered DOM, the page's checks and console errors."""
    exe = chromium or find_chromium()
    if exe is None:
        raise FileNotFoundError("no Chromium executable found (install Debian's 'chromium' or set $CHROMIUM)")
    url = Path(path).resolve().as_uri()
    with tempfile.TemporaryDirectory(prefix="sl-chromium-") as profile:
        proc = _run(
            [
                exe,
                *_FLAGS,
                f"--user-data-dir={profile}",
                f"--window-size={width},{height}",
                "--virtual-time-budget=15000",
                "--dump-dom",
                url,
            ],
            timeout,
        )
    dom = proc.stdout
    m = re.search(r'<pre id="sl-checks"[^>]*>(.*?)</pre>', dom, flags=re.S)
    checks: dict[str, Any] = {}
    if m and m.group(1).strip():
        checks = json.loads(html.unescape(m.group(1)))
    console = _console(proc.stderr)
    errors = [m for m in console if "Uncaught" in m] + [str(e) for e in checks.get("errors", [])]
    return PageCheck(dom=dom, checks=checks, console=console, console_errors=errors, stderr=proc.stderr)


def screenshot(
    path: str | Path,
    out: str | Path,
    *,
    chromium: str | None = None,
    width: int = 1280,
    height: int = 1600,
    scale: float = 1.0,
    timeout: float = 90.0,
) -> Path:
    """Save a PNG screenshot of the page (``width`` x ``height`` CSS pixels at ``scale``)."""
    exe = chromium or find_chromium()
    if exe is None:
        raise FileNotFoundError("no Chromium executable found (install Debian's 'chromium' or set $CHROMIUM)")
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sl-chromium-") as profile:
        proc = _run(
            [
                exe,
                *_FLAGS,
                f"--user-data-dir={profile}",
                f"--window-size={width},{height}",
                f"--force-device-scale-factor={scale}",
                "--virtual-time-budget=15000",
                f"--screenshot={out}",
                Path(path).resolve().as_uri(),
            ],
            timeout,
        )
    if not out.exists():
        raise RuntimeError(f"Chromium did not write the screenshot (exit {proc.returncode}): {proc.stderr[-500:]}")
    return out
