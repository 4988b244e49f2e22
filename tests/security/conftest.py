"""The security suites reuse the contract's fixtures: every server and JWT mode, real Redis/SQL."""

from tests.contract.conftest import app, auth, client, server  # noqa: F401 (pytest fixtures)
