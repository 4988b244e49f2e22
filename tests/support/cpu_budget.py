"""Where the suite's time goes: CPU seconds and wall seconds per test module, opt-in.

    .venv/bin/pytest -n 4 --dist loadgroup --cpu-by-module

On two cores the suite is bound by CPU, not by its sleeps: a module that waits costs little,
one that keeps gunicorn replicas busy costs a lot. The CPU counted for a test is its worker's
own (the in-process servers, the load generators, the notebooks' clients) plus every child
process the worker reaped while the test ran (replicas, Redis, HAProxy, kernels, Chromium):
processes a shared lab keeps for the whole run are counted when it stops, in no module.
Each worker sums its modules; the controller prints the table at the end.
"""

from __future__ import annotations

import resource
import time
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest

#: Modules shown in the table (the rest are summed in one line).
SHOWN = 20

_by_module: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0])
_collected: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0])


def cpu_seconds() -> float:
    """User and system CPU of this process and of every child it has reaped."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """Set-up, call and teardown of one test, charged to its module."""
    cpu, wall = cpu_seconds(), time.monotonic()
    yield
    row = _by_module[item.nodeid.split("::")[0]]
    row[0] += cpu_seconds() - cpu
    row[1] += time.monotonic() - wall
    row[2] += 1


def pytest_sessionfinish(session: pytest.Session) -> None:
    """A worker hands its sums to the controller; a run without workers keeps them."""
    output = getattr(session.config, "workeroutput", None)
    if output is not None:
        output["cpu_by_module"] = dict(_by_module)
    else:
        _merge(_by_module)


def pytest_testnodedown(node: Any, error: object) -> None:
    """The controller adds up what each worker measured (pytest-xdist's hook)."""
    _merge(getattr(node, "workeroutput", {}).get("cpu_by_module", {}))


def _merge(rows: dict[str, list[float]]) -> None:
    for module, (cpu, wall, count) in rows.items():
        total = _collected[module]
        total[0] += cpu
        total[1] += wall
        total[2] += count


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The table: the modules that cost the most CPU first."""
    if not _collected:
        return
    rows = sorted(_collected.items(), key=lambda kv: -kv[1][0])
    cpu_total = sum(r[0] for _, r in rows)
    wall_total = sum(r[1] for _, r in rows)
    write = terminalreporter.write_line
    terminalreporter.section("CPU by test module (tests.support.cpu_budget)")
    write(f"{'CPU s':>8} {'share':>6} {'wall s':>8} {'tests':>6}  module")
    for module, (cpu, wall, count) in rows[:SHOWN]:
        write(f"{cpu:8.1f} {cpu / cpu_total:6.1%} {wall:8.1f} {count:6d}  {module}")
    rest = rows[SHOWN:]
    if rest:
        cpu = sum(r[0] for _, r in rest)
        wall = sum(r[1] for _, r in rest)
        count = sum(int(r[2]) for _, r in rest)
        write(f"{cpu:8.1f} {cpu / cpu_total:6.1%} {wall:8.1f} {count:6d}  ({len(rest)} more)")
    write(f"{cpu_total:8.1f} {'':>6} {wall_total:8.1f}  in all (wall: summed over workers)")
