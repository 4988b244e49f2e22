"""A captured DPoP proof replayed to every JWT replica of a real lab, per replay store."""

from __future__ import annotations

import pytest

from lab import Lab
from lab.experiments import binding_cost, binding_replay
from lab.experiments.binding_replay import accepted


def test_a_replay_gets_in_only_where_the_store_did_not_see_the_proof(experiment_lab: Lab):
    """Redis: no replica takes the copy. Memory: every replica but the one that answered the
    victim takes it, once, within the window. After the window: nobody, with either store."""
    before = experiment_lab.config
    rows = binding_replay.run(experiment_lab, binding_replay.MIN_WINDOW, say=lambda _: None)
    redis, memory = rows
    said = binding_replay.table(rows)
    assert (redis["store"], memory["store"]) == ("redis", "memory")
    assert redis["original_status"] == memory["original_status"] == 200, said
    assert accepted(redis["within"]) == accepted(redis["after"]) == [], said
    unseen = [name for name in memory["replicas"] if name != memory["original_replica"]]
    assert unseen and accepted(memory["within"]) == unseen, said
    assert accepted(memory["after"]) == [], said
    assert "already used" in binding_replay.refusals(memory), said
    assert f"| memory | {len(memory['replicas'])} |" in said
    # The lab as the test found it: the bindings and their environment put back.
    assert experiment_lab.config == before


def test_a_window_too_short_to_replay_in_is_refused_before_any_lab():
    with pytest.raises(SystemExit) as exit_:
        binding_cost.main(["--replay", "--proof-window", "1"])
    assert exit_.value.code == 2
