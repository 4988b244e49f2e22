"""`python -m lab demo stolen-cookie`: the stolen-cookie scenario, narrated, for a live class.

    python -m lab demo stolen-cookie                       # both servers, logout, pauses
    python -m lab demo stolen-cookie --server jwt --action revoke --no-pause

The victim logs in, the attacker copies the cookie, both are in; the victim logs out (or changes
the password, or an admin revokes the account); the attacker tries again on every replica, and
each server gets a verdict. It uses the running lab (`python -m lab up`) if there is one, and
otherwise starts a private one for the demo and stops it at the end. Colours only on a terminal
(and never with NO_COLOR set).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

from .api import Lab
from .experiments.actors import Client, probe, register
from .experiments.labs import mode_of
from .experiments.revocation import perform_action

ACTIONS = {
    "logout": "the victim logs out",
    "password": "the victim changes the password, from the browser whose cookie was copied",
    "revoke": "an administrator revokes every session of the victim",
}


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


def _short(value: str, keep: int = 28) -> str:
    return value if len(value) <= keep * 2 else f"{value[:keep]}...{value[-8:]}"


def run_server(lab: Lab, server: str, action: str, say: Narrator) -> dict[str, Any]:
    """The scenario on one server; returns its verdict."""
    mode = mode_of(lab, server)
    url = lab.url(server)
    title = f"{server} server ({mode})"
    say.say()
    say.say("=" * 72, "dim")
    say.say(f"The {title}, behind HAProxy at {url}", "bold")
    say.say("=" * 72, "dim")

    say.step("The victim logs in")
    account = register(url, "victim")
    victim = Client(url, "victim")
    response = victim.login(account)
    for header in response.raw.headers.getlist("Set-Cookie"):
        say.say(f"   Set-Cookie: {_short(header, 40)}", "dim")
    say.say(f"   The victim ({account.email}) holds {len(victim.cookies())} cookie(s).")

    say.step("The attacker copies the cookie (malware, a shared computer, a leaked log...)")
    attacker = victim.steal()
    for name, value in attacker.cookies().items():
        say.say(f"   {name} = {_short(value)}")

    say.step("Both are in")
    say.result("victim", probe(victim), "GET /auth/me")
    say.result("attacker", probe(attacker), "GET /auth/me")

    say.step(ACTIONS[action][0].upper() + ACTIONS[action][1:])
    answer, acted_on = perform_action(lab, server, action, victim, account)
    say.say(f"   handled by {acted_on}; the API answers:")
    for key in ("revoked", "valid_until", "message"):
        if key in answer:
            say.say(f"     {key}: {answer[key]}", "dim")
    done_at = time.time()

    say.step("The attacker tries again, through the balancer and on every replica directly")
    say.result("attacker", probe(attacker), "GET /auth/me via LB")
    replicas = [r for r in lab.replicas(server) if r.running]
    accepted = []
    for rep in replicas:
        outcome = probe(attacker, base=rep.url)
        say.result("attacker", outcome, f"{rep.replica_id} directly")
        if outcome["status"] == 200:
            accepted.append(rep.replica_id)
    victim.close()
    attacker.close()
    return _verdict(server, mode, action, accepted, len(replicas), answer, done_at)


def _verdict(
    server: str,
    mode: str,
    action: str,
    accepted: list[str],
    replicas: int,
    answer: dict[str, Any],
    done_at: float,
) -> dict[str, Any]:
    label = f"{server} ({mode})"
    if not accepted:
        text = f"{label}: after '{action}' the stolen copy is dead on all {replicas} replicas."
        return {"server": server, "mode": mode, "safe": True, "text": text}
    text = (
        f"{label}: after '{action}' the stolen copy still works on {len(accepted)} of "
        f"{replicas} replicas"
    )
    until = answer.get("valid_until")
    if until:
        left = datetime.fromisoformat(until).timestamp() - done_at
        local = datetime.fromisoformat(until).astimezone().strftime("%H:%M:%S")
        text += f", until {local} ({left:.0f} s after the {action}), as the API said."
    else:
        text += ", although the API said it was revoked."
    return {"server": server, "mode": mode, "safe": False, "text": text, "until": until}


def build_parser() -> argparse.ArgumentParser:
    """`python -m lab demo` flags."""
    parser = argparse.ArgumentParser(
        prog="python -m lab demo",
        description="Narrated attack scenarios on the lab, for a live class.",
    )
    parser.add_argument("scenario", choices=["stolen-cookie"], help="the scenario to play")
    parser.add_argument("--server", choices=["session", "jwt", "both"], default="both")
    parser.add_argument("--action", choices=list(ACTIONS), default="logout")
    parser.add_argument("--no-pause", action="store_true", help="do not wait for Enter")
    parser.add_argument(
        "--state-dir", help="the lab to use (default: the running .lab/ lab, else a private one)"
    )
    parser.add_argument(
        "--replicas", type=int, default=3, help="replicas of a private lab (default 3)"
    )
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Play the scenario; exit 0 whatever the verdicts (they are the lesson, not a failure)."""
    args = build_parser().parse_args(argv)
    say = Narrator(out or sys.stdout, pause=not args.no_pause)
    servers = ["session", "jwt"] if args.server == "both" else [args.server]
    lab = Lab.attach(args.state_dir)
    tmp = None
    if lab is None:
        tmp = tempfile.TemporaryDirectory(prefix="authlab-demo-")
        say.say(
            f"No lab is running: starting a private one with {args.replicas} replicas...", "dim"
        )
        lab = Lab(replicas=args.replicas, bcrypt_rounds=4, access_ttl=60, state_dir=tmp.name)
        lab.up()
    else:
        say.say(f"Using the running lab in {lab.state_dir}.", "dim")
    try:
        verdicts = [run_server(lab, server, args.action, say) for server in servers]
    finally:
        if tmp is not None:
            lab.down()
            tmp.cleanup()
    say.wait()
    say.say()
    say.say("Verdict", "bold")
    for v in verdicts:
        say.say(
            ("   SAFE    " if v["safe"] else "   EXPOSED ") + v["text"],
            "green" if v["safe"] else "red",
        )
    now = datetime.now(UTC).strftime("%H:%M:%S UTC")
    say.say(f"({now}; run again with --action logout|password|revoke)", "dim")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
