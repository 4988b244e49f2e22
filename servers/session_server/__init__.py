"""The session server: server-side sessions in Redis (or, for the lesson, in process memory).

Run it with gunicorn: `gunicorn 'servers.session_server:create_app()'`.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from ..core import build_app
from .backend import SessionBackend

__all__ = ["SessionBackend", "create_app"]


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """The app factory: the shared API on the session backend."""
    return build_app(__name__, SessionBackend, test_config)
