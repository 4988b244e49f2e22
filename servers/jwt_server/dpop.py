"""DPoP (RFC 9449): the token is bound to a key the client holds, and every request proves it.

At login (and at each refresh) the client sends a proof, a JWT signed with its private key and
carrying the public key in its header; the access token then carries `cnf.jkt`, that key's
thumbprint (RFC 7638). Every request with the token carries a fresh proof, checked as RFC 9449
4.3 says: the signature with the embedded key, the key's thumbprint equal to `cnf.jkt`, the
request's method (`htm`) and URL (`htu`), the age (`iat`), the token's hash (`ath`), and a
proof id (`jti`) never seen before within the window. A stolen token without the key is
refused at once; a stolen proof works only for its one request, once, within the window.

Where the token travels: `Authorization: DPoP <token>` (RFC 9449 7.1), or the access-token
cookie plus the `DPoP` header (a browser client keeps the token the login answered in its
body to compute `ath`). `Authorization: Bearer` with a bound token is refused: a downgrade
to bearer would make the binding optional for the thief.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis
from flask import Flask, Request, Response, g, request

from ..core.backend import Revocation
from ..core.binding import CLIENT_ALGORITHMS, BadProof, sha256_b64url, thumbprint, verify_proof
from ..core.config import Settings
from ..core.errors import ApiError
from .cookies import REFRESH_COOKIE
from .dpop_store import FamilyKeys, MemoryReplay, RedisReplay, jti_key

#: The `typ` header of a DPoP proof (RFC 9449 4.2).
PROOF_TYP = "dpop+jwt"
#: Where a proof is checked before anything else runs: a login or a refresh mints a token bound
#: to the proof's key, so a bad proof must cost no password hash and rotate no refresh token.
MINTING_ENDPOINTS = ("auth.login", "jwt_refresh.refresh")
#: Endpoints whose 401 can be a wrong password, not a token: no token challenge there.
PASSWORD_ENDPOINTS = ("auth.login", "auth.register", "auth.change_password")
DEFAULT_PORTS = {"http": 80, "https": 443}


def refused(reason: str) -> ApiError:
    """The 401 of RFC 9449 7.1, in the servers' JSON error shape."""
    challenge = f'DPoP error="invalid_dpop_proof", algs="{" ".join(CLIENT_ALGORITHMS)}"'
    return ApiError(401, "invalid_dpop_proof", reason, {"WWW-Authenticate": challenge})


def normalise_url(url: str) -> str:
    """RFC 9449 4.3 (RFC 3986 6.2.2-6.2.3): lower-case scheme and host, no default port, an
    empty path as "/", without query and fragment."""
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != DEFAULT_PORTS.get(scheme):
        netloc += f":{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", "", ""))


def request_url(req: Request) -> str:
    """The URL as the client saw it: behind HAProxy the Host header is the client's, and the
    scheme is HAProxy's listener (plain HTTP in the lab; behind TLS termination it must come
    from X-Forwarded-Proto, which ProxyFix would then have to trust)."""
    return normalise_url(f"{req.scheme}://{req.host}{req.path}")


class NoBinding:
    """JWT_BINDING=none: bearer tokens, as before."""

    name = "none"
    token_type = "Bearer"  # noqa: S105 (a scheme name)
    round_trips = 0

    def init_app(self, app: Flask) -> None:
        """Nothing to check before a login; every refusal names the scheme to use."""
        app.after_request(self.challenge)

    def challenge(self, response: Response) -> Response:
        """RFC 7235 (and RFC 6750 3, RFC 9449 7.1): a 401 of a protected resource says which
        scheme a client must authenticate with. A refusal that chose its own challenge (a bad
        DPoP proof) keeps it; a failed password login is no token challenge."""
        if (
            response.status_code == 401
            and "WWW-Authenticate" not in response.headers
            and request.endpoint not in PASSWORD_ENDPOINTS
        ):
            response.headers["WWW-Authenticate"] = self.scheme_challenge()
        return response

    def scheme_challenge(self) -> str:
        """The challenge of this binding's scheme."""
        return 'Bearer realm="authlab"'

    def claims(self, extra: dict[str, Any]) -> dict[str, Any]:
        """No `cnf`: the token is a bearer token."""
        return extra

    def explain(self, revocation: Revocation) -> Revocation:
        """What a copy of a bearer token can do is what the revocation says: unchanged."""
        return revocation

    def check(self, req: Request, token: str, claims: dict[str, Any], source: str) -> int:
        """Bearer tokens need no proof; the DPoP scheme is not spoken here."""
        if source == "dpop":
            raise ApiError(401, "unauthorized", "This server does not bind tokens: use Bearer.")
        return 0


