"""`python -m lab up|status|down`: bring the lab up (or change it to match the flags), say what
runs where, and stop it all."""

from __future__ import annotations

import argparse
import contextlib
import json
import shlex
import sys
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from ..api import Lab
from ..engine.state import REPO_ROOT, SERVERS, LabConfig, LabError, StateStore, resolve_state_dir
from .flags import lab_changes, lab_flags_parser


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """The `up`, `status` and `down` subcommands (every `up` flag defaults to None: "as the
    running lab has it")."""
    up = sub.add_parser(
        "up",
        parents=[lab_flags_parser("lab settings")],
        help="start the lab, or change the running one to match the flags",
    )
    up.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for health")
    up.add_argument(
        "--reset",
        action="store_true",
        help="bring every setting back to its default (then apply the flags given); without "
        "it, a running lab keeps what earlier commands set",
    )
    up.add_argument("--json", action="store_true", help="print the status as JSON")

    status = sub.add_parser("status", help="URLs, and each process with its pid, port and health")
    status.add_argument("--json", action="store_true")

    sub.add_parser("down", help="stop everything the lab started")


#: Settings that only say where the lab listens: a reset keeps them, a diff does not list them.
PLACES = ("session_port", "jwt_port", "stats_port", "redis_port", "database_url")


def config_from_args(args: argparse.Namespace, running: LabConfig | None) -> LabConfig:
    """Flags given win; flags left out keep the running lab's value (with --reset: the
    default), else the default."""
    base = running or LabConfig()
    if getattr(args, "reset", False):
        kept = {name: getattr(base, name) for name in PLACES}
        base = replace(LabConfig(), **kept)
    return replace(base, **lab_changes(args))


def differences(config: LabConfig, only: set[str] | None = None) -> list[str]:
    """Each setting that differs from its default, as `--flag value (default: ...)`; with
    `only`, just those settings."""
    default = LabConfig()
    out = []
    for f in fields(LabConfig):
        if f.name in PLACES or (only is not None and f.name not in only):
            continue
        now, was = getattr(config, f.name), getattr(default, f.name)
        if now != was:
            said = "the server's own" if was is None else was
            out.append(f"--{f.name.replace('_', '-')} {now} (default: {said})")
    return out


def _say_kept(config: LabConfig, given: set[str], state_dir: str | None) -> None:
    """What the lab runs that is not the default, and whether this command or an earlier one
    asked for it: leftovers are never silent."""
    names = {f.name for f in fields(LabConfig)}
    asked, kept = differences(config, given), differences(config, names - given)
    if not asked and not kept:
        print("  every setting is the default.")
        return
    for title, lines in (("as the flags asked", asked), ("kept from earlier commands", kept)):
        if lines:
            print(f"  not the defaults, {title}:")
            print("\n".join(f"    {line}" for line in lines))
    where = f" --state-dir {shlex.quote(state_dir)}" if state_dir else ""
    print(f"  `{lab_command()}{where} up --reset` brings the defaults back.")


def _running_config(state_dir: str | None) -> LabConfig | None:
    lab = Lab.attach(state_dir)
    return lab.config if lab else None


def _bound(binding: str) -> str:
    """ ", bound: dpop" where a server binds its credentials to a client key (docs/binding.md)."""
    return "" if binding == "none" else f", bound: {binding}"


def print_summary(lab: Lab) -> None:
    """The URLs and what runs behind them."""
    status = lab.status()
    config = lab.config
    print(
        f"  session server  {status['session_url']}   "
        f"({config.replicas} replicas, store={config.session_store}, {config.lb_policy}"
        f"{_bound(config.session_binding)})"
    )
    print(
        f"  JWT server      {status['jwt_url']}   "
        f"({config.replicas} replicas, mode={config.jwt_mode}, {config.algorithm}"
        f"{_bound(config.jwt_binding)})"
    )
    print(f"  HAProxy stats   {status['stats_url']}")
    print(f"  Redis           {status['redis_url']}{_store_note(status['store'])}")
    print(f"  admin login     {lab.admin_email} / {lab.admin_password}")
    print(f"  state and logs  {lab.state_dir}")


