"""`Lab`: the Python API under `python -m lab`, used by the CLI, the notebooks and the tests.

    with Lab(replicas=3, session_store="memory", lb_policy="roundrobin") as lab:
        requests.get(lab.session_url + "/health")

`up()` makes the running lab match the configuration: it starts what is missing, restarts only
what was started differently, and keeps the rest (Redis and the user database survive a change
of flags, so users and their sessions do too). `down()` stops everything by pid.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from . import haproxy, processes, redis_server, replicas, sentinel, store
from .launcher import Launcher, alive
from .state import (
    DEFAULT_LOGIN_RATE_LIMIT,
    SERVERS,
    LabConfig,
    LabError,
    LabState,
    ProcessRecord,
    StateStore,
    resolve_state_dir,
)

#: Seconds `up` waits for every replica to answer /health and HAProxy to see it up.
DEFAULT_TIMEOUT = 60.0


@dataclass(frozen=True)
class Replica:
    """One replica as the lab started it. `url` reaches it directly, bypassing HAProxy."""

    server: str
    index: int
    replica_id: str
    port: int | None
    pid: int | None
    running: bool

    @property
    def url(self) -> str:
        """http://127.0.0.1:PORT of this replica alone."""
        return f"http://127.0.0.1:{self.port}"


def _check_server(server: str) -> None:
    if server not in SERVERS:
        raise LabError(f"server must be one of {', '.join(SERVERS)}, not {server!r}")


