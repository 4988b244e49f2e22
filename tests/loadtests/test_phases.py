"""Every request lands in one phase row; the rows add up; the headline is the steady state."""

from __future__ import annotations

import json
from types import SimpleNamespace

from lab.loadtest.phases import percentile, summarise
from loadtests.phases import PhaseRecorder


def runner(users: int, target: int) -> SimpleNamespace:
    """What the recorder reads of Locust's runner."""
    return SimpleNamespace(user_count=users, target_user_count=target)


def test_setup_ramp_and_steady_are_told_apart():
    locust = runner(users=1, target=2)
    recorder = PhaseRecorder(locust)
    recorder.setup_started()
    recorder.on_request("POST", "/auth/login", 600, context={"phase": "setup"})
    recorder.setup_finished()
    recorder.on_request("GET", "/auth/me", 5, context={"phase": "run"})  # one user still to come
    locust.user_count = 2
    recorder.setup_started()
    recorder.on_request("GET", "/auth/me", 7, context={"phase": "run"})  # the second logs in
    recorder.setup_finished()
    recorder.on_request("GET", "/auth/me", 3, context={"phase": "run"})
    recorder.on_request("GET", "/notes", 4, exception=RuntimeError("boom"), context={})
    recorder.on_request("REVOCATION", "window:jwt-1", 1200, context={})  # a metric, not HTTP
    rows = {(r["phase"], r["name"]): r for r in recorder.to_json()["rows"]}
    assert rows[("setup", "/auth/login")]["requests"] == 1
    assert rows[("ramp", "/auth/me")]["requests"] == 2
    assert rows[("steady", "/auth/me")]["requests"] == 1
    assert rows[("steady", "/notes")]["errors"] == {"boom": 1}
    assert not any(name.startswith("window:") for _, name in rows)


def test_the_steady_window_closes_when_the_test_stops():
    recorder = PhaseRecorder(runner(users=1, target=1))
    recorder._update(now=100.0)  # every user is running its tasks
    recorder.stopped(now=112.5)
    recorder.on_request("GET", "/auth/me", 3, context={"phase": "run"})  # after the stop
    data = recorder.to_json(now=200.0)
    assert data["steady_windows"] == [(100.0, 112.5)]
    assert data["rows"][0]["phase"] == "ramp"


def test_processes_merge_and_requests_equal_the_sum_of_rows(tmp_path):
    for pid, times in ((1, {"10": 3, "20": 1}), (2, {"30": 4})):
        rows = [
            {"phase": "steady", "method": "GET", "name": "/auth/me",
             "requests": sum(times.values()), "failures": 0, "total_ms": 100.0, "max_ms": 31.0,
             "times": times, "errors": {}},
            {"phase": "setup", "method": "POST", "name": "/auth/login", "requests": 2,
             "failures": 1, "total_ms": 900.0, "max_ms": 500.0, "times": {"400": 1, "500": 1},
             "errors": {"expected 200, got 503": 1}},
        ]  # fmt: skip
        recording = {"pid": pid, "steady_windows": [[0.0, 10.0]], "rows": rows}
        (tmp_path / f"phases-{pid}.json").write_text(json.dumps(recording))
    summary = summarise(tmp_path)
    assert summary["processes"] == 2
    assert summary["requests"] == sum(r["requests"] for r in summary["rows"]) == 12
    steady = summary["phases"]["steady"]
    assert steady["requests"] == 8 and steady["rps"] == 0.8  # 8 requests over 10 s
    assert steady["p50_ms"] == 20 and steady["p95_ms"] == 30
    assert summary["phases"]["setup"]["failures"] == 2
    assert summary["errors"] == {"expected 200, got 503": 2}


def test_percentile_of_a_histogram():
    from collections import Counter

    times = Counter({1: 50, 2: 45, 100: 5})
    assert percentile(times, 0.5) == 1 and percentile(times, 0.95) == 2
    assert percentile(times, 0.99) == 100 and percentile(Counter(), 0.5) is None
