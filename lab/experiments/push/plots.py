"""Plots for `lab.experiments.push`: each takes what a measurement returned, gives a Figure."""

from __future__ import annotations

from typing import Any

from matplotlib.figure import Figure

from ..plots import OK, OTHER, REFUSED

#: 503 gets its own colour: refused because the server cannot tell, not because it knows.
UNAVAILABLE = "#ff9f1c"


def _status_colour(status: int) -> str:
    return {200: OK, 401: REFUSED, 503: UNAVAILABLE}.get(status, OTHER)


def windows(rows: list[dict[str, Any]]) -> Figure:
    """Per configuration, every replica of every trial: how long after the logout was *sent*
    a stolen copy still got in (left), and after the *answer* (right: what `revoked` covers)."""
    configs = list(dict.fromkeys(r["config"] for r in rows))
    fig = Figure(figsize=(9, 0.5 + 0.45 * len(configs)), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    for ax, key, title in (
        (axes[0], "exposure_ms", "after the logout was sent"),
        (axes[1], "window_ms", "after the logout's answer"),
    ):
        for y, name in enumerate(configs):
            mine = [r for r in rows if r["config"] == name]
            xs = [max(r[key], 0.1) for r in mine]
            colours = [OK if r["revoked"] else REFUSED for r in mine]
            ax.scatter(xs, [y] * len(xs), c=colours, s=18, alpha=0.7)
        ax.set_xscale("log")
        ax.set_xlabel(f"ms a stolen copy still worked, {title} (0 drawn at 0.1)")
    axes[0].set_yticks(range(len(configs)), configs)
    axes[0].invert_yaxis()
    fig.suptitle("Revocation window per replica (green: the API said revoked: true)")
    return fig


def round_trips(rows: list[dict[str, Any]]) -> Figure:
    """Store commands per authenticated request, as Redis counted them."""
    fig = Figure(figsize=(7, 0.5 + 0.4 * len(rows)), layout="constrained")
    ax = fig.subplots()
    names = [r["config"] for r in rows]
    ax.barh(names, [r["commands_per_request"] for r in rows], color="#4c72b0")
    ax.invert_yaxis()
    ax.set_xlabel("Redis commands per authenticated request (INFO commandstats, idle subtracted)")
    return fig


def warmup(rows: list[dict[str, Any]]) -> Figure:
    """Seconds before a starting replica trusts its memory, by revocations in the stream."""
    fig = Figure(figsize=(6, 2.8), layout="constrained")
    ax = fig.subplots()
    ax.plot([r["revocations"] for r in rows], [r["warmup_s"] for r in rows], marker="o")
    ax.set_xlabel("revocations in the stream")
    ax.set_ylabel("warm-up (s)")
    return fig


def outage(timelines: dict[str, list[dict[str, Any]]], bound: float = 2.0) -> Figure:
    """Each configuration's answers across a Redis outage (time 0: Redis stopped)."""
    names = list(timelines)
    fig = Figure(figsize=(9, 0.6 + 0.45 * len(names)), layout="constrained")
    ax = fig.subplots()
    for y, name in enumerate(names):
        rows = timelines[name]
        ax.scatter(
            [r["t_since_stop"] for r in rows],
            [y] * len(rows),
            c=[_status_colour(r["status"]) for r in rows],
            s=10,
            marker="|",
        )
        back = [r["t_since_stop"] for r in rows if r["phase"] == "after"]
        if back:
            ax.axvline(min(back), color="#555", lw=0.6, ls=":")
    ax.axvline(0, color="#555", lw=0.8)
    ax.axvline(bound, color=UNAVAILABLE, lw=0.8, ls="--", label=f"push bound ({bound:g} s)")
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.set_xlabel("seconds since Redis stopped (dotted: started again)")
    ax.legend(loc="lower right", fontsize="small")
    ax.set_title("green 200, red 401, orange 503")
    return fig