class DPoPBinding(NoBinding):
    """JWT_BINDING=dpop: every token bound to the client's key, every request proven."""

    name = "dpop"
    token_type = "DPoP"  # noqa: S105

    def explain(self, revocation: Revocation) -> Revocation:
        """A token that still lives (`revoked: false`) lives only for its key holder: say so,
        so the answer is neither a lie nor more alarming than the truth."""
        if revocation.revoked:
            return revocation
        note = (
            "Bound to the client's key (DPoP): a copy without that private key is refused at"
            " once; only the key holder can use it until valid_until."
        )
        return replace(revocation, message=f"{revocation.message} {note}".strip())

    def __init__(self, settings: Settings, client: redis.Redis):
        self.window = settings.dpop_proof_window
        self.skew = settings.jwt_leeway
        ttl = self.window + self.skew  # a proof id must be remembered while its iat is accepted
        replay = settings.dpop_replay_store
        self.replay = RedisReplay(client, ttl) if replay == "redis" else MemoryReplay(ttl)
        self.round_trips = self.replay.round_trips
        self.families = FamilyKeys(client, settings.refresh_token_ttl)

    def init_app(self, app: Flask) -> None:
        """Check the proof of a login or refresh before the view runs."""
        super().init_app(app)
        app.before_request(self.before_minting)

    def scheme_challenge(self) -> str:
        """RFC 9449 7.1: the DPoP scheme and the proof algorithms this server accepts."""
        return f'DPoP algs="{" ".join(CLIENT_ALGORITHMS)}"'

    def before_minting(self) -> None:
        """A login or refresh proves the key the new token will be bound to (in `g`)."""
        if request.method != "POST" or request.endpoint not in MINTING_ENDPOINTS:
            return
        presented = request.cookies.get(REFRESH_COOKIE)
        if request.endpoint == "jwt_refresh.refresh" and presented:
            # RFC 9449 5: a public client's refresh token is bound to its key too. Checked before
            # the rotation: a thief without the key must not burn the victim's refresh token.
            bound = self.families.key_of(presented)
            if bound == "":
                raise refused("This session's refresh token is bound to no key: log in again.")
            g.dpop_jkt = self.prove(request, expected=bound)
        else:
            g.dpop_jkt = self.prove(request)

    def claims(self, extra: dict[str, Any]) -> dict[str, Any]:
        """`cnf.jkt` (RFC 7800) for the key this request proved; a family is bound to it too."""
        jkt = g.get("dpop_jkt")
        if jkt is None:
            raise refused("A DPoP-bound token is minted only for a request with a DPoP proof.")
        if "fam" in extra:
            self.families.bind(extra["fam"], jkt)
        return {**extra, "cnf": {"jkt": jkt}}

    def check(self, req: Request, token: str, claims: dict[str, Any], source: str) -> int:
        """The proof of a request with a bound token; its store round trips (replay check)."""
        cnf = claims.get("cnf")
        jkt = cnf.get("jkt") if isinstance(cnf, dict) else None
        if not isinstance(jkt, str):
            raise refused("This token is bound to no key: log in again with a DPoP proof.")
        if source == "bearer":
            raise refused("A DPoP-bound token travels as 'Authorization: DPoP <token>'.")
        g.dpop_jkt = self.prove(req, expected=jkt, token=token)
        return self.round_trips

    def prove(self, req: Request, expected: str | None = None, token: str | None = None) -> str:
        """The thumbprint of the key that signed this request's one valid, fresh, unused proof
        (RFC 9449 4.3); `expected` is the key the credential is bound to."""
        proofs = req.headers.getlist("DPoP")
        if len(proofs) != 1:
            raise refused("Send exactly one DPoP proof header: this server binds tokens to keys.")
        try:
            header, claims = verify_proof(proofs[0], PROOF_TYP)
            jkt = thumbprint(header["jwk"])
            self.check_claims(req, claims, token)
        except BadProof as exc:
            raise refused(exc.reason) from None
        if expected is not None and jkt != expected:
            raise refused("The proof is signed by another key than the one the token is bound to.")
        # Last, so that only proofs that are otherwise valid take room in the replay store.
        if not self.replay.first_use(jti_key(jkt, claims["jti"])):
            raise refused("This proof was already used: each request needs a fresh one.")
        return jkt

    def check_claims(self, req: Request, claims: dict[str, Any], token: str | None) -> None:
        """htm, htu, iat within the window, jti, and ath when a token comes with the proof."""
        if not isinstance(claims.get("jti"), str) or not 8 <= len(claims["jti"]) <= 256:
            raise BadProof("The proof's jti must be a unique string (8 to 256 characters).")
        if claims.get("htm") != req.method:
            raise BadProof(f"The proof is for another method (htm), not {req.method}.")
        htu = claims.get("htu")
        if not isinstance(htu, str) or normalise_url(htu) != request_url(req):
            raise BadProof(f"The proof is for another URL (htu), not {request_url(req)}.")
        iat, now = claims.get("iat"), time.time()
        if not isinstance(iat, int | float) or isinstance(iat, bool):
            raise BadProof("The proof's iat must be a number (seconds since the epoch).")
        if iat < now - self.window:
            raise BadProof(f"The proof is too old: proofs live {self.window:g} s.")
        if iat > now + self.skew:
            raise BadProof("The proof's iat is in the future.")
        if token is not None and claims.get("ath") != sha256_b64url(token):
            raise BadProof("The proof's ath is not the hash of the token it comes with.")


def make_binding(settings: Settings, client: redis.Redis) -> NoBinding:
    """The binding JWT_BINDING names."""
    return DPoPBinding(settings, client) if settings.jwt_binding == "dpop" else NoBinding()
