"""Attach to the running lab, or start one: one step for the demo, the console, the experiments.

A command that needs a lab uses the one that runs (`python -m lab up`) when there is one, and
otherwise starts its own: in a private temporary directory (the demo, the console, an
experiment pool without a shared lab), or in the directory it was given (a shared lab the
notebook tests start once). What it started, it stops when done; what it found, it leaves.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .api import Lab


@dataclass
class Lease:
    """A lab to work on; closing the lease stops it only if this lease started it."""

    lab: Lab
    started: bool
    _tmp: tempfile.TemporaryDirectory[str] | None = field(default=None, repr=False)

    def close(self) -> None:
        """Stop the lab if we started it, and remove its private directory."""
        try:
            if self.started:
                self.lab.down()
        finally:
            if self._tmp is not None:
                self._tmp.cleanup()
                self._tmp = None

    def __enter__(self) -> Lease:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def attach_or_start(
    state_dir: str | os.PathLike[str] | None = None,
    *,
    attach: bool = True,
    private: bool = True,
    prefix: str = "authlab-",
    starting: Callable[[Path], None] | None = None,
    **config: Any,
) -> Lease:
    """The lab running in `state_dir` (None: `.lab/`), else a new one with `config`.

    The new lab lives in a private temporary directory (`private`, named `prefix...`), or in
    `state_dir` itself; `starting(directory)` is told before it starts. Without `attach`, a
    new lab is started whatever runs. A lab that fails to start is stopped again.
    """
    if attach:
        lab = Lab.attach(state_dir)
        if lab is not None:
            return Lease(lab, started=False)
    # A short path for a private lab: HAProxy's admin socket lives inside (~100-byte limit).
    tmp = tempfile.TemporaryDirectory(prefix=prefix) if private or state_dir is None else None
    directory = Path(tmp.name if tmp is not None else state_dir)  # type: ignore[arg-type]
    lease = Lease(Lab(state_dir=directory, **config), started=True, _tmp=tmp)
    if starting is not None:
        starting(directory)
    try:
        lease.lab.up()
    except BaseException:
        lease.close()
        raise
    return lease
