"""Refresh mode: rotation, reuse detection, the grace for two tabs, and honest revocation."""

import threading
import time
from datetime import datetime

import pytest
from sqlalchemy import create_engine, text

from tests.support.tokens import PASSWORD, access_token, bearer, refresh_token, unverified


@pytest.fixture
def app(make_app):
    """A refresh-mode server with a short grace, so tests need not wait 5 s."""
    return make_app("refresh", jwt_refresh_grace=0.5)


def issued_refresh_token(response) -> str:
    """The refresh token a response set (what the client that received it holds)."""
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if "refresh_token=" in c)
    return cookie.split(";")[0].split("=", 1)[1]


def replay(app, token: str):
    """POST /auth/refresh from a fresh client holding only `token`."""
    client = app.test_client()
    client.set_cookie("refresh_token", token, path="/auth/refresh")
    return client.post("/auth/refresh")


def test_login_sets_a_short_access_token_and_a_scoped_refresh_cookie(app, login):
    client, body = login(app)
    assert body["expires_in"] == 60
    claims = unverified(body["access_token"])[1]
    assert claims["exp"] - int(claims["iat"]) == 60
    cookie = client.get_cookie("refresh_token", path="/auth/refresh")
    assert cookie.path == "/auth/refresh" and cookie.http_only and cookie.same_site == "Lax"
    assert client.get_cookie("refresh_token") is None  # not sent to Path=/
    assert "refresh_token" not in body  # never readable by JavaScript


def test_refresh_rotates_both_tokens(app, login):
    client, body = login(app)
    first_refresh, first_access = refresh_token(client), body["access_token"]
    response = client.post("/auth/refresh")
    assert response.status_code == 200
    refreshed = response.get_json()
    assert refreshed["user"]["email"] == "ada@example.com"
    assert refreshed["access_token"] == access_token(client) != first_access
    assert refresh_token(client) != first_refresh
    assert response.headers["Server-Timing"].endswith('desc="store=1"')
    assert client.get("/auth/me").status_code == 200
    # Same family: still one session, the current one.
    sessions = client.get("/auth/sessions").get_json()["sessions"]
    assert len(sessions) == 1 and sessions[0]["current"]
    assert unverified(first_access)[1]["fam"] == sessions[0]["id"]


def test_reuse_of_a_rotated_token_revokes_the_whole_family(app, login):
    victim, _ = login(app)
    stolen = refresh_token(victim)
    assert victim.post("/auth/refresh").status_code == 200  # the victim rotates
    time.sleep(0.6)  # past the grace
    response = replay(app, stolen)  # the thief replays the old token
    assert response.status_code == 401
    assert response.get_json()["error"] == "refresh_token_reused"
    # A refused refresh proves no credential, so it changes no cookie (issue 11, class 4).
    assert response.headers.getlist("Set-Cookie") == []
    # The family is gone: the victim's current refresh token dies too, so the thief's next move
    # and the victim's both fail, and the victim is told to log in again.
    assert victim.post("/auth/refresh").status_code == 401


def test_the_thief_refreshing_first_is_caught_when_the_victim_refreshes(app, login):
    victim, _ = login(app)
    thief_response = replay(app, refresh_token(victim))  # the thief rotates first
    assert thief_response.status_code == 200
    time.sleep(0.6)
    assert victim.post("/auth/refresh").get_json()["error"] == "refresh_token_reused"
    assert replay(app, issued_refresh_token(thief_response)).status_code == 401


def test_two_tabs_refreshing_at_once_within_the_grace(app, login):
    client, _ = login(app)
    shared = refresh_token(client)
    tab_a, tab_b = replay(app, shared), replay(app, shared)
    assert (tab_a.status_code, tab_b.status_code) == (200, 200)  # no false alarm
    assert len(client.get("/auth/sessions").get_json()["sessions"]) == 1  # one family
    # The browser keeps one of the two new tokens; it refreshes normally afterwards.
    assert replay(app, issued_refresh_token(tab_b)).status_code == 200
    # The old shared token, after the grace, is reuse.
    time.sleep(0.6)
    assert replay(app, shared).get_json()["error"] == "refresh_token_reused"


def test_an_orphaned_grace_sibling_is_superseded_by_the_next_rotation(app, login):
    client, _ = login(app)
    shared = refresh_token(client)
    tab_a, tab_b = replay(app, shared), replay(app, shared)
    assert replay(app, issued_refresh_token(tab_b)).status_code == 200  # the browser kept B
    time.sleep(0.6)
    # A, never used, was superseded by that rotation: presenting it now is reuse.
    assert replay(app, issued_refresh_token(tab_a)).get_json()["error"] == "refresh_token_reused"


