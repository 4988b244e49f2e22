"""Effects against noise: the difference between two configurations, with its interval.

One run of each configuration on a busy machine can put either ahead. So a comparison is made
of repeated trials, interleaved (A, B, A, B...) so that a change in the machine's load hits both
sides; the effect is the difference of the two medians, and its 95% interval is a percentile
bootstrap (resample each side's trials with replacement, 2,000 times, take the 2.5th and 97.5th
percentiles of the median difference). When the interval covers zero, the page says "not
distinguishable at this noise": that is a result too.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Sequence
from typing import Any

#: What the pages name as the method.
METHOD = "bootstrap 95% interval of the difference of medians (2,000 resamples)"
RESAMPLES = 2000


def median_difference(
    before: Sequence[float], after: Sequence[float], *, resamples: int = RESAMPLES, seed: int = 0
) -> dict[str, Any]:
    """median(after) - median(before), its bootstrap 95% interval, and whether it excludes 0."""
    before = [float(x) for x in before if x is not None]
    after = [float(x) for x in after if x is not None]
    if not before or not after:
        return {"difference": None, "low": None, "high": None, "distinguishable": False,
                "trials": (len(before), len(after)), "method": METHOD}  # fmt: skip
    rng = random.Random(seed)  # a fixed seed: the same data gives the same page
    diffs = sorted(
        statistics.median(rng.choices(after, k=len(after)))
        - statistics.median(rng.choices(before, k=len(before)))
        for _ in range(resamples)
    )
    low = diffs[int(0.025 * (resamples - 1))]
    high = diffs[int(0.975 * (resamples - 1))]
    return {
        "difference": statistics.median(after) - statistics.median(before),
        "low": low,
        "high": high,
        # One trial a side has no spread to measure: never call that a difference.
        "distinguishable": min(len(before), len(after)) > 1 and (low > 0 or high < 0),
        "trials": (len(before), len(after)),
        "method": METHOD,
    }


def say_difference(effect: dict[str, Any], unit: str, digits: int = 2) -> str:
    """'+0.98 ms (95% interval +0.91 to +1.05)' or '... : not distinguishable at this noise'."""
    if effect.get("difference") is None:
        return "not measured"
    d, lo, hi = effect["difference"], effect["low"], effect["high"]
    text = f"{d:+.{digits}f} {unit} (95% interval {lo:+.{digits}f} to {hi:+.{digits}f})"
    if not effect["distinguishable"]:
        text += ": not distinguishable at this noise"
    return text
