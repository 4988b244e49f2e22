"""Class 8 on one app: OPTIONS answers JSON naming exactly the documented methods, and no CORS
header lets another origin's preflight through."""

from tests.support.contract import OPENAPI


def test_options_names_the_methods_of_every_documented_path(app, client):
    served = client.get("/openapi.json").get_json()["paths"]
    for path, operations in served.items():
        url = path.replace("{id}", "1")
        response = client.options(url, headers={"Origin": "https://evil.example"})
        assert response.status_code == 200 and response.is_json, path
        allowed = set(response.get_json()["allow"])
        assert (
            {m.upper() for m in operations}
            <= allowed
            <= {m.upper() for m in operations}
            | {
                "HEAD",
                "OPTIONS",
            }
        )
        assert response.headers["Allow"] == ", ".join(sorted(allowed))
        assert "Access-Control-Allow-Origin" not in response.headers
    assert set(served) <= set(OPENAPI["paths"])
