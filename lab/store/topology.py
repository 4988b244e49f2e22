"""The lab's store as the servers see it: one Redis or a Sentinel group, near or "far away".

`ensure()` is the launcher's step for Redis: it starts the data nodes (one, or a primary and its
replica), the sentinels in `--redis sentinel`, and in `--store-latency MS` the latency proxy in
front of every node. `--replication-lag MS` puts the proxy
on the replication link too and holds the replica's stream back (a crash loses what it held).
`server_env()` is what the replicas are told: the proxy's port when there
is one (so every server connection pays the distance), the sentinels when there are some. The
lab's own admin connections (`admin_port`) go to the nodes directly.
"""

from __future__ import annotations

import sys
from typing import Any

from ..engine import processes
from ..engine.durations import Latency
from ..engine.state import LabConfig, LabError, LabState, ProcessRecord
from ..engine.supervisor import Supervisor, alive, digest
from . import redis_server, sentinel

#: The latency proxy's process name (`python -m lab logs store-proxy`).
PROXY = "store-proxy"


def latency_of(config: LabConfig) -> Latency | None:
    """The configured distance (a `Latency`), or None when the servers talk to Redis directly."""
    text = getattr(config, "store_latency", "off") or "off"
    if text == "off":
        # A lagging replica needs the proxy on the replication link; the servers pay nothing.
        return Latency() if replication_lag_of(config) else None
    return Latency.parse(text)


def replication_lag_of(config: LabConfig) -> str | None:
    """How far the replica's stream lags ("100ms"), or None: `--replication-lag`."""
    text = getattr(config, "replication_lag", "off") or "off"
    return None if text == "off" else text


def is_sentinel(config: LabConfig) -> bool:
    """Whether the lab runs a Sentinel group rather than one Redis."""
    return getattr(config, "redis_topology", "single") == "sentinel"


def nodes(state: LabState) -> list[str]:
    """The data nodes this lab runs."""
    return sentinel.node_names() if is_sentinel(state.config) else ["redis"]


def announced_port(state: LabState, node: str) -> int:
    """The port others reach `node` on: its proxy port behind the proxy, else its own."""
    if latency_of(state.config) is not None:
        return state.ports[f"proxy-{node}"]
    return state.ports[node]


def server_env(state: LabState) -> dict[str, str]:
    """REDIS_URL (and REDIS_SENTINELS) for the replicas."""
    env = {"REDIS_URL": redis_server.url(announced_port(state, "redis"))}
    if is_sentinel(state.config):
        env["REDIS_SENTINELS"] = ",".join(
            f"127.0.0.1:{state.ports[name]}" for name in sentinel.sentinel_names()
        )
        env["REDIS_SENTINEL_MASTER"] = sentinel.MASTER_NAME
    return env


def sentinel_ports(state: LabState) -> list[int]:
    """The sentinels' ports (empty for a single Redis)."""
    if not is_sentinel(state.config):
        return []
    return [state.ports[name] for name in sentinel.sentinel_names() if name in state.ports]


def primary_node(state: LabState) -> str | None:
    """The node that is primary now (as the sentinels say), or "redis" for a single Redis."""
    if not is_sentinel(state.config):
        return "redis"
    found = sentinel.primary_address(sentinel_ports(state))
    if found is None:
        return None
    for node in nodes(state):
        if announced_port(state, node) == found[1]:
            return node
    return None


def admin_port(state: LabState) -> int:
    """The real port of the primary, for the lab's own (direct, undelayed) connections."""
    node = primary_node(state) or "redis"
    return state.ports[node]


# -- bringing it up ---------------------------------------------------------------------------


def _wanted(state: LabState) -> list[str]:
    names = list(nodes(state))
    if is_sentinel(state.config):
        names += sentinel.sentinel_names()
    if latency_of(state.config) is not None:
        names.append(PROXY)
    return names


def _assign_ports(state: LabState, exclude: set[int]) -> None:
    keys = [n for n in _wanted(state) if n not in ("redis", PROXY)]
    if latency_of(state.config) is not None:
        keys += [f"proxy-{node}" for node in nodes(state)]
    for key in keys:
        rec = state.processes.get(PROXY if key.startswith("proxy-") else key)
        port = state.ports.get(key)
        if port is None or (not alive(rec) and processes.is_listening(port)):
            port = processes.free_port(exclude=exclude | set(state.ports.values()))
        state.ports[key] = port


