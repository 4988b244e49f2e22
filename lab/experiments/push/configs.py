"""The configurations the push study compares, and the settings its longer measurements need."""

from __future__ import annotations

from typing import Any

#: (name, server, lab settings): the configurations compared.
CONFIGS = (
    ("session redis", "session", {"session_store": "redis"}),
    ("session cached", "session", {"session_store": "cached"}),
    ("jwt stateless", "jwt", {"jwt_mode": "stateless"}),
    ("jwt denylist", "jwt", {"jwt_mode": "denylist"}),
    ("jwt refresh", "jwt", {"jwt_mode": "refresh"}),
    ("jwt push", "jwt", {"jwt_mode": "push"}),
)
#: Configurations whose window is an access token's lifetime: a couple of trials say it.
SLOW = {"jwt stateless", "jwt refresh"}


#: Access-token lifetime (s) for measurements that need a credential to outlive them.
LONG_TTL = 60


def long_lived(server: str, settings: dict[str, Any]) -> dict[str, Any]:
    """`settings`, with JWTs that outlive a measurement (the quick scale's live 2 s)."""
    return {**settings, "access_ttl": LONG_TTL} if server == "jwt" else settings
