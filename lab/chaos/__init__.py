"""`python -m lab chaos`: faults on a seeded schedule while clients log in, log out, change
passwords and replay stolen copies; then a checker reads the history for every promise broken.

    schedule.py   the seeded fault schedule (what, when, for how long)
    faults.py     the injectors: flush, restart empty, kill the primary, a replica crash, a
                  skewed clock, a partition that isolates the primary
    clients.py    the workload: each client owns one user and records every request it makes
    history.py    the recorded history (JSON lines: a header, operations, fault events)
    checker.py    reads a history, reports each promise broken
    table.py      the report as text
    partition.py  sets the latency proxy's partition rules (lab/store/gate.py)
    run.py        one target (server, mode, topology): lab, clients, faults, final reads
    command.py    the command line (`python -m lab chaos`)

The idea is Jepsen's (jepsen.io): record what every client asked and was answered, with the
time it began and ended, then judge the history afterwards against what the answers promised.
"""

from __future__ import annotations

__all__: list[str] = []  # `python -m lab chaos` runs lab/chaos/command.py
