"""Plots of the experiments' results: each function takes what an experiment returned and gives
back a matplotlib Figure (no global pyplot state, so the report can draw many in a loop).

In a notebook, end a cell with the call and the figure shows (`%matplotlib inline` first).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from matplotlib.figure import Figure

#: One colour per outcome, the same in every plot.
OK, REFUSED, OTHER = "#2a9d3c", "#d62728", "#9e9e9e"
SERVER_COLOURS = {"session": "#1f77b4", "jwt": "#ff7f0e"}
ACTION_COLOURS = {
    "logout": "#4c72b0",
    "password": "#dd8452",
    "revoke": "#55a868",
    "logout-all": "#8172b3",
}


def _status_colour(status: int | None) -> str:
    if status == 200:
        return OK
    if status == 401:
        return REFUSED
    return OTHER


def credential_sizes(anatomies: Sequence[dict[str, Any]]) -> Figure:
    """Bytes a credential costs: the Cookie header sent with every request, and at login."""
    fig = Figure(figsize=(7, 2.6), layout="constrained")
    ax = fig.subplots()
    labels = [f"{a['server']} ({a['mode']})" for a in anatomies]
    per_request = [a["cookie_header_bytes"] for a in anatomies]
    at_login = [sum(c["set_cookie_bytes"] for c in a["cookies"]) for a in anatomies]
    y = range(len(labels))
    ax.barh([i + 0.2 for i in y], per_request, height=0.4, label="Cookie: header, every request")
    ax.barh([i - 0.2 for i in y], at_login, height=0.4, label="Set-Cookie: headers, at login")
    for i, (a, b) in enumerate(zip(per_request, at_login, strict=True)):
        ax.text(a, i + 0.2, f" {a} B", va="center", fontsize=8)
        ax.text(b, i - 0.2, f" {b} B", va="center", fontsize=8)
    ax.set_yticks(list(y), labels)
    ax.set_xlabel("bytes on the wire")
    ax.set_title("What a credential weighs")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_xlim(0, max(at_login + per_request) * 1.25)
    return fig


def session_memory(results: Sequence[dict[str, Any]]) -> Figure:
    """Redis bytes per session (by key prefix), and what a million and ten million would take."""
    fig = Figure(figsize=(9, 3), layout="constrained")
    left, right = fig.subplots(1, 2)
    labels = [f"{r['server']} ({r['mode']})" for r in results]
    prefixes = sorted({p for r in results for p in r["bytes_per_session_by_prefix"]})
    bottoms = [0.0] * len(results)
    for prefix in prefixes:
        values = [r["bytes_per_session_by_prefix"].get(prefix, 0.0) for r in results]
        left.bar(labels, values, bottom=bottoms, label=prefix)
        bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
    for i, total in enumerate(bottoms):
        left.text(i, total, f"{total:.0f} B", ha="center", va="bottom", fontsize=8)
    left.set_ylabel("Redis bytes per session (MEMORY USAGE)")
    left.set_title("What the store keeps per login")
    if prefixes:
        left.legend(fontsize=8)
    left.set_ylim(0, max(bottoms + [1.0]) * 1.2)
    for i, r in enumerate(results):
        gib = [p["gib"] for p in r["projections"]]
        xs = [j + i * 0.8 / len(results) for j in range(len(gib))]
        right.bar(xs, gib, width=0.8 / len(results), label=labels[i])
        for x, g in zip(xs, gib, strict=True):
            right.text(x, g, f"{g:.2f}", ha="center", va="bottom", fontsize=8)
    if results:
        names = [f"{p['sessions']:,} sessions" for p in results[0]["projections"]]
        right.set_xticks([j + 0.4 - 0.4 / len(results) for j in range(len(names))], names)
    right.set_ylabel("GiB of Redis RAM")
    right.set_title("Projected RAM")
    right.legend(fontsize=8)
    return fig


def revocation_windows(windows: Sequence[dict[str, Any]]) -> Figure:
    """How long a copied credential kept working after each action, per configuration.

    A hatched bar reaching the top of the observation means the copy was still accepted when
    the experiment stopped watching: its window is at least that long.
    """
    configs = list(dict.fromkeys(w["config"] for w in windows))
    actions = list(dict.fromkeys(w["action"] for w in windows))
    fig = Figure(figsize=(10, 3.6), layout="constrained")
    ax = fig.subplots()
    width = 0.8 / max(1, len(actions))
    top = max([w["observe_s"] if w["still_valid"] else w["window_s"] for w in windows] + [0.5])
    for j, action in enumerate(actions):
        for i, config in enumerate(configs):
            found = [w for w in windows if w["config"] == config and w["action"] == action]
            if not found:
                continue
            w = found[0]
            x = i + (j - (len(actions) - 1) / 2) * width
            height = w["observe_s"] if w["still_valid"] else w["window_s"]
            ax.bar(
                x,
                max(height, top * 0.01),
                width=width,
                color=ACTION_COLOURS.get(action),
                hatch="//" if w["still_valid"] else None,
                edgecolor="black" if w["still_valid"] else None,
                label=action if i == 0 else None,
            )
            text = "still\nvalid" if w["still_valid"] else f"{w['window_s']:.1f}"
            ax.text(x, height, text, ha="center", va="bottom", fontsize=7)
    ax.set_xticks(range(len(configs)), configs, fontsize=9)
    ax.set_ylabel("seconds the copy still worked")
    ax.set_ylim(0, top * 1.3)
    ax.set_title("After logout / password change / admin revoke / logout-all: the stolen copy")
    ax.legend(fontsize=8, ncols=len(actions), loc="upper left")
    return fig


def tradeoff(
    windows: Sequence[dict[str, Any]], costs: Sequence[dict[str, Any]], action: str = "logout"
) -> Figure:
    """The price of revocation: window after `action` against round trips and p95 latency."""
    fig = Figure(figsize=(10, 3.6), layout="constrained")
    left, right = fig.subplots(1, 2, sharey=True)
    placed: dict[int, list[tuple[float, float]]] = {id(left): [], id(right): []}
    spans = {
        id(left): max([c["store_round_trips"] or 0 for c in costs] + [1]),
        id(right): max([c["p95_ms"] or 0 for c in costs] + [1]),
    }
    top = max([w["observe_s"] if w["still_valid"] else w["window_s"] for w in windows] + [1])
    for cost in costs:
        found = [w for w in windows if w["config"] == cost["config"] and w["action"] == action]
        if not found:
            continue
        w = found[0]
        y = w["observe_s"] if w["still_valid"] else w["window_s"]
        colour = SERVER_COLOURS.get(cost["server"], OTHER)
        marker = "^" if w["still_valid"] else "o"
        for ax, x in ((left, cost["store_round_trips"] or 0.0), (right, cost["p95_ms"] or 0.0)):
            ax.scatter([x], [y], s=80, color=colour, marker=marker, zorder=3)
            # Points on top of each other get their labels stacked, not overprinted.
            near = sum(
                1
                for px, py in placed[id(ax)]
                if abs(px - x) < 0.08 * spans[id(ax)] and abs(py - y) < 0.08 * top
            )
            placed[id(ax)].append((x, y))
            ax.annotate(
                cost["config"],
                (x, y),
                textcoords="offset points",
                xytext=(7, 6 + 11 * near),
                fontsize=8,
            )
    left.set_xlabel("store round trips per authenticated request (Server-Timing)")
    left.set_ylabel(f"revocation window after {action} (s)")
    right.set_xlabel("p95 latency of GET /auth/me (ms, this machine)")
    left.set_title("Revoking at once costs a store lookup on every request")
    left.set_ylim(-0.1 * top, top * 1.35)
    right.set_title("... and what that lookup costs in latency")
    left.set_xlim(-0.3, max([c["store_round_trips"] or 0 for c in costs] + [1]) + 0.8)
    for ax in (left, right):
        ax.grid(alpha=0.3)
    return fig


def stolen_timeline(timelines: Sequence[dict[str, Any]]) -> Figure:
    """Victim and attacker requests over time, one panel per server; the revocation marked."""
    fig = Figure(figsize=(10, 1.9 * len(timelines) + 0.6), layout="constrained")
    axes = fig.subplots(len(timelines), 1, squeeze=False)[:, 0]
    for ax, tl in zip(axes, timelines, strict=True):
        rows = {"victim": 1, "attacker": 0}
        for e in tl["events"]:
            if e.get("event"):
                ax.annotate(
                    e["event"],
                    (e["t"], rows[e["who"]]),
                    textcoords="offset points",
                    xytext=(0, 9),
                    ha="center",
                    fontsize=8,
                )
                ax.scatter([e["t"]], [rows[e["who"]]], marker="|", s=300, color="black")
                continue
            ax.scatter([e["t"]], [rows[e["who"]]], s=18, color=_status_colour(e["status"]))
        ax.axvline(tl["revoked_at"], color="black", linestyle="--", linewidth=1)
        if tl["attacker_window_s"] > 0:
            ax.axvspan(
                tl["revoked_at"],
                tl["revoked_at"] + tl["attacker_window_s"],
                color=REFUSED,
                alpha=0.12,
                label="copy still works after the revocation",
            )
            ax.legend(fontsize=8, loc="lower right")
        ax.set_yticks([0, 1], ["attacker", "victim"])
        ax.set_ylim(-0.6, 1.6)
        ax.set_title(
            f"{tl['server']} ({tl['mode']}), {tl['action']}: "
            f"copy worked {tl['attacker_window_s']:.2f} s after it "
            "(green = let in, red = 401)",
            fontsize=10,
        )
    axes[-1].set_xlabel("seconds since the victim logged in")
    return fig


def refresh_theft(result: dict[str, Any]) -> Figure:
    """The refresh-token theft as a sequence of events for victim and attacker."""
    fig = Figure(figsize=(10, 2.8), layout="constrained")
    ax = fig.subplots()
    rows = {"victim": 1, "attacker": 0}
    span = max([e["t"] for e in result["events"]] + [1.0])
    last_label: dict[str, tuple[float, int]] = {}
    for e in result["events"]:
        y = rows[e["who"]]
        is_key = "refresh" in e["event"] or e["event"] in ("login", "copies both cookies")
        ax.scatter(
            [e["t"]],
            [y],
            s=90 if is_key else 18,
            marker="D" if is_key else "o",
            color=_status_colour(e["status"]) if e["status"] is not None else "black",
            zorder=3,
        )
        if is_key:
            label = e["event"] + (f" ({e['status']})" if e["status"] else "")
            # Events close together on one row get their labels stacked.
            prev_t, level = last_label.get(e["who"], (-1e9, -1))
            level = level + 1 if e["t"] - prev_t < 0.12 * span else 0
            last_label[e["who"]] = (e["t"], level)
            ax.annotate(
                label,
                (e["t"], y),
                textcoords="offset points",
                xytext=(4, 9 + 11 * level),
                ha="left",
                fontsize=7,
            )
    ax.set_yticks([0, 1], ["attacker", "victim"])
    ax.set_ylim(-0.5, 2.0)
    ax.set_xlim(-0.05 * span, span * 1.2)
    ax.set_xlabel("seconds since the victim logged in")
    ax.set_title(
        "Refresh-token theft: reuse detected -> family revoked; both out when access tokens "
        f"expire ({result['access_ttl_s']} s)",
        fontsize=10,
    )
    return fig


def scaling(rows: Sequence[dict[str, Any]]) -> Figure:
    """Requests per second and p95 latency against the number of replicas, per server."""
    fig = Figure(figsize=(10, 3.2), layout="constrained")
    left, right = fig.subplots(1, 2)
    for server in dict.fromkeys(r["server"] for r in rows):
        mine = sorted((r for r in rows if r["server"] == server), key=lambda r: r["replicas"])
        xs = [r["replicas"] for r in mine]
        colour = SERVER_COLOURS.get(server)
        left.plot(xs, [r["rps"] for r in mine], marker="o", color=colour, label=server)
        right.plot(xs, [r["p95_ms"] for r in mine], marker="o", color=colour, label=server)
    for ax in (left, right):
        ax.set_xlabel("replicas of each server")
        ax.set_xticks(sorted({r["replicas"] for r in rows}))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    left.set_ylabel("requests per second (GET /auth/me)")
    right.set_ylabel("p95 latency (ms)")
    left.set_title("Throughput (closed-loop, generator on the same cores)")
    right.set_title("Tail latency")
    left.set_ylim(bottom=0)
    right.set_ylim(bottom=0)
    return fig


def memory_refusals(rows: Sequence[dict[str, Any]]) -> Figure:
    """Share of a logged-in client's requests refused, per store and balancing policy."""
    fig = Figure(figsize=(8, 3), layout="constrained")
    ax = fig.subplots()
    labels = [r["setup"] for r in rows]
    rates = [100 * (r["failure_rate"] or 0.0) for r in rows]
    colours = [SERVER_COLOURS.get(r["server"], OTHER) for r in rows]
    ax.bar(range(len(rows)), rates, color=colours)
    for i, rate in enumerate(rates):
        ax.text(i, rate, f"{rate:.0f}%", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(range(len(rows)), labels, rotation=20, ha="right", fontsize=8)
    ax.set_ylabel("requests refused (401), %")
    ax.set_ylim(0, 105)
    n = rows[0]["replica_count"] if rows else 0
    ax.set_title(f"A logged-in client behind the balancer ({n} replicas)")
    return fig


def fault(result: dict[str, Any]) -> Figure:
    """Error rate over time per server, the fault period shaded; for a killed replica, also
    which replicas answered."""
    per_replica = result["fault"] == "replica" and result.get("replica_series")
    fig = Figure(figsize=(10, 5.2 if per_replica else 3), layout="constrained")
    axes = fig.subplots(2 if per_replica else 1, 1, sharex=True, squeeze=False)[:, 0]
    ax = axes[0]
    for server in result["servers"]:
        series = [r for r in result["series"] if r["target"] == server]
        ax.step(
            [r["t"] for r in series],
            [100 * r["error_rate"] for r in series],
            where="post",
            color=SERVER_COLOURS.get(server),
            label=f"{server} ({result['modes'][server]})",
            linewidth=2,
        )
    for a in axes:
        a.axvspan(
            result["fault_at"],
            result["repair_started"],
            color=REFUSED,
            alpha=0.12,
            label=f"{result['fault']} down" if a is ax else None,
        )
        if result["repaired_at"] > result["repair_started"] + 0.05:
            a.axvspan(
                result["repair_started"],
                result["repaired_at"],
                color=OTHER,
                alpha=0.15,
                label="restarting" if a is ax else None,
            )
        a.set_xlim(0, result["end"])
        a.grid(alpha=0.3)
    ax.set_ylim(-3, 105)
    ax.set_ylabel("errors, % of requests")
    names = {
        "redis": "Redis stopped",
        "replica": "replica 1 of each server killed",
        "redis-pause": "Redis paused",
    }
    ax.set_title(f"{names.get(result['fault'], result['fault'])}: error rate over time")
    ax.legend(fontsize=8, loc="upper right")
    if per_replica:
        lower = axes[1]
        keys = sorted({(r["target"], r["replica"]) for r in result["replica_series"]})
        styles = ["-", "--", ":", "-."]
        for target, replica in keys:
            rows = [
                r
                for r in result["replica_series"]
                if r["target"] == target and r["replica"] == replica
            ]
            index = int(replica.rsplit("-", 1)[-1]) if replica[-1].isdigit() else 0
            lower.step(
                [r["t"] for r in rows],
                [r["answers"] for r in rows],
                where="post",
                color=SERVER_COLOURS.get(target),
                linestyle=styles[(index - 1) % len(styles)],
                label=replica,
            )
        lower.set_ylabel("answers per bin")
        lower.set_title("Which replica answered: HAProxy routes around the dead one")
        lower.legend(fontsize=8, ncols=4, loc="lower right")
    axes[-1].set_xlabel("seconds")
    return fig
