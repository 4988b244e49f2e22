"""A Redis that fails over: the servers follow Sentinel to the new primary by themselves, a
revocation confirmed with REVOCATION_DURABILITY=wait survives the crash of the primary, and
without `wait` a logout can come back.

One small lab of its own (one replica per server, a primary, a replica that lags `LAG` behind,
three sentinels): the shared lab of the other lab tests runs a single Redis. The lag is what
makes the crash lose acknowledged writes; on loopback with no lag the replica has everything.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
import requests

from lab import Lab
from servers.session_server import create_app
from tests.support.settings import base_config

PASSWORD = "correct-horse-battery-staple"
TIMEOUT = 5
#: Seconds the servers may take to find the new primary (down-after 1 s, election, promotion).
RECOVERY_BOUND = 30
#: How far the replica's stream lags (`--replication-lag`): long enough that a crash right
#: after a write always beats it to the replica, short enough for WAIT's 500 ms.
LAG = "300ms"


@pytest.fixture(scope="module")
def sentinel_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """A lab with a Sentinel group, the denylist JWT mode, and revocations that wait."""
    lab = Lab(
        replicas=1,
        jwt_mode="denylist",
        bcrypt_rounds=4,
        redis_topology="sentinel",
        replication_lag=LAG,
        env={"REVOCATION_DURABILITY": "wait"},
        state_dir=tmp_path_factory.mktemp("sentinel-lab"),
        timeout=90,
    )
    with lab:
        yield lab


def registered(base_url: str) -> dict[str, str]:
    """A new user's email and password."""
    user = {"email": f"s-{uuid.uuid4().hex[:10]}@example.com", "password": PASSWORD}
    created = requests.post(
        f"{base_url}/auth/register", json={**user, "name": "S"}, timeout=TIMEOUT
    )
    assert created.status_code == 201, created.text
    return user


def login(base_url: str, user: dict[str, str]) -> requests.Response:
    return requests.post(f"{base_url}/auth/login", json=user, timeout=TIMEOUT)


def logged_in(base_url: str) -> requests.Session:
    """A new user, logged in (the cookie in the returned client)."""
    client = requests.Session()
    answer = client.post(f"{base_url}/auth/login", json=registered(base_url), timeout=TIMEOUT)
    assert answer.status_code == 200, answer.text
    return client


def stolen_copy(client: requests.Session) -> requests.Session:
    """A second client holding the same cookies: what a thief keeps after the owner logs out."""
    thief = requests.Session()
    thief.cookies.update(client.cookies)
    return thief


def test_the_lab_runs_a_primary_a_replica_and_three_sentinels(sentinel_lab: Lab):
    store = sentinel_lab.status()["store"]
    assert store["topology"] == "sentinel"
    assert store["replication_lag"] == LAG
    assert store["primary"] == "redis"
    assert [row["role"] for row in store["nodes"]] == ["master", "slave"]
    assert [row["running"] for row in store["sentinels"]] == [True, True, True]


def test_a_confirmed_revocation_survives_the_crash_of_the_primary(sentinel_lab: Lab):
    session_url, jwt_url = sentinel_lab.session_url, sentinel_lab.jwt_url
    kept = {url: logged_in(url) for url in (session_url, jwt_url)}
    stolen = {}
    for url in (session_url, jwt_url):
        owner = logged_in(url)
        stolen[url] = stolen_copy(owner)
        answer = owner.post(f"{url}/auth/logout", timeout=TIMEOUT).json()
        assert answer["revoked"] is True, answer  # a replica acknowledged it (WAIT)

    crashed = sentinel_lab.redis_kill_primary()
    assert crashed == "redis"
    # At once: the primary is gone and the sentinels do not know yet. Fail closed, in JSON.
    during = kept[session_url].get(f"{session_url}/auth/me", timeout=TIMEOUT)
    assert during.status_code == 503
    assert during.json()["error"] == "store_unavailable"

    # No restart of any server: they ask the sentinels again until the new primary answers.
    deadline = time.monotonic() + RECOVERY_BOUND
    while kept[session_url].get(f"{session_url}/auth/me", timeout=TIMEOUT).status_code != 200:
        assert time.monotonic() < deadline, "the session server never found the new primary"
        time.sleep(0.2)
    assert sentinel_lab.redis_primary() == "redis-replica-1"

    for url in (session_url, jwt_url):
        assert kept[url].get(f"{url}/auth/me", timeout=TIMEOUT).status_code == 200  # login kept
        assert stolen[url].get(f"{url}/auth/me", timeout=TIMEOUT).status_code == 401  # still dead

    # The new primary has no replica now: a revocation cannot be confirmed, and says so; nor
    # can a new session (SESSION_DURABILITY=auto waits under Sentinel): no cookie, a 503.
    owner = logged_in(jwt_url)
    answer = owner.post(f"{jwt_url}/auth/logout", timeout=TIMEOUT).json()
    assert answer["revoked"] is False
    assert "no replica acknowledged" in answer["message"]
    refused = login(session_url, registered(session_url))
    assert refused.status_code == 503 and refused.json()["error"] == "session_not_durable"
    assert "sid" not in refused.cookies

    # The crashed node comes back as a replica of the new primary; confirmations work again.
    sentinel_lab.redis_start()
    owner = logged_in(jwt_url)
    answer = owner.post(f"{jwt_url}/auth/logout", timeout=TIMEOUT).json()
    assert answer["revoked"] is True, answer
    assert logged_in(session_url).get(f"{session_url}/auth/me", timeout=TIMEOUT).ok


