"""`python -m lab loadtest SCENARIO --server session|jwt`: run a Locust scenario on the lab.

    python -m lab loadtest browse --server session -u 20 -t 30s --replicas 2
    python -m lab loadtest revocation --server jwt --action logout -u 4 -t 30s
    python -m lab loadtest scaling --server jwt --replicas 3 --stage-users 5,10,20,40
    python -m lab loadtest scaling --server session --sweep-replicas 1,2,3

The runner brings the lab up as asked (or uses the running one, changing only what the flags
change), runs Locust headless in its own process (`import locust` patches the standard library
with gevent, so it never runs inside this one), prints progress while it runs, and writes
`results/<timestamp>-<scenario>-<server>/`:

    locust_stats.csv, locust_stats_history.csv, locust_failures.csv, locust_exceptions.csv
    report.html        Locust's HTML report
    locust.log         everything Locust printed
    lab.json           the lab's configuration and replicas (no secrets)
    revocation.jsonl   one line per trial and replica (revocation scenario)
    summary.json       requests per second, failures, p50/p95/p99, the revocation window,
                       and whether Locust hit its own CPU limit (then the run is untrustworthy)
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .api import Lab
from .state import (
    ALGORITHMS,
    JWT_MODES,
    LB_POLICIES,
    REPO_ROOT,
    SERVERS,
    SESSION_STORES,
    LabConfig,
    LabError,
)

#: Scenario name -> locustfile under loadtests/.
SCENARIOS = {
    "browse": "browse.py",
    "login-storm": "login_storm.py",
    "revocation": "revocation.py",
    "scaling": "scaling.py",
}
LOADTESTS_DIR = REPO_ROOT / "loadtests"
DEFAULT_RESULTS_DIR = REPO_ROOT / "results"

#: The JWT access-token lifetime the revocation scenario asks for when the lab's is long: the
#: stateless window is bounded only by it, and a 15-minute window would be a 15-minute trial.
REVOCATION_ACCESS_TTL = 5
#: A lab access TTL above this is "long" for the revocation scenario.
REVOCATION_MAX_TTL = 30

#: Lines Locust logs when its own process runs out of CPU (local runner, master, end of run).
CPU_WARNING = re.compile(
    r"CPU usage above \d+%|CPU usage was too high|CPU usage threshold was exceeded"
)

#: Locust's CSV prefix inside the results directory.
CSV_PREFIX = "locust"


def build_parser() -> argparse.ArgumentParser:
    """The runner's flags: Locust's few, the lab's `up` flags, and the scenarios' own."""
    parser = argparse.ArgumentParser(
        prog="python -m lab loadtest",
        description="Run a Locust scenario against the lab and write results/<run>/summary.json.",
    )
    parser.add_argument("scenario", choices=SCENARIOS)
    parser.add_argument("--server", choices=SERVERS, required=True)

    locust = parser.add_argument_group("Locust")
    locust.add_argument("-u", "--users", type=int, default=10, help="concurrent users (10)")
    locust.add_argument(
        "-r", "--rate", type=float, help="users started per second (default: all within 1 s)"
    )
    locust.add_argument(
        "-t", "--time", default=None, help="run time, e.g. 30s, 2m (30s; scaling: its stages)"
    )
    locust.add_argument(
        "--processes",
        type=int,
        help="Locust worker processes (-1: one per core); they share the lab's cores",
    )
    locust.add_argument("--think-time", help="seconds between a user's tasks, 'MIN,MAX'")
    locust.add_argument(
        "--action",
        choices=("logout", "password", "admin"),
        default="logout",
        help="revocation: how the victim revokes (logout)",
    )
    locust.add_argument(
        "--revocation-timeout", type=float, help="revocation: seconds the attacker keeps trying"
    )
    locust.add_argument("--stage-users", help="scaling: user counts, e.g. 5,10,20,40")
    locust.add_argument("--stage-seconds", type=float, help="scaling: seconds per stage (20)")
    locust.add_argument(
        "--locust-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="pass one more argument to Locust (repeatable), e.g. --locust-arg=--loglevel=DEBUG",
    )

    lab = parser.add_argument_group("lab (as in `python -m lab up`; default: the running lab's)")
    lab.add_argument("--replicas", type=int)
    lab.add_argument(
        "--sweep-replicas",
        type=replica_counts,
        metavar="N,N,...",
        help="run the scenario once per replica count (e.g. 1,2,3) and draw the curves "
        "side by side in results/<run>-sweep/ (made for `scaling`)",
    )
    lab.add_argument("--lb-policy", choices=LB_POLICIES)
    lab.add_argument("--session-store", choices=SESSION_STORES)
    lab.add_argument("--jwt-mode", choices=JWT_MODES)
    lab.add_argument("--access-ttl", type=int, metavar="SECONDS")
    lab.add_argument("--algorithm", choices=ALGORITHMS)
    lab.add_argument("--workers", type=int)
    lab.add_argument("--threads", type=int)
    lab.add_argument("--bcrypt-rounds", type=int)
    lab.add_argument("--database-url")
    lab.add_argument(
        "--keep-lab",
        action="store_true",
        help="leave a lab this run started running afterwards (default: stop it)",
    )

    out = parser.add_argument_group("output")
    out.add_argument("--results", type=Path, default=DEFAULT_RESULTS_DIR, help="(results/)")
    out.add_argument("--quiet", action="store_true", help="no progress lines")
    return parser


# -- the lab ---------------------------------------------------------------------------------


def replica_counts(text: str) -> list[int]:
    """'1,2,3' -> [1, 2, 3] (each between 1 and 9)."""
    try:
        counts = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: use replica counts like 1,2,3") from None
    if not counts or any(not 1 <= n <= 9 for n in counts):
        raise argparse.ArgumentTypeError(f"{text!r}: replica counts between 1 and 9")
    return counts


def lab_changes(args: argparse.Namespace) -> dict[str, Any]:
    """The LabConfig fields the flags set."""
    names = {f.name for f in fields(LabConfig)}
    return {k: v for k, v in vars(args).items() if k in names and v is not None}


def prepare_lab(args: argparse.Namespace, say) -> tuple[Lab, bool]:
    """Use the running lab (changed as the flags ask) or start one; True if we started it."""
    changes = lab_changes(args)
    running = Lab.attach()
    base = running.config if running else LabConfig()
    if args.scenario == "revocation" and args.server == "jwt" and "access_ttl" not in changes:
        ttl = base.access_ttl
        if ttl is None or ttl > REVOCATION_MAX_TTL:
            changes["access_ttl"] = REVOCATION_ACCESS_TTL
            say(
                f"revocation on the JWT server: ACCESS_TOKEN_TTL={REVOCATION_ACCESS_TTL} s for "
                "this lab, so a stateless token's window (bounded only by its lifetime) stays "
                "short; choose another with --access-ttl"
            )
    config = replace(base, **changes)
    config.validate()
    if running and config == running.config:
        say(f"using the running lab in {running.state_dir}")
        return running, False
    lab = Lab.from_config(config, log=lambda message: say(f"lab: {message}"))
    if running:
        say(f"changing the running lab: {', '.join(f'{k}={v}' for k, v in changes.items())}")
    else:
        say(f"starting a lab ({config.replicas} replicas of each server)")
    try:
        lab.up()
    except BaseException:
        if not running:  # leave nothing behind a lab we failed to start
            lab.down()
        raise
    return lab, not running


def lab_description(lab: Lab) -> dict[str, Any]:
    """The lab's configuration and replicas for lab.json (status() holds no secrets)."""
    status = lab.status()
    status.pop("admin_email", None)
    return status


