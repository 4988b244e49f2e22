"""Which phase each request belongs to: account setup, ramp-up, or the steady state.

A load test's headline must be the steady state: every user logged in, the load constant. Setup
requests (register, login in `on_start`) at bcrypt cost 12 take seconds, and requests made while
other users are still logging in meet a lab busy hashing. So every HTTP request is recorded under
one phase:

    setup    made by a user's `on_start` (register, login): their own rows
    ramp     a task's request while this process still starts users or some are in setup
    steady   a task's request once every user of this process is running its tasks

Each Locust process (the local runner, or each worker with --processes) writes its rows to
`$AUTHLAB_PHASES_DIR/phases-<pid>.json` when it quits; the runner (lab/loadtest/phases.py) adds
them up, so `requests` is exactly the sum of the rows. Custom metrics (REVOCATION) are not HTTP
requests and are left out.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from typing import Any

#: The runner names the directory the recorders write to.
PHASES_DIR_ENV = "AUTHLAB_PHASES_DIR"

#: Request types that are our own metrics, not HTTP requests.
CUSTOM_REQUEST_TYPES = ("REVOCATION",)


def bucket(ms: float) -> int:
    """Locust's rounding of response times (exact below 100 ms, 2 significant digits above)."""
    if ms < 100:
        return round(ms)
    if ms < 1000:
        return round(ms, -1)
    if ms < 10000:
        return round(ms, -2)
    return round(ms, -3)


class Row:
    """One (phase, method, name): counts and a histogram of response times."""

    def __init__(self) -> None:
        self.requests = 0
        self.failures = 0
        self.total_ms = 0.0
        self.max_ms = 0.0
        self.times: Counter[int] = Counter()
        self.errors: Counter[str] = Counter()

    def add(self, ms: float, error: str | None) -> None:
        """Count one request."""
        self.requests += 1
        self.total_ms += ms
        self.max_ms = max(self.max_ms, ms)
        self.times[bucket(ms)] += 1
        if error is not None:
            self.failures += 1
            self.errors[error[:300]] += 1

    def to_json(self) -> dict[str, Any]:
        """The row as the runner merges it."""
        return {
            "requests": self.requests,
            "failures": self.failures,
            "total_ms": self.total_ms,
            "max_ms": self.max_ms,
            "times": dict(self.times),
            "errors": dict(self.errors),
        }


class PhaseRecorder:
    """Records every HTTP request of this process under its phase, and the steady window."""

    def __init__(self, runner: Any = None) -> None:
        self.runner = runner
        self.rows: dict[tuple[str, str, str], Row] = {}
        self.in_setup = 0
        self.steady_since: float | None = None
        self.steady_seconds = 0.0
        self.windows: list[tuple[float, float]] = []
        self.done = False

    # -- users tell the recorder where they are -------------------------------------------

    def setup_started(self) -> None:
        """A user entered `on_start`: the process is not steady until it leaves."""
        self.in_setup += 1
        self._update()

    def setup_finished(self) -> None:
        """A user left `on_start` (logged in, or gave up)."""
        self.in_setup = max(0, self.in_setup - 1)
        self._update()

    def _all_started(self) -> bool:
        runner = self.runner
        if runner is None:
            return True
        target = getattr(runner, "target_user_count", None)
        return target is not None and runner.user_count >= target > 0

    def _update(self, now: float | None = None) -> None:
        """Open or close the steady window."""
        now = time.time() if now is None else now
        steady = not self.done and self.in_setup == 0 and self._all_started()
        if steady and self.steady_since is None:
            self.steady_since = now
        elif not steady and self.steady_since is not None:
            self.windows.append((self.steady_since, now))
            self.steady_since = None

    def stopped(self, now: float | None = None) -> None:
        """The test stopped: close the steady window here (users stop, the count drops)."""
        now = time.time() if now is None else now
        if self.steady_since is not None:
            self.windows.append((self.steady_since, now))
            self.steady_since = None
        self.done = True  # nothing after the stop counts as steady

    # -- Locust's request event ------------------------------------------------------------

    def on_request(
        self,
        request_type: str,
        name: str,
        response_time: float,
        exception: BaseException | None = None,
        context: dict[str, Any] | None = None,
        **_kwargs: Any,
    ) -> None:
        """Count one request under its phase (listener of `events.request`)."""
        if request_type in CUSTOM_REQUEST_TYPES:
            return
        if (context or {}).get("phase") == "setup":
            phase = "setup"
        else:
            self._update()
            phase = "steady" if self.steady_since is not None else "ramp"
        row = self.rows.setdefault((phase, request_type, name), Row())
        row.add(float(response_time or 0), None if exception is None else str(exception))

    def to_json(self, now: float | None = None) -> dict[str, Any]:
        """Everything this process recorded, with its steady windows closed at `now`."""
        now = time.time() if now is None else now
        windows = list(self.windows)
        if self.steady_since is not None:
            windows.append((self.steady_since, now))
        return {
            "pid": os.getpid(),
            "steady_windows": windows,
            "rows": [
                {"phase": phase, "method": method, "name": name, **row.to_json()}
                for (phase, method, name), row in sorted(self.rows.items())
            ],
        }

    def write(self, directory: str) -> None:
        """phases-<pid>.json in `directory`."""
        path = os.path.join(directory, f"phases-{os.getpid()}.json")
        with open(path, "w", encoding="utf-8") as out:
            json.dump(self.to_json(), out)
