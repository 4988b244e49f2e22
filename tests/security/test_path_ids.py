"""Class 2: a path id the database cannot hold is a 404 from the router, on SQLite and on
PostgreSQL, never an overflow inside the driver."""

import pytest

from servers.core.models import MAX_ID
from servers.session_server import create_app
from tests.support.settings import base_config

#: Ids no row can have: beyond 32 and 64 bits, zero, negative, absurdly long.
BAD_IDS = [str(MAX_ID + 1), str(2**63), str(2**64 + 1), "9" * 40, "0", "-1", "1e3", "0x10"]


@pytest.fixture(params=["sqlite", "postgres"])
def admin(request, redis_server, sqlite_url):
    """An administrator's client on a server backed by SQLite or PostgreSQL."""
    url = sqlite_url if request.param == "sqlite" else request.getfixturevalue("empty_postgres_url")
    app = create_app(base_config(redis_server.url, url))
    client = app.test_client()
    response = client.post(
        "/auth/login", json={"email": "admin@example.com", "password": "admin-password-123"}
    )
    assert response.status_code == 200, response.get_json()
    return client


@pytest.mark.parametrize("user_id", BAD_IDS)
def test_ids_out_of_range_are_404(admin, user_id):
    response = admin.post(f"/admin/users/{user_id}/revoke")
    assert response.status_code == 404, response.get_data(as_text=True)
    assert response.get_json()["error"] == "not_found"


def test_the_largest_id_reaches_the_database_and_is_simply_absent(admin):
    response = admin.post(f"/admin/users/{MAX_ID}/revoke")
    assert response.status_code == 404
    assert str(MAX_ID) in response.get_json()["message"]  # the view ran: SQL was asked


def test_the_user_service_refuses_ids_no_row_can_have(admin):
    users = admin.application.extensions["authlab_users"]
    for user_id in (0, -5, MAX_ID + 1, 2**64):
        assert users.get(user_id) is None
