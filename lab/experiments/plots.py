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


#: One marker per configuration in the trade-off plot, so that points stay apart in the legend.
MARKERS = "osD^vPX*hp"


def _legend_outside(ax, **kwargs: Any) -> None:
    """A legend beside the axes, never over the data (constrained layout makes room)."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0, fontsize=8, **kwargs)


def _spread_out(points: list[tuple[float, float]], x_step: float, y_tol: float) -> list[float]:
    """x offsets that set coincident points side by side (several 0 s windows stay visible)."""
    offsets = []
    for i, (x, y) in enumerate(points):
        same = [
            j
            for j, (px, py) in enumerate(points)
            if abs(px - x) <= x_step / 2 and abs(py - y) <= y_tol
        ]
        offsets.append((same.index(i) - (len(same) - 1) / 2) * x_step)
    return offsets


def _status_colour(status: int | None) -> str:
    if status == 200:
        return OK
    if status == 401:
        return REFUSED
    return OTHER


def credential_sizes(anatomies: Sequence[dict[str, Any]]) -> Figure:
    """Bytes a credential costs: the Cookie header sent with every request, and at login."""
    fig = Figure(figsize=(9, 2.6), layout="constrained")
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
    _legend_outside(ax)
    ax.set_xlim(0, max(at_login + per_request) * 1.25)
    return fig


def session_memory(results: Sequence[dict[str, Any]]) -> Figure:
    """Redis bytes per session (by key prefix), and what a million and ten million would take."""
    fig = Figure(figsize=(11, 3), layout="constrained")
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
        _legend_outside(left, title="key prefix", title_fontsize=8)
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
    _legend_outside(right)
    return fig


def revocation_windows(windows: Sequence[dict[str, Any]]) -> Figure:
    """How long a copied credential kept working after each action, per configuration.

    A hatched bar reaching the top of the observation means the copy was still accepted when
    the experiment stopped watching: its window is at least that long.
    """
    configs = list(dict.fromkeys(w["config"] for w in windows))
    actions = list(dict.fromkeys(w["action"] for w in windows))
    fig = Figure(figsize=(12, 3.8), layout="constrained")
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
    ax.set_xticks(range(len(configs)), configs, fontsize=8, rotation=15, ha="right")
    ax.set_ylabel("seconds the copy still worked")
    ax.set_ylim(0, top * 1.2)
    ax.set_title("After logout / password change / admin revoke / logout-all: the stolen copy")
    _legend_outside(ax, title="action", title_fontsize=8)
    return fig


def _tradeoff_points(
    windows: Sequence[dict[str, Any]], costs: Sequence[dict[str, Any]], action: str
) -> list[dict[str, Any]]:
    """One point per configuration measured after `action`: its window and what it paid."""
    points = []
    for cost in costs:
        found = [w for w in windows if w["config"] == cost["config"] and w["action"] == action]
        if found:
            w = found[0]
            points.append(
                {
                    "config": cost["config"],
                    "server": cost["server"],
                    "still_valid": w["still_valid"],
                    "y": w["observe_s"] if w["still_valid"] else w["window_s"],
                    "trips": cost["store_round_trips"] or 0.0,
                    "p95": cost["p95_ms"] or 0.0,
                }
            )
    return points


def tradeoff(
    windows: Sequence[dict[str, Any]], costs: Sequence[dict[str, Any]], action: str = "logout"
) -> Figure:
    """The price of revocation: window after `action` against round trips and p95 latency.

    Each configuration has its own marker (named in the legend, beside the plot); points that
    would sit on each other (several 0 s windows at one round trip) are set side by side.
    A hollow marker was still accepted when the experiment stopped watching.
    """
    fig = Figure(figsize=(11, 3.8), layout="constrained")
    left, right = fig.subplots(1, 2, sharey=True)
    points = _tradeoff_points(windows, costs, action)
    top = max([p["y"] for p in points] + [1.0])
    for ax, key in ((left, "trips"), (right, "p95")):
        span = max([p[key] for p in points] + [1.0])
        xy = [(p[key], p["y"]) for p in points]
        offsets = _spread_out(xy, 0.06 * span, 0.04 * top)
        for i, (p, dx) in enumerate(zip(points, offsets, strict=True)):
            colour = SERVER_COLOURS.get(p["server"], OTHER)
            ax.scatter(
                [p[key] + dx],
                [p["y"]],
                s=70,
                marker=MARKERS[i % len(MARKERS)],
                facecolors="none" if p["still_valid"] else colour,
                edgecolors=colour,
                linewidths=1.5,
                zorder=3,
                label=p["config"] + (" (still valid)" if p["still_valid"] else "")
                if ax is right
                else None,
            )
        ax.grid(alpha=0.3)
    left.set_xlabel("store round trips per authenticated request (Server-Timing)")
    left.set_ylabel(f"revocation window after {action} (s)")
    right.set_xlabel("p95 latency of GET /auth/me (ms, this machine)")
    left.set_title("Revoking at once costs a store lookup on every request", fontsize=10)
    right.set_title("... and what that lookup costs in latency", fontsize=10)
    left.set_ylim(-0.1 * top, top * 1.15)
    left.set_xlim(-0.4, max([p["trips"] for p in points] + [1.0]) + 0.4)
    if points:
        _legend_outside(right, title="configuration", title_fontsize=8)
    return fig


def stolen_timeline(timelines: Sequence[dict[str, Any]]) -> Figure:
    """Victim and attacker requests over time, one panel per server; the revocation marked."""
    fig = Figure(figsize=(10, 1.9 * len(timelines) + 0.6), layout="constrained")
    axes = fig.subplots(len(timelines), 1, squeeze=False, sharex=True)[:, 0]
    shaded = False
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
                label="copy still works\nafter the revocation" if not shaded else None,
            )
            shaded = True
        ax.set_yticks([0, 1], ["attacker", "victim"])
        ax.set_ylim(-0.6, 1.6)
        ax.set_title(
            f"{tl['server']} ({tl['mode']}), {tl['action']}: "
            f"copy worked {tl['attacker_window_s']:.2f} s after it "
            "(green = let in, red = 401)",
            fontsize=10,
        )
    axes[-1].set_xlabel("seconds since the victim logged in")
    if shaded:
        # One legend for the figure, beside it: every panel keeps the same width and x axis.
        fig.legend(loc="outside right upper", fontsize=8)
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
        level = 0
        if is_key:
            # Events close together on one row: marker and label both step up, not overprint.
            prev_t, level = last_label.get(e["who"], (-1e9, -1))
            level = level + 1 if e["t"] - prev_t < 0.05 * span else 0
            last_label[e["who"]] = (e["t"], level)
        ax.scatter(
            [e["t"]],
            [y + 0.22 * level],
            s=90 if is_key else 18,
            marker="D" if is_key else "o",
            color=_status_colour(e["status"]) if e["status"] is not None else "black",
            zorder=3,
        )
        if is_key:
            label = e["event"] + (f" ({e['status']})" if e["status"] else "")
            ax.annotate(
                label,
                (e["t"], y + 0.22 * level),
                textcoords="offset points",
                xytext=(6, 6),
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
    """Requests per second and p95 latency against the number of replicas, per server.

    With several trials per point (`rps_low`, `rps_high`), the bar is their range: two points
    whose bars overlap are not told apart by this run. The servers sit a little apart on the x
    axis so that equal values stay visible.
    """
    fig = Figure(figsize=(11, 3.2), layout="constrained")
    left, right = fig.subplots(1, 2)
    servers = list(dict.fromkeys(r["server"] for r in rows))
    for k, server in enumerate(servers):
        mine = sorted((r for r in rows if r["server"] == server), key=lambda r: r["replicas"])
        xs = [r["replicas"] + (k - (len(servers) - 1) / 2) * 0.06 for r in mine]
        rps = [r["rps"] or 0.0 for r in mine]
        spread = [
            [v - (r.get("rps_low") or v) for v, r in zip(rps, mine, strict=True)],
            [(r.get("rps_high") or v) - v for v, r in zip(rps, mine, strict=True)],
        ]
        colour = SERVER_COLOURS.get(server)
        left.errorbar(xs, rps, yerr=spread, marker="o", capsize=4, color=colour, label=server)
        right.plot(xs, [r["p95_ms"] for r in mine], marker="o", color=colour, label=server)
    for ax in (left, right):
        ax.set_xlabel("replicas of each server")
        ax.set_xticks(sorted({r["replicas"] for r in rows}))
        ax.grid(alpha=0.3)
    _legend_outside(right)
    trials = max([r.get("trials", 1) for r in rows] + [1])
    of = f", median of {trials} trials" if trials > 1 else ""
    left.set_ylabel("requests per second (GET /auth/me)")
    right.set_ylabel(f"p95 latency (ms{of})")
    left.set_title(
        f"Throughput: median and range of {trials} trials"
        if trials > 1
        else "Throughput (closed-loop, generator on the same cores)",
        fontsize=10,
    )
    right.set_title("Tail latency", fontsize=10)
    top = max([r.get("rps_high") or r["rps"] or 0 for r in rows] + [1])
    left.set_ylim(0, top * 1.15)
    right.set_ylim(0, max([r["p95_ms"] or 0 for r in rows] + [1]) * 1.15)
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
        # A few points above the bar: clear of the expected-rate line when they agree.
        ax.annotate(f"{rate:.0f}%", (i, rate), textcoords="offset points", xytext=(0, 4),
                    ha="center", va="bottom", fontsize=8)  # fmt: skip
    ax.set_xticks(range(len(rows)), labels, rotation=20, ha="right", fontsize=8)
    ax.set_ylabel("requests refused (401), %")
    ax.set_ylim(0, 105)
    n = rows[0]["replica_count"] if rows else 0
    if n:
        # Round-robin finds the replica holding the session one time in n: the rest is refused.
        ax.axhline(100 * (n - 1) / n, color=OTHER, linestyle=":", label="expected, round-robin")
        _legend_outside(ax)
    ax.set_title(f"A logged-in client behind the balancer ({n} replicas)")
    return fig


def fault(result: dict[str, Any]) -> Figure:
    """Error rate over time per server, the fault period shaded; for a killed replica, also
    which replicas answered."""
    per_replica = result["fault"] == "replica" and result.get("replica_series")
    fig = Figure(figsize=(11, 5.2 if per_replica else 3), layout="constrained")
    axes = fig.subplots(2 if per_replica else 1, 1, sharex=True, squeeze=False)[:, 0]
    ax = axes[0]
    for k, server in enumerate(result["servers"]):
        series = [r for r in result["series"] if r["target"] == server]
        # Each later line thinner and dashed, drawn on top: equal error rates stay visible.
        ax.step(
            [r["t"] for r in series],
            [100 * r["error_rate"] for r in series],
            where="post",
            color=SERVER_COLOURS.get(server),
            label=f"{server} ({result['modes'][server]})",
            linewidth=max(1.2, 3.5 - 1.8 * k),
            linestyle="-" if k == 0 else "--",
            zorder=2 + k,
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
    _legend_outside(ax)
    if per_replica:
        lower = axes[1]
        keys = sorted({(r["target"], r["replica"]) for r in result["replica_series"]})
        styles = ["-", "--", ":", "-."]
        for k, (target, replica) in enumerate(keys):
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
                linewidth=max(1.0, 3.0 - 0.6 * k),
                zorder=2 + k,
                label=replica,
            )
        lower.set_ylabel("answers per bin")
        lower.set_title("Which replica answered: HAProxy routes around the dead one")
        _legend_outside(lower)
    axes[-1].set_xlabel("seconds")
    return fig