# -- Locust ----------------------------------------------------------------------------------


def parse_duration(text: str) -> float:
    """Locust's run-time syntax ('90', '30s', '2m', '1h30m') in seconds."""
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    parts = re.findall(r"(\d+)\s*([hms])", text)
    if not parts or "".join(n + u for n, u in parts) != re.sub(r"\s", "", text):
        raise LabError(f"run time {text!r}: use e.g. 30s, 2m, 1h30m")
    return float(sum(int(n) * {"h": 3600, "m": 60, "s": 1}[u] for n, u in parts))


def scaling_seconds(args: argparse.Namespace) -> float:
    """How long the scaling shape runs (its stages), for the progress line and the timeout."""
    users = args.stage_users or "5,10,20,40"
    stages = len([u for u in users.split(",") if u.strip()])
    return stages * (args.stage_seconds or 20.0)


def revocation_timeout(args: argparse.Namespace, lab: Lab) -> float:
    """How long the attacker keeps trying: the access token's lifetime plus room for the
    server's clock-skew leeway, or 30 s when nothing bounds the window."""
    if args.revocation_timeout:
        return args.revocation_timeout
    ttl = lab.config.access_ttl if args.server == "jwt" else None
    return ttl + 20.0 if ttl else 30.0


def stop_timeout(args: argparse.Namespace, lab: Lab) -> float:
    """Seconds Locust lets running tasks finish at the end: a revocation trial in flight
    completes (and is recorded) instead of being cut off."""
    return revocation_timeout(args, lab) + 5 if args.scenario == "revocation" else 10.0


