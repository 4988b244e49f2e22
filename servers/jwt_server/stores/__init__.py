"""What the stateful JWT modes keep in Redis: a denylist, or refresh-token families."""

from .denylist import DenylistStore
from .families import Family, FamilyStore, Rotation, new_family_id

__all__ = ["DenylistStore", "Family", "FamilyStore", "Rotation", "new_family_id"]
