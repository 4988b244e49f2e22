"""`python -m lab demo stolen-cookie` on a real lab: the verdicts match the mechanisms."""

from __future__ import annotations

import io

import pytest

from lab import Lab
from lab.demo import terminal as demo

pytestmark = pytest.mark.lab

#: Bearer credentials: the shared lab may come bound from notebook 09 or the console tests.
UNBOUND = {"session_binding": "none", "jwt_binding": "none"}


def play(lab: Lab, *args: str) -> str:
    out = io.StringIO()
    code = demo.main(
        ["stolen-cookie", "--no-pause", "--state-dir", str(lab.state_dir), *args], out=out
    )
    assert code == 0
    return out.getvalue()


def test_logout_verdicts(experiment_lab: Lab):
    experiment_lab.reconfigure(
        session_store="redis", jwt_mode="stateless", lb_policy="roundrobin", **UNBOUND
    )
    text = play(experiment_lab)
    assert "\033[" not in text, "no colour codes when the output is not a terminal"
    assert "SAFE    session (redis): after 'logout' the stolen copy is dead" in text
    assert "EXPOSED jwt (stateless): after 'logout' the stolen copy still works" in text
    # Every replica was tried directly, not just the balancer.
    for index in range(1, experiment_lab.config.replicas + 1):
        assert f"session-{index} directly" in text
        assert f"jwt-{index} directly" in text


def test_admin_revoke_on_denylist(experiment_lab: Lab):
    experiment_lab.reconfigure(jwt_mode="denylist", lb_policy="roundrobin", **UNBOUND)
    text = play(experiment_lab, "--server", "jwt", "--action", "revoke")
    assert "SAFE    jwt (denylist): after 'revoke' the stolen copy is dead" in text
    assert "session server" not in text


def test_the_stateless_ending_says_how_far_away_it_is():
    assert "15 min" in demo.stateless_note(None) and "--access-ttl 30" in demo.stateless_note(None)
    assert "30 s after login" in demo.stateless_note(30)


def test_colour_only_on_a_terminal():
    narrator = demo.Narrator(io.StringIO(), pause=False, colour=True)
    assert narrator.paint("x", "red") == "\033[31mx\033[0m"
    assert demo.Narrator(io.StringIO(), pause=False).paint("x", "red") == "x"


def test_refresh_mode_shows_the_stolen_refresh_token(experiment_lab: Lab):
    experiment_lab.reconfigure(jwt_mode="stateless", lb_policy="roundrobin", **UNBOUND)
    text = play(experiment_lab, "--server", "jwt", "--jwt-mode", "refresh", "--access-ttl", "45")
    assert "Switching its JWT server to refresh mode with 45 s access tokens" in text
    # The demo leaves no setting behind: the next command measures the lab it expects.
    assert "putting the lab back as it was: jwt_mode=stateless, access_ttl=" in text
    found = Lab.attach(experiment_lab.state_dir)
    assert found is not None
    assert (found.config.jwt_mode, found.config.access_ttl) == (
        "stateless",
        experiment_lab.config.access_ttl,
    )
    # After the logout, the copied refresh token is dead with its family.
    assert "attacker  POST /auth/refresh -> 401" in text
    # A fresh theft: the stolen refresh token works once, then the victim's spent one is reuse.
    assert "attacker  POST /auth/refresh -> 200 new access and refresh tokens" in text
    assert "victim    POST /auth/refresh -> 401 refresh_token_reused" in text
    assert "REUSE   jwt (refresh): a stolen refresh token used: detected, family revoked." in text
