"""The console in a real Chromium: the verdicts on the page are the servers' real behaviour.

Each test plays the story an instructor plays: pick a server and mode, the victim logs in, the
attacker copies the cookie and keeps trying live, the victim (or the admin) ends it; then it
reads the page. A screenshot of each ending is kept in pytest's temporary directory.
"""

from __future__ import annotations

import time
from datetime import datetime

import pytest

from .conftest import ACCESS_TTL
from .page import ConsolePage

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def page(browser, console_url) -> ConsolePage:
    """The console page, loaded once for the module."""
    return ConsolePage(browser, console_url)


def test_page_offers_every_mode_the_lab_knows(page: ConsolePage):
    from lab.engine.state import JWT_MODES, SESSION_STORES

    offered = page.driver.execute_script(
        "return [...document.querySelectorAll('#settings button')].map(b => b.dataset.key)"
    )
    assert offered == [f"session/{s}" for s in SESSION_STORES] + [f"jwt/{m}" for m in JWT_MODES]
    assert "two separate cookie jars" in page.text("jar-note")


@pytest.mark.parametrize("store", ["redis", "memory"])
def test_session_copy_dies_at_logout(page: ConsolePage, artefacts, store: str):
    page.use(f"session/{store}")
    before = page.login_and_steal()
    assert "HttpOnly" in page.text("victim-set-cookie")
    if store == "redis":
        assert set(before) == {"200"}, "every replica reads the session from Redis"
    else:
        # Only the replica that saw the login holds the session; HAProxy keeps us on it.
        assert sorted(before) == ["200"] + ["401"] * (len(before) - 1)
    page.start_attack()
    assert page.wait_for(lambda d: page.log("attacker")[0]["text"].find("via HAProxy") >= 0)
    assert page.log("attacker")[0]["status"] == "200", "the copy works before the logout"
    assert page.act("logout") == "revoked"
    refused = page.wait_attacker_after("401")
    page.stop_attack()
    assert [e for e in page.attacker_after() if e["status"] == "200"] == []
    assert float(refused["since"] or 0) >= 0
    assert "401 REFUSED" in page.text("attacker-latest")
    assert page.broken_promises() == []
    page.screenshot(artefacts, f"session-{store}-logout")


def test_stateless_jwt_copy_lives_until_valid_until(page: ConsolePage, artefacts):
    page.use("jwt/stateless")
    page.login_and_steal()
    claims = page.text("victim-claims")
    assert '"exp"' in claims and '"jti"' in claims, "the JWT's claims are shown decoded"
    page.start_attack()
    assert page.act("logout") == "not-revoked"
    assert "revoked: false" in page.text("promise-text")
    let_in = page.wait_attacker_after("200")
    assert float(let_in["since"] or 0) < ACCESS_TTL
    page.screenshot(artefacts, "jwt-stateless-logout-still-in")
    refused = page.wait_attacker_after("401", timeout=ACCESS_TTL + 30)
    page.stop_attack()
    until = page.driver.execute_script(
        "return fetch('/api/lab').then(r => r.json()).then(j => j.state.revocation)"
    )
    assert until["revoked"] is False
    # Refused only once the valid_until the API announced had passed, never before.
    refused_at = until["at"] + float(refused["since"] or 0)
    assert refused_at >= datetime.fromisoformat(until["valid_until"]).timestamp() - 0.5
    assert page.broken_promises() == []
    page.screenshot(artefacts, "jwt-stateless-logout-expired")


def test_denylist_copy_dies_at_admin_revoke(page: ConsolePage, artefacts):
    page.use("jwt/denylist")
    page.login_and_steal()
    page.start_attack()
    assert page.act("revoke") == "revoked"
    page.wait_attacker_after("401")
    page.stop_attack()
    assert [e for e in page.attacker_after() if e["status"] == "200"] == []
    assert page.broken_promises() == []
    page.screenshot(artefacts, "jwt-denylist-revoke")


def test_refresh_mode_stolen_refresh_token_reuse_detected(page: ConsolePage, artefacts):
    page.use("jwt/refresh")
    page.login_and_steal()
    assert "refresh_token" in page.text("attacker-cookie")
    # The victim's browser refreshes as usual: its refresh token is rotated...
    page.click("victim-refresh")
    assert page.wait_log("victim", "POST /auth/refresh")["status"] == "200"
    time.sleep(1.5)  # past the lab's refresh grace (1 s here) for two tabs refreshing at once
    # ...so the attacker's copy is a spent token: reuse, and the whole family is revoked.
    page.click("attacker-refresh")
    reused = page.wait_log("attacker", "POST /auth/refresh")
    assert reused["status"] == "401" and "refresh_token_reused" in (reused["text"] or "")
    page.click("victim-refresh")
    page.wait_for(lambda d: len([e for e in page.log("victim") if "refresh" in e["text"]]) == 2)
    again = page.log("victim")[0]
    assert again["status"] == "401", "the family is revoked: the victim must log in again too"
    page.screenshot(artefacts, "jwt-refresh-reuse")


def test_refresh_mode_logout_leaves_the_access_token_until_valid_until(page: ConsolePage):
    page.use("jwt/refresh")
    page.login_and_steal()
    assert page.act("logout") == "not-revoked"
    page.click("attacker-everywhere")
    assert page.wait_attacker_after("200"), "the copied access token still works"
    page.click("attacker-refresh")
    refused = page.wait_log("attacker", "POST /auth/refresh")
    assert refused["status"] == "401", "the stolen refresh token died with the family"
    assert page.broken_promises() == []


def test_password_change_ends_the_copy_and_keeps_the_victim_in(page: ConsolePage):
    page.use("session/redis")
    page.login_and_steal()
    assert page.act("password") == "revoked"
    page.click("attacker-everywhere")
    page.wait_attacker_after("401")
    assert [e for e in page.attacker_after() if e["status"] == "200"] == []
    page.click("victim-me")
    assert page.wait_log("victim", "GET /auth/me")["status"] == "200", "the victim goes on"
