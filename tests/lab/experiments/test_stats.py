"""Effects against noise: a difference the trials' spread covers is never called one."""

from __future__ import annotations

from lab.experiments.stats import median_difference, say_difference


def test_a_difference_that_the_noise_covers_is_not_distinguishable():
    effect = median_difference([5.27, 4.1, 6.0], [4.99, 5.9, 4.3])
    assert not effect["distinguishable"] and effect["low"] < 0 < effect["high"]
    assert say_difference(effect, "ms").endswith("not distinguishable at this noise")
    clear = median_difference([0.20, 0.21, 0.22], [1.20, 1.22, 1.25])
    assert clear["distinguishable"] and clear["low"] > 0.9
    assert not median_difference([1.0], [9.0])["distinguishable"], "one trial has no spread"
