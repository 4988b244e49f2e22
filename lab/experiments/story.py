"""The stolen-cookie story, written once: the terminal demo, the console and the experiment play it.

A `Story` is one run on one server of a lab: the victim logs in (on a bound server the browser
holds a key), the thief copies the credential (the cookies, never the key), both use it, the
victim acts (logout, logout everywhere, password change, or an admin's revoke), and the copy is
tried again, through HAProxy and on each replica. Each step is a method that returns an event
(a dict naming its `step`); the verdict compares what the copy did with the API's own answer
(`revoked`, `valid_until`, `message`).

On a bound server (docs/binding.md) the story has one more step before the action: nobody acts,
the attacker keeps trying and the victim keeps browsing (`keeps_trying`), until the copy is
refused for want of the key. Every probe between the theft and the action is recorded
(`lab.experiments.left_alone`), so the console, which probes one click at a time, tells the
same verdict from its own clicks (`left_alone`).

`stolen_cookie` and `refresh_theft` are the story's order, as lists of named steps: a player
runs the next step when it is ready (the terminal after a pause for the class, the experiment
when its clock says so), and shows each event its own way. The console runs one step per click.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests

from ..api import Lab
from .actors import Account, Client, register
from .binding import binding_of, browser_session
from .labs import dbsc_cookie_ttl, mode_of
from .left_alone import LeftAlone, sentence
from .revocation import ACTIONS, send_action

#: One event of the story: `step` names it, the rest is what happened.
Event = dict[str, Any]


class StoryError(RuntimeError):
    """A step cannot happen now (stealing before anyone logged in); the message says why."""


def body_of(response: requests.Response) -> dict[str, Any]:
    """A response's JSON object, or a stand-in saying it was not one."""
    try:
        body = response.json()
    except ValueError:
        return {"error": "not_json", "message": response.text[:200]}
    return body if isinstance(body, dict) else {"body": body}


def refresh_outcome(response: requests.Response) -> dict[str, Any]:
    """A POST /auth/refresh as the demos tell it: status, error code, message."""
    body = body_of(response) if response.content else {}
    return {
        "status": response.status_code,
        "error": body.get("error"),
        "message": body.get("message"),
    }


