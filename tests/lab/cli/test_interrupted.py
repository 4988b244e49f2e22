"""A command stopped by SIGTERM (a CI timeout, `kill`, a closed terminal) stops what it started.

`python -m lab` turns SIGTERM into the interrupt Ctrl-C sends, so every command's own cleanup
runs: here `bench --memory`, killed while one of its private redis-servers holds sessions.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import psutil

from lab.cli.dispatch import INTERRUPTED
from lab.engine.state import REPO_ROOT


def redis_children(parent: psutil.Process) -> list[psutil.Process]:
    """The redis-servers the command runs now."""
    try:
        return [p for p in parent.children(recursive=True) if p.name() == "redis-server"]
    except psutil.NoSuchProcess:
        return []


def test_sigterm_stops_what_the_command_started(tmp_path):
    """SIGTERM as soon as the bench's redis-server exists: most often while the bench still
    waits for it to answer, the moment a process is the easiest to lose."""
    command = [sys.executable, "-m", "lab", "bench", "--memory", "--sessions", "1000000"]
    # Files, not pipes: a leaked child holding a pipe would hang the test instead of failing it.
    errors = tmp_path / "stderr"
    with errors.open("wb") as sink:
        bench = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=sink)
    try:
        parent = psutil.Process(bench.pid)
        deadline = time.monotonic() + 60
        started: list[psutil.Process] = []
        while not started and time.monotonic() < deadline and bench.poll() is None:
            started = redis_children(parent)
            time.sleep(0.1)
        assert started, "the bench started a redis-server of its own"
        bench.send_signal(signal.SIGTERM)
        bench.wait(timeout=30)
    finally:
        if bench.poll() is None:
            bench.kill()
    err = errors.read_bytes()
    assert bench.returncode == INTERRUPTED, err.decode()
    assert b"interrupted" in err and b"Traceback" not in err
    _, alive = psutil.wait_procs(started, timeout=5)
    assert alive == [], "no redis-server of the bench outlives it"
