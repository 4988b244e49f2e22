"""The report's words: each section's question, and how to read its plot, built from the run.

Every builder takes the report's results dict and returns sentences (a list of strings, empty
when the section did not run); the template prints them, nothing else. Nothing here knows what
the answer "should" be: a number in a sentence is a number this run measured, or a default read
from its one declaration (servers/core/config.py, and the JWT server's per-mode lifetime), so a
window measured with quick-scale tokens is also said at the lifetimes a deployment gets.

The builders live in modules by section (text_credentials, text_operations, text_binding);
this one gathers them for the template and for summary.json.
"""

from __future__ import annotations

from .text_binding import binding_question, binding_reading, binding_verdict
from .text_common import default_access_ttl, default_leeway, lifetime
from .text_credentials import (
    anatomy_question,
    anatomy_reading,
    refresh_question,
    refresh_reading,
    revocation_question,
    revocation_reading,
    stolen_question,
    stolen_reading,
    tradeoff_reading,
)
from .text_operations import (
    distance_question,
    distance_reading,
    failover_question,
    failover_reading,
    failures_question,
    failures_reading,
    memory_store_question,
    memory_store_reading,
    scaling_question,
    scaling_reading,
)

__all__ = ["BUILDERS", "default_access_ttl", "default_leeway", "lifetime"]

BUILDERS = {
    fn.__name__: fn
    for fn in (
        anatomy_question, anatomy_reading,
        revocation_question, revocation_reading, tradeoff_reading,
        stolen_question, stolen_reading,
        refresh_question, refresh_reading,
        memory_store_question, memory_store_reading,
        failures_question, failures_reading,
        scaling_question, scaling_reading,
        distance_question, distance_reading,
        failover_question, failover_reading,
        binding_question, binding_reading, binding_verdict,
    )
}  # fmt: skip
