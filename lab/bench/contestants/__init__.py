"""The contestants of `python -m lab bench --http`: how to start each one and log in to it.

Every contestant runs under the same gunicorn settings, with its own private redis-server, and
is asked the same thing: GET /auth/me with a valid credential. The floor (a bare Flask app) and
the usual Flask stack (Flask-Session + Flask-Login) are references; the rest are AuthLab's
servers, the JWT server once per mode it knows.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Contestant:
    """One app to measure: its gunicorn factory, its settings and the cookie that proves a login."""

    name: str
    factory: str
    env: dict[str, str] = field(default_factory=dict)
    #: The cookie that carries the credential (None: the floor needs none).
    cookie: str | None = None
    #: "floor", "reference" or "authlab": how the tables label it.
    kind: str = "authlab"
    #: Whether login goes through /auth/register first (AuthLab's servers check passwords).
    registers: bool = True


FLOOR = "floor (bare Flask)"
USUAL = "usual stack (Flask-Session + Flask-Login)"
SESSION = "session server"


def jwt_modes() -> list[str]:
    """The modes the JWT server accepts: JWT_MODE's allowed values in its settings, the one
    place a mode is added (not a list typed here)."""
    from servers.core.config import JWT_MODES

    return list(JWT_MODES)


def jwt_name(mode: str) -> str:
    """The row name of the JWT server in one mode."""
    return f"jwt {mode}"


def contestants() -> list[Contestant]:
    """The floor, the reference, the session server, then the JWT server in every mode."""
    rows = [
        Contestant(
            FLOOR, "lab.bench.contestants.floor:create_app()", kind="floor", registers=False
        ),
        Contestant(
            USUAL,
            "lab.bench.contestants.usual:create_app()",
            cookie="session",
            kind="reference",
            registers=False,
        ),
        Contestant(
            SESSION, "servers.session_server:create_app()", {"SESSION_STORE": "redis"}, "sid"
        ),
    ]
    rows += [
        Contestant(
            jwt_name(mode), "servers.jwt_server:create_app()", {"JWT_MODE": mode}, "access_token"
        )
        for mode in jwt_modes()
    ]
    return rows
