"""The runner's own logic, without a lab: durations, Locust's CPU warning, the summary parts."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from lab import Lab, LabError
from lab.engine.state import REPO_ROOT
from lab.loadtest.command import build_parser
from lab.loadtest.locust_process import (
    cpu_warnings,
    locust_command,
    parse_duration,
    run_locust,
)
from lab.loadtest.revocation_result import revocation_summary

#: What Locust 2.x logs when its process saturates a core (copied from locust/runners.py).
CPU_LINE = (
    "[2026-11-27 12:00:00,000] host/WARNING/root: CPU usage above 90%! This may constrain your "
    "throughput and may even give inconsistent response time measurements!"
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30", 30), ("30s", 30), ("2m", 120), ("1h30m", 5400), ("1m 5s", 65)],
)
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "5x", "3m2"])
def test_parse_duration_rejects_nonsense(text):
    with pytest.raises(LabError):
        parse_duration(text)


def test_runner_never_imports_locust():
    """`import locust` patches the standard library with gevent: the runner must not do it."""
    code = "import sys, lab.loadtest; print('locust' in sys.modules or 'gevent' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "False"


def test_cpu_warning_is_detected_and_echoed(tmp_path):
    """A Locust that says its CPU went above 90% is reported, live and in the result."""
    fake = [sys.executable, "-c", f"print({CPU_LINE!r})"]
    said: list[str] = []
    code, warnings = run_locust(fake, {}, tmp_path, 1.0, said.append, quiet=True)
    assert code == 0
    assert warnings == [CPU_LINE]
    assert any("CPU usage above 90%" in line for line in said)
    assert cpu_warnings(tmp_path / "missing.log") == []


def test_scaling_lets_the_shape_decide():
    """No -u/-r/-t for the step shape, unless a run time is asked for."""
    parser = build_parser()
    args = parser.parse_args(["scaling", "--server", "jwt"])
    command = locust_command(args, "http://127.0.0.1:1", REPO_ROOT / "results" / "x")
    assert "-u" not in command and "-t" not in command
    args = parser.parse_args(["browse", "--server", "jwt", "-u", "7"])
    command = locust_command(args, "http://127.0.0.1:1", REPO_ROOT / "results" / "x")
    assert command[command.index("-u") + 1] == "7"
    assert command[command.index("-t") + 1] == "30s"
    assert "--csv-full-history" in command and "--html" in command


def test_revocation_summary_per_replica(tmp_path):
    """The JSON lines become a window per replica; the server's claims are counted."""
    lines = [
        {"replica": "jwt-1", "window_ms": 1200.0, "action": "logout", "server_revoked": False},
        {"replica": "jwt-2", "window_ms": 1800.0, "action": "logout", "server_revoked": False},
        {"replica": "jwt-1", "window_ms": 600.0, "action": "logout", "server_revoked": False},
    ]
    jsonl = tmp_path / "revocation.jsonl"
    jsonl.write_text("".join(json.dumps(line) + "\n" for line in lines))
    summary = revocation_summary(jsonl, [], Lab(access_ttl=5, state_dir=tmp_path), "jwt")
    assert summary["max_ms"] == 1800
    assert summary["access_ttl_s"] == 5
    assert summary["per_replica"]["jwt-1"] == {
        "samples": 2,
        "max_ms": 1200,
        "mean_ms": 900,
        "median_ms": 900,
    }
    assert summary["server_said_not_revoked"] == 3


def test_revocation_summary_from_locust_rows_alone(tmp_path):
    """Without the JSON lines (workers on other machines), Locust's REVOCATION rows suffice."""
    rows = [
        {"type": "GET", "name": "/auth/me", "requests": 9, "max_ms": 3, "avg_ms": 1, "p50_ms": 1},
        {"type": "REVOCATION", "name": "window:session-1", "requests": 4, "max_ms": 0.0,
         "avg_ms": 0.0, "p50_ms": 0.0},
    ]  # fmt: skip
    summary = revocation_summary(tmp_path / "none.jsonl", rows, Lab(state_dir=tmp_path), "session")
    assert summary["max_ms"] == 0
    assert summary["per_replica"] == {
        "session-1": {"samples": 4, "max_ms": 0.0, "mean_ms": 0.0, "median_ms": 0.0}
    }
    assert revocation_summary(tmp_path / "none.jsonl", rows[:1], Lab(), "session") is None


def test_help_lists_scenarios(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--help"])
    out = capsys.readouterr().out
    for scenario in ("browse", "login-storm", "revocation", "scaling"):
        assert scenario in out