def locust_command(
    args: argparse.Namespace, host: str, out: Path, stop_after: float = 10.0
) -> list[str]:
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


def locust_env(args: argparse.Namespace, lab: Lab, out: Path) -> dict[str, str]:
    """Locust's environment: the scenario options, the lab's admin, where to dump results."""
    env = dict(os.environ)
    # The locustfiles import `loadtests.common`: the repository root must be importable.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    env["AUTHLAB_STATS_FILE"] = str(out / "http_stats.json")
    env["AUTHLAB_REVOCATION_FILE"] = str(out / "revocation.jsonl")
    env["AUTHLAB_REVOCATION_ACTION"] = args.action
    env["AUTHLAB_ADMIN_EMAIL"] = lab.admin_email
    env["AUTHLAB_ADMIN_PASSWORD"] = lab.admin_password
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


def stop_group(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    """Signal Locust and its worker processes (its own process group, started by us)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)


def run_locust(
    command: list[str],
    env: dict[str, str],
    out: Path,
    planned: float,
    say,
    quiet: bool,
    grace: float = 10.0,
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
                now = time.monotonic()
                for line in new_warnings(log_path, echoed):
                    say(f"locust: {line}")
                if not quiet and now >= next_progress:
                    say(progress_line(now - started, planned, last_aggregate(history)))
                    next_progress = now + 5
                if now > deadline:
                    say("Locust overran its run time by far: stopping it")
                    stop_group(proc)
                    try:
                        proc.wait(15)
                    except subprocess.TimeoutExpired:
                        stop_group(proc, signal.SIGKILL)
                        proc.wait(5)
        except KeyboardInterrupt:
            say("interrupted: stopping Locust (it still writes its reports)")
            stop_group(proc, signal.SIGINT)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                stop_group(proc, signal.SIGKILL)
                proc.wait(5)
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


# -- the summary -----------------------------------------------------------------------------


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "", "N/A") else None
    except ValueError:
        return None


def read_stats(path: Path) -> list[dict[str, Any]]:
    """Locust's final stats CSV as rows of numbers."""
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [
        {
            "type": row.get("Type") or "",
            "name": row["Name"],
            "requests": int(_number(row.get("Request Count")) or 0),
            "failures": int(_number(row.get("Failure Count")) or 0),
            "rps": _number(row.get("Requests/s")),
            "avg_ms": _number(row.get("Average Response Time")),
            "p50_ms": _number(row.get("50%")),
            "p95_ms": _number(row.get("95%")),
            "p99_ms": _number(row.get("99%")),
            "max_ms": _number(row.get("Max Response Time")),
        }
        for row in rows
    ]


def revocation_summary(
    jsonl: Path, rows: list[dict[str, Any]], lab: Lab, server: str
) -> dict[str, Any] | None:
    """The window per replica: from the JSON lines, else from Locust's REVOCATION rows."""
    trials: list[dict[str, Any]] = []
    if jsonl.exists():
        for line in jsonl.read_text(encoding="utf-8").splitlines():
            if line.strip():
                trials.append(json.loads(line))
    metric_rows = [r for r in rows if r["type"] == "REVOCATION"]
    if not trials and not metric_rows:
        return None
    summary: dict[str, Any] = {
        "metric": "window_ms: time from the revocation's answer to the last answer that still "
        "let the attacker in, per replica (0: refused at once)",
        "source": "revocation.jsonl" if trials else "locust_stats.csv (REVOCATION rows)",
        "access_ttl_s": lab.config.access_ttl if server == "jwt" else None,
    }
    if trials:
        per_replica: dict[str, list[float]] = {}
        for trial in trials:
            per_replica.setdefault(trial["replica"], []).append(float(trial["window_ms"]))
        windows = [w for values in per_replica.values() for w in values]
        summary.update(
            {
                "actions": sorted({t["action"] for t in trials}),
                "trials": len({(t.get("time"), t.get("host")) for t in trials}),
                "samples": len(trials),
                "max_ms": max(windows),
                "mean_ms": statistics.fmean(windows),
                "median_ms": statistics.median(windows),
                "open_at_end": sum(1 for t in trials if t.get("open_at_end")),
                # > 0: someone was let in after the `valid_until` the server announced.
                "max_past_valid_until_ms": max(
                    (
                        t["past_valid_until_ms"]
                        for t in trials
                        if t.get("past_valid_until_ms") is not None
                    ),
                    default=None,
                ),
                "server_said_revoked": sum(1 for t in trials if t.get("server_revoked") is True),
                "server_said_not_revoked": sum(
                    1 for t in trials if t.get("server_revoked") is False
                ),
                "per_replica": {
                    replica: {
                        "samples": len(values),
                        "max_ms": max(values),
                        "mean_ms": statistics.fmean(values),
                        "median_ms": statistics.median(values),
                    }
                    for replica, values in sorted(per_replica.items())
                },
            }
        )
    else:
        summary.update(
            {
                "samples": sum(r["requests"] for r in metric_rows),
                "max_ms": max(r["max_ms"] or 0 for r in metric_rows),
                "per_replica": {
                    r["name"].removeprefix("window:"): {
                        "samples": r["requests"],
                        "max_ms": r["max_ms"],
                        "mean_ms": r["avg_ms"],
                        "median_ms": r["p50_ms"],
                    }
                    for r in metric_rows
                },
            }
        )
    return summary


def build_summary(
    args: argparse.Namespace,
    lab: Lab,
    out: Path,
    command: list[str],
    exit_code: int,
    cpu: list[str],
    started: datetime,
    finished: datetime,
) -> dict[str, Any]:
    """Everything summary.json holds."""
    rows = read_stats(out / f"{CSV_PREFIX}_stats.csv")
    aggregated = next((r for r in rows if r["name"] == "Aggregated"), None)
    endpoints = [r for r in rows if r["name"] != "Aggregated"]
    http_file = out / "http_stats.json"
    if http_file.exists():  # HTTP requests only, without our custom metrics (loadtests/common.py)
        totals = json.loads(http_file.read_text(encoding="utf-8"))
        source = "http_stats.json (HTTP requests only)"
    else:
        totals = aggregated or {}
        source = "locust_stats.csv (Aggregated)"
    requests = int(totals.get("requests") or 0)
    failures = int(totals.get("failures") or 0)
    warnings = []
    if cpu:
        warnings.append(
            "Locust hit its own CPU limit (above 90%): it could not generate the load it was "
            "asked for and its response times include its own queueing. Do not trust these "
            "numbers; use fewer users, --processes, or another machine."
        )
    if requests == 0:
        warnings.append("No requests were made: see locust.log.")
    config = lab.config
    return {
        "scenario": args.scenario,
        "server": args.server,
        "host": lab.url(args.server),
        "started": started.isoformat(),
        "finished": finished.isoformat(),
        "duration_s": round((finished - started).total_seconds(), 1),
        "requests": requests,
        "failures": failures,
        "failure_ratio": failures / requests if requests else None,
        "rps": totals.get("rps"),
        "p50_ms": totals.get("p50_ms"),
        "p95_ms": totals.get("p95_ms"),
        "p99_ms": totals.get("p99_ms"),
        "avg_ms": totals.get("avg_ms"),
        "max_ms": totals.get("max_ms"),
        "totals_source": source,
        "locust_cpu_limit_hit": bool(cpu),
        "cpu_warnings": cpu,
        "trustworthy": not cpu and requests > 0,
        "warnings": warnings,
        "revocation": revocation_summary(out / "revocation.jsonl", rows, lab, args.server),
        "endpoints": endpoints,
        "locust": {
            "users": None if args.scenario == "scaling" else args.users,
            "spawn_rate": args.rate,
            "run_time": args.time,
            "processes": args.processes,
            "think_time": args.think_time,
            "action": args.action if args.scenario == "revocation" else None,
            "exit_code": exit_code,
            "command": command,
        },
        "lab": {
            "replicas": config.replicas,
            "lb_policy": config.lb_policy,
            "session_store": config.session_store,
            "jwt_mode": config.jwt_mode,
            "access_ttl": config.access_ttl,
            "algorithm": config.algorithm,
            "workers": config.workers,
            "threads": config.threads,
            "bcrypt_rounds": config.bcrypt_rounds,
        },
    }


def print_summary(summary: dict[str, Any], out: Path, say) -> None:
    """The headline numbers, for people."""

    def ms(value: Any) -> str:
        return "-" if value is None else f"{value:.0f} ms"

    say(
        f"{summary['scenario']} on {summary['server']} ({summary['lab']['replicas']} replicas): "
        f"{summary['requests']} requests, {summary['failures']} failures, "
        f"{(summary['rps'] or 0):.1f} req/s, p50 {ms(summary['p50_ms'])}, "
        f"p95 {ms(summary['p95_ms'])}, p99 {ms(summary['p99_ms'])}"
    )
    revocation = summary.get("revocation")
    if revocation:
        per = ", ".join(
            f"{name} max {ms(v['max_ms'])}" for name, v in revocation["per_replica"].items()
        )
        say(
            f"revocation window ({revocation['samples']} samples): max "
            f"{ms(revocation['max_ms'])}; {per}"
        )
    if summary["locust_cpu_limit_hit"]:
        say("WARNING: Locust hit its CPU limit; these numbers are not trustworthy.")
    else:
        say("Locust stayed below its CPU limit.")
    say(f"results: {out}")


# -- main ------------------------------------------------------------------------------------


def run_once(args: argparse.Namespace, say) -> tuple[int, Path | None]:
    """One Locust run on a lab prepared as the flags ask; returns (exit code, results folder)."""
    try:
        planned = scaling_seconds(args) if args.scenario == "scaling" else 30.0
        if args.time:
            planned = parse_duration(args.time)
        lab, started_lab = prepare_lab(args, say)
    except LabError as exc:
        print(f"loadtest: {exc}", file=sys.stderr)
        return 1, None
    try:
        config = lab.config
        split_sessions = config.session_store == "memory" and config.lb_policy == "roundrobin"
        if args.server == "session" and split_sessions:
            say(
                "memory store behind round-robin: expect refusals on the replicas that did "
                "not see a login (that is the lesson, not a bug)"
            )
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        suffix = f"-r{config.replicas}" if getattr(args, "sweep_replicas", None) else ""
        out = args.results / f"{stamp}-{args.scenario}-{args.server}{suffix}"
        out.mkdir(parents=True, exist_ok=False)
        (out / "lab.json").write_text(json.dumps(lab_description(lab), indent=2) + "\n")
        host = lab.url(args.server)
        command = locust_command(args, host, out, stop_timeout(args, lab))
        say(f"{args.scenario} on {host} for {planned:.0f}s; Locust output in {out}/locust.log")
        began = datetime.now(UTC)
        exit_code, cpu = run_locust(
            command,
            locust_env(args, lab, out),
            out,
            planned,
            say,
            args.quiet,
            grace=stop_timeout(args, lab),
        )
        summary = build_summary(args, lab, out, command, exit_code, cpu, began, datetime.now(UTC))
        (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        print_summary(summary, out, say)
        return exit_code, out
    finally:
        if started_lab and not args.keep_lab:
            say("stopping the lab this run started (--keep-lab keeps it)")
            lab.down()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m lab loadtest`."""
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))

    def say(message: str) -> None:
        print(f"loadtest: {message}", flush=True)

    if not args.sweep_replicas:
        return run_once(args, say)[0]
    from .sweep import sweep_replicas

    return sweep_replicas(args, run_once, say)
