"""How the lab's processes come up: ports, Redis, JWT keys, replicas, HAProxy, and the waits.

`Launcher.up()` compares what runs with what the configuration asks for, process by process: a
process whose command line and environment are unchanged (same fingerprint) is kept; the others
are started or restarted. So changing `--session-store` restarts the session replicas only,
and Redis with its sessions, and the SQLite file with its users, stay as they are.
"""

from __future__ import annotations

import time
from pathlib import Path

from .engine import haproxy, processes, replicas
from .engine.state import SERVERS, LabError, LabState
from .engine.supervisor import Supervisor, alive, digest
from .store import topology as store


class Launcher(Supervisor):
    """Brings one lab to its configuration: Redis, JWT keys, replicas, HAProxy, and the waits."""

    def up(self) -> list[str]:
        """Bring every process to the configuration in `self.state.config`."""
        state = self.state
        state.ensure_secrets()
        actions: list[str] = []
        try:
            self._assign_ports(state)
            actions += store.ensure(self, state)  # one Redis or a Sentinel group, near or far
            self._ensure_jwt_keys(state)
            actions += self._ensure_replicas(state)
            actions += self.ensure_haproxy(state)
            self.wait_lb_ready(state)
        finally:
            self.store.save(state)
        return actions

    def down(self) -> list[str]:
        """Stop every recorded process: HAProxy first (no new traffic), then all the rest."""
        state = self.state
        records = list(state.processes.values())
        running = [r for r in records if alive(r)]
        for group in ([r for r in running if r.name == "haproxy"], running):
            processes.stop([(r.pid, r.create_time) for r in group])
        for rec in records:
            rec.pid = None
        self.store.save(state)
        # Everything stopped must have let go of its ports (HAProxy holds the frontends).
        ports = {r.port for r in running if r.port}
        if any(r.name == "haproxy" for r in running):
            ports |= {
                state.ports[name] for name in ("session", "jwt", "stats") if name in state.ports
            }
        listening = sorted(p for p in ports if processes.is_listening(p))
        if listening:
            raise LabError(f"ports still listening after down: {listening}")
        return [r.name for r in running]

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
                if port is None or (not alive(rec) and processes.is_listening(port)):
                    port = processes.free_port(exclude=_ports_in_use(state))
            state.ports[name] = port

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

    def replica_plan(
        self, state: LabState, server: str, index: int
    ) -> tuple[list[str], dict[str, str], int, str]:
        """argv, env, port and fingerprint for one replica (its old port when it had one)."""
        name = replicas.replica_id(server, index)
        rec = state.processes.get(name)
        running = alive(rec)
        if rec and rec.port and (running or not processes.is_listening(rec.port)):
            port = rec.port
        else:
            port = processes.free_port(exclude=_ports_in_use(state))
        store_env = store.server_env(state)
        env = replicas.environment(server, index, state, self.state_dir, store_env["REDIS_URL"])
        env.update({k: v for k, v in store_env.items() if k not in state.config.env})
        argv = replicas.argv(server, port, state.config)
        return argv, env, port, digest(argv, env)

    def _ensure_replicas(self, state: LabState) -> list[str]:
        """Stop surplus replicas, (re)start the changed or dead ones, wait for their /health."""
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
        # Work out who must (re)start.
        plans = {}
        for name, (server, index) in wanted.items():
            plan = self.replica_plan(state, server, index)
            rec = state.processes.get(name)
            running = alive(rec)
            if running and rec is not None and rec.fingerprint == plan[3]:
                actions.append(f"{name}: kept")
            else:
                plans[name] = (server, index, plan, rec if running else None)
        # Out of HAProxy's rotation first, so no request meets a replica that is going away.
        leaving = [_server_index(rec.name) for rec in extra]
        restarting = [(server, index) for server, index, *_ in plans.values()]
        drained = self.drain(state, leaving + restarting)
        try:
            processes.stop([(rec.pid, rec.create_time) for rec in extra])
            for rec in extra:
                del state.processes[rec.name]
                actions.append(f"{rec.name}: stopped")
            processes.stop([(rec.pid, rec.create_time) for *_, rec in plans.values() if rec])
            for name, (_, _, (argv, env, port, fingerprint), old) in plans.items():
                self._log(f"starting {name} on 127.0.0.1:{port}")
                self.spawn(
                    state,
                    name,
                    argv,
                    env,
                    port=port,
                    fingerprint=fingerprint,
                )
                actions.append(f"{name}: {'restarted' if old else 'started'}")
            self.wait_replicas(state, restarting)
        finally:
            self.undrain(state, [key for key in drained if key in restarting])
        return actions

    def drain(self, state: LabState, targets: list[tuple[str, int]]) -> list[tuple[str, int]]:
        """Take replicas out of a running HAProxy's rotation (MAINT); returns the ones taken.

        A replica someone disabled on purpose (`lb disable`) is left as it is.
        """
        if not targets or not alive(state.processes.get("haproxy")):
            return []
        socket_path = haproxy.admin_socket_path(self.state_dir)
        status = haproxy.server_status(socket_path)
        drained = []
        for server, index in targets:
            if status.get((server, haproxy.server_name(index)), "MAINT") != "MAINT":
                haproxy.set_server(socket_path, server, index, enabled=False)
                drained.append((server, index))
        return drained

    def undrain(self, state: LabState, drained: list[tuple[str, int]]) -> None:
        """Back into rotation. HAProxy shows "UP 1/2" until a check of the new process passes;
        `wait_lb_ready` waits for that "UP", so it never trusts a check of the old process."""
        if drained and alive(state.processes.get("haproxy")):
            socket_path = haproxy.admin_socket_path(self.state_dir)
            for server, index in drained:
                haproxy.set_server(socket_path, server, index, enabled=True)

    def wait_replicas(self, state: LabState, pending: list[tuple[str, int]]) -> None:
        """Until each replica answers /health as itself; a replica that exits fails at once."""
        deadline = time.monotonic() + self.timeout
        pending = list(pending)
        while pending:
            for server, index in list(pending):
                rec = state.processes[replicas.replica_id(server, index)]
                if not alive(rec):
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

    def ensure_haproxy(self, state: LabState) -> list[str]:
        """Write this run's server lists and (re)start HAProxy when anything about it changed."""
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
        fingerprint = digest(argv, env, backends, haproxy.SHARED_CONFIG.read_text())
        rec = state.processes.get("haproxy")
        if rec is not None and alive(rec):
            if rec.fingerprint == fingerprint:
                return ["haproxy: kept"]
            processes.stop([(rec.pid, rec.create_time)])
        backends_file.parent.mkdir(exist_ok=True)
        backends_file.write_text(backends)
        socket_path.unlink(missing_ok=True)
        self._log(
            f"starting haproxy (session :{state.ports['session']}, jwt :{state.ports['jwt']})"
        )
        rec = self.spawn(
            state,
            "haproxy",
            argv,
            env,
            port=state.ports["session"],
            fingerprint=fingerprint,
        )
        return ["haproxy: started"]

    def wait_lb_ready(self, state: LabState, only: list[tuple[str, int]] | None = None) -> None:
        """Until HAProxy runs, sees every replica (or `only` those) up, and the frontends answer."""
        rec = state.processes["haproxy"]
        wanted = only or [(s, i) for s in SERVERS for i in range(1, state.config.replicas + 1)]

        def accounted(status: dict, server: str, index: int) -> bool:
            # "UP" once a check passed ("UP 1/2" is HAProxy's optimistic start, unchecked).
            # MAINT is a server someone took out on purpose (`lb disable`): not waited for;
            # nor a replica that refuses on purpose (its clock is off the store's: core/clock.py).
            if status.get((server, haproxy.server_name(index))) in ("UP", "MAINT"):
                return True
            replica = state.processes.get(replicas.replica_id(server, index))
            body = replicas.health(replica.port) if replica and replica.port else None
            return bool(body) and body.get("status") == "clock_skew"

        def all_up() -> bool:
            if not alive(rec):
                raise LabError(f"haproxy exited:\n{processes.log_tail(rec.log)}")
            try:
                status = haproxy.server_status(haproxy.admin_socket_path(self.state_dir))
            except LabError:
                return False
            return all(accounted(status, server, index) for server, index in wanted)

        processes.wait_until(all_up, self.timeout, "HAProxy to see every replica up")
        for server in SERVERS:
            port = state.ports[server]
            processes.wait_until(
                lambda p=port: replicas.health(p) is not None,
                self.timeout,
                f"the {server} frontend on :{port}",
            )


def _ports_in_use(state: LabState) -> set[int]:
    """Every port this lab already uses, so a new one never doubles up."""
    return set(state.ports.values()) | {r.port for r in state.processes.values() if r.port}


def _server_index(name: str) -> tuple[str, int]:
    """("session", 2) for "session-2"."""
    server, _, index = name.rpartition("-")
    return server, int(index)
