"""The memory store works in one process and breaks across replicas: that is the lesson."""

import time

from tests.support.sessions import sid


def test_memory_store_serves_its_own_sessions(make_app, login, redis_server):
    app = make_app(session_store="memory")
    client = login(app)
    assert client.get("/auth/me").status_code == 200
    assert client.get("/health").get_json()["mode"] == "memory"
    assert redis_server.client().keys("s:*") == []
    assert client.post("/auth/logout").get_json()["revoked"] is True
    assert client.get("/auth/me").status_code == 401


def test_memory_store_sessions_do_not_exist_on_other_replicas(make_app, login):
    replica_1 = make_app(session_store="memory", replica_id="r1")
    replica_2 = make_app(session_store="memory", replica_id="r2")
    client = login(replica_1)
    elsewhere = replica_2.test_client()
    elsewhere.set_cookie("sid", sid(client))
    response = elsewhere.get("/auth/me")
    assert response.status_code == 401  # replica 2 never saw this login


def test_memory_store_timeouts_and_index(make_app, login):
    app = make_app(session_store="memory", session_max_per_user=2)
    clients = [login(app) for _ in range(3)]
    assert [c.get("/auth/me").status_code for c in clients] == [401, 200, 200]
    assert clients[2].post("/auth/logout-all").get_json()["sessions_revoked"] == 2
    assert clients[1].get("/auth/me").status_code == 401


def test_memory_store_admits_that_revocation_reaches_one_replica(make_app, login):
    """Admin revoke lands on one replica; the victim's session on another one survives."""
    replica_1 = make_app(session_store="memory", replica_id="r1")
    replica_2 = make_app(session_store="memory", replica_id="r2")
    victim = login(replica_2)
    user_id = victim.get("/auth/me").get_json()["user"]["id"]
    admin = login(replica_1, email="admin@example.com", password="admin-password-123")
    body = admin.post(f"/admin/users/{user_id}/revoke").get_json()
    assert body["revoked"] is False
    assert body["valid_until"] is not None
    assert "this replica (r1) only" in body["message"]
    assert victim.get("/auth/me").status_code == 200  # exactly what the answer said


def test_memory_store_index_forgets_ended_sessions_on_the_next_write(make_app, login):
    app = make_app(session_store="memory", session_idle_timeout=1)
    clients = [login(app) for _ in range(8)]
    user_id = clients[0].get("/auth/me").get_json()["user"]["id"]
    index = app.extensions["authlab_session_store"]._by_user  # noqa: SLF001 (what we bound)
    assert len(index[user_id]) == 8
    time.sleep(1.3)
    login(app)
    assert len(index[user_id]) == 1
