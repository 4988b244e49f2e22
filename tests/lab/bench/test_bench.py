"""`python -m lab bench`: every mechanism measured, each backend's claimed round trips match
what went over the wire; `--http` puts every server beside a floor, `--memory` weighs a session."""

import json
import shutil
import subprocess
import sys

import pytest

from lab.bench.contestants import (
    DBSC,
    FLOOR,
    JWT_LIMIT,
    SESSION,
    SESSION_LIMIT,
    USUAL,
    jwt_name,
    session_name,
)
from lab.engine.processes import is_listening
from lab.engine.state import REPO_ROOT
from servers.core.config import JWT_MODES

#: Round trips per authenticated request that each mechanism promises (README, Server-Timing).
PROMISED = {
    "session (redis)": 1,
    "session (memory)": 0,
    "jwt stateless HS256": 0,
    "jwt stateless RS256": 0,
    "jwt stateless EdDSA": 0,
    "jwt denylist HS256": 1,
    "jwt refresh HS256": 0,
    "jwt push HS256": 0,
    "session (cached)": 0,
}


def test_bench_measures_every_mechanism_and_counts_round_trips():
    done = subprocess.run(
        [sys.executable, "-m", "lab", "bench", "--calls", "100", "--json"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    results = {r["name"]: r for r in report["results"]}
    assert set(results) == set(PROMISED)
    for name, promised in PROMISED.items():
        row = results[name]
        assert row["round_trips"] == promised, name
        assert row["measured_round_trips"] == promised, name  # the claim holds on the wire
        assert 0 < row["median_us"] <= row["p95_us"]
        assert row["ratio_to_cheapest"] >= 1
    assert min(r["ratio_to_cheapest"] for r in results.values()) == 1
    names = [ref["name"] for ref in report["references"]]
    assert names == ["redis PING (redis-py)", "bcrypt check, cost 4", "bcrypt check, cost 12"]
    assert not is_listening(report["redis_port"])  # its private Redis is gone


def run_bench(*args: str, timeout: int = 240) -> dict:
    """`python -m lab bench ARGS --json`, in its own process; the parsed report."""
    done = subprocess.run(
        [sys.executable, "-m", "lab", "bench", *args, "--json"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.skipif(
    shutil.which("wrk") is None, reason="wrk is not installed (make setup installs it)"
)
def test_bench_http_measures_every_contestant_against_the_floor_and_its_limit():
    report = run_bench("--http", "--rounds", "1", "--duration", "1")
    rows = {row["name"]: row for row in report["contestants"]}
    expected = {FLOOR, SESSION_LIMIT, JWT_LIMIT, USUAL, SESSION, session_name("cached"), DBSC}
    expected |= {jwt_name(mode) for mode in JWT_MODES}
    assert set(rows) == expected  # every JWT mode the server knows, none typed by hand
    assert rows[FLOOR]["ratio_to_floor"]["rps"] == {"median": 1.0, "min": 1.0, "max": 1.0}
    assert rows[USUAL]["kind"] == "reference"
    assert rows[FLOOR]["ratio_to_limit"] is None  # the floor is no mechanism
    for limit in (SESSION_LIMIT, JWT_LIMIT):
        assert rows[limit]["ratio_to_limit"]["rps"]["median"] == 1.0
    assert rows[SESSION]["limit"] == rows[DBSC]["limit"] == SESSION_LIMIT
    assert all(rows[jwt_name(mode)]["limit"] == JWT_LIMIT for mode in JWT_MODES)
    for row in rows.values():
        assert row["errors"] == 0, row["name"]  # every request carried an accepted credential
        assert row["rps"]["median"] > 0 and row["p50_ms"]["median"] <= row["p99_ms"]["median"]
        assert row["ratio_to_floor"]["rps"]["median"] > 0
    assert {t["target"] for t in report["targets"]} >= {
        f"session server >= 0.9 of {SESSION_LIMIT}",
        f"jwt stateless >= 0.9 of {JWT_LIMIT}",
        "jwt denylist >= the session server",
        "jwt push >= the jwt stateless x 0.95",
    }
    assert any("round" in note for note in report["trust"])  # one round: it says so
    assert set(report["stamp"]) == {"commit", "date", "machine"}
    for port in report["redis_ports"] + report["gunicorn_ports"]:
        assert not is_listening(port)  # every contestant and its Redis are gone


def test_bench_http_markdown_is_stamped():
    from lab.bench.tables import http_markdown

    report = {
        "stamp": {"commit": "abc1234", "date": "2026-01-01 00:00 UTC", "machine": "2 cores"},
        "settings": {"path": "GET /auth/me", "rounds": 3, "seconds_per_run": 5,
                     "gunicorn": "-k gthread", "wrk": "-t2 -c32"},
        "contestants": [],
        "targets": [
            {"target": "t", "measured": 0.5, "goal": 0.56, "met": False,
             "measured_by_cpu": 0.6, "goal_by_cpu": 0.56, "met_by_cpu": True}
        ],
        "trust": [],
    }  # fmt: skip
    text = http_markdown(report, "python -m lab bench --http --markdown")
    assert "`python -m lab bench --http --markdown` at commit abc1234" in text
    assert "NOT met" in text


def test_wrk_report_is_read_with_errors_counted():
    from lab.bench.wrk import parse_wrk

    run = parse_wrk(WRK_SAMPLE)
    assert (run.rps, run.p50_ms, run.p99_ms, run.requests) == (3043.18, 10.21, 1200.0, 15234)
    assert run.errors == 12 + 3  # non-2xx answers and socket errors both spoil a run


WRK_SAMPLE = """Running 5s test @ http://127.0.0.1:8000/auth/me
  2 threads and 32 connections
  Latency Distribution
     50%   10.21ms
     75%   11.00ms
     90%  850.00us
     99%    1.20s
  15234 requests in 5.00s, 3.01MB read
  Socket errors: connect 0, read 1, write 0, timeout 2
  Non-2xx or 3xx responses: 12
Requests/sec:   3043.18
"""


def test_bench_memory_reports_bytes_per_session_with_the_index():
    report = run_bench("--memory", "--sessions", "300")
    names = [r["name"] for r in report["results"]]
    assert names[0] == "session server" and names[-1].startswith("usual stack")
    shared, distinct = report["results"][0], report["results"][1]
    # 300 sessions of 300 users: one record each, the indexes and one User-Agent string.
    assert shared["redis_keys"] < 300 + 300
    assert distinct["redis_keys"] > shared["redis_keys"]  # a User-Agent string per session
    assert 0 < shared["bytes_per_session"] < distinct["bytes_per_session"]
    assert report["target_met"] == (shared["bytes_per_session"] <= 300)


def test_bench_profile_shows_where_auth_me_spends_its_time():
    report = run_bench("--profile", "--calls", "50")
    names = [row["name"] for row in report["results"]]
    assert names == ["session server", SESSION_LIMIT, "jwt stateless", JWT_LIMIT, "jwt denylist"]
    for row in report["results"]:
        assert row["cpu_us_per_request"] > 0
        if row["name"] not in (SESSION_LIMIT, JWT_LIMIT):  # the minimal apps have no backend
            assert "authenticate" in row["profile"]  # the auth check is in the picture, by name
