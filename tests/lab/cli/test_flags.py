"""The lab's flags are declared once (LabConfig): `up` and `loadtest` accept the same ones."""

from __future__ import annotations

from dataclasses import fields

import pytest

from lab.cli import dispatch as cli
from lab.cli.flags import LAB_FLAGS, lab_changes
from lab.engine.state import LabConfig
from lab.loadtest.command import build_parser as loadtest_parser


def test_every_lab_setting_has_one_flag():
    assert sorted(flag.field for flag in LAB_FLAGS) == sorted(f.name for f in fields(LabConfig))


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--replicas", "2", "--jwt-mode", "denylist"], {"replicas": 2, "jwt_mode": "denylist"}),
        (["--env", "A=1", "--env", "B=x=y"], {"env": {"A": "1", "B": "x=y"}}),
        (["--no-redis-persist"], {"redis_persist": False}),
        (
            ["--session-binding", "dbsc", "--jwt-binding", "dpop"],
            {"session_binding": "dbsc", "jwt_binding": "dpop"},
        ),
        ([], {}),
    ],
)
def test_up_and_loadtest_read_the_same_flags(argv, expected):
    up = cli.build_parser().parse_args(["up", *argv])
    loadtest = loadtest_parser().parse_args(["browse", "--server", "jwt", *argv])
    assert lab_changes(up) == lab_changes(loadtest) == expected


def test_help_names_the_default_from_labconfig(capsys):
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["up", "--help"])
    out = capsys.readouterr().out
    assert f"(default {LabConfig().bcrypt_rounds})" in out
    assert "issue 5" not in out and "issue 6" not in out
