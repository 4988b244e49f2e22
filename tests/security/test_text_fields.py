"""Strings that parse but no database column can hold (NUL on PostgreSQL) are a 400, on both
databases, never a driver error; blanks are JSON's own whitespace, as the contract says."""

import pytest

from servers.jwt_server import create_app
from tests.support.settings import base_config


@pytest.fixture(params=["sqlite", "postgres"])
def client(request, redis_server, sqlite_url):
    """A logged-in client of a server backed by SQLite or PostgreSQL."""
    url = sqlite_url if request.param == "sqlite" else request.getfixturevalue("empty_postgres_url")
    client = create_app(base_config(redis_server.url, url)).test_client()
    response = client.post(
        "/auth/login", json={"email": "admin@example.com", "password": "admin-password-123"}
    )
    assert response.status_code == 200, response.get_json()
    return client


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (
            "/auth/register",
            {"email": "nul\x00@example.com", "password": "correct-horse-1", "name": "N"},
        ),
        (
            "/auth/register",
            {"email": "nul@example.com", "password": "correct-horse-1", "name": "N\x00"},
        ),
        ("/notes", {"text": "before\x00after"}),
        ("/notes", {"text": " \t\r\n"}),
        ("/auth/login", {"email": "nul@exa\x00mple.com", "password": "correct-horse-1"}),
    ],
)
def test_unstorable_or_blank_text_is_a_400(client, path, body):
    response = client.post(path, json=body)
    assert (response.status_code, response.get_json()["error"]) == (400, "invalid_input")


def test_other_unicode_is_stored_as_sent(client):
    text = "\u2003caf\u00e9 \U0001f408\u200b"
    response = client.post("/notes", json={"text": text})
    assert response.status_code == 201
    assert client.get("/notes").get_json()["notes"][0]["text"] == text
