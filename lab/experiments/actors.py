"""People in the experiments: a browser with a cookie jar, an attacker with a copy of it.

A `Client` is what a browser is to the servers: a cookie jar and keep-alive connections, pointed
at one frontend (HAProxy) but able to send the same cookies straight to any replica, which is
how the experiments ask "does this credential still work *everywhere*?".
"""

from __future__ import annotations

import re
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from loadtests.answers import busy_retry_after

from ..api import Lab

#: Seconds before a request of an experiment gives up: nothing here should take longer.
TIMEOUT = 5.0

#: `Server-Timing: auth;dur=0.213;desc="store=1"` -> the auth check's time and round trips.
SERVER_TIMING = re.compile(r'auth;dur=(?P<dur>[\d.]+);desc="store=(?P<store>\d+)"')


@dataclass(frozen=True)
class Account:
    """A user the experiment registered (the password is a throwaway)."""

    id: int
    email: str
    password: str
    name: str


def auth_cost(response: requests.Response) -> tuple[float | None, int | None]:
    """(auth check ms, store round trips) from the Server-Timing header, or (None, None)."""
    match = SERVER_TIMING.search(response.headers.get("Server-Timing", ""))
    if not match:
        return None, None
    return float(match["dur"]), int(match["store"])


#: Longest an experiment's client keeps retrying a password request that a busy replica put
#: off (503 `hashing_busy`, `Retry-After`): the replica hashes a few passwords at a time and
#: tells the rest to come back, as it should; a polite client does.
BUSY_WAIT = 30.0


def politely(
    send: Callable[[], requests.Response],
    put_off: Callable[[requests.Response], float | None] = busy_retry_after,
) -> requests.Response:
    """Send a password request; while the replica answers 503 `hashing_busy`, wait the
    `Retry-After` it asks (at most a second) and send it again, for up to BUSY_WAIT seconds.
    `put_off` reads an answer as "come back in so many seconds" (None: the answer stands); by
    default the Locust users' reading of a busy replica."""
    deadline = time.monotonic() + BUSY_WAIT
    while True:
        response = send()
        wait = put_off(response)
        if wait is None or time.monotonic() >= deadline:
            return response
        time.sleep(min(wait, 1.0))


def register(base_url: str, prefix: str = "user") -> Account:
    """Register a fresh account (both servers share the user database)."""
    email = f"{prefix}-{uuid.uuid4().hex[:10]}@authlab.example.com"
    password = secrets.token_urlsafe(12)
    name = prefix.capitalize()
    response = politely(
        lambda: requests.post(
            base_url + "/auth/register",
            json={"email": email, "password": password, "name": name},
            timeout=TIMEOUT,
        )
    )
    if response.status_code != 201:
        raise RuntimeError(f"register failed: {response.status_code} {response.text[:200]}")
    return Account(response.json()["user"]["id"], email, password, name)


class Client:
    """A browser: one cookie jar, keep-alive, requests through `base_url` unless told otherwise."""

    def __init__(self, base_url: str, name: str = "client", *, obeys_expiry: bool = True):
        self.base_url = base_url.rstrip("/")
        self.name = name
        self.http = requests.Session()
        #: A browser drops a cookie at its Max-Age or when told to; a thief with a copy doesn't.
        self.obeys_expiry = obeys_expiry

    def request(
        self, method: str, path: str, *, base: str | None = None, **kwargs: Any
    ) -> requests.Response:
        """One request; `base` sends it somewhere else (a replica) with the same cookies."""
        kwargs.setdefault("timeout", TIMEOUT)
        if self.obeys_expiry:
            return self.http.request(method, (base or self.base_url) + path, **kwargs)
        held = list(self.http.cookies)
        response = self.http.request(method, (base or self.base_url) + path, **kwargs)
        # New values are taken (a refresh rotates them); deletions and expiry are ignored.
        fresh = {(c.name, c.path): c for c in self.http.cookies}
        for cookie in held:
            fresh.setdefault((cookie.name, cookie.path), cookie)
        self.http.cookies.clear()
        for cookie in fresh.values():
            self.http.cookies.set(cookie.name, cookie.value, domain=cookie.domain, path=cookie.path)
        return response

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        """GET `path`."""
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        """POST `path`."""
        return self.request("POST", path, **kwargs)

    def login(self, account: Account) -> requests.Response:
        """Log in; raise if the server refuses (an experiment cannot go on without it)."""
        body = {"email": account.email, "password": account.password}
        response = politely(lambda: self.post("/auth/login", json=body))
        if response.status_code != 200:
            raise RuntimeError(
                f"{self.name} could not log in: {response.status_code} {response.text[:200]}"
            )
        return response

    def cookies(self) -> dict[str, str]:
        """The cookies in the jar, by name."""
        return {cookie.name: cookie.value for cookie in self.http.cookies}

    def cookie_header(self, path: str = "/auth/me") -> str:
        """The `Cookie:` header this browser sends with a request for `path`."""
        prepared = self.http.prepare_request(requests.Request("GET", self.base_url + path))
        return prepared.headers.get("Cookie", "")

    def steal(self, name: str = "attacker") -> Client:
        """Another client holding a copy of every cookie in this jar: the theft.

        The copies lose their expiry: a browser drops a cookie at its Max-Age, but whoever
        copied the value keeps sending it for as long as the server accepts it.
        """
        thief = Client(self.base_url, name, obeys_expiry=False)
        for cookie in self.http.cookies:
            thief.http.cookies.set(
                cookie.name, cookie.value, domain=cookie.domain, path=cookie.path
            )
        return thief

    def refresh(self) -> dict[str, Any]:
        """POST /auth/refresh with this jar: the status, the error code and the message (what
        the theft demos show when a stolen or superseded refresh token is played)."""
        response = self.post("/auth/refresh")
        body = response.json() if response.content else {}
        return {
            "status": response.status_code,
            "error": body.get("error"),
            "message": body.get("message"),
        }

    def close(self) -> None:
        """Close the keep-alive connections."""
        self.http.close()


def admin(lab: Lab, server: str) -> Client:
    """A logged-in administrator of `server` (the lab created the account at start)."""
    client = Client(lab.url(server), "admin")
    response = politely(
        lambda: client.post(
            "/auth/login", json={"email": lab.admin_email, "password": lab.admin_password}
        )
    )
    if response.status_code != 200:
        raise RuntimeError(f"admin login failed: {response.status_code} {response.text[:200]}")
    return client


def probe(client: Client, path: str = "/auth/me", base: str | None = None) -> dict[str, Any]:
    """One authenticated GET, described: status, which replica answered, what the check cost."""
    started = time.perf_counter()
    try:
        response = client.get(path, base=base)
    except requests.RequestException as exc:
        return {
            "status": 0,
            "replica": None,
            "ms": None,
            "store": None,
            "error": type(exc).__name__,
        }
    dur, store = auth_cost(response)
    return {
        "status": response.status_code,
        "replica": response.headers.get("X-Replica"),
        "ms": (time.perf_counter() - started) * 1000,
        "auth_ms": dur,
        "store": store,
    }


def logged_in_cookies(url: str, users: int) -> list[str]:
    """`Cookie:` headers of `users` freshly logged-in accounts."""
    cookies = []
    for _ in range(users):
        client = Client(url, "user")
        client.login(register(url, "load"))
        cookies.append(client.cookie_header("/auth/me"))
        client.close()
    return cookies
