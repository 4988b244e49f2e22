"""Registration: the user comes back without its hash; emails are normalized and unique."""

import pytest

from tests.support.contract import assert_matches


def test_register_returns_the_user_never_the_hash(client):
    response = client.post(
        "/auth/register",
        json={"email": "  Ada@Example.COM ", "password": "correct-horse-1", "name": "Ada"},
    )
    assert response.status_code == 201
    body = assert_matches(response, "/auth/register", "post")
    assert body["user"]["email"] == "ada@example.com"  # trimmed, lower-cased
    assert body["user"]["role"] == "user"
    assert "hash" not in response.get_data(as_text=True)
    assert "$2b$" not in response.get_data(as_text=True)


def test_register_email_taken_is_409(client, auth):
    auth.register(email="ada@example.com")
    response = client.post(
        "/auth/register",
        json={"email": "ADA@example.com", "password": "another-pass-2", "name": "Imposter"},
    )
    assert response.status_code == 409
    assert assert_matches(response, "/auth/register", "post")["error"] == "email_taken"


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ({"password": "correct-horse-1", "name": "A"}, "email"),
        ({"email": "a@example.com", "name": "A"}, "password"),
        ({"email": "a@example.com", "password": "correct-horse-1"}, "name"),
        ({"email": "not-an-email", "password": "correct-horse-1", "name": "A"}, "email"),
        ({"email": 42, "password": "correct-horse-1", "name": "A"}, "email"),
        ({"email": "a@example.com", "password": "short", "name": "A"}, "8 characters"),
        ({"email": "a@example.com", "password": 12345678, "name": "A"}, "string"),
        ({"email": "a@example.com", "password": "é" * 37, "name": "A"}, "72 bytes"),
        ({"email": "a@example.com", "password": "x" * 73, "name": "A"}, "72 bytes"),
        ({"email": "a@example.com", "password": "correct-horse-1", "name": ""}, "name"),
        ({"email": "a@example.com", "password": "correct-horse-1", "name": "n" * 101}, "name"),
        (
            {"email": "a" * 250 + "@example.com", "password": "correct-horse-1", "name": "A"},
            "email",
        ),
    ],
)
def test_register_validate_input(client, payload, fragment):
    response = client.post("/auth/register", json=payload)
    assert response.status_code == 400
    body = assert_matches(response, "/auth/register", "post")
    assert fragment in body["message"]


def test_register_accepts_a_72_byte_password_and_unicode(client, auth):
    password = "é" * 36  # exactly 72 bytes of UTF-8
    response = client.post(
        "/auth/register", json={"email": "Zoë@Exämple.org", "password": password, "name": "Zoë"}
    )
    assert response.status_code == 201
    assert response.get_json()["user"]["email"] == "zoë@exämple.org"
    auth.login(email="zoë@exämple.org", password=password)
