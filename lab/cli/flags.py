"""The lab's flags, declared once: `python -m lab up` and `python -m lab loadtest` share them.

Each flag is named after the `LabConfig` field it sets and defaults to None, which means "as the
running lab has it, else LabConfig's default". Adding a lab setting is one `setting(...)` field
in `LabConfig` (lab/engine/state.py), help included: both commands get its flag, `lab_changes`
passes it on, and `Lab(...)` takes it as a keyword argument.
"""

from __future__ import annotations

import argparse
from dataclasses import Field, dataclass, field, fields
from typing import Any

from ..engine.state import LabConfig


def latency(text: str) -> str:
    """'1ms' or '1ms:0.2ms' (round trip added, optional jitter), or 'off', for --store-latency."""
    if text == "off":
        return text
    from ..engine.durations import Latency

    try:
        return str(Latency.parse(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def env_pair(text: str) -> tuple[str, str]:
    """'KEY=VALUE' -> ('KEY', 'VALUE'), for --env."""
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return name, value


#: The CLI's parsers for the setting types LabConfig names by word (its `type="latency"`).
PARSERS = {"latency": latency, "env": env_pair}
#: The argparse actions LabConfig names by word.
ACTIONS = {"boolean": argparse.BooleanOptionalAction, "append": "append"}


@dataclass(frozen=True)
class Flag:
    """One `--flag` that sets the LabConfig field of the same name (dashes for underscores)."""

    field: str
    help: str
    options: dict[str, Any] = field(default_factory=dict)
    #: A shorter spelling where the issue named one (`--redis sentinel` sets redis_topology).
    spelling: str | None = None

    @classmethod
    def of(cls, setting: Field) -> Flag:
        """The flag LabConfig declares for one of its fields (lab/engine/state.py)."""
        options = dict(setting.metadata["flag"])
        spelling = options.pop("spelling", None)
        if "type" in options:
            options["type"] = PARSERS.get(options["type"], options["type"])
        if "action" in options:
            options["action"] = ACTIONS[options["action"]]
        return cls(setting.name, setting.metadata["help"], options, spelling)

    @property
    def option(self) -> str:
        """The command-line spelling: --lb-policy for lb_policy."""
        return self.spelling or "--" + self.field.replace("_", "-")

    def add_to(self, group: argparse._ActionsContainer, defaults: LabConfig) -> None:
        """Add the flag, its help ending with LabConfig's default."""
        default = getattr(defaults, self.field)
        shown = f" (default {default})" if default not in (None, {}) else ""
        group.add_argument(self.option, dest=self.field, help=self.help + shown, **self.options)


#: Every lab setting a command line can change, in LabConfig's order (the order `--help` lists).
LAB_FLAGS: tuple[Flag, ...] = tuple(Flag.of(f) for f in fields(LabConfig) if "help" in f.metadata)


def lab_flags_parser(title: str = "lab") -> argparse.ArgumentParser:
    """A parent parser holding every lab flag (argparse `parents=`), each defaulting to None."""
    parser = argparse.ArgumentParser(add_help=False)
    group = parser.add_argument_group(title)
    defaults = LabConfig()
    for flag in LAB_FLAGS:
        flag.add_to(group, defaults)
    return parser


def lab_changes(args: argparse.Namespace) -> dict[str, Any]:
    """The LabConfig fields the flags set (flags left out are not changes)."""
    names = {f.name for f in fields(LabConfig)}
    changes = {k: v for k, v in vars(args).items() if k in names and v is not None}
    if "env" in changes:
        changes["env"] = dict(changes["env"])
    return changes
