"""`python -m lab chaos`: the fault schedule and the history checker on every mode and topology.

    python -m lab chaos --minutes 1 --seed 7                 every target, a minute each
    python -m lab chaos --ops 200 --minutes 0.4 --servers jwt:denylist --topologies single
    python -m lab chaos --check results/<run>/          (or some of its .history.jsonl files)
    python -m lab chaos --naive --seed 7                 the same JWT targets, guard off: the before
    python -m lab chaos --summary results/*-chaos-s*/ [--markdown]   one table across many runs

It uses the running lab (reconfigured for each target, left running), or starts a private one
in a temporary directory and stops it at the end. It writes results/<time>-chaos-s<seed>/: one
history per target (JSON lines), report.json, report.txt and run.json (the command, commit, date
and machine). Exit status 3 when a promise broke.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import shutil
import sys
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from ..api import Lab
from ..engine.stamp import stamp
from ..engine.state import REPO_ROOT, STATE_DIR_ENV, LabError, resolve_state_dir
from . import schedule, summary
from .checker import check
from .history import load
from .run import GUARDED, TARGETS, TOPOLOGIES, Plan, Target, run_target, save
from .table import render

DEFAULT_RESULTS_DIR = REPO_ROOT / "results"
#: Exit status when the checker found a broken promise (1 is the lab's own failure).
BROKEN = 3


def _targets(text: str) -> list[tuple[str, str]]:
    pairs = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        if part not in {f"{s}:{m}" for s, m in TARGETS}:
            choices = ", ".join(f"{s}:{m}" for s, m in TARGETS)
            raise argparse.ArgumentTypeError(f"{part!r} is none of {choices}")
        server, _, mode = part.partition(":")
        pairs.append((server, mode))
    return pairs


def _positive(kind: type):
    def parse(text: str):
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text!r}: must be more than 0")
        return value

    return parse


def _names(allowed: Sequence[str]):
    def parse(text: str) -> list[str]:
        names = [p.strip() for p in text.split(",") if p.strip()]
        wrong = [n for n in names if n not in allowed]
        if wrong or not names:
            raise argparse.ArgumentTypeError(f"choose among {', '.join(allowed)}")
        return names

    return parse


def build_parser() -> argparse.ArgumentParser:
    """The flags of `python -m lab chaos`."""
    parser = argparse.ArgumentParser(prog="python -m lab chaos", description=__doc__.split("\n")[0])
    add = parser.add_argument
    add("--seed", type=int, help="the schedule's and the clients' seed (default: random, printed)")
    add(
        "--minutes",
        type=_positive(float),
        default=1.0,
        help="per target (default 1; 0.3 for a quick run)",
    )
    add("--ops", type=_positive(int), help="at most this many operations per target (all clients)")
    add(
        "--clients",
        type=_positive(int),
        default=4,
        help="concurrent clients, one user each (default 4)",
    )
    add("--pace", type=_positive(float), default=0.05, help="seconds between a client's operations")
    add("--servers", type=_targets, help="server:mode list (default every one: "
        + ",".join(f"{s}:{m}" for s, m in TARGETS) + ")")  # fmt: skip
    add("--topologies", type=_names(TOPOLOGIES), default=list(TOPOLOGIES), help="single,sentinel")
    add("--naive", action="store_true",
        help="JWT_REVOCATION_GUARD=off: the naive denylist, the before (default targets: "
        + ",".join(f"{s}:{m}" for s, m in GUARDED) + "; rows labelled naive)")  # fmt: skip
    add("--faults", type=_names(list(schedule.FAULTS)), help="only these faults (default all)")
    add("--max-faults", type=_positive(int), help="at most this many faults per target")
    add(
        "--replicas",
        type=_positive(int),
        default=2,
        help="replicas of each server in a private lab (2)",
    )
    add("--results", type=Path, default=DEFAULT_RESULTS_DIR, help="(results/)")
    add("--keep-lab", action="store_true", help="leave a lab this run started running")
    add("--check", type=Path, nargs="+", metavar="HISTORY",
        help="only check saved histories (files, or a run's folder)")  # fmt: skip
    add("--summary", type=Path, nargs="+", metavar="RUN",
        help="only sum saved runs (their folders, or any folder above them): one row per "
        "target across seeds, totals, and the runs' stamp; --servers, --topologies pick "
        "rows")  # fmt: skip
    add("--markdown", action="store_true", help="--summary as Markdown tables")
    add("--quiet", action="store_true", help="no progress lines")
    return parser


def _lab(args: argparse.Namespace, say) -> tuple[Lab, Path | None]:
    """The running lab, else a private one (in $AUTHLAB_LAB_DIR when set, else a temp dir,
    returned to be removed)."""
    running = Lab.attach(resolve_state_dir())
    if running is not None:
        say(f"using the running lab in {running.state_dir} (its Redis will be flushed)")
        return running, None
    tmp = None
    if os.environ.get(STATE_DIR_ENV):
        state_dir = resolve_state_dir()
    else:  # short: HAProxy's admin socket lives inside, and unix socket paths are ~100 bytes
        tmp = state_dir = Path(tempfile.mkdtemp(prefix="authlab-chaos-"))
    say(f"starting a private lab ({args.replicas} replicas of each server) in {state_dir}")
    lab = Lab(state_dir=state_dir, replicas=args.replicas, bcrypt_rounds=4, log=None)
    return lab, tmp


def _check_only(paths: list[Path]) -> int:
    files = [f for p in paths for f in (sorted(p.glob("*.history.jsonl")) if p.is_dir() else [p])]
    if not files:
        print("chaos: no history to check", file=sys.stderr)
        return 1
    reports = [check(*load(f)) for f in files]
    seeds = sorted({r["seed"] for r in reports})
    print(render(reports, seeds[0] if len(seeds) == 1 else seeds), end="")
    return BROKEN if any(any(r["broken"].values()) for r in reports) else 0


def typed(args: argparse.Namespace) -> str:
    """The command as it was typed, every flag kept (a run's record, a summary's stamp)."""
    return "python -m lab chaos " + shlex.join(args.argv)


def _summary(args: argparse.Namespace) -> int:
    paths: list[Path] = args.summary
    missing = [str(p) for p in paths if not p.exists()]
    folders = summary.run_folders([p for p in paths if p.exists()])
    # --servers and --topologies pick rows, as they pick the targets of a run.
    runs = summary.only([summary.read_run(f) for f in folders], args.servers, args.topologies)
    if missing or not runs:
        why = f"no such folder: {', '.join(missing)}" if missing else "no history there"
        print(f"chaos: --summary: {why}", file=sys.stderr)
        return 1
    print(summary.render(runs, typed(args), stamp(), args.markdown), end="")
    return BROKEN if summary.broke_any(runs) else 0


def _plan(args: argparse.Namespace, seed: int) -> Plan:
    return Plan(
        seed=seed, seconds=args.minutes * 60, ops=args.ops, clients=args.clients,
        pace=args.pace, faults=args.faults, max_faults=args.max_faults,
    )  # fmt: skip


def targets_of(args: argparse.Namespace) -> list[Target]:
    """The targets the flags name, every topology for every server:mode; with --naive, the
    guarded modes only (the guard of the others cannot be turned off: LabError)."""
    pairs = args.servers or list(GUARDED if args.naive else TARGETS)
    if args.naive and (unguarded := [f"{s}:{m}" for s, m in pairs if (s, m) not in GUARDED]):
        raise LabError(
            f"--naive turns off JWT_REVOCATION_GUARD, which {', '.join(unguarded)} has not: "
            f"choose among {', '.join(f'{s}:{m}' for s, m in GUARDED)}"
        )
    return [Target(s, m, t, naive=args.naive) for t in args.topologies for s, m in pairs]


def run(args: argparse.Namespace, seed: int, say) -> tuple[list[dict[str, Any]], Path]:
    """Every target in turn on one lab; the reports and the results folder."""
    targets = targets_of(args)
    out = args.results / f"{datetime.now().strftime('%Y%m%d-%H%M%S')}-chaos-s{seed}"
    out.mkdir(parents=True, exist_ok=False)
    # What ran, where, from which commit: the stamp a summary of many runs prints.
    run_json = {"seed": seed, "naive": args.naive, "command": typed(args), **stamp()}
    (out / "run.json").write_text(json.dumps(run_json, indent=2) + "\n")
    lab, tmp = _lab(args, say)
    started = tmp is not None or not lab.is_running()
    original = lab.config
    reports = []
    try:
        if started:
            lab.up()
        for target in targets:
            say(f"{target.name}: seed {seed}")
            history, report = run_target(lab, target, _plan(args, seed), say)
            save(history, out, target.name)
            reports.append(report)
            (out / "report.json").write_text(json.dumps(reports, indent=2) + "\n")
    finally:
        if not started:  # someone's lab: back to the configuration it had
            say("the running lab goes back to its configuration")
            lab.config = original
            lab.up()
        elif args.keep_lab:
            say(f"the lab keeps running: python -m lab --state-dir {lab.state_dir} down")
        else:
            say("stopping the lab this run started")
            lab.down()
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
    return reports, out


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m lab chaos`."""
    given = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(given)
    if args.markdown and not args.summary:
        parser.error("--markdown goes with --summary")
    args.argv = given  # the recorded command is the one typed, every flag kept
    if args.check:
        return _check_only(args.check)
    if args.summary:
        return _summary(args)
    seed = args.seed if args.seed is not None else random.randrange(1_000_000)  # noqa: S311

    def say(message: str) -> None:
        if not args.quiet:
            print(f"chaos: {message}", file=sys.stderr, flush=True)

    try:
        reports, out = run(args, seed, say)
    except LabError as exc:
        print(f"chaos: {exc}", file=sys.stderr)
        return 1
    text = render(reports, seed)
    (out / "report.txt").write_text(text)
    print(text, end="")
    print(f"histories and report in {out}")
    return BROKEN if any(any(r["broken"].values()) for r in reports) else 0
