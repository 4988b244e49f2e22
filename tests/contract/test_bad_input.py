"""Bad input gets the documented JSON error, never a 500, an HTML page or a stack trace."""

import pytest


@pytest.mark.parametrize(
    ("path", "kwargs", "status", "code"),
    [
        (
            "/auth/login",
            {"data": "{not json", "content_type": "application/json"},
            400,
            "malformed_json",
        ),
        (
            "/auth/login",
            {"data": "[1, 2]", "content_type": "application/json"},
            400,
            "invalid_input",
        ),
        (
            "/auth/login",
            {"data": "email=a&password=b", "content_type": "application/x-www-form-urlencoded"},
            415,
            "unsupported_media_type",
        ),
        (
            "/auth/register",
            {"data": "x", "content_type": "text/plain"},
            415,
            "unsupported_media_type",
        ),
        (
            "/auth/register",
            {"data": "{" + " " * 20000 + "}", "content_type": "application/json"},
            413,
            "payload_too_large",
        ),
        ("/auth/login", {"json": {"email": "a@example.com"}}, 400, "invalid_input"),
        ("/auth/login", {"json": {"email": ["a"], "password": "x" * 10}}, 400, "invalid_input"),
        (
            "/auth/login",
            {"json": {"email": "a@example.com", "password": None}},
            400,
            "invalid_input",
        ),
        (
            "/auth/login",
            {"json": {"email": "a@example.com", "password": "x" * 500}},
            401,
            "invalid_credentials",
        ),
        (
            "/auth/login",
            {"data": b"\xff\xfe", "content_type": "application/json"},
            400,
            "malformed_json",
        ),
    ],
)
def test_bad_bodies_get_json_errors(client, path, kwargs, status, code):
    response = client.post(path, **kwargs)
    assert response.status_code == status
    assert response.is_json
    assert response.get_json()["error"] == code
    assert "Traceback" not in response.get_data(as_text=True)


def test_unknown_route_and_wrong_method_are_json(client):
    response = client.get("/nowhere")
    assert (response.status_code, response.get_json()["error"]) == (404, "not_found")
    response = client.put("/auth/me")
    assert (response.status_code, response.get_json()["error"]) == (405, "method_not_allowed")


@pytest.mark.parametrize(
    "cookie",
    ["garbage", "a.b.c", "x" * 4000, "eyJhbGciOiJub25lIn0.e30.", "💥", "sid=;;;"],
)
def test_garbage_credentials_are_401(app, cookie):
    client = app.test_client()
    for name in ("sid", "access_token"):
        client.set_cookie(name, cookie)
    response = client.get("/auth/me", headers={"Authorization": f"Bearer {cookie}"})
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"
