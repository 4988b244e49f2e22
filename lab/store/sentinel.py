"""A Redis that fails over: one primary, one replica and three sentinels, all on 127.0.0.1.

`python -m lab up --redis sentinel` runs it. The servers get REDIS_SENTINELS and ask the
sentinels where the primary is (redis-py's `Sentinel`); they never learn a node's port. The
sentinels agree (quorum 2 of 3) that the primary is down after `DOWN_AFTER_MS` without an
answer, elect a leader, and promote the replica. `redis failover` asks for a planned switch
(SENTINEL FAILOVER); `redis kill-primary` crashes whichever node is primary now (SIGKILL).

Replication is asynchronous: the primary acknowledges a write before any replica has it. A
crash can therefore lose the writes the replica had not received yet, and the servers answer
503 from the crash until the new primary is named. Both are what the failover experiment measures.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import redis

from ..engine.state import LabError
from . import redis_server

#: The name the sentinels monitor the primary under (REDIS_SENTINEL_MASTER).
MASTER_NAME = "authlab"
#: Sentinels that must agree the primary is down before a failover.
QUORUM = 2
SENTINELS = 3
#: Replicas of the primary (the nodes besides it).
REPLICAS = 1
#: How long the primary may be silent before a sentinel calls it down. Production uses 5-30 s;
#: the lab keeps it short so an experiment takes seconds, and says so in its report.
DOWN_AFTER_MS = 1000
FAILOVER_TIMEOUT_MS = 5000

INSTALL_HINT = (
    "redis-sentinel is not installed. Run `make setup`, or: sudo apt-get install redis-sentinel"
)


def executable() -> list[str] | None:
    """The sentinel command: Debian's redis-sentinel, else `redis-server --sentinel`."""
    found = shutil.which("redis-sentinel")
    if found:
        return [found]
    server = shutil.which("redis-server")
    return [server, "--sentinel"] if server else None


def node_names() -> list[str]:
    """Process names of the data nodes: "redis" (the first primary), "redis-replica-1", ..."""
    return ["redis"] + [f"redis-replica-{i}" for i in range(1, REPLICAS + 1)]


def sentinel_names() -> list[str]:
    """Process names of the sentinels."""
    return [f"sentinel-{i}" for i in range(1, SENTINELS + 1)]


def node_flags(announce_port: int, own_port: int, primary_port: int | None) -> list[str]:
    """Extra redis-server flags of one node: whom it replicates, and the port it announces.

    Behind the latency proxy a node announces its proxy port, so the sentinels (and so the
    servers) reach every node, whichever is primary, through the proxy.
    """
    # A replica (re)joining gets its full copy at once, not after diskless sync's 5 s wait.
    flags = ["--repl-diskless-sync-delay", "0"]
    if announce_port != own_port:
        flags += [
            "--replica-announce-ip",
            "127.0.0.1",
            "--replica-announce-port",
            str(announce_port),
        ]
    if primary_port is not None:
        flags += ["--replicaof", "127.0.0.1", str(primary_port)]
    return flags


def sentinel_config(port: int, primary_port: int, directory: Path) -> str:
    """A sentinel's config file (it rewrites it as it learns the topology)."""
    return "\n".join(
        [
            f"port {port}",
            "bind 127.0.0.1",
            "daemonize no",
            "protected-mode no",
            f'dir "{directory}"',
            f"sentinel monitor {MASTER_NAME} 127.0.0.1 {primary_port} {QUORUM}",
            f"sentinel down-after-milliseconds {MASTER_NAME} {DOWN_AFTER_MS}",
            f"sentinel failover-timeout {MASTER_NAME} {FAILOVER_TIMEOUT_MS}",
            f"sentinel parallel-syncs {MASTER_NAME} 1",
            "",
        ]
    )


def _client(port: int) -> redis.Redis:
    return redis_server.client(port, decode=True)


def primary_address(sentinel_ports: list[int]) -> tuple[str, int] | None:
    """Where the sentinels say the primary is now (the first sentinel that answers)."""
    for port in sentinel_ports:
        try:
            with _client(port) as s:
                found = s.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME)
        except redis.RedisError:
            continue
        if found:
            return found[0], int(found[1])
    return None


def answers(sentinel_ports: list[int]) -> list[str]:
    """What each sentinel says about the primary now, for an error message: its address and
    flags, or why it did not answer."""
    out = []
    for port in sentinel_ports:
        try:
            with _client(port) as s:
                info = s.execute_command("SENTINEL", "MASTER", MASTER_NAME)
        except redis.RedisError as exc:
            out.append(f":{port} {type(exc).__name__}")
            continue
        fields = dict(zip(info[::2], info[1::2], strict=False)) if isinstance(info, list) else info
        out.append(
            f":{port} says {fields.get('ip')}:{fields.get('port')} ({fields.get('flags')}, "
            f"failover {fields.get('failover-state', 'none')})"
        )
    return out


def ready(sentinel_ports: list[int]) -> bool:
    """Every sentinel knows the primary, its replicas and the other sentinels."""
    for port in sentinel_ports:
        try:
            with _client(port) as s:
                info = s.execute_command("SENTINEL", "MASTER", MASTER_NAME)
        except redis.RedisError:
            return False
        fields = dict(zip(info[::2], info[1::2], strict=False)) if isinstance(info, list) else info
        if (
            "s_down" in fields.get("flags", "s_down")
            or int(fields.get("num-slaves", 0)) < REPLICAS
            or int(fields.get("num-other-sentinels", 0)) < SENTINELS - 1
        ):
            return False
    return True


def healthy_replicas(sentinel_ports: list[int]) -> int:
    """Replicas every sentinel sees up and linked to the primary (none: no failover possible)."""
    counts = []
    for port in sentinel_ports:
        try:
            with _client(port) as s:
                rows = s.execute_command("SENTINEL", "REPLICAS", MASTER_NAME)
        except redis.RedisError:
            return 0
        counts.append(sum(1 for row in rows if _replica_ok(row)))
    return min(counts, default=0)


def _replica_ok(row) -> bool:
    fields = dict(zip(row[::2], row[1::2], strict=False)) if isinstance(row, list) else row
    flags = str(fields.get("flags", ""))
    return (
        "s_down" not in flags
        and "disconnected" not in flags
        and (fields.get("master-link-status") in ("ok", None))
    )


def failover(sentinel_ports: list[int]) -> None:
    """A planned switch: one sentinel promotes a replica (SENTINEL FAILOVER)."""
    errors = []
    for port in sentinel_ports:
        try:
            with _client(port) as s:
                s.execute_command("SENTINEL", "FAILOVER", MASTER_NAME)
                return
        except redis.RedisError as exc:
            errors.append(f":{port} {exc}")
    raise LabError("no sentinel accepted the failover: " + "; ".join(errors))


def replication(port: int) -> dict[str, str]:
    """INFO replication of one node (role, offsets, connected replicas); {} if it is down."""
    try:
        with _client(port) as r:
            return {k: str(v) for k, v in r.info("replication").items()}
    except redis.RedisError:
        return {}
