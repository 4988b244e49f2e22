"""Class 5: a state-changing request from another origin is refused before it changes anything
(OWASP CSRF cheat sheet: Fetch Metadata, then Origin); clients without them still work."""

import pytest

from servers.core.origin import origin_allowed

HOST = "127.0.0.1:8001"


@pytest.mark.parametrize(
    ("method", "origin", "fetch_site", "trusted", "allowed"),
    [
        ("POST", None, None, (), True),  # curl, Python, Locust: no browser page involved
        ("GET", "https://evil.example", "cross-site", (), True),  # safe methods change nothing
        ("POST", "http://127.0.0.1:8001", "same-origin", (), True),
        ("POST", None, "none", (), True),  # the user's own action (bookmark, typed URL)
        ("POST", "http://127.0.0.1:9999", "same-site", (), False),  # same host, other port
        ("DELETE", "https://evil.example", "cross-site", (), False),
        ("POST", "http://127.0.0.1:8001", None, (), True),  # older browser: Origin only
        ("POST", "http://127.0.0.1:9999", None, (), False),
        ("POST", "null", None, (), False),  # sandboxed frame
        ("PUT", "http://app.example", "cross-site", ("http://app.example",), True),
        ("PATCH", "http://app.example.evil", "cross-site", ("http://app.example",), False),
    ],
)
def test_origin_decision(method, origin, fetch_site, trusted, allowed):
    assert origin_allowed(method, origin, fetch_site, HOST, trusted) is allowed


CROSS = [
    {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
    {"Origin": "http://localhost:9999", "Sec-Fetch-Site": "same-site"},
    {"Origin": "http://localhost:9999"},
]


@pytest.mark.parametrize("headers", CROSS)
@pytest.mark.parametrize("path", ["/auth/logout", "/auth/logout-all"])
def test_cross_origin_logout_is_403_and_changes_nothing(auth, path, headers):
    client = auth.user_client()
    response = client.post(path, headers=headers)
    assert response.status_code == 403
    assert response.get_json()["error"] == "cross_origin_request"
    assert "Set-Cookie" not in response.headers
    assert client.get("/auth/me").status_code == 200  # still logged in


def test_cross_origin_admin_revoke_is_403(app, auth):
    victim = auth.user_client("victim@example.com")
    admin = auth.login(email="admin@example.com", password="admin-password-123")
    victim_id = victim.get("/auth/me").get_json()["user"]["id"]
    response = admin.post(f"/admin/users/{victim_id}/revoke", headers=CROSS[1])
    assert (response.status_code, response.get_json()["error"]) == (403, "cross_origin_request")
    assert victim.get("/auth/me").status_code == 200


def test_cross_origin_login_and_note_are_403(auth):
    auth.register()
    client = auth.login()
    login = client.post(
        "/auth/login",
        json={"email": "ada@example.com", "password": "correct-horse-1"},
        headers=CROSS[0],
    )
    assert login.status_code == 403 and "Set-Cookie" not in login.headers
    assert client.post("/notes", json={"text": "forged"}, headers=CROSS[2]).status_code == 403
    assert client.get("/notes").get_json()["notes"] == []


def test_same_origin_and_header_less_requests_work(auth):
    client = auth.user_client()
    own = {"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"}
    assert client.post("/notes", json={"text": "mine"}, headers=own).status_code == 201
    assert client.post("/notes", json={"text": "curl"}).status_code == 201
    assert client.post("/auth/logout", headers={"Origin": "http://localhost"}).status_code == 200


def test_trusted_origins_are_configurable(server):
    app = server.make(trusted_origins=("http://front.example:3000",))
    client = app.test_client()
    headers = {"Origin": "http://front.example:3000", "Sec-Fetch-Site": "cross-site"}
    response = client.post(
        "/auth/register",
        json={"email": "t@example.com", "password": "correct-horse-1", "name": "T"},
        headers=headers,
    )
    assert response.status_code == 201
    other = {"Origin": "http://front.example:3001", "Sec-Fetch-Site": "cross-site"}
    assert client.post("/auth/logout", headers=other).status_code == 403
