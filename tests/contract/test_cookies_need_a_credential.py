"""A request that proves no credential never changes the browser's cookies.

A cross-site form POST to /auth/logout carries no cookie (SameSite=Lax). If its 401 still
expired the cookies, the browser would apply that Set-Cookie, and any site could log anyone out.
So every refusal, on every endpoint, on every server and mode, answers without Set-Cookie.
"""

import re
from pathlib import Path

import pytest

from tests.support.contract import copy_credential

NEW_PASSWORD = {"current_password": "correct-horse-1", "new_password": "battery-staple-2"}

#: (method, path, JSON body): every endpoint that needs a credential, state-changing ones first.
GUARDED = [
    ("post", "/auth/logout", None),
    ("post", "/auth/logout-all", None),
    ("post", "/auth/password", NEW_PASSWORD),
    ("delete", "/auth/sessions/" + "0" * 64, None),
    ("post", "/admin/users/1/revoke", None),
    ("post", "/notes", {"text": "hello"}),
    ("get", "/auth/me", None),
    ("get", "/auth/sessions", None),
    ("get", "/notes", None),
    ("post", "/auth/refresh", None),
]

#: What a browser may hold that proves nothing: no cookie at all (a cross-site form), garbage,
#: or credentials signed with another server's secret.
FORGED_SESSION = "x" * 43 + ".forged-signature"
FORGED_JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIn0.c2lnbmVkLXdpdGgtYW5vdGhlci1zZWNyZXQ"
)
HOLDINGS = {
    "no cookie": {},
    "garbage": {"sid": "garbage", "access_token": "garbage", "refresh_token": "garbage"},
    "forged": {"sid": FORGED_SESSION, "access_token": FORGED_JWT, "refresh_token": "f" * 43},
}


def expected_status(server_name: str, path: str) -> int:
    """401, except where a route is not served (the refresh route outside refresh mode)."""
    if path == "/auth/refresh" and not server_name.startswith("jwt-refresh"):
        return 404
    return 401


@pytest.mark.parametrize("holding", HOLDINGS, ids=list(HOLDINGS))
@pytest.mark.parametrize(("method", "path", "body"), GUARDED, ids=[g[1] for g in GUARDED])
def test_a_refused_request_sets_no_cookie(server, app, method, path, body, holding):
    client = app.test_client()
    for name, value in HOLDINGS[holding].items():
        client.set_cookie(name, value, path="/auth/refresh" if name == "refresh_token" else "/")
    response = getattr(client, method)(path, json=body)
    assert response.status_code == expected_status(server.name, path)
    assert response.headers.getlist("Set-Cookie") == []


def test_a_cross_site_logout_leaves_the_browser_logged_in(app, auth):
    """The browser sends no cookie with the cross-site form; its own cookies stay as they are."""
    auth.register()
    browser = auth.login()
    cross_site_form = app.test_client()  # the same browser, but the POST carries no cookie
    response = cross_site_form.post("/auth/logout")
    assert response.status_code == 401
    assert response.headers.getlist("Set-Cookie") == []
    assert browser.get("/auth/me").status_code == 200


def test_a_wrong_current_password_changes_no_cookie(app, auth):
    """A proven credential but a refused request: nothing changes, cookies included."""
    auth.register()
    browser = auth.login()
    thief = app.test_client()
    copy_credential(browser, thief)
    response = browser.post(
        "/auth/password", json={"current_password": "not-it-1234", "new_password": "x" * 12}
    )
    assert response.status_code == 401
    assert response.headers.getlist("Set-Cookie") == []
    assert browser.get("/auth/me").status_code == 200
    assert thief.get("/auth/me").status_code == 200  # and nothing was revoked


def test_only_a_proven_logout_expires_cookies(app, auth):
    """The other side of the rule: a logout that proved its credential does expire them."""
    auth.register()
    browser = auth.login()
    response = browser.post("/auth/logout")
    assert response.status_code == 200
    cookies = response.headers.getlist("Set-Cookie")
    assert cookies and all("Max-Age=0" in c for c in cookies)


def test_one_place_writes_cookies():
    """`servers.core.backend.reply` is the only writer of Set-Cookie, and it answers success
    only: no backend or view can slip a cookie into an error answer."""
    servers = Path(__file__).parents[2] / "servers"
    writers = [
        str(path.relative_to(servers))
        for path in sorted(servers.rglob("*.py"))
        if re.search(r"\.(set_cookie|delete_cookie)\(", path.read_text())
    ]
    assert writers == ["core/backend.py"]
