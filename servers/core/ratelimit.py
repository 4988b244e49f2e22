"""Failed-login rate limits, per email and per client IP, shared by all replicas through Redis.

Flask-Limiter does the counting (a moving window in Redis). Only failed attempts count
(`deduct_when`), so a user who types the right password is never locked out by their own
successes. If Redis is down, counting falls back to each replica's memory: logins keep working
where the mechanism allows it, each replica limiting on its own (documented in the README).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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


def only_for(endpoints: set[str], hook: Callable[..., Any]) -> Callable[..., Any]:
    """Run a request hook on these endpoints only; elsewhere pass its argument through."""

    def scoped(arg: Any = None) -> Any:
        if request.endpoint in endpoints:
            return hook(arg)
        return arg

    return scoped


def scope_hooks(app: Flask, added: dict[str, int], endpoints: set[str]) -> None:
    """Limits only where declared: drop Flask-Limiter's app-wide check (the decorated view
    checks its own limits) and scope its after/teardown hooks (failed-login deductions) to
    the limited endpoints. Unscoped, they cost every request, /auth/me included."""
    before = app.before_request_funcs[None]
    del before[added["before"] :]
    for funcs, start in (
        (app.after_request_funcs[None], added["after"]),
        (app.teardown_request_funcs[None], added["teardown"]),
    ):
        funcs[start:] = [only_for(endpoints, hook) for hook in funcs[start:]]


def init_limiter(app: Flask, endpoint: str = "auth.login") -> Limiter:
    """A limiter per app (tests run several apps in one process), wrapped around the login view.

    Counts live in Redis (`REDIS_URL`) so every replica sees the same budget. No default or
    application limits: only the login endpoint is limited, and only it pays for the limiter.
    """
    settings = app.config["AUTHLAB"]
    app.config.setdefault("RATELIMIT_STORAGE_URI", limiter_storage_uri(settings))
    app.config.setdefault(
        "RATELIMIT_STORAGE_OPTIONS", {"socket_timeout": 0.5, "socket_connect_timeout": 0.5}
    )
    added = {
        "before": len(app.before_request_funcs.setdefault(None, [])),
        "after": len(app.after_request_funcs.setdefault(None, [])),
        "teardown": len(app.teardown_request_funcs.setdefault(None, [])),
    }
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
    scope_hooks(app, added, {endpoint, "auth.register"})
    return limiter
