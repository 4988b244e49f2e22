"""Notes: a small protected resource, per user."""

from tests.support.contract import assert_matches


def test_notes_belong_to_their_author(auth):
    ada = auth.user_client("ada@example.com")
    bob = auth.user_client("bob@example.com")
    response = ada.post("/notes", json={"text": "remember the milk"})
    assert response.status_code == 201
    assert assert_matches(response, "/notes", "post")["note"]["text"] == "remember the milk"
    response = ada.get("/notes")
    assert [n["text"] for n in assert_matches(response, "/notes", "get")["notes"]] == [
        "remember the milk"
    ]
    assert bob.get("/notes").get_json()["notes"] == []


def test_notes_require_login(client):
    assert client.get("/notes").status_code == 401
    assert client.post("/notes", json={"text": "x"}).status_code == 401


def test_notes_validate_input(auth):
    client = auth.user_client()
    assert client.post("/notes", json={"text": ""}).status_code == 400
    assert client.post("/notes", json={"text": "x" * 2001}).status_code == 400
    assert client.post("/notes", json={"txt": "x"}).status_code == 400