class Story:
    """One run of the stolen-cookie story on one server of a running lab."""

    def __init__(self, lab: Lab, server: str, account: Account | None = None):
        self.lab = lab
        self.server = server
        self.url = lab.url(server)
        self.mode = mode_of(lab, server)
        #: The victim's account: registered at the login unless given (a timed player registers
        #: it before starting its clock).
        self.account = account
        self.victim: Client | None = None
        self.attacker: Client | None = None
        #: What the server promised at the victim's action (None before it).
        self.revocation: dict[str, Any] | None = None
        #: "none", or the key the victim's browser holds the credential with: "dbsc", "dpop".
        self.binding = binding_of(lab.config, server)
        #: Every answer between the theft and the action: what the copy did, left alone.
        self.alone = LeftAlone()

    def close(self) -> None:
        """Close both jars' connections."""
        for client in (self.victim, self.attacker):
            if client is not None:
                client.close()

    def login(self) -> Event:
        """The victim logs in through the load balancer (registering first if need be)."""
        self.account = self.account or register(self.url, "victim")
        self.victim = Client(self.url, "victim")
        # A bound server: the victim's browser holds a key the attacker cannot copy.
        self.victim.http = browser_session(self.lab.config, self.server)
        response = self.victim.login(self.account)
        return {"step": "login", "who": "victim", "account": self.account, "response": response}

    def steal(self) -> Event:
        """The attacker copies every cookie of the victim's jar (and ignores their expiry)."""
        if self.victim is None:
            raise StoryError("nobody has logged in yet: the victim logs in first")
        self.attacker = self.victim.steal()
        self.alone.stolen()
        return {"step": "steal", "who": "attacker", "cookies": list(self.attacker.http.cookies)}

    def act(self, action: str) -> Event:
        """The victim (or the admin) ends the credential; the server's answer is the promise."""
        if action not in ACTIONS:
            raise StoryError(f"action must be one of {', '.join(ACTIONS)}")
        if self.victim is None or self.account is None:
            raise StoryError("nobody has logged in yet: the victim logs in first")
        response = send_action(self.lab, self.server, action, self.victim, self.account)
        body = body_of(response)
        if action == "password" and response.status_code == 200:
            account = self.account
            self.account = Account(
                account.id, account.email, account.password + "-new", account.name
            )
        self.revocation = {
            "action": action,
            "at": time.time(),
            "status": response.status_code,
            "revoked": body.get("revoked"),
            "valid_until": body.get("valid_until"),
            "message": body.get("message"),
        }
        return {
            "step": "act",
            "action": action,
            "response": response,
            "answer": body,
            "acted_on": response.headers.get("X-Replica"),
        }

    def client(self, who: str) -> Client:
        """The victim's or the attacker's jar."""
        client = {"victim": self.victim, "attacker": self.attacker}.get(who)
        if client is None:
            raise StoryError(
                "the attacker has no copy yet" if who == "attacker" else "the victim is not in"
            )
        return client

    def bases(self, everywhere: bool, running: bool = False) -> list[tuple[str, str | None]]:
        """Where a probe goes: HAProxy, or every replica directly (only running ones if asked)."""
        if not everywhere:
            return [("HAProxy", None)]
        replicas = self.lab.replicas(self.server)
        return [(r.replica_id, r.url) for r in replicas if r.running or not running]

    def probe(self, who: str, via: str = "HAProxy", base: str | None = None) -> dict[str, Any]:
        """GET /auth/me with one jar, through HAProxy or at `base`: who answered, and how."""
        try:
            response = self.client(who).get("/auth/me", base=base)
        except requests.RequestException as exc:
            return {"via": via, "status": 0, "error": type(exc).__name__}
        body = body_of(response)
        outcome = {
            "via": via,
            "status": response.status_code,
            "replica": response.headers.get("X-Replica"),
            "error": body.get("error"),
            "message": body.get("message"),
        }
        if self.revocation is None:  # before any action: the copy left alone
            self.alone.note(who, outcome)
        return outcome

    @property
    def label(self) -> str:
        """'session (redis)', 'jwt (stateless, bound: dpop)'."""
        bound = f", bound: {self.binding}" if self.binding != "none" else ""
        return f"{self.server} ({self.mode}{bound})"

    def left_alone(self) -> dict[str, Any]:
        """What the copy did between the theft and the action, and the sentence that tells it."""
        summary = self.alone.summary()
        # DBSC: the short cookies the victim's browser renewed with its key meanwhile.
        summary["renewals"] = getattr(self.victim.http, "renewals", 0) if self.victim else 0
        ttl = dbsc_cookie_ttl(self.lab) if self.binding == "dbsc" else None
        return {
            "binding": self.binding,
            **summary,
            "cookie_ttl": ttl,
            "text": sentence(self.label, summary, ttl),
        }

    def keeps_trying(self, watch: float, interval: float = 0.1) -> Event:
        """Nobody acts: the attacker keeps using the copy and the victim keeps browsing, until
        the copy is refused (the victim asked once more after that) or `watch` seconds after
        the theft."""
        self.client("attacker")
        while True:
            refused = self.probe("attacker")["status"] == 401
            self.probe("victim")  # a bound victim renews with its key when it must
            if refused or self.alone.summary()["watched_s"] >= watch:
                break
            time.sleep(interval)
        return {"step": "keeps trying", **self.left_alone()}

    def refresh(self, who: str, step: str = "refresh") -> Event:
        """POST /auth/refresh with one jar: the victim's browser, or the stolen refresh token."""
        response = self.client(who).post("/auth/refresh")
        return {"step": step, "who": who, "response": response, **refresh_outcome(response)}

    def promise(self, status: int) -> dict[str, Any]:
        """Whether an answer after the action keeps what the server said at the action."""
        rev = self.revocation
        if rev is None or rev["status"] != 200:
            return {"expected": None, "kept": None}
        if rev["revoked"]:
            return {"expected": "refused", "kept": status != 200}
        until = rev.get("valid_until")
        if until and datetime.fromisoformat(until).timestamp() > time.time():
            return {"expected": "may be let in until valid_until", "kept": True}
        return {"expected": "refused (valid_until has passed)", "kept": status != 200}

    def verdict(self, accepted: list[str], replicas: int) -> Event:
        """The copy's fate after the action, told against the API's own answer."""
        assert self.revocation is not None
        action, label = self.revocation["action"], self.label
        base = {"step": "verdict", "server": self.server, "mode": self.mode}
        if self.binding != "none":  # what the key did before anyone acted
            base["alone"] = self.left_alone()
        if not accepted:
            text = f"{label}: after '{action}' the stolen copy is dead on all {replicas} replicas."
            return {**base, "safe": True, "text": text}
        text = (
            f"{label}: after '{action}' the stolen copy still works on {len(accepted)} of "
            f"{replicas} replicas"
        )
        until = self.revocation["valid_until"]
        if until:
            left = datetime.fromisoformat(until).timestamp() - self.revocation["at"]
            local = datetime.fromisoformat(until).astimezone().strftime("%H:%M:%S")
            text += f", until {local} ({left:.0f} s after the {action}), as the API said."
        else:
            text += ", although the API said it was revoked."
        return {**base, "safe": False, "text": text, "until": until}


