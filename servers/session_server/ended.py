"""What a client is told when its session is not in the store: ended, or lost with the store.

The server cannot tell a logout from a loss once the record is gone; the cookie can: it names
the store epoch its session began under (cookies.stamp). A session older than the store's epoch
may have been lost with the store's data (restarted empty, flushed), so the answer says both,
with the code a client can switch on (`revocation_state_lost`); one of the current epoch has
ended. The backend's check and the DBSC endpoints answer alike.
"""

from __future__ import annotations

from ..core.epoch import LOST_CODE, EpochGuard


def ended(
    guard: EpochGuard | None, epoch: str | None, what: str = "This session"
) -> tuple[str, str]:
    """(the 401's code, its sentence) for a session the store does not have. Reads the epoch
    marker first (one GET, on a miss only): right after a flush nothing may have read it yet.
    A store that is down gives the plain answer: the loss is not known."""
    if guard is not None:
        guard.probe()
        if guard.predates(epoch):
            return LOST_CODE, (
                f"{what} has ended (logged out, revoked or expired), or it was lost with the"
                f" session store's data ({guard.refusal()})"
            )
    return "unauthorized", f"{what} has ended (logged out, revoked or expired): log in again."
