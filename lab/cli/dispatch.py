"""`python -m lab`: the command line over `lab.api.Lab`.

python -m lab up [--replicas 3] [--lb-policy roundrobin|sticky] [--session-store redis|memory]
                 [--jwt-mode stateless|denylist|refresh] ...   (lab/cli/flags.py; `up --help`)
python -m lab status [--json]
python -m lab down
python -m lab replica kill|start session|jwt INDEX
python -m lab redis stop|start|flush | redis pause SECONDS | redis failover|kill-primary|proxy-cost
python -m lab lb disable|enable session|jwt INDEX
python -m lab logs NAME            (session-1, jwt-2, haproxy, redis)
python -m lab loadtest|report|demo|bench|console|chaos ...   (see their own --help)

The verbs live beside their flags: lab/cli/lifecycle.py (up, status, down) and lab/cli/faults.py
(replica, redis, lb, logs); this module builds the parser and dispatches.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from ..attach import sigterm_interrupts
from ..engine.state import STATE_DIR_ENV, LabError, resolve_state_dir
from . import faults as cli_faults
from . import lifecycle as cli_lifecycle
from .faults import cmd_lb, cmd_logs, cmd_redis, cmd_replica
from .lifecycle import (
    cmd_down,
    cmd_status,
    cmd_up,
    config_from_args,
    lab_command,
    print_summary,
)

__all__ = ["build_parser", "config_from_args", "lab_command", "main", "print_summary"]

#: Subcommands written in other modules; imported only when used.
DELEGATED = {
    "loadtest": ("lab.loadtest", "run a Locust scenario on the lab, or compare both servers"),
    "report": ("lab.report.command", "run the experiments and write the HTML report"),
    "demo": ("lab.demo.terminal", "the stolen-cookie demo"),
    "bench": ("lab.bench.command", "the in-process auth-check benchmark"),
    "console": ("lab.demo.console", "the stolen-cookie demo in a browser"),
    "chaos": ("lab.chaos.command", "faults on a seeded schedule, and a checker of every promise"),
    "push": ("lab.experiments.push.command", "the pushed-revocation study (docs/push.md)"),
    "binding-cost": (
        "lab.experiments.binding_cost",
        "what bound credentials cost and how long a stolen copy works (docs/binding.md)",
    ),
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (every `up` flag defaults to None: "as the running lab has it")."""
    parser = argparse.ArgumentParser(
        prog="python -m lab",
        description="AuthLab: replicas of the session and JWT servers behind HAProxy, "
        "with a private Redis, and faults on demand.",
    )
    parser.add_argument(
        "--state-dir", help=f"where the lab keeps its state (default .lab/, or ${STATE_DIR_ENV})"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    cli_lifecycle.add_parsers(sub)
    cli_faults.add_parsers(sub)
    for name, (_, what) in DELEGATED.items():
        sub.add_parser(name, help=f"{what}; `python -m lab {name} --help`", add_help=False)
    return parser


COMMANDS = {
    "up": cmd_up,
    "status": cmd_status,
    "down": cmd_down,
    "replica": cmd_replica,
    "redis": cmd_redis,
    "lb": cmd_lb,
    "logs": cmd_logs,
}


def delegate(name: str, argv: list[str]) -> int:
    """Run `lab.<name>:main(argv)`, written by another part of the project."""
    module_name, what = DELEGATED[name]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        print(
            f"lab: `{name}` is {what}, and {module_name} is not installed in this checkout yet.",
            file=sys.stderr,
        )
        return 2
    return int(module.main(argv) or 0)


#: Exit status after SIGTERM or Ctrl-C (128 + SIGINT, as a shell reports an interrupted command).
INTERRUPTED = 130


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m lab`: SIGTERM ends a command as Ctrl-C does, so that whatever
    it started (a bench's contestants, a report's private lab, a Locust run) is stopped by its
    own cleanup, never left running."""
    try:
        with sigterm_interrupts():
            return run(argv)
    except KeyboardInterrupt:
        print("lab: interrupted; what this command started has been stopped.", file=sys.stderr)
        return INTERRUPTED


def run(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the command (or hand it to its own module)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    # loadtest/report/demo parse their own flags: hand them everything after their name.
    for position, word in enumerate(argv):
        if word in DELEGATED:
            known = parser.parse_args([*argv[:position], "status"])  # validates global flags
            if known.state_dir:
                os.environ[STATE_DIR_ENV] = str(resolve_state_dir(known.state_dir))
            return delegate(word, argv[position + 1 :])
        if not word.startswith("-") and word in COMMANDS:
            break
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except LabError as exc:
        print(f"lab: {exc}", file=sys.stderr)
        return 1
