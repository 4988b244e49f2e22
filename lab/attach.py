"""Attach to the running lab, or start one, and put it back: one step for the demo, the console,
the experiments.

A command that needs a lab uses the one that runs (`python -m lab up`) when there is one, and
otherwise starts its own: in a private temporary directory (the demo, the console, an
experiment pool without a shared lab), or in the directory it was given (a shared lab the
notebook tests start once). What it started, it stops when done; what it found, it puts back as
it found it. The demo and the console may switch the JWT mode or the access-token lifetime of
the lab they borrow; left behind, those settings silently change what the next command measures
(a load test of "jwt" that ran refresh mode with 30 s tokens). So closing a lease on a found lab
reconfigures back every setting that differs, saying so; used with `with`, it does so on an
error, on Ctrl-C and on SIGTERM too.
"""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from .api import Lab
from .engine.state import LabConfig, LabError


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@contextlib.contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """SIGTERM ends the block as Ctrl-C does, so that its cleanup runs (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def changed_since(found: Any, now: Any) -> dict[str, Any]:
    """The settings of `found` that `now` no longer has: what putting back must change."""
    return {
        f.name: getattr(found, f.name)
        for f in fields(found)
        if getattr(found, f.name) != getattr(now, f.name)
    }


@dataclass
class Lease:
    """A lab to work on; closing the lease stops it if this lease started it, else puts it back."""

    lab: Lab
    started: bool
    say: Callable[[str], None] = print
    _tmp: tempfile.TemporaryDirectory[str] | None = field(default=None, repr=False)
    #: The settings of a found lab when the lease took it: what closing puts back.
    found: LabConfig | None = field(default=None, repr=False)
    _sigterm: contextlib.ExitStack = field(default_factory=contextlib.ExitStack, repr=False)

    def __post_init__(self) -> None:
        if not self.started and self.found is None:
            self.found = replace(self.lab.config, env=dict(self.lab.config.env))

    def put_back(self) -> None:
        """Reconfigure a found lab back to the settings it had when the lease took it."""
        back = changed_since(self.found, self.lab.config) if self.found is not None else {}
        if not back:
            return
        self.say(
            "putting the lab back as it was: " + ", ".join(f"{k}={v}" for k, v in back.items())
        )
        try:
            self.lab.reconfigure(**back)
        except LabError as exc:  # say so, and how to mend it, rather than hide the cause
            self.say(f"could not put the lab back ({exc}); `lab up --reset` brings the defaults")

    def close(self) -> None:
        """Stop the lab if we started it (and remove its private directory), else put it back."""
        try:
            if self.started:
                self.lab.down()
            else:
                self.put_back()
        finally:
            if self._tmp is not None:
                self._tmp.cleanup()
                self._tmp = None

    def __enter__(self) -> Lease:
        self._sigterm.enter_context(sigterm_interrupts())  # SIGTERM, too, ends in `close`
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            self.close()
        finally:
            self._sigterm.close()


def attach_or_start(
    state_dir: str | os.PathLike[str] | None = None,
    *,
    attach: bool = True,
    private: bool = True,
    prefix: str = "authlab-",
    starting: Callable[[Path], None] | None = None,
    say: Callable[[str], None] = print,
    **config: Any,
) -> Lease:
    """The lab running in `state_dir` (None: `.lab/`), else a new one with `config`.

    The new lab lives in a private temporary directory (`private`, named `prefix...`), or in
    `state_dir` itself; `starting(directory)` is told before it starts. Without `attach`, a
    new lab is started whatever runs. A lab that fails to start is stopped again. `say` tells
    what putting a found lab back changes.
    """
    if attach:
        lab = Lab.attach(state_dir)
        if lab is not None:
            return Lease(lab, started=False, say=say)
    # A short path for a private lab: HAProxy's admin socket lives inside (~100-byte limit).
    tmp = tempfile.TemporaryDirectory(prefix=prefix) if private or state_dir is None else None
    directory = Path(tmp.name if tmp is not None else state_dir)  # type: ignore[arg-type]
    lease = Lease(Lab(state_dir=directory, **config), started=True, say=say, _tmp=tmp)
    if starting is not None:
        starting(directory)
    try:
        with sigterm_interrupts():  # a SIGTERM while it starts stops what already runs
            lease.lab.up()
    except BaseException:
        lease.close()
        raise
    return lease
