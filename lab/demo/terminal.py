"""`python -m lab demo stolen-cookie`: the stolen-cookie scenario, narrated, for a live class.

    python -m lab demo stolen-cookie                       # both servers, logout, pauses
    python -m lab demo stolen-cookie --server jwt --action revoke --no-pause
    python -m lab demo stolen-cookie --server jwt --jwt-mode refresh   # the stolen refresh token
    python -m lab demo stolen-cookie --browser             # the same story in a web page

The victim logs in, the attacker copies the cookie, both are in; the victim logs out (or changes
the password, or an admin revokes the account); the attacker tries again on every replica, and
each server gets a verdict. In refresh mode it then plays the stolen refresh token: the attacker
refreshes with it, the victim's browser refreshes with its now-spent one, the server sees a
token reused and revokes the whole family. It uses the running lab (`python -m lab up`) if
there is one (switching its JWT mode if `--jwt-mode` asks), and otherwise starts a private one
for the demo and stops it at the end. Colours only on a terminal (and never with NO_COLOR set).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

from ..api import Lab
from ..attach import Lease, attach_or_start
from ..engine.state import JWT_MODES
from ..experiments.binding import binding_of
from ..experiments.labs import refresh_grace
from ..experiments.story import Event, Story, stolen_cookie
from ..experiments.story import refresh_theft as theft_steps
from .narrator import Narrator
from .text import stateless_note

ACTIONS = {
    "logout": "the victim logs out",
    "password": "the victim changes the password, from the browser whose cookie was copied",
    "revoke": "an administrator revokes every session of the victim",
}


def _short(value: str, keep: int = 28) -> str:
    return value if len(value) <= keep * 2 else f"{value[:keep]}...{value[-8:]}"


#: The title each step of the story is told under (the verdict has none: it ends the run).
TITLES = {
    "login": "The victim logs in",
    "steal": "The attacker copies the cookie (malware, a shared computer, a leaked log...)",
    "both in": "Both are in",
    "keeps trying": "Nobody logs out: the attacker keeps trying, the victim keeps browsing",
    "tried again": "The attacker tries again, through the balancer and on every replica directly",
    "stolen refresh": "The attacker also holds the refresh token: it tries to mint a new access "
    "token",
}

#: The stolen refresh token's steps' titles (None: told under the step before).
THEFT_TITLES = {
    "login": "A new victim logs in; the attacker copies both cookies, the refresh token too",
    "steal": None,
    "refresh": "The attacker refreshes with the stolen refresh token",
    "reuse": "The victim's browser refreshes, as it does every few minutes",
    "again": "The attacker tries to refresh again",
}


def _told_login(event: Event, story: Story, say: Narrator) -> None:
    for header in event["response"].raw.headers.getlist("Set-Cookie"):
        say.say(f"   Set-Cookie: {_short(header, 40)}", "dim")
    held = len(story.client("victim").cookies())
    say.say(f"   The victim ({event['account'].email}) holds {held} cookie(s).")


def _told_steal(event: Event, story: Story, say: Narrator) -> None:
    for name, value in story.client("attacker").cookies().items():
        say.say(f"   {name} = {_short(value)}")


def _told_both_in(event: Event, story: Story, say: Narrator) -> None:
    for who, outcome in zip(("victim", "attacker"), event["tries"], strict=True):
        say.result(who, outcome, "GET /auth/me")


def _told_keeps_trying(event: Event, story: Story, say: Narrator) -> None:
    say.say(f"   {event['text']}", "green" if event["victim"] == "in" else "yellow")


def _told_act(event: Event, story: Story, say: Narrator) -> None:
    say.say(f"   handled by {event['acted_on']}; the API answers:")
    for key in ("revoked", "valid_until", "message"):
        if key in event["answer"]:
            say.say(f"     {key}: {event['answer'][key]}", "dim")


def _told_tried_again(event: Event, story: Story, say: Narrator) -> None:
    lb, *direct = event["tries"]
    say.result("attacker", lb, "GET /auth/me via LB")
    for outcome in direct:
        say.result("attacker", outcome, f"{outcome['via']} directly")


def _told_refresh(event: Event, story: Story, say: Narrator) -> None:
    say.refresh(event["who"], event)


def _untold(event: Event, story: Story, say: Narrator) -> None:
    """A step the class sees only in the verdict (or under the step before)."""


Teller = Callable[[Event, Story, Narrator], None]

#: How the terminal tells each step of the stolen-cookie story.
TELLERS: dict[str, Teller] = {
    "login": _told_login,
    "steal": _told_steal,
    "both in": _told_both_in,
    "keeps trying": _told_keeps_trying,
    "act": _told_act,
    "tried again": _told_tried_again,
    "stolen refresh": _told_refresh,
    "verdict": _untold,
}

#: How it tells the stolen refresh token's steps.
THEFT_TELLERS: dict[str, Teller] = {
    "login": _untold,
    "steal": _told_steal,
    "refresh": _told_refresh,
    "reuse": _told_refresh,
    "again": _told_refresh,
}


def run_server(lab: Lab, server: str, action: str, say: Narrator) -> dict[str, Any]:
    """The scenario on one server; returns its verdict."""
    story = Story(lab, server)
    title = f"{server} server ({story.mode})"
    say.say()
    say.say("=" * 72, "dim")
    say.say(f"The {title}, behind HAProxy at {story.url}", "bold")
    say.say("=" * 72, "dim")
    titles = {**TITLES, "act": ACTIONS[action][0].upper() + ACTIONS[action][1:]}
    try:
        for step in stolen_cookie(story, action):
            if step.name in titles:
                say.step(titles[step.name])
            event = step.run()
            TELLERS[step.name](event, story, say)
    finally:
        story.close()
    verdict = {k: v for k, v in event.items() if k != "step"}
    if story.mode == "refresh":
        verdict["reuse"] = refresh_theft(lab, say)
    return verdict


def refresh_theft(lab: Lab, say: Narrator) -> bool | None:
    """The stolen refresh token, used: rotation, reuse detection, the family revoked (None: the
    refresh token is bound to the victim's key, and the thief's refresh was simply refused)."""
    say.say()
    say.say("The stolen refresh token (rotation and reuse detection)", "bold")
    if binding_of(lab.config, "jwt") == "dpop":
        say.say("   DPoP binds each refresh family to the victim's key: a stolen refresh token")
        say.say("   is refused without a proof from that key (above), and burns nothing.")
        return None
    story = Story(lab, "jwt")
    events: dict[str, Event] = {}
    try:
        for step in theft_steps(story, first="attacker"):
            if THEFT_TITLES[step.name]:
                say.step(THEFT_TITLES[step.name])
            events[step.name] = event = step.run()
            THEFT_TELLERS[step.name](event, story, say)
            _aside(step.name, event, lab, say)
    finally:
        story.close()
    return events["reuse"]["status"] == 401 and events["again"]["status"] == 401


def _aside(step: str, event: Event, lab: Lab, say: Narrator) -> None:
    """What the class is told between the refresh theft's steps (and the wait past the grace)."""
    if step == "refresh":
        say.say(
            "   The server rotated it: the attacker now holds the newest pair, the victim a spent "
            "one."
        )
        grace = refresh_grace(lab)
        say.say(
            f"   (waiting {grace + 0.5:g} s: within {grace:g} s a second refresh is forgiven as "
            "a second tab)",
            "dim",
        )
        time.sleep(grace + 0.5)
    elif step == "reuse" and event["error"] == "refresh_token_reused":
        say.say(
            "   A spent token came back: someone holds a copy. The whole family is revoked.",
            "yellow",
        )
    elif step == "again":
        say.say("   Both must log in again; the access tokens already issued live until their exp.")


