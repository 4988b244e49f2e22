"""`.env.example` and the settings table of docs/configuration.md, printed from the declarations.

Usage: python -m servers.core.settings_docs --env-example > .env.example
       python -m servers.core.settings_docs --markdown   (the table in docs/configuration.md)
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Sequence
from dataclasses import Field

from .config import GROUPS, declared
from .setting import describe_range, env_name


def _shown_default(f: Field) -> str:
    """The default as `.env.example` writes it: '' for none, 1/0 for booleans, commas for lists."""
    if f.metadata["example"] is not None:
        return f.metadata["example"]
    value = f.default
    if value is None or value == ():
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _full_help(f: Field) -> str:
    extra = []
    if f.metadata["choices"]:
        extra.append("One of: " + ", ".join(f.metadata["choices"]) + ".")
    if describe_range(f):
        extra.append(f"Allowed: {describe_range(f)}.")
    return " ".join([f.metadata["help"], *extra])


def env_example() -> str:
    """The text of `.env.example`: every variable, grouped, with its help and default."""
    lines = [
        "# AuthLab configuration. Printed by `python -m servers.core.settings_docs --env-example`:",
        "# edit the declarations in servers/core/config.py, not this file. Every server reads",
        "# these from its environment; the lab (`python -m lab up`) sets them for its replicas",
        "# and generates secrets when you give none.",
    ]
    for group in GROUPS:
        lines += ["", f"# --- {group} " + "-" * (92 - len(group))]
        for f in (f for f in declared() if f.metadata["group"] == group):
            lines += textwrap.wrap(_full_help(f), 98, initial_indent="# ", subsequent_indent="# ")
            lines.append(f"{env_name(f)}={_shown_default(f)}")
    return "\n".join(lines) + "\n"


def markdown_table() -> str:
    """The settings table of docs/configuration.md."""
    rows = ["| Variable | Server | Default | Meaning |", "| --- | --- | --- | --- |"]
    for f in declared():
        default = _shown_default(f)
        rows.append(
            f"| `{env_name(f)}` | {f.metadata['group'].split()[0]} "
            f"| {f'`{default}`' if default else '(none)'} | {_full_help(f).replace('|', '/')} |"
        )
    return "\n".join(rows) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m servers.core.settings_docs --env-example | --markdown`: print the declarations."""
    args = list(sys.argv[1:] if argv is None else argv)
    printers = {"--env-example": env_example, "--markdown": markdown_table}
    if len(args) != 1 or args[0] not in printers:
        print(
            "usage: python -m servers.core.settings_docs --env-example | --markdown",
            file=sys.stderr,
        )
        return 2
    sys.stdout.write(printers[args[0]]())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
