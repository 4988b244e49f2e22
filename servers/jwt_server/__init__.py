"""The JWT server: the same API as the session server, with the state in a signed token.

JWT_MODE picks how much the server remembers: nothing (stateless), the revoked tokens
(denylist, or push: in every replica's memory) or refresh-token families (refresh). Run it with
gunicorn:
`gunicorn 'servers.jwt_server:create_app()'`.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from ..core import build_app
from .backend import TokenBackend
from .views import register_views

__all__ = ["TokenBackend", "create_app"]


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """The app factory: the shared API on the token backend."""
    return build_app(__name__, TokenBackend, test_config, install_views=register_views)
