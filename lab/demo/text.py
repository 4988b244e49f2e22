"""What the demo says before it starts: how soon the stateless ending comes, and how to hurry it.

Shared by the terminal demo and the browser console, so that both say it the same way, from the
one declaration of the default lifetime (servers/jwt_server/config.py).
"""

from __future__ import annotations

from ..engine.configuration import (
    default_access_ttl,
    default_dbsc_cookie_ttl,
    default_leeway,
    lifetime,
)


def stateless_note(access_ttl: int | None) -> str:
    """How long a stolen stateless JWT keeps working, and how to shorten the wait."""
    if access_ttl is None:
        ttl = default_access_ttl("stateless")
        return (
            "A stateless JWT's stolen copy works until its exp: with the default "
            f"ACCESS_TOKEN_TTL that ending is {lifetime(ttl)} (plus {default_leeway():g} s "
            "leeway) after the login. `--access-ttl 30` shortens it to 30 s."
        )
    return f"A stateless JWT's stolen copy works until its exp: {lifetime(access_ttl)} after login."


def dbsc_note(cookie_ttl: float) -> str:
    """How long a stolen copy of a bound session's short cookie works, here and by default."""
    default = default_dbsc_cookie_ttl()
    said = (
        "the server's default" if cookie_ttl == default else f"the default is {lifetime(default)}"
    )
    return (
        f"Bound sessions (DBSC) run with DBSC_COOKIE_TTL={cookie_ttl:g} s ({said}): a stolen "
        f"copy of the short cookie works about {lifetime(cookie_ttl)}. "
        "`--dbsc-cookie-ttl 5` shortens it."
    )
