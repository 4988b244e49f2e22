"""The report as text: one row per target, then the schedule and the first examples of each
promise broken, so a reader can replay the seed and look at the very request."""

from __future__ import annotations

from collections import Counter
from typing import Any

from .checker import KINDS

HEADER = ("target", "ops", "confirmed", "faults", "undone", "dishonest", "unclear5xx", "no-answer")
#: What the promise columns count (under every table of this package).
LEGEND = (
    "undone: a confirmed revocation later accepted; dishonest: a live credential refused "
    "without a reason; unclear5xx: a 5xx without a clear JSON error; no-answer: no response."
)


def aligned(rows: list[list[str]]) -> list[str]:
    """Rows of cells as text columns (the first row is the header)."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip() for cells in rows
    ]


def markdown(rows: list[list[str]]) -> list[str]:
    """Rows of cells as a Markdown table (the first row is the header; the first column names,
    the others count, right-aligned)."""
    rule = ["---", *("---:" for _ in rows[0][1:])]
    return ["| " + " | ".join(cells) + " |" for cells in (rows[0], rule, *rows[1:])]


def _faults(report: dict[str, Any]) -> str:
    counts = Counter(f["name"] + ("" if f.get("ok") else "!") for f in report["faults"])
    return " ".join(f"{name}x{n}" for name, n in counts.items()) or "-"


def row(report: dict[str, Any]) -> list[str]:
    """One target's line of the table."""
    broken = report["broken"]
    return [
        report["target"],
        str(sum(report["operations"].values())),
        str(report["confirmed_revocations"]),
        _faults(report),
        str(broken["revocation_undone"]),
        str(broken["refused_dishonestly"]),
        str(broken["unclear_5xx"]),
        str(report["no_answer"]),
    ]


def render(reports: list[dict[str, Any]], seed: int | list[int]) -> str:
    """The whole report: the table, then each target's schedule and examples."""
    if isinstance(seed, list):
        lines = [
            f"chaos, seeds {', '.join(map(str, seed))} (the seed of each: its report.json)",
            "",
        ]
    else:
        lines = [
            f"chaos, seed {seed} (replay: python -m lab chaos --seed {seed} ...same flags)",
            "",
        ]
    lines += aligned([list(HEADER), *(row(report) for report in reports)])
    lines.append("")
    lines.append(LEGEND + " '!' a fault that failed.")
    for report in reports:
        lines += details(report)
    return "\n".join(lines) + "\n"


def details(report: dict[str, Any]) -> list[str]:
    """A target's schedule, operations, and the first examples of each promise broken."""
    ops = ", ".join(f"{k} {v}" for k, v in sorted(report["operations"].items()))
    lines = ["", f"{report['target']}: {ops}"]
    for fault in report["faults"]:
        what = fault.get("detail") or fault.get("error") or ""
        lines.append(
            f"  fault {fault['name']} {fault['start']:.1f}-{fault['end']:.1f}s"
            f"{'' if fault.get('ok') else ' FAILED'} {what}"
        )
    for kind in KINDS:
        if report["broken"][kind]:
            causes = ", ".join(f"{n} with {f}" for f, n in report["broken_during"][kind].items())
            lines.append(f"  {kind} {report['broken'][kind]}: {causes}")
        for ex in report["examples"][kind]:
            lines.append(
                f"  {kind}: op {ex['op']} at {ex['t']:.2f}s {ex['kind']} {ex['cred']} -> "
                f"{ex['status']} via {ex['replica']} ({ex['why']}): {ex['answer'][:120]}"
            )
    return lines
