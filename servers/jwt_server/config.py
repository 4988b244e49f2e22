"""The JWT server's own defaults and tuning knobs (the shared settings live in core.config)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..core.config import ConfigError

#: ACCESS_TOKEN_TTL defaults: a short token when a refresh token can renew it.
DEFAULT_ACCESS_TTL = {"stateless": 900, "denylist": 900, "refresh": 60}


def seconds_knob(config: Mapping[str, Any], name: str, default: float) -> float:
    """A tuning knob in seconds (JWT_LEEWAY, JWT_REFRESH_GRACE): Flask config (tests), else the
    value Settings read from the environment (`default`)."""
    raw = config.get(name, default)
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{name}={raw!r} is not a number of seconds.") from None
    if not 0 <= value <= 300:
        raise ConfigError(f"{name} must be between 0 and 300 seconds.")
    return value
