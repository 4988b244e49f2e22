"""Failed-login rate limits, per email and per client IP, shared by all replicas through Redis.

Flask-Limiter does the counting (a moving window in Redis). Only failed attempts count
(`deduct_when`), so a user who types the right password is never locked out by their own
successes. If Redis is down, counting falls back to each replica's memory: logins keep working
where the mechanism allows it, each replica limiting on its own (documented in the README).
"""

from __future__ import annotations

from flask import Flask, Response, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from werkzeug.exceptions import HTTPException

from .redis_client import limiter_storage_uri


def email_key() -> str:
    """The normalized email of a login attempt (or the IP when the body has none)."""
    try:
        body = request.get_json(silent=True)
    except HTTPException:  # too large: the view answers 413; count it against the IP
        body = None
    if isinstance(body, dict) and isinstance(body.get("email"), str):
        return "email:" + body["email"].strip().lower()
    return "ip:" + get_remote_address()


def failed_login(response: Response) -> bool:
    """Only a wrong email/password costs a token of the budget."""
    return response.status_code == 401


def email_taken(response: Response) -> bool:
    """A registration that revealed an existing account costs a token of the budget."""
    return response.status_code == 409


def client_ip() -> str:
    """The client's address (after ProxyFix, the one HAProxy saw)."""
    return get_remote_address()


def init_limiter(app: Flask, endpoint: str = "auth.login") -> Limiter:
    """A limiter per app (tests run several apps in one process), wrapped around the login view.

    Counts live in Redis (`REDIS_URL`) so every replica sees the same budget.
    """
    settings = app.config["AUTHLAB"]
    app.config.setdefault("RATELIMIT_STORAGE_URI", limiter_storage_uri(settings))
    app.config.setdefault(
        "RATELIMIT_STORAGE_OPTIONS", {"socket_timeout": 0.5, "socket_connect_timeout": 0.5}
    )
    limiter = Limiter(
        key_func=client_ip,
        app=app,
        # Retry-After goes on the 429 only (errors.py), not on every login answer.
        headers_enabled=False,
        swallow_errors=True,
        in_memory_fallback_enabled=True,
        key_prefix="authlab-rl",
        strategy="moving-window",
    )
    view = app.view_functions[endpoint]
    view = limiter.limit(
        lambda: settings.login_rate_limit, key_func=email_key, deduct_when=failed_login
    )(view)
    view = limiter.limit(
        lambda: settings.login_ip_rate_limit, key_func=client_ip, deduct_when=failed_login
    )(view)
    app.view_functions[endpoint] = view
    # Registration says "email taken" (409, docs/security.md): each such answer costs the
    # client's IP a token of the same per-IP budget, so enumerating emails stays slow.
    app.view_functions["auth.register"] = limiter.limit(
        lambda: settings.login_ip_rate_limit, key_func=client_ip, deduct_when=email_taken
    )(app.view_functions["auth.register"])
    return limiter
