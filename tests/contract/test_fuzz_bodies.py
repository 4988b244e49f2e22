"""Every JSON body field, given every wrong type: a 4xx JSON error, never a 500."""

import pytest

#: (method, path, fields) for every endpoint that takes a JSON body.
BODIES = [
    (
        "post",
        "/auth/register",
        {"email": "fuzz@example.com", "password": "correct-horse-1", "name": "Fuzz"},
    ),
    ("post", "/auth/login", {"email": "fuzz@example.com", "password": "correct-horse-1"}),
    (
        "post",
        "/auth/password",
        {"current_password": "correct-horse-1", "new_password": "battery-staple-2"},
    ),
    ("post", "/notes", {"text": "a note"}),
]

WRONG_VALUES = [None, 0, -1, 1.5, True, [], {}, "", " ", "\x00", "é" * 3000, ["a"], {"a": 1}]


@pytest.mark.parametrize(("method", "path", "fields"), BODIES, ids=[b[1] for b in BODIES])
def test_no_field_value_causes_a_server_error(auth, method, path, fields):
    client = auth.user_client("victim@example.com")
    refused = []
    for name in fields:
        for value in WRONG_VALUES:
            response = getattr(client, method)(path, json={**fields, name: value})
            assert response.status_code < 500, (name, value, response.get_data(as_text=True))
            assert response.is_json
            if response.status_code >= 400:
                refused.append(response.get_json())
    assert refused, "no wrong value was refused"
    assert all(set(body) == {"error", "message"} for body in refused)
    assert client.get("/auth/me").status_code == 200  # and the session survived it all
