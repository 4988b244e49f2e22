"""A borrowed lab is put back as found: exactly the settings that changed, nothing else."""

from __future__ import annotations

from lab.attach import changed_since
from lab.engine.state import LabConfig


def test_putting_back_changes_exactly_what_was_changed():
    found = LabConfig()
    now = LabConfig(jwt_mode="refresh", access_ttl=30)
    assert changed_since(found, now) == {"jwt_mode": "stateless", "access_ttl": None}
    assert changed_since(found, found) == {}
