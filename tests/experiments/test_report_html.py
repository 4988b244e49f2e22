"""The report's page comes from a template and row builders: escaped, and only what was measured."""

from __future__ import annotations

from lab.report_html import fault_rows, render_html

RUN = {
    "generated": "2026-12-01T08:00:00+00:00",
    "scale": "quick",
    "replicas": 2,
    "access_ttl": 5,
    "cpus": 2,
    "python": "3.11",
    "commit": "abc1234",
    "duration_s": 3.0,
}


def test_page_escapes_what_it_shows_and_skips_what_was_not_run():
    results = {
        "errors": [{"experiment": "scaling", "error": "<boom>", "traceback": "Trace <x>"}],
        "failures": [{"fault": "redis", "phases": [{"phase": "during", "errors": 7}]}],
    }
    summary = {"run": RUN, "mechanisms": ["a <script>"], "headline": {"k": "<&>"}}
    page = render_html(results, summary, {"fault_redis": "data:image/png;base64,AAAA"})
    assert "<script>" not in page and "a &lt;script&gt;" in page
    assert "scaling failed:</b> &lt;boom&gt;" in page
    assert "6. Failures" in page and '<img src="data:image/png;base64,AAAA"' in page
    assert "<td>during</td><td>7</td>" in page
    assert "1. Anatomy" not in page and "7. Scaling" not in page
    assert "commit abc1234" in page


def test_fault_rows_name_their_fault():
    failures = [{"fault": "replica", "phases": [{"phase": "before"}, {"phase": "after"}]}]
    assert fault_rows(failures) == [
        {"fault": "replica", "phase": "before"},
        {"fault": "replica", "phase": "after"},
    ]
