"""The workload: each client owns one user and records every request it makes.

A client logs in (each login is a new credential, and the attacker keeps a copy of it), makes
authenticated requests, logs out, changes its password (the server renews this client and
revokes the rest), refreshes (JWT refresh mode) and replays stolen copies, dead or alive. Its
choices come from the run's seed; every request goes into the history with the credential it
carried, so the checker can tell which promise an answer touched.
"""

from __future__ import annotations

import base64
import json
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import requests

from .history import History, answer_of

#: Seconds a request may take (a fault can hold one that long; then it is "no answer").
TIMEOUT = 10.0
PASSWORDS = ("chaos-password-0", "chaos-password-1")
#: How often each operation is picked when the client holds a credential (weights).
WEIGHTS = {"me": 40, "replay": 25, "logout": 12, "password": 5, "login": 8, "refresh": 10}
#: Stolen copies each client replays at the end, once every fault healed (the final read).
FINAL_COPIES = 40


@dataclass
class Credential:
    """One credential as a browser holds it: its cookies, and which session it continues."""

    cred: str
    session: str
    cookies: dict[str, str]
    exp: float | None


def token_claims(token: str) -> dict[str, Any]:
    """A JWT's claims, read and not verified (the checker wants `exp`; tests want `iat`)."""
    if token.count(".") != 2:
        return {}
    payload = token.split(".")[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except ValueError:
        return {}
    return claims if isinstance(claims, dict) else {}


def token_exp(cookies: dict[str, str]) -> float | None:
    """The `exp` of a JWT access token, else None (a session cookie)."""
    exp = token_claims(cookies.get("access_token") or "").get("exp")
    return float(exp) if isinstance(exp, int | float) else None


@dataclass
class Client:
    """One user's browser (and the attacker who copies its cookies)."""

    number: int
    url: str
    history: History
    rng: random.Random
    refresh_mode: bool = False
    email: str = ""
    password_index: int = 0
    current: Credential | None = None
    stolen: list[Credential] = field(default_factory=list)
    issued: int = 0
    #: Sessions whose logout was answered 200: their refresh token is dead, whatever else.
    ended: set[str] = field(default_factory=set)
    http: requests.Session = field(default_factory=requests.Session)

    # -- one request, recorded ------------------------------------------------------------

    def request(
        self, kind: str, method: str, path: str, cred: Credential | None, body: dict | None = None,
        renews: str | None = None,
    ) -> tuple[int, dict[str, Any]]:  # fmt: skip
        """Send one request and record it; `renews` ("new"/"same" session) if it may issue a
        credential. Returns (status, the record); status 0 is no answer."""
        op_id, start = self.history.begin(kind)
        record: dict[str, Any] = {
            "client": self.number, "user": self.email, "kind": kind, "method": method,
            "path": path, "cred": cred.cred if cred else None,
            "session": cred.session if cred else None, "exp": cred.exp if cred else None,
            "start": round(start, 4),
        }  # fmt: skip
        issued = None
        self.http.cookies.clear()  # the credential is exactly the cookies given
        try:
            response = self.http.request(
                method, self.url + path, json=body, cookies=cred.cookies if cred else None,
                timeout=TIMEOUT,
            )  # fmt: skip
        except requests.RequestException as exc:
            record.update(status=0, body=None, text=f"{type(exc).__name__}: {exc}"[:300])
        else:
            answer, text = answer_of(response)
            record.update(
                status=response.status_code, body=answer, text=text,
                replica=response.headers.get("X-Replica"),
            )  # fmt: skip
            if response.status_code == 200 and renews:
                issued = self._issue(response, renews == "same" and cred or None)
        if issued is not None:
            record.update(issued=issued.cred, issued_session=issued.session, issued_exp=issued.exp)
        self.history.end(op_id, record)
        if issued is not None:
            self.stolen.append(issued)  # the attacker copies every credential it sees
            self.current = issued
        return record["status"], record

    def _issue(self, response: requests.Response, same: Credential | None) -> Credential | None:
        """The credential a response set (a login, a renewal, a refresh), or None."""
        cookies = {c.name: c.value for c in response.cookies if c.value}
        if not cookies:
            return None
        if same is not None:  # a refresh: new cookies over the old ones, the same session
            cookies = {**same.cookies, **cookies}
        self.issued += 1
        cred = f"c{self.number}.{self.issued}"
        return Credential(cred, same.session if same else cred, cookies, token_exp(cookies))

    # -- what a user does ---------------------------------------------------------------------

    @property
    def password(self) -> str:
        """The password the client believes is current."""
        return PASSWORDS[self.password_index]

    def register(self) -> None:
        """A fresh user for this client (SQL only: no fault touches it)."""
        self.email = f"chaos-{self.number}-{uuid.uuid4().hex[:10]}@example.com"
        body = {"email": self.email, "password": self.password, "name": f"Chaos {self.number}"}
        status, record = self.request("register", "POST", "/auth/register", None, body)
        if status != 201:
            raise RuntimeError(f"client {self.number} could not register: {record}")

    def login(self) -> None:
        """A new credential (a new device); a wrong password flips to the other one."""
        body = {"email": self.email, "password": self.password}
        status, record = self.request("login", "POST", "/auth/login", None, body, renews="new")
        if status == 401 and (record.get("body") or {}).get("error") == "invalid_credentials":
            self.password_index = 1 - self.password_index  # a change we were not told about

    def me(self) -> None:
        """An ordinary authenticated request with the current credential."""
        status, _ = self.request("me", "GET", "/auth/me", self.current)
        if status == 401:
            self.current = None

    def replay(self) -> None:
        """The attacker tries one of the copies it took, dead or alive; in refresh mode now and
        then a logged-out copy's refresh token (a live one would trip reuse detection, which
        ends the victim's session on purpose)."""
        ended = [c for c in self.stolen if c.session in self.ended]
        if self.refresh_mode and ended and self.rng.random() < 0.3:
            self.request("replay", "POST", "/auth/refresh", self.rng.choice(ended))
            return
        self.request("replay", "GET", "/auth/me", self.rng.choice(self.stolen))

    def logout(self) -> None:
        """Log out; the browser drops the credential, the attacker keeps its copy."""
        status, _ = self.request("logout", "POST", "/auth/logout", self.current)
        if status == 200 and self.current is not None:
            self.ended.add(self.current.session)
        if status in (200, 401):
            self.current = None

    def change_password(self) -> None:
        """Change the password: this client is renewed, every other credential revoked."""
        new = 1 - self.password_index
        body = {"current_password": self.password, "new_password": PASSWORDS[new]}
        before = self.current
        status, record = self.request(
            "password", "POST", "/auth/password", self.current, body, renews="new"
        )
        message = str((record.get("body") or {}).get("message", ""))
        if status == 200 or "WAS changed" in message:
            self.password_index = new
        if status != 200 and self.current is before:
            self.current = None if status in (401, 503) else self.current

    def refresh(self) -> None:
        """A new access token for the same session (refresh mode)."""
        status, _ = self.request("refresh", "POST", "/auth/refresh", self.current, renews="same")
        if status == 401:
            self.current = None

    def step(self) -> None:
        """One operation, drawn from the client's own random stream."""
        if self.current is None:
            self.login()
            return
        kinds = [k for k in WEIGHTS if (k != "refresh" or self.refresh_mode)]
        kind = self.rng.choices(kinds, weights=[WEIGHTS[k] for k in kinds])[0]
        actions = {
            "me": self.me, "replay": self.replay, "logout": self.logout, "login": self.login,
            "password": self.change_password, "refresh": self.refresh,
        }  # fmt: skip
        actions[kind]()

    def final_reads(self) -> None:
        """Once every fault healed: each copy the attacker holds, tried once more."""
        for copy in self.rng.sample(self.stolen, min(FINAL_COPIES, len(self.stolen))):
            self.request("final", "GET", "/auth/me", copy)


class Budget:
    """A shared count of operations left (None: no limit, the clock decides)."""

    def __init__(self, ops: int | None):
        self.left = ops
        self._lock = threading.Lock()

    def take(self) -> bool:
        """One more operation, if any is left."""
        with self._lock:
            if self.left is None:
                return True
            if self.left <= 0:
                return False
            self.left -= 1
            return True


def drive(client: Client, stop: threading.Event, budget: Budget, pace: float) -> None:
    """A client's loop: one operation every `pace` seconds until stopped or out of budget."""
    while not stop.is_set() and budget.take():
        client.step()
        time.sleep(pace * client.rng.uniform(0.5, 1.5))
