"""Verdicts: what we expected, what this run showed, and whether the expectation held.

Shared by the report (sections 8, 9 and 10) and the notebooks (06 to 09), so that a page can only
say what its run measured. Each builder takes the results dict and returns sentences; when the
run contradicts the expectation, the sentence says so and names the cause it can check (noise,
a replica not in sync, Redis coming back without its data). The expectations are static; the
outcomes are all read from the data.
"""

from __future__ import annotations

from typing import Any

from ..experiments.stats import METHOD, say_difference
from .text_binding import binding_verdict
from .text_common import Results, Sentences, quiet

# --- the store's distance (notebook 06, report section 8) ------------------------------------


def _distance_held(  # noqa: PLR0911 (one return per verdict reads best)
    effect: dict[str, Any], trips: float, added: float
) -> tuple[str, str]:
    """(what we expected, whether it held) for one server/mode's auth check time."""
    auth = effect["auth_p50_ms"]
    if trips >= 1:
        expected = f"expected about {trips * added:+g} ms ({trips:g} round trip(s) x {added:g} ms)"
        if auth["distinguishable"] and auth["low"] > 2 * trips * added:
            return expected, (
                "held in direction, but more than the distance alone explains; likely cause: "
                "requests queueing on a busy machine (see the load average)"
            )
        if auth["distinguishable"] and auth["low"] > 0:
            return expected, "held"
        if not auth["distinguishable"]:
            return expected, "not shown: the interval covers zero at this noise"
        return expected, "contradicted: it got faster; likely cause: noise (compare the trials)"
    expected = "expected no change (the check never asks the store)"
    if not auth["distinguishable"] or abs(auth["difference"]) < added / 4:
        return expected, "held"
    return expected, (
        "contradicted: likely cause: noise from the machine's load between trials, since "
        "Server-Timing counted no store round trip"
    )


@quiet
def distance_verdict(results: Results) -> Sentences:
    """Per server/mode: the added distance's effect on the auth check, against what we expected."""
    d = results.get("distance") or {}
    found = d.get("effects") or []
    if not found:
        return []
    out = [
        f"Each point: {d.get('trials', 1)} interleaved trial(s); each difference is a {METHOD} "
        f"(load average {d.get('load_average', '?')})."
    ]
    ping = d.get("ping_effect")
    if ping and ping.get("difference") is not None:
        added = ping["to_ms"] - ping["from_ms"]
        shown = ping["distinguishable"] and ping["low"] > 0
        out.append(
            f"The distance itself: a store round trip (redis-py PING through the proxy, "
            f"{ping['pings']} a side) changed by {say_difference(ping, 'µs', 0)} at "
            f"+{added:g} ms; expected about {added * 1000:+.0f} µs: "
            f"{'held' if shown else 'not shown at this noise'}. Whether the servers' checks "
            "show it above their own noise is what follows."
        )
    for e in found:
        added = e["to_ms"] - e["from_ms"]
        trips = e.get("store_round_trips") or 0
        expected, held = _distance_held(e, trips, added)
        out.append(
            f"{e['server']} ({e['mode']}), {trips:g} store round trip(s) per request "
            f"(Server-Timing), +{added:g} ms of distance: the auth check's own time changed by "
            f"{say_difference(e['auth_p50_ms'], 'ms')}; {expected}: {held}. Seen by the "
            f"client: p50 {say_difference(e['p50_ms'], 'ms')}, throughput "
            f"{say_difference(e['rps'], 'req/s', 0)}."
        )
    return out


# --- failover (notebook 07, report section 9) ------------------------------------------------


def _sync_clause(run: dict[str, Any]) -> str:
    sync = run.get("sync") or {}
    if not sync:
        return "the replica's offset was not recorded"
    state = "in sync" if sync.get("in_sync") else f"{sync.get('behind_bytes')} bytes behind"
    waited = (
        f"after waiting {sync.get('waited_s', 0):.1f} s for it"
        if sync.get("bound_s", 1)
        else "not waited for: this replica is meant to lag"
    )
    return (
        f"at the crash the replica was {state} (primary offset {sync.get('primary_offset')}, "
        f"replica {sync.get('replica_offset')} read just after it, {waited})"
    )


