"""The security suites reuse the contract's fixtures: every server and JWT mode, real Redis/SQL."""

from tests.contract.conftest import (  # noqa: F401 (pytest fixtures)
    app,
    auth,
    client,
    pytest_generate_tests,
    server,
    store_proxy,
)
