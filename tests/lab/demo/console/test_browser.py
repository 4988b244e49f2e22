"""The console in a real Chromium: the verdicts on the page are the servers' real behaviour.

Each test plays the story an instructor plays: pick a server and mode, the victim logs in, the
attacker copies the cookie and keeps trying live, the victim (or the admin) ends it; then it
reads the page. A screenshot of each ending is kept in pytest's temporary directory.

The bound cases flip a mode's binding toggle and leave it on (the next tests pick other modes
or servers; the lab is put back at the end): DPoP after the refresh-mode tests, on refresh
mode, and DBSC last, on the session server.
"""

from __future__ import annotations

import re
import time
from datetime import datetime

import pytest

from .conftest import ACCESS_TTL, DBSC_COOKIE_TTL
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


def alone_in_the_api(page: ConsolePage) -> dict:
    """The console's own record of the copy left alone (what the page's band is built from)."""
    return page.driver.execute_script(
        "return fetch('/api/lab').then(r => r.json()).then(j => j.state.alone)"
    )


def test_dpop_copy_is_refused_at_once_and_the_victim_stays_in(page: ConsolePage, artefacts):
    page.use("jwt/refresh")
    page.bind("dpop")
    assert "Bound (DPoP)" in page.text("binding-note")
    statuses = page.login_and_steal()
    assert set(statuses) == {"401"}, "the copy, without the key, is refused on every replica"
    assert "signs a fresh DPoP proof" in page.text("victim-key")
    page.click("victim-me")
    assert page.wait_log("victim", "GET /auth/me")["status"] == "200", "the victim goes on"
    state, text = page.wait_for(
        lambda d: page.left_alone()[0] == "refused" and "victim" in page.left_alone()[1]
        and page.left_alone()
    )  # fmt: skip
    assert "refused from its first try (invalid_dpop_proof" in text
    assert "the victim was still let in" in text
    assert text == alone_in_the_api(page)["text"], "the verdict is the run's own"
    # The refresh family is bound to the victim's key too: the stolen refresh token is dead.
    page.click("attacker-refresh")
    assert page.wait_log("attacker", "POST /auth/refresh")["status"] == "401"
    page.screenshot(artefacts, "jwt-refresh-dpop")


def test_password_change_ends_the_copy_and_keeps_the_victim_in(page: ConsolePage):
    page.use("session/redis")
    page.login_and_steal()
    assert page.act("password") == "revoked"
    page.click("attacker-everywhere")
    page.wait_attacker_after("401")
    assert [e for e in page.attacker_after() if e["status"] == "200"] == []
    page.click("victim-me")
    assert page.wait_log("victim", "GET /auth/me")["status"] == "200", "the victim goes on"


def test_dbsc_copy_dies_with_its_short_cookie_and_the_victim_stays_in(page: ConsolePage, artefacts):
    page.use("session/redis")
    page.bind("dbsc")
    assert f"DBSC_COOKIE_TTL {DBSC_COOKIE_TTL} s" in page.text("lab-line"), "the TTL is said"
    before = page.login_and_steal()
    assert set(before) == {"200"}, "the short cookie's copy works on every replica at first"
    assert "holds an ES256 key" in page.text("victim-key")
    page.start_attack()  # the attacker keeps trying; bound, the victim keeps browsing too
    page.wait_for(
        lambda d: page.left_alone()[0] == "refused" and "victim was" in page.left_alone()[1],
        timeout=DBSC_COOKIE_TTL + 30,
    )
    page.stop_attack()
    time.sleep(1.5)  # a live tick in flight lands
    _, text = page.left_alone()
    assert text == alone_in_the_api(page)["text"], "the verdict is the run's own"
    assert f"(DBSC_COOKIE_TTL: {DBSC_COOKIE_TTL} s)" in text
    assert "the victim was still let in" in text and "renewed the short cookie" in text
    # Its figures are the clicks' own: the copy's last 200 and first 401 on the page.
    tries = [e for e in page.log("attacker") if e["theft"] and not e["since"]]
    let_in = [float(e["theft"]) for e in tries if e["status"] == "200"]
    refused = [float(e["theft"]) for e in tries if e["status"] == "401"]
    worked = float(re.search(r"worked until ([\d.]+) s", text).group(1))
    first_refusal = float(re.search(r"refused from ([\d.]+) s", text).group(1))
    assert abs(worked - max(let_in)) <= 0.1 and abs(first_refusal - min(refused)) <= 0.1
    # Refused once the short cookie had expired, not before: it lives more than its TTL after
    # it was signed (whole-second timestamps) and the theft came a moment after that.
    assert let_in and max(let_in) < min(refused)
    assert DBSC_COOKIE_TTL - 0.5 < min(refused) <= DBSC_COOKIE_TTL + 3
    assert page.log("victim")[0]["status"] == "200", "the victim, holding the key, is in"
    assert page.broken_promises() == []
    page.screenshot(artefacts, "session-redis-dbsc")
