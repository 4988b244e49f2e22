"""`python -m lab`: the command line over `lab.api.Lab`.

python -m lab up [--replicas 3] [--lb-policy roundrobin|sticky] [--session-store redis|memory]
                 [--jwt-mode stateless|denylist|refresh] [--access-ttl S] [--algorithm HS256]
python -m lab status [--json]
python -m lab down
python -m lab replica kill|start session|jwt INDEX
python -m lab redis stop|start | redis pause SECONDS
python -m lab lb disable|enable session|jwt INDEX
python -m lab logs NAME            (session-1, jwt-2, haproxy, redis)
python -m lab loadtest|report|demo|bench|console ...   (see their own --help)
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import shlex
import sys
from collections.abc import Sequence
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from . import processes
from .api import Lab
from .state import (
    ALGORITHMS,
    JWT_MODES,
    LB_POLICIES,
    REPO_ROOT,
    SERVERS,
    SESSION_STORES,
    STATE_DIR_ENV,
    LabConfig,
    LabError,
    StateStore,
    resolve_state_dir,
)

#: Subcommands written in other modules; imported only when used.
DELEGATED = {
    "loadtest": ("lab.loadtest", "the load-test runner (issue 5)"),
    "report": ("lab.report", "the report (issue 6)"),
    "demo": ("lab.demo", "the demo (issue 6)"),
    "bench": ("lab.bench", "the in-process auth-check benchmark"),
    "console": ("lab.console", "the stolen-cookie demo in a browser (issue 14)"),
}


def _env_pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return name, value


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

    up = sub.add_parser("up", help="start the lab, or change the running one to match the flags")
    up.add_argument("--replicas", type=int, help="replicas of each server (default 3)")
    up.add_argument("--lb-policy", choices=LB_POLICIES, help="default roundrobin")
    up.add_argument("--session-store", choices=SESSION_STORES, help="default redis")
    up.add_argument("--jwt-mode", choices=JWT_MODES, help="default stateless")
    up.add_argument("--access-ttl", type=int, metavar="SECONDS", help="JWT access-token lifetime")
    up.add_argument("--algorithm", choices=ALGORITHMS, help="JWT signature (default HS256)")
    up.add_argument("--workers", type=int, help="gunicorn workers per replica (default 1)")
    up.add_argument("--threads", type=int, help="threads per worker (default 4)")
    up.add_argument("--bcrypt-rounds", type=int, help="bcrypt cost (default 12)")
    up.add_argument(
        "--login-rate-limit",
        help='failed logins allowed per email and per IP (default "100000 per minute")',
    )
    up.add_argument("--database-url", help="users database (default SQLite in the state dir)")
    up.add_argument(
        "--redis-persist",
        action=argparse.BooleanOptionalAction,
        help="keep Redis data across `redis stop|start` (default: no)",
    )
    for name in ("session", "jwt", "stats", "redis"):
        up.add_argument(f"--{name}-port", type=int, help="fixed port (default: a free one)")
    up.add_argument(
        "--env",
        type=_env_pair,
        action="append",
        metavar="KEY=VALUE",
        help="extra server setting, repeatable (e.g. SESSION_IDLE_TIMEOUT=30)",
    )
    up.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for health")
    up.add_argument("--json", action="store_true", help="print the status as JSON")

    status = sub.add_parser("status", help="URLs, and each process with its pid, port and health")
    status.add_argument("--json", action="store_true")

    sub.add_parser("down", help="stop everything the lab started")

    replica = sub.add_parser("replica", help="kill (SIGKILL, a crash) or start one replica")
    replica.add_argument("action", choices=("kill", "start"))
    replica.add_argument("server", choices=SERVERS)
    replica.add_argument("index", type=int, help="1-based, as in session-1")

    redis_cmd = sub.add_parser("redis", help="stop|start the lab's Redis, or pause it SECONDS")
    redis_cmd.add_argument("action", choices=("stop", "start", "pause"))
    redis_cmd.add_argument("seconds", type=float, nargs="?", help="for pause")

    lb = sub.add_parser("lb", help="take a replica out of HAProxy's rotation, or put it back")
    lb.add_argument("action", choices=("disable", "enable"))
    lb.add_argument("server", choices=SERVERS)
    lb.add_argument("index", type=int)

    logs = sub.add_parser("logs", help="the end of one process's log")
    logs.add_argument("name", help="session-1, jwt-2, haproxy, redis, ...")
    logs.add_argument("-n", "--lines", type=int, default=40)

    for name, (_, what) in DELEGATED.items():
        sub.add_parser(name, help=f"{what}; `python -m lab {name} --help`", add_help=False)
    return parser


def config_from_args(args: argparse.Namespace, running: LabConfig | None) -> LabConfig:
    """Flags given win; flags left out keep the running lab's value, else the default."""
    base = running or LabConfig()
    changes: dict[str, Any] = {}
    for f in fields(LabConfig):
        value = getattr(args, f.name, None)
        if value is not None:
            changes[f.name] = dict(value) if f.name == "env" else value
    return replace(base, **changes)


