"""`python -m lab console` (and `python -m lab demo stolen-cookie --browser`): serve the page.

    .venv/bin/python -m lab console              # on the running lab, else a private one
    .venv/bin/python -m lab console --open --access-ttl 30 --port 8470
    .venv/bin/python -m lab console --dbsc-cookie-ttl 5   # bound sessions' short cookie: 5 s

It listens on 127.0.0.1 only. With a lab running (`python -m lab up`), it uses that lab, and
switching mode or binding on the page reconfigures it (only that server's replicas restart;
users and Redis are kept). Without one, it starts a private lab with short tokens and a short
DBSC cookie, and stops it on Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import webbrowser
from collections.abc import Sequence

from werkzeug.serving import BaseWSGIServer, make_server

from ...api import Lab
from ...attach import attach_or_start
from ...experiments.labs import dbsc_cookie_ttl
from ..text import dbsc_note, stateless_note
from .app import create_app
from .scenario import Scenario

#: Token lifetime of a private console lab: long enough to talk over, short enough to watch end.
PRIVATE_ACCESS_TTL = 30
#: DBSC_COOKIE_TTL of a private console lab: a stolen bound cookie dies while the class watches
#: (the server's default is a minute).
PRIVATE_DBSC_COOKIE_TTL = 10


def start(
    lab: Lab, port: int = 0, access_ttl: int | None = None, dbsc_cookie_ttl: int | None = None
) -> tuple[BaseWSGIServer, str]:
    """Serve the console for `lab` in a background thread; returns the server and its URL."""
    scenario = Scenario(lab, access_ttl, dbsc_cookie_ttl)
    server = make_server("127.0.0.1", port, create_app(scenario), threaded=True)
    threading.Thread(target=server.serve_forever, name="authlab-console", daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}/"


def _wait_for_stop() -> None:
    """Block until Ctrl-C or SIGTERM (even where the shell started us with SIGINT ignored)."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass


def _has_display() -> bool:
    """Whether a graphical browser can open (without one, webbrowser may start a text browser
    inside this terminal)."""
    return sys.platform in ("darwin", "win32") or bool(
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    )


def build_parser() -> argparse.ArgumentParser:
    """`python -m lab console` flags."""
    parser = argparse.ArgumentParser(
        prog="python -m lab console",
        description="The stolen-cookie demo in a browser: victim and attacker side by side.",
    )
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: free)")
    parser.add_argument(
        "--open",
        action="store_true",
        help="open the page in the web browser (when there is a display)",
    )
    parser.add_argument(
        "--access-ttl", type=int, help="JWT access-token lifetime to run with (seconds)"
    )
    parser.add_argument(
        "--dbsc-cookie-ttl",
        type=int,
        help="DBSC_COOKIE_TTL for bound sessions (seconds; a private lab: "
        f"{PRIVATE_DBSC_COOKIE_TTL}; a running lab: its own)",
    )
    parser.add_argument("--state-dir", help="the lab to use (default: the running .lab/ lab)")
    parser.add_argument("--replicas", type=int, default=2, help="replicas of a private lab")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until Ctrl-C; stop the private lab if this command started one."""
    args = build_parser().parse_args(argv)
    ttl = args.access_ttl or PRIVATE_ACCESS_TTL
    cookie_ttl = args.dbsc_cookie_ttl or PRIVATE_DBSC_COOKIE_TTL
    lease = attach_or_start(
        args.state_dir,
        prefix="authlab-console-",
        starting=lambda _: print(
            f"No lab is running: starting a private one ({args.replicas} replicas, "
            f"{ttl} s tokens)..."
        ),
        replicas=args.replicas,
        bcrypt_rounds=4,
        access_ttl=ttl,
        env={"DBSC_COOKIE_TTL": str(cookie_ttl)},
    )
    with lease:  # stops a private lab, puts a found one back as found (SIGTERM too)
        lab = lease.lab
        if not lease.started:
            print(
                f"Using the running lab in {lab.state_dir} (the page may change its modes; they "
                "are put back as found when the console stops)."
            )
        print(
            stateless_note(
                args.access_ttl if args.access_ttl is not None else lab.config.access_ttl
            )
        )
        print(dbsc_note(args.dbsc_cookie_ttl or dbsc_cookie_ttl(lab)))
        server, url = start(lab, args.port, args.access_ttl, args.dbsc_cookie_ttl)
        print(f"\nThe stolen-cookie console: {url}\n(Ctrl-C to stop)")
        if args.open and _has_display():
            webbrowser.open(url)
        _wait_for_stop()
        print("\nstopping the console")
        server.shutdown()
    return 0
