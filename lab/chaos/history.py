"""The recorded history of one run: one JSON object per line, in the order things ended.

Line 1 is the header (`type: "run"`: seed, target, schedule, the wall clock at t=0); then
`op` lines (one request: client, kind, credential, start and end in seconds since t=0, status,
JSON answer) and `fault` lines (an injection: name, start, end, what it did). The checker needs
nothing else, so a saved history can be checked again later (`lab chaos --check FILE`).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

#: Answers longer than this (characters of non-JSON text) are cut: an HTML page is evidence
#: enough in its first lines.
TEXT_LIMIT = 300


class History:
    """A thread-safe, append-only list of records with a shared clock (t=0 at creation)."""

    def __init__(self, header: dict[str, Any]):
        self.t0 = time.monotonic()
        self.header = {"type": "run", "wall_t0": time.time(), **header}
        self.records: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._next_id = 0
        #: Operations begun and not ended yet: id -> kind (a fault can wait for a logout).
        self.in_flight: dict[int, str] = {}

    def now(self) -> float:
        """Seconds since t=0."""
        return time.monotonic() - self.t0

    def begin(self, kind: str) -> tuple[int, float]:
        """A new operation's id and start time; it counts as in flight until `end`."""
        with self._lock:
            self._next_id += 1
            self.in_flight[self._next_id] = kind
            return self._next_id, self.now()

    def end(self, op_id: int, record: dict[str, Any]) -> dict[str, Any]:
        """Record a finished operation (its end time is now)."""
        record = {"type": "op", "id": op_id, **record, "end": round(self.now(), 4)}
        with self._lock:
            self.in_flight.pop(op_id, None)
            self.records.append(record)
        return record

    def fault(self, record: dict[str, Any]) -> None:
        """Record one fault, once it healed (or failed)."""
        with self._lock:
            self.records.append({"type": "fault", **record})

    def busy_with(self, kinds: Iterable[str]) -> bool:
        """Whether an operation of one of `kinds` is in flight right now."""
        wanted = set(kinds)
        with self._lock:
            return any(kind in wanted for kind in self.in_flight.values())

    def write(self, path: Path) -> Path:
        """The header, then every record, one JSON object per line."""
        with self._lock:
            lines = [self.header, *self.records]
        path.write_text("".join(json.dumps(line, sort_keys=True) + "\n" for line in lines))
        return path


def load(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(header, records) of a saved history."""
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    if not lines or lines[0].get("type") != "run":
        raise ValueError(f"{path} is not a chaos history (no header line)")
    return lines[0], lines[1:]


def answer_of(response: Any) -> tuple[Any, str | None]:
    """(the JSON body or None, the start of the text when it is not JSON)."""
    try:
        return response.json(), None
    except ValueError:
        return None, (response.text or "")[:TEXT_LIMIT]
