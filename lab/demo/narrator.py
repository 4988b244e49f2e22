"""How `python -m lab demo` tells its story on a terminal: numbered steps, pauses for the class,
and each answer coloured by what it means (let in, refused, neither). Colours only on a terminal,
and never with NO_COLOR set."""

from __future__ import annotations

import os
import sys
from typing import Any, TextIO


class Narrator:
    """Prints the story: steps, who does what, and verdicts, coloured on a terminal."""

    CODES = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "cyan": "36"}

    def __init__(self, out: TextIO, pause: bool, colour: bool | None = None):
        self.out = out
        self.pause_enabled = pause
        if colour is None:
            colour = out.isatty() and not os.environ.get("NO_COLOR")
        self.colour = colour
        self.step_no = 0

    def paint(self, text: str, *styles: str) -> str:
        """`text` in the given styles (plain when colours are off)."""
        if not self.colour or not styles:
            return text
        codes = ";".join(self.CODES[s] for s in styles)
        return f"\033[{codes}m{text}\033[0m"

    def say(self, text: str = "", *styles: str) -> None:
        """One line of narration."""
        print(self.paint(text, *styles), file=self.out, flush=True)

    def step(self, title: str) -> None:
        """A numbered step, after a pause for the class if pauses are on."""
        self.wait()
        self.step_no += 1
        self.say()
        self.say(f"{self.step_no}. {title}", "bold", "cyan")

    def wait(self) -> None:
        """Wait for Enter (only with pauses on and a terminal to read from)."""
        if self.pause_enabled and self.step_no and sys.stdin.isatty():
            try:
                input(self.paint("   (Enter to continue)", "dim"))
            except EOFError:
                self.pause_enabled = False

    def refresh(self, who: str, outcome: dict[str, Any]) -> None:
        """One POST /auth/refresh: 200 green (new tokens), 401 red with the server's reason."""
        if outcome["status"] == 200:
            text = self.paint("200 new access and refresh tokens", "green")
        else:
            text = self.paint(f"{outcome['status']} {outcome['error']}", "red")
            text += f": {outcome['message']}"
        self.say(f"   {who:<9} POST /auth/refresh -> {text}")

    def result(self, who: str, outcome: dict[str, Any], where: str) -> None:
        """One request's outcome: 200 green (let in), 401 red (refused), others yellow."""
        status = outcome["status"]
        if status == 200:
            text, style = "200 let in", "green"
        elif status == 401:
            text, style = "401 refused", "red"
        else:
            text, style = f"{status} (not an answer about the credential)", "yellow"
        replica = outcome.get("replica") or "?"
        self.say(f"   {who:<9} {where:<22} -> {self.paint(text, style)}  (answered by {replica})")
