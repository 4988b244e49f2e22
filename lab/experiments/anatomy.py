"""Anatomy: what each credential looks like on the wire, and what the server keeps for it.

A session cookie is an opaque random id (plus a signature): it says nothing, and everything
about the user lives in Redis. A JWT carries the user inside it, base64url-encoded and signed,
not encrypted: anyone holding it can read it. These functions measure both sides.
"""

from __future__ import annotations

import base64
import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import redis
import requests

from ..api import Lab
from .actors import Account, Client, register
from .labs import mode_of

#: Sessions whose RAM the projections price.
PROJECTIONS = (1_000_000, 10_000_000)


def b64url_json(part: str) -> dict[str, Any]:
    """Decode one base64url segment of a JWT into JSON: no key needed, nothing to break."""
    padded = part + "=" * (-len(part) % 4)
    return json.loads(base64.urlsafe_b64decode(padded))


def decode_jwt(token: str) -> dict[str, Any]:
    """A JWT's header and payload as anyone can read them, and the signature's size."""
    header, payload, signature = token.split(".")
    return {
        "header": b64url_json(header),
        "payload": b64url_json(payload),
        "signature_bytes": len(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))),
        "token_bytes": len(token),
    }


def _set_cookie_headers(response: requests.Response) -> list[str]:
    return list(response.raw.headers.getlist("Set-Cookie"))


def _cookie_row(header: str) -> dict[str, Any]:
    first, *attrs = [part.strip() for part in header.split(";")]
    name, _, value = first.partition("=")
    return {
        "name": name,
        "value": value,
        "value_bytes": len(value),
        "set_cookie_bytes": len("Set-Cookie: " + header),
        "attributes": attrs,
    }


def credential_anatomy(lab: Lab, server: str, account: Account | None = None) -> dict[str, Any]:
    """Log in to `server` and take the credential apart: cookies, sizes, and a JWT decoded."""
    account = account or register(lab.url(server), "anatomy")
    client = Client(lab.url(server), "browser")
    response = client.login(account)
    cookies = [_cookie_row(h) for h in _set_cookie_headers(response)]
    sent = client.cookie_header("/auth/me")
    result: dict[str, Any] = {
        "server": server,
        "mode": mode_of(lab, server),
        "cookies": cookies,
        # What the browser sends back on every request: this is the per-request cost.
        "cookie_header_bytes": len("Cookie: " + sent) if sent else 0,
        "login_body": response.json(),
    }
    for row in cookies:
        if row["name"] in ("access_token", "refresh_token") and row["value"].count(".") == 2:
            row["jwt"] = decode_jwt(row["value"])
        elif row["name"] == "sid":
            # itsdangerous: "<id>.<signature>"; the id is 32 random bytes, base64url.
            session_id, _, signature = row["value"].rpartition(".")
            row["opaque"] = {"id_chars": len(session_id), "signature_chars": len(signature)}
    client.close()
    return result


def _redis(lab: Lab) -> redis.Redis:
    return redis.Redis.from_url(lab.redis_url, decode_responses=True, socket_timeout=5)


def _key_row(r: redis.Redis, key: str) -> dict[str, Any]:
    kind = r.type(key)
    if kind == "string":
        value: Any = r.get(key)
    elif kind == "zset":
        value = r.zrange(key, 0, -1, withscores=True)
    elif kind == "hash":
        value = r.hgetall(key)
    elif kind == "set":
        value = sorted(r.smembers(key))
    else:
        value = None
    return {
        "key": key,
        "type": kind,
        "ttl_s": r.ttl(key),
        # SAMPLES 0: measure every element (exact, and the keys here are small).
        "memory_usage": r.memory_usage(key, samples=0),
        "value": value,
    }


def store_footprint(lab: Lab, server: str, account: Account | None = None) -> dict[str, Any]:
    """The Redis keys one login on `server` creates, with their TTL, value and bytes."""
    r = _redis(lab)
    account = account or register(lab.url(server), "footprint")
    before = set(r.scan_iter(count=1000))
    client = Client(lab.url(server), "browser")
    client.login(account)
    me = client.get("/auth/me")
    after = set(r.scan_iter(count=1000))
    rows = [_key_row(r, key) for key in sorted(after - before)]
    client.close()
    return {
        "server": server,
        "mode": mode_of(lab, server),
        "me_status": me.status_code,
        "keys": rows,
        "bytes": sum(row["memory_usage"] or 0 for row in rows),
    }


def _prefix(key: str) -> str:
    return key.split(":", 1)[0] + ":" if ":" in key else key


def bytes_per_session(
    lab: Lab,
    server: str = "session",
    sessions: int = 200,
    sessions_per_user: int = 4,
    threads: int = 4,
) -> dict[str, Any]:
    """Create `sessions` logins and measure what Redis holds per session, two ways.

    MEMORY USAGE of the new keys is exact per key (value, key name, Redis's per-key overhead);
    the rise of INFO's used_memory also counts the hash table growing, so it is noisier. Both are
    divided by the number of sessions and projected to a million and ten million sessions.
    """
    r = _redis(lab)
    url = lab.url(server)
    users = max(1, sessions // sessions_per_user)
    with ThreadPoolExecutor(threads) as pool:
        accounts = list(pool.map(lambda i: register(url, "bulk"), range(users)))
    before_keys = set(r.scan_iter(count=1000))
    before_memory = r.info("memory")["used_memory"]
    started = time.perf_counter()

    def login(i: int) -> None:
        client = Client(url, "bulk")
        client.login(accounts[i % users])
        client.close()

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(login, range(sessions)))
    elapsed = time.perf_counter() - started
    after_memory = r.info("memory")["used_memory"]
    new_keys = sorted(set(r.scan_iter(count=1000)) - before_keys)
    by_prefix: dict[str, int] = {}
    for key in new_keys:
        by_prefix[_prefix(key)] = by_prefix.get(_prefix(key), 0) + (
            r.memory_usage(key, samples=0) or 0
        )
    per_session = sum(by_prefix.values()) / sessions
    return {
        "server": server,
        "mode": mode_of(lab, server),
        "sessions": sessions,
        "sessions_per_user": sessions_per_user,
        "new_keys": len(new_keys),
        "login_seconds": elapsed,
        "bytes_per_session": per_session,
        "bytes_per_session_by_prefix": {k: v / sessions for k, v in by_prefix.items()},
        "used_memory_per_session": (after_memory - before_memory) / sessions,
        "projections": [
            {"sessions": n, "bytes": per_session * n, "gib": per_session * n / 2**30}
            for n in PROJECTIONS
        ],
    }
