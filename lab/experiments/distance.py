"""How far away is your Redis? The same `/auth/me` load with the store 0 to 2 ms away.

On loopback a Redis round trip (~0.1 ms through redis-py) costs about what an HS256 signature
check costs, so "a session costs a round trip, a stateless JWT does not" barely shows. Real
deployments put Redis across a network. The lab's latency proxy (`--store-latency`) adds the
distance to every server's Redis connection; this experiment sweeps it and measures, per
mechanism and mode, `/auth/me` p50/p95 and throughput at a fixed concurrency, plus the store
round trip itself (redis-py PING) next to an in-process signature check: where the first
overtakes the second is the crossover.

Every point goes through the proxy, 0 ms included, so the distance is the only thing that
changes; the proxy's own cost is measured too (the 0 ms PING minus the direct one).
"""

from __future__ import annotations

import os
import statistics
import time
from typing import Any

import jwt
from matplotlib.figure import Figure

from ..engine.configuration import describe, lab_settings
from ..store.latency_cost import ping_round_trips
from ..store.topology import latency_of
from .actors import logged_in_cookies
from .labs import LabPool
from .load import Target, run_load, summarize
from .stats import median_difference, say_difference

#: Added round trips swept by the full study (ms).
DISTANCES_MS = (0.0, 0.2, 0.5, 1.0, 2.0)
QUICK_DISTANCES_MS = (0.0, 1.0)
#: (server, mode) pairs measured: a session, a JWT that never asks Redis, one that asks once.
CONFIGURATIONS = (("session", "redis"), ("jwt", "stateless"), ("jwt", "denylist"))

#: Where real deployments sit (added round trip, ms), with the source of each range.
DEPLOYMENTS = (
    {
        "where": "same host (loopback)",
        "low_ms": 0.03,
        "high_ms": 0.05,
        "source": "Redis latency docs: a Unix socket ~30 us; loopback ~40 us measured here",
    },
    {
        "where": "one 1 Gbit/s hop",
        "low_ms": 0.2,
        "high_ms": 0.2,
        "source": "Redis latency docs (redis.io/docs/latest/operate/oss_and_stack/management/"
        "optimization/latency/): 'a 1 Gbit/s network ... about 200 us'",
    },
    {
        "where": "same availability zone",
        "low_ms": 0.2,
        "high_ms": 0.5,
        "source": "published cloud measurements of intra-zone round trips",
    },
    {
        "where": "across availability zones",
        "low_ms": 0.5,
        "high_ms": 1.5,
        "source": "published cloud measurements of cross-zone round trips (0.25 to >3 ms per pair)",
    },
)


def latency_setting(ms: float) -> str:
    """The `--store-latency` value for an added round trip of `ms`."""
    return f"{ms:g}ms"


def signature_check_us(calls: int = 2000) -> float:
    """Median microseconds of one PyJWT HS256 decode with every claim checked, in process."""
    key = "k" * 48
    now = int(time.time())
    claims = {"sub": "1", "iat": now, "nbf": now, "exp": now + 600, "jti": "x" * 22}
    token = jwt.encode({**claims, "iss": "authlab", "aud": "authlab-api"}, key, "HS256")
    options = {"require": ["exp", "iat", "nbf", "sub", "jti", "iss", "aud"]}
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        jwt.decode(
            token, key, algorithms=["HS256"], audience="authlab-api", issuer="authlab",
            options=options,
        )  # fmt: skip
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1e6


def store_round_trip_us(lab, pings: int) -> dict[str, float]:
    """Median PING as the servers pay it (through the proxy) and as the lab's admin does."""
    state = lab.state
    through = ping_round_trips(state.ports["proxy-redis"], pings)
    direct = ping_round_trips(lab.redis_port, pings)
    return {
        "store_rtt_us": statistics.median(through) * 1e6,
        "direct_rtt_us": statistics.median(direct) * 1e6,
        # Every PING, so that the distance's own effect gets an interval (ping_effect).
        "store_rtt_samples_us": [round(t * 1e6, 1) for t in through],
    }