def ensure(supervisor: Supervisor, state: LabState) -> list[str]:
    """Bring the store to the configuration; returns one action per process."""
    exclude = {r.port for r in state.processes.values() if r.port}
    _assign_ports(state, exclude)
    actions = _stop_unwanted(state)
    if latency_of(state.config) is not None:
        actions.append(_ensure_proxy(supervisor, state))
    for node in nodes(state):
        actions.append(_ensure_node(supervisor, state, node))
    if is_sentinel(state.config):
        plans = {
            name: _sentinel_plan(supervisor, state, name) for name in sentinel.sentinel_names()
        }
        if all(_keep(state.processes.get(n), plan[1]) for n, plan in plans.items()):
            actions += [f"{name}: kept" for name in plans]
        else:
            # All or none: a sentinel left running would gossip the old topology (with its
            # higher config epoch) to the new ones, and they would believe it.
            primary = primary_port(state)
            _stop(state, list(plans))
            for name, (argv, fingerprint) in plans.items():
                _start_sentinel(supervisor, state, name, argv, fingerprint, primary)
                actions.append(f"{name}: started")
        processes.wait_until(
            lambda: sentinel.ready(sentinel_ports(state)),
            30,
            "the sentinels to agree on the primary, its replica and each other",
        )
    return actions


def _stop_unwanted(state: LabState) -> list[str]:
    wanted = set(_wanted(state))
    store_names = {PROXY, *sentinel.node_names(), *sentinel.sentinel_names()}
    extra = [r for n, r in state.processes.items() if n in store_names and n not in wanted]
    _stop(state, [r.name for r in extra])
    for rec in extra:
        del state.processes[rec.name]
    return [f"{rec.name}: stopped" for rec in extra]


def _keep(rec: ProcessRecord | None, fingerprint: str) -> bool:
    """Kept when it runs as asked; stopped first when it runs otherwise."""
    if rec is None or not alive(rec):
        return False
    if rec.fingerprint == fingerprint:
        return True
    processes.stop([(rec.pid, rec.create_time)])
    return False


def _ensure_proxy(supervisor: Supervisor, state: LabState) -> str:
    latency = latency_of(state.config)
    routes = [f"{state.ports[f'proxy-{n}']}:{state.ports[n]}" for n in nodes(state)]
    argv = [sys.executable, "-m", "lab.store.latency_proxy", "--latency", str(latency)]
    lag = replication_lag_of(state.config)
    if lag:
        argv += ["--replication-lag", lag]
    for route in routes:
        argv += ["--route", route]
    # A partition's rules (lab/chaos/partition.py writes them, SIGUSR1 makes the proxy read).
    argv += ["--control", str(control_file(supervisor.state_dir))]
    fingerprint = digest(argv)
    if _keep(state.processes.get(PROXY), fingerprint):
        return f"{PROXY}: kept"
    lagging = f", the replica's stream {lag} behind" if lag else ""
    supervisor.log(
        f"starting the latency proxy (+{latency} per round trip{lagging}): {', '.join(routes)}"
    )
    port = state.ports[f"proxy-{nodes(state)[0]}"]
    rec = supervisor.spawn(state, PROXY, argv, {}, port=port, fingerprint=fingerprint)
    processes.wait_until(lambda: _listening_or_fail(rec, port), 15, f"the latency proxy on :{port}")
    return f"{PROXY}: started"


def control_file(state_dir) -> Any:
    """The latency proxy's control file (its gate's rules: lab/store/gate.py)."""
    return state_dir / f"{PROXY}.control.json"


def _listening_or_fail(rec: ProcessRecord, port: int) -> bool:
    if not alive(rec):
        raise LabError(f"{rec.name} exited:\n{processes.log_tail(rec.log)}")
    return processes.is_listening(port)


def node_argv(state: LabState, node: str, directory, primary_port: int | None) -> list[str]:
    """redis-server's command line for one data node."""
    binary = redis_server.executable()
    if binary is None:
        raise LabError(redis_server.INSTALL_HINT)
    port = state.ports[node]
    argv = redis_server.argv(binary, port, directory, state.config.redis_persist)
    if is_sentinel(state.config):
        argv += sentinel.node_flags(announced_port(state, node), port, primary_port)
    return argv


def primary_port(state: LabState) -> int:
    """The announced port of the primary: the sentinels' answer when it names one of the nodes
    as the lab runs them now, else the first node's. (After a reconfiguration that moved the
    nodes behind the proxy or off it, the sentinels still name a port nobody announces.)"""
    found = sentinel.primary_address(sentinel_ports(state))
    current = {announced_port(state, n) for n in nodes(state)}
    return found[1] if found and found[1] in current else announced_port(state, "redis")


def _primary_for(state: LabState, node: str) -> int | None:
    """Whom a node (re)starting now replicates: the sentinels' primary, else the first node."""
    if not is_sentinel(state.config):
        return None
    primary = primary_port(state)
    return None if primary == announced_port(state, node) else primary


def _ensure_node(supervisor: Supervisor, state: LabState, node: str) -> str:
    directory = supervisor.state_dir / node
    directory.mkdir(exist_ok=True)
    # The fingerprint leaves out whom it replicates: that is the sentinels' business.
    fingerprint = digest(node_argv(state, node, directory, None))
    if _keep(state.processes.get(node), fingerprint):
        return f"{node}: kept"
    start_node(supervisor, state, node, fingerprint)
    return f"{node}: started"