def wait_until_served(client: requests.Session, url: str) -> None:
    """Until `client`'s /auth/me answers 200 again (the servers found the new primary)."""
    deadline = time.monotonic() + RECOVERY_BOUND
    while client.get(f"{url}/auth/me", timeout=TIMEOUT).status_code != 200:
        assert time.monotonic() < deadline, "the server never found the new primary"
        time.sleep(0.2)


def test_without_wait_a_logout_comes_back_after_the_crash(sentinel_lab: Lab):
    """The security failure `wait` exists for: "revoked": true, then a failover, and the
    logged-out session (or denylisted token) works again, because the replica never got it."""
    sentinel_lab.reconfigure(env={"REVOCATION_DURABILITY": "none"})
    sentinel_lab.redis_start()  # both nodes up (the last test's crashed one rejoined)
    urls = (sentinel_lab.session_url, sentinel_lab.jwt_url)
    owners = {url: logged_in(url) for url in urls}
    stolen = {url: stolen_copy(owner) for url, owner in owners.items()}
    kept = logged_in(sentinel_lab.session_url)
    time.sleep(1.0)  # well past the lag: the sessions and tokens are on the replica

    for url, owner in owners.items():
        answer = owner.post(f"{url}/auth/logout", timeout=TIMEOUT).json()
        assert answer["revoked"] is True, answer  # the primary has it: that is all `none` asks
        assert stolen[url].get(f"{url}/auth/me", timeout=TIMEOUT).status_code == 401
    sentinel_lab.redis_kill_primary()  # within the lag: the replica never gets the logouts

    wait_until_served(kept, sentinel_lab.session_url)
    for url in urls:
        assert stolen[url].get(f"{url}/auth/me", timeout=TIMEOUT).status_code == 200, (
            f"{url}: the logout should have come back with the failover"
        )
    sentinel_lab.redis_start()  # the crashed node rejoins as a replica, for the next test


def test_without_a_replica_wait_never_claims_a_revocation(redis_server, sqlite_url):
    """One Redis, no replica: REVOCATION_DURABILITY=wait answers revoked: false, with why."""
    config = base_config(redis_server.url, sqlite_url, revocation_durability="wait")
    config["revocation_wait_timeout_ms"] = 50
    app = create_app(config)
    client = app.test_client()
    user = {"email": "w@example.com", "password": PASSWORD}
    assert client.post("/auth/register", json={**user, "name": "W"}).status_code == 201
    assert client.post("/auth/login", json=user).status_code == 200
    answer = client.post("/auth/logout").get_json()
    assert answer["revoked"] is False
    assert answer["durability"] == "not acknowledged by any replica"
    assert "50 ms" in answer["message"]


def test_without_a_replica_wait_hands_out_no_session(redis_server, sqlite_url):
    """One Redis, no replica: SESSION_DURABILITY=wait refuses the login with a 503 that says
    why, sets no cookie, and leaves no session behind (a failover could have lost it)."""
    config = base_config(redis_server.url, sqlite_url, session_durability="wait")
    config["revocation_wait_timeout_ms"] = 50
    client = create_app(config).test_client()
    user = {"email": "d@example.com", "password": PASSWORD}
    assert client.post("/auth/register", json={**user, "name": "D"}).status_code == 201
    refused = client.post("/auth/login", json=user)
    assert refused.status_code == 503 and refused.headers["Retry-After"]
    assert refused.get_json()["error"] == "session_not_durable"
    assert "50 ms" in refused.get_json()["message"]
    assert refused.headers.getlist("Set-Cookie") == []
    assert client.get("/auth/me").status_code == 401
    assert redis_server.client().keys("s:*") == []  # taken back
    # `none` (the default on one Redis): the same login is done once the primary has it.
    config["session_durability"] = "none"
    assert create_app(config).test_client().post("/auth/login", json=user).status_code == 200


def test_a_planned_failover_switches_the_primary(sentinel_lab: Lab):
    client = logged_in(sentinel_lab.session_url)
    # Past the lag: Sentinel's planned switch does not wait for the replica to catch up either.
    time.sleep(1.0)
    before = sentinel_lab.redis_primary()
    after = sentinel_lab.redis_failover()
    assert after is not None and after != before
    deadline = time.monotonic() + RECOVERY_BOUND
    while client.get(f"{sentinel_lab.session_url}/auth/me", timeout=TIMEOUT).status_code != 200:
        assert time.monotonic() < deadline, "the session server never followed the switch"
        time.sleep(0.2)
