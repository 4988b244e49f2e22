"""The experiments' pure parts, without a lab: statistics, decoding, binning, sentences."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from lab.experiments import decode_jwt, error_series, get_scale, percentile, table
from lab.experiments.load import Sample, replica_series, summarize
from lab.experiments.revocation import SETTLE, watch_for
from lab.experiments.summary import revocation_sentence


def sample(t: float, status: int = 200, replica: str = "s-1", target: str = "session") -> Sample:
    return Sample(t=t, ms=1.0, status=status, replica=replica, store=1, auth_ms=0.2, target=target)


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [([], 95, None), ([5.0], 95, 5.0), (list(range(1, 101)), 95, 95), ([3, 1, 2], 50, 2)],
)
def test_percentile_nearest_rank(values, q, expected):
    assert percentile(values, q) == expected


def test_decode_jwt_needs_no_key():
    def part(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    token = f"{part({'alg': 'HS256'})}.{part({'email': 'ada@example.com'})}.{part({'x': 1})}"
    decoded = decode_jwt(token)
    assert decoded["header"] == {"alg": "HS256"}
    assert decoded["payload"]["email"] == "ada@example.com"
    assert decoded["token_bytes"] == len(token)


def test_error_series_bins_by_target():
    samples = [
        sample(0.1),
        sample(0.2, 503),
        sample(0.3, 0),
        sample(0.6),
        sample(0.1, target="jwt"),
    ]
    rows = error_series(samples, bin_seconds=0.5)
    session = [r for r in rows if r["target"] == "session"]
    assert [(r["t"], r["requests"], r["errors"]) for r in session] == [(0.0, 3, 2), (0.5, 1, 0)]
    assert [r["error_rate"] for r in rows if r["target"] == "jwt"] == [0.0]


def test_replica_series_reports_silent_bins_as_zero():
    samples = [sample(0.1, replica="s-1"), sample(0.1, replica="s-2"), sample(1.1, replica="s-2")]
    rows = replica_series(samples, bin_seconds=0.5)
    s1 = [(r["t"], r["answers"]) for r in rows if r["replica"] == "s-1"]
    assert s1 == [(0.0, 1), (0.5, 0), (1.0, 0)], "a dead replica shows as zero, not as a gap"


def test_summarize_counts_only_successes_in_latency():
    samples = [sample(0.1), sample(0.2, 401), sample(0.3)]
    result = summarize(samples, seconds=1.0)
    assert result["requests"] == 3 and result["ok"] == 2 and result["errors"] == 1
    assert result["rps"] == 2.0
    assert result["store_round_trips"] == 1


def test_watch_for_believes_the_api():
    assert watch_for(None, 30) == SETTLE
    soon = (datetime.now(UTC) + timedelta(seconds=3)).isoformat()
    assert 3.5 <= watch_for(soon, 30) <= 4.1
    far = (datetime.now(UTC) + timedelta(minutes=15)).isoformat()
    assert watch_for(far, 30) == 30


def test_revocation_sentence_is_built_from_measurements():
    windows = [
        {"config": "x", "action": "logout", "window_s": 0.0, "still_valid": False},
        {"config": "x", "action": "revoke", "window_s": 2.5, "still_valid": False},
        {
            "config": "x",
            "action": "password",
            "window_s": 1.5,
            "still_valid": True,
            "observe_s": 1.5,
            "acted_on": "s-1",
        },
    ]
    text = revocation_sentence("x", windows, {"store_round_trips": 1.0, "p95_ms": 4.2})
    assert "after logout the copy was refused at once" in text
    assert "after revoke it kept working 2.5 s" in text
    assert "after password it still worked" in text
    assert "1 store round trip" in text


def test_table_renders_html_and_text():
    shown = table([{"a": 1.23456, "b": None, "c": [1, 2]}])
    assert "<td>1.235</td>" in shown._repr_html_()
    assert "1.235" in repr(shown) and "1, 2" in repr(shown)


def test_scale_from_environment(monkeypatch):
    monkeypatch.setenv("AUTHLAB_SCALE", "full")
    assert get_scale().name == "full"
    assert get_scale("quick").name == "quick"
    monkeypatch.setenv("AUTHLAB_SCALE", "huge")
    with pytest.raises(ValueError, match="AUTHLAB_SCALE"):
        get_scale()


def test_a_password_request_put_off_by_a_busy_replica_is_sent_again():
    """503 hashing_busy with Retry-After: the experiments' clients wait and retry (politely);
    any other answer, a 429 or a refusal, is theirs to read at once."""
    import requests

    from lab.experiments.actors import politely

    def answer(status: int, body: bytes, retry_after: str | None = None) -> requests.Response:
        response = requests.Response()
        response.status_code, response._content = status, body  # noqa: SLF001
        if retry_after:
            response.headers["Retry-After"] = retry_after
        return response

    queue = [answer(503, b'{"error":"hashing_busy"}', "0.05"), answer(200, b"{}")]
    assert politely(lambda: queue.pop(0)).status_code == 200 and queue == []
    queue = [answer(503, b'{"error":"store_unavailable"}', "1"), answer(200, b"{}")]
    assert politely(lambda: queue.pop(0)).status_code == 503  # not a busy hasher: no retry