def _borrow(lab: Lab, args: argparse.Namespace, servers: list[str], say: Narrator) -> None:
    """Switch the running lab's JWT server as the flags ask (closing the lease switches it back)."""
    if "jwt" not in servers:
        return
    wanted = {"jwt_mode": args.jwt_mode, "access_ttl": args.access_ttl}
    changes = {k: v for k, v in wanted.items() if v is not None and getattr(lab.config, k) != v}
    if changes:
        said = [f"{changes['jwt_mode']} mode"] if "jwt_mode" in changes else []
        said += [f"{changes['access_ttl']} s access tokens"] if "access_ttl" in changes else []
        say.say(f"Switching its JWT server to {' with '.join(said)}...", "dim")
        lab.reconfigure(**changes)


def _play(
    lease: Lease, args: argparse.Namespace, servers: list[str], say: Narrator
) -> list[dict[str, Any]]:
    """Say which lab plays, switch it as the flags ask, and play the scenario on each server."""
    lab = lease.lab
    if not lease.started:
        say.say(f"Using the running lab in {lab.state_dir} (put back as found at the end).", "dim")
    if "jwt" in servers and (args.jwt_mode or lab.config.jwt_mode) == "stateless":
        say.say(stateless_note(args.access_ttl or lab.config.access_ttl), "dim")
    _borrow(lab, args, servers, say)
    return [run_server(lab, server, args.action, say) for server in servers]


