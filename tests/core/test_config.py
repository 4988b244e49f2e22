"""Settings come from the environment, with overrides for tests, and unsafe ones are refused."""

import pytest

from servers.core.config import (
    GROUPS,
    REPO_ROOT,
    ConfigError,
    declared,
    load_settings,
)
from servers.core.setting import env_name
from servers.core.settings_docs import env_example, markdown_table

SECRET = "s" * 40


def test_environment_is_read_and_parsed():
    settings = load_settings(
        {
            "SECRET_KEY": f"{SECRET}, {'t' * 40}",
            "BCRYPT_ROUNDS": "5",
            "COOKIE_SECURE": "true",
            "SESSION_STORE": "memory",
        }
    )
    assert settings.secret_keys == (SECRET, "t" * 40)
    assert settings.secret_key == SECRET  # the first signs
    assert (settings.bcrypt_rounds, settings.cookie_secure) == (5, True)
    assert settings.session_store == "memory"


def test_overrides_win_over_the_environment():
    settings = load_settings({"SECRET_KEY": SECRET, "BCRYPT_ROUNDS": "10"}, {"bcrypt_rounds": 4})
    assert settings.bcrypt_rounds == 4


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "SECRET_KEY is not set"),
        ({"SECRET_KEY": "short"}, "at least 32"),
        ({"SECRET_KEY": f"{SECRET},short"}, "at least 32"),
        ({"SECRET_KEY": SECRET, "SESSION_STORE": "disk"}, "SESSION_STORE"),
        ({"SECRET_KEY": SECRET, "JWT_MODE": "magic"}, "JWT_MODE"),
        ({"SECRET_KEY": SECRET, "BCRYPT_ROUNDS": "2"}, "BCRYPT_ROUNDS"),
        ({"SECRET_KEY": SECRET, "BCRYPT_ROUNDS": "many"}, "BCRYPT_ROUNDS"),
    ],
)
def test_unsafe_or_invalid_settings_refuse_to_start(env, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(env)


def test_a_misspelt_override_is_an_error_that_names_the_setting():
    with pytest.raises(ConfigError, match="did you mean 'session_idle_timeout'"):
        load_settings({"SECRET_KEY": SECRET}, {"session_idle_timout": 2})


def test_a_misspelt_variable_in_our_namespace_is_an_error_that_names_the_setting():
    with pytest.raises(ConfigError, match="SESSION_IDLE_TIMOUT: did you mean SESSION_IDLE_TIMEOUT"):
        load_settings({"SECRET_KEY": SECRET, "SESSION_IDLE_TIMOUT": "2"})


def test_other_programs_variables_are_left_alone():
    # SESSION_MANAGER is set by desktop sessions, REDIS_HOST by other tools: not typos of ours.
    env = {"SECRET_KEY": SECRET, "SESSION_MANAGER": "local/host", "REDIS_HOST": "db"}
    assert load_settings(env).session_idle_timeout == 1800


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"JWT_ALGORITHM": "none"}, "JWT_ALGORITHM must be one of HS256, RS256, EdDSA"),
        ({"SESSION_IDLE_TIMEOUT": "0"}, "SESSION_IDLE_TIMEOUT must be at least 1"),
        ({"JWT_LEEWAY": "301"}, "JWT_LEEWAY must be between 0 and 300"),
        ({"COOKIE_SECURE": "maybe"}, "COOKIE_SECURE='maybe' is not valid"),
    ],
)
def test_declared_choices_and_ranges_are_enforced(env, message):
    with pytest.raises(ConfigError, match=message):
        load_settings({"SECRET_KEY": SECRET, **env})


def test_every_setting_has_help_and_a_unique_variable():
    names = [env_name(f) for f in declared()]
    assert len(names) == len(set(names))
    assert all(f.metadata["help"] and f.metadata["group"] in GROUPS for f in declared())


def test_env_example_is_printed_from_the_declarations():
    # If this fails: python -m servers.core.settings_docs --env-example > .env.example
    assert (REPO_ROOT / ".env.example").read_text() == env_example()


def test_the_documented_settings_table_is_printed_from_the_declarations():
    # If this fails: paste `python -m servers.core.settings_docs --markdown` into the doc.
    doc = (REPO_ROOT / "docs" / "configuration.md").read_text()
    assert markdown_table() in doc
