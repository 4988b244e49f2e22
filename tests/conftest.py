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
#: Set to 1 (CI does) and a missing PostgreSQL fails the run instead of skipping its tests.
REQUIRE_POSTGRES_ENV = "AUTHLAB_REQUIRE_POSTGRES"


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
        message = f"PostgreSQL is not reachable at {POSTGRES_URL}: {exc}"
        if os.environ.get(REQUIRE_POSTGRES_ENV) == "1":
            # CI (.ci/run) promises PostgreSQL: its absence is an error, never a quiet skip.
            pytest.fail(f"{message} ({REQUIRE_POSTGRES_ENV}=1)", pytrace=False)
        pytest.skip(f"{message}; set {REQUIRE_POSTGRES_ENV}=1 to make this an error")
    yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()
