"""The console's own API: what it shows of the wire, and who may drive it."""

from __future__ import annotations

import base64
import json

import pytest

from lab.demo.console.wire import decode_jwt, parse_set_cookie


def _segment(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_set_cookie_flags_are_read_as_sent():
    cookie = parse_set_cookie(
        "sid=abc.def; Expires=Sat, 28 Nov 2026 11:30:17 GMT; Max-Age=43200; HttpOnly; Path=/; "
        "SameSite=Lax"
    )
    assert cookie["name"] == "sid" and cookie["value"] == "abc.def"
    assert cookie["flags"]["HttpOnly"] is True
    assert cookie["flags"]["Secure"] is False, "no Secure flag on plain http: shown as missing"
    assert cookie["flags"]["SameSite"] == "Lax"
    assert cookie["flags"]["Max-Age"] == "43200"
    assert cookie["deleted"] is False and cookie["claims"] is None


def test_a_logout_cookie_is_shown_deleted():
    assert parse_set_cookie("sid=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/")[
        "deleted"
    ]


def test_a_jwt_is_readable_by_anyone():
    token = ".".join(
        [_segment({"alg": "HS256"}), _segment({"sub": "7", "exp": 1_900_000_000}), "sig"]
    )
    claims = decode_jwt(token)
    assert claims is not None
    assert claims["payload"]["sub"] == "7"
    assert claims["times"]["exp"].endswith("UTC")


@pytest.mark.parametrize(
    "value", ["opaque-session-id", "a.b", "!!.??.sig", _segment({"a": 1}) + ".x.y"]
)
def test_not_a_jwt(value: str):
    assert decode_jwt(value) is None


@pytest.mark.lab
def test_posts_from_another_origin_are_refused(console_client):
    response = console_client.post("/api/login", json={}, headers={"Origin": "http://evil.example"})
    assert response.status_code == 403
    assert response.get_json()["error"] == "forbidden_origin"


@pytest.mark.lab
def test_posts_must_be_json(console_client):
    response = console_client.post("/api/login", data="x", content_type="text/plain")
    assert response.status_code == 415


@pytest.mark.lab
def test_steps_out_of_order_get_409(console_client):
    response = console_client.post("/api/steal", json={}, headers={"Origin": "http://localhost"})
    assert response.status_code == 409
    assert "victim logs in first" in response.get_json()["message"]


@pytest.mark.lab
def test_unknown_action_and_setting_are_clear_errors(console_client):
    assert console_client.post("/api/act", json={"action": "explode"}).status_code == 409
    assert console_client.post("/api/use", json={"key": "jwt/none"}).status_code == 409
    wrong = console_client.post("/api/use", json={"key": "session/redis", "binding": "dpop"})
    assert wrong.status_code == 409
    assert wrong.get_json()["message"] == "the session server binds with none, dbsc, not 'dpop'"
    assert console_client.get("/api/nowhere").status_code == 404
