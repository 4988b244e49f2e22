"""Reading the session server's cookie in tests."""

from __future__ import annotations


def sid(client) -> str:
    """The client's signed session cookie."""
    return client.get_cookie("sid").value