def _store_note(store: dict[str, Any]) -> str:
    parts = []
    if store["topology"] == "sentinel":
        parts.append(f"sentinel: primary {store['primary'] or 'NONE (failing over?)'}")
    lag = store.get("replication_lag", "off")
    if store["latency"] != "off":
        proxy = "" if store["proxy_running"] else ", PROXY STOPPED"
        # A proxy there only for the replica's lag adds nothing to the servers' round trips.
        only_lag = lag != "off" and store["latency"] == "0ms"
        added = "no added delay" if only_lag else f"+{store['latency']}"
        parts.append(f"servers reach it through a latency proxy, {added}{proxy}")
    if lag != "off":
        parts.append(f"the replica lags {lag} behind")
    return f"   ({'; '.join(parts)})" if parts else ""


def cmd_up(args: argparse.Namespace) -> int:
    running = _running_config(args.state_dir)
    config = config_from_args(args, running)
    lab = Lab.from_config(
        config,
        state_dir=args.state_dir,
        timeout=args.timeout,
        log=lambda msg: print(f"  {msg}", file=sys.stderr),
    )
    try:
        actions = lab.up()
    except LabError as exc:
        print(f"lab: up failed: {exc}", file=sys.stderr)
        print(
            f"Logs are in {lab.logs_dir}/. `python -m lab down` stops what did start.",
            file=sys.stderr,
        )
        return 1
    if args.json:
        print(json.dumps(lab.status(), indent=2))
        return 0
    changed = [a for a in actions if not a.endswith(": kept")]
    if running and not changed:
        print("A lab is already running; nothing to change:")
    elif running:
        print(f"The running lab now matches the flags ({', '.join(changed)}):")
    else:
        print("AuthLab is up:")
    print_summary(lab)
    given = set(lab_changes(args)) if running else {f.name for f in fields(LabConfig)}
    _say_kept(lab.config, given, args.state_dir)
    run = lab_command()
    print(
        f"\nNext: `{run} demo stolen-cookie --browser`, `{run} report --quick`, "
        f"`{run} status`, `{run} down`."
    )
    return 0


def lab_command() -> str:
    """`python -m lab` as a new shell can run it: this interpreter, relative to the repository."""
    here = Path(sys.executable)
    if Path.cwd().resolve() == REPO_ROOT:
        with contextlib.suppress(ValueError):
            return f"{here.relative_to(Path.cwd())} -m lab"
    return f"cd {shlex.quote(str(REPO_ROOT))} && {shlex.quote(str(here))} -m lab"


def cmd_status(args: argparse.Namespace) -> int:
    store = StateStore(resolve_state_dir(args.state_dir))
    state = store.load()
    if state is None:
        if args.json:
            print(json.dumps({"running": False, "state_dir": str(store.dir)}))
        else:
            print(f"No lab in {store.dir}. Start one with `python -m lab up`.")
        return 1
    lab = Lab.from_config(state.config, state_dir=store.dir)
    status = lab.status()
    if args.json:
        print(json.dumps(status, indent=2))
        return 0 if status["running"] else 1
    if not status["running"]:
        print(f"The lab in {store.dir} is down (`python -m lab up` starts it).")
        return 1
    print_summary(lab)
    redis = status["redis"]
    print(
        f"\n  redis      pid {redis['pid'] or '-'}  port {redis['port']}  "
        f"{'answers' if redis['ping'] else 'DOES NOT ANSWER'}"
    )
    for row in status["store"]["nodes"][1:]:
        print(f"  {row['name']:<10} port {row['port']}  {row['role'] or 'DOWN'}")
    for row in status["store"]["sentinels"]:
        print(f"  {row['name']:<10} port {row['port']}  {'running' if row['running'] else 'DOWN'}")
    print(
        f"  haproxy    pid {status['haproxy']['pid'] or '-'}  "
        f"{'running' if status['haproxy']['running'] else 'STOPPED'}"
    )
    for server in SERVERS:
        for row in status["replicas"][server]:
            health = "healthy" if row["healthy"] else ("UNHEALTHY" if row["running"] else "STOPPED")
            print(
                f"  {row['replica_id']:<10} pid {row['pid'] or '-'}  port {row['port']}  {health}"
                f"  store={row['store']}  haproxy={row['lb']}"
            )
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    store = StateStore(resolve_state_dir(args.state_dir))
    state = store.load()
    if state is None:
        print(f"No lab in {store.dir}; nothing to stop.")
        return 0
    stopped = Lab.from_config(state.config, state_dir=store.dir).down()
    print(f"Stopped {len(stopped)} process(es): {', '.join(stopped) or 'none were running'}.")
    return 0
