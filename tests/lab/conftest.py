"""Fixtures for the lab tests: one real lab (Redis, 3 + 3 gunicorn replicas, HAProxy) per run.

Starting a lab costs seconds, so the whole run shares one, in a private state directory (never
the user's `.lab/`). Each test asks for the configuration it needs through `lab_as`; `up` only
restarts what differs, and restarts anything an earlier test left stopped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from lab import Lab
from tests.support import shared_lab as shared_experiment_lab

#: What every lab test starts from unless it says otherwise.
BASELINE: dict[str, Any] = {
    "replicas": 3,
    "lb_policy": "roundrobin",
    "session_store": "redis",
    "jwt_mode": "stateless",
    "algorithm": "HS256",
    # A test that raises these (a busy replica's bcrypt cost, its threads) must not leave them.
    "bcrypt_rounds": 4,
    "threads": 4,
}


@pytest.fixture(scope="session")
def shared_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """The run's lab, stopped (and checked to leave nothing listening) at the end."""
    lab = Lab(**BASELINE, state_dir=tmp_path_factory.mktemp("lab"), timeout=60)
    with lab:
        yield lab


@pytest.fixture
def lab_as(shared_lab: Lab) -> Callable[..., Lab]:
    """Reconfigure the shared lab: the baseline plus what the test asks for."""

    def configure(**changes: Any) -> Lab:
        shared_lab.reconfigure(**{**BASELINE, **changes})
        return shared_lab

    return configure


@pytest.fixture
def lab(lab_as: Callable[..., Lab]) -> Lab:
    """The shared lab in its baseline configuration, every process running."""
    return lab_as()


@pytest.fixture(scope="session")
def experiment_lab() -> Iterator[Lab]:
    """The lab shared with the notebook tests (AUTHLAB_EXPERIMENT_LAB points at it)."""
    lab = shared_experiment_lab.acquire()
    yield lab
    shared_experiment_lab.release()
