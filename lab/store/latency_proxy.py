"""A latency proxy: Redis "across a network" on one machine, where `tc netem` is not available.

    python -m lab.store.latency_proxy --route 7001:6379 --latency 1ms:0.2ms

Each route listens on 127.0.0.1:LISTEN and relays every connection to 127.0.0.1:UPSTREAM. Bytes
are relayed exactly as they come, in order (pipelines, Lua, pub/sub: Redis never knows), but each
chunk is held back before it is passed on: half the round-trip latency on the way there, half on
the way back, so one request/answer round trip costs at least LATENCY more. With jitter J each
direction adds a random extra between 0 and J/2 (never below the base: a network is never faster
than its distance), and a chunk never overtakes the one before it (TCP keeps order).

With `--replication-lag L` a connection on which the client sends PSYNC (a Redis replica
syncing from the primary behind this route) also holds the primary's stream back by L: a replica
that lags. When the primary goes away, what was still held is dropped, not delivered: it was
still in the primary's output buffer, and a crashed host takes that with it. That is how
asynchronous replication loses acknowledged writes, and what the failover experiment measures.

With `--control FILE`, SIGUSR1 makes the proxy read the rules of its gate from FILE: a network
partition, by kind of connection (the servers, the sentinels, a replica): lab/chaos/gate.py.

Why `select` and not epoll: asyncio's default selector sleeps in whole milliseconds, which would
turn a 0.2 ms delay into 1 ms; `select()` takes microseconds. At 0 ms nothing is queued: a chunk
is written the moment it is read, so the proxy's own cost can be measured (latency_cost.py).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import selectors
import signal
from collections.abc import Sequence
from pathlib import Path

from ..engine.durations import Latency
from .gate import Gate, Link, read_rules

#: How a replica's request for the primary's stream begins (RESP: PSYNC replid offset).
PSYNC = b"*3\r\n$5\r\nPSYNC\r\n"


class _Direction:
    """One direction of one connection: chunks wait in order until their release time."""

    def __init__(self, loop: asyncio.AbstractEventLoop, latency: Latency):
        self.loop = loop
        self.latency = latency
        self.target: asyncio.Transport | None = None
        self.queue: collections.deque[tuple[float, bytes]] = collections.deque()
        self.last_release = 0.0
        self.timer: asyncio.TimerHandle | None = None
        self.eof = False
        #: Extra one-way delay of a lagging replica's stream (see `lag`); 0 otherwise.
        self.extra = 0.0

    def lag(self, seconds: float) -> None:
        """Hold everything back `seconds` more from now on; if the sender goes away, drop what
        is still held (a crashed primary's unsent replication stream)."""
        self.extra = seconds

    def push(self, data: bytes) -> None:
        """Pass `data` on after its delay (at once when there is no delay and no backlog)."""
        delay = self.latency.delay or self.latency.jitter or self.extra
        if not delay and not self.queue and self.target:
            self.target.write(data)
            return
        release = max(self.last_release, self.loop.time() + self.latency.one_way() + self.extra)
        self.last_release = release
        self.queue.append((release, data))
        self._schedule()

    def finish(self) -> None:
        """The sender is done: close the target once everything queued is delivered (or at
        once, dropping the queue, for a lagging replica's stream)."""
        self.eof = True
        if self.extra:
            self.queue.clear()
            if self.target is not None:
                self.target.close()
            return
        self._schedule()

    def _schedule(self) -> None:
        if self.timer is None and self.target is not None:
            when = self.queue[0][0] if self.queue else self.loop.time()
            self.timer = self.loop.call_at(when, self._flush)

    def _flush(self) -> None:
        self.timer = None
        target = self.target
        if target is None or target.is_closing():
            self.queue.clear()
            return
        now = self.loop.time()
        while self.queue and self.queue[0][0] <= now:
            target.write(self.queue.popleft()[1])
        if self.queue:
            self._schedule()
        elif self.eof:
            target.close()


class _Side(asyncio.Protocol):
    """One socket of a relayed connection (the client's or Redis's)."""

    def __init__(
        self,
        outgoing: _Direction,
        incoming: _Direction,
        replication_lag: float = 0.0,
        link: Link | None = None,
        up: bool = False,
    ):
        self.outgoing = outgoing  # what this side sends, on its way to the other side
        self.incoming = incoming  # what the other side sends, to be written here
        self.transport: asyncio.Transport | None = None
        #: On the client's side of a route with --replication-lag: the lag, until PSYNC shows.
        self.replication_lag = replication_lag
        #: The connection as the gate sees it (a partition); `up`: this is the client's side.
        self.link = link
        self.up = up

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.incoming.target = transport
        if self.link is not None:
            self.link.transports.append(transport)
        if self.incoming.queue or self.incoming.eof:
            self.incoming._schedule()  # noqa: SLF001 (same module)

    def data_received(self, data: bytes) -> None:
        if self.replication_lag and data.startswith(PSYNC):
            # A replica asks for the primary's stream: from here on it lags.
            self.incoming.lag(self.replication_lag)
            self.replication_lag = 0.0
        if self.link is not None and self.link.stopped(data, self.up, self.outgoing):
            return
        self.outgoing.push(data)

    def eof_received(self) -> bool:
        self.outgoing.finish()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if self.link is not None:
            self.link.close()
        self.outgoing.finish()


class Route:
    """Relays LISTEN -> UPSTREAM with the given latency."""

    def __init__(
        self,
        listen: int,
        upstream: int,
        latency: Latency,
        host: str = "127.0.0.1",
        replication_lag: float = 0.0,
    ):
        self.listen = listen
        self.upstream = upstream
        self.latency = latency
        self.host = host
        self.replication_lag = replication_lag
        self.server: asyncio.Server | None = None
        self.gate = Gate()

    async def start(self) -> None:
        """Listen for clients."""
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(
            lambda: self._client_side(loop), self.host, self.listen, reuse_address=True
        )

    def _client_side(self, loop: asyncio.AbstractEventLoop) -> _Side:
        to_redis = _Direction(loop, self.latency)
        to_client = _Direction(loop, self.latency)
        link = self.gate.open()
        side = _Side(to_redis, to_client, self.replication_lag, link, up=True)
        loop.create_task(self._connect_upstream(loop, side, to_redis, to_client))
        return side

    async def _connect_upstream(
        self, loop: asyncio.AbstractEventLoop, client: _Side, to_redis, to_client
    ) -> None:
        try:
            await loop.create_connection(
                lambda: _Side(to_client, to_redis, link=client.link), self.host, self.upstream
            )
        except OSError:
            # Redis is down: the client sees its connection closed, as with a dead host.
            if client.transport is not None:
                client.transport.close()

    def close(self) -> None:
        """Stop listening (open connections end with the process)."""
        if self.server is not None:
            self.server.close()


def new_event_loop() -> asyncio.AbstractEventLoop:
    """An event loop whose timers are precise to microseconds (select), not milliseconds."""
    return asyncio.SelectorEventLoop(selectors.SelectSelector())


def apply_control(routes: Sequence[Route], control: Path) -> None:
    """SIGUSR1: read the gate's rules from `control` and apply them, route by route."""
    try:
        rules = read_rules(control)
    except (OSError, ValueError, KeyError) as exc:
        print(f"ignoring {control}: {exc}", flush=True)
        return
    for route in routes:
        route.gate.apply(rules.get(route.listen, []))
    print(f"gate: {rules or 'open'}", flush=True)


async def serve(routes: Sequence[Route], control: Path | None = None) -> None:
    """Run the routes until SIGTERM or SIGINT (SIGUSR1 re-reads `control`)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if control is not None:
        loop.add_signal_handler(signal.SIGUSR1, apply_control, routes, control)
    for route in routes:
        await route.start()
        lag = f", replicas lag {route.replication_lag * 1000:g}ms" if route.replication_lag else ""
        print(f"relaying 127.0.0.1:{route.listen} -> :{route.upstream} (+{route.latency}{lag})")
    await stop.wait()
    for route in routes:
        route.close()


def _route(text: str) -> tuple[int, int]:
    listen, sep, upstream = text.partition(":")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected LISTEN:UPSTREAM ports, got {text!r}")
    return int(listen), int(upstream)


def _one_delay(text: str) -> float:
    """A delay without jitter, in seconds (`--replication-lag`)."""
    try:
        return Latency.parse_delay(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m lab.store.latency_proxy --route LISTEN:UPSTREAM ... --latency 1ms[:JITTER]`."""
    parser = argparse.ArgumentParser(prog="python -m lab.store.latency_proxy", description=__doc__)
    parser.add_argument("--route", type=_route, action="append", required=True)
    parser.add_argument("--latency", type=Latency.parse, default=Latency())
    parser.add_argument(
        "--replication-lag",
        type=_one_delay,
        default=0.0,
        help="hold a replica's stream from the primary back this much more (e.g. 100ms)",
    )
    parser.add_argument(
        "--control", type=Path, help="the gate's rules (a partition), re-read on SIGUSR1"
    )
    args = parser.parse_args(argv)
    routes = [
        Route(listen, upstream, args.latency, replication_lag=args.replication_lag)
        for listen, upstream in args.route
    ]
    loop = new_event_loop()
    try:
        loop.run_until_complete(serve(routes, args.control))
    finally:
        loop.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
