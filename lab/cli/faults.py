"""`python -m lab replica|redis|lb|logs`: one process of the running lab at a time: kill or start
a replica, stop, start, pause or fail over Redis, take a replica out of HAProxy's rotation, read
a process's log."""

from __future__ import annotations

import argparse

from ..api import Lab
from ..engine import processes
from ..engine.state import SERVERS, LabError, StateStore, resolve_state_dir


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """The `replica`, `redis`, `lb` and `logs` subcommands."""
    replica = sub.add_parser("replica", help="kill (SIGKILL, a crash) or start one replica")
    replica.add_argument("action", choices=("kill", "start"))
    replica.add_argument("server", choices=SERVERS)
    replica.add_argument("index", type=int, help="1-based, as in session-1")

    redis_cmd = sub.add_parser(
        "redis",
        help="stop|start the lab's Redis, pause it SECONDS, flush it (FLUSHALL); "
        "failover|kill-primary (--redis sentinel); proxy-cost (the latency proxy's own cost)",
    )
    redis_cmd.add_argument(
        "action",
        choices=("stop", "start", "pause", "flush", "failover", "kill-primary", "proxy-cost"),
    )
    redis_cmd.add_argument("seconds", type=float, nargs="?", help="for pause")

    lb = sub.add_parser("lb", help="take a replica out of HAProxy's rotation, or put it back")
    lb.add_argument("action", choices=("disable", "enable"))
    lb.add_argument("server", choices=SERVERS)
    lb.add_argument("index", type=int)

    logs = sub.add_parser("logs", help="the end of one process's log")
    logs.add_argument("name", help="session-1, jwt-2, haproxy, redis, ...")
    logs.add_argument("-n", "--lines", type=int, default=40)


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
    if args.action == "proxy-cost":
        from ..store.latency_cost import print_cost

        return print_cost()
    lab = _attached(args)
    if args.action == "failover":
        print(f"Planned failover done: {lab.redis_failover()} is the primary now.")
        return 0
    if args.action == "kill-primary":
        node = lab.redis_kill_primary()
        print(
            f"{node} killed (SIGKILL). The sentinels promote the replica within a few seconds; "
            "`python -m lab redis start` brings it back as a replica."
        )
        return 0
    if args.action == "flush":
        lab.redis_flush()
        print("Redis flushed (FLUSHALL): every session, denylist entry and counter is gone.")
        return 0
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
