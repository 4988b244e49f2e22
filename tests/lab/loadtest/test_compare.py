"""The comparison's arithmetic and the saturation verdict, without a lab."""

from __future__ import annotations

import pytest

from lab import Lab
from lab.loadtest import watch
from lab.loadtest.compare import markdown, order, per_server, ratios, stamp


def row(trial: int, server: str, rps: float, p95: float, failures: int = 0) -> dict:
    return {"trial": trial, "server": server, "rps": rps, "p50_ms": p95 / 2, "p95_ms": p95,
            "p99_ms": p95 * 2, "failures": failures, "trustworthy": not failures,
            "saturation": "servers saturated"}  # fmt: skip


ROWS = [
    row(1, "session", 100, 40), row(1, "jwt", 120, 30),
    row(2, "jwt", 110, 30, failures=2), row(2, "session", 100, 50),
    row(3, "session", 80, 40), row(3, "jwt", 120, 40),
]  # fmt: skip


def test_trials_alternate_which_server_goes_first():
    assert order(1) == ("session", "jwt") and order(2) == ("jwt", "session")


def test_ratio_per_trial_with_median_and_spread():
    rps = ratios(ROWS)["rps"]
    assert rps["per_trial"] == [1.2, 1.1, 1.5]
    assert (rps["median"], rps["min"], rps["max"]) == (1.2, 1.1, 1.5)
    assert ratios(ROWS)["p95_ms"]["per_trial"] == [0.75, 0.6, 1.0]


def test_per_server_medians_and_failures():
    table = per_server(ROWS)
    assert table["session"]["rps"] == 100 and table["jwt"]["rps"] == 120
    assert table["jwt"]["failures"] == 2 and not table["jwt"]["all_trustworthy"]
    text = markdown({"servers": table, "ratios": ratios(ROWS), "run": stamp("cmd")})
    assert "| jwt | 3 | 120 |" in text and "median 1.2" in text and "`cmd`" in text


@pytest.mark.parametrize(
    ("replicas", "locust", "busiest", "machine", "expected"),
    [
        ({"jwt-1": 95.0, "jwt-2": 90.0}, 20.0, 20.0, 60.0, "servers saturated"),
        ({"jwt-1": 30.0}, 98.0, 98.0, 70.0, "load generator saturated"),
        ({"jwt-1": 10.0}, 10.0, 10.0, 30.0, "neither saturated"),
        ({"jwt-1": 5.0}, 5.0, 5.0, 99.0, "neither saturated (machine busy with other work)"),
    ],
)
def test_who_saturated(tmp_path, monkeypatch, replicas, locust, busiest, machine, expected):
    monkeypatch.setattr(watch.psutil, "cpu_count", lambda: 2)
    said = watch.verdict(replicas, locust, busiest, machine, Lab(state_dir=tmp_path))
    assert said["verdict"] == expected
    assert said["reasons"] or expected == "neither saturated"
