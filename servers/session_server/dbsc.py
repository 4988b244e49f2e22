"""DBSC (Device Bound Session Credentials, W3C draft): the session bound to a key the client keeps.

The draft's flow, with its header names (w3c/webappsec-dbsc, README):

1. Login answers as today (the long-lived `sid` cookie) plus
   `Secure-Session-Registration: (ES256 RS256);path="/auth/dbsc/register";challenge="..."`.
2. The client makes a key pair and POSTs `Secure-Session-Response: <JWT>` (typ dbsc+jwt, its
   public key in the `jwk` header, the challenge as `jti`) with its `sid` cookie. The server
   keeps the public key beside the session and *rotates* the session: the new id is never sent
   to anyone, so from now on no long-lived bearer cookie exists. It answers the session config
   JSON and a short-lived cookie (`sid_bound`, DBSC_COOKIE_TTL s): the session's store key and
   the time, signed by the server, checked without Redis, refused once too old.
3. When the short cookie is gone, the client POSTs `/auth/dbsc/refresh` with
   `Sec-Secure-Session-Id`; the server answers 403 `Secure-Session-Challenge: "c";id="..."`; the
   client signs the challenge with the registered key and POSTs again; a new short cookie.

The long-lived session and its revocation stay server-side: every request still reads the
session in the store (a revoked session is refused at once, short cookie or not), and a refresh
of a revoked session fails. A client that never registers keeps its `sid` cookie (the draft's
fallback): unbound, as before. GET /auth/dbsc says which a session is.

State (Redis, beside the sessions; lost with them):
    dbscch:<store key>:<challenge>   an outstanding challenge (registration or refresh), used
                         once, short TTL. One key per challenge, not one per session: the
                         session id is readable in the bound cookie, and a thief asking for a
                         challenge must not be able to replace the victim's
    dbsc:<store key>     the registered public JWK, for the session's absolute lifetime
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from flask import Blueprint, Flask, Request, Response, current_app, g, jsonify, request
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner

from ..core.backend import Cookie, reply
from ..core.binding import BadProof, verify_proof
from ..core.config import Settings
from ..core.errors import ApiError
from ..core.http import authenticate
from ..core.redis_client import confirm_session, make_redis
from ..core.redis_store import RedisBacked
from .cookies import COOKIE_NAME, SessionCookie, new_session_id, stamp, store_key, unstamp
from .ended import ended
from .stores import SessionStore

BOUND_COOKIE = "sid_bound"
ALGORITHMS = ("ES256", "RS256")
PROOF_TYP = "dbsc+jwt"
REGISTER_PATH = "/auth/dbsc/register"
REFRESH_PATH = "/auth/dbsc/refresh"
#: Seconds a client has to answer a challenge.
CHALLENGE_TTL = 300
CHALLENGE_PREFIX = "dbscch:"
#: Longer than any challenge this server makes (32 characters): never looked up.
MAX_CHALLENGE = 64
KEY_PREFIX = "dbsc:"

bp = Blueprint("dbsc", __name__, url_prefix="/auth/dbsc")


def dbsc() -> DBSC:
    """The app's DBSC binding."""
    return current_app.extensions["authlab_dbsc"]


