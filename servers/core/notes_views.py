"""The `notes` blueprint: a small protected resource in SQL, so load looks like a real app."""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify

from .http import json_body, login_required

bp = Blueprint("notes", __name__, url_prefix="/notes")


@bp.get("")
@login_required
def list_notes():
    """The caller's newest notes."""
    notes = current_app.extensions["authlab_users"].list_notes(g.principal.user_id)
    return jsonify(notes=notes)


@bp.post("")
@login_required
def add_note():
    """Add a note for the caller."""
    body = json_body("text")
    note = current_app.extensions["authlab_users"].add_note(g.principal.user_id, body["text"])
    return jsonify(note=note), 201