def _running_config(state_dir: str | None) -> LabConfig | None:
    lab = Lab.attach(state_dir)
    return lab.config if lab else None


def print_summary(lab: Lab) -> None:
    """The URLs and what runs behind them."""
    status = lab.status()
    config = lab.config
    print(
        f"  session server  {status['session_url']}   "
        f"({config.replicas} replicas, store={config.session_store}, {config.lb_policy})"
    )
    print(
        f"  JWT server      {status['jwt_url']}   "
        f"({config.replicas} replicas, mode={config.jwt_mode}, {config.algorithm})"
    )
    print(f"  HAProxy stats   {status['stats_url']}")
    print(f"  Redis           {status['redis_url']}")
    print(f"  admin login     {lab.admin_email} / {lab.admin_password}")
    print(f"  state and logs  {lab.state_dir}")


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


def _attached(args: argparse.Namespace) -> Lab:
    lab = Lab.attach(args.state_dir)
    if lab is None:
        raise LabError(f"no lab runs in {resolve_state_dir(args.state_dir)}; `python -m lab up`")
    return lab


def cmd_replica(args: argparse.Namespace) -> int:
    lab = _attached(args)
    if args.action == "kill":
        lab.kill_replica(args.server, args.index)
        print(f"{args.server}-{args.index} killed (SIGKILL); HAProxy routes around it within ~2 s.")
    else:
        lab.start_replica(args.server, args.index)
        print(f"{args.server}-{args.index} started; HAProxy routes to it again.")
    return 0


def cmd_redis(args: argparse.Namespace) -> int:
    lab = _attached(args)
    if args.action == "stop":
        lab.redis_stop()
        print("Redis stopped: session logins and authenticated requests now get 503.")
    elif args.action == "start":
        lab.redis_start()
        print(f"Redis started on {lab.redis_url}; the servers reconnect by themselves.")
    else:
        if args.seconds is None or args.seconds <= 0:
            raise LabError("`redis pause` needs SECONDS > 0")
        lab.redis_pause(args.seconds)
        print(f"Redis paused for {args.seconds:g} s (CLIENT PAUSE): its commands wait meanwhile.")
    return 0


def cmd_lb(args: argparse.Namespace) -> int:
    lab = _attached(args)
    if args.action == "disable":
        lab.lb_disable(args.server, args.index)
        print(f"HAProxy sends nothing to {args.server}-{args.index} now (it keeps running).")
    else:
        lab.lb_enable(args.server, args.index)
        print(f"{args.server}-{args.index} is back in HAProxy's rotation.")
    return 0


def cmd_logs(args: argparse.Namespace) -> int:
    path = StateStore(resolve_state_dir(args.state_dir)).logs / f"{args.name}.log"
    if not path.exists():
        raise LabError(f"no log {path}")
    print(processes.log_tail(path, args.lines))
    return 0


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


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m lab`."""
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
