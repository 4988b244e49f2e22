"""The latency proxy's gate: a partition, told apart by who is on the other end of a connection.

Every connection through the proxy comes from 127.0.0.1, so who it is shows only in what it
says: a sentinel names itself (`CLIENT SETNAME sentinel-...`), a Redis replica sends `REPLCONF`
before it asks for the stream; everything else is a client (the servers). A rule
`{"route": 7001, "kinds": ["sentinel", "replica"], "action": "drop"}` cuts the node behind route
7001 off from the sentinels and the other node, while the servers keep talking to it.

- drop: what either side sends is thrown away (a black hole); when the rule goes, the connection
  is closed, as a peer does once its timeouts notice, and its owner reconnects.
- hold: what either side sends waits; when the rule goes it is delivered, in order (a stall
  that TCP's retransmissions ride out).

`directions` narrows a rule to "up" (towards Redis) or "down" (towards the client). The lab
writes the rules to the proxy's control file and sends SIGUSR1 (lab/chaos/partition.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

KINDS = ("client", "sentinel", "replica")
ACTIONS = ("drop", "hold")
DIRECTIONS = ("up", "down")


def kind_of(data: bytes, current: str) -> str:
    """Who sends `data` on a connection so far taken for `current` (a kind, once found, stays)."""
    if current != "client":
        return current
    if b"sentinel-" in data:
        return "sentinel"
    if b"REPLCONF" in data.upper() or b"PSYNC" in data.upper():
        return "replica"
    return "client"


@dataclass(frozen=True)
class Rule:
    """Stop the traffic of these kinds of connection, in these directions, this way."""

    kinds: frozenset[str]
    action: str = "drop"
    directions: frozenset[str] = frozenset(DIRECTIONS)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Rule:
        """A rule from the control file; ValueError on a word it does not know."""
        kinds = frozenset(data.get("kinds", ()))
        directions = frozenset(data.get("directions", DIRECTIONS))
        action = data.get("action", "drop")
        if not kinds <= set(KINDS) or not directions <= set(DIRECTIONS) or action not in ACTIONS:
            raise ValueError(f"not a gate rule: {data!r}")
        return cls(kinds, action, directions)


def read_rules(path: Path) -> dict[int, list[Rule]]:
    """The control file's rules by route (listening port); {} when it is absent or empty."""
    if not path.exists() or not path.read_text().strip():
        return {}
    rules: dict[int, list[Rule]] = {}
    for item in json.loads(path.read_text()).get("rules", []):
        rules.setdefault(int(item["route"]), []).append(Rule.from_json(item))
    return rules


@dataclass(eq=False)
class Link:
    """One relayed connection as the gate sees it."""

    gate: Gate
    kind: str = "client"
    cut: bool = False
    held: list[tuple[Any, bytes]] = field(default_factory=list)
    transports: list[Any] = field(default_factory=list)

    def stopped(self, data: bytes, up: bool, outgoing: Any) -> bool:
        """Whether `data` (sent towards Redis when `up`) is stopped here; dropped or held."""
        if up:
            self.kind = kind_of(data, self.kind)
        action = self.gate.action(self.kind, "up" if up else "down")
        if action == "drop":
            self.cut = True
        elif action == "hold":
            self.held.append((outgoing, data))
        return action is not None

    def release(self) -> None:
        """The rule that stopped this connection is gone: deliver what was held, close a cut one."""
        if self.gate.action(self.kind, "up") or self.gate.action(self.kind, "down"):
            return
        held, self.held = self.held, []
        for outgoing, data in held:
            outgoing.push(data)
        if self.cut:
            for transport in self.transports:
                transport.close()

    def close(self) -> None:
        """The connection ended."""
        self.gate.links.discard(self)


@dataclass(eq=False)
class Gate:
    """One route's rules and its open connections."""

    rules: list[Rule] = field(default_factory=list)
    links: set[Link] = field(default_factory=set)

    def open(self) -> Link:
        """A new connection to watch."""
        link = Link(self)
        self.links.add(link)
        return link

    def action(self, kind: str, direction: str) -> str | None:
        """ "drop", "hold" or None for this kind of connection in this direction."""
        for rule in self.rules:
            if kind in rule.kinds and direction in rule.directions:
                return rule.action
        return None

    def apply(self, rules: list[Rule]) -> None:
        """New rules: connections they no longer stop are released."""
        self.rules = rules
        for link in list(self.links):
            link.release()
