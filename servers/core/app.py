"""The shared app builder: each server's `create_app` passes its backend, nothing else differs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.sessions import SessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

from . import admin_views, auth_views, meta_views, notes_views
from .backend import AuthBackend
from .clock import install_clock_guard
from .config import Settings, load_settings
from .db import Database
from .errors import register_error_handlers
from .http import install_options, install_request_parsing, install_response_headers
from .origin import install_origin_check
from .passwords import PasswordHasher
from .ratelimit import init_limiter
from .users import UserService


class NoSession(SessionInterface):
    """Flask's own cookie session, switched off: both servers keep their state elsewhere, so
    opening (and unsigning) a `session` cookie on every request is pure cost."""

    def open_session(self, app: Flask, request: Any) -> None:
        return None  # Flask substitutes its null session, which refuses writes

    def save_session(self, app: Flask, session: Any, response: Any) -> None:
        return None


class AuthLabFlask(Flask):
    """Flask, asking once per function whether it is a coroutine: `ensure_sync` (Flask's
    documented hook) runs for the view and every hook on every request, and each time asks
    `inspect` again (about 7 calls per /auth/me), for an answer that never changes."""

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        cache: dict[Callable[..., Any], Callable[..., Any]] = self.__dict__.setdefault(
            "_sync_of", {}
        )
        found = cache.get(func)
        if found is None:
            found = cache[func] = super().ensure_sync(func)
        return found


def build_app(
    name: str,
    make_backend: Callable[[Settings], AuthBackend],
    test_config: dict[str, Any] | None = None,
    install_views: Callable[[Flask, Any], None] | None = None,
) -> Flask:
    """Defaults, then the environment, then test overrides; then the shared API on a backend,
    and the server's own routes (`install_views`: the app factory passes them, so a backend
    never imports the views that use it)."""
    app = AuthLabFlask(name)
    # Strict JSON bodies and bounded <int:> path ids, before any route exists.
    install_request_parsing(app)
    # Settings: environment first, then explicit overrides (tests pass their own Redis/SQL).
    settings = load_settings(overrides=test_config)
    app.config["AUTHLAB"] = settings
    app.config["SECRET_KEY"] = settings.secret_key
    # Bodies over the limit get a 413 before anything parses them.
    app.config["MAX_CONTENT_LENGTH"] = settings.max_content_length
    app.json.sort_keys = False
    app.session_interface = NoSession()
    if test_config:
        app.config.update({k: v for k, v in test_config.items() if k.isupper()})
    if settings.trusted_proxies:
        # Behind HAProxy the client's address is in X-Forwarded-For; trust only our own proxies.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies)  # type: ignore

    logging.basicConfig(level=logging.INFO)
    register_error_handlers(app)
    install_response_headers(app)
    # CSRF: cross-origin POST/PUT/PATCH/DELETE refused first; then OPTIONS answered in JSON.
    install_origin_check(app)
    install_options(app)

    db = Database(app)
    users = UserService(db, PasswordHasher(settings.bcrypt_rounds, settings.password_hash_slots))
    app.extensions["authlab_users"] = users
    users.ensure_admin(settings.admin_email, settings.admin_password)

    for blueprint in (auth_views.bp, admin_views.bp, notes_views.bp, meta_views.bp):
        app.register_blueprint(blueprint)

    backend = make_backend(settings)
    app.extensions["authlab_backend"] = backend
    backend.init_app(app)
    if install_views is not None:
        install_views(app, backend)
    # A replica whose clock parts from the store's serves nothing (token times, revocation cuts).
    install_clock_guard(app, settings)
    init_limiter(app)
    return app
