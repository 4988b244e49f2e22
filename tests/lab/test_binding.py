"""The lab's bindings: the flags reach the replicas, and the demo's victim holds a key."""

from __future__ import annotations

import pickle

import pytest
import requests

from lab import replicas
from lab.binding import browser_session
from lab.state import LabConfig, LabError, LabState
from loadtests.bound import BoundSession, ClientKey


def test_the_bindings_reach_each_servers_environment(tmp_path):
    state = LabState(config=LabConfig(session_binding="dbsc", jwt_binding="dpop"))
    state.ensure_secrets({})
    session = replicas.environment("session", 1, state, tmp_path, "redis://127.0.0.1:1/0")
    jwt = replicas.environment("jwt", 1, state, tmp_path, "redis://127.0.0.1:1/0")
    assert session["SESSION_BINDING"] == "dbsc" and "JWT_BINDING" not in session
    assert jwt["JWT_BINDING"] == "dpop" and "SESSION_BINDING" not in jwt


@pytest.mark.parametrize("field", ["session_binding", "jwt_binding"])
def test_an_unknown_binding_is_refused(field):
    with pytest.raises(LabError, match=field):
        LabConfig(**{field: "tokenbinding"}).validate()


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