def _failover_held(run: dict[str, Any], lost: int, logins: int) -> str:
    """Whether this run's losses are the ones its durability and the replica's state predict."""
    sync = run.get("sync") or {}
    if run["durability"] == "wait":
        if run.get("session_durability") == "wait":
            expected = (
                "expected no revocation undone and no login lost (each true answer and each "
                "login waited for a replica)"
            )
            broken = lost + logins
        else:
            expected = "expected no revocation undone (each true answer waited for a replica)"
            broken = lost
        if broken == 0:
            return f"{expected}: held"
        return (
            f"{expected}: contradicted; likely cause: the replica that acknowledged was not the "
            "one promoted (check `new_primary`)"
        )
    if sync.get("in_sync"):
        if lost + logins <= 1:
            return "expected almost nothing lost (the replica had everything when checked): held"
        return (
            "expected almost nothing lost (the replica had everything when checked): "
            "contradicted; likely cause: writes between the check and the kill that the replica "
            "never got (compare `replication_lag` and the offsets)"
        )
    behind = sync.get("behind_bytes")
    why = (
        "a replica still loading its copy after a failover or a rejoin"
        if run.get("replication_lag", "off") == "off"
        else "the lag the proxy holds back"
    )
    if lost + logins == 0:
        return f"the replica lacked {behind} bytes ({why}), yet nothing was undone"
    return (
        f"expected losses, and this is why: the replica lacked {behind} bytes of the "
        f"primary's writes at the crash ({why}), and what it lacked is gone"
    )


def durability_setting(run: dict[str, Any]) -> str:
    """The settings a failover run measured (runs saved before SESSION_DURABILITY set one)."""
    if run.get("session_durability") == run["durability"]:
        return f"REVOCATION_DURABILITY and SESSION_DURABILITY={run['durability']}"
    return f"REVOCATION_DURABILITY={run['durability']}"


@quiet
def failover_verdict(results: Results) -> Sentences:
    """Per crash: the replica's state at the crash, what was undone, and whether that fits."""
    runs = (results.get("failover") or {}).get("runs") or []
    out = []
    for run in runs:
        rows = run["rows"]
        lost = sum(r["revocations_lost"] for r in rows)
        logins = sum(r["logins_lost"] for r in rows)
        confirmed = sum(r["revocations_confirmed"] for r in rows)
        lag = run.get("replication_lag", "off")
        case = "replica next door" if lag == "off" else f"replica {lag} behind"
        out.append(
            f"{case.capitalize()}, {durability_setting(run)}: "
            f"{_sync_clause(run)}; {lost} of {confirmed} revocations answered revoked: true "
            f"were undone, {logins} logins lost; {_failover_held(run, lost, logins)}."
        )
    return out


# --- a Redis outage longer than the push bound (notebook 08) ---------------------------------


def _share(statuses: dict[Any, int], code: int) -> float:
    total = sum(statuses.values())
    return statuses.get(code, statuses.get(str(code), 0)) / total if total else 0.0


def _after_restart(name: str, after: dict[Any, int]) -> str:
    served = _share(after, 200)
    counts = ", ".join(f"{n} x {code}" for code, n in after.items()) or "no answers"
    if served >= 0.9:
        return f"{name}: after Redis returned it served again ({counts})."
    held = (
        "the sessions it held are gone, so the cookie names no session"
        if name.startswith("session")
        else "what it held for this server is gone"
    )
    cause = (
        f"Redis came back empty (the lab runs it without persistence unless `--redis-persist`): "
        f"{held}"
        if _share(after, 401) > 0
        else "it had not reconnected within the observation window"
    )
    return f"{name}: after Redis returned it served {100 * served:.0f}% ({counts}): {cause}."


@quiet
def outage_verdict(results: Results) -> Sentences:
    """Per configuration: how long it served during the outage, and what it did after."""
    rows = results.get("push_outage") or []
    out = []
    for row in rows:
        last = row.get("last 200 after stop (s)")
        during = (
            f"served until {last:.2f} s after the stop"
            if last is not None
            else "served nothing while Redis was down"
        )
        out.append(f"{row['config']}: {during}.")
        out.append(_after_restart(row["config"], row.get("after restart") or {}))
    return out


VERDICTS = {
    "distance_verdict": distance_verdict,
    "failover_verdict": failover_verdict,
    "outage_verdict": outage_verdict,
    "binding_verdict": binding_verdict,
}
