"""The comparison's arithmetic and the saturation verdict, without a lab."""

from __future__ import annotations

import pytest

from lab import Lab
from lab.engine import configuration
from lab.loadtest import watch
from lab.loadtest.command import build_parser
from lab.loadtest.compare import command_of, markdown, order, per_server, ratios, stamp, verdict


def row(trial: int, server: str, rps: float, p95: float, failures: int = 0) -> dict:
    return {"trial": trial, "server": server, "rps": rps, "p50_ms": p95 / 2, "p95_ms": p95,
            "p99_ms": p95 * 2, "failures": failures, "trustworthy": not failures,
            "untrustworthy_because": [f"{failures} failures"] if failures else [],
            "saturation": "servers saturated"}  # fmt: skip


ROWS = [
    row(1, "session", 100, 40), row(1, "jwt", 120, 30),
    row(2, "jwt", 110, 30, failures=2), row(2, "session", 100, 50),
    row(3, "session", 80, 40), row(3, "jwt", 120, 40),
]  # fmt: skip


def test_trials_alternate_which_server_goes_first():
    assert order(1) == ("session", "jwt") and order(2) == ("jwt", "session")


def test_ratio_per_trial_leaves_out_untrustworthy_trials():
    rps = ratios(ROWS)["rps"]
    assert rps["per_trial"] == [1.2, 1.5]  # trial 2's jwt run failed: no ratio from it
    assert (rps["median"], rps["min"], rps["max"]) == (1.35, 1.2, 1.5)
    assert ratios(ROWS)["p95_ms"]["per_trial"] == [0.75, 1.0]


def test_per_server_medians_over_trustworthy_runs_and_the_verdict_says_so():
    table = per_server(ROWS)
    assert table["session"]["rps"] == 100 and table["jwt"]["rps"] == 120
    assert table["jwt"]["failures"] == 2 and not table["jwt"]["all_trustworthy"]
    assert table["jwt"]["trustworthy_trials"] == 2
    comparison = {"servers": table, "ratios": ratios(ROWS), "run": stamp("cmd"),
                  "verdict": verdict(ROWS), "measured": "jwt refresh mode"}  # fmt: skip
    text = markdown(comparison)
    assert "| jwt | 3 (2) | 120 |" in text and "median 1.35" in text and "`cmd`" in text
    assert "1 of 6 runs were NOT trustworthy and are left out" in text
    assert "trial 2 jwt: 2 failures" in text and "Measured: jwt refresh mode." in text


def test_no_trustworthy_pair_means_no_verdict():
    rows = [row(1, "session", 100, 40, failures=1), row(1, "jwt", 120, 30),
            row(2, "jwt", 110, 30, failures=2), row(2, "session", 100, 50)]  # fmt: skip
    judged = verdict(rows)
    assert not judged["trustworthy"] and judged["line"].startswith("NO VERDICT")
    assert ratios(rows)["rps"]["median"] is None


def test_the_recorded_command_is_the_one_typed():
    argv = ["browse", "--server", "both", "--trials", "3", "-u", "40", "--think-time", "0"]
    args = build_parser().parse_args(argv)
    args.argv = argv
    assert command_of(args) == "python -m lab loadtest " + " ".join(argv)
    del args.argv  # an args built elsewhere still records --think-time
    assert "--think-time 0" in command_of(args)


def test_the_configuration_is_named():
    settings = {"replicas": 3, "lb_policy": "roundrobin", "session_store": "redis",
                "jwt_mode": "refresh", "access_ttl": 30, "algorithm": "HS256", "workers": 1,
                "threads": 4, "bcrypt_rounds": 4, "redis_topology": "single",
                "store_latency": "off", "replication_lag": "off", "env": {}}  # fmt: skip
    said = configuration.describe(settings, "jwt")
    assert said.startswith("jwt refresh mode, HS256, access tokens 30 s; 3 replicas")
    assert "bcrypt cost 4" in said and "Redis single" in said and "session" not in said


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
