"""What a lab is asked to be (`LabConfig`) and what it is (`LabState`, kept in `.lab/state.json`).

The state file is the lab's memory between commands: `up` writes every pid the moment a process
starts, so `down` can stop everything by pid even after an `up` that failed half-way. It holds
the run's secrets too, so the directory is private (0700) and the file 0600.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from servers.core import config as server_config
from servers.core.config import (
    ALGORITHMS,
    JWT_BINDINGS,
    JWT_MODES,
    SESSION_BINDINGS,
    SESSION_STORES,
)

#: Repository root: the replicas run from here so `servers` is importable.
REPO_ROOT = Path(__file__).resolve().parents[2]

#: Where `python -m lab` keeps its state unless told otherwise (`--state-dir`, `Lab(state_dir=)`).
DEFAULT_STATE_DIR = REPO_ROOT / ".lab"

#: Environment variable naming another state directory (tests, parallel labs).
STATE_DIR_ENV = "AUTHLAB_LAB_DIR"

#: The two servers, in the order the lab starts and reports them.
SERVERS = ("session", "jwt")

LB_POLICIES = ("roundrobin", "sticky")
# SESSION_STORES, JWT_MODES, ALGORITHMS and the bindings are the servers' own, declared once in
# servers/core/config.py; the CLI imports them from here with the lab's LB_POLICIES.
#: One Redis, or a primary, a replica and three sentinels (lab/store/sentinel.py).
REDIS_TOPOLOGIES = ("single", "sentinel")

#: Failed logins are rate-limited per email and per IP (only failures count). Load tests and
#: experiments log in thousands of times from one address, so the lab raises the servers'
#: default of 5 per minute; pass `--login-rate-limit "5 per minute"` to see the limit work.
DEFAULT_LOGIN_RATE_LIMIT = "100000 per minute"

#: The first admin, created by the servers at start (ADMIN_EMAIL / ADMIN_PASSWORD).
DEFAULT_ADMIN_EMAIL = "admin@authlab.example.com"


class LabError(RuntimeError):
    """The lab could not do what was asked; the message says what to do about it."""


def setting(default: Any = None, *, help: str, **flag: Any) -> Any:
    """One lab setting: its default, and its `--flag` (help, argparse options) beside it.

    `python -m lab up`/`loadtest` flags and `Lab(...)`'s keyword arguments are read from these
    fields (lab/cli/flags.py), so a setting is declared here once. `flag` may hold `choices`,
    `type` (int, or "latency"/"env" for the CLI's parsers), `metavar`, `action` and `spelling`.
    """
    metadata = {"help": help, "flag": flag}
    if isinstance(default, dict):
        return field(default_factory=dict, metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class LabConfig:
    """What the lab should run. Every field has a `python -m lab up` flag of the same name."""

    replicas: int = setting(3, help="replicas of each server", type=int)
    lb_policy: str = setting("roundrobin", help="how HAProxy balances", choices=LB_POLICIES)
    session_store: str = setting(
        server_config.default_of("session_store"),
        help="where the session server keeps sessions",
        choices=SESSION_STORES,
    )
    jwt_mode: str = setting(
        server_config.default_of("jwt_mode"), help="how the JWT server revokes", choices=JWT_MODES
    )
    #: SESSION_BINDING / JWT_BINDING: bearer credentials, or bound to a client key (DBSC, DPoP;
    #: docs/binding.md).
    session_binding: str = setting(
        server_config.default_of("session_binding"),
        help="bind sessions to a client key (DBSC)",
        choices=SESSION_BINDINGS,
    )
    jwt_binding: str = setting(
        server_config.default_of("jwt_binding"),
        help="bind JWTs to a client key (DPoP)",
        choices=JWT_BINDINGS,
    )
    #: ACCESS_TOKEN_TTL in seconds; None keeps the JWT server's default (900, or 60 in refresh).
    access_ttl: int | None = setting(
        None,
        help="JWT access-token lifetime (default: the server's)",
        type=int,
        metavar="SECONDS",
    )
    algorithm: str = setting(
        server_config.default_of("jwt_algorithm"), help="JWT signature", choices=ALGORITHMS
    )
    #: gunicorn workers per replica. Above 1, the memory store splits even inside one replica.
    workers: int = setting(1, help="gunicorn workers per replica", type=int)
    threads: int = setting(4, help="threads per worker", type=int)
    #: bcrypt cost: 12 is realistic (~0.6 s per login here); tests pass 4.
    bcrypt_rounds: int = setting(
        server_config.default_of("bcrypt_rounds"), help="bcrypt cost", type=int
    )
    login_rate_limit: str = setting(
        DEFAULT_LOGIN_RATE_LIMIT, help="failed logins allowed per email and per IP"
    )
    #: None: a SQLite file in the state directory, shared by every replica of both servers.
    database_url: str | None = setting(
        None, help="users database (default: SQLite in the state dir)"
    )
    #: Keep Redis data across `redis stop|start` (append-only file in the state directory).
    redis_persist: bool = setting(
        False, help="keep Redis data across `redis stop|start`", action="boolean"
    )
    #: Round-trip latency added to every server's Redis connection ("1ms", "1ms:0.2ms" with
    #: jitter), by the latency proxy (lab/store/latency_proxy.py); "off" connects directly.
    store_latency: str = setting(
        "off",
        help="round trip added to every server's Redis connection by a latency proxy, e.g. 1ms"
        ' or 1ms:0.2ms; "off" connects directly',
        type="latency",
        metavar="MS[:JITTER]",
    )
    #: How far the replica lags behind the primary in `--redis sentinel` ("100ms"): the latency
    #: proxy holds the replication stream back that much, and a crash loses what it held.
    replication_lag: str = setting(
        "off",
        help="with --redis sentinel: hold the replica's stream back this much (e.g. 100ms), so"
        " a crash of the primary loses the writes still on their way",
        type="latency",
        metavar="MS",
    )
    #: "single" Redis, or "sentinel": a primary, a replica and three sentinels (failover).
    redis_topology: str = setting(
        "single",
        help="single Redis, or sentinel: a primary, a replica and 3 sentinels",
        choices=REDIS_TOPOLOGIES,
        spelling="--redis",
    )
    #: Fixed ports; None picks a free one (kept across `up` runs of the same lab).
    session_port: int | None = setting(
        None, help="fixed session port (default: a free one)", type=int
    )
    jwt_port: int | None = setting(None, help="fixed jwt port (default: a free one)", type=int)
    stats_port: int | None = setting(None, help="fixed stats port (default: a free one)", type=int)
    redis_port: int | None = setting(None, help="fixed redis port (default: a free one)", type=int)
    #: Extra environment for both servers, e.g. {"SESSION_IDLE_TIMEOUT": "5"}.
    env: dict[str, str] = setting(
        {},
        help="extra server setting, repeatable (e.g. SESSION_IDLE_TIMEOUT=30)",
        type="env",
        action="append",
        metavar="KEY=VALUE",
    )

    def validate(self) -> None:
        """Raise LabError on a value the lab cannot run."""
        choices = {
            "lb_policy": LB_POLICIES,
            "session_store": SESSION_STORES,
            "jwt_mode": JWT_MODES,
            "session_binding": SESSION_BINDINGS,
            "jwt_binding": JWT_BINDINGS,
            "algorithm": ALGORITHMS,
            "redis_topology": REDIS_TOPOLOGIES,
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise LabError(f"{name} must be one of {', '.join(allowed)}")
        for name in ("replicas", "workers", "threads"):
            if not 1 <= getattr(self, name) <= 32:
                raise LabError(f"{name} must be between 1 and 32")
        self._validate_store_latency()
        # The servers' own ranges, so the lab refuses what a replica would refuse.
        for name, setting in (
            ("bcrypt_rounds", "bcrypt_rounds"),
            ("access_ttl", "access_token_ttl"),
        ):
            try:
                server_config.check_setting(setting, getattr(self, name))
            except server_config.ConfigError as exc:
                raise LabError(f"{name}: {exc}") from exc
        for name in self.env:
            if name not in server_config.ENV_VARS:
                hint = server_config.closest(name, list(server_config.ENV_VARS))
                raise LabError(
                    f"--env {name} is no server setting"
                    + (f": did you mean {hint}?" if hint else " (see .env.example)")
                )

    def _validate_store_latency(self) -> None:
        from .durations import Latency

        checks = {"store_latency": Latency.parse, "replication_lag": Latency.parse_delay}
        for name, parse in checks.items():
            text = getattr(self, name)
            if text != "off":
                try:
                    parse(text)
                except ValueError as exc:
                    raise LabError(f"{name}: {exc}") from None
        if self.replication_lag != "off" and self.redis_topology != "sentinel":
            raise LabError("replication_lag needs a replica: add --redis sentinel")

    def to_json(self) -> dict[str, Any]:
        """The configuration as stored in state.json."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LabConfig:
        """Read a stored configuration, ignoring fields a newer or older lab wrote."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class ProcessRecord:
    """One process the lab started: enough to find it again, check it and stop it."""

    name: str
    pid: int | None
    port: int | None
    argv: list[str]
    log: str
    #: psutil's create time of `pid`: with the pid, says exactly that it is still our process.
    create_time: float | None
    #: A digest of everything the process was started with; a change means a restart.
    fingerprint: str = ""


_RECORD_FIELDS = {f.name for f in fields(ProcessRecord)}


@dataclass
class LabState:
    """Everything `.lab/state.json` holds."""

    config: LabConfig = field(default_factory=LabConfig)
    secret_key: str = ""
    admin_email: str = ""
    admin_password: str = ""
    #: Frontend and Redis ports: "session", "jwt", "stats", "redis".
    ports: dict[str, int] = field(default_factory=dict)
    #: For RS256/EdDSA: {"algorithm", "private", "public"} (PEM files in the state directory).
    jwt_keys: dict[str, str] | None = None
    processes: dict[str, ProcessRecord] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The state as written to disk."""
        return {
            "config": self.config.to_json(),
            "secret_key": self.secret_key,
            "admin_email": self.admin_email,
            "admin_password": self.admin_password,
            "ports": self.ports,
            "jwt_keys": self.jwt_keys,
            "processes": {name: asdict(rec) for name, rec in self.processes.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LabState:
        """Read the state written by `to_json`."""
        return cls(
            config=LabConfig.from_json(data.get("config", {})),
            secret_key=data.get("secret_key", ""),
            admin_email=data.get("admin_email", ""),
            admin_password=data.get("admin_password", ""),
            ports=dict(data.get("ports", {})),
            jwt_keys=data.get("jwt_keys"),
            processes={
                name: ProcessRecord(**{k: v for k, v in rec.items() if k in _RECORD_FIELDS})
                for name, rec in data.get("processes", {}).items()
            },
        )

    def ensure_secrets(self, environ: dict[str, str] | os._Environ[str] = os.environ) -> None:
        """Secrets for the run: kept from an earlier run, else from the environment, else new."""
        if not self.secret_key:
            # 48 random bytes, base64url: above the servers' 32-byte minimum for HS256.
            self.secret_key = environ.get("SECRET_KEY") or secrets.token_urlsafe(48)
        if not self.admin_email:
            self.admin_email = environ.get("ADMIN_EMAIL") or DEFAULT_ADMIN_EMAIL
        if not self.admin_password:
            self.admin_password = environ.get("ADMIN_PASSWORD") or secrets.token_urlsafe(18)


def resolve_state_dir(state_dir: str | os.PathLike[str] | None = None) -> Path:
    """The state directory: the argument, else $AUTHLAB_LAB_DIR, else `<repo>/.lab`."""
    if state_dir is not None:
        return Path(state_dir).resolve()
    if os.environ.get(STATE_DIR_ENV):
        return Path(os.environ[STATE_DIR_ENV]).resolve()
    return DEFAULT_STATE_DIR


class StateStore:
    """Reads and writes one state directory's state.json, privately and atomically."""

    def __init__(self, state_dir: Path):
        self.dir = state_dir
        self.path = state_dir / "state.json"
        self.logs = state_dir / "logs"
        self._lock_depth = 0

    def prepare(self) -> None:
        """Create the directory tree, private to this user (the state holds secrets)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.dir, 0o700)
        self.logs.mkdir(exist_ok=True)

    def load(self) -> LabState | None:
        """The stored state, or None when there is none."""
        try:
            return LabState.from_json(json.loads(self.path.read_text()))
        except FileNotFoundError:
            return None
        except (ValueError, TypeError) as exc:
            raise LabError(f"{self.path} is unreadable ({exc}); remove it and start again") from exc

    def save(self, state: LabState) -> None:
        """Write the state atomically (a crash never leaves half a file) with mode 0600."""
        self.prepare()
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(state.to_json(), f, indent=2)
        os.replace(tmp, self.path)

    @contextmanager
    def locked(self) -> Iterator[None]:
        """One command at a time per state directory (two `up`s must not both start a lab)."""
        if self._lock_depth:  # re-entrant: `up` calls helpers that lock too
            self._lock_depth += 1
            try:
                yield
            finally:
                self._lock_depth -= 1
            return
        self.prepare()
        with open(self.dir / "lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self._lock_depth = 1
            try:
                yield
            finally:
                self._lock_depth = 0
                fcntl.flock(lock, fcntl.LOCK_UN)