def start_node(
    supervisor: Supervisor, state: LabState, node: str, fingerprint: str | None = None
) -> None:
    """Start one data node on its port (as a replica of the primary, if there is one) and wait."""
    directory = supervisor.state_dir / node
    directory.mkdir(exist_ok=True)
    argv = node_argv(state, node, directory, _primary_for(state, node))
    if fingerprint is None:
        fingerprint = digest(node_argv(state, node, directory, None))
    port = state.ports[node]
    supervisor.log(f"starting redis-server {node} on 127.0.0.1:{port}")
    # redis-server rewrites its process title to "redis-server 127.0.0.1:PORT".
    rec = supervisor.spawn(state, node, argv, {}, port=port, fingerprint=fingerprint)
    redis_server.wait_ready(rec)


def _stop(state: LabState, names: list[str]) -> None:
    running = [state.processes[n] for n in names if alive(state.processes.get(n))]
    processes.stop([(r.pid, r.create_time) for r in running])


def _sentinel_plan(supervisor: Supervisor, state: LabState, name: str) -> tuple[list[str], str]:
    """One sentinel's command line, and its fingerprint: that, and the nodes it will meet."""
    executable = sentinel.executable()
    if executable is None:
        raise LabError(sentinel.INSTALL_HINT)
    conf = supervisor.state_dir / "sentinels" / f"{name}.conf"
    argv = [*executable, str(conf), "--port", str(state.ports[name])]
    return argv, digest(argv, [announced_port(state, n) for n in nodes(state)])


def _start_sentinel(
    supervisor: Supervisor,
    state: LabState,
    name: str,
    argv: list[str],
    fingerprint: str,
    primary: int,
) -> None:
    """Write a sentinel's config (monitoring `primary`) and start it; wait until it listens."""
    port = state.ports[name]
    directory = supervisor.state_dir / "sentinels"
    directory.mkdir(exist_ok=True)
    (directory / f"{name}.conf").write_text(sentinel.sentinel_config(port, primary, directory))
    supervisor.log(f"starting {name} on 127.0.0.1:{port}")
    rec = supervisor.spawn(state, name, argv, {}, port=port, fingerprint=fingerprint)
    processes.wait_until(lambda: _listening_or_fail(rec, port), 15, f"{name} on :{port}")


# -- faults and status ------------------------------------------------------------------------


#: Seconds `kill_primary` waits for the sentinels to name a primary: right after the lab is
#: reconfigured (a node restarted behind the latency proxy) they may still be agreeing on it.
PRIMARY_WAIT = 30.0


def kill_primary(state: LabState) -> str:
    """SIGKILL the node that is primary now: a crash. Returns its name."""
    try:
        node = str(processes.wait_until(lambda: primary_node(state), PRIMARY_WAIT, "a primary"))
    except LabError:
        said = "; ".join(sentinel.answers(sentinel_ports(state)))
        announced = ", ".join(f"{n} :{announced_port(state, n)}" for n in nodes(state))
        raise LabError(
            f"the sentinels name no primary the lab runs after {PRIMARY_WAIT:.0f}s (a failover "
            f"in progress?): {said}; the nodes announce {announced}"
        ) from None
    rec = state.processes[node]
    processes.kill(rec.pid, rec.create_time)
    rec.pid = None
    return node


def restart_nodes(supervisor: Supervisor, state: LabState) -> list[str]:
    """Start every stopped data node again (in Sentinel mode as a replica of the primary)."""
    started = []
    for node in nodes(state):
        rec = state.processes.get(node)
        if rec is not None and not alive(rec):
            start_node(supervisor, state, node, rec.fingerprint)
            started.append(node)
    if started and is_sentinel(state.config):
        processes.wait_until(
            lambda: sentinel.healthy_replicas(sentinel_ports(state)) >= sentinel.REPLICAS,
            30,
            "the sentinels to see the restarted node as a replica",
        )
    return started


def status(state: LabState) -> dict[str, Any]:
    """What `python -m lab status` shows about the store."""
    latency = latency_of(state.config)
    primary = primary_node(state)
    rows = []
    for node in nodes(state):
        port = state.ports.get(node)
        info = sentinel.replication(port) if port else {}
        rows.append(
            {
                "name": node,
                "port": port,
                "announced_port": announced_port(state, node) if port else None,
                "running": alive(state.processes.get(node)),
                "role": info.get("role"),
                "primary": node == primary,
            }
        )
    sentinels = [
        {"name": n, "port": state.ports.get(n), "running": alive(state.processes.get(n))}
        for n in (sentinel.sentinel_names() if is_sentinel(state.config) else [])
    ]
    return {
        "topology": getattr(state.config, "redis_topology", "single"),
        "latency": str(latency) if latency is not None else "off",
        "replication_lag": replication_lag_of(state.config) or "off",
        "proxy_running": alive(state.processes.get(PROXY)),
        "primary": primary,
        "nodes": rows,
        "sentinels": sentinels,
    }
