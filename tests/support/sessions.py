"""Reading the session server's cookie in tests."""

from __future__ import annotations


def sid(client) -> str:
    """The client's signed session cookie."""
    return client.get_cookie("sid").value


def session_id(client) -> str:
    """The session id inside the client's cookie (the signed value is `<id>:<store epoch>`)."""
    return sid(client).rsplit(".", 1)[0].partition(":")[0]
