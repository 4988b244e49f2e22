"""The stolen-cookie scenario behind the console page: two cookie jars held by the console.

The victim and the attacker are two `requests.Session` jars in this process, never in the
browser that shows the page: the browser talks only to the console, and the console talks to
the lab like two separate browsers would. So the jars are truly separate, every Set-Cookie and
Cookie header can be shown verbatim, and the lab's Origin checks see a client, not a page from
another origin.

The steps are the story's own (`lab.experiments.story`, which the terminal demo and the
experiment play too): one per click. Every method returns a plain dict for the page (JSON), and
raises `ScenarioError` with a sentence for the page when a step comes out of order (stealing
before anyone logged in).

Each mode runs unbound or bound (docs/binding.md): DBSC for the session server, DPoP for the
JWT server. Bound, the victim's jar holds a key the attacker's copy never has, and the page's
verdict on the copy left alone is the story's own (`Story.left_alone`), built from the answers
the clicks got.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import requests

from ...api import Lab
from ...engine.state import JWT_BINDINGS, JWT_MODES, SESSION_BINDINGS, SESSION_STORES
from ...experiments.actors import Client
from ...experiments.labs import dbsc_cookie_ttl, jwt_leeway, refresh_grace
from ...experiments.story import Story, body_of
from ...experiments.story import StoryError as ScenarioError
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


#: The bindings each server offers (its own list), and what the page calls them.
BINDINGS = {"session": SESSION_BINDINGS, "jwt": JWT_BINDINGS}
BINDING_NAMES = {"none": "unbound (bearer)", "dbsc": "bound: DBSC", "dpop": "bound: DPoP"}

#: What a bound mode does to the story, for the page (the figures come from the run).
BINDING_NOTES = {
    "dbsc": (
        "Bound (DBSC): at login the victim's browser registers a key it never hands out; the "
        "server then sends only a short-lived cookie, renewed by signing a challenge with that "
        "key. The attacker copies the cookie, never the key."
    ),
    "dpop": (
        "Bound (DPoP): the token names the victim's key (cnf.jkt) and every request must carry "
        "a fresh proof signed by it. The attacker copies the cookie, never the key."
    ),
}


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


def _answer(response: requests.Response) -> dict[str, Any]:
    """One HTTP answer as the page shows it: status, replica, body, Set-Cookie verbatim."""
    return {
        "status": response.status_code,
        "replica": response.headers.get("X-Replica"),
        "body": body_of(response),
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


def _key_line(client: Client | None, binding: str) -> str | None:
    """What a bound victim's browser holds besides its cookies: the key, shown by its public
    half only (the private half never leaves the jar's key object)."""
    key = getattr(client.http, "key", None) if client is not None else None
    if key is None:
        return None
    sends = (
        "signs a fresh DPoP proof for each request"
        if binding == "dpop"
        else "signs the server's challenge when the short cookie must be renewed"
    )
    return f"holds an ES256 key (public x={short(key.jwk['x'], 8)}), {sends}; never copied"


class Scenario:
    """One run of the stolen-cookie story on one server of a running lab."""

    def __init__(self, lab: Lab, access_ttl: int | None = None, dbsc_cookie_ttl: int | None = None):
        self.lab = lab
        self.access_ttl = access_ttl
        #: DBSC_COOKIE_TTL to run bound sessions with (None: as the lab runs them).
        self.dbsc_cookie_ttl = dbsc_cookie_ttl
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
        binding = self.story.binding
        return {
            "settings": [
                {"key": s.key, "server": s.server, "mode": s.mode, "note": s.note}
                for s in settings()
            ],
            "current": self.setting.key,
            "binding": binding,
            "bindings": [
                {"binding": b, "name": BINDING_NAMES[b]} for b in BINDINGS[self.setting.server]
            ],
            "binding_note": BINDING_NOTES.get(binding, ""),
            "dbsc_cookie_ttl": dbsc_cookie_ttl(self.lab),
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

    def use(self, key: str, binding: str | None = None) -> dict[str, Any]:
        """Switch to another server or mode, bound or not (None: as the lab runs it); restarts
        only that server's replicas (and both, to change DBSC_COOKIE_TTL)."""
        setting = next((s for s in settings() if s.key == key), None)
        if setting is None:
            raise ScenarioError(f"unknown setting {key!r}")
        if binding is not None and binding not in BINDINGS[setting.server]:
            choices = ", ".join(BINDINGS[setting.server])
            raise ScenarioError(
                f"the {setting.server} server binds with {choices}, not {binding!r}"
            )
        with self.lock:
            changes = dict(setting.changes)
            if self.access_ttl is not None:
                changes["access_ttl"] = self.access_ttl
            if binding is not None:
                changes[f"{setting.server}_binding"] = binding
            if binding == "dbsc" and self.dbsc_cookie_ttl is not None:
                changes["env"] = {
                    **self.lab.config.env,
                    "DBSC_COOKIE_TTL": str(self.dbsc_cookie_ttl),
                }
            wanted = {k: v for k, v in changes.items() if getattr(self.lab.config, k) != v}
            if wanted:
                self.lab.reconfigure(**wanted)
            self.setting = setting
            self._reset()
            return self.describe()

    # -- the story: one step of `lab.experiments.story` per click -----------------------------

    def _reset(self) -> None:
        if getattr(self, "story", None) is not None:
            self.story.close()
        self.story = Story(self.lab, self.setting.server)

    def state(self) -> dict[str, Any]:
        """Where the story is: who holds what, and what the server promised."""
        story = self.story
        return {
            "logged_in": story.victim is not None,
            "stolen": story.attacker is not None,
            "revocation": story.revocation,
            "victim_cookie": _cookie_lines(story.victim),
            "attacker_cookie": _cookie_lines(story.attacker),
            "victim_key": _key_line(story.victim, story.binding),
            # Bound: what the copy did, left alone, in the story's own words (None unbound).
            "alone": story.left_alone() if story.binding != "none" else None,
        }

    def login(self) -> dict[str, Any]:
        """A fresh victim registers and logs in through the load balancer."""
        with self.lock:
            self._reset()
            event = self.story.login()
            answer = _answer(event["response"])
            return {"email": event["account"].email, "answer": answer, "state": self.state()}

    def steal(self) -> dict[str, Any]:
        """The attacker copies every cookie of the victim's jar (and ignores their expiry)."""
        with self.lock:
            event = self.story.steal()
            copied = [
                {"name": c.name, "value": short(c.value), "path": c.path} for c in event["cookies"]
            ]
            return {"copied": copied, "state": self.state()}

    def act(self, action: str) -> dict[str, Any]:
        """The victim (or the admin) ends the credential; the server's answer is the promise."""
        if action not in ACTIONS:
            raise ScenarioError(f"action must be one of {', '.join(ACTIONS)}")
        with self.lock:
            event = self.story.act(action)
            return {"answer": _answer(event["response"]), "state": self.state()}

    def probe(self, who: str, everywhere: bool = False) -> dict[str, Any]:
        """GET /auth/me with one jar: through HAProxy, or on every replica directly."""
        with self.lock:
            self.story.client(who)
            tries = [self._one_probe(who, via, base) for via, base in self.story.bases(everywhere)]
            return {"who": who, "tries": tries, "state": self.state()}

    def _one_probe(self, who: str, via: str, base: str | None) -> dict[str, Any]:
        outcome = self.story.probe(who, via, base)
        if outcome["status"] == 0:
            return {**outcome, **self._timing()}
        return {**outcome, **self._timing(), **self.story.promise(outcome["status"])}

    def _timing(self) -> dict[str, Any]:
        stolen = self.story.alone.stolen_at
        theft = None if stolen is None else time.monotonic() - stolen
        if self.story.revocation is None:
            return {"since": None, "since_theft": theft}
        return {"since": time.time() - self.story.revocation["at"], "since_theft": theft}

    def refresh(self, who: str) -> dict[str, Any]:
        """POST /auth/refresh with one jar: the victim's browser, or the stolen refresh token."""
        with self.lock:
            answer = _answer(self.story.refresh(who)["response"])
            return {"who": who, "answer": answer, "state": self.state()}
