"""Every scenario for a few seconds against a real lab, through `python -m lab loadtest`.

One lab (2 replicas of each server, bcrypt cost 4) serves the whole module. Locust always runs
in its own process: `import locust` would patch this one with gevent. The JWT revocation test
runs late, because it shortens the lab's access-token lifetime (the runner restarts only the JWT
replicas for that), which the browse scenario's long-lived users would not survive; the bound
scenarios run last, because they leave the lab bound.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab import Lab
from lab.engine.state import REPO_ROOT
from servers.jwt_server.tokens import DEFAULT_LEEWAY

pytestmark = pytest.mark.lab

#: The access-token lifetime for the JWT revocation test (seconds): the window's upper bound.
SHORT_TTL = 2


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> Iterator[Lab]:
    """A private lab for the module (its own state directory, free ports, stopped at the end)."""
    state_dir = tmp_path_factory.mktemp("loadtest-lab")
    with Lab(replicas=2, bcrypt_rounds=4, state_dir=state_dir, timeout=60) as running:
        yield running


def run_runner(
    lab: Lab, results: Path, *args: str, timeout: float = 90
) -> subprocess.CompletedProcess:
    """`python -m lab loadtest ARGS` on the module's lab, as a user would type it."""
    command = [
        sys.executable,
        "-m",
        "lab",
        "--state-dir",
        str(lab.state_dir),
        "loadtest",
        *args,
        "--results",
        str(results),
        "--quiet",
    ]
    return subprocess.run(
        command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )


def loadtest(lab: Lab, tmp_path: Path, *args: str, timeout: float = 90) -> dict:
    """Run the runner; return its summary.json (and check the files exist)."""
    results = tmp_path / "results"
    done = run_runner(lab, results, *args, timeout=timeout)
    runs = list(results.glob("*")) if results.exists() else []
    assert len(runs) == 1, f"no results directory\n{done.stdout}\n{done.stderr}"
    run = runs[0]
    log = (run / "locust.log").read_text() if (run / "locust.log").exists() else ""
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}\n{log}"
    for name in ("summary.json", "report.html", "lab.json", "locust_stats.csv"):
        assert (run / name).exists(), name
    assert (run / "locust_stats_history.csv").stat().st_size > 0
    assert "secret" not in (run / "lab.json").read_text().lower()
    summary = json.loads((run / "summary.json").read_text())
    summary["_stdout"] = done.stdout
    return summary


def check_clean(summary: dict) -> None:
    """Requests were made, none failed, the rows add up, and the headline is the steady state."""
    assert summary["requests"] > 0
    assert summary["failures"] == 0, summary["endpoints"]
    assert summary["requests"] == sum(row["requests"] for row in summary["endpoints"])
    assert summary["steady_requests"] == summary["phases"]["steady"]["requests"] > 0
    assert summary["rps"] > 0
    for key in ("p50_ms", "p95_ms", "p99_ms"):
        assert summary[key] is not None and summary[key] >= 0
    assert isinstance(summary["locust_cpu_limit_hit"], bool)
    assert summary["lab"]["replicas"] == 2
    # Read from HAProxy: both replicas of the server stayed in rotation.
    replicas = {k: v for k, v in summary["rotation"].items() if k != "source"}
    assert len(replicas) == 2 and not any(v["left_rotation"] for v in replicas.values())
    assert summary["saturation"]["samples"] > 0 and summary["saturation"]["verdict"]


@pytest.mark.parametrize("server", ["session", "jwt"])
def test_browse(lab, tmp_path, server):
    """The steady state: log in once, read and write; every answer checked, none wrong."""
    summary = loadtest(lab, tmp_path, "browse", "--server", server, "-u", "4", "-t", "4s")
    check_clean(summary)
    rows = {(row["phase"], row["name"]) for row in summary["endpoints"]}
    assert {("setup", "/auth/register"), ("setup", "/auth/login")} <= rows
    assert {("steady", "/auth/me"), ("steady", "/notes")} <= rows
    assert not any(phase != "setup" and "/auth/" in name and "me" not in name
                   for phase, name in rows)  # fmt: skip
    assert summary["revocation"] is None
    assert "browse on" in summary["_stdout"]
    # Four seconds leave no steady window worth quoting: the run says so, in words.
    assert summary["trustworthy"] is False
    assert any("steady state lasted" in r for r in summary["untrustworthy_because"])
    assert "NOT trustworthy" in summary["_stdout"]


