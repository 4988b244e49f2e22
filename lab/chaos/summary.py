"""The table across many saved runs (`python -m lab chaos --summary RUN...`): one row per target
(server:mode × topology, naive apart), its seeds, operations, confirmed revocations, faults
injected by kind and each promise broken, with totals, and the stamp of the runs it sums.

Every history is checked again here (checker.py), so the table says what the checker says of the
saved histories, not what an older report.json said; the runs' own stamps (run.json: command,
commit, date, machine) say where the histories came from. Nothing in it is typed by hand: the
docs paste what this prints.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .checker import check
from .history import load
from .run import TARGETS, TOPOLOGIES
from .schedule import FAULTS
from .table import LEGEND, aligned, markdown

#: The promise columns: the report's key in "broken" (None: the no-answer count) and its header.
PROMISES = (
    ("revocation_undone", "undone"),
    ("refused_dishonestly", "dishonest"),
    ("unclear_5xx", "unclear5xx"),
    (None, "no-answer"),
)
#: What a fault column holds.
FAULT_LEGEND = (
    "A fault column: how many ran ('+k!': k more that failed; '-': not on this topology)."
)


@dataclass(frozen=True, order=True)
class Key:
    """A row: a target whatever its seed (sorted as the runs go: topology, then server:mode)."""

    naive: bool
    topology_rank: int
    target_rank: int
    server: str
    mode: str
    topology: str

    def label(self) -> str:
        """`jwt:denylist × single`, `jwt:denylist naive × single` with the guard off."""
        return f"{self.server}:{self.mode}{' naive' if self.naive else ''} × {self.topology}"


def key_of(header: dict[str, Any]) -> Key:
    """The row of a history (its header names the target)."""
    server, mode, topology = header["server"], header["mode"], header["topology"]
    pairs = list(TARGETS)
    return Key(
        bool(header.get("naive")),
        TOPOLOGIES.index(topology) if topology in TOPOLOGIES else len(TOPOLOGIES),
        pairs.index((server, mode)) if (server, mode) in pairs else len(pairs),
        server,
        mode,
        topology,
    )


@dataclass
class Row:
    """One target summed over its seeds."""

    seeds: set[int] = field(default_factory=set)
    histories: int = 0
    ops: int = 0
    confirmed: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    broken: Counter[str] = field(default_factory=Counter)

    def add(self, report: dict[str, Any]) -> None:
        """One history's report (checker.check) added in."""
        self.seeds.add(report["seed"])
        self.histories += 1
        self.ops += sum(report["operations"].values())
        self.confirmed += report["confirmed_revocations"]
        for fault in report["faults"]:
            (self.faults if fault.get("ok") else self.failed)[fault["name"]] += 1
        self.broken.update(report["broken"])
        self.broken["no-answer"] += report["no_answer"]

    def seed_count(self) -> str:
        """How many seeds, and how many runs when a seed ran more than once (a total, which
        adds no history itself, gives the seeds only)."""
        n = len(self.seeds)
        return str(n) if self.histories in (0, n) else f"{n} ({self.histories} runs)"

    def promise(self, kind: str | None) -> int:
        """The count of one promise column."""
        return self.broken[kind or "no-answer"]


@dataclass
class Run:
    """One saved run folder: its stamp (run.json, {} before runs wrote one) and its reports."""

    path: Path
    stamp: dict[str, Any]
    reports: list[tuple[Key, dict[str, Any]]]


def run_folders(paths: list[Path]) -> list[Path]:
    """The run folders in `paths`: every folder holding histories, at any depth (so the
    `--results` folder of many runs can be given whole)."""
    found = {h.parent for path in paths for h in path.rglob("*.history.jsonl")}
    return sorted(found)


def read_run(folder: Path) -> Run:
    """A run folder's stamp and every history in it, checked."""
    stamp_file = folder / "run.json"
    stamp = json.loads(stamp_file.read_text()) if stamp_file.is_file() else {}
    reports = []
    for history in sorted(folder.glob("*.history.jsonl")):
        header, records = load(history)
        reports.append((key_of(header), check(header, records)))
    return Run(folder, stamp, reports)


def only(runs: list[Run], pairs: list[tuple[str, str]] | None, topologies: list[str]) -> list[Run]:
    """The runs' histories of these server:mode pairs (None: every one) on these topologies;
    a run left with none drops out (its seed and command are not the table's)."""
    kept = []
    for run in runs:
        reports = [
            (key, report)
            for key, report in run.reports
            if (pairs is None or (key.server, key.mode) in pairs) and key.topology in topologies
        ]
        if reports:
            kept.append(replace(run, reports=reports))
    return kept


def rows_of(runs: list[Run]) -> dict[Key, Row]:
    """Every target's row, in the order the runs go."""
    rows: dict[Key, Row] = {}
    for run in runs:
        for key, report in run.reports:
            rows.setdefault(key, Row()).add(report)
    return dict(sorted(rows.items()))


def _fault_cell(row: Row, name: str, topology: str | None) -> str:
    if topology is not None and topology not in FAULTS[name]:
        return "-"  # this fault does not apply to this topology
    failed = f"+{row.failed[name]}!" if row.failed[name] else ""
    return f"{row.faults[name]}{failed}"


