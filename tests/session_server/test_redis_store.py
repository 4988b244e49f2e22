"""The Redis store: one round trip per request, hashed keys, a per-user index, two timeouts."""

import math
import time

from servers.session_server.cookies import store_key
from servers.session_server.stores.redis import (
    SESSION_PREFIX,
    index_key,
    key_of_member,
    session_key,
    unpack,
)
from tests.support.redis_stats import count_commands
from tests.support.sessions import session_id, sid

#: The session records, whatever their hashed ids.
RECORDS = SESSION_PREFIX + "*"


def user_entries(r, user_id: int) -> list[str]:
    """The user's entries in their index bucket (64 users share one sorted set)."""
    return [m for m in r.zrange(index_key(user_id), 0, -1) if m.startswith(f"{user_id}:")]


def test_an_authenticated_request_costs_one_round_trip_and_no_write(make_app, login, redis_server):
    client = login(make_app())
    client.get("/auth/me")
    calls = count_commands(
        redis_server.client(), lambda: [client.get("/auth/me") for _ in range(20)]
    )
    # One plain GET per request; the TTL was just set (at login), so nothing is renewed.
    assert calls == {"get": 20}
    assert client.get("/auth/me").headers["Server-Timing"].endswith('desc="store=1"')


def test_the_idle_timeout_is_renewed_once_per_step_never_past_the_absolute_deadline(
    make_app, login, redis_server
):
    r = redis_server.client()
    for absolute, longest_ms in ((30, 10_000), (3, 2_000)):  # a 1 s step; idle, then the cap
        client = login(make_app(session_idle_timeout=10, session_absolute_timeout=absolute))
        key = session_key(store_key(session_id(client)))
        time.sleep(1.1)
        calls = count_commands(r, lambda c=client: [c.get("/auth/me") for _ in range(5)])
        assert calls == {"get": 5, "pexpire": 1}  # one renewal for the step, then plain GETs
        # Slid to the idle timeout, or only to the absolute deadline (3 s after login) if sooner.
        assert longest_ms - 1000 < r.pttl(key) <= longest_ms


def test_redis_holds_hashes_of_ids_never_the_cookie(make_app, login, redis_server):
    client = login(make_app())
    issued_id = session_id(client)
    dump = " ".join(
        redis_server.client().keys("*")
        + [redis_server.client().get(k) or "" for k in redis_server.client().keys(RECORDS)]
    )
    assert issued_id not in dump
    assert len(redis_server.client().keys(RECORDS)) == 1


def test_login_issues_a_new_id_and_ends_the_previous_session(make_app, login, redis_server):
    app = make_app()
    client = login(app)
    first = sid(client)
    client.post("/auth/login", json={"email": "ada@example.com", "password": "correct-horse-1"})
    assert sid(client) != first
    replay = app.test_client()
    replay.set_cookie("sid", first)
    assert replay.get("/auth/me").status_code == 401
    assert len(redis_server.client().keys(RECORDS)) == 1


def test_logout_deletes_the_record_and_index_entry(make_app, login, redis_server):
    client = login(make_app())
    user_id = client.get("/auth/me").get_json()["user"]["id"]
    client.post("/auth/logout")
    r = redis_server.client()
    assert r.keys(RECORDS) == []
    assert user_entries(r, user_id) == []


def test_idle_timeout_slides_and_expires(make_app, login):
    app = make_app(session_idle_timeout=2)
    client = login(app)
    for _ in range(3):  # activity keeps it alive past the idle timeout
        time.sleep(0.8)
        assert client.get("/auth/me").status_code == 200
    time.sleep(2.3)
    response = client.get("/auth/me")
    assert response.status_code == 401
    assert "ended" in response.get_json()["message"]


def test_absolute_timeout_ends_even_an_active_session(make_app, login, redis_server):
    app = make_app(session_idle_timeout=60, session_absolute_timeout=2)
    client = login(app)
    assert 0 < redis_server.client().pttl(redis_server.client().keys(RECORDS)[0]) <= 2000
    deadline = time.monotonic() + 4
    statuses = []
    while time.monotonic() < deadline:
        statuses.append(client.get("/auth/me").status_code)
        time.sleep(0.25)
    assert statuses[0] == 200 and statuses[-1] == 401
    assert statuses == sorted(statuses)  # once ended, it stays ended


