"""Fixtures shared by the whole suite: a private Redis, a SQL database, and app factories."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from tests.support.redis_proc import RedisProcess

#: PostgreSQL on this machine and in CI (trust auth); user tests also run on SQLite.
POSTGRES_URL = os.environ.get(
    "AUTHLAB_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
TEST_SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"


@pytest.fixture(scope="session")
def redis_proc() -> Iterator[RedisProcess]:
    """A private redis-server for the whole run (never the system one on 6379)."""
    proc = RedisProcess()
    proc.start()
    yield proc
    proc.close()


@pytest.fixture
def redis_server(redis_proc: RedisProcess) -> Iterator[RedisProcess]:
    """The private Redis, running and empty at the start of each test."""
    if redis_proc.proc is None or redis_proc.proc.poll() is not None:
        redis_proc.start()
    redis_proc.client().flushall()
    yield redis_proc
    if redis_proc.proc is None:
        redis_proc.start()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    """A fresh SQLite file per test."""
    return f"sqlite:///{tmp_path / 'users.db'}"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A private schema in the `test` database, dropped at the end."""
    schema = f"authlab_test_{uuid.uuid4().hex[:8]}"
    engine = create_engine(POSTGRES_URL)
    try:
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_URL}: {exc}")
    yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


def base_config(redis_url: str, database_url: str, **extra) -> dict:
    """Test settings: a fast bcrypt cost, the private Redis, an admin account."""
    config = {
        "secret_keys": (TEST_SECRET,),
        "redis_url": redis_url,
        "database_url": database_url,
        "bcrypt_rounds": 4,
        "replica_id": "test-1",
        "admin_email": "admin@example.com",
        "admin_password": "admin-password-123",
        "login_rate_limit": "5 per minute",
        "login_ip_rate_limit": "1000 per minute",
    }
    config.update(extra)
    return config
