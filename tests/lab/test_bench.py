"""`python -m lab bench`: every mechanism measured, and each backend's claimed round trips
match what went over the wire."""

import json
import subprocess
import sys

from lab.processes import is_listening
from lab.state import REPO_ROOT

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
