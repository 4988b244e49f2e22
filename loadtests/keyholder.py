"""Locust users that hold a DPoP key, as a DPoP-aware browser does (docs/binding.md).

On a server with JWT_BINDING=dpop every request needs a fresh proof signed by the key the token
is bound to. `hold_key` gives one Locust HTTP client its own key (kept in memory, never
serialized: `loadtests.bound.ClientKey`) and signs a proof for each of its requests, with the
`ath` of the access-token cookie it holds. The lab's loadtest runner sets AUTHLAB_JWT_BINDING
from the running lab; a thief's client (`new_client(keep_cookies=False)`) gets a key of its own,
never the victim's. On a DBSC session server the users do not register: they are the draft's
unbound fallback, and measure the unbound path.
"""

from __future__ import annotations

import os
from typing import Any

from locust.contrib.fasthttp import FastHttpSession

from loadtests.bound import ClientKey

#: Set by `python -m lab loadtest` to the lab's JWT_BINDING.
BINDING_ENV = "AUTHLAB_JWT_BINDING"


def binds_tokens() -> bool:
    """Whether the server under load binds its tokens to a key (DPoP)."""
    return os.environ.get(BINDING_ENV) == "dpop"


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