class Lab:
    """Replicas of both servers behind HAProxy, with a private Redis; faults on demand."""

    def __init__(
        self,
        replicas: int = 3,
        lb_policy: str = "roundrobin",
        session_store: str = "redis",
        jwt_mode: str = "stateless",
        access_ttl: int | None = None,
        algorithm: str = "HS256",
        *,
        session_binding: str = "none",
        jwt_binding: str = "none",
        workers: int = 1,
        threads: int = 4,
        bcrypt_rounds: int = 12,
        login_rate_limit: str = DEFAULT_LOGIN_RATE_LIMIT,
        database_url: str | None = None,
        redis_persist: bool = False,
        session_port: int | None = None,
        jwt_port: int | None = None,
        stats_port: int | None = None,
        redis_port: int | None = None,
        store_latency: str = "off",
        replication_lag: str = "off",
        redis_topology: str = "single",
        env: dict[str, str] | None = None,
        state_dir: str | os.PathLike[str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        log: Callable[[str], None] | None = None,
    ):
        self.config = LabConfig(
            replicas=replicas,
            lb_policy=lb_policy,
            session_store=session_store,
            jwt_mode=jwt_mode,
            session_binding=session_binding,
            jwt_binding=jwt_binding,
            access_ttl=access_ttl,
            algorithm=algorithm,
            workers=workers,
            threads=threads,
            bcrypt_rounds=bcrypt_rounds,
            login_rate_limit=login_rate_limit,
            database_url=database_url,
            redis_persist=redis_persist,
            session_port=session_port,
            jwt_port=jwt_port,
            stats_port=stats_port,
            redis_port=redis_port,
            store_latency=store_latency,
            replication_lag=replication_lag,
            redis_topology=redis_topology,
            env=dict(env or {}),
        )
        self.config.validate()
        self.state_dir = resolve_state_dir(state_dir)
        self.timeout = timeout
        self._log = log or (lambda message: None)
        self._store = StateStore(self.state_dir)
        self._state: LabState | None = None
        #: True when this object started the lab, so leaving `with` stops it.
        self._owns = False

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def from_config(
        cls, config: LabConfig, state_dir: str | os.PathLike[str] | None = None, **kwargs: Any
    ) -> Lab:
        """A Lab for an existing LabConfig (the CLI builds one from its flags)."""
        lab = cls(state_dir=state_dir, **kwargs)
        config.validate()
        lab.config = config
        return lab

    @classmethod
    def attach(cls, state_dir: str | os.PathLike[str] | None = None) -> Lab | None:
        """The lab running from `state_dir` (default `.lab/`), or None when none runs."""
        store = StateStore(resolve_state_dir(state_dir))
        state = store.load()
        if state is None or not _any_running(state):
            return None
        lab = cls.from_config(state.config, state_dir=store.dir)
        lab._state = state
        return lab

    def __enter__(self) -> Lab:
        try:
            self.up()
        except BaseException:
            if self._owns:  # leave nothing running behind a failed start
                self.down()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._owns:
            self.down()

    # -- what the lab is ---------------------------------------------------------------------

    @property
    def state(self) -> LabState:
        """The lab's state (read from state.json when this object did not start it)."""
        if self._state is None:
            self._state = self._store.load()
            if self._state is None:
                raise LabError(f"no lab in {self.state_dir}: run `python -m lab up` first")
        return self._state

    def _reload(self) -> LabState:
        self._state = None
        return self.state

    def _url(self, name: str) -> str:
        port = self.state.ports.get(name)
        if port is None:
            raise LabError(f"the lab has no {name} port yet: run `python -m lab up` first")
        return f"http://127.0.0.1:{port}"

    @property
    def session_url(self) -> str:
        """The session server, through HAProxy."""
        return self._url("session")

    @property
    def jwt_url(self) -> str:
        """The JWT server, through HAProxy."""
        return self._url("jwt")

    def url(self, server: str) -> str:
        """`session_url` or `jwt_url` by name."""
        _check_server(server)
        return self._url(server)

    @property
    def stats_url(self) -> str:
        """HAProxy's stats page (Prometheus metrics at /metrics)."""
        return self._url("stats") + "/"

    @property
    def redis_url(self) -> str:
        """The lab's private Redis (the primary now, directly: no latency proxy in between)."""
        return redis_server.url(self.redis_port)

    @property
    def redis_port(self) -> int:
        """The lab's private Redis port (in Sentinel mode, the current primary's)."""
        return store.admin_port(self._reload())

    @property
    def admin_email(self) -> str:
        """The first admin's email (created by the servers at start)."""
        return self.state.admin_email

    @property
    def admin_password(self) -> str:
        """The first admin's password, generated for the lab unless ADMIN_PASSWORD was set."""
        return self.state.admin_password

    @property
    def secret_key(self) -> str:
        """The SECRET_KEY every replica shares."""
        return self.state.secret_key

    @property
    def admin_socket(self) -> Path:
        """HAProxy's runtime API socket."""
        return haproxy.admin_socket_path(self.state_dir)

    @property
    def logs_dir(self) -> Path:
        """One log file per process."""
        return self._store.logs

    def replicas(self, server: str) -> list[Replica]:
        """The replicas of one server, in index order (1-based, as in `session-1`)."""
        _check_server(server)
        state = self._reload()  # another process (the CLI, a notebook) may have changed it
        found = []
        for index in range(1, state.config.replicas + 1):
            rec = state.processes.get(replicas.replica_id(server, index))
            found.append(
                Replica(
                    server=server,
                    index=index,
                    replica_id=replicas.replica_id(server, index),
                    port=rec.port if rec else None,
                    pid=rec.pid if rec else None,
                    running=alive(rec),
                )
            )
        return found

    def is_running(self) -> bool:
        """Whether any process of this lab is alive."""
        state = self._store.load()
        return state is not None and _any_running(state)

    def status(self) -> dict[str, Any]:
        """Everything `python -m lab status --json` prints."""
        state = self._reload()
        haproxy_rec = state.processes.get("haproxy")
        haproxy_up = alive(haproxy_rec)
        lb: dict[tuple[str, str], str] = {}
        if haproxy_up:
            try:
                lb = haproxy.server_status(self.admin_socket)
            except LabError:
                lb = {}
        redis_rec = state.processes.get("redis")
        redis_port = state.ports.get("redis")
        ports = state.ports
        report: dict[str, Any] = {
            "state_dir": str(self.state_dir),
            "running": _any_running(state),
            "config": state.config.to_json(),
            "session_url": f"http://127.0.0.1:{ports['session']}" if "session" in ports else None,
            "jwt_url": f"http://127.0.0.1:{ports['jwt']}" if "jwt" in ports else None,
            "stats_url": f"http://127.0.0.1:{ports['stats']}/" if "stats" in ports else None,
            "redis_url": redis_server.url(store.admin_port(state)) if redis_port else None,
            "admin_email": state.admin_email,
            "logs": str(self.logs_dir),
            "redis": {
                "pid": redis_rec.pid if redis_rec else None,
                "port": redis_port,
                "running": alive(redis_rec),
                "ping": bool(redis_port) and redis_server.ping(redis_port),
            },
            "haproxy": {
                "pid": haproxy_rec.pid if haproxy_rec else None,
                "running": haproxy_up,
                "admin_socket": str(self.admin_socket),
            },
            "store": store.status(state),
            "replicas": {},
        }
        for server in SERVERS:
            rows = []
            for rep in self.replicas(server):
                body = replicas.health(rep.port) if rep.running and rep.port else None
                rows.append(
                    {
                        "index": rep.index,
                        "replica_id": rep.replica_id,
                        "pid": rep.pid,
                        "port": rep.port,
                        "url": rep.url if rep.port else None,
                        "running": rep.running,
                        "healthy": bool(body) and body.get("status") == "ok",
                        "store": body.get("store") if body else None,
                        "lb": lb.get((server, haproxy.server_name(rep.index))),
                    }
                )
            report["replicas"][server] = rows
        return report

    # -- bringing it up and down -------------------------------------------------------------

    def up(self) -> list[str]:
        """Make the lab match `self.config`; returns what was done, one line per process."""
        self.config.validate()
        for module in (redis_server, haproxy):
            if module.executable() is None:
                raise LabError(module.INSTALL_HINT)
        with self._store.locked():
            state = self._store.load() or LabState()
            # A lab this object starts is this object's to stop (`with`, or a failed `up`).
            self._owns = self._owns or not _any_running(state)
            state.config = self.config
            self._state = state
            return self._launcher(state).up()

    def down(self) -> list[str]:
        """Stop every process of the lab by pid; raise if anything still listens afterwards."""
        with self._store.locked():
            state = self._store.load()
            if state is None:
                return []
            self._state = state
            self._owns = False
            return self._launcher(state).down()

    def _launcher(self, state: LabState) -> Launcher:
        return Launcher(self._store, state, self.timeout, self._log)

    # -- faults ------------------------------------------------------------------------------

    def _replica_record(self, server: str, index: int) -> ProcessRecord:
        _check_server(server)
        state = self._reload()
        if not 1 <= index <= state.config.replicas:
            raise LabError(f"{server} has replicas 1..{state.config.replicas}, not {index}")
        return state.processes[replicas.replica_id(server, index)]

    def kill_replica(self, server: str, index: int) -> None:
        """SIGKILL one replica, like a crash: HAProxy notices within ~2 s (fall 2, inter 1s)."""
        with self._store.locked():
            rec = self._replica_record(server, index)
            processes.kill(rec.pid, rec.create_time)
            rec.pid = None
            self._store.save(self.state)

    def start_replica(self, server: str, index: int) -> None:
        """Start a stopped replica on its old port; returns once HAProxy routes to it again."""
        with self._store.locked():
            rec = self._replica_record(server, index)
            state = self.state
            launcher = self._launcher(state)
            if not alive(rec):
                argv, env, port, digest = launcher.replica_plan(state, server, index)
                # No request for it while it boots; back in rotation once a check passes.
                drained = launcher.drain(state, [(server, index)])
                try:
                    launcher.spawn(state, rec.name, argv, env, port=port, fingerprint=digest)
                    launcher.wait_replicas(state, [(server, index)])
                finally:
                    launcher.undrain(state, drained)
                if port != rec.port:  # the old port was taken meanwhile: HAProxy must learn
                    launcher.ensure_haproxy(state)
            if alive(state.processes.get("haproxy")):
                launcher.wait_lb_ready(state, only=[(server, index)])

    def redis_stop(self) -> None:
        """Stop the lab's Redis (SIGTERM). Without --redis-persist its data is gone."""
        with self._store.locked():
            rec = self._reload().processes.get("redis")
            if rec:
                processes.stop([(rec.pid, rec.create_time)])
                rec.pid = None
                self._store.save(self.state)

    def redis_start(self) -> None:
        """Start the lab's Redis again, on the same port; the servers reconnect by themselves."""
        with self._store.locked():
            state = self._reload()
            rec = state.processes.get("redis")
            if rec is None:
                raise LabError("this lab has no Redis yet: run `python -m lab up`")
            launcher = self._launcher(state)
            if store.is_sentinel(state.config):  # back as replicas of whoever is primary now
                store.restart_nodes(launcher, state)
                return
            if alive(rec):
                return
            launcher = self._launcher(state)
            rec = launcher.spawn(
                state, "redis", rec.argv, {}, port=rec.port, fingerprint=rec.fingerprint
            )
            launcher.wait_redis(rec)

    def redis_primary(self) -> str | None:
        """The data node that is primary now ("redis", "redis-replica-1"), as Sentinel says."""
        return store.primary_node(self._reload())

    def redis_failover(self) -> str | None:
        """A planned switch (SENTINEL FAILOVER); returns the new primary once it serves."""
        state = self._require_sentinel()
        before = store.primary_node(state)
        ports = store.sentinel_ports(state)
        processes.wait_until(
            lambda: sentinel.healthy_replicas(ports), 30, "the sentinels to see a healthy replica"
        )
        sentinel.failover(ports)
        return processes.wait_until(
            lambda: (node := store.primary_node(state)) not in (None, before) and node,
            30,
            "the sentinels to name a new primary",
        )  # type: ignore[return-value]

    def redis_kill_primary(self) -> str:
        """SIGKILL the primary (a crash); the sentinels promote the replica within seconds."""
        with self._store.locked():
            state = self._require_sentinel()
            node = store.kill_primary(state)
            self._store.save(state)
            return node

    def _require_sentinel(self) -> LabState:
        state = self._reload()
        if not store.is_sentinel(state.config):
            raise LabError("this lab runs one Redis: `python -m lab up --redis sentinel` first")
        return state

    def redis_pause(self, seconds: float) -> None:
        """CLIENT PAUSE: every Redis command waits up to `seconds` (returns at once)."""
        redis_server.pause(self.redis_port, seconds)

    def lb_disable(self, server: str, index: int) -> None:
        """Take a replica out of HAProxy's rotation (runtime API, no reload); it keeps running."""
        self._replica_record(server, index)
        haproxy.set_server(self.admin_socket, server, index, enabled=False)

    def lb_enable(self, server: str, index: int) -> None:
        """Put a replica back into HAProxy's rotation."""
        self._replica_record(server, index)
        haproxy.set_server(self.admin_socket, server, index, enabled=True)

    def reconfigure(self, **changes: Any) -> list[str]:
        """Change some settings and `up` again (only what must change restarts)."""
        self.config = replace(self.config, **changes)
        return self.up()

    def __repr__(self) -> str:
        return f"Lab(state_dir={str(self.state_dir)!r}, config={self.config!r})"


def _any_running(state: LabState) -> bool:
    return any(alive(r) for r in state.processes.values())
