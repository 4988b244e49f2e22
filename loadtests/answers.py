"""Reading a server's answer in a scenario: its JSON body, who answered (the application or
HAProxy), whether it is what the task expected (a Locust failure with the server's own reason
if not), whether a replica said it was busy hashing, and the credential cookie a client holds."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only: the lab's own clients read busy answers here too,
    # and must not import locust (it patches the process with gevent)
    from locust.contrib.fasthttp import FastHttpSession, ResponseContextManager

#: The cookies that carry a credential: the session server's id (or, bound with DBSC, its
#: short-lived cookie), the JWT server's access token.
CREDENTIAL_COOKIES = ("sid", "sid_bound", "access_token")

#: The 401 codes that refuse a dead credential: ended (or revoked), and ended or lost with the
#: store's data (the store restarted empty, was flushed: servers/core/epoch.py).
REFUSAL_CODES = ("unauthorized", "revocation_state_lost")

#: How many busy answers (503 hashing_busy) a register or login waits out before giving up.
MAX_BUSY_RETRIES = 30


def credential_cookie(client: FastHttpSession) -> tuple[str, str] | None:
    """The (name, value) of the credential cookie a client holds, if any."""
    for cookie in client.cookiejar:
        if cookie.name in CREDENTIAL_COOKIES and cookie.value:
            return cookie.name, cookie.value
    return None


def busy_retry_after(response: ResponseContextManager) -> float | None:
    """Seconds to wait when a replica said all its hashing slots were busy, else None."""
    if response.status_code != 503:
        return None
    body = body_of(response)
    if not body or body.get("error") != "hashing_busy":
        return None
    try:
        return max(0.1, float(response.headers.get("Retry-After") or 1))
    except ValueError:
        return 1.0


def login_hint(response: ResponseContextManager) -> str:
    """What a failed register or login means, and where to look: who answered, and why."""
    status = response.status_code
    body = body_of(response)
    if status == 503 and body is None:
        return (
            "503 from HAProxy: no replica was in rotation (its health checks had marked them all "
            "DOWN; see the HAProxy stats page and summary.json's `rotation`)"
        )
    if status == 503 and body and body.get("error") == "hashing_busy":
        return f"503 hashing_busy {MAX_BUSY_RETRIES} times in a row: the replicas stayed busy"
    if status == 503:
        return f"503 from the application ({who_answered(response, body)}): is Redis up?"
    if status == 429:
        return "429 from the application: the failed-login limit (raise --login-rate-limit)"
    return f"{status} {who_answered(response, body)}"


def body_of(response: ResponseContextManager) -> dict[str, Any] | None:
    """The JSON object of a response, or None if it is not one."""
    try:
        body = json.loads(response.content or b"")
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


def who_answered(response: ResponseContextManager, body: dict[str, Any] | None) -> str:
    """Why a response was not what we expected, in words: the application's own error, or
    HAProxy's 503 (no replica in rotation: its health checks had marked them all DOWN)."""
    if body is not None:
        return f"{body.get('error')}: {body.get('message')}"
    if response.status_code == 503:
        return "from HAProxy, not the application: no replica was in rotation (all marked DOWN)"
    if response.status_code == 0:
        return f"no answer ({response.error})"
    return "(no JSON body)"


def expect(response: ResponseContextManager, status: int, *keys: str) -> dict[str, Any] | None:
    """Check the status and that the JSON body has `keys`; mark a failure and return None if not.

    The failure message carries the server's own error code and message, so Locust's failures
    table says *why* (e.g. `401 unauthorized: This session has ended...`).
    """
    body = body_of(response)
    if response.status_code != status:
        response.failure(
            f"expected {status}, got {response.status_code} {who_answered(response, body)}"
        )
        return None
    if body is None:
        response.failure(f"{status} without a JSON object body")
        return None
    missing = [key for key in keys if key not in body]
    if missing:
        response.failure(f"{status} body lacks {', '.join(missing)}")
        return None
    return body