def test_concurrent_refreshes_from_threads(make_app, login):
    """Real concurrency on the real Redis: the rotation script is atomic, the grace absorbs it."""
    app = make_app("refresh")  # the default 5 s grace
    client, _ = login(app)
    shared, statuses = refresh_token(client), []
    threads = [
        threading.Thread(target=lambda: statuses.append(replay(app, shared).status_code))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 4


def test_redis_stores_only_hashes_of_refresh_tokens(app, login, redis_server):
    client, _ = login(app)
    client.post("/auth/refresh")
    token = refresh_token(client)
    r = redis_server.client()
    dump = " ".join(r.keys("*"))
    for key in r.keys("rt:*") + [k for k in r.keys("*") if r.type(k) == "string"]:
        dump += " " + (r.get(key) or "")
    for key in r.keys("rfam:*"):
        dump += " " + " ".join(r.hgetall(key).values())
    assert token not in dump
    assert len(r.keys("rt:*")) == 2  # the current one and the rotated one (for reuse detection)


def test_logout_revokes_the_family_and_reports_the_access_window(make_app, login):
    # 4 s: long enough to see the window open even on a slow machine, short enough to wait out.
    app = make_app("refresh", access_token_ttl=4, jwt_leeway=0)
    client, body = login(app)
    stolen_access, stolen_refresh = body["access_token"], refresh_token(client)
    report = client.post("/auth/logout").get_json()
    assert report["revoked"] is False
    assert report["sessions_revoked"] == 1
    exp = unverified(stolen_access)[1]["exp"]
    assert datetime.fromisoformat(report["valid_until"]).timestamp() == exp
    assert replay(app, stolen_refresh).status_code == 401  # the refresh token is dead now
    # The access token lives until valid_until, as reported, and not one second more.
    assert time.time() < exp - 0.1, "the machine stalled for the whole window: nothing to see"
    assert bearer(app, stolen_access).status_code == 200
    time.sleep(max(0, exp - time.time()) + 1.05)
    assert bearer(app, stolen_access).status_code == 401


def test_revoking_another_device_takes_effect_at_its_next_refresh(app, login):
    phone, _ = login(app, user_agent="phone")
    laptop, _ = login(app, user_agent="laptop")
    sessions = laptop.get("/auth/sessions").get_json()["sessions"]
    assert [(s["user_agent"], s["current"]) for s in sessions] == [
        ("phone", False),
        ("laptop", True),
    ]
    response = laptop.delete(f"/auth/sessions/{sessions[0]['id']}")
    report = response.get_json()
    assert response.status_code == 200
    assert report["id"] == sessions[0]["id"] and report["revoked"] is False
    assert phone.get("/auth/me").status_code == 200  # its access token lives until valid_until
    assert phone.post("/auth/refresh").status_code == 401  # ...and is never renewed
    assert laptop.post("/auth/refresh").status_code == 200


def test_revoking_a_family_whose_access_token_expired_is_complete(make_app, login):
    app = make_app("refresh", access_token_ttl=1, jwt_leeway=0)
    phone, _ = login(app, user_agent="phone")
    time.sleep(2.05)  # the phone's access token has expired; its refresh token has not
    laptop, _ = login(app, user_agent="laptop")
    phone_family = next(
        s["id"] for s in laptop.get("/auth/sessions").get_json()["sessions"] if not s["current"]
    )
    report = laptop.delete(f"/auth/sessions/{phone_family}").get_json()
    assert report["revoked"] is True and report["valid_until"] is None
    assert phone.post("/auth/refresh").status_code == 401


def test_password_change_and_admin_revoke_end_the_other_families(app, login):
    laptop, _ = login(app)
    phone, _ = login(app)
    copied_refresh = refresh_token(laptop)  # the laptop's own session was copied
    report = laptop.post(
        "/auth/password", json={"current_password": PASSWORD, "new_password": "battery-staple-2"}
    ).get_json()
    # Every family ended, the current one included; the laptop got a brand-new family.
    assert report["sessions_revoked"] == 2 and report["revoked"] is False
    assert report["access_token"] == access_token(laptop)
    assert refresh_token(laptop) != copied_refresh
    assert phone.post("/auth/refresh").status_code == 401
    assert replay(app, copied_refresh).status_code == 401
    assert laptop.post("/auth/refresh").status_code == 200
    assert len(laptop.get("/auth/sessions").get_json()["sessions"]) == 1

    boss, _ = login(app, email="admin@example.com", password="admin-password-123")
    user_id = laptop.get("/auth/me").get_json()["user"]["id"]
    report = boss.post(f"/admin/users/{user_id}/revoke").get_json()
    assert report["sessions_revoked"] == 1 and report["revoked"] is False
    assert laptop.post("/auth/refresh").status_code == 401
    assert boss.post("/auth/refresh").status_code == 200


def test_nobody_revokes_someone_elses_family(app, login):
    ada, _ = login(app)
    bob, _ = login(app, email="bob@example.com")
    target = ada.get("/auth/sessions").get_json()["sessions"][0]["id"]
    assert bob.delete(f"/auth/sessions/{target}").status_code == 404
    assert bob.delete("/auth/sessions/not-hex").status_code == 404
    assert ada.post("/auth/refresh").status_code == 200


def test_refresh_rereads_the_account(app, login, sqlite_url):
    """The refresh is where the server looks at SQL again: a role change shows up there."""
    client, _ = login(app)
    engine = create_engine(sqlite_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE users SET role = 'admin' WHERE email = 'ada@example.com'"))
    assert client.get("/auth/me").get_json()["user"]["role"] == "user"  # the token says so
    client.post("/auth/refresh")
    assert client.get("/auth/me").get_json()["user"]["role"] == "admin"
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM users WHERE email = 'ada@example.com'"))
    engine.dispose()
    response = client.post("/auth/refresh")
    assert response.status_code == 401 and "no longer exists" in response.get_json()["message"]


def test_refresh_without_or_with_a_bad_token(app):
    client = app.test_client()
    assert client.post("/auth/refresh").status_code == 401
    assert replay(app, "not-a-token").status_code == 401


def test_a_refresh_token_the_store_lost_is_refused_naming_every_cause(app, login, redis_server):
    """A failover can drop the last writes of the old primary: the token's record is gone, but
    no epoch marker says the store lost anything. The server cannot tell that from expiry or
    an old logout, so its refusal names all three, and it changes no cookie."""
    client, _ = login(app)
    r = redis_server.client()
    r.delete(*r.keys("rt:*"), *r.keys("rfam:*"))  # what the new primary never received
    response = client.post("/auth/refresh")
    assert response.status_code == 401
    answer = response.get_json()
    assert answer["error"] == "refresh_token_unknown"
    assert {"expired", "ended", "lost"} <= set(answer["message"].replace(",", " ").split())
    assert response.headers.getlist("Set-Cookie") == []


def test_an_idle_family_expires(make_app, login):
    app = make_app("refresh", refresh_token_ttl=1)
    client, _ = login(app)
    time.sleep(1.3)
    assert client.post("/auth/refresh").status_code == 401


def test_refresh_route_exists_only_in_refresh_mode(make_app):
    assert make_app("stateless").test_client().post("/auth/refresh").status_code == 404


def test_a_token_from_another_mode_is_refused_in_refresh_mode(make_app, login):
    """Same key, but minted without a family (the server ran stateless before): no session
    could ever revoke it, so refresh mode does not accept it."""
    _, body = login(make_app("stateless"))
    response = bearer(make_app("refresh"), body["access_token"])
    assert response.status_code == 401
    assert "no session" in response.get_json()["message"]


def test_revocation_assumes_the_worst_when_redis_lost_its_records(app, login, redis_server):
    victim, body = login(app)
    redis_server.client().flushall()  # a Redis restart without persistence
    report = victim.post("/auth/logout-all").get_json()
    assert report["revoked"] is False and report["valid_until"]
    assert bearer(app, body["access_token"]).status_code == 200  # as reported: it still works


# --- the per-user index stays bounded by live families (issue 11, class 7) --------------------


def family_index(client, redis_server) -> str:
    """The `ufam:<uid>` key of the client's user."""
    return f"ufam:{client.get('/auth/me').get_json()['user']['id']}"


def test_the_family_index_forgets_dead_families_on_the_next_write(make_app, login, redis_server):
    # Long enough that twelve logins fit in one lifetime on a busy machine (tests run in parallel).
    ttl = 4
    app = make_app("refresh", refresh_token_ttl=ttl)
    clients = [login(app)[0] for _ in range(12)]
    last_login = time.monotonic()
    r, index = redis_server.client(), family_index(clients[0], redis_server)
    assert r.zcard(index) == 12
    time.sleep(max(0.0, last_login + ttl + 0.3 - time.monotonic()))  # every family expires, unused
    survivor, _ = login(app)
    assert r.zcard(index) == 1
    for _ in range(10):  # logins that end in a logout leave nothing behind
        login(app)[0].post("/auth/logout")
    assert r.zcard(index) == 1
    survivor.post("/auth/logout")
    assert r.exists(index) == 0


def test_the_family_index_expires_with_its_longest_family(app, login, redis_server):
    """No sliding TTL: the index dies with its last family, and follows it as it refreshes."""
    laptop, _ = login(app)
    phone, _ = login(app)
    r, index = redis_server.client(), family_index(laptop, redis_server)
    laptop_family, phone_family = (f"rfam:{f}" for f in r.zrange(index, 0, -1))

    def lives_as_long_as(family: str) -> bool:
        """The index expires when `family` does (its score is taken a moment before Redis sets
        the family's TTL, hence the tolerance below it)."""
        index_end, family_end = (r.execute_command("PEXPIRETIME", k) for k in (index, family))
        return family_end - 1000 < index_end <= family_end + 1

    assert lives_as_long_as(phone_family)
    time.sleep(1.1)  # more than the tolerance, so that the two deadlines are told apart
    assert laptop.post("/auth/refresh").status_code == 200  # the laptop now lives longest
    assert lives_as_long_as(laptop_family)
    laptop.post("/auth/logout")
    assert lives_as_long_as(phone_family)