@dataclass(frozen=True)
class Step:
    """One step of the script: its name, and what it does (run when the player is ready)."""

    name: str
    run: Callable[[], Event]


def act_or_fail(story: Story, action: str) -> Event:
    """The action, which the played story needs to succeed (the console shows a refusal)."""
    acted = story.act(action)
    response = acted["response"]
    if response.status_code != 200:
        raise RuntimeError(f"{action} failed: {response.status_code} {response.text[:200]}")
    return acted


def _tried_again(story: Story) -> Event:
    """The copy through HAProxy, then on every running replica directly."""
    bases = story.bases(everywhere=True, running=True)
    tries = [story.probe("attacker")] + [story.probe("attacker", via, b) for via, b in bases]
    accepted = [t["via"] for t in tries[1:] if t["status"] == 200]
    return {"step": "tried again", "tries": tries, "accepted": accepted, "replicas": len(bases)}


#: Seconds past a bound copy's expected end that the story keeps watching it.
BOUND_MARGIN = 3.0


def bound_watch(story: Story) -> float:
    """How long the bound story watches the copy left alone: a DBSC cookie's life and a
    margin (a DPoP copy is refused on its first try)."""
    ttl = dbsc_cookie_ttl(story.lab) if story.binding == "dbsc" else 0.0
    return ttl + BOUND_MARGIN


def stolen_cookie(story: Story, action: str) -> list[Step]:
    """The story's order: login, theft, both in, (on a bound server: the copy left alone until
    refused,) the action, the copy tried everywhere, verdict (and in refresh mode, the thief's
    refresh with the stolen refresh token)."""
    seen: dict[str, Event] = {}

    def tried_again() -> Event:
        seen["tried"] = _tried_again(story)
        return seen["tried"]

    steps = [
        Step("login", story.login),
        Step("steal", story.steal),
        Step(
            "both in",
            lambda: {"step": "both in", "tries": [story.probe("victim"), story.probe("attacker")]},
        ),
    ]
    if story.binding != "none":
        steps.append(Step("keeps trying", lambda: story.keeps_trying(bound_watch(story))))
    steps += [
        Step("act", lambda: act_or_fail(story, action)),
        Step("tried again", tried_again),
    ]
    if story.mode == "refresh":
        steps.append(Step("stolen refresh", lambda: story.refresh("attacker", "stolen refresh")))
    steps.append(
        Step("verdict", lambda: story.verdict(seen["tried"]["accepted"], seen["tried"]["replicas"]))
    )
    return steps


def refresh_theft(story: Story, first: str = "attacker") -> list[Step]:
    """Both cookies stolen in refresh mode: whoever refreshes second presents a spent token.

    The player waits past the server's grace between `refresh` and `reuse` (within it, a second
    refresh is forgiven as a second tab); the reuse revokes the family, so `again` fails too.
    """
    second = "victim" if first == "attacker" else "attacker"
    return [
        Step("login", story.login),
        Step("steal", story.steal),
        Step("refresh", lambda: story.refresh(first, "refresh")),
        Step("reuse", lambda: story.refresh(second, "reuse")),
        Step("again", lambda: story.refresh(first, "again")),
    ]
