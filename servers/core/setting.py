"""How one setting is declared (`setting()`), parsed from a string and checked.

servers/core/config.py declares every setting with these; this module knows nothing of which
settings exist.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Callable, Sequence
from dataclasses import Field, field
from typing import Any


def setting(
    default: Any = None,
    help: str = "",  # noqa: A002 (the word every settings library uses)
    *,
    group: str = "Both servers",
    env: str | None = None,
    choices: Sequence[str] | None = None,
    min: float | None = None,  # noqa: A002
    max: float | None = None,  # noqa: A002
    example: str | None = None,
    factory: Callable[[], Any] | None = None,
) -> Any:
    """Declare one setting: a dataclass field whose metadata says how to read, check and show it.

    `env` names the variable when it is not the field's name in capitals; `example` is what
    `.env.example` shows when the default is computed (a path, the hostname).
    """
    meta = {
        "help": help,
        "group": group,
        "env": env,
        "choices": tuple(choices) if choices else None,
        "min": min,
        "max": max,
        "example": example,
    }
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


def env_name(f: Field) -> str:
    """The environment variable of a setting: its own `env`, else the field name in capitals."""
    return f.metadata["env"] or f.name.upper()


def _type_of(hint: Any) -> tuple[type, bool]:
    """(base type, optional?) of an annotation: `int | None` is (int, True)."""
    args = typing.get_args(hint)
    if isinstance(hint, types.UnionType):
        return next(a for a in args if a is not type(None)), True
    return typing.get_origin(hint) or hint, False


def _parse_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ValueError("expected 1/0, true/false, yes/no or on/off")


def parse(hint: Any, raw: str) -> Any:
    """An environment string as the annotated type (tuples are comma-separated)."""
    kind, _ = _type_of(hint)
    if kind is tuple:
        return tuple(s.strip() for s in raw.split(",") if s.strip())
    if kind is bool:
        return _parse_bool(raw)
    return kind(raw)


def problem(f: Field, value: Any) -> str | None:
    """What is wrong with `value` for this setting (outside its choices or range), if anything."""
    meta, name = f.metadata, env_name(f)
    if value is None:
        return None
    if meta["choices"] and value not in meta["choices"]:
        return f"{name} must be one of {', '.join(meta['choices'])} (got {value!r})."
    low, high = meta["min"], meta["max"]
    if (low is not None and value < low) or (high is not None and value > high):
        return f"{name} must be {describe_range(f)} (got {value!r})."
    return None


def describe_range(f: Field) -> str:
    """'between 4 and 31', 'at least 1', ... or '' for a setting without a range."""
    low, high = f.metadata["min"], f.metadata["max"]
    if low is not None and high is not None:
        return f"between {low:g} and {high:g}"
    if low is not None:
        return f"at least {low:g}"
    return f"at most {high:g}" if high is not None else ""


def closest(name: str, known: Sequence[str], cutoff: float = 0.6) -> str | None:
    """The known name `name` is most likely a typo of, if any (for did-you-mean messages)."""
    close = difflib.get_close_matches(name, known, n=1, cutoff=cutoff)
    return close[0] if close else None
