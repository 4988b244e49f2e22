"""The `admin` blueprint: an administrator ends every credential of a user."""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify

from .errors import ApiError
from .http import backend, login_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.post("/users/<int:user_id>/revoke")
@login_required
def revoke_user(user_id: int):
    """Revoke all of a user's credentials. The admin role is re-read from SQL: a privilege
    check should not trust a role frozen into a session or token that may be hours old."""
    users = current_app.extensions["authlab_users"]
    caller = users.get(g.principal.user_id)
    if caller is None or caller["role"] != "admin":
        raise ApiError(403, "forbidden", "Only an administrator may revoke another user.")
    if users.get(user_id) is None:
        raise ApiError(404, "not_found", f"There is no user {user_id}.")
    revocation = backend().revoke_user(user_id)
    return jsonify(user_id=user_id, **revocation.to_json())
