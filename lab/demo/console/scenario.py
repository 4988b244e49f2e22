"""The stolen-cookie scenario behind the console page: two cookie jars held by the console.

The victim and the attacker are two `requests.Session` jars in this process, never in the
browser that shows the page: the browser talks only to the console, and the console talks to
the lab like two separate browsers would. So the jars are truly separate, every Set-Cookie and
Cookie header can be shown verbatim, and the lab's Origin checks see a client, not a page from
another origin.

Every method returns a plain dict for the page (JSON), and raises `ScenarioError` with a sentence
for the page when a step comes out of order (stealing before anyone logged in).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests

from ...api import Lab
from ...engine.state import JWT_MODES, SESSION_STORES
from ...experiments.actors import Account, Client, admin, register
from ...experiments.labs import jwt_leeway, refresh_grace
from .wire import parse_set_cookie, set_cookie_headers, short

#: One line on the page: why the victim and the attacker cannot share cookies.
JAR_NOTE = (
    "The victim and the attacker are two separate cookie jars held by the console server "
    "(two requests.Session objects): this page shows their headers verbatim, and your "
    "browser never holds the lab's cookies."
)

#: What the victim (or the admin) can do to end the stolen credential.
ACTIONS = {
    "logout": "The victim logs out",
    "password": "The victim changes the password",
    "logout-all": "The victim logs out everywhere",
    "revoke": "An admin revokes every credential of the victim",
}


class ScenarioError(RuntimeError):
    """A step the page asked for cannot happen now; the message says why."""


@dataclass(frozen=True)
class Setting:
    """One way to run one server, and the lab flags that give it."""

    server: str
    mode: str
    changes: dict[str, Any]
    note: str = ""

    @property
    def key(self) -> str:
        """`session/redis`, `jwt/refresh`, ..."""
        return f"{self.server}/{self.mode}"


def settings() -> list[Setting]:
    """Every session store and JWT mode this lab knows, read from its own lists at run time."""
    found = []
    for store in SESSION_STORES:
        note, policy = "", "roundrobin"
        if store == "memory":
            # Round-robin would refuse the victim on every other request: stick to one replica.
            note = (
                "HAProxy made sticky: with an in-process store only the replica that saw "
                "the login knows the session"
            )
            policy = "sticky"
        found.append(Setting("session", store, {"session_store": store, "lb_policy": policy}, note))
    found += [
        Setting("jwt", mode, {"jwt_mode": mode, "lb_policy": "roundrobin"}) for mode in JWT_MODES
    ]
    return found


def _body(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {"error": "not_json", "message": response.text[:200]}
    return body if isinstance(body, dict) else {"body": body}


def _answer(response: requests.Response) -> dict[str, Any]:
    """One HTTP answer as the page shows it: status, replica, body, Set-Cookie verbatim."""
    return {
        "status": response.status_code,
        "replica": response.headers.get("X-Replica"),
        "body": _body(response),
        "set_cookie": set_cookie_headers(response),
        "cookies": [parse_set_cookie(h) for h in set_cookie_headers(response)],
    }


#: Paths whose Cookie header the page shows (the refresh token is sent to its endpoint only).
COOKIE_PATHS = ("/auth/me", "/auth/refresh")


def _cookie_lines(client: Client | None) -> list[str]:
    """The Cookie header this jar sends to each path, when it sends one."""
    if client is None:
        return []
    lines = []
    for path in COOKIE_PATHS:
        header = client.cookie_header(path)
        if header and (path == COOKIE_PATHS[0] or "refresh_token" in header):
            # Values cut in the middle so the pane stays readable; the Set-Cookie is verbatim.
            pairs = [pair.partition("=") for pair in header.split("; ")]
            shown = "; ".join(f"{name}={short(value, 16)}" for name, _, value in pairs)
            lines.append(f"to {path}: Cookie: {shown}")
    return lines


class Scenario:
    """One run of the stolen-cookie story on one server of a running lab."""

    def __init__(self, lab: Lab, access_ttl: int | None = None):
        self.lab = lab
        self.access_ttl = access_ttl
        self.lock = threading.RLock()
        self.setting = self._current_setting("session")
        self._reset()

    # -- the lab -------------------------------------------------------------------------------

    def _current_setting(self, server: str) -> Setting:
        config = self.lab.config
        mode = config.session_store if server == "session" else config.jwt_mode
        return next(s for s in settings() if s.server == server and s.mode == mode)

    def describe(self) -> dict[str, Any]:
        """The lab and the settings the page offers."""
        config = self.lab.config
        return {
            "settings": [
                {"key": s.key, "server": s.server, "mode": s.mode, "note": s.note}
                for s in settings()
            ],
            "current": self.setting.key,
            "note": self.setting.note,
            "url": self.lab.url(self.setting.server),
            "replicas": config.replicas,
            "lb_policy": config.lb_policy,
            "access_ttl": config.access_ttl,
            "leeway": jwt_leeway(self.lab),
            "grace": refresh_grace(self.lab),
            "jar_note": JAR_NOTE,
            "actions": ACTIONS,
            "state": self.state(),
        }

    def use(self, key: str) -> dict[str, Any]:
        """Switch to another server or mode (restarts only that server's replicas)."""
        setting = next((s for s in settings() if s.key == key), None)
        if setting is None:
            raise ScenarioError(f"unknown setting {key!r}")
        with self.lock:
            changes = dict(setting.changes)
            if self.access_ttl is not None:
                changes["access_ttl"] = self.access_ttl
            wanted = {k: v for k, v in changes.items() if getattr(self.lab.config, k) != v}
            if wanted:
                self.lab.reconfigure(**wanted)
            self.setting = setting
            self._reset()
            return self.describe()

    # -- the story -----------------------------------------------------------------------------

    def _reset(self) -> None:
        for client in (getattr(self, "victim", None), getattr(self, "attacker", None)):
            if client is not None:
                client.close()
        self.victim: Client | None = None
        self.attacker: Client | None = None
        self.account: Account | None = None
        self.revocation: dict[str, Any] | None = None

    def state(self) -> dict[str, Any]:
        """Where the story is: who holds what, and what the server promised."""
        return {
            "logged_in": self.victim is not None,
            "stolen": self.attacker is not None,
            "revocation": self.revocation,
            "victim_cookie": _cookie_lines(self.victim),
            "attacker_cookie": _cookie_lines(self.attacker),
        }

    def login(self) -> dict[str, Any]:
        """A fresh victim registers and logs in through the load balancer."""
        with self.lock:
            self._reset()
            url = self.lab.url(self.setting.server)
            self.account = register(url, "victim")
            self.victim = Client(url, "victim")
            answer = _answer(self.victim.login(self.account))
            return {"email": self.account.email, "answer": answer, "state": self.state()}

    def steal(self) -> dict[str, Any]:
        """The attacker copies every cookie of the victim's jar (and ignores their expiry)."""
        with self.lock:
            if self.victim is None:
                raise ScenarioError("nobody has logged in yet: the victim logs in first")
            self.attacker = self.victim.steal()
            copied = [
                {"name": c.name, "value": short(c.value), "path": c.path}
                for c in self.attacker.http.cookies
            ]
            return {"copied": copied, "state": self.state()}

    def act(self, action: str) -> dict[str, Any]:
        """The victim (or the admin) ends the credential; the server's answer is the promise."""
        if action not in ACTIONS:
            raise ScenarioError(f"action must be one of {', '.join(ACTIONS)}")
        with self.lock:
            if self.victim is None or self.account is None:
                raise ScenarioError("nobody has logged in yet: the victim logs in first")
            response = self._send_action(action)
            answer = _answer(response)
            body = answer["body"]
            self.revocation = {
                "action": action,
                "at": time.time(),
                "status": response.status_code,
                "revoked": body.get("revoked"),
                "valid_until": body.get("valid_until"),
                "message": body.get("message"),
            }
            return {"answer": answer, "state": self.state()}

    def _send_action(self, action: str) -> requests.Response:
        assert self.victim is not None and self.account is not None
        if action == "revoke":
            boss = admin(self.lab, self.setting.server)
            try:
                return boss.post(f"/admin/users/{self.account.id}/revoke")
            finally:
                boss.close()
        if action == "password":
            new = self.account.password + "-new"
            body = {"current_password": self.account.password, "new_password": new}
            response = self.victim.post("/auth/password", json=body)
            if response.status_code == 200:
                self.account = Account(self.account.id, self.account.email, new, self.account.name)
            return response
        return self.victim.post(f"/auth/{action}")

    def _client(self, who: str) -> Client:
        client = {"victim": self.victim, "attacker": self.attacker}.get(who)
        if client is None:
            raise ScenarioError(
                "the attacker has no copy yet" if who == "attacker" else "the victim is not in"
            )
        return client

    def probe(self, who: str, everywhere: bool = False) -> dict[str, Any]:
        """GET /auth/me with one jar: through HAProxy, or on every replica directly."""
        with self.lock:
            client = self._client(who)
            if everywhere:
                bases = [(r.replica_id, r.url) for r in self.lab.replicas(self.setting.server)]
            else:
                bases = [("HAProxy", None)]
            tries = [self._one_probe(client, via, base) for via, base in bases]
            return {"who": who, "tries": tries, "state": self.state()}

    def _one_probe(self, client: Client, via: str, base: str | None) -> dict[str, Any]:
        try:
            response = client.get("/auth/me", base=base)
        except requests.RequestException as exc:
            return {"via": via, "status": 0, "error": type(exc).__name__, **self._timing()}
        body = _body(response)
        return {
            "via": via,
            "status": response.status_code,
            "replica": response.headers.get("X-Replica"),
            "error": body.get("error"),
            "message": body.get("message"),
            **self._timing(),
            **self._promise(response.status_code),
        }

    def _timing(self) -> dict[str, Any]:
        if self.revocation is None:
            return {"since": None}
        return {"since": time.time() - self.revocation["at"]}

    def _promise(self, status: int) -> dict[str, Any]:
        """Whether this answer keeps what the server said at the revocation."""
        rev = self.revocation
        if rev is None or rev["status"] != 200:
            return {"expected": None, "kept": None}
        if rev["revoked"]:
            return {"expected": "refused", "kept": status != 200}
        until = rev.get("valid_until")
        if until and datetime.fromisoformat(until).timestamp() > time.time():
            return {"expected": "may be let in until valid_until", "kept": True}
        return {"expected": "refused (valid_until has passed)", "kept": status != 200}

    def refresh(self, who: str) -> dict[str, Any]:
        """POST /auth/refresh with one jar: the victim's browser, or the stolen refresh token."""
        with self.lock:
            client = self._client(who)
            answer = _answer(client.post("/auth/refresh"))
            return {"who": who, "answer": answer, "state": self.state()}