def build_parser() -> argparse.ArgumentParser:
    """`python -m lab demo` flags."""
    parser = argparse.ArgumentParser(
        prog="python -m lab demo",
        description="Narrated attack scenarios on the lab, for a live class.",
    )
    parser.add_argument("scenario", choices=["stolen-cookie"], help="the scenario to play")
    parser.add_argument("--server", choices=["session", "jwt", "both"], default="both")
    parser.add_argument("--action", choices=list(ACTIONS), default="logout")
    parser.add_argument(
        "--jwt-mode",
        choices=JWT_MODES,
        help="run the JWT server in this mode (default: as it runs)",
    )
    parser.add_argument(
        "--access-ttl",
        type=int,
        help="JWT access-token lifetime in seconds for the demo (the stateless ending comes "
        "this soon; default: as the lab runs, 15 min by default); put back at the end",
    )
    parser.add_argument("--no-pause", action="store_true", help="do not wait for Enter")
    parser.add_argument(
        "--browser",
        action="store_true",
        help="serve the demo as a web page instead (`python -m lab console`)",
    )
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
    if args.browser:
        from .console import main as console_main

        console = ["--open"] + (["--state-dir", args.state_dir] if args.state_dir else [])
        if args.access_ttl is not None:
            console += ["--access-ttl", str(args.access_ttl)]
        return console_main(console)
    say = Narrator(out or sys.stdout, pause=not args.no_pause)
    servers = ["session", "jwt"] if args.server == "both" else [args.server]
    try:
        lease = attach_or_start(
            args.state_dir,
            prefix="authlab-demo-",
            starting=lambda _: say.say(
                f"No lab is running: starting a private one with {args.replicas} replicas...",
                "dim",
            ),
            say=lambda line: say.say(line, "dim"),
            replicas=args.replicas,
            bcrypt_rounds=4,
            access_ttl=args.access_ttl or 60,
            jwt_mode=args.jwt_mode or "stateless",
        )
        with lease:  # stops a private lab, puts a found one back (Ctrl-C and SIGTERM too)
            verdicts = _play(lease, args, servers, say)
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: the lab is back as found; no traceback
        say.say("interrupted", "dim")
        return 130
    say.wait()
    say.say()
    say.say("Verdict", "bold")
    for v in verdicts:
        if v.get("alone"):  # a bound server: what the missing key did before anyone acted
            alone = v["alone"]
            safe = alone["refused_after_s"] is not None and alone["victim"] == "in"
            say.say(("   BOUND   " if safe else "   BOUND?  ") + alone["text"],
                    "green" if safe else "yellow")  # fmt: skip
        say.say(
            ("   SAFE    " if v["safe"] else "   EXPOSED ") + v["text"],
            "green" if v["safe"] else "red",
        )
        if v.get("reuse") is None and "reuse" in v:
            say.say("   BOUND   jwt (refresh): the refresh token is bound to the key.", "green")
        elif "reuse" in v:
            caught = "detected, family revoked" if v["reuse"] else "NOT detected"
            say.say(f"   REUSE   jwt (refresh): a stolen refresh token used: {caught}.",
                    "green" if v["reuse"] else "red")  # fmt: skip
    now = datetime.now(UTC).strftime("%H:%M:%S UTC")
    say.say(f"({now}; run again with --action logout|password|revoke)", "dim")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