@pytest.mark.parametrize("server", ["session", "jwt"])
def test_login_storm(lab, tmp_path, server):
    """Register, log in, log out churn."""
    summary = loadtest(lab, tmp_path, "login-storm", "--server", server, "-u", "3", "-t", "4s")
    check_clean(summary)
    logins = [row for row in summary["endpoints"] if row["name"] == "/auth/login"]
    assert sum(row["requests"] for row in logins) > 3  # more than the first login of each user


@pytest.mark.parametrize("server", ["session", "jwt"])
def test_scaling_steps_through_its_stages(lab, tmp_path, server):
    """The step shape runs its stages and stops by itself (no -t)."""
    summary = loadtest(
        lab,
        tmp_path,
        "scaling",
        "--server",
        server,
        "--stage-users",
        "2,4",
        "--stage-seconds",
        "2",
    )
    check_clean(summary)
    assert summary["locust"]["users"] is None


def test_scaling_sweeps_replica_counts(lab, tmp_path):
    """`--sweep-replicas 1,2`: one run per replica count on the same lab, then the curves."""
    results = tmp_path / "results"
    done = run_runner(
        lab,
        results,
        "scaling",
        "--server",
        "jwt",
        "--sweep-replicas",
        "1,2",
        "--stage-users",
        "2,4",
        "--stage-seconds",
        "4",
        timeout=240,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    sweep = next(results.glob("*-sweep"))
    curves = json.loads((sweep / "curves.json").read_text())
    assert [c["replicas"] for c in curves] == [1, 2]
    for curve in curves:
        assert [p["users"] for p in curve["points"]] == [2, 4]
        assert all(p["rps"] > 0 and p["p95_ms"] > 0 for p in curve["points"])
        summary = json.loads((Path(curve["results"]) / "summary.json").read_text())
        assert summary["lab"]["replicas"] == curve["replicas"]
        assert summary["requests"] > 0 and summary["failures"] == 0
    assert (sweep / "curves.png").stat().st_size > 10_000
    assert len(Lab.attach(lab.state_dir).replicas("jwt")) == 2  # the module's lab, as it was


@pytest.mark.parametrize("action", ["logout", "password", "admin"])
def test_revocation_session_redis_is_immediate(lab, tmp_path, action):
    """Server-side sessions in Redis: the stolen cookie is refused at once, on every replica."""
    summary = loadtest(
        lab,
        tmp_path,
        "revocation",
        "--server",
        "session",
        "--action",
        action,
        "-u",
        "2",
        "-t",
        "3s",
    )
    check_clean(summary)
    revocation = summary["revocation"]
    assert revocation["samples"] > 0
    assert revocation["actions"] == [action]
    assert revocation["max_ms"] == 0
    assert revocation["server_said_not_revoked"] == 0
    assert revocation["max_past_valid_until_ms"] is None  # nobody was let in at all
    assert set(revocation["per_replica"]) == {"session-1", "session-2"}


def test_revocation_stateless_jwt_stays_open_until_expiry(lab, tmp_path):
    """Stateless JWT: logout revokes nothing; the copy works until the token expires."""
    summary = loadtest(
        lab,
        tmp_path,
        "revocation",
        "--server",
        "jwt",
        "--access-ttl",
        str(SHORT_TTL),
        "-u",
        "2",
        "-t",
        "3s",
    )
    check_clean(summary)
    assert summary["lab"]["access_ttl"] == SHORT_TTL
    revocation = summary["revocation"]
    assert revocation["samples"] > 0
    assert revocation["max_ms"] > 0
    # Bounded by the token's lifetime plus the server's clock-skew leeway (and scheduling).
    leeway = float(lab.config.env.get("JWT_LEEWAY", DEFAULT_LEEWAY))
    assert revocation["max_ms"] <= (SHORT_TTL + leeway + 1.5) * 1000
    # The server's `valid_until` was honest: nobody got in after it (beyond response transit).
    assert revocation["max_past_valid_until_ms"] <= 500
    assert revocation["server_said_not_revoked"] == revocation["samples"]
    assert set(revocation["per_replica"]) == {"jwt-1", "jwt-2"}
    assert all(v["max_ms"] > 0 for v in revocation["per_replica"].values())


def test_both_servers_compared_in_interleaved_trials(lab, tmp_path):
    """`--server both --trials 2`: four runs on one lab, one comparison with its ratios."""
    results = tmp_path / "results"
    # The server's default token lifetime (an earlier test may have left the lab at 2 s).
    done = run_runner(
        lab, results, "browse", "--server", "both", "--trials", "2", "-u", "2", "-t", "4s",
        "--access-ttl", "900", timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    (folder,) = results.glob("*-browse-compare")
    comparison = json.loads((folder / "comparison.json").read_text())
    runs = [(row["trial"], row["server"]) for row in comparison["trials"]]
    assert runs == [(1, "session"), (1, "jwt"), (2, "jwt"), (2, "session")]
    assert all(row["rps"] > 0 and row["failures"] == 0 for row in comparison["trials"])
    # Only trials trustworthy on both servers give a ratio (4 s runs rarely are: the verdict
    # must then say so rather than quote a ratio).
    trusted = {(r["trial"], r["server"]) for r in comparison["trials"] if r["trustworthy"]}
    pairs = [t for t in (1, 2) if {(t, "session"), (t, "jwt")} <= trusted]
    ratio = comparison["ratios"]["rps"]
    assert len(ratio["per_trial"]) == len(pairs)
    assert comparison["verdict"]["trustworthy"] == bool(pairs)
    if pairs:
        assert ratio["min"] <= ratio["median"] <= ratio["max"]
    assert set(comparison["servers"]) == {"session", "jwt"}
    assert (folder / "comparison.png").stat().st_size > 10_000
    text = (folder / "comparison.md").read_text()
    assert "| session | 2 (" in text and comparison["verdict"]["line"] in text
    # The configuration measured, and the command exactly as typed.
    assert text.startswith("Measured: session store redis; jwt ")
    assert (
        "browse --server both --trials 2 -u 2 -t 4s --access-ttl 900"
        in comparison["run"]["command"]
    )
    assert len([p for p in folder.iterdir() if p.is_dir()]) == 4


# Bound credentials (docs/binding.md): last, since they leave the module's lab bound.


def test_browse_with_dbsc_users_that_register_and_renew(lab, tmp_path):
    """The browse mix on a DBSC session server: each login registers a key, and the short
    cookie (2 s here) is renewed with it before it expires; no request fails."""
    summary = loadtest(
        lab, tmp_path, "browse", "--server", "session", "-u", "3", "-t", "4s",
        # Both bindings at once: one restart of both servers serves this test and the next.
        "--session-binding", "dbsc", "--jwt-binding", "dpop", "--env", "DBSC_COOKIE_TTL=2",
    )  # fmt: skip
    check_clean(summary)
    assert summary["lab"]["session_binding"] == "dbsc"
    rows = {(row["phase"], row["name"]): row["requests"] for row in summary["endpoints"]}
    assert rows[("setup", "/auth/dbsc/register")] == 3, "every user registered its key"
    renewed = [n for (phase, name), n in rows.items() if name == "/auth/dbsc/refresh"]
    challenged = [n for (phase, name), n in rows.items() if name.endswith("(challenge)")]
    assert sum(renewed) > 0 and sum(renewed) == sum(challenged), "a challenge per renewal"
    assert "session store redis, bound: dbsc" in summary["_stdout"]


def test_browse_with_dpop_users_that_sign_every_request(lab, tmp_path):
    """The browse mix on a DPoP JWT server: every request carries a fresh proof (a missing or
    replayed one would be a 401, a failure here)."""
    summary = loadtest(
        lab, tmp_path, "browse", "--server", "jwt", "-u", "3", "-t", "4s", "--jwt-binding", "dpop"
    )
    check_clean(summary)
    assert summary["lab"]["jwt_binding"] == "dpop"
    assert "bound: dpop" in summary["_stdout"]
    # A stolen copy has no window to measure there: the runner says so and runs nothing.
    refused = run_runner(lab, tmp_path / "refused", "revocation", "--server", "jwt")
    assert refused.returncode == 1 and "--jwt-binding dpop" in refused.stderr
