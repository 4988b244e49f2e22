"""The checker: read a history, report each promise an answer made and a later answer broke.

Three promises, as docs/chaos.md states them:

- **revocation_undone**: a logout or password change answered 200 with `"revoked": true` (a
  copy gets 401 from now on), or `"revoked": false` with `valid_until` (until then, and not
  after); a request with a copy of a credential it covered, sent after the answer arrived (after
  `valid_until`), was accepted with 200. A refresh with a copy is refused from the answer on in
  every case: a logout always revokes the refresh token.
- **refused_dishonestly**: a credential nobody revoked, and not expired, was refused (401/403)
  with an answer that does not say why: not JSON, or the generic `unauthorized`/`forbidden` code.
  An explained refusal (`revocation_state_lost`, `invalid_credentials`, ...) is honest.
- **unclear_5xx**: a 5xx that is not a clear JSON error: an HTML page, a body without the
  `{"error", "message"}` shape, or a 500 (a bug, whatever its body). A JSON 503 (the store is
  away: retry) is clear, and so are the edge's JSON 502 and 504 (a replica crashed or stalled
  mid-request: deploy/errors/), which say what happened.

Only what the history proves counts: a revocation whose request failed, or that overlapped the
request, is a doubt (no refusal after it is flagged), never a confirmation.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

#: Error codes that refuse without saying why: fine for a dead credential, not for a live one.
GENERIC_REFUSALS = frozenset({"unauthorized", "forbidden"})
#: The 5xx statuses a JSON error explains: the store away, the edge's bad gateway and timeout.
CLEAR_5XX = frozenset({502, 503, 504})
#: Seconds of slack around `valid_until` and `exp` (rounding, the clock of one machine).
TOLERANCE = 1.0
#: A credential is live at least this long after it was issued, whatever its `exp` says: a
#: server whose clock is behind may issue one already expired, and refuse the user it just let in.
FRESH = 5.0
#: The kinds of promise, in report order.
KINDS = ("revocation_undone", "refused_dishonestly", "unclear_5xx")
#: Operations that carry a credential and only read with it.
USES = ("me", "replay", "final", "refresh")
#: Examples of each broken promise kept in the report.
EXAMPLES = 3


@dataclass
class Issued:
    """One credential: whose, which session, when its issuing request began and ended."""

    user: str
    session: str
    start: float
    end: float
    exp: float | None


@dataclass
class Death:
    """From `at` (seconds since t=0) on, a copy must be refused; `by` is the op that said so,
    begun at `since`."""

    at: float
    by: int
    since: float = 0.0


def _wall_to_run(text: str, wall_t0: float) -> float | None:
    try:
        return datetime.fromisoformat(text).timestamp() - wall_t0
    except (TypeError, ValueError):
        return None


def _covered(op: dict[str, Any], issued: dict[str, Issued]) -> list[str]:
    """The credentials a logout (its session) or a password change (every one of the user's
    but the renewed one) ends, among those whose issuing began before it ended."""
    if op["kind"] == "logout":
        match = [c for c, i in issued.items() if i.session == op.get("session")]
    else:
        match = [c for c, i in issued.items() if i.user == op["user"] and c != op.get("issued")]
    return [c for c in match if issued[c].start < op["end"]]


class Ledger:
    """What the history's revocations promised, credential by credential."""

    def __init__(self, header: dict[str, Any], ops: list[dict[str, Any]]):
        self.wall_t0 = float(header.get("wall_t0", 0.0))
        self.issued = {
            op["issued"]: Issued(
                op["user"], op["issued_session"], op["start"], op["end"], op.get("issued_exp")
            )
            for op in ops
            if op.get("issued")
        }
        #: Earliest start of any revocation touching a credential, whatever its outcome.
        self.doubt: dict[str, float] = {}
        self.death: dict[str, Death] = {}
        self.refresh_death: dict[str, Death] = {}
        for op in ops:
            if op["kind"] in ("logout", "password"):
                self._revocation(op)

    def _revocation(self, op: dict[str, Any]) -> None:
        covered = _covered(op, self.issued)
        for cred in covered:
            self.doubt[cred] = min(self.doubt.get(cred, math.inf), op["start"])
        body = op.get("body") if isinstance(op.get("body"), dict) else {}
        if op["status"] != 200 or "revoked" not in body:
            return
        if body["revoked"] is True:
            at: float | None = op["end"]
        else:
            until = _wall_to_run(body.get("valid_until"), self.wall_t0)
            # Never before the answer: a request sent earlier cannot break what it had not said.
            at = None if until is None else max(op["end"], until + TOLERANCE)
        for cred in covered:
            if self.issued[cred].end > op["start"]:
                continue  # issued while the revocation ran: no promise either way
            self._die(self.refresh_death, cred, Death(op["end"], op["id"], op["start"]))
            if at is not None:
                self._die(self.death, cred, Death(at, op["id"], op["start"]))

    @staticmethod
    def _die(table: dict[str, Death], cred: str, death: Death) -> None:
        if cred not in table or death.at < table[cred].at:
            table[cred] = death

    def dead_at(self, op: dict[str, Any]) -> Death | None:
        """The promise `op` (a 200 with a credential) broke, if it broke one."""
        table = self.refresh_death if op.get("path") == "/auth/refresh" else self.death
        death = table.get(op.get("cred") or "")
        return death if death is not None and op["start"] > death.at else None

    def live(self, op: dict[str, Any]) -> bool:
        """Whether the credential `op` carried was live all along: unrevoked and unexpired."""
        cred = op.get("cred")
        if cred not in self.issued or self.doubt.get(cred, math.inf) < op["end"]:
            return False
        issued = self.issued[cred]
        if op["end"] < issued.end + FRESH or issued.exp is None:
            return True
        return op["end"] < issued.exp - self.wall_t0 - TOLERANCE


