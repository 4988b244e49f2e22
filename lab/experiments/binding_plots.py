"""Plots of `lab.experiments.binding_study`: each takes its rows and gives back a Figure."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from matplotlib.figure import Figure

from .plots import OK, REFUSED

#: One colour per binding, the same in both plots.
BINDING_COLOURS = {"none": "#8c8c8c", "dbsc": "#1f77b4", "dpop": "#ff7f0e"}


def _label(row: dict[str, Any]) -> str:
    return row["configuration"]


def windows(rows: Sequence[dict[str, Any]]) -> Figure:
    """How long a stolen copy worked when nobody acted, per configuration.

    A hatched bar is a copy still let in when the watch ended: it works at least that long.
    """
    fig = Figure(figsize=(9, 0.8 + 0.55 * len(rows)), layout="constrained")
    ax = fig.subplots()
    top = max([r["watched_s"] for r in rows] + [0.5])
    for y, row in enumerate(rows):
        still = row["refused_after_s"] is None
        worked = row["watched_s"] if still else (row["worked_s"] or 0.0)
        ax.barh(
            y,
            max(worked, top * 0.005),
            color=BINDING_COLOURS.get(row["binding"], "#444444"),
            hatch="//" if still else None,
            edgecolor="black" if still else None,
        )
        if still:
            text = f"still let in at {worked:.1f} s"
        elif row["worked_s"] is None:
            text = "refused from its first try"
        else:
            text = f"{worked:.1f} s, then refused"
        victim = {"in": "victim still in", "out": "victim refused too"}.get(row["victim"] or "")
        colour = OK if row["victim"] == "in" else REFUSED if row["victim"] == "out" else "black"
        right = max(worked, row.get("acted_s") or 0.0)
        ax.text(right + top * 0.015, y, text, va="center", fontsize=8)
        if row.get("acted_s") is not None:  # an unbound copy beside them: the victim acted
            ax.plot([row["acted_s"]] * 2, [y - 0.4, y + 0.4], color="black", linewidth=2)
            ax.text(row["acted_s"], y - 0.45, f"{row['action']}", ha="center", fontsize=7)
        if victim:
            ax.text(top * 1.45, y, victim, va="center", ha="right", fontsize=8, color=colour)
    ax.set_yticks(range(len(rows)), [_label(r) for r in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, top * 1.5)
    ax.set_xlabel("seconds after the theft that the copy (everything but the key) still worked")
    acted = any(r.get("acted_s") is not None for r in rows)
    ax.set_title(
        "The stolen copy: bound ones left alone, unbound ones until the victim's action (|)"
        if acted
        else "The stolen copy, left alone: nobody logs out"
    )
    return fig


def costs(rows: Sequence[dict[str, Any]]) -> Figure:
    """Per configuration, the median cost of GET /auth/me (bar) and its p90 (whisker): the
    server's auth check (Server-Timing) and the whole request as the client saw it."""
    fig = Figure(figsize=(10, 0.9 + 0.5 * len(rows)), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    labels = [_label(r) for r in rows]
    for ax, key, title in (
        (axes[0], "auth", "auth check on the server (Server-Timing)"),
        (axes[1], "wall", "whole request, seen by the client"),
    ):
        for y, row in enumerate(rows):
            p50, p90 = row[f"{key}_p50_ms"] or 0.0, row[f"{key}_p90_ms"] or 0.0
            ax.barh(y, p50, color=BINDING_COLOURS.get(row["binding"], "#444444"))
            ax.errorbar(p50, y, xerr=[[0], [max(p90 - p50, 0)]], color="black", capsize=3)
            if key == "auth":
                trips = row["store_round_trips"]
                ax.text(p90, y, f"  {trips:.2g} store trip(s)", va="center", fontsize=8)
        ax.set_xlabel(f"ms, {title}")
        ax.margins(x=0.35)
    axes[0].set_yticks(range(len(rows)), labels, fontsize=8)
    axes[0].invert_yaxis()
    fig.suptitle("What a binding costs per authenticated request (bar: median, whisker: p90)")
    return fig
