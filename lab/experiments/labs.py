"""The labs experiments run on: one private lab, reconfigured between experiments.

Starting a lab costs seconds (Redis, two servers times N gunicorn replicas, HAProxy), and
`Lab.reconfigure` restarts only what a change of flags touches, keeping Redis and the users. So
an experiment never starts a lab of its own: it asks a `LabPool` for a configuration, and the
pool either reuses the running lab as it is, or changes just what differs.

The pool starts its lab in a temporary state directory (never the user's `.lab/`) and stops it
when closed. Set AUTHLAB_EXPERIMENT_LAB to a state directory to share one lab between several
processes (the notebook tests do): the pool then attaches to the lab there, or starts one there,
and leaves it running for whoever set the variable to stop.
"""

from __future__ import annotations

import atexit
import os
import time
from collections.abc import Callable
from typing import Any

from servers.core.config import default_of

from ..api import Lab
from ..attach import Lease, attach_or_start
from .sizes import Scale, get_scale

#: A state directory holding a lab that experiments may reuse and reconfigure (not stop).
SHARED_LAB_ENV = "AUTHLAB_EXPERIMENT_LAB"

#: What every experiment lab starts from; an experiment states only what it needs different.
#: The servers' own defaults, from their declarations in servers/core/config.py.
BASELINE = {
    "lb_policy": "roundrobin",
    "session_store": default_of("session_store"),
    "jwt_mode": default_of("jwt_mode"),
    "algorithm": default_of("jwt_algorithm"),
    # Bearer credentials: the binding experiment asks for DBSC and DPoP, and says so.
    "session_binding": default_of("session_binding"),
    "jwt_binding": default_of("jwt_binding"),
    "workers": 1,
    "threads": 4,
    # One Redis, next door: the distance and failover experiments ask for more, and say so.
    "store_latency": "off",
    "replication_lag": "off",
    "redis_topology": "single",
}


def mode_of(lab: Lab, server: str) -> str:
    """The session store ("redis", "memory") or the JWT mode a lab runs `server` with."""
    return lab.config.session_store if server == "session" else lab.config.jwt_mode


def _server_setting(lab: Lab, name: str) -> float:
    """A numeric server setting as `lab` runs it: its --env value, else the declared default."""
    variable = name.upper()
    if variable in lab.config.env:
        return float(lab.config.env[variable])
    return float(default_of(name))


def jwt_leeway(lab: Lab) -> float:
    """Seconds the JWT server accepts a token past its `exp` (clock-skew leeway)."""
    return _server_setting(lab, "jwt_leeway")


def refresh_grace(lab: Lab) -> float:
    """Seconds within which the JWT server forgives a second refresh with the same token."""
    return _server_setting(lab, "jwt_refresh_grace")


def dbsc_cookie_ttl(lab: Lab) -> float:
    """Seconds a DBSC session's short bound cookie lives (a stolen copy's window)."""
    return _server_setting(lab, "dbsc_cookie_ttl")


#: Settings that only one server reads: asking for a lab "for the JWT server" leaves the
#: session store as it is (and the other way round), which saves restarts between experiments.
ONLY_FOR = {
    "session": ("jwt_mode", "jwt_binding", "access_ttl", "algorithm", "env"),
    "jwt": ("session_store", "session_binding", "redis_persist"),
}


class LabPool:
    """Hands out a running lab in the configuration an experiment asks for."""

    def __init__(
        self,
        scale: Scale | None = None,
        *,
        lab: Lab | None = None,
        state_dir: str | os.PathLike[str] | None = None,
        log: Callable[[str], None] | None = None,
        close_at_exit: bool = False,
    ):
        self.scale = scale or get_scale()
        self.log = log or (lambda message: None)
        self._lab = lab
        self._state_dir = state_dir or os.environ.get(SHARED_LAB_ENV) or None
        #: The lab this pool started in its own temp dir (closing the pool stops it), if any.
        self._lease: Lease | None = None
        #: Seconds spent starting and reconfiguring labs (the report shows it).
        self.setup_seconds = 0.0
        if close_at_exit:
            # A notebook cannot wrap its cells in `with`: stop the lab when the kernel exits,
            # even if the reader never runs the last cell.
            atexit.register(self.close)

    def defaults(self) -> dict[str, Any]:
        """The configuration every request starts from at this scale."""
        env = {}
        if self.scale.jwt_leeway is not None:
            env["JWT_LEEWAY"] = f"{self.scale.jwt_leeway:g}"
        if self.scale.refresh_grace is not None:
            env["JWT_REFRESH_GRACE"] = f"{self.scale.refresh_grace:g}"
        # Read only by a DBSC session server; the same at every step, so it restarts nothing.
        env["DBSC_COOKIE_TTL"] = str(self.scale.dbsc_cookie_ttl)
        return {
            "env": env,
            **BASELINE,
            "replicas": self.scale.replicas,
            "access_ttl": self.scale.access_ttl,
            "bcrypt_rounds": self.scale.bcrypt_rounds,
            "redis_persist": False,
        }

    def wanted(self, server: str | None = None, **config: Any) -> dict[str, Any]:
        """The full configuration `get(server, **config)` would run."""
        defaults = self.defaults()
        if server is not None and self._lab is not None:
            for key in ONLY_FOR[server]:
                defaults.pop(key, None)
        return {**defaults, **config}

    def changes(self, server: str | None = None, **config: Any) -> dict[str, Any]:
        """The settings `get(server, **config)` would change on the running lab."""
        wanted = self.wanted(server, **config)
        if self._lab is None:
            return wanted
        return {k: v for k, v in wanted.items() if getattr(self._lab.config, k) != v}

    def get(self, server: str | None = None, **config: Any) -> Lab:
        """A running lab configured as the defaults plus `config` (only differences restart).

        With `server`, settings only the other server reads stay as they are.
        """
        wanted = self.wanted(server, **config)
        started = time.perf_counter()
        if self._lab is None:
            self._lab = self._attach_or_start(wanted)
        else:
            changes = {k: v for k, v in wanted.items() if getattr(self._lab.config, k) != v}
            if changes:
                self.log(
                    "reconfiguring the lab: " + ", ".join(f"{k}={v}" for k, v in changes.items())
                )
            # `up` also restarts whatever an experiment left stopped (a killed replica, Redis).
            self._lab.reconfigure(**changes)
        self.setup_seconds += time.perf_counter() - started
        return self._lab

    def _attach_or_start(self, wanted: dict[str, Any]) -> Lab:
        shared = self._state_dir is not None
        lease = attach_or_start(
            self._state_dir,
            attach=shared,
            private=not shared,
            starting=lambda directory: self.log(
                f"starting a lab: {wanted['replicas']} replica(s) of each server in {directory}"
            ),
            **wanted,
        )
        if not lease.started:
            self.log(f"reusing the lab in {self._state_dir}")
            lease.lab.reconfigure(**wanted)
        if not shared:
            self._lease = lease  # ours, in its own temp dir: closing the pool stops it
        return lease.lab

    @property
    def lab(self) -> Lab | None:
        """The lab as it runs now (None before the first `get`)."""
        return self._lab

    def close(self) -> None:
        """Stop the lab if this pool started it, and remove its temporary directory."""
        try:
            if self._lease is not None:
                self._lease.close()
        finally:
            self._lab = None
            self._lease = None

    def __enter__(self) -> LabPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
