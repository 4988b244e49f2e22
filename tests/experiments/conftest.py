"""Fixtures for the experiment, report and demo tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lab import Lab
from tests.support import shared_lab


@pytest.fixture(scope="session")
def experiment_lab() -> Iterator[Lab]:
    """The lab shared with the notebook tests (AUTHLAB_EXPERIMENT_LAB points at it)."""
    lab = shared_lab.acquire()
    yield lab
    shared_lab.release()
