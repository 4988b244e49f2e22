"""Class 1: whatever is not plain JSON is a 400 `malformed_json`, on every JSON endpoint, with
nothing logged as a server error (the parser's own failures, RecursionError included)."""

import logging

import pytest

#: Bodies under the 16 KB limit that no endpoint may parse.
NOT_JSON = {
    "nested-arrays": "[" * 5000,
    "nested-objects": '{"a":' * 3000,
    "nested-closed": "[" * 3000 + "]" * 3000,
    "invalid-utf8": b'{"email": "\xff\xfe"}',
    "utf16": '{"email": "a@example.com"}'.encode("utf-16"),
    "nan": '{"email": "a@example.com", "password": NaN}',
    "infinity": '{"text": -Infinity}',
    "duplicate-keys": '{"email": "a@example.com", "email": "b@example.com"}',
    "truncated": '{"email": ',
    "empty": "",
    "trailing-garbage": '{"email": "a@example.com"} x',
    "lone-surrogate": '{"email": "\\ud800@example.com", "text": "\\udfff", "name": "\\ud800"}',
}

#: Every endpoint that reads a JSON body; the first two need no login.
ENDPOINTS = ["/auth/register", "/auth/login", "/auth/password", "/notes"]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_not_json_is_a_400_and_no_error_is_logged(auth, path, caplog):
    client = auth.user_client("json@example.com")
    for name, body in NOT_JSON.items():
        with caplog.at_level(logging.ERROR):
            response = client.post(path, data=body, content_type="application/json")
        assert response.status_code == 400, (name, response.get_data(as_text=True))
        assert response.get_json()["error"] == "malformed_json", name
        assert set(response.get_json()) == {"error", "message"}
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert client.get("/auth/me").status_code == 200  # and the caller is still logged in


def test_valid_json_of_the_wrong_shape_is_invalid_input(client):
    response = client.post("/auth/login", data="[1, 2]", content_type="application/json")
    assert (response.status_code, response.get_json()["error"]) == (400, "invalid_input")


def test_plain_json_still_works_escapes_and_all(auth, client):
    auth.register(email="esc@example.com", name="Z\u00f6e")
    body = '{"email": "esc@example.com", "password": "correct-horse-1", "x": [[[[1.5e3]]]]}'
    response = client.post("/auth/login", data=body, content_type="application/json")
    assert response.status_code == 200, response.get_json()
