"""The report's sentences for sections 5-9: the memory store behind a balancer, failures,
scaling, the store's distance and failover. Each builder takes the results and returns
sentences, empty when its section did not run; the scaling section ranks only what its trials
separate (`ranking`).
"""

from __future__ import annotations

import os
from typing import Any

from ..experiments.failover import case_name, cases
from .ranking import Verdict, compare
from .text_common import Results, Sentences, join, pct, quiet
from .text_verdicts import distance_verdict, failover_verdict

# --- 5. the memory store ---------------------------------------------------------------------


@quiet
def memory_store_question(results: Results) -> Sentences:
    """Section 5's question."""
    rows = results.get("memory_store") or []
    if not rows:
        return []
    return [
        f"Sessions kept in one replica's memory, behind a balancer over {rows[0]['replica_count']}"
        " replicas: how many of a logged-in client's requests are refused?"
    ]


@quiet
def memory_store_reading(results: Results) -> Sentences:
    """The refusal rate expected from the replica count, against the measured one."""
    rows = results.get("memory_store") or []
    if not rows:
        return []
    n = rows[0]["replica_count"]
    rr = next((r for r in rows if r["setup"] == "memory + roundrobin"), None)
    out = []
    if rr is not None and n:
        out.append(
            f"With {n} replicas and round-robin, a request reaches the replica holding the "
            f"session about 1 time in {n}, so about {100 * (n - 1) / n:.0f}% should be refused: "
            f"this run refused {pct(rr['failure_rate'])}."
        )
    others = [f"{r['setup']} {pct(r['failure_rate'])}" for r in rows if r is not rr]
    if others:
        out.append(f"The cures, and the JWT server as a control: {join(others)}.")
    return out


# --- 6. failures -----------------------------------------------------------------------------


@quiet
def failures_question(results: Results) -> Sentences:
    """Section 6's question."""
    if not results.get("failures"):
        return []
    return ["What do logged-in users get when Redis stops for a moment, or a replica dies?"]


def _fault_sentence(f: dict[str, Any]) -> str:
    phases = {(p["server"], p["phase"]): p for p in f.get("phases") or []}
    parts = [
        f"{s} ({(f.get('modes') or {}).get(s, '?')}) "
        f"{pct(phases[(s, 'during')]['error_rate'])} errors during, "
        f"{pct(phases[(s, 'after')]['error_rate'])} after"
        for s in f.get("servers") or []
        if (s, "during") in phases and (s, "after") in phases
    ]
    what = {"redis": "Redis stopped", "replica": "One replica of each server killed"}
    return f"{what.get(f['fault'], f['fault'])}: {'; '.join(parts)}."


@quiet
def failures_reading(results: Results) -> Sentences:
    """How to read the fault plots, with each server's error rates."""
    failures = results.get("failures") or []
    if not failures:
        return []
    return [
        "Each line is the share of one server's requests that failed, per quarter second; the "
        "red band is the fault, the grey one the restart.",
        *(_fault_sentence(f) for f in failures),
    ]


# --- 7. scaling ------------------------------------------------------------------------------


@quiet
def scaling_question(results: Results) -> Sentences:
    """Section 7's question."""
    if not results.get("scaling"):
        return []
    return [
        f"On this {os.cpu_count()}-core machine, does adding replicas add throughput, and which "
        "server answers more requests per second?"
    ]


def _point(row: dict[str, Any]) -> str:
    return (
        f"{row['server']} with {row['replicas']} replica(s) {row['rps']:.0f} requests/s "
        f"(trials {row.get('rps_low', row['rps']):.0f}-{row.get('rps_high', row['rps']):.0f})"
    )


def _verdict(v: Verdict) -> str:
    if v.distinguishable:
        return (
            f"{_point(v.ahead)} against {_point(v.behind)}: ahead by "
            f"{v.ahead['rps'] - v.behind['rps']:.0f} requests/s, more than the trials differed."
        )
    return (
        f"{_point(v.ahead)} against {_point(v.behind)}: not distinguishable at this scale (the "
        "trials' spread covers the difference)."
    )


@quiet
def scaling_reading(results: Results) -> Sentences:
    """Rankings the trials support, or a plain 'not distinguishable at this scale'."""
    rows = results.get("scaling") or []
    if not rows:
        return []
    trials = max(r.get("trials", 1) for r in rows)
    out = [
        f"Each point is the median of {trials} short run(s), the bar their range; an order is "
        "only stated when every run of one beat every run of the other by more than either's "
        "runs differed."
    ]
    at = {(r["replicas"], r["server"]): r for r in rows}
    counts = sorted({r["replicas"] for r in rows})
    servers = list(dict.fromkeys(r["server"] for r in rows))
    for n in counts:
        if len(servers) == 2 and all((n, s) in at for s in servers):
            out.append(_verdict(compare(at[(n, servers[0])], at[(n, servers[1])])))
    for s in servers:
        if (counts[0], s) in at and (counts[-1], s) in at and counts[0] != counts[-1]:
            out.append(_verdict(compare(at[(counts[0], s)], at[(counts[-1], s)])))
    return out


# --- 8 and 9. the store's distance, and failover ---------------------------------------------


@quiet
def distance_question(results: Results) -> Sentences:
    """Section 8's question."""
    if not results.get("distance"):
        return []
    return ["How far away can Redis be before a store round trip costs more than a signature?"]


@quiet
def distance_reading(results: Results) -> Sentences:
    """The signature check's cost against the store round trip, from this run."""
    d = results.get("distance") or {}
    if not d:
        return []
    sig = d.get("signature_check_us")
    crossing = (d.get("crossover") or {}).get("distance_ms")
    out = []
    if sig is not None:
        out.append(f"Checking a JWT's signature cost {sig:.0f} µs here.")
    if crossing is not None:
        out.append(
            f"A store round trip costs more than that from {crossing:g} ms of added distance: "
            "right of the dotted line the stateless JWT is cheaper per request."
        )
    return out + distance_verdict(results)


@quiet
def failover_question(results: Results) -> Sentences:
    """Section 9's question."""
    if not results.get("failover"):
        return []
    return ["When the Redis primary crashes and a replica takes over, what comes undone?"]


@quiet
def failover_reading(results: Results) -> Sentences:
    """Per replica lag and durability: the replica's state at the crash, what was undone, and
    whether that is what we expected (the same verdict notebook 07 prints)."""
    runs = (results.get("failover") or {}).get("runs") or []
    if runs and all("sync" in run for run in runs):
        return failover_verdict(results)
    return _failover_counts(results)  # a result saved before the offsets were recorded


def _failover_counts(results: Results) -> Sentences:
    rows = (results.get("failover") or {}).get("rows") or []
    out = []
    for _lag, durability, mine in cases(rows):
        lost = sum(r["revocations_lost"] for r in mine)
        confirmed = sum(r["revocations_confirmed"] for r in mine)
        out.append(
            f"{case_name(mine[0]).capitalize()}, REVOCATION_DURABILITY={durability}: {lost} of "
            f"{confirmed} revocations answered revoked: true were undone by the failover "
            f"(logged-out credentials that worked again), "
            f"{sum(r['logins_lost'] for r in mine)} logins lost; up to "
            f"{max(r['error_window_s'] for r in mine):.1f} s of errors (the replica's offsets "
            "at the crash were not recorded, so the losses cannot be explained)."
        )
    return out
