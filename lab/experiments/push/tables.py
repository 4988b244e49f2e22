"""The push study's tables, printed for people."""

from __future__ import annotations

from typing import Any

from ..display import text_table
from .outage import outage_summary
from .race import window_summary


def print_study(result: dict[str, Any]) -> None:
    """The tables, for people."""
    run = result["run"]
    print(f"\ncommit {run['commit']}, {run['date']}, {run['machine']}, scale {run['scale']}")
    print("\nRevocation window per replica (attacker on each replica directly; ms)")
    print(text_table(window_summary(result["windows"])))
    print("\nStore commands per authenticated request (Redis INFO commandstats, idle subtracted)")
    cols = ["config", "accepted", "commands_per_request", "by_command", "server_timing_store"]
    print(text_table(result["round_trips"], cols))
    print("\nMemory per revocation (bytes)")
    print(text_table(result["memory"]))
    print("\nWarm-up: reading the stream before a replica trusts its memory")
    print(text_table(result["warmup"]))
    print(f"restart of jwt-1 in a lab: {result['restart']}")
    print("\nA Redis outage longer than the bound")
    print(text_table(outage_summary(result["outage"])))
