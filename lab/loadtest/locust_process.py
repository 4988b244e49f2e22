"""Locust in its own process: its command line, environment, progress and CPU warnings.

`import locust` patches the standard library with gevent, so Locust never runs inside the lab's
process: it is started, watched and stopped by pid (its own process group).
"""

from __future__ import annotations

import csv
import os
import re
import signal
import subprocess
import sys
import time
from argparse import Namespace
from collections.abc import Callable
from pathlib import Path

from ..api import Lab
from ..engine import processes
from ..engine.durations import seconds
from ..engine.state import REPO_ROOT, LabError

#: Scenario name -> locustfile under loadtests/.
SCENARIOS = {
    "browse": "browse.py",
    "login-storm": "login_storm.py",
    "revocation": "revocation.py",
    "scaling": "scaling.py",
}
LOADTESTS_DIR = REPO_ROOT / "loadtests"

#: Lines Locust logs when its own process runs out of CPU (local runner, master, end of run).
CPU_WARNING = re.compile(
    r"CPU usage above \d+%|CPU usage was too high|CPU usage threshold was exceeded"
)

#: Locust's CSV prefix inside the results directory.
CSV_PREFIX = "locust"

Say = Callable[[str], None]


def parse_duration(text: str) -> float:
    """Locust's run-time syntax ('90', '30s', '2m', '1h30m') in seconds."""
    try:
        return seconds(text)
    except ValueError:
        raise LabError(f"run time {text!r}: use e.g. 30s, 2m, 1h30m") from None


def scaling_seconds(args: Namespace) -> float:
    """How long the scaling shape runs (its stages), for the progress line and the timeout."""
    users = args.stage_users or "5,10,20,40"
    stages = len([u for u in users.split(",") if u.strip()])
    return stages * (args.stage_seconds or 20.0)


def revocation_timeout(args: Namespace, lab: Lab) -> float:
    """How long the attacker keeps trying: the access token's lifetime plus room for the
    server's clock-skew leeway, or 30 s when nothing bounds the window."""
    if args.revocation_timeout:
        return args.revocation_timeout
    ttl = lab.config.access_ttl if args.server == "jwt" else None
    return ttl + 20.0 if ttl else 30.0


def stop_timeout(args: Namespace, lab: Lab) -> float:
    """Seconds Locust lets running tasks finish at the end: a revocation trial in flight
    completes (and is recorded) instead of being cut off."""
    return revocation_timeout(args, lab) + 5 if args.scenario == "revocation" else 10.0


def locust_command(args: Namespace, host: str, out: Path, stop_after: float = 10.0) -> list[str]:
    """The Locust command line (secrets go through the environment, not here)."""
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOADTESTS_DIR / SCENARIOS[args.scenario]),
        "--headless",
        "--host",
        host,
        "--csv",
        str(out / CSV_PREFIX),
        "--csv-full-history",
        "--html",
        str(out / "report.html"),
        "--stop-timeout",
        f"{stop_after:g}",
    ]
    if args.scenario != "scaling":  # the step shape sets users and stops by itself
        rate = args.rate if args.rate is not None else max(args.users, 1)
        command += ["-u", str(args.users), "-r", str(rate)]
    if args.time or args.scenario != "scaling":
        command += ["-t", args.time or "30s"]
    if args.processes:
        command += ["--processes", str(args.processes)]
    command += list(args.locust_arg)
    return command


def locust_env(args: Namespace, lab: Lab, out: Path) -> dict[str, str]:
    """Locust's environment: the scenario options, the lab's admin, where to dump results."""
    env = dict(os.environ)  # the locustfiles import `loadtests.common`: the project is installed
    env["PYTHONUNBUFFERED"] = "1"
    env["AUTHLAB_PHASES_DIR"] = str(out)
    env["AUTHLAB_REVOCATION_FILE"] = str(out / "revocation.jsonl")
    env["AUTHLAB_REVOCATION_ACTION"] = args.action
    env["AUTHLAB_ADMIN_EMAIL"] = lab.admin_email
    env["AUTHLAB_ADMIN_PASSWORD"] = lab.admin_password
    # DPoP: the users sign a proof per request; DBSC: they register a key at login and renew
    # the short cookie with it (loadtests/keyholder.py).
    env["AUTHLAB_JWT_BINDING"] = lab.config.jwt_binding if args.server == "jwt" else "none"
    env["AUTHLAB_SESSION_BINDING"] = (
        lab.config.session_binding if args.server == "session" else "none"
    )
    if args.scenario == "revocation":
        env["AUTHLAB_REVOCATION_TIMEOUT"] = f"{revocation_timeout(args, lab):g}"
    if args.think_time is not None:
        env["AUTHLAB_THINK_TIME"] = args.think_time
    if args.stage_users:
        env["AUTHLAB_STAGE_USERS"] = args.stage_users
    if args.stage_seconds:
        env["AUTHLAB_STAGE_SECONDS"] = str(args.stage_seconds)
    return env


