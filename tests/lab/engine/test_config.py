"""The lab's settings follow the servers' own: same choices, same defaults, same names.

(These lived in tests/core/test_config.py; they import the lab, which the servers' tests must not.)
"""

import pytest

from lab.engine.state import LabConfig, LabError
from servers.core.config import Settings


def test_the_lab_refuses_a_misspelt_server_setting_before_starting_anything():
    with pytest.raises(LabError, match="SESSION_IDLE_TIMOUT is no server setting: did you mean"):
        LabConfig(env={"SESSION_IDLE_TIMEOUT": "2", "SESSION_IDLE_TIMOUT": "2"}).validate()


def test_the_lab_offers_exactly_the_servers_choices_and_defaults():
    assert LabConfig().session_store == Settings().session_store
    assert (LabConfig().jwt_mode, LabConfig().algorithm) == (Settings().jwt_mode, "HS256")
    assert LabConfig().bcrypt_rounds == Settings().bcrypt_rounds
