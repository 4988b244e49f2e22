"""Locust users that hold a key, as a binding-aware browser does (docs/binding.md).

On a JWT server with JWT_BINDING=dpop every request needs a fresh proof signed by the key the
token is bound to: `hold_key` gives one Locust HTTP client its own key (kept in memory, never
serialized: `loadtests.bound.ClientKey`) and signs a proof for each of its requests, with the
`ath` of the access-token cookie it holds.

On a session server with SESSION_BINDING=dbsc, `hold_session_key` plays a DBSC browser: it
answers the login's `Secure-Session-Registration` offer with a key of its own (POST
/auth/dbsc/register), and before a request it renews the short bound cookie when it is about to
expire (the challenge, then the answer signed with the key: POST /auth/dbsc/refresh twice), as
Chrome defers a request to refresh first. A session the server ended (the bound cookie deleted
by a logout) is forgotten; the next login registers again. The registration and the renewals
have rows of their own, so a run shows what the binding costs beside the task mix.

The lab's loadtest runner sets AUTHLAB_JWT_BINDING and AUTHLAB_SESSION_BINDING from the running
lab; a thief's client (`new_client(keep_cookies=False)`) never logs in, so it holds no session
key, and its DPoP key is its own, never the victim's.
"""

from __future__ import annotations

import os
import time
from http.cookiejar import Cookie
from typing import Any

from locust.contrib.fasthttp import FastHttpSession

from loadtests.bound import ClientKey, challenge_of, header_param

#: Set by `python -m lab loadtest` to the lab's JWT_BINDING.
BINDING_ENV = "AUTHLAB_JWT_BINDING"
#: Set by `python -m lab loadtest` to the lab's SESSION_BINDING.
SESSION_BINDING_ENV = "AUTHLAB_SESSION_BINDING"

#: The session server's short-lived bound cookie (servers/session_server/dbsc.py).
BOUND_COOKIE = "sid_bound"
REFRESH_PATH = "/auth/dbsc/refresh"
#: Seconds before the bound cookie expires that the browser renews it.
RENEW_AHEAD = 1.0


def binds_tokens() -> bool:
    """Whether the server under load binds its tokens to a key (DPoP)."""
    return os.environ.get(BINDING_ENV) == "dpop"


def binds_sessions() -> bool:
    """Whether the server under load offers to bind sessions to a key (DBSC)."""
    return os.environ.get(SESSION_BINDING_ENV) == "dbsc"


def access_token(session: FastHttpSession) -> str | None:
    """The access-token cookie this client holds, for the proof's `ath`."""
    jar = session.client.cookiejar
    for cookie in jar or ():
        if cookie.name == "access_token":
            return cookie.value
    return None


def hold_key(session: FastHttpSession) -> FastHttpSession:
    """`session`, signing a DPoP proof for each request with a key of its own."""
    key = ClientKey()
    send = session.request

    def request(method: str, url: str, headers: dict | None = None, **kwargs: Any) -> Any:
        headers = dict(headers or {})
        headers["DPoP"] = key.dpop_proof(method, session.base_url + url, access_token(session))
        return send(method, url, headers=headers, **kwargs)

    session.request = request  # type: ignore[method-assign]
    return session


def bound_cookie(session: FastHttpSession) -> Cookie | None:
    """The short-lived bound cookie this client holds, if any."""
    for cookie in session.client.cookiejar or ():
        if cookie.name == BOUND_COOKIE:
            return cookie
    return None


class SessionKey:
    """One client's DBSC key and the bound session it registered (None before, or once ended)."""

    def __init__(self, session: FastHttpSession):
        self.session = session
        self.send = session.request  # the client's own request, before this wrapper
        self.key = ClientKey()
        self.session_id: str | None = None

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        """Renew first if the bound cookie is (nearly) gone; then the request; then register
        if the answer offers it, or forget a session whose bound cookie the server deleted."""
        held = bound_cookie(self.session)
        if self.session_id and (held is None or (held.expires or 0) - time.time() < RENEW_AHEAD):
            self.renew()
            held = bound_cookie(self.session)
        response = self.send(method, url, **kwargs)
        offer = response.headers.get("Secure-Session-Registration")
        if offer and response.status_code == 200:
            self.register(offer)
        elif held is not None and bound_cookie(self.session) is None:
            self.session_id = None  # a logout expired it: the session has ended
        return response

    def register(self, offer: str) -> None:
        """The draft's registration: a proof over the offer's challenge, with the public key."""
        path, challenge = header_param(offer, "path"), header_param(offer, "challenge")
        answer = {"Secure-Session-Response": self.key.dbsc_response(challenge or "")}
        with self.send(
            "POST", path or "/auth/dbsc/register", headers=answer, name="/auth/dbsc/register",
            catch_response=True,
        ) as response:  # fmt: skip
            body = response.json() if response.status_code == 200 else {}
            if not isinstance(body, dict) or "session_identifier" not in body:
                response.failure(f"registration refused: {response.status_code} {response.text}")
                return
        self.session_id = body["session_identifier"]

    def renew(self) -> None:
        """The draft's refresh: ask (403 and a challenge), then answer it with the key."""
        ask = {"Sec-Secure-Session-Id": self.session_id or ""}
        with self.send(
            "POST", REFRESH_PATH, headers=ask, name=f"{REFRESH_PATH} (challenge)",
            catch_response=True,
        ) as response:  # fmt: skip
            offered = response.headers.get("Secure-Session-Challenge")
            if response.status_code != 403 or not offered:
                response.failure(f"expected 403 and a challenge, got {response.status_code}")
                self.session_id = None
                return
            response.success()  # the challenge is the protocol's first answer
        challenge, _ = challenge_of(offered)
        answer = {**ask, "Secure-Session-Response": self.key.dbsc_response(challenge, False)}
        with self.send(
            "POST", REFRESH_PATH, headers=answer, name=REFRESH_PATH, catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"renewal refused: {response.status_code} {response.text}")
                self.session_id = None


def hold_session_key(session: FastHttpSession) -> FastHttpSession:
    """`session`, registering DBSC sessions with a key of its own and renewing them."""
    holder = SessionKey(session)
    session.request = holder.request  # type: ignore[method-assign]
    return session
