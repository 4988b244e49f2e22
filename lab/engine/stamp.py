"""Which commit, when and on what machine: the stamp every printed measurement carries.

One helper for the bench, the load-test comparison, the push study and the latency proxy's
cost, so a table in the docs always says where its numbers came from the same way.
"""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import UTC, datetime

from .state import REPO_ROOT


def git(*args: str) -> str:
    """A git answer about this checkout ('' when git is not there)."""
    try:
        done = subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip()


def cpu_model() -> str:
    """The CPU's name from /proc/cpuinfo, or what platform knows."""
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):  # noqa: SIM115 (read-only, short)
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def stamp() -> dict[str, str]:
    """Which commit, when, and on what machine a figure was measured."""
    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    if git("status", "--porcelain", "--untracked-files=no"):
        commit += " (with uncommitted changes)"
    return {
        "commit": commit,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} cores, {cpu_model()}, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}",
    }


def stamp_line() -> str:
    """The stamp as one line of text: 'commit abc1234, 2026-12-01 09:30 UTC, 2 cores, ...'."""
    s = stamp()
    return f"commit {s['commit']}, {s['date']}, {s['machine']}"
