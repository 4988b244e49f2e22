"""What every sentence builder of the report shares: the defaults a deployment gets, read from
their one declaration, durations for people, and the guard that keeps a builder quiet.

The defaults and durations are declared in `lab/engine/configuration.py` (the load tests and the
demo say them too). The builders themselves live in `text_credentials` (sections 1-4),
`text_operations` (sections 5-9) and `text_verdicts` (8, 9 and the notebooks); `text` gathers
them for the template.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from ..engine.configuration import default_access_ttl, default_leeway, lifetime

__all__ = ["default_access_ttl", "default_leeway", "lifetime"]  # the builders read them here

Results = dict[str, Any]
Sentences = list[str]


def quiet(builder: Callable[[Results], Sentences]) -> Callable[[Results], Sentences]:
    """A builder that meets a result it cannot read says nothing, rather than lose the page."""

    @functools.wraps(builder)
    def safe(results: Results) -> Sentences:
        try:
            return [s for s in builder(results or {}) if s]
        except (KeyError, TypeError, ValueError, IndexError, AttributeError, ZeroDivisionError):
            return []

    return safe


def join(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def scale_of(results: Results) -> dict[str, Any]:
    return results.get("scale") or {}


def quick_life(results: Results) -> tuple[float | None, float]:
    """(access-token lifetime, leeway) of this run's JWTs, in seconds."""
    scale = scale_of(results)
    leeway = scale.get("jwt_leeway")
    return scale.get("access_ttl"), default_leeway() if leeway is None else float(leeway)


def windows_of(results: Results) -> list[dict[str, Any]]:
    return (results.get("revocation") or {}).get("windows") or []


def find_window(results: Results, config: str, action: str = "logout") -> dict[str, Any] | None:
    return next(
        (w for w in windows_of(results) if w.get("config") == config and w.get("action") == action),
        None,
    )


def pct(rate: float | None) -> str:
    return f"{100 * (rate or 0):.0f}%"


def label(item: dict[str, Any]) -> str:
    return f"{item.get('server')} ({item.get('mode')})"
