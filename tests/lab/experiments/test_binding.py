"""The lab's clients on bound servers: the demo's victim holds a key that cannot be exported."""

from __future__ import annotations

import pickle

import pytest
import requests

from lab.engine.state import LabConfig
from lab.experiments.binding import browser_session
from loadtests.bound import BoundSession, ClientKey


def test_the_victim_holds_a_key_only_on_a_bound_server():
    config = LabConfig(session_binding="dbsc", jwt_binding="none")
    session, jwt = browser_session(config, "session"), browser_session(config, "jwt")
    assert isinstance(session, BoundSession) and session.dbsc and not session.dpop
    assert type(jwt) is requests.Session


def test_a_client_key_cannot_be_exported():
    key = ClientKey()
    with pytest.raises(TypeError, match="cannot be exported"):
        pickle.dumps(key)
    assert "d" not in key.jwk  # the public half only
    assert not hasattr(key, "__dict__")  # no attribute to stash a serialized copy in
