"""What the stateful JWT modes keep: a denylist or refresh-token families in Redis, or (push
mode) revocations in each replica's memory, fed from Redis."""

from .denylist import DenylistStore
from .families import Family, FamilyStore, Rotation, new_family_id
from .revocations import RevocationState

__all__ = ["DenylistStore", "Family", "FamilyStore", "RevocationState", "Rotation", "new_family_id"]
