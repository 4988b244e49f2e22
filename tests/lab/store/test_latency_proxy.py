"""The latency proxy: Redis sees exactly the bytes it would see directly, only later.

Each test starts its own proxy process in front of the suite's private Redis. Delays are checked
with a strict lower bound (a proxy must never be faster than its distance) and a generous upper
bound (this machine is shared and slow; speed belongs in `python -m lab redis proxy-cost`).
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from collections.abc import Iterator

import pytest
import redis

from lab.engine.processes import free_port
from lab.store.latency_cost import ping_round_trips, start_proxy, stop_proxy
from lab.store.latency_proxy import Latency, main
from tests.support.redis_proc import RedisProcess

#: Generous: a loaded 2-core machine may wake the proxy late, never early.
SLACK_S = 0.05


@pytest.fixture
def proxy(redis_server: RedisProcess) -> Iterator:
    """Start a proxy with a given latency in front of the private Redis; stopped by pid."""
    started = []

    def start(latency: str) -> redis.Redis:
        port = free_port()
        started.append(start_proxy(port, redis_server.port, latency))
        return redis.Redis(port=port, socket_timeout=5)

    yield start
    for proc in started:
        stop_proxy(proc)


@pytest.mark.parametrize(
    ("text", "delay", "jitter"),
    [("1ms", 0.001, 0.0), ("0.2ms:0.1ms", 0.0002, 0.0001), ("500us", 0.0005, 0.0), ("2", 0.002, 0)],
)
def test_latency_parses_delay_and_jitter(text, delay, jitter):
    parsed = Latency.parse(text)
    assert parsed.delay == pytest.approx(delay)
    assert parsed.jitter == pytest.approx(jitter)


@pytest.mark.parametrize("text", ["", "fast", "1ms:2ms:3ms", "-1ms", "2s"])
def test_latency_refuses_nonsense(text):
    with pytest.raises(ValueError):
        Latency.parse(text)


def test_a_round_trip_takes_the_configured_delay(proxy):
    client = proxy("2ms")
    times = ping_round_trips(client.connection_pool.connection_kwargs["port"], 50)
    assert min(times) >= 0.002  # never faster than the distance
    assert statistics.median(times) < 0.002 + SLACK_S


def test_jitter_only_ever_adds(proxy):
    client = proxy("1ms:2ms")
    times = ping_round_trips(client.connection_pool.connection_kwargs["port"], 60)
    assert min(times) >= 0.001
    assert max(times) - min(times) > 0.0002  # the delay varies
    assert statistics.median(times) < 0.003 + SLACK_S


def test_pipelines_and_binary_values_arrive_intact(proxy):
    client = proxy("0.2ms:0.2ms")
    values = {f"k{i}": os.urandom(i % 700 + 1) + b"\r\n*3\r\n$" for i in range(500)}
    pipe = client.pipeline(transaction=False)
    for key, value in values.items():
        pipe.set(key, value)
    assert all(pipe.execute())
    assert client.mget(list(values)) == list(values.values())
    big = os.urandom(1 << 20)  # 1 MiB: many chunks in each direction, in order
    assert client.echo(big) == big


def test_lua_and_transactions_pass_through(proxy):
    client = proxy("0.2ms")
    script = client.register_script("return redis.call('INCRBY', KEYS[1], ARGV[1])")
    assert [script(keys=["n"], args=[5]) for _ in range(3)] == [5, 10, 15]
    pipe = client.pipeline(transaction=True)
    pipe.incr("n").get("n")
    assert pipe.execute() == [16, b"16"]


def test_pubsub_messages_arrive_in_order(proxy, redis_server: RedisProcess):
    subscriber = proxy("0.5ms").pubsub()
    subscriber.subscribe("news")
    assert subscriber.get_message(timeout=5)["type"] == "subscribe"
    direct = redis_server.client()
    for i in range(50):
        direct.publish("news", str(i))
    got = []
    deadline = time.monotonic() + 10
    while len(got) < 50 and time.monotonic() < deadline:
        message = subscriber.get_message(timeout=1)
        if message and message["type"] == "message":
            got.append(int(message["data"]))
    subscriber.close()
    assert got == list(range(50))


def test_many_connections_at_once(proxy):
    client = proxy("0.2ms")
    port = client.connection_pool.connection_kwargs["port"]
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            own = redis.Redis(port=port, socket_timeout=5)
            for i in range(50):
                pipe = own.pipeline(transaction=False)
                pipe.rpush(f"list{n}", i).lindex(f"list{n}", -1)
                assert pipe.execute() == [i + 1, str(i).encode()]
            own.close()
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert [client.llen(f"list{n}") for n in range(20)] == [50] * 20


def test_a_dead_redis_closes_the_client_connection(proxy, redis_server: RedisProcess):
    client = proxy("0.2ms")
    assert client.ping()
    redis_server.stop()
    with pytest.raises(redis.ConnectionError):
        client.ping()


def test_the_lab_flags_name_the_distance_and_the_topology():
    from lab.cli.dispatch import build_parser, config_from_args

    args = build_parser().parse_args(
        ["up", "--store-latency", "500us:0.1ms", "--redis", "sentinel"]
    )
    config = config_from_args(args, None)
    assert config.store_latency == "0.5ms:0.1ms"
    assert config.redis_topology == "sentinel"
    kept = config_from_args(build_parser().parse_args(["up"]), config)
    assert (kept.store_latency, kept.redis_topology) == ("0.5ms:0.1ms", "sentinel")
    with pytest.raises(SystemExit):
        build_parser().parse_args(["up", "--store-latency", "far"])


def test_a_replica_lag_needs_a_replica():
    from lab.cli.dispatch import build_parser, config_from_args
    from lab.engine.state import LabError

    args = build_parser().parse_args(["up", "--redis", "sentinel", "--replication-lag", "200ms"])
    assert config_from_args(args, None).replication_lag == "200ms"
    lonely = config_from_args(build_parser().parse_args(["up", "--replication-lag", "200ms"]), None)
    with pytest.raises(LabError, match="--redis sentinel"):
        lonely.validate()


def test_a_replica_lag_is_one_delay_not_a_jitter():
    from lab.engine.state import LabConfig, LabError

    jittery = LabConfig(redis_topology="sentinel", replication_lag="200ms:10ms")
    with pytest.raises(LabError, match="one delay"):
        jittery.validate()
    with pytest.raises(SystemExit):
        main(["--route", "1:2", "--replication-lag", "200ms:10ms"])
