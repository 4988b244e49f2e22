"""Can we have both? Push mode (and the cached session store) measured beside the others.

Five measurements, each from real processes:
- `race`: the revocation window per replica from the attacker's side. One attacker thread per
  replica hammers it *directly* (no balancer, no pause) with a stolen copy while the victim
  revokes; per replica we keep the last request it still let in, measured from the revocation's
  answer (`window_ms`: what the API's `revoked` must answer for) and from when the revocation
  was sent (`exposure_ms`: how long the news took to arrive);
- `round_trips`: store commands per authenticated request, counted by Redis (INFO
  commandstats), with the background traffic of an equally long idle period subtracted;
- `memory`: bytes per revoked token and per revoked user, in a replica's memory (tracemalloc)
  and in Redis (MEMORY USAGE), for push and for the denylist;
- `warmup`: what a (re)starting replica pays to read the stream before it trusts its memory;
- `outage`: what each replica answers, every 50 ms, across a Redis outage longer than the bound.

    python -m lab.experiments.push            # quick scale, prints the tables, stamped
    AUTHLAB_SCALE=full python -m lab.experiments.push --json push.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
import tracemalloc
from datetime import datetime
from typing import Any

import redis

from ..api import Lab
from ..redis_server import RedisProcess
from ..stamp import stamp as lab_stamp
from .actors import Client, probe, register
from .display import text_table
from .labs import LabPool
from .revocation import perform_action
from .scale import Scale, get_scale

#: (name, server, lab settings): the configurations compared.
CONFIGS = (
    ("session redis", "session", {"session_store": "redis"}),
    ("session cached", "session", {"session_store": "cached"}),
    ("jwt stateless", "jwt", {"jwt_mode": "stateless"}),
    ("jwt denylist", "jwt", {"jwt_mode": "denylist"}),
    ("jwt refresh", "jwt", {"jwt_mode": "refresh"}),
    ("jwt push", "jwt", {"jwt_mode": "push"}),
)
#: Configurations whose window is an access token's lifetime: a couple of trials say it.
SLOW = {"jwt stateless", "jwt refresh"}
#: Seconds to keep hammering after a `revoked: true` (it should be refused at once).
SETTLE = 0.5


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


# --- the revocation window -------------------------------------------------------------------


def _hammer(client: Client, base: str, stop: threading.Event, seen: list) -> None:
    """Ask one replica again and again; record (sent, status) pairs."""
    while not stop.is_set():
        sent = time.perf_counter()
        seen.append((sent, probe(client, base=base)["status"]))


def race(lab: Lab, server: str, action: str = "logout", max_watch: float = 10.0) -> list[dict]:
    """One trial: steal, hammer every replica directly, revoke, and time each replica."""
    url = lab.url(server)
    account = register(url, "victim")
    victim = Client(url, "victim", obeys_expiry=False)
    victim.login(account)
    stop = threading.Event()
    seen: dict[str, list] = {}
    threads = []
    for rep in (r for r in lab.replicas(server) if r.running):
        seen[rep.replica_id] = []
        thief = victim.steal(f"attacker-{rep.replica_id}")
        thread = threading.Thread(
            target=_hammer, args=(thief, rep.url, stop, seen[rep.replica_id]), daemon=True
        )
        threads.append(thread)
        thread.start()
    time.sleep(0.1)  # every attacker is in, and its copy works
    sent = time.perf_counter()
    answer, _ = perform_action(lab, server, action, victim, account)
    answered = time.perf_counter()
    watch = SETTLE
    if answer.get("valid_until"):
        left = datetime.fromisoformat(answer["valid_until"]).timestamp() - time.time()
        watch = min(max_watch, max(SETTLE, left + SETTLE))
    time.sleep(watch)
    stop.set()
    for thread in threads:
        thread.join(5)
    victim.close()
    return [_window(rid, rows, sent, answered, answer) for rid, rows in seen.items()]


def _window(rid: str, rows: list, sent: float, answered: float, answer: dict) -> dict[str, Any]:
    """One replica's verdict: the last request it let in, after the revocation."""
    accepted = [t for t, status in rows if status == 200 and t >= sent]
    last = max(accepted, default=None)
    return {
        "replica": rid,
        "revoked": answer.get("revoked"),
        "answer_ms": round((answered - sent) * 1000, 2),
        "window_ms": round(max(0.0, (last - answered) * 1000), 2) if last else 0.0,
        "exposure_ms": round((last - sent) * 1000, 2) if last else 0.0,
        "probes": len(rows),
        "refused_at_end": bool(rows) and rows[-1][1] != 200,
    }


def windows(pool: LabPool, trials: int, progress=print) -> list[dict[str, Any]]:
    """Every configuration: `trials` races (2 for the token-lifetime ones), one row each."""
    rows = []
    for name, server, settings in CONFIGS:
        rows += config_windows(pool, name, server, settings, trials, progress)
    return rows


