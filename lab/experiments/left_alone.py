"""The stolen copy left alone: nobody acts, and only the credential itself decides its fate.

After a theft and before any logout or revoke, what ends a copy? On a bearer credential,
nothing but its own lifetime (a session's timeout, a JWT's `exp`); on a bound one, the missing
key: a DPoP token is refused on its first request without a proof, a DBSC session's short
cookie stops working when it expires and only the victim's key renews it
(docs/binding.md). `LeftAlone` records what the story's probes saw in that time (every answer
to the attacker and to the victim after the theft), and `sentence` tells it in words, every
figure read from those answers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class LeftAlone:
    """What the attacker's copy and the victim's browser got between the theft and any action."""

    #: time.monotonic() at the theft (None before it).
    stolen_at: float | None = None
    #: Seconds after the theft of every answer to the attacker: (seconds, status).
    attacker: list[tuple[float, int]] = field(default_factory=list)
    #: The server's own reason for the copy's first refusal (error code, message).
    refusal: dict[str, Any] | None = None
    #: The victim's answers after the theft: (seconds, status).
    victim: list[tuple[float, int]] = field(default_factory=list)

    def stolen(self) -> None:
        """The theft: the clock starts, earlier answers are forgotten."""
        self.stolen_at = time.monotonic()
        self.attacker.clear()
        self.victim.clear()
        self.refusal = None

    def note(self, who: str, outcome: dict[str, Any]) -> None:
        """One answer to `who` (a probe's outcome: status, error, message)."""
        status = outcome.get("status")
        if self.stolen_at is None or status not in (200, 401):
            return  # before the theft, or no answer about the credential (0, 503...)
        at = time.monotonic() - self.stolen_at
        if who == "attacker":
            if status == 401 and self.refusal is None:
                self.refusal = {"error": outcome.get("error"), "message": outcome.get("message")}
            self.attacker.append((at, status))
        elif who == "victim":
            self.victim.append((at, status))

    def summary(self) -> dict[str, Any]:
        """How long the copy worked, when it was first refused and why, and the victim since."""
        let_in = [at for at, status in self.attacker if status == 200]
        refused = [at for at, status in self.attacker if status == 401]
        first_refused = min(refused) if refused else None
        since = first_refused if first_refused is not None else float("inf")
        after = [(at, status) for at, status in self.victim if at >= since]
        victim = None if not after else ("in" if after[-1][1] == 200 else "out")
        return {
            "tries": len(self.attacker),
            "watched_s": max((at for at, _ in self.attacker), default=0.0),
            # The last answer that let the copy in (None: it never got in after the theft).
            "worked_s": max(let_in) if let_in else None,
            "refused_after_s": first_refused,
            "refusal": self.refusal,
            "victim": victim,
            "victim_checked_s": after[-1][0] if after else None,
        }


def sentence(label: str, summary: dict[str, Any], cookie_ttl: float | None = None) -> str:
    """The copy left alone, in words (empty before the attacker's first try)."""
    if not summary["tries"]:
        return ""
    worked, refused = summary["worked_s"], summary["refused_after_s"]
    ttl = f" (DBSC_COOKIE_TTL: {cookie_ttl:g} s)" if cookie_ttl is not None else ""
    if refused is None:
        return (
            f"{label}: nobody acted, and the stolen copy still works "
            f"{summary['watched_s']:.1f} s after the theft{ttl}."
        )
    reason = summary["refusal"] or {}
    why = f" ({reason.get('error')}: {reason.get('message')})" if reason.get("error") else ""
    if worked is None:
        text = f"{label}: nobody acted, and the stolen copy was refused from its first try{why}"
    else:
        text = (
            f"{label}: nobody acted; the stolen copy worked until {worked:.1f} s after the "
            f"theft{ttl}, and was refused from {refused:.1f} s{why}"
        )
    victim = summary["victim"]
    if victim == "in":
        delay = summary["victim_checked_s"] - refused
        renewed = summary.get("renewals") or 0
        how = f" (its browser renewed the short cookie with its key {renewed} time(s))"
        return (
            text
            + f"; the victim was still let in {delay:.1f} s after that refusal"
            + (how if renewed else "")
            + "."
        )
    if victim == "out":
        return text + "; the victim was refused too."
    return text + "; the victim has not asked since."
