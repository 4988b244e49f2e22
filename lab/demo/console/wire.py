"""What the console shows of the wire: Set-Cookie headers as sent, their flags, a JWT decoded.

Nothing here verifies anything: a JWT's header and payload are base64url, readable by anyone
who holds the token (the lesson of `decode_jwt`), and only the server can check the signature.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import requests

#: Cookie attributes worth a line on the page, in the order they are shown.
FLAGS = ("HttpOnly", "Secure", "SameSite", "Path", "Max-Age", "Expires", "Domain")


def set_cookie_headers(response: requests.Response) -> list[str]:
    """Every Set-Cookie header of a response, verbatim (requests folds them into one)."""
    return list(response.raw.headers.getlist("Set-Cookie"))


def parse_set_cookie(header: str) -> dict[str, Any]:
    """One Set-Cookie header as name, value and attributes (absent flags are False)."""
    first, *attributes = [part.strip() for part in header.split(";")]
    name, _, value = first.partition("=")
    flags: dict[str, Any] = {"HttpOnly": False, "Secure": False}
    for attribute in attributes:
        key, sep, val = attribute.partition("=")
        canonical = next((f for f in FLAGS if f.lower() == key.lower()), key)
        flags[canonical] = val if sep else True
    return {
        "name": name,
        "value": value,
        "flags": flags,
        "deleted": flags.get("Max-Age") == "0",
        "claims": decode_jwt(value),
    }


def _b64url_json(segment: str) -> dict[str, Any]:
    padded = segment + "=" * (-len(segment) % 4)
    return json.loads(base64.urlsafe_b64decode(padded))


def decode_jwt(token: str) -> dict[str, Any] | None:
    """The header and claims of a JWT, unverified (anyone can read them); None if not a JWT."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        header, payload = _b64url_json(parts[0]), _b64url_json(parts[1])
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(header, dict) or not isinstance(payload, dict):
        return None
    times = {
        key: _utc(payload[key])
        for key in ("iat", "nbf", "exp")
        if isinstance(payload.get(key), int | float)
    }
    return {"header": header, "payload": payload, "times": times}


def _utc(stamp: float) -> str:
    return datetime.fromtimestamp(stamp, UTC).strftime("%H:%M:%S UTC")


def short(value: str, keep: int = 24) -> str:
    """A long token cut in the middle, so a projector line holds it."""
    return value if len(value) <= keep * 2 + 3 else f"{value[:keep]}...{value[-10:]}"
