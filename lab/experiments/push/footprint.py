"""What the revocations cost to keep: bytes per revoked token and per revoked user (a replica's
memory, by tracemalloc, and Redis, by MEMORY USAGE), and the warm-up a (re)starting replica pays
to read the stream before it trusts its memory."""

from __future__ import annotations

import time
import tracemalloc
from typing import Any

from ...store.redis_server import RedisProcess
from ..actors import Client, register
from ..labs import LabPool
from .configs import long_lived


def memory(n: int = 5000) -> list[dict[str, Any]]:
    """Bytes per revoked token / user: in a replica's memory (push) and in Redis (both)."""
    from servers.jwt_server.stores import RevocationState

    rows = []
    until = time.time() + 900
    for kind, fields in (
        ("token", lambda i: {"kind": "token", "jti": f"{i:022d}", "until": until}),
        ("user", lambda i: {"kind": "user", "uid": i, "cut": until - 900, "until": until}),
    ):
        tracemalloc.start()
        state = RevocationState()
        base = tracemalloc.get_traced_memory()[0]
        for i in range(n):
            # Fresh strings per entry, as parsed from Redis: what the state keeps is counted.
            state.apply(f"{i}-0", {k: str(v) for k, v in fields(i).items()})
        in_memory = (tracemalloc.get_traced_memory()[0] - base) / n
        tracemalloc.stop()
        rows.append({"what": f"revoked {kind}", "push: replica memory B": round(in_memory, 1)})
    stream, denylist = _redis_bytes(n)
    rows[0].update({"push: Redis stream B": stream[0], "denylist: Redis B": denylist[0]})
    rows[1].update({"push: Redis stream B": stream[1], "denylist: Redis B": denylist[1]})
    return rows


def _redis_bytes(n: int) -> tuple[tuple[float, float], tuple[float, float]]:
    """Redis bytes per entry: stream entries (push) and keys with a TTL (denylist)."""
    proc = RedisProcess()
    proc.start()
    try:
        r = proc.client()
        until = time.time() + 900
        out_stream, out_keys = [], []
        for kind in ("token", "user"):
            r.flushall()
            pipe = r.pipeline(transaction=False)
            for i in range(n):
                fields = (
                    {"kind": "token", "jti": f"{i:022d}", "until": until}
                    if kind == "token"
                    else {"kind": "user", "uid": i, "cut": until - 900, "until": until}
                )
                pipe.xadd("push:revocations", fields)
            pipe.execute()
            out_stream.append(round(r.memory_usage("push:revocations", samples=0) / n, 1))
            r.flushall()
            base = r.info("memory")["used_memory"]
            pipe = r.pipeline(transaction=False)
            for i in range(n):
                key = f"deny:{i:022d}" if kind == "token" else f"revoked-before:{i}"
                pipe.set(key, "1" if kind == "token" else repr(until - 900), ex=900)
            pipe.execute()
            out_keys.append(round((r.info("memory")["used_memory"] - base) / n, 1))
        return (out_stream[0], out_stream[1]), (out_keys[0], out_keys[1])
    finally:
        proc.close()


def warmup(sizes: tuple[int, ...] = (0, 1000, 10000)) -> list[dict[str, Any]]:
    """Seconds a starting replica spends reading a stream of n revocations before it trusts
    its memory (a real redis-server, a real feed reader; in process)."""
    from servers.core.push_feed import PushFeed
    from servers.jwt_server.stores import RevocationState

    proc = RedisProcess()
    proc.start()
    rows = []
    try:
        r = proc.client()
        until = time.time() + 900
        for n in sizes:
            r.flushall()
            pipe = r.pipeline(transaction=False)
            for i in range(n):
                pipe.xadd("push:revocations", {"kind": "token", "jti": f"{i:022d}", "until": until})
            pipe.execute()
            state = RevocationState()
            started = time.perf_counter()
            feed = PushFeed(
                proc.url, "push:revocations", state.apply, stale_after=2, ack_wait=1, horizon=960
            )
            feed.start()
            while not feed.fresh():
                time.sleep(0.002)
            seconds = time.perf_counter() - started
            feed.close()
            rows.append(
                {"revocations": n, "warmup_s": round(seconds, 4), "in_memory": len(state.tokens)}
            )
    finally:
        proc.close()
    return rows


def restart_warmup(pool: LabPool, revocations: int = 20) -> dict[str, Any]:
    """Log `revocations` users out, kill a push-mode replica and start it again: what its
    /health reports about its warm-up (the stream it read before trusting its memory)."""
    lab = pool.get("jwt", **long_lived("jwt", {"jwt_mode": "push"}))
    url = lab.url("jwt")
    for _ in range(revocations):
        user = Client(url, "user")
        user.login(register(url, "leaver"))
        user.post("/auth/logout")
        user.close()
    lab.kill_replica("jwt", 1)
    started = time.perf_counter()
    lab.start_replica("jwt", 1)
    rep = lab.replicas("jwt")[0]
    feed = Client(rep.url, "health").get("/health").json().get("feed", {})
    return {
        "restart_to_routed_s": round(time.perf_counter() - started, 2),
        "feed_warmup": feed.get("warmup"),
        "feed_state": feed.get("state"),
    }
