"""Schemathesis (an outside tool) against a real gunicorn of every server and JWT mode, logged in:
no server error, no status, header or schema the contract does not document.

The run is bounded (a fixed seed, a few examples per operation) so it stays a test, not a soak.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.security.served import ADMIN, REPO, SERVERS, cookie_name, gunicorn

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
CONFIG = Path(__file__).with_name("schemathesis.toml")

#: Reproducible and bounded: the same cases every run, a few per operation.
RUN_OPTIONS = ["--seed", "20261201", "--max-examples", "10", "--workers", "1"]


@pytest.fixture(params=[s[0] for s in SERVERS])
def served(request, redis_server, tmp_path) -> Iterator[tuple[str, str]]:
    """One gunicorn of this configuration: (base URL, credential cookie name)."""
    with gunicorn(request.param, redis_server.url, tmp_path) as url:
        yield url, cookie_name(request.param)


def test_schemathesis_finds_no_failure(served, tmp_path):
    url, cookie = served
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "SCHEMATHESIS_HOOKS": "tests.security.schemathesis_hooks",
        "AUTHLAB_ST_URL": url,
        "AUTHLAB_ST_EMAIL": ADMIN["email"],
        "AUTHLAB_ST_PASSWORD": ADMIN["password"],
        "AUTHLAB_ST_COOKIE": cookie,
    }
    argv = [str(SCHEMATHESIS), "--config-file", str(CONFIG), "run", f"{url}/openapi.json",
            "--checks", "all", *RUN_OPTIONS, "--generation-database", "none", "--no-color",
            "--report", "har", "--report-har-path", str(tmp_path / "run.har")]  # fmt: skip
    result = subprocess.run(
        argv, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False
    )
    (tmp_path / "schemathesis.txt").write_text(result.stdout + result.stderr)
    print(result.stdout[-4000:])
    assert result.returncode == 0, result.stdout[-12000:] + result.stderr[-2000:]
    # And the run really was logged in: protected operations answered 200, not only 401.
    answered = ok_answers(tmp_path / "run.har")
    assert {("GET", "/auth/me"), ("GET", "/notes"), ("POST", "/notes")} <= answered


def ok_answers(har: Path) -> set[tuple[str, str]]:
    """(method, path) of every 2xx answer recorded in schemathesis's HAR report."""
    entries = json.loads(har.read_text())["log"]["entries"]
    return {
        (e["request"]["method"], urlsplit(e["request"]["url"]).path)
        for e in entries
        if 200 <= e["response"]["status"] < 300
    }
