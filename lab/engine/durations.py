"""Durations as people and tools write them ('30s', '1h30m', '1ms', '850us'), read once.

Locust's run time (`--time 2m`), wrk's latencies ('10.21ms') and the latency proxy's delays
('1ms:0.2ms') all go through `seconds`; only the unit a bare number means differs. `Latency`
is the lab's setting for a store's distance (`--store-latency`, `--replication-lag`).
Standard library only: `python -m lab.store.latency_proxy` runs on it alone.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

#: Seconds per unit; "m" is a minute (Locust, wrk), never a millisecond.
UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6}

_PART = re.compile(r"([0-9]*\.?[0-9]+)\s*(h|ms|m|s|us|µs)?")

#: Above this a "distance" is a configuration mistake, not a network (cross-region is ~100 ms).
MAX_LATENCY_S = 0.5


def seconds(text: str, bare: str = "s") -> float:
    """'90', '30s', '1h30m', '1m 5s', '1ms', '850us' in seconds; a bare number is in `bare`.

    ValueError on anything else (a unit alone, a number after a unit: '3m2').
    """
    spaced = text.strip()
    parts = [(m.group(1), m.group(2)) for m in _PART.finditer(spaced)]
    if not parts or "".join(n + (u or "") for n, u in parts) != re.sub(r"\s", "", spaced):
        raise ValueError(f"not a duration: {text!r}")
    if len(parts) > 1 and any(unit is None for _, unit in parts):
        raise ValueError(f"not a duration: {text!r}")
    return sum(float(n) * UNIT_SECONDS[unit or bare] for n, unit in parts)


@dataclass(frozen=True)
class Latency:
    """Round-trip latency added by the proxy, and its jitter, in seconds."""

    delay: float = 0.0
    jitter: float = 0.0

    @classmethod
    def parse(cls, text: str) -> Latency:
        """`1ms` or `1ms:0.2ms` (delay:jitter); ValueError on anything else."""
        parts = text.split(":")
        if len(parts) > 2:
            raise ValueError(f"expected DELAY or DELAY:JITTER (e.g. 1ms:0.2ms), got {text!r}")
        values = [_delay(part) for part in parts]
        latency = cls(values[0], values[1] if len(values) == 2 else 0.0)
        if latency.delay + latency.jitter > MAX_LATENCY_S:
            raise ValueError(f"{text!r} is more than {MAX_LATENCY_S * 1000:g} ms")
        return latency

    @classmethod
    def parse_delay(cls, text: str) -> float:
        """One delay (`200ms`), no jitter, in seconds; ValueError on anything else."""
        latency = cls.parse(text)
        if latency.jitter:
            raise ValueError(f"expected one delay (e.g. 200ms), not a delay and a jitter: {text!r}")
        return latency.delay

    def one_way(self) -> float:
        """The delay for one chunk in one direction: half the round trip, plus jitter."""
        extra = random.uniform(0.0, self.jitter / 2) if self.jitter else 0.0  # noqa: S311
        return self.delay / 2 + extra

    def __str__(self) -> str:
        text = f"{self.delay * 1000:g}ms"
        return text + (f":{self.jitter * 1000:g}ms" if self.jitter else "")


def _delay(text: str) -> float:
    """One delay of a latency: milliseconds when no unit is given ('1' is 1 ms)."""
    try:
        return seconds(text, bare="ms")
    except ValueError:
        raise ValueError(f"not a duration: {text!r} (e.g. 1ms, 200us)") from None
