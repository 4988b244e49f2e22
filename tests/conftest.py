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


@pytest.fixture
def empty_postgres_url(postgres_url: str) -> str:
    """The private schema with every table dropped: a test starts from no rows, whatever the
    tests before it in this worker left there (the admin account with another password...)."""
    from servers.core.models import Base

    engine = create_engine(postgres_url)
    Base.metadata.drop_all(engine)
    engine.dispose()
    return postgres_url


# --- where the time goes (`pytest --cpu-by-module`) ---------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    """`--cpu-by-module`: a table of CPU and wall seconds per test module at the end."""
    parser.addoption(
        "--cpu-by-module",
        action="store_true",
        help="print the CPU and wall seconds each test module cost (tests/support/cpu_budget.py)",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Load the CPU table's plugin when asked (on the controller and on every worker)."""
    if config.getoption("--cpu-by-module"):
        from tests.support import cpu_budget

        config.pluginmanager.register(cpu_budget, "cpu_budget")


# --- running in parallel (pytest-xdist, `make test`) --------------------------------------------

#: Fixtures that stand for a lab a test reconfigures: every test holding one runs in the same
#: worker as the rest of its module, so the lab is started once per module and never shared by
#: two tests at the same time (each worker process has its own; their ports and folders differ).
LAB_FIXTURES = ("experiment_lab", "console_lab", "shared_lab")

#: Modules whose set-up is long (seconds to minutes): scheduled first, so that the longest
#: chains start while the short tests fill the other workers.
LONG_FIRST = ("test_report", "test_notebooks", "test_browser", "test_demo", "test_sentinel")


def _xdist_group(item: pytest.Item) -> str | None:
    """The group a test must share a worker with, or None if it can run anywhere.

    A lab or any module-scoped fixture is a set-up the module's tests share: they go together.
    A notebook is a group of its own (each reconfigures the lab it shares, one at a time).
    """
    module = item.module.__name__ if getattr(item, "module", None) else item.nodeid
    if module.endswith("test_notebooks") and "experiment_lab" in item.fixturenames:
        return f"{module}::{item.callspec.id if hasattr(item, 'callspec') else item.name}"
    if any(name in item.fixturenames for name in LAB_FIXTURES):
        return module
    defs = getattr(item, "_fixtureinfo", None)
    for fixture_defs in defs.name2fixturedefs.values() if defs else ():
        if any(d.scope == "module" for d in fixture_defs):
            return module
    return None


def _priority(item: pytest.Item) -> int:
    """0 for the long set-ups (they start first), 1 for the rest."""
    name = item.module.__name__ if getattr(item, "module", None) else ""
    return 0 if name.rsplit(".", 1)[-1] in LONG_FIRST else 1


def pytest_itemcollected(item: pytest.Item) -> None:
    """Mark the test's xdist group as soon as it exists, before any hook reads the marks (xdist
    turns them into its scheduling scope in its own `pytest_collection_modifyitems`)."""
    group = _xdist_group(item)
    if group is not None:
        item.add_marker(pytest.mark.xdist_group(group))


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The long set-ups first (xdist hands out work in collection order)."""
    items.sort(key=_priority)  # stable: the order within a module is kept