def test_max_sessions_per_user_evicts_the_oldest(make_app, login):
    app = make_app(session_max_per_user=2)
    first, second, third = login(app), login(app), login(app)
    assert first.get("/auth/me").status_code == 401
    assert second.get("/auth/me").status_code == 200
    assert third.get("/auth/me").status_code == 200
    assert len(third.get("/auth/sessions").get_json()["sessions"]) == 2


def test_sessions_show_user_agent_ip_and_times(make_app, login):
    app = make_app()
    client = login(app)
    client.environ_base["HTTP_USER_AGENT"] = "Firefox/200"
    login(app)
    session = client.get("/auth/sessions").get_json()["sessions"]
    assert {s["ip"] for s in session} == {"127.0.0.1"}
    current = next(s for s in session if s["current"])
    assert current["created"] <= current["last_seen"] <= current["expires"]


def test_sessions_survive_on_every_replica(make_app, login):
    """Two app instances sharing Redis: the second accepts what the first issued."""
    replica_1, replica_2 = make_app(replica_id="r1"), make_app(replica_id="r2")
    client = login(replica_1)
    other = replica_2.test_client()
    other.set_cookie("sid", sid(client))
    assert other.get("/auth/me").status_code == 200


def test_password_change_gives_the_kept_session_a_new_id(make_app, login):
    app = make_app()
    client = login(app)
    before = sid(client)
    response = client.post(
        "/auth/password",
        json={"current_password": "correct-horse-1", "new_password": "battery-staple-2"},
    )
    assert response.get_json()["revoked"] is True
    assert sid(client) != before
    stale = app.test_client()
    stale.set_cookie("sid", before)
    assert stale.get("/auth/me").status_code == 401
    assert client.get("/auth/me").status_code == 200


# --- the per-user index stays bounded by live sessions (issue 11, class 7) --------------------


def index_deadline_ms(r, key: str) -> int:
    """When Redis will drop `key` (ms since the epoch)."""
    return r.execute_command("PEXPIRETIME", key)


def session_deadline_ms(r, key: str) -> int:
    """The absolute deadline a session record carries, rounded up to the whole second the index
    is scored by (an integer score packs smaller), in ms."""
    record = unpack(r.get(session_key(key_of_member(key))), "")
    return math.ceil(record.expires_at) * 1000


def test_the_user_index_forgets_ended_sessions_on_the_next_write(make_app, login, redis_server):
    # Long enough that twelve logins fit in one idle timeout on a busy machine (parallel tests).
    idle = 4
    app = make_app(session_idle_timeout=idle)
    clients = [login(app) for _ in range(12)]
    last_login = time.monotonic()
    user_id = clients[0].get("/auth/me").get_json()["user"]["id"]
    r = redis_server.client()
    assert len(user_entries(r, user_id)) == 12
    time.sleep(max(0.0, last_login + idle + 0.3 - time.monotonic()))  # every one ends, idle
    survivor = login(app)
    assert len(user_entries(r, user_id)) == 1
    for _ in range(10):  # logins that end in a logout leave nothing behind
        login(app).post("/auth/logout")
    assert len(user_entries(r, user_id)) == 1
    survivor.post("/auth/logout")
    assert r.exists(index_key(user_id)) == 0


def test_the_user_index_expires_with_its_longest_session(make_app, login, redis_server):
    """No sliding TTL: the index dies when its last session's absolute deadline passes."""
    app = make_app(session_absolute_timeout=60)
    first = login(app)
    time.sleep(0.05)
    second = login(app)
    user_id = first.get("/auth/me").get_json()["user"]["id"]
    r = redis_server.client()
    index = index_key(user_id)  # only this user in the bucket here
    # Both deadlines may fall in the same whole second (the score): read them from the records.
    deadlines = {m: session_deadline_ms(r, m) for m in r.zrange(index, 0, -1)}
    assert len(deadlines) == 2
    assert index_deadline_ms(r, index) == max(deadlines.values())
    second.post("/auth/logout")  # the longest-lived one ends: the index shortens with it
    (left,) = r.zrange(index, 0, -1)
    assert index_deadline_ms(r, index) == deadlines[left]
