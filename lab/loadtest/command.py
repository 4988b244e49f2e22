"""The `loadtest` command line: its flags, one run, and the sweep or comparison it asks for."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..api import Lab
from ..cli.flags import lab_changes, lab_flags_parser
from ..engine.state import REPO_ROOT, SERVERS, LabConfig, LabError
from .locust_process import (
    SCENARIOS,
    Say,
    locust_command,
    locust_env,
    parse_duration,
    run_locust,
    scaling_seconds,
    stop_timeout,
)
from .summary import Run, build_summary, print_summary
from .watch import RunWatch

DEFAULT_RESULTS_DIR = REPO_ROOT / "results"

#: The JWT access-token lifetime the revocation scenario asks for when the lab's is long: the
#: stateless window is bounded only by it, and a 15-minute window would be a 15-minute trial.
REVOCATION_ACCESS_TTL = 5
#: A lab access TTL above this is "long" for the revocation scenario.
REVOCATION_MAX_TTL = 30


def build_parser() -> argparse.ArgumentParser:
    """The runner's flags: Locust's few, the scenarios' own, and the lab's (lab/cli/flags.py)."""
    parser = argparse.ArgumentParser(
        prog="python -m lab loadtest",
        description="Run a Locust scenario against the lab and write results/<run>/summary.json; "
        "with --server both, compare the two servers in interleaved trials.",
        parents=[lab_flags_parser("lab (as in `python -m lab up`; default: the running lab's)")],
    )
    parser.add_argument("scenario", choices=SCENARIOS)
    parser.add_argument("--server", choices=(*SERVERS, "both"), required=True)
    parser.add_argument(
        "--trials",
        type=int,
        default=3,
        help="--server both: trials per server, interleaved session, jwt, session, ... (3)",
    )
    _add_locust_flags(parser.add_argument_group("Locust"))
    run = parser.add_argument_group("run")
    run.add_argument(
        "--sweep-replicas",
        type=replica_counts,
        metavar="N,N,...",
        help="run the scenario once per replica count (e.g. 1,2,3) and draw the curves "
        "side by side in results/<run>-sweep/ (made for `scaling`)",
    )
    run.add_argument(
        "--keep-lab",
        action="store_true",
        help="leave a lab this run started running afterwards (default: stop it)",
    )
    run.add_argument("--results", type=Path, default=DEFAULT_RESULTS_DIR, help="(results/)")
    run.add_argument("--quiet", action="store_true", help="no progress lines")
    return parser


def _add_locust_flags(locust: argparse._ArgumentGroup) -> None:
    """Locust's own flags and the scenarios' options."""
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


def replica_counts(text: str) -> list[int]:
    """'1,2,3' -> [1, 2, 3] (each between 1 and 9)."""
    try:
        counts = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: use replica counts like 1,2,3") from None
    if not counts or any(not 1 <= n <= 9 for n in counts):
        raise argparse.ArgumentTypeError(f"{text!r}: replica counts between 1 and 9")
    return counts


def prepare_lab(args: argparse.Namespace, say: Say) -> tuple[Lab, bool]:
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
    if args.scenario == "revocation" and args.server != "session" and config.jwt_binding == "dpop":
        raise LabError(
            "revocation measures how long a stolen copy works after the victim revokes it; with "
            "--jwt-binding dpop a copy without the victim's key is refused before that, at once "
            "(`python -m lab binding-cost --window` measures it): run it with --jwt-binding none"
        )
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


def results_dir(args: argparse.Namespace, lab: Lab, server: str) -> Path:
    """results/<time>-<scenario>-<server>[-r<replicas>][-t<trial>]/, created empty."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    suffix = f"-r{lab.config.replicas}" if getattr(args, "sweep_replicas", None) else ""
    if getattr(args, "trial", None):
        suffix += f"-t{args.trial}"
    out = args.results / f"{stamp}-{args.scenario}-{server}{suffix}"
    out.mkdir(parents=True, exist_ok=False)
    return out


def warn_split_sessions(args: argparse.Namespace, lab: Lab, say: Say) -> None:
    """The memory store behind round-robin refuses on purpose: say so before the failures."""
    config = lab.config
    if (args.server, config.session_store, config.lb_policy) == ("session", "memory", "roundrobin"):
        say(
            "memory store behind round-robin: expect refusals on the replicas that did "
            "not see a login (that is the lesson, not a bug)"
        )


def planned_seconds(args: argparse.Namespace) -> float:
    """How long Locust is asked to run (the progress line and the overrun guard)."""
    if args.time:
        return parse_duration(args.time)
    return scaling_seconds(args) if args.scenario == "scaling" else 30.0


def measure(args: argparse.Namespace, lab: Lab, say: Say) -> tuple[int, Path, dict[str, Any]]:
    """One Locust run of `args.server` on a prepared lab: (exit code, folder, summary)."""
    warn_split_sessions(args, lab, say)
    planned = planned_seconds(args)
    out = results_dir(args, lab, args.server)
    (out / "lab.json").write_text(json.dumps(lab_description(lab), indent=2) + "\n")
    host = lab.url(args.server)
    grace = stop_timeout(args, lab)
    command = locust_command(args, host, out, grace)
    say(f"{args.scenario} on {host} for {planned:.0f}s; Locust output in {out}/locust.log")
    watch = RunWatch(lab, args.server)
    watch.start()
    began = datetime.now(UTC)
    exit_code, cpu = run_locust(
        command, locust_env(args, lab, out), out, planned, say, args.quiet, grace=grace,
        tick=watch.tick,
    )  # fmt: skip
    watch.finish()
    run = Run(args, lab, out, command, exit_code, cpu, began, datetime.now(UTC), watch)
    summary = build_summary(run)
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print_summary(summary, out, say)
    return exit_code, out, summary


def on_a_lab(args: argparse.Namespace, say: Say, work: Callable[[Lab], int]) -> int:
    """Prepare the lab the flags ask for, do `work` on it, stop the lab if this run started it."""
    try:
        planned_seconds(args)  # a bad --time fails before any lab starts
        lab, started_lab = prepare_lab(args, say)
    except LabError as exc:
        print(f"loadtest: {exc}", file=sys.stderr)
        return 1
    try:
        return work(lab)
    finally:
        if started_lab and not args.keep_lab:
            say("stopping the lab this run started (--keep-lab keeps it)")
            lab.down()


def run_once(args: argparse.Namespace, say: Say) -> tuple[int, Path | None]:
    """One Locust run on a lab prepared as the flags ask; returns (exit code, results folder)."""
    done: list[Path] = []

    def work(lab: Lab) -> int:
        code, out, _ = measure(args, lab, say)
        done.append(out)
        return code

    code = on_a_lab(args, say, work)
    return code, done[0] if done else None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m lab loadtest`."""
    given = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(given)
    args.argv = given  # the recorded command is the one typed, every flag kept

    def say(message: str) -> None:
        print(f"loadtest: {message}", flush=True)

    if args.server == "both":
        from .compare import compare

        return on_a_lab(args, say, lambda lab: compare(args, lab, measure, say))
    if args.sweep_replicas:
        from .sweep import sweep_replicas

        return sweep_replicas(args, run_once, say)
    return run_once(args, say)[0]
