"""The lab's clients on bound servers: the victim's browser holds a key, the thief never does.

`python -m lab up --session-binding dbsc --jwt-binding dpop` binds the servers' credentials
(docs/binding.md); a client of such a server signs with a key kept in memory
(`loadtests.bound.ClientKey`, never serialized). The thief's copy (`Client.steal`) takes the
cookies only: a plain jar, no key. A measurement that rebinds a running lab to compare
bindings puts the lab's bindings back when it ends (`bindings_restored`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import requests

from loadtests.bound import BoundSession

from ..api import Lab
from ..engine.state import LabConfig

#: What a binding measurement changes on the lab, and puts back.
BINDING_FIELDS = ("session_binding", "jwt_binding", "env")


def binding_of(config: LabConfig, server: str) -> str:
    """The binding `server` runs with: "none", "dbsc" or "dpop"."""
    return config.session_binding if server == "session" else config.jwt_binding


def browser_session(config: LabConfig, server: str) -> requests.Session:
    """What the victim's browser is to `server`: a plain jar, or one that holds a key."""
    binding = binding_of(config, server)
    if binding == "none":
        return requests.Session()
    return BoundSession(dpop=binding == "dpop", dbsc=binding == "dbsc")


@contextmanager
def bindings_restored(lab: Lab) -> Iterator[LabConfig]:
    """The lab's configuration as found; its bindings and environment put back at the end, even
    after a failure: a measurement rebinds the lab someone else is using (the CLI's, a test's)."""
    before = lab.config
    try:
        yield before
    finally:
        lab.reconfigure(**{field: getattr(before, field) for field in BINDING_FIELDS})
