"""Users in SQL, on SQLite (the default) and PostgreSQL (by URL): same behaviour on both."""

import threading

import pytest

from servers.core.db import Database
from servers.core.errors import ApiError
from servers.core.passwords import PasswordHasher
from servers.core.users import UserService


class _App:
    """The bit of a Flask app Database.init_app reads."""

    def __init__(self, url):
        from servers.core.config import Settings

        self.config = {"AUTHLAB": Settings(secret_keys=("x" * 32,), database_url=url)}
        self.extensions = {}


@pytest.fixture(params=["sqlite", "postgres"])
def users(request, sqlite_url):
    """A UserService on each database."""
    url = sqlite_url if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    db = Database(_App(url))
    if request.param == "postgres":
        from servers.core.models import Base

        Base.metadata.drop_all(db.engine)
        db.create_tables()
    yield UserService(db, PasswordHasher(4))
    db.engine.dispose()


def test_register_normalizes_and_hashes(users):
    user = users.register("  Ada@Example.com ", "correct-horse-1", " Ada ")
    assert user == {"id": user["id"], "email": "ada@example.com", "name": "Ada", "role": "user"}
    assert users.authenticate("ADA@example.com", "correct-horse-1")["id"] == user["id"]


def test_emails_are_unique(users):
    users.register("ada@example.com", "correct-horse-1", "Ada")
    with pytest.raises(ApiError) as exc:
        users.register("ADA@EXAMPLE.COM", "correct-horse-2", "Ada 2")
    assert exc.value.status == 409


def test_concurrent_registrations_of_one_email_make_one_user(users):
    results = []

    def attempt():
        try:
            users.register("race@example.com", "correct-horse-1", "R")
            results.append(201)
        except ApiError as exc:
            results.append(exc.status)

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [201, 409, 409, 409]


def test_wrong_password_and_unknown_email_raise_the_same_error(users):
    users.register("ada@example.com", "correct-horse-1", "Ada")
    errors = []
    for email, password in [("ada@example.com", "wrong-pass"), ("bob@example.com", "x" * 10)]:
        with pytest.raises(ApiError) as exc:
            users.authenticate(email, password)
        errors.append((exc.value.status, exc.value.code, exc.value.message))
    assert errors[0] == errors[1]


def test_password_over_72_bytes_is_refused_not_truncated(users):
    with pytest.raises(ApiError, match="72 bytes"):
        users.register("ada@example.com", "a" * 73, "Ada")


def test_change_password(users):
    user = users.register("ada@example.com", "correct-horse-1", "Ada")
    users.change_password(user["id"], "correct-horse-1", "battery-staple-2")
    with pytest.raises(ApiError):
        users.authenticate("ada@example.com", "correct-horse-1")
    assert users.authenticate("ada@example.com", "battery-staple-2")["id"] == user["id"]


def test_first_admin_comes_from_settings_once(users):
    users.ensure_admin("Admin@Example.com", "admin-password-1")
    users.ensure_admin("admin@example.com", "admin-password-1")  # a second replica starting
    assert users.authenticate("admin@example.com", "admin-password-1")["role"] == "admin"


def test_notes_per_user(users):
    ada = users.register("ada@example.com", "correct-horse-1", "Ada")
    bob = users.register("bob@example.com", "correct-horse-1", "Bob")
    users.add_note(ada["id"], "one")
    users.add_note(ada["id"], "two")
    assert [n["text"] for n in users.list_notes(ada["id"])] == ["two", "one"]
    assert users.list_notes(bob["id"]) == []