def config_windows(
    pool: LabPool, name: str, server: str, settings: dict, trials: int, progress=print
) -> list[dict[str, Any]]:
    """`trials` races on one configuration (2 when the window is a token's lifetime)."""
    lab = pool.get(server, **settings)
    n = min(2, trials) if name in SLOW else trials
    progress(f"push: {name}: {n} revocation race(s)")
    rows = []
    for trial in range(n):
        for row in race(lab, server, max_watch=pool.scale.max_watch):
            rows.append({"config": name, "trial": trial, **row})
    return rows


def window_summary(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """p50 / p99 / max per configuration, over every trial and replica."""
    out = []
    for name, _, _ in CONFIGS:
        mine = [r for r in rows if r["config"] == name]
        if not mine:
            continue
        window = [r["window_ms"] for r in mine]
        exposure = [r["exposure_ms"] for r in mine]
        out.append(
            {
                "config": name,
                "samples": len(mine),
                "revoked_true": sum(1 for r in mine if r["revoked"]) / len(mine),
                "window_p50_ms": percentile(window, 50),
                "window_p99_ms": percentile(window, 99),
                "window_max_ms": max(window),
                "exposure_p50_ms": percentile(exposure, 50),
                "exposure_max_ms": max(exposure),
                "answer_p50_ms": statistics.median(r["answer_ms"] for r in mine),
            }
        )
    return out


# --- round trips --------------------------------------------------------------------------


def _commands(client: redis.Redis) -> dict[str, int]:
    stats = client.info("commandstats")
    return {k.removeprefix("cmdstat_"): v["calls"] for k, v in stats.items()}


def _delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    delta = {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}
    delta.pop("info", None)
    return delta


def round_trips(lab: Lab, server: str, requests_per_replica: int = 100) -> dict[str, Any]:
    """Redis commands per accepted authenticated request (each replica asked directly), minus
    what Redis saw in an idle period as long (push-fed replicas read and acknowledge anyway).

    Redis counts the commands a script runs too: the session store's one EVALSHA (one round
    trip) shows as evalsha + get + pexpire. `by_command` keeps them apart."""
    url = lab.url(server)
    client = Client(url, "user")
    client.login(register(url, "trips"))
    client.get("/auth/me")
    bases = [r.url for r in lab.replicas(server) if r.running]
    for base in bases:  # the first request on a replica may open its connection
        client.get("/auth/me", base=base)
    counter = redis.Redis(port=lab.redis_port, decode_responses=True, socket_timeout=2)
    before, started = _commands(counter), time.perf_counter()
    answers = []
    for _ in range(requests_per_replica):
        for base in bases:
            answers.append(probe(client, base=base))
    busy, elapsed = _delta(before, _commands(counter)), time.perf_counter() - started
    before = _commands(counter)
    time.sleep(elapsed)
    idle = _delta(before, _commands(counter))
    client.close()
    ok = [a for a in answers if a["status"] == 200]
    if not ok:
        raise RuntimeError(f"round trips on {server}: no request was accepted")
    n = len(ok)
    by_command = {
        name: round((busy.get(name, 0) - idle.get(name, 0)) / n, 3)
        for name in sorted(set(busy) | set(idle))
    }
    return {
        "accepted": n,
        "commands_per_request": round(max(0.0, sum(by_command.values())), 3),
        "by_command": {k: v for k, v in by_command.items() if v},
        "while_idle": idle,
        "server_timing_store": round(statistics.mean(a["store"] or 0 for a in ok), 3),
    }


def round_trip_table(pool: LabPool, progress=print) -> list[dict[str, Any]]:
    """`round_trips` for every configuration."""
    rows = []
    for name, server, settings in CONFIGS:
        progress(f"push: {name}: round trips")
        lab = pool.get(server, **long_lived(server, settings))
        rows.append({"config": name, **round_trips(lab, server)})
    return rows


#: Access-token lifetime (s) for measurements that need a credential to outlive them.
LONG_TTL = 60


def long_lived(server: str, settings: dict[str, Any]) -> dict[str, Any]:
    """`settings`, with JWTs that outlive a measurement (the quick scale's live 2 s)."""
    return {**settings, "access_ttl": LONG_TTL} if server == "jwt" else settings


# --- memory --------------------------------------------------------------------------------


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


# --- warm-up -------------------------------------------------------------------------------


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


# --- a Redis outage ------------------------------------------------------------------------


def outage(lab: Lab, server: str, down: float, after: float, interval: float = 0.05) -> list:
    """Every replica, asked directly every `interval` s: before, during and after an outage."""
    url = lab.url(server)
    client = Client(url, "user")
    client.login(register(url, "outage"))
    bases = [(r.replica_id, r.url) for r in lab.replicas(server) if r.running]
    timeline = []
    t0 = time.perf_counter()

    def sample(phase: str, until: float) -> None:
        while time.perf_counter() - t0 < until:
            for rid, base in bases:
                status = probe(client, base=base)["status"]
                timeline.append(
                    {
                        "t": time.perf_counter() - t0,
                        "replica": rid,
                        "phase": phase,
                        "status": status,
                    }
                )
            time.sleep(interval)

    sample("before", 0.5)
    lab.redis_stop()
    # Time 0 is when the stop returned (Redis has exited): the bound counts from before it.
    stopped = time.perf_counter() - t0
    sample("down", stopped + down)
    lab.redis_start()
    restarted = time.perf_counter() - t0
    sample("after", restarted + after)
    client.close()
    for row in timeline:
        row["t_since_stop"] = round(row["t"] - stopped, 3)
    return timeline


def outage_table(pool: LabPool, progress=print) -> dict[str, list]:
    """`outage` for the configurations whose answer to a Redis outage differs."""
    out = {}
    scale = pool.scale
    down = max(scale.fault_seconds, 2.5)  # longer than the push bound (2 s by default)
    for name, server, settings in CONFIGS:
        if name in SLOW and name != "jwt stateless":
            continue
        progress(f"push: {name}: Redis outage of {down:g} s")
        lab = pool.get(server, **long_lived(server, settings))
        out[name] = outage(lab, server, down, scale.fault_after)
    return out


def _statuses(statuses: list[int]) -> dict[int, int]:
    """How many of each status."""
    return {s: statuses.count(s) for s in sorted(set(statuses))}


def outage_summary(timelines: dict[str, list]) -> list[dict[str, Any]]:
    """Per configuration: what was answered while Redis was down, and when 200s stopped."""
    rows = []
    for name, timeline in timelines.items():
        down = [r for r in timeline if r["phase"] == "down"]
        served = [r["t_since_stop"] for r in down if r["status"] == 200]
        after = [r["status"] for r in timeline if r["phase"] == "after"]
        rows.append(
            {
                "config": name,
                "while down": _statuses([r["status"] for r in down]),
                "last 200 after stop (s)": max(served, default=None),
                "after restart": _statuses(after),
            }
        )
    return rows


# --- everything, printed -------------------------------------------------------------------


def study(pool: LabPool, progress=print) -> dict[str, Any]:
    """Every measurement of the lesson at the pool's scale."""
    scale: Scale = pool.scale
    result: dict[str, Any] = {"run": stamp(scale), "windows": [], "round_trips": [], "outage": {}}
    down = max(scale.fault_seconds, 2.5)  # longer than the push bound (2 s by default)
    for name, server, settings in CONFIGS:
        # One lab configuration after the other: each restarts one server, once or twice.
        result["windows"] += config_windows(pool, name, server, settings, scale.probes, progress)
        lab = pool.get(server, **long_lived(server, settings))
        progress(f"push: {name}: round trips, then a Redis outage of {down:g} s")
        result["round_trips"].append({"config": name, **round_trips(lab, server)})
        if name != "jwt refresh":  # its access tokens behave as stateless ones there
            result["outage"][name] = outage(lab, server, down, scale.fault_after)
    result["memory"] = memory(5000 if scale.name == "quick" else 50000)
    result["warmup"] = warmup((0, 1000, 10000) if scale.name == "quick" else (0, 10000, 100000))
    result["restart"] = restart_warmup(pool)
    return result


def stamp(scale: Scale) -> dict[str, Any]:
    """Which commit, when, on what machine (lab.stamp), and at which scale."""
    return {**lab_stamp(), "scale": scale.name, "replicas": scale.replicas}


def print_study(result: dict[str, Any]) -> None:
    """The tables, for people."""
    run = result["run"]
    print(f"\ncommit {run['commit']}, {run['date']}, {run['machine']}, scale {run['scale']}")
    print("\nRevocation window per replica (attacker on each replica directly; ms)")
    print(text_table(window_summary(result["windows"])))
    print("\nStore commands per authenticated request (Redis INFO commandstats, idle subtracted)")
    cols = ["config", "accepted", "commands_per_request", "by_command", "server_timing_store"]
    print(text_table(result["round_trips"], cols))
    print("\nMemory per revocation (bytes)")
    print(text_table(result["memory"]))
    print("\nWarm-up: reading the stream before a replica trusts its memory")
    print(text_table(result["warmup"]))
    print(f"restart of jwt-1 in a lab: {result['restart']}")
    print("\nA Redis outage longer than the bound")
    print(text_table(outage_summary(result["outage"])))


def main(argv: list[str] | None = None) -> int:
    """`python -m lab.experiments.push`: run the study on a private lab and print it."""
    parser = argparse.ArgumentParser(prog="python -m lab.experiments.push", description=__doc__)
    parser.add_argument("--json", help="also write the raw results to this file")
    args = parser.parse_args(argv)
    with LabPool(get_scale(), log=print) as pool:
        result = study(pool)
    print_study(result)
    if args.json:
        with open(args.json, "w") as out:
            json.dump(result, out, indent=1, default=str)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
