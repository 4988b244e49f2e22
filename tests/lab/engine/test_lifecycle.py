"""`up` reports or changes a running lab without losing users; `down` leaves nothing behind."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jwt
import pytest
import requests

from lab import Lab, LabError
from lab.engine.processes import is_listening, is_running
from tests.support.lab_clients import HTTP_TIMEOUT, hits, logged_in, new_user

pytestmark = pytest.mark.lab


def pids(lab: Lab) -> dict[str, int | None]:
    """Every process of the lab by name."""
    return {name: rec.pid for name, rec in lab.state.processes.items()}


def test_up_changes_only_what_differs_and_keeps_users(lab_as):
    lab = lab_as()
    user = new_user(lab.session_url)
    client = logged_in(lab.session_url, user)
    before = pids(lab)

    assert all(action.endswith("kept") for action in lab.reconfigure())  # nothing to change

    lab = lab_as(session_store="memory")
    after = pids(lab)
    for name in ("redis", "haproxy", "jwt-1", "jwt-2", "jwt-3"):
        assert after[name] == before[name], name
    for name in ("session-1", "session-2", "session-3"):
        assert after[name] != before[name], name
    # Users live in the shared SQLite file, which stays: the same password still logs in.
    assert logged_in(lab.session_url, user)

    lab = lab_as(session_store="redis")
    # Redis stayed up all along: the session from before the change is still valid everywhere.
    assert {status for status, _ in hits(client, lab.session_url + "/auth/me", 6)} == {200}


def test_fewer_replicas_then_more(lab_as):
    lab = lab_as(replicas=2)
    gone = [rec for name, rec in lab.state.processes.items() if name.endswith("-3")]
    assert gone == []
    seen = {replica for _, replica in hits(requests.Session(), lab.jwt_url + "/health", 6)}
    assert seen == {"jwt-1", "jwt-2"}
    lab = lab_as(replicas=3)
    seen = {replica for _, replica in hits(requests.Session(), lab.jwt_url + "/health", 6)}
    assert seen == {"jwt-1", "jwt-2", "jwt-3"}


@pytest.mark.parametrize("algorithm", ["EdDSA", "RS256"])
def test_asymmetric_keys_are_shared_by_every_jwt_replica(lab_as, algorithm):
    before = pids(lab_as())
    lab = lab_as(algorithm=algorithm)
    after = pids(lab)
    assert all(after[f"session-{i}"] == before[f"session-{i}"] for i in (1, 2, 3))
    assert Path(lab.state.jwt_keys["private"]).stat().st_mode & 0o777 == 0o600
    client = logged_in(lab.jwt_url)
    token = client.cookies["access_token"]
    assert jwt.get_unverified_header(token)["alg"] == algorithm
    # One key pair for all replicas: a token signed by one verifies on every other.
    for replica in lab.replicas("jwt"):
        response = client.get(replica.url + "/auth/me", timeout=HTTP_TIMEOUT)
        assert response.status_code == 200, replica.replica_id
    results = hits(client, lab.jwt_url + "/auth/me", 6)
    assert {status for status, _ in results} == {200}
    assert len({replica for _, replica in results}) == 3


def run_cli(state_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m lab --state-dir DIR ARGS...` run from DIR (the installed package, no
    PYTHONPATH), bounded in time."""
    return subprocess.run(
        [sys.executable, "-m", "lab", "--state-dir", str(state_dir), *args],
        cwd=state_dir,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_up_status_down_leaves_nothing(tmp_path):
    up = run_cli(tmp_path, "up", "--replicas", "1", "--bcrypt-rounds", "4")
    try:
        assert up.returncode == 0, up.stderr
        assert "http://127.0.0.1:" in up.stdout
        again = run_cli(tmp_path, "up")
        assert again.returncode == 0, again.stderr
        assert "already running" in again.stdout

        status = json.loads(run_cli(tmp_path, "status", "--json").stdout)
        assert status["running"]
        rows = status["replicas"]["session"] + status["replicas"]["jwt"]
        assert [(row["healthy"], row["lb"]) for row in rows] == [(True, "UP"), (True, "UP")]
        assert requests.get(status["session_url"] + "/health", timeout=HTTP_TIMEOUT).ok
        state = json.loads((tmp_path / "state.json").read_text())
        assert state["admin_email"] and state["admin_password"]
        assert (tmp_path / "state.json").stat().st_mode & 0o777 == 0o600
        assert tmp_path.stat().st_mode & 0o777 == 0o700
    finally:
        down = run_cli(tmp_path, "down")
    assert down.returncode == 0, down.stderr
    records = state["processes"].values()
    assert len(records) == 4  # redis, haproxy, session-1, jwt-1
    assert not any(is_running(rec["pid"], rec["create_time"]) for rec in records)
    ports = [rec["port"] for rec in records] + list(state["ports"].values())
    assert not [port for port in ports if is_listening(port)]
    assert run_cli(tmp_path, "status").returncode == 1  # "the lab is down"


def test_down_after_a_failed_up(tmp_path):
    # Replicas that refuse to start (an unknown store) fail `up`, with the log that says why...
    lab = Lab(replicas=1, bcrypt_rounds=4, env={"SESSION_STORE": "bogus"}, state_dir=tmp_path)
    with pytest.raises(LabError, match=r"(?s)-1 exited while starting.*SESSION_STORE must be"):
        lab.up()
    state = json.loads((tmp_path / "state.json").read_text())
    assert any(is_running(rec["pid"], rec["create_time"]) for rec in state["processes"].values())
    # ... and `down` still finds and stops everything that did start.
    down = run_cli(tmp_path, "down")
    assert down.returncode == 0, down.stderr
    records = state["processes"].values()
    assert not any(is_running(rec["pid"], rec["create_time"]) for rec in records)
    ports = [rec["port"] for rec in state["processes"].values()] + list(state["ports"].values())
    assert not [port for port in ports if port and is_listening(port)]
