"""A command that changes the running lab puts it back as it found it (Ctrl-C and SIGTERM too).

`demo` and `console` borrow the running lab: they may switch the JWT mode or the access-token
lifetime. Left behind, those settings silently change what the next command measures (a load
test of "jwt" that ran refresh mode with 30 s tokens). So they borrow it inside `as_found`,
which notes the settings on entry and, however the block ends, reconfigures back whatever
differs, saying so.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import fields, replace
from typing import Any

from .api import Lab
from .state import LabError


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def changed_since(found: Any, now: Any) -> dict[str, Any]:
    """The settings of `found` that `now` no longer has: what putting back must change."""
    return {
        f.name: getattr(found, f.name)
        for f in fields(found)
        if getattr(found, f.name) != getattr(now, f.name)
    }


@contextlib.contextmanager
def as_found(lab: Lab, say: Callable[[str], None] = print) -> Iterator[Lab]:
    """Borrow `lab`: on leaving (normally, on an error, on Ctrl-C or SIGTERM) it gets back every
    setting it had on entry."""
    found = replace(lab.config, env=dict(lab.config.env))
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _interrupt) if main else None
    try:
        yield lab
    finally:
        if main:
            signal.signal(signal.SIGTERM, previous)
        back = changed_since(found, lab.config)
        if back:
            said = ", ".join(f"{k}={v}" for k, v in back.items())
            say(f"putting the lab back as it was: {said}")
            try:
                lab.reconfigure(**back)
            except LabError as exc:  # say so, and how to mend it, rather than hide the cause
                say(f"could not put the lab back ({exc}); `lab up --reset` brings the defaults")
