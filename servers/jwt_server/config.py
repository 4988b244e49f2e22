"""The JWT server's own defaults (the settings themselves live in core.config)."""

from __future__ import annotations

#: ACCESS_TOKEN_TTL defaults: a short token when a refresh token can renew it.
DEFAULT_ACCESS_TTL = {"stateless": 900, "denylist": 900, "refresh": 60, "push": 900}
