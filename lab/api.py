"""`Lab`: the Python API under `python -m lab`, used by the CLI, the notebooks and the tests.

    with Lab(replicas=3, session_store="memory", lb_policy="roundrobin") as lab:
        requests.get(lab.session_url + "/health")

`up()` makes the running lab match the configuration: it starts what is missing, restarts only
what was started differently, and keeps the rest (Redis and the user database survive a change
of flags, so users and their sessions do too). `down()` stops everything by pid.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from . import haproxy, processes, redis_server, replicas
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


def _fingerprint(*parts: Any) -> str:
    """A digest of how a process was started: equal digests mean nothing to restart."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


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
        """The lab's private Redis."""
        return redis_server.url(self.state.ports["redis"])

    @property
    def redis_port(self) -> int:
        """The lab's private Redis port."""
        return self.state.ports["redis"]

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
        state = self.state
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
                    running=bool(rec) and processes.is_running(rec.pid, rec.match),
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
        haproxy_up = bool(haproxy_rec) and processes.is_running(haproxy_rec.pid, haproxy_rec.match)
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
            "redis_url": redis_server.url(redis_port) if redis_port else None,
            "admin_email": state.admin_email,
            "logs": str(self.logs_dir),
            "redis": {
                "pid": redis_rec.pid if redis_rec else None,
                "port": redis_port,
                "running": bool(redis_rec) and processes.is_running(redis_rec.pid, redis_rec.match),
                "ping": bool(redis_port) and redis_server.ping(redis_port),
            },
            "haproxy": {
                "pid": haproxy_rec.pid if haproxy_rec else None,
                "running": haproxy_up,
                "admin_socket": str(self.admin_socket),
            },
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
            was_running = _any_running(state)
            state.config = self.config
            state.ensure_secrets()
            self._state = state
            # A lab this object starts is this object's to stop (`with`, or a failed `up`).
            self._owns = self._owns or not was_running
            actions: list[str] = []
            try:
                self._assign_ports(state)
                actions += self._ensure_redis(state)
                self._ensure_jwt_keys(state)
                actions += self._ensure_replicas(state)
                actions += self._ensure_haproxy(state)
                self._wait_lb_ready(state)
            finally:
                self._store.save(state)
        return actions

    def down(self) -> list[str]:
        """Stop every process of the lab by pid; raise if anything still listens afterwards."""
        with self._store.locked():
            state = self._store.load()
            if state is None:
                return []
            stopped = []
            records = list(state.processes.values())
            # The balancer first (no new traffic), then the replicas and Redis together.
            first = [r for r in records if r.name == "haproxy"]
            rest = [r for r in records if r.name != "haproxy"]
            for group in (first, rest):
                running = [r for r in group if processes.is_running(r.pid, r.match)]
                processes.stop([(r.pid, r.match) for r in running])
                stopped += [r.name for r in running]
            for rec in records:
                rec.pid = None
            self._store.save(state)
            self._state = state
            self._owns = False
            ports = [r.port for r in records if r.port] + list(state.ports.values())
            listening = sorted({p for p in ports if processes.is_listening(p)})
            if listening:
                raise LabError(f"ports still listening after down: {listening}")
        return stopped

    def _assign_ports(self, state: LabState) -> None:
        """Frontend and Redis ports: as configured, else kept from the last run, else free."""
        config = state.config
        wanted = {
            "session": config.session_port,
            "jwt": config.jwt_port,
            "stats": config.stats_port,
            "redis": config.redis_port,
        }
        owner = {"redis": "redis"}
        for name, port in wanted.items():
            if port is None:
                port = state.ports.get(name)
                rec = state.processes.get(owner.get(name, "haproxy"))
                ours = rec is not None and processes.is_running(rec.pid, rec.match)
                if port is None or (not ours and processes.is_listening(port)):
                    port = processes.free_port(exclude=_ports_in_use(state))
            state.ports[name] = port

    def _spawn(
        self,
        state: LabState,
        name: str,
        argv: list[str],
        env: dict[str, str],
        *,
        port: int | None,
        match: str,
        fingerprint: str,
    ) -> ProcessRecord:
        """Start one process and record its pid at once (a failed `up` can still be downed)."""
        log = self._store.logs / f"{name}.log"
        with open(log, "a") as f:
            f.write(f"\n--- {time.strftime('%Y-%m-%d %H:%M:%S')} starting {name}\n")
        pid = processes.spawn(argv, env={**processes.base_env(), **env}, log=log)
        rec = ProcessRecord(name, pid, port, argv, str(log), match, fingerprint)
        state.processes[name] = rec
        self._store.save(state)
        return rec

    def _ensure_redis(self, state: LabState) -> list[str]:
        binary = redis_server.executable()
        assert binary is not None
        port = state.ports["redis"]
        directory = self.state_dir / "redis"
        directory.mkdir(exist_ok=True)
        argv = redis_server.argv(binary, port, directory, state.config.redis_persist)
        fingerprint = _fingerprint(argv)
        rec = state.processes.get("redis")
        if rec and processes.is_running(rec.pid, rec.match):
            if rec.fingerprint == fingerprint:
                return ["redis: kept"]
            processes.stop([(rec.pid, rec.match)])
        self._log(f"starting redis-server on 127.0.0.1:{port}")
        # redis-server rewrites its process title to "redis-server 127.0.0.1:PORT".
        rec = self._spawn(
            state, "redis", argv, {}, port=port, match=str(port), fingerprint=fingerprint
        )
        self._wait_redis(rec)
        return ["redis: started"]

    def _wait_redis(self, rec: ProcessRecord) -> None:
        def ready() -> bool:
            if not processes.is_running(rec.pid, rec.match):
                raise LabError(f"redis-server exited:\n{processes.log_tail(rec.log)}")
            return redis_server.ping(rec.port or 0)

        processes.wait_until(ready, 15, "redis-server to answer PING")

    def _ensure_jwt_keys(self, state: LabState) -> None:
        """RS256/EdDSA: one key pair for all JWT replicas, kept while the algorithm stays."""
        algorithm = state.config.algorithm
        if algorithm == "HS256":
            state.jwt_keys = None
            return
        keys = state.jwt_keys
        if keys and keys.get("algorithm") == algorithm and Path(keys["private"]).exists():
            return
        state.jwt_keys = replicas.generate_jwt_keys(algorithm, self.state_dir / "keys" / algorithm)

    def _replica_plan(
        self, state: LabState, server: str, index: int
    ) -> tuple[list[str], dict[str, str], int, str]:
        """argv, env, port and fingerprint for one replica (its old port when it had one)."""
        name = replicas.replica_id(server, index)
        rec = state.processes.get(name)
        running = rec is not None and processes.is_running(rec.pid, rec.match)
        if rec and rec.port and (running or not processes.is_listening(rec.port)):
            port = rec.port
        else:
            port = processes.free_port(exclude=_ports_in_use(state))
        redis_url = redis_server.url(state.ports["redis"])
        env = replicas.environment(server, index, state, self.state_dir, redis_url)
        argv = replicas.argv(server, port, state.config)
        return argv, env, port, _fingerprint(argv, env)

    def _ensure_replicas(self, state: LabState) -> list[str]:
        actions: list[str] = []
        wanted = {
            replicas.replica_id(server, index): (server, index)
            for server in SERVERS
            for index in range(1, state.config.replicas + 1)
        }
        # Replicas beyond the new count go away.
        extra = [
            rec
            for name, rec in state.processes.items()
            if name not in wanted and name.split("-")[0] in SERVERS
        ]
        processes.stop([(rec.pid, rec.match) for rec in extra])
        for rec in extra:
            del state.processes[rec.name]
            actions.append(f"{rec.name}: stopped")
        # Work out who must (re)start, stop those together, start them together.
        plans = {}
        for name, (server, index) in wanted.items():
            plan = self._replica_plan(state, server, index)
            rec = state.processes.get(name)
            running = rec is not None and processes.is_running(rec.pid, rec.match)
            if running and rec is not None and rec.fingerprint == plan[3]:
                actions.append(f"{name}: kept")
            else:
                plans[name] = (server, index, plan, rec if running else None)
        processes.stop([(rec.pid, rec.match) for *_, rec in plans.values() if rec is not None])
        for name, (_, _, (argv, env, port, fingerprint), old) in plans.items():
            self._log(f"starting {name} on 127.0.0.1:{port}")
            self._spawn(
                state,
                name,
                argv,
                env,
                port=port,
                match=f"127.0.0.1:{port}",
                fingerprint=fingerprint,
            )
            actions.append(f"{name}: {'restarted' if old else 'started'}")
        self._wait_replicas(state, [(s, i) for s, i, *_ in plans.values()])
        return actions

    def _wait_replicas(self, state: LabState, pending: list[tuple[str, int]]) -> None:
        """Until each replica answers /health as itself; a replica that exits fails at once."""
        deadline = time.monotonic() + self.timeout
        pending = list(pending)
        while pending:
            for server, index in list(pending):
                rec = state.processes[replicas.replica_id(server, index)]
                if not processes.is_running(rec.pid, rec.match):
                    raise LabError(
                        f"{rec.name} exited while starting; its log ({rec.log}) ends with:\n"
                        + processes.log_tail(rec.log)
                    )
                if replicas.is_healthy(server, index, rec.port or 0):
                    pending.remove((server, index))
            if pending and time.monotonic() > deadline:
                names = ", ".join(replicas.replica_id(s, i) for s, i in pending)
                raise LabError(f"timed out waiting for {names} to answer /health")
            if pending:
                time.sleep(0.1)

    def _ensure_haproxy(self, state: LabState) -> list[str]:
        binary = haproxy.executable()
        assert binary is not None
        config = state.config
        ports = {
            server: [
                state.processes[replicas.replica_id(server, i)].port or 0
                for i in range(1, config.replicas + 1)
            ]
            for server in SERVERS
        }
        backends = haproxy.render_backends(ports)
        backends_file = self.state_dir / "haproxy" / "backends.cfg"
        socket_path = haproxy.admin_socket_path(self.state_dir)
        env = haproxy.environment(
            session_port=state.ports["session"],
            jwt_port=state.ports["jwt"],
            stats_port=state.ports["stats"],
            admin_socket=socket_path,
            lb_policy=config.lb_policy,
        )
        argv = haproxy.argv(binary, backends_file)
        fingerprint = _fingerprint(argv, env, backends, haproxy.SHARED_CONFIG.read_text())
        rec = state.processes.get("haproxy")
        if rec and processes.is_running(rec.pid, rec.match):
            if rec.fingerprint == fingerprint:
                return ["haproxy: kept"]
            processes.stop([(rec.pid, rec.match)])
        backends_file.parent.mkdir(exist_ok=True)
        backends_file.write_text(backends)
        socket_path.unlink(missing_ok=True)
        self._log(
            f"starting haproxy (session :{state.ports['session']}, jwt :{state.ports['jwt']})"
        )
        rec = self._spawn(
            state,
            "haproxy",
            argv,
            env,
            port=state.ports["session"],
            match=str(backends_file),
            fingerprint=fingerprint,
        )
        return ["haproxy: started"]

    def _wait_lb_ready(self, state: LabState, only: list[tuple[str, int]] | None = None) -> None:
        """Until HAProxy runs, sees every replica (or `only` those) up, and the frontends answer."""
        rec = state.processes["haproxy"]
        wanted = [
            (server, haproxy.server_name(index))
            for server, index in only
            or [(s, i) for s in SERVERS for i in range(1, state.config.replicas + 1)]
        ]

        def all_up() -> bool:
            if not processes.is_running(rec.pid, rec.match):
                raise LabError(f"haproxy exited:\n{processes.log_tail(rec.log)}")
            try:
                status = haproxy.server_status(self.admin_socket)
            except LabError:
                return False
            # "UP" once a check passed ("UP 1/2" is HAProxy's optimistic start, unchecked).
            # MAINT is a server someone took out on purpose (`lb disable`): not waited for.
            return all(status.get(key) == "UP" or status.get(key) == "MAINT" for key in wanted)

        processes.wait_until(all_up, self.timeout, "HAProxy to see every replica up")
        for server in SERVERS:
            port = state.ports[server]
            processes.wait_until(
                lambda p=port: replicas.health(p) is not None,
                self.timeout,
                f"the {server} frontend on :{port}",
            )

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
            processes.kill(rec.pid, rec.match)
            rec.pid = None
            self._store.save(self.state)

    def start_replica(self, server: str, index: int) -> None:
        """Start a stopped replica on its old port; returns once HAProxy routes to it again."""
        with self._store.locked():
            rec = self._replica_record(server, index)
            state = self.state
            if not processes.is_running(rec.pid, rec.match):
                argv, env, port, fingerprint = self._replica_plan(state, server, index)
                self._spawn(
                    state,
                    rec.name,
                    argv,
                    env,
                    port=port,
                    match=f"127.0.0.1:{port}",
                    fingerprint=fingerprint,
                )
                self._wait_replicas(state, [(server, index)])
                if port != rec.port:  # the old port was taken meanwhile: HAProxy must learn
                    self._ensure_haproxy(state)
            if "haproxy" in state.processes:
                self._wait_lb_ready(state, only=[(server, index)])

    def redis_stop(self) -> None:
        """Stop the lab's Redis (SIGTERM). Without --redis-persist its data is gone."""
        with self._store.locked():
            rec = self._reload().processes.get("redis")
            if rec:
                processes.stop([(rec.pid, rec.match)])
                rec.pid = None
                self._store.save(self.state)

    def redis_start(self) -> None:
        """Start the lab's Redis again, on the same port; the servers reconnect by themselves."""
        with self._store.locked():
            state = self._reload()
            rec = state.processes.get("redis")
            if rec and processes.is_running(rec.pid, rec.match):
                return
            if rec is None:
                raise LabError("this lab has no Redis yet: run `python -m lab up`")
            self._spawn(
                state,
                "redis",
                rec.argv,
                {},
                port=rec.port,
                match=rec.match,
                fingerprint=rec.fingerprint,
            )
            self._wait_redis(state.processes["redis"])

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


def _ports_in_use(state: LabState) -> set[int]:
    """Every port this lab already uses, so a new one never doubles up."""
    return set(state.ports.values()) | {r.port for r in state.processes.values() if r.port}


def _any_running(state: LabState) -> bool:
    return any(processes.is_running(r.pid, r.match) for r in state.processes.values())
