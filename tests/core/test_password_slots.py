"""A replica hashes in a bounded number of threads: a login beyond them is told to come back.

bcrypt at cost 12 keeps a thread busy for a good fraction of a second; if every worker thread
hashes, nothing answers HAProxy's health check and a busy replica is pulled as if it were dead.
"""

from __future__ import annotations

import importlib

import pytest

from servers.core.passwords import HashingBusy, PasswordHasher
from tests.support.settings import base_config

PASSWORD = "correct-horse-1"


def test_a_free_slot_hashes_and_verifies():
    hasher = PasswordHasher(4, slots=1)
    hashed = hasher.hash(PASSWORD)
    assert hasher.verify(PASSWORD, hashed) and not hasher.verify("wrong-horse-1", hashed)


def test_every_slot_busy_refuses_at_once_and_frees_afterwards():
    hasher = PasswordHasher(4, slots=1)
    with hasher._slot():  # another thread is hashing
        with pytest.raises(HashingBusy) as busy:
            hasher.hash(PASSWORD)
        assert busy.value.status == 503 and busy.value.code == "hashing_busy"
        assert busy.value.headers["Retry-After"] == "1"
    assert hasher.verify(PASSWORD, hasher.hash(PASSWORD))


def test_no_limit_by_default():
    hasher = PasswordHasher(4)
    with hasher._slot():
        assert hasher.verify(PASSWORD, hasher.hash(PASSWORD))


@pytest.mark.parametrize("module", ["servers.session_server", "servers.jwt_server"])
def test_login_while_every_slot_is_busy_is_a_json_503_with_retry_after(
    module, redis_server, sqlite_url
):
    app = importlib.import_module(module).create_app(
        base_config(redis_server.url, sqlite_url, password_hash_slots=1)
    )
    client = app.test_client()
    user = {"email": "ada@example.com", "password": PASSWORD, "name": "Ada"}
    assert client.post("/auth/register", json=user).status_code == 201
    hasher = app.extensions["authlab_users"].hasher
    with hasher._slot():
        response = client.post("/auth/login", json=user)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert response.get_json()["error"] == "hashing_busy"
    assert client.post("/auth/login", json=user).status_code == 200
