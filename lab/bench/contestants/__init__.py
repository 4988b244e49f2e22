"""The contestants of `python -m lab bench --http`: how to start each one and log in to it.

Every contestant runs under the same gunicorn settings, with its own private redis-server, and
is asked the same thing: GET /auth/me with a valid credential. The floor (a bare Flask app) and
the usual Flask stack (Flask-Session + Flask-Login) are references; the two mechanism limits (the
smallest app that does sessions at all, one Redis GET; the smallest that does JWTs at all, one
PyJWT decode) are what each of AuthLab's servers is measured against; the rest are AuthLab's
servers, the session server once per shared store, the JWT server once per mode it knows.
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
    #: "floor", "limit", "reference" or "authlab": how the tables label it.
    kind: str = "authlab"
    #: Whether login goes through /auth/register first (AuthLab's servers check passwords).
    registers: bool = True
    #: The name of its mechanism's limit (the minimal app it is compared with), if any.
    limit: str | None = None

    @property
    def bound(self) -> bool:
        """Whether the login registers a key (DBSC): the credential is the cookie it renews."""
        return self.env.get("SESSION_BINDING") == "dbsc"


FLOOR = "floor (bare Flask)"
USUAL = "usual stack (Flask-Session + Flask-Login)"
SESSION = "session server"
SESSION_LIMIT = "minimal session (one Redis GET)"
JWT_LIMIT = "minimal JWT (one PyJWT decode)"
#: Shared session stores measured besides Redis (memory is per process: it breaks under
#: gunicorn's several workers, on purpose, so it is not a contestant).
SESSION_STORES = ("cached",)
#: The bound session (DBSC) on Redis: wrk sends the short cookie the client's key renewed, alive
#: for the whole bench (DBSC_COOKIE_TTL is the copy's window, not the check's cost). DPoP has no
#: contestant: a proof is good for one request, and wrk replays one recorded header
#: (`python -m lab binding-cost` measures it with a client that signs every request).
DBSC = "session server + dbsc"
DBSC_ENV = {"SESSION_STORE": "redis", "SESSION_BINDING": "dbsc", "DBSC_COOKIE_TTL": "3600"}


def jwt_modes() -> list[str]:
    """The modes the JWT server accepts: JWT_MODE's allowed values in its settings, the one
    place a mode is added (not a list typed here)."""
    from servers.core.config import JWT_MODES

    return list(JWT_MODES)


def jwt_name(mode: str) -> str:
    """The row name of the JWT server in one mode."""
    return f"jwt {mode}"


def session_name(store: str) -> str:
    """The row name of the session server on one store (Redis is the plain 'session server')."""
    return SESSION if store == "redis" else f"{SESSION} ({store})"


def references() -> list[Contestant]:
    """The floor, the two mechanisms' limits and the usual stack: what AuthLab is compared to."""
    bench = "lab.bench.contestants"
    return [
        Contestant(FLOOR, f"{bench}.floor:create_app()", kind="floor", registers=False),
        Contestant(
            SESSION_LIMIT,
            f"{bench}.minimal_session:create_app()",
            cookie="sid",
            kind="limit",
            registers=False,
            limit=SESSION_LIMIT,
        ),
        Contestant(
            JWT_LIMIT,
            f"{bench}.minimal_jwt:create_app()",
            cookie="access_token",
            kind="limit",
            registers=False,
            limit=JWT_LIMIT,
        ),
        Contestant(
            USUAL,
            f"{bench}.usual:create_app()",
            cookie="session",
            kind="reference",
            registers=False,
            limit=SESSION_LIMIT,
        ),
    ]


def contestants() -> list[Contestant]:
    """The references, the session server on each shared store, the JWT server in every mode."""
    rows = references()
    rows += [
        Contestant(
            session_name(store),
            "servers.session_server:create_app()",
            {"SESSION_STORE": store},
            "sid",
            limit=SESSION_LIMIT,
        )
        for store in ("redis", *SESSION_STORES)
    ]
    rows.append(
        Contestant(
            DBSC,
            "servers.session_server:create_app()",
            DBSC_ENV,
            "sid_bound",
            limit=SESSION_LIMIT,
        )
    )
    rows += [
        Contestant(
            jwt_name(mode),
            "servers.jwt_server:create_app()",
            {"JWT_MODE": mode},
            "access_token",
            limit=JWT_LIMIT,
        )
        for mode in jwt_modes()
    ]
    return rows
