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


def left_alone(*answers: tuple[str, float, int]) -> dict:
    """The summary of answers (who, seconds after the theft, status), as Story.probe notes them."""
    from lab.experiments.left_alone import LeftAlone

    alone = LeftAlone(stolen_at=100.0)
    for who, at, status in answers:
        if who == "attacker":
            alone.attacker.append((at, status))
        else:
            alone.victim.append((at, status))
    return alone.summary()


def test_a_copy_refused_from_its_first_try_is_told_so_with_the_victim_after_it():
    from lab.experiments.left_alone import sentence

    summary = left_alone(("attacker", 0.01, 401), ("victim", 0.02, 200))
    assert summary["worked_s"] is None and summary["refused_after_s"] == 0.01
    assert summary["victim"] == "in"
    text = sentence("jwt (stateless, bound: dpop)", summary)
    assert "refused from its first try" in text and "the victim was still let in" in text


def test_a_copy_that_worked_then_died_is_timed_from_its_answers():
    from lab.experiments.left_alone import sentence

    summary = left_alone(
        ("attacker", 0.1, 200), ("victim", 0.1, 200), ("attacker", 2.1, 200),
        ("attacker", 2.2, 401), ("victim", 2.25, 401),
    )  # fmt: skip
    assert (summary["worked_s"], summary["refused_after_s"], summary["victim"]) == (2.1, 2.2, "out")
    text = sentence("session (redis, bound: dbsc)", summary, cookie_ttl=2)
    assert "worked until 2.1 s after the theft (DBSC_COOKIE_TTL: 2 s)" in text
    assert text.endswith("the victim was refused too.")
    still = left_alone(("attacker", 0.1, 200), ("attacker", 4.5, 200))
    assert "still works 4.5 s after the theft" in sentence("session (redis)", still)


def test_an_unbound_timeline_becomes_a_window_row_beside_the_bound_ones():
    from lab.experiments.binding_study import timeline_window

    timeline = {
        "server": "session", "mode": "redis", "action": "logout", "revoked_at": 1.5,
        "api": {"revoked": True},
        "events": [
            {"t": 0.0, "who": "victim", "status": 200, "event": "login"},
            {"t": 0.5, "who": "attacker", "status": None, "event": "copies the cookie"},
            {"t": 0.6, "who": "attacker", "status": 200},
            {"t": 1.4, "who": "attacker", "status": 200},
            {"t": 1.6, "who": "attacker", "status": 401},
        ],
    }  # fmt: skip
    row = timeline_window(timeline)
    assert row["configuration"] == "session (redis)" and row["binding"] == "none"
    assert row["worked_s"] == pytest.approx(0.9) and row["refused_after_s"] == pytest.approx(1.1)
    assert row["acted_s"] == pytest.approx(1.0) and row["api_revoked"] is True
