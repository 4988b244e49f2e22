"""The report's HTML: small row builders, one per table, and the Jinja2 page that lays them out.

The builders turn the experiments' results into tidy rows (dicts) for `html_table`; the layout,
the sections and their explanations live in `templates/report.html.j2`.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from ..experiments.display import html_table
from .text import BUILDERS as SENTENCES

Rows = list[dict[str, Any]]


def _label(item: dict[str, Any]) -> str:
    """'session (redis)', 'jwt (stateless)': a server with its mode."""
    return f"{item['server']} ({item['mode']})"


def credential_rows(anatomy: dict[str, Any]) -> Rows:
    """Each cookie a login sets: its size and attributes."""
    return [
        {
            "server": _label(cred),
            "cookie": c["name"],
            "value bytes": c["value_bytes"],
            "Set-Cookie bytes": c["set_cookie_bytes"],
            "attributes": c["attributes"],
        }
        for cred in anatomy["credentials"]
        for c in cred["cookies"]
    ]


def decoded_rows(anatomy: dict[str, Any]) -> Rows:
    """Every JWT the servers set, decoded without a key."""
    return [
        {
            "cookie": f"{_label(cred)} {c['name']}",
            "header": c["jwt"]["header"],
            "payload": c["jwt"]["payload"],
        }
        for cred in anatomy["credentials"]
        for c in cred["cookies"]
        if "jwt" in c
    ]


def key_rows(anatomy: dict[str, Any]) -> Rows:
    """The Redis keys one login creates."""
    return [
        {
            "server": _label(f),
            "key": k["key"],
            "type": k["type"],
            "ttl s": k["ttl_s"],
            "MEMORY USAGE": k["memory_usage"],
        }
        for f in anatomy["footprints"]
        for k in f["keys"]
    ]


def memory_rows(anatomy: dict[str, Any]) -> Rows:
    """Bytes per session and what a million would need."""
    return [
        {
            "server": _label(m),
            "sessions": m["sessions"],
            "bytes/session (MEMORY USAGE)": m["bytes_per_session"],
            "by key prefix": m["bytes_per_session_by_prefix"],
            "used_memory rise/session": m["used_memory_per_session"],
            "GiB for 1M": m["projections"][0]["gib"],
            "GiB for 10M": m["projections"][1]["gib"],
        }
        for m in anatomy["memory"]
    ]


def api_message(window: dict[str, Any]) -> str:
    """The API's own explanation, where it answered `revoked: false` (why it could not)."""
    if window.get("api_revoked") is False:
        return window.get("api_message") or ""
    return ""


def window_rows(revocation: dict[str, Any]) -> Rows:
    """How long a stolen copy kept working, per configuration and action."""
    return [
        {
            "configuration": w["config"],
            "action": w["action"],
            "window s": None if w["still_valid"] else w["window_s"],
            "still valid at end": w["still_valid"],
            "watched s": w["observe_s"],
            "copy worked on": f"{w['replicas_where_copy_worked']} of {len(w['replicas'])}",
            "handled by": w["acted_on"],
            "API: revoked": w["api_revoked"],
            "API: valid until": w["api_valid_until"],
            "API: message (when not revoked)": api_message(w),
        }
        for w in revocation["windows"]
    ]


def cost_rows(revocation: dict[str, Any]) -> Rows:
    """What each configuration's check costs per request."""
    return [
        {
            "configuration": c["config"],
            "store round trips/request": c["store_round_trips"],
            "auth check ms": c["auth_ms"],
            "p50 ms": c["p50_ms"],
            "p95 ms": c["p95_ms"],
            "requests": c["requests"],
            "errors": c["errors"],
        }
        for c in revocation["costs"]
    ]


def stolen_rows(timelines: Rows) -> Rows:
    """The stolen cookie after each action."""
    return [
        {
            "server": _label(t),
            "action": t["action"],
            "copy worked after it, s": t["attacker_window_s"],
            "refused from, s": t["attacker_refused_from_s"],
            "API said": {k: v for k, v in t["api"].items() if k in ("revoked", "valid_until")},
            "API: message (when not revoked)": api_message(
                {"api_revoked": t["api"].get("revoked"), "api_message": t["api"].get("message")}
            ),
        }
        for t in timelines
    ]