def _during(faults: list[dict[str, Any]], since: float, until: float) -> str:
    """The faults that ran between a promise (`since`) and the answer that broke it (`until`):
    a first hint at the cause ("partition+clock-skew"), or "none"."""
    names = [f["name"] for f in faults if f["start"] <= until and f["end"] >= since]
    return "+".join(dict.fromkeys(names)) or "none"


def _example(op: dict[str, Any], why: str) -> dict[str, Any]:
    body = op.get("body") if isinstance(op.get("body"), dict) else None
    answer = (
        f"{body.get('error')}: {body.get('message')}"
        if body and "error" in body
        else op.get("text")
    )
    return {
        "op": op["id"], "t": op["start"], "kind": op["kind"], "client": op.get("client"),
        "cred": op.get("cred"), "status": op["status"], "replica": op.get("replica"),
        "answer": (answer or "")[:200], "why": why,
    }  # fmt: skip


def _judge(op: dict[str, Any], ledger: Ledger) -> tuple[str, str, float] | None:
    """(kind, why, since when the promise ran) when `op`'s answer broke a promise."""
    status = op["status"]
    body = op.get("body") if isinstance(op.get("body"), dict) else None
    if status >= 500 and not (status in CLEAR_5XX and body and "error" in body):
        return "unclear_5xx", f"{status} {'JSON' if body else 'not JSON'}", op["start"]
    if op.get("cred") is None:
        return None
    if status == 200 and op["kind"] in USES:
        death = ledger.dead_at(op)
        if death is not None:
            why = f"accepted {op['start'] - death.at:.2f}s after op {death.by} said it was dead"
            return "revocation_undone", why, death.since
    if status in (401, 403) and ledger.live(op):
        code = body.get("error") if body else None
        if code is None or code in GENERIC_REFUSALS:
            why = f"a live credential refused with {code or 'no JSON'}"
            return "refused_dishonestly", why, ledger.issued[op["cred"]].start
    return None


def check(header: dict[str, Any], records: list[dict[str, Any]]) -> dict[str, Any]:
    """The verdict on one history: counts, faults, and each promise broken (first examples)."""
    ops = sorted((r for r in records if r.get("type") == "op"), key=lambda r: r["start"])
    faults = sorted((r for r in records if r.get("type") == "fault"), key=lambda f: f["start"])
    ledger = Ledger(header, ops)
    broken: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}
    after: dict[str, Counter[str]] = {kind: Counter() for kind in KINDS}
    for op in ops:
        verdict = _judge(op, ledger)
        if verdict is not None:
            kind, why, since = verdict
            example = _example(op, why)
            example["faults"] = _during(faults, since, op["start"])
            broken[kind].append(example)
            after[kind][example["faults"]] += 1
    confirmed = sum(
        1
        for op in ops
        if op["kind"] in ("logout", "password")
        and op["status"] == 200
        and isinstance(op.get("body"), dict)
        and op["body"].get("revoked") is True
    )
    return {
        "seed": header.get("seed"),
        "target": header.get("target"),
        "schedule": header.get("schedule", []),
        "operations": dict(Counter(op["kind"] for op in ops)),
        "statuses": {str(k): v for k, v in sorted(Counter(op["status"] for op in ops).items())},
        "no_answer": sum(1 for op in ops if op["status"] == 0),
        "confirmed_revocations": confirmed,
        "faults": [
            {k: f.get(k) for k in ("name", "start", "end", "ok", "detail", "error")} for f in faults
        ],
        "broken": {kind: len(found) for kind, found in broken.items()},
        #: Each kind by the faults that ran between the promise and its breach (a hint).
        "broken_during": {kind: dict(found) for kind, found in after.items()},
        "examples": {kind: found[:EXAMPLES] for kind, found in broken.items()},
    }
