"""The lab's parts without a lab: configuration, the state file, process control, the CLI."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time

import pytest

from lab import Lab
from lab.cli import dispatch as cli
from lab.engine import haproxy, processes, replicas
from lab.engine.state import LabConfig, LabError, LabState, ProcessRecord, StateStore


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("replicas", 0),
        ("lb_policy", "random"),
        ("session_store", "postgres"),
        ("jwt_mode", "none"),
        ("algorithm", "none"),  # never `alg: none`
        ("bcrypt_rounds", 3),
        ("access_ttl", 0),
    ],
)
def test_config_validate_rejects(field, value):
    with pytest.raises(LabError, match=field):
        LabConfig(**{field: value}).validate()


def test_state_is_private_and_round_trips(tmp_path):
    store = StateStore(tmp_path / "lab")
    state = LabState(config=LabConfig(replicas=2, env={"SESSION_IDLE_TIMEOUT": "5"}))
    state.ensure_secrets({})
    state.processes["redis"] = ProcessRecord("redis", 123, 6000, ["redis-server"], "log", 1.5e9)
    store.save(state)
    assert store.dir.stat().st_mode & 0o777 == 0o700
    assert store.path.stat().st_mode & 0o777 == 0o600
    again = store.load()
    assert again is not None
    assert again.to_json() == state.to_json()
    assert len(again.secret_key) >= 32 and again.admin_password


def test_secrets_come_from_the_environment_when_given():
    state = LabState()
    state.ensure_secrets({"SECRET_KEY": "k" * 40, "ADMIN_EMAIL": "boss@example.com"})
    assert state.secret_key == "k" * 40
    assert state.admin_email == "boss@example.com"
    kept = state.secret_key
    state.ensure_secrets({})  # a later `up` keeps the run's secrets
    assert state.secret_key == kept


def test_replica_environment_is_explicit(tmp_path):
    state = LabState(config=LabConfig(session_store="memory", access_ttl=30))
    state.ensure_secrets({})
    session = replicas.environment("session", 2, state, tmp_path, "redis://127.0.0.1:1/0")
    jwt = replicas.environment("jwt", 1, state, tmp_path, "redis://127.0.0.1:1/0")
    assert session["REPLICA_ID"] == "session-2" and jwt["REPLICA_ID"] == "jwt-1"
    assert session["SESSION_STORE"] == "memory" and "JWT_MODE" not in session
    assert jwt["ACCESS_TOKEN_TTL"] == "30"
    # Every replica of both servers shares the secret and one user database.
    assert session["SECRET_KEY"] == jwt["SECRET_KEY"] == state.secret_key
    assert session["DATABASE_URL"] == jwt["DATABASE_URL"] == f"sqlite:///{tmp_path / 'users.db'}"


def test_render_backends_names_each_replica():
    text = haproxy.render_backends({"session": [5001, 5002], "jwt": [6001]})
    assert "backend session from lab" in text and "backend jwt from lab" in text
    assert "server s2 127.0.0.1:5002 cookie s2" in text
    assert "server s1 127.0.0.1:6001 cookie s1" in text


def test_stop_ends_the_whole_process_group(tmp_path):
    # A parent that ignores SIGTERM and a child: both must be gone afterwards.
    script = "trap '' TERM; sleep 60 & echo $! > child.pid; wait"
    pid = processes.spawn(["sh", "-c", script], env=processes.base_env(), log=tmp_path / "log",
                          cwd=tmp_path)  # fmt: skip
    pid_file = tmp_path / "child.pid"
    processes.wait_until(lambda: pid_file.exists() and pid_file.read_text().strip(), 5, "child")
    child = int(pid_file.read_text())
    identity = processes.create_time(pid)
    assert processes.is_running(pid, identity) and processes.is_running(child)
    started = time.monotonic()
    processes.stop([(pid, identity)], timeout=0.5)
    assert time.monotonic() - started < 5
    assert not processes.is_running(pid) and not processes.is_running(child)


def test_a_recycled_pid_is_never_signalled(tmp_path):
    other = subprocess.Popen(["sleep", "30"])
    try:
        # The state says this pid is a process started earlier; psutil says it started later.
        recorded = processes.create_time(other.pid) - 60
        assert processes.is_running(other.pid) and not processes.is_running(other.pid, recorded)
        processes.stop([(other.pid, recorded)], timeout=0.5)
        assert other.poll() is None
    finally:
        other.send_signal(signal.SIGKILL)
        other.wait()


def test_free_port_is_free_and_not_excluded():
    port = processes.free_port()
    assert not processes.is_listening(port)
    assert processes.free_port(exclude={port}) != port


def parse_up(*argv: str) -> argparse.Namespace:
    return cli.build_parser().parse_args(["up", *argv])


def test_up_flags_override_and_omitted_flags_keep_the_running_lab():
    running = LabConfig(replicas=2, session_store="memory", lb_policy="sticky")
    config = cli.config_from_args(parse_up("--lb-policy", "roundrobin", "--env", "A=1"), running)
    assert config.replicas == 2 and config.session_store == "memory"
    assert config.lb_policy == "roundrobin" and config.env == {"A": "1"}
    assert cli.config_from_args(parse_up(), None) == LabConfig()


def test_delegated_command_missing_says_so(monkeypatch, capsys):
    monkeypatch.setitem(cli.DELEGATED, "demo", ("lab.no_such_module", "the demo"))
    assert cli.main(["demo", "stolen-cookie"]) == 2
    assert "the demo" in capsys.readouterr().err


def test_delegated_command_gets_its_arguments(monkeypatch, tmp_path):
    seen = {}
    module = type(sys)("lab_fake_report")
    module.main = lambda argv: seen.setdefault("argv", argv) and 0
    monkeypatch.setitem(sys.modules, "lab_fake_report", module)
    monkeypatch.setitem(cli.DELEGATED, "report", ("lab_fake_report", "the report"))
    monkeypatch.setenv("AUTHLAB_LAB_DIR", "unused")  # restored (unset) after the test
    assert cli.main(["--state-dir", str(tmp_path), "report", "--quick"]) == 0
    assert seen["argv"] == ["--quick"]
    assert os.environ["AUTHLAB_LAB_DIR"] == str(tmp_path)


def test_commands_on_no_lab_fail_clearly(tmp_path, capsys):
    assert cli.main(["--state-dir", str(tmp_path), "replica", "kill", "session", "1"]) == 1
    assert "no lab runs" in capsys.readouterr().err
    assert cli.main(["--state-dir", str(tmp_path), "status"]) == 1
    assert cli.main(["--state-dir", str(tmp_path), "down"]) == 0


@pytest.mark.parametrize(
    ("module", "hint"), [("store.redis_server", "redis-server"), ("engine.haproxy", "haproxy")]
)
def test_up_says_how_to_install_what_is_missing(monkeypatch, tmp_path, module, hint):
    monkeypatch.setattr(f"lab.{module}.executable", lambda: None)
    with pytest.raises(LabError, match=f"apt-get install {hint}"):
        Lab(state_dir=tmp_path).up()
    assert not (tmp_path / "state.json").exists()  # nothing was started
