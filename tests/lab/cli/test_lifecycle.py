"""`lab up` names the settings a leftover lab keeps, and `--reset` brings the defaults back."""

from __future__ import annotations

import argparse

from lab.cli.flags import lab_flags_parser
from lab.cli.lifecycle import config_from_args, differences
from lab.engine.state import LabConfig


def up_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(parents=[lab_flags_parser("lab")])
    parser.add_argument("--reset", action="store_true")
    return parser.parse_args(list(argv))


def test_up_names_leftovers_and_reset_brings_the_defaults_back():
    left = LabConfig(jwt_mode="refresh", access_ttl=30, session_port=8001)
    kept = config_from_args(up_args(), left)
    assert kept.jwt_mode == "refresh"
    said = differences(kept)
    assert "--jwt-mode refresh (default: stateless)" in said
    assert "--access-ttl 30 (default: the server's own)" in said and not any(
        "port" in s for s in said
    )
    reset = config_from_args(up_args("--reset"), left)
    assert differences(reset) == [] and reset.session_port == 8001
    assert config_from_args(up_args("--reset", "--replicas", "2"), left).replicas == 2
