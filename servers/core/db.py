"""The SQL database: one engine per app, SQLite by default (shared by the replicas on a host)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker

from .models import Base


def make_engine(url: str) -> Engine:
    """An engine tuned for several processes sharing one database."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            # WAL lets readers run beside a writer; busy_timeout makes writers wait, not fail.
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


class Database:
    """Flask extension holding the engine and a session factory (`Thing(app=None)` style)."""

    def __init__(self, app: Flask | None = None):
        self.engine: Engine | None = None
        self._sessions: sessionmaker[Session] | None = None
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Bind to the app's DATABASE_URL and create the tables if they are missing."""
        self.engine = make_engine(app.config["AUTHLAB"].database_url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.create_tables()
        app.extensions["authlab_db"] = self

    def create_tables(self) -> None:
        """Create tables; replicas start together, so a lost race is retried, not fatal."""
        assert self.engine is not None
        for attempt in range(5):
            try:
                Base.metadata.create_all(self.engine)
                return
            except (IntegrityError, OperationalError, ProgrammingError):
                if attempt == 4:
                    raise
                time.sleep(0.2 * (attempt + 1))

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: commit on success, roll back on error."""
        assert self._sessions is not None
        with self._sessions() as session, session.begin():
            yield session