class DBSC(RedisBacked):
    """Registration, short bound cookies and their renewal with the registered key."""

    name = "dbsc"
    down_message = "The session store is unavailable; try again shortly."

    def __init__(self, settings: Settings, store: SessionStore, sid: SessionCookie, idle: int):
        """The backend's session store, `sid` cookie and idle timeout, given to the binding:
        it works with them and never calls back into the backend."""
        # Beside the sessions, in Redis, whatever the session store (a memory store too).
        super().__init__(make_redis(settings.redis_url, settings))
        self.store = store
        self.sid = sid
        self.idle = idle
        self.ttl = settings.dbsc_cookie_ttl
        self.settings = settings
        self.signer = TimestampSigner(list(reversed(settings.secret_keys)), salt="authlab.dbsc")

    def init_app(self, app: Flask) -> None:
        """The endpoints, and the registration offer on every fresh session."""
        app.extensions["authlab_dbsc"] = self
        app.register_blueprint(bp)
        app.after_request(self.offer_registration)

    def offer(self, key: str) -> None:
        """A session was just started under `key`: its answer asks for a key (after_request)."""
        g.dbsc_offer = key

    # --- the short-lived bound cookie ------------------------------------------------------------

    def read(self, req: Request) -> str | None:
        """The store key in a validly signed bound cookie younger than its lifetime, or None."""
        found = self.read_stamped(req)
        return found[0] if found is not None else None

    def read_stamped(self, req: Request) -> tuple[str, str | None] | None:
        """(store key, the store epoch its session began under) from a valid bound cookie."""
        raw = req.cookies.get(BOUND_COOKIE)
        if not raw or len(raw) > 256:
            return None
        try:
            return unstamp(self.signer.unsign(raw, max_age=self.ttl).decode())
        except (SignatureExpired, BadSignature, UnicodeDecodeError):
            return None

    def cookie(self, key: str) -> Cookie:
        """A bound cookie for the session under `key`, good for DBSC_COOKIE_TTL seconds. It
        names the store epoch as this process knows it: the session was just read (or written),
        so it lives in that epoch (a miss later tells "lost with the store" from "ended")."""
        guard = self.store.guard
        value = stamp(key, guard.current if guard is not None else None)
        return Cookie(BOUND_COOKIE, self.signer.sign(value).decode(), "/", self.ttl)

    # --- registration --------------------------------------------------------------------------

    def offer_registration(self, response: Response) -> Response:
        """After a login (or a renewal) that started a session: ask the client for a key."""
        key = g.pop("dbsc_offer", None)
        if key is None or response.status_code != 200:
            return response
        challenge = self.challenge(key)
        response.headers["Secure-Session-Registration"] = (
            f'({" ".join(ALGORITHMS)});path="{REGISTER_PATH}";challenge="{challenge}"'
        )
        return response

    def challenge(self, key: str) -> str:
        """A fresh one-time challenge for the session under `key`."""
        challenge = secrets.token_urlsafe(24)
        self.call(self.client.set, f"{CHALLENGE_PREFIX}{key}:{challenge}", 1, ex=CHALLENGE_TTL)
        return challenge

    def answer(self, key: str, jwk: dict[str, Any] | None) -> dict[str, Any]:
        """The claims of this request's Secure-Session-Response, signed by `jwk` (the registered
        key) or by the key in its own header (registration), over the session's challenge."""
        proof = request.headers.get("Secure-Session-Response", "")
        try:
            header, claims = verify_proof(proof, PROOF_TYP, ALGORITHMS, registered=jwk)
        except BadProof as exc:
            raise ApiError(401, "invalid_dbsc_proof", exc.reason) from None
        jti = claims["jti"]
        issued = isinstance(jti, str) and len(jti) <= MAX_CHALLENGE
        # GETDEL: a challenge is good for one answer, whoever sends it.
        if not issued or self.call(self.client.getdel, f"{CHALLENGE_PREFIX}{key}:{jti}") is None:
            raise ApiError(401, "invalid_dbsc_proof", "The proof signs no current challenge.")
        return header

    def register(self, session_id: str, epoch: str | None) -> Response:
        """Bind the session of `session_id` (of store epoch `epoch`) to the key of this
        request's proof."""
        old = store_key(session_id)
        record = self.store.read(old, time.time(), self.idle)
        if record is None:
            raise ApiError(401, *ended(self.store.guard, epoch))
        header = self.answer(old, None)
        # A new id nobody ever receives: the long-lived cookie (and any copy of it) dies here.
        key, user_id = store_key(new_session_id()), int(record.user["id"])
        self.store.create(key, record, self.idle, 0)
        self.store.delete(old, user_id)
        ttl = max(1, int(record.expires_at - time.time()))
        self.call(self.client.set, KEY_PREFIX + key, json.dumps(header["jwk"]), ex=ttl)
        # The bound session replaces the old one: handed out only as durable as a login.
        confirm_session(self.client, self.settings, lambda: self.store.delete(key, user_id))
        return reply(self.config(key), (Cookie.expired(COOKIE_NAME), self.cookie(key)))

    def refresh(self, key: str) -> Response:
        """A new bound cookie for a proof over the last challenge with the registered key."""
        stored = self.call(self.client.get, KEY_PREFIX + key)
        record = self.store.read(key, time.time(), self.idle)
        if stored is None or record is None:
            # No cookie here, so no epoch: "lost" only if this process saw the store lose data.
            raise ApiError(401, *ended(self.store.guard, None, "This bound session"))
        if "Secure-Session-Response" not in request.headers:
            challenge = self.challenge(key)
            raise ApiError(
                403,
                "dbsc_challenge",
                "Sign the challenge in Secure-Session-Challenge with the session's key.",
                {"Secure-Session-Challenge": f'"{challenge}";id="{key}"'},
            )
        self.answer(key, json.loads(stored))
        return reply(self.config(key), (self.cookie(key),))

    def config(self, key: str) -> dict[str, Any]:
        """The draft's session instructions JSON: which cookie to keep, where to refresh it."""
        return {
            "session_identifier": key,
            "refresh_url": REFRESH_PATH,
            "scope": {"origin": request.host_url.rstrip("/"), "include_site": False},
            "credentials": [
                {
                    "type": "cookie",
                    "name": BOUND_COOKIE,
                    "attributes": "Path=/; HttpOnly; SameSite=Lax",
                }
            ],
        }

    def is_bound(self, key: str) -> bool:
        """Whether a key is registered for the session under `key`."""
        return bool(self.call(self.client.exists, KEY_PREFIX + key))


@bp.post("/register")
def register():
    """Secure-Session-Response with a new key: the session becomes bound (its `sid` dies)."""
    found = dbsc().sid.read_stamped(request)
    if found is None:
        raise ApiError(401, "unauthorized", "Register a key from the session's own client.")
    return dbsc().register(*found)


@bp.post("/refresh")
def refresh():
    """Sec-Secure-Session-Id: 403 with a challenge, then a new short cookie for its signature."""
    key = request.headers.get("Sec-Secure-Session-Id", "")
    if not (len(key) == 32 and all(c in "0123456789abcdef" for c in key)):
        raise ApiError(400, "invalid_input", "Send the session's Sec-Secure-Session-Id.")
    return dbsc().refresh(key)


@bp.get("")
def status():
    """Whether the caller's session is bound to a key (and how long a bound cookie lives)."""
    principal = authenticate()
    if principal is None:
        raise ApiError(401, "unauthorized", g.auth_reason)
    bound = dbsc().is_bound(principal.credential_id)
    return jsonify(bound=bound, binding="dbsc" if bound else "none", cookie_ttl=dbsc().ttl)
