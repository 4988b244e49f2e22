"""The lab's bindings reach the replicas: each server's environment names its own binding."""

from __future__ import annotations

import pytest

from lab.engine import replicas
from lab.engine.state import LabConfig, LabError, LabState


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