def _cells(label: str, row: Row, topology: str | None) -> list[str]:
    return (
        [label, row.seed_count(), str(row.ops), str(row.confirmed)]
        + [_fault_cell(row, name, topology) for name in FAULTS]
        + [str(row.promise(kind)) for kind, _ in PROMISES]
    )


def table(rows: dict[Key, Row]) -> list[list[str]]:
    """The header, a line per target, and the totals: of the guarded targets, and apart, of the
    naive ones (a sum across both would say nothing)."""
    lines = [["target", "seeds", "ops", "confirmed", *FAULTS, *(h for _, h in PROMISES)]]
    totals: dict[bool, Row] = {}
    for key, row in rows.items():
        lines.append(_cells(key.label(), row, key.topology))
        total = totals.setdefault(key.naive, Row())
        total.seeds |= row.seeds
        total.ops += row.ops
        total.confirmed += row.confirmed
        total.faults += row.faults
        total.failed += row.failed
        total.broken += row.broken
    for naive, total in sorted(totals.items()):
        lines.append(_cells("total naive" if naive else "total", total, None))
    return lines


def _undone(row: Row) -> str:
    """`3 undone, 120 confirmed (seeds 201-203)`: the undone count also holds the `valid_until`
    promises a `revoked: false` made (refresh mode), which `confirmed` does not count."""
    return (
        f"{row.promise('revocation_undone')} undone, {row.confirmed} confirmed "
        f"(seeds {_seed_list(sorted(row.seeds))})"
    )


def before_after(rows: dict[Key, Row]) -> list[list[str]]:
    """For each target run both naive and guarded: the revocations undone each side (empty when
    no target was run both ways)."""
    lines = []
    for key, naive in rows.items():
        guarded = rows.get(replace(key, naive=False))
        if not key.naive or guarded is None:
            continue
        lines.append(
            [
                key.label().replace(" naive", ""),
                _undone(naive),
                _undone(guarded),
            ]
        )
    header = ["target", "guard off (naive)", "guard on"]
    return [header, *lines] if lines else []


def _seed_list(seeds: list[int]) -> str:
    """`201-210`, or `101, 103, 107` when they are not consecutive."""
    if len(seeds) > 2 and seeds == list(range(seeds[0], seeds[-1] + 1)):
        return f"{seeds[0]}-{seeds[-1]}"
    return ", ".join(map(str, seeds))


def _commands(runs: list[Run]) -> str:
    """The runs' commands, each shape once: runs that differ only by their seed share one line,
    the seed written S (a shape run once is written as it ran)."""
    shapes: dict[str, list[Run]] = {}
    for run in runs:
        if "command" not in run.stamp:
            shapes.setdefault(f"{run.path} (no run.json)", []).append(run)
            continue
        shape = re.sub(rf"(?<!\d){run.stamp['seed']}(?!\d)", "S", run.stamp["command"])
        shapes.setdefault(shape, []).append(run)
    parts = []
    for shape, group in shapes.items():
        if "command" not in group[0].stamp:
            parts.append(shape)
        elif len(group) == 1:
            parts.append(f"`{group[0].stamp['command']}`")
        else:
            parts.append(f"`{shape}` (S: {_seed_list(sorted(r.stamp['seed'] for r in group))})")
    return ("Each run: " if len(runs) > 1 else "Run: ") + "; ".join(parts)


def stamp_lines(runs: list[Run], printed_by: str, checked_at: dict[str, str]) -> list[str]:
    """Where the histories came from (one line per commit and machine), the runs' command, and
    the command and checker that printed the table."""
    seeds = sorted({report["seed"] for run in runs for _, report in run.reports})
    histories = sum(len(run.reports) for run in runs)
    lines = [f"Seeds {_seed_list(seeds)}: {len(runs)} run(s), {histories} histories."]
    groups: dict[tuple[str, str], list[Run]] = {}
    for run in runs:
        where = (run.stamp.get("commit", "unknown"), run.stamp.get("machine", "unknown"))
        groups.setdefault(where, []).append(run)
    for (commit, machine), group in groups.items():
        dates = sorted(r.stamp["date"] for r in group if "date" in r.stamp) or ["unknown"]
        when = dates[0] if dates[0] == dates[-1] else f"{dates[0]} to {dates[-1]}"
        group_seeds = sorted({r.stamp.get("seed") for r in group} - {None})
        lines.append(
            f"Commit {commit}, {when}, {machine}"
            + (f" (seeds {_seed_list(group_seeds)})" if len(groups) > 1 else "")
            + "."
        )
    lines.append(f"{_commands(runs)}.")
    lines.append(
        f"Printed by `{printed_by}` (histories checked again at commit {checked_at['commit']}, "
        f"{checked_at['date']})."
    )
    return lines


def render(runs: list[Run], printed_by: str, checked_at: dict[str, str], md: bool) -> str:
    """The whole summary: the table, the before/after table when there is one, the stamp."""
    rows = rows_of(runs)
    fmt = markdown if md else aligned
    lines = fmt(table(rows))
    pair = before_after(rows)
    if pair:
        lines += ["", *fmt(pair)]
    lines += ["", f"{LEGEND} {FAULT_LEGEND}"]
    lines += ["", *stamp_lines(runs, printed_by, checked_at)]
    return "\n".join(lines) + "\n"


def broke_any(runs: list[Run]) -> bool:
    """Whether any history broke a promise (the command's exit status 3)."""
    return any(any(report["broken"].values()) for run in runs for _, report in run.reports)