def ping_effect(round_trips: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The farthest distance's PING against the nearest's, with its interval: the distance
    itself, measured where nothing else runs (no server, no auth check)."""
    measured = [r for r in round_trips if r.get("store_rtt_samples_us")]
    if len(measured) < 2:
        return None
    near, far = measured[0], measured[-1]
    return {
        "from_ms": near["distance_ms"],
        "to_ms": far["distance_ms"],
        "pings": len(far["store_rtt_samples_us"]),
        **median_difference(near["store_rtt_samples_us"], far["store_rtt_samples_us"]),
    }


def _point(lab, server: str, mode: str, ms: float, seconds: float, threads: int, users: int):
    url = lab.url(server)
    samples = run_load([Target(server, url, logged_in_cookies(url, users))], seconds, threads)
    return {"server": server, "mode": mode, "distance_ms": ms, **summarize(samples, seconds)}


def _trial(lab, jwt_mode: str, ms: float, trial: int, load: dict[str, Any]) -> list[dict]:
    """Every configuration this lab serves at one distance, once."""
    rows = []
    for server, mode in CONFIGURATIONS:
        if server == "jwt" and mode != jwt_mode:
            continue
        if server == "session" and jwt_mode != CONFIGURATIONS[1][1]:
            continue  # the session server is measured once per distance and trial
        rows.append({**_point(lab, server, mode, ms, **load), "trial": trial})
    return rows


def distance_sweep(
    pool: LabPool,
    distances: tuple[float, ...] = QUICK_DISTANCES_MS,
    *,
    seconds: float = 1.0,
    threads: int = 4,
    users: int = 4,
    pings: int = 300,
    trials: int = 3,
) -> dict[str, Any]:
    """`/auth/me` under closed-loop load at each distance, per server and mode, `trials` times,
    the distances interleaved (0, 1, 1, 0, ...) so that the machine's load hits each alike; the
    effect of each distance with its interval; the crossover."""
    per_trial: list[dict[str, Any]] = []
    round_trips: list[dict[str, Any]] = []
    load = {"seconds": seconds, "threads": threads, "users": users}
    for jwt_mode in dict.fromkeys(mode for server, mode in CONFIGURATIONS if server == "jwt"):
        for trial in range(trials):
            order = distances if trial % 2 == 0 else tuple(reversed(distances))
            for ms in order:
                # Tokens that outlive the run: an expiring JWT would count as an error.
                lab = pool.get(jwt_mode=jwt_mode, store_latency=latency_setting(ms), access_ttl=600)
                per_trial += _trial(lab, jwt_mode, ms, trial, load)
                if jwt_mode == CONFIGURATIONS[1][1] and trial == 0:
                    round_trips.append({"distance_ms": ms, **store_round_trip_us(lab, pings)})
    round_trips.sort(key=lambda r: r["distance_ms"])
    lab = pool.lab
    signature = signature_check_us()
    return {
        "distances_ms": list(distances),
        "threads": threads,
        "seconds": seconds,
        "trials": trials,
        "latency_setting": str(latency_of(lab.config)) if lab is not None else None,
        "measured": describe(lab_settings(lab.config)) + " (the JWT mode and the store latency "
        "as each row says)"
        if lab is not None
        else None,
        "rows": aggregate(per_trial),
        "trial_rows": per_trial,
        "effects": effects(per_trial),
        "ping_effect": ping_effect(round_trips),
        "round_trips": round_trips,
        "signature_check_us": signature,
        "proxy_overhead_us": round_trips[0]["store_rtt_us"] - round_trips[0]["direct_rtt_us"]
        if round_trips and round_trips[0]["distance_ms"] == 0
        else None,
        "crossover": crossover(round_trips, signature),
        "deployments": list(DEPLOYMENTS),
        # A busy machine wakes the proxy late and the servers slowly: say how busy it was.
        "load_average": round(os.getloadavg()[0], 2),
    }


#: What each trial measured that a distance can move: the auth check's own time and round
#: trips (Server-Timing), the client's p50, and throughput.
MEASURES = ("auth_p50_ms", "store_round_trips", "p50_ms", "p95_ms", "rps", "errors")


def aggregate(per_trial: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per server/mode and distance: the median of its trials, and their count."""
    groups: dict[tuple[str, str, float], list[dict[str, Any]]] = {}
    for row in per_trial:
        groups.setdefault((row["server"], row["mode"], row["distance_ms"]), []).append(row)
    out = []
    for (server, mode, ms), rows in groups.items():
        point: dict[str, Any] = {"server": server, "mode": mode, "distance_ms": ms}
        for key in MEASURES:
            values = [r[key] for r in rows if r.get(key) is not None]
            point[key] = statistics.median(values) if values else None
        point["trials"] = len(rows)
        out.append(point)
    out.sort(key=lambda r: (r["server"], r["mode"], r["distance_ms"]))
    return out


def effects(per_trial: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per server/mode and distance past the nearest: what the distance changed, with the
    interval of each difference (auth check time, client p50, requests/s) over the trials."""
    out = []
    configs = dict.fromkeys((r["server"], r["mode"]) for r in per_trial)
    for server, mode in configs:
        mine = [r for r in per_trial if (r["server"], r["mode"]) == (server, mode)]
        near = min(r["distance_ms"] for r in mine)
        for ms in sorted({r["distance_ms"] for r in mine} - {near}):
            at = {d: [r for r in mine if r["distance_ms"] == d] for d in (near, ms)}
            out.append(
                {
                    "server": server,
                    "mode": mode,
                    "from_ms": near,
                    "to_ms": ms,
                    "store_round_trips": statistics.median(
                        [r["store_round_trips"] or 0 for r in at[ms]]
                    ),
                    **{
                        key: median_difference([r[key] for r in at[near]], [r[key] for r in at[ms]])
                        for key in ("auth_p50_ms", "p50_ms", "rps")
                    },
                }
            )
    return out


def crossover(round_trips: list[dict[str, Any]], signature_us: float) -> dict[str, Any]:
    """The added distance from which a store round trip costs more than a signature check.

    A round trip at distance d costs the direct (loopback) round trip plus d; the proxied points
    confirm it, but carry the proxy's own cost too, which a real network does not add. So the
    crossover is where `direct + d` passes the signature check: `signature - direct`, or 0 when
    a direct round trip already costs more.
    """
    if not round_trips:
        return {"distance_ms": None, "note": "no measurement"}
    direct = statistics.median(r["direct_rtt_us"] for r in round_trips)
    at_ms = max(signature_us - direct, 0.0) / 1000
    return {
        "distance_ms": round(at_ms, 3),
        "direct_rtt_us": round(direct, 1),
        "note": f"a Redis round trip costs {direct:.0f} us on loopback and an HS256 check "
        f"{signature_us:.0f} us, so the store is the dearer of the two from "
        f"{at_ms * 1000:.0f} us of added distance on",
    }


def _round(value: float | None) -> float | None:
    return round(value, 2) if value is not None else None


def effect_table(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Per server/mode: what the added distance changed, each difference with its interval."""
    return [
        {
            "server": e["server"],
            "mode": e["mode"],
            "distance": f"{e['from_ms']:g} -> {e['to_ms']:g} ms",
            "store round trips": e["store_round_trips"],
            "auth check p50": say_difference(e["auth_p50_ms"], "ms"),
            "client p50": say_difference(e["p50_ms"], "ms"),
            "req/s": say_difference(e["rps"], "req/s", 0),
        }
        for e in result.get("effects") or []
    ]


def distance_table(result: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per server/mode and distance, for people."""
    return [
        {
            "server": r["server"],
            "mode": r["mode"],
            "added RTT (ms)": r["distance_ms"],
            "trials": r.get("trials", 1),
            "auth check p50 (ms)": _round(r.get("auth_p50_ms")),
            "store round trips": _round(r.get("store_round_trips")),
            "p50 (ms)": round(r["p50_ms"], 2) if r["p50_ms"] is not None else None,
            "p95 (ms)": round(r["p95_ms"], 2) if r["p95_ms"] is not None else None,
            "req/s": round(r["rps"]) if r["rps"] is not None else None,
            "errors": r["errors"],
        }
        for r in result["rows"]
    ]


def plot(result: dict[str, Any]) -> Figure:
    """p50/p95 and throughput against distance per server/mode; round trip vs signature check."""
    fig = Figure(figsize=(12, 3.4), layout="constrained")
    lat, thr, rtt = fig.subplots(1, 3)
    for key in dict.fromkeys((r["server"], r["mode"]) for r in result["rows"]):
        mine = sorted(
            (r for r in result["rows"] if (r["server"], r["mode"]) == key),
            key=lambda r: r["distance_ms"],
        )
        xs = [r["distance_ms"] for r in mine]
        (line,) = lat.plot(xs, [r["p50_ms"] for r in mine], marker="o", label=f"{key[1]} p50")
        lat.plot(xs, [r["p95_ms"] for r in mine], ls="--", color=line.get_color(), alpha=0.6)
        thr.plot(xs, [r["rps"] for r in mine], marker="o", color=line.get_color(), label=key[1])
    trips = result["round_trips"]
    rtt.plot(
        [r["distance_ms"] for r in trips],
        [r["store_rtt_us"] for r in trips],
        marker="o",
        label="Redis round trip (PING)",
    )
    direct = result["crossover"].get("direct_rtt_us")
    if direct is not None:
        xs = [r["distance_ms"] for r in trips]
        rtt.plot(
            xs, [direct + x * 1000 for x in xs], ls="--", label="loopback round trip + distance"
        )
    rtt.axhline(result["signature_check_us"], color="#d62728", label="HS256 check (in process)")
    cross = result["crossover"]["distance_ms"]
    for ax in (lat, thr, rtt):
        if cross is not None:
            ax.axvline(cross, color="#999", ls=":", label="crossover")
        for band in result["deployments"][2:]:
            ax.axvspan(band["low_ms"], band["high_ms"], color="#ccc", alpha=0.15)
        ax.set_xlabel("round trip added to the store (ms)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    lat.set_ylabel("GET /auth/me latency (ms): p50 solid, p95 dashed")
    thr.set_ylabel("requests per second")
    rtt.set_ylabel("microseconds")
    lat.set_title("Latency")
    thr.set_title(f"Throughput ({result['threads']} clients, closed loop)")
    rtt.set_title("Store round trip vs signature check")
    for ax in (lat, thr, rtt):
        ax.set_ylim(bottom=0)
    return fig


def headline(result: dict[str, Any] | None) -> dict[str, Any]:
    """The numbers to quote: the crossover, and the cost of the proxy itself."""
    if not result:
        return {}
    return {
        "crossover_ms": result["crossover"]["distance_ms"],
        "crossover": result["crossover"]["note"],
        "signature_check_us": round(result["signature_check_us"], 1),
        "proxy_overhead_us": round(result["proxy_overhead_us"], 1)
        if result["proxy_overhead_us"] is not None
        else None,
    }