def refresh_event_rows(theft: dict[str, Any]) -> Rows:
    """The refresh-token theft's events; consecutive checks with one answer are one row."""
    rows: Rows = []
    for e in theft["events"]:
        last = rows[-1] if rows else None
        if (
            last is not None
            and e["event"] == "GET /auth/me"
            and last["checks"]
            and last["status"] == e["status"]
        ):
            last["checks"] += 1
            last["who"] = ", ".join(dict.fromkeys([*last["who"].split(", "), e["who"]]))
            continue
        row = {k: e.get(k) for k in ("t", "who", "event", "status", "error")}
        row["checks"] = 1 if e["event"] == "GET /auth/me" else 0
        rows.append(row)
    for row in rows:
        checks = row.pop("checks")
        if checks > 1:
            row["event"] = f"GET /auth/me x {checks}"
    return rows


def fault_rows(failures: Rows) -> Rows:
    """Each fault's phases: before, during, after."""
    return [{"fault": f["fault"], **p} for f in failures for p in f["phases"]]


#: Columns of the tables whose rows come straight from the experiments.
MEMORY_STORE_COLUMNS = (
    "setup", "server", "replica_count", "requests", "refused", "failure_rate", "replicas_seen",
)  # fmt: skip
SCALING_COLUMNS = (
    "replicas", "server", "mode", "trials", "rps", "rps_low", "rps_high", "p50_ms", "p95_ms",
    "errors", "generator_cpu",
)  # fmt: skip


#: Row builders the template calls by name.
def distance_rows(found: dict[str, Any]) -> Rows:
    """Section 8: /auth/me latency and throughput by store distance, per configuration."""
    from ..experiments import distance

    return distance.distance_table(found)


def distance_effect_rows(found: dict[str, Any]) -> Rows:
    """Section 8: what the added distance changed, each difference with its interval."""
    from ..experiments import distance

    return distance.effect_table(found)


def failover_rows(found: dict[str, Any]) -> Rows:
    """Section 9: seconds of errors, logins and revocations lost, per server and durability."""
    from ..experiments import failover

    return failover.failover_table(found)


def binding_window_rows(binding: dict[str, Any]) -> Rows:
    """Section 10: the stolen copy per configuration, and what the victim did meanwhile."""
    rows = []
    for w in binding["windows"]:
        acted = w.get("acted_s")
        did = (
            f"{w['action']} at {acted:.1f} s (revoked: {w.get('api_revoked')})"
            if acted is not None
            else "nothing"
        )
        reason = w.get("refusal") or {}
        rows.append(
            {
                "configuration": w["configuration"],
                "the victim did": did,
                "copy worked until, s after the theft": w["worked_s"],
                "refused from, s": w["refused_after_s"],
                "still let in when we stopped": w["refused_after_s"] is None,
                "refused because": reason.get("error"),
                "victim after the refusal": w.get("victim"),
                "DBSC renewals": w.get("renewals") if w["binding"] == "dbsc" else None,
            }
        )
    return rows


def binding_cost_rows(binding: dict[str, Any]) -> Rows:
    """Section 10: GET /auth/me per configuration, one client in a row; ms, median (p90)."""

    def spread(row: dict[str, Any], key: str) -> str | None:
        p50, p90 = row.get(f"{key}_p50_ms"), row.get(f"{key}_p90_ms")
        return None if p50 is None else f"{p50:.3f} ({p90:.3f})"

    return [
        {
            "configuration": c["configuration"],
            "requests": c["requests"],
            "auth check (server)": spread(c, "auth"),
            "store round trips/request": round(c["store_round_trips"], 3),
            "whole request (client)": spread(c, "wall"),
            "login ms": round(c["login_ms"], 1),
            "DBSC renewal": spread(c, "renewal"),
        }
        for c in binding["costs"]
    ]


BUILDERS = {
    fn.__name__: fn
    for fn in (
        credential_rows,
        decoded_rows,
        key_rows,
        memory_rows,
        window_rows,
        cost_rows,
        stolen_rows,
        refresh_event_rows,
        fault_rows,
        distance_rows,
        distance_effect_rows,
        failover_rows,
        binding_window_rows,
        binding_cost_rows,
    )
}


def _table(rows: Rows, columns: tuple[str, ...] | None = None) -> str:
    """An HTML table; html_table escapes every cell, so the template inserts it `| safe`."""
    return html_table(rows, columns)


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("lab.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        {**BUILDERS, **SENTENCES},
        table=_table,
        memory_store_table=partial(_table, columns=MEMORY_STORE_COLUMNS),
        scaling_table=partial(_table, columns=SCALING_COLUMNS),
    )
    return env


def render_html(results: dict[str, Any], summary: dict[str, Any], images: dict[str, str]) -> str:
    """The whole report as one HTML page."""
    template = _environment().get_template("report.html.j2")
    return template.render(results=results, summary=summary, meta=summary["run"], images=images)
