"""The lab's clients on bound servers: the victim's browser holds a key, the thief never does.

`python -m lab up --session-binding dbsc --jwt-binding dpop` binds the servers' credentials
(docs/binding.md); a client of such a server signs with a key kept in memory
(`loadtests.bound.ClientKey`, never serialized). The thief's copy (`Client.steal`) takes the
cookies only: a plain jar, no key.
"""

from __future__ import annotations

import requests

from loadtests.bound import BoundSession

from ..engine.state import LabConfig


def binding_of(config: LabConfig, server: str) -> str:
    """The binding `server` runs with: "none", "dbsc" or "dpop"."""
    return config.session_binding if server == "session" else config.jwt_binding


def browser_session(config: LabConfig, server: str) -> requests.Session:
    """What the victim's browser is to `server`: a plain jar, or one that holds a key."""
    binding = binding_of(config, server)
    if binding == "none":
        return requests.Session()
    return BoundSession(dpop=binding == "dpop", dbsc=binding == "dbsc")
