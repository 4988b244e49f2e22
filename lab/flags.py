"""The lab's flags, declared once: `python -m lab up` and `python -m lab loadtest` share them.

Each flag is named after the `LabConfig` field it sets and defaults to None, which means "as the
running lab has it, else LabConfig's default". Adding a lab setting is one row in `LAB_FLAGS`
(and its field in `LabConfig`): both commands get it, and `lab_changes` passes it on.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field, fields
from typing import Any

from .state import (
    ALGORITHMS,
    JWT_BINDINGS,
    JWT_MODES,
    LB_POLICIES,
    REDIS_TOPOLOGIES,
    SESSION_BINDINGS,
    SESSION_STORES,
    LabConfig,
)


def latency(text: str) -> str:
    """'1ms' or '1ms:0.2ms' (round trip added, optional jitter), or 'off', for --store-latency."""
    if text == "off":
        return text
    from .latency_proxy import Latency  # late: only `up` with the flag needs the proxy

    try:
        return str(Latency.parse(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def env_pair(text: str) -> tuple[str, str]:
    """'KEY=VALUE' -> ('KEY', 'VALUE'), for --env."""
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return name, value


@dataclass(frozen=True)
class Flag:
    """One `--flag` that sets the LabConfig field of the same name (dashes for underscores)."""

    field: str
    help: str
    options: dict[str, Any] = field(default_factory=dict)
    #: A shorter spelling where the issue named one (`--redis sentinel` sets redis_topology).
    spelling: str | None = None

    @property
    def option(self) -> str:
        """The command-line spelling: --lb-policy for lb_policy."""
        return self.spelling or "--" + self.field.replace("_", "-")

    def add_to(self, group: argparse._ActionsContainer, defaults: LabConfig) -> None:
        """Add the flag, its help ending with LabConfig's default."""
        default = getattr(defaults, self.field)
        shown = f" (default {default})" if default not in (None, {}) else ""
        group.add_argument(self.option, dest=self.field, help=self.help + shown, **self.options)


#: Every lab setting a command line can change, in the order `--help` lists them.
LAB_FLAGS: tuple[Flag, ...] = (
    Flag("replicas", "replicas of each server", {"type": int}),
    Flag("lb_policy", "how HAProxy balances", {"choices": LB_POLICIES}),
    Flag("session_store", "where the session server keeps sessions", {"choices": SESSION_STORES}),
    Flag("jwt_mode", "how the JWT server revokes", {"choices": JWT_MODES}),
    Flag("session_binding", "bind sessions to a client key", {"choices": SESSION_BINDINGS}),
    Flag("jwt_binding", "bind JWTs to a client key", {"choices": JWT_BINDINGS}),
    Flag(
        "access_ttl",
        "JWT access-token lifetime (default: the server's)",
        {"type": int, "metavar": "SECONDS"},
    ),
    Flag("algorithm", "JWT signature", {"choices": ALGORITHMS}),
    Flag("workers", "gunicorn workers per replica", {"type": int}),
    Flag("threads", "threads per worker", {"type": int}),
    Flag("bcrypt_rounds", "bcrypt cost", {"type": int}),
    Flag("login_rate_limit", "failed logins allowed per email and per IP", {}),
    Flag("database_url", "users database (default: SQLite in the state dir)", {}),
    Flag(
        "redis_persist",
        "keep Redis data across `redis stop|start`",
        {"action": argparse.BooleanOptionalAction},
    ),
    Flag(
        "store_latency",
        "round trip added to every server's Redis connection by a latency proxy, e.g. 1ms or"
        ' 1ms:0.2ms; "off" connects directly',
        {"type": latency, "metavar": "MS[:JITTER]"},
    ),
    Flag(
        "replication_lag",
        "with --redis sentinel: hold the replica's stream back this much (e.g. 100ms), so a"
        " crash of the primary loses the writes still on their way",
        {"type": latency, "metavar": "MS"},
    ),
    Flag(
        "redis_topology",
        "single Redis, or sentinel: a primary, a replica and 3 sentinels",
        {"choices": REDIS_TOPOLOGIES},
        spelling="--redis",
    ),
    *(
        Flag(f"{name}_port", f"fixed {name} port (default: a free one)", {"type": int})
        for name in ("session", "jwt", "stats", "redis")
    ),
    Flag(
        "env",
        "extra server setting, repeatable (e.g. SESSION_IDLE_TIMEOUT=30)",
        {"type": env_pair, "action": "append", "metavar": "KEY=VALUE"},
    ),
)


def lab_flags_parser(title: str = "lab") -> argparse.ArgumentParser:
    """A parent parser holding every lab flag (argparse `parents=`), each defaulting to None."""
    parser = argparse.ArgumentParser(add_help=False)
    group = parser.add_argument_group(title)
    defaults = LabConfig()
    for flag in LAB_FLAGS:
        flag.add_to(group, defaults)
    return parser


def lab_changes(args: argparse.Namespace) -> dict[str, Any]:
    """The LabConfig fields the flags set (flags left out are not changes)."""
    names = {f.name for f in fields(LabConfig)}
    changes = {k: v for k, v in vars(args).items() if k in names and v is not None}
    if "env" in changes:
        changes["env"] = dict(changes["env"])
    return changes