def last_aggregate(history: Path) -> dict[str, str] | None:
    """The newest "Aggregated" row of Locust's stats history CSV, if any."""
    try:
        with open(history, newline="", encoding="utf-8") as f:
            rows = [row for row in csv.DictReader(f) if row.get("Name") == "Aggregated"]
    except (OSError, csv.Error):
        return None
    return rows[-1] if rows else None


def progress_line(elapsed: float, planned: float, row: dict[str, str] | None) -> str:
    """One line of progress from the history CSV."""
    head = f"  [{elapsed:5.0f}s/{planned:.0f}s]"
    if row is None:
        return f"{head} starting users..."
    p95 = f"{row['95%']} ms" if row.get("95%") not in (None, "", "N/A") else "-"
    return (
        f"{head} users {row.get('User Count', '?'):>4}  "
        f"req/s {float(row.get('Requests/s') or 0):7.1f}  "
        f"requests {row.get('Total Request Count', '?'):>7}  "
        f"failures {row.get('Total Failure Count', '?'):>4}  "
        f"p95 {p95}"
    )


def run_locust(
    command: list[str],
    env: dict[str, str],
    out: Path,
    planned: float,
    say: Say,
    quiet: bool,
    grace: float = 10.0,
    tick: Callable[[int], None] | None = None,
) -> tuple[int, list[str]]:
    """Run Locust to the end, printing progress and its warnings; return (exit code, warnings)."""
    log_path = out / "locust.log"
    history = out / f"{CSV_PREFIX}_stats_history.csv"
    # Ramp-up, the stop timeout (`grace`) and report writing, with room to spare.
    deadline = time.monotonic() + planned + grace + 90
    echoed: set[str] = set()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own group: we stop it and its workers by its pid
        )
        started = time.monotonic()
        next_progress = started + 2
        try:
            while proc.poll() is None:
                time.sleep(0.25)
                if tick is not None:
                    tick(proc.pid)
                now = time.monotonic()
                for line in new_warnings(log_path, echoed):
                    say(f"locust: {line}")
                if not quiet and now >= next_progress:
                    say(progress_line(now - started, planned, last_aggregate(history)))
                    next_progress = now + 5
                if now > deadline:
                    say("Locust overran its run time by far: stopping it")
                    processes.terminate(proc, signal.SIGTERM, 15, group=True)
        except KeyboardInterrupt:
            say("interrupted: stopping Locust (it still writes its reports)")
            processes.terminate(proc, signal.SIGINT, 30, group=True)
    for line in new_warnings(log_path, echoed):
        say(f"locust: {line}")
    return proc.returncode, cpu_warnings(log_path)


def new_warnings(log_path: Path, echoed: set[str], limit: int = 20) -> list[str]:
    """Locust's WARNING/ERROR log lines not shown yet (each message once, at most `limit`)."""
    try:
        text = log_path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    fresh = []
    for line in text.splitlines():
        match = re.match(r"\[[^\]]+\] [^/]+/(WARNING|ERROR|CRITICAL)/[^:]+: (.*)", line)
        if match and match.group(2) not in echoed and len(echoed) < limit:
            echoed.add(match.group(2))
            fresh.append(f"{match.group(1)} {match.group(2)}")
    return fresh


def cpu_warnings(log_path: Path) -> list[str]:
    """The lines where Locust said its CPU was saturated."""
    try:
        lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    return [line.strip() for line in lines if CPU_WARNING.search(line)]
