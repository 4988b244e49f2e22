"""The SQL tables: users and their notes. The only data both mechanisms keep in SQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

#: The largest id an `Integer` column holds on every database we run: PostgreSQL's `integer` is
#: 32-bit signed (SQLite's is 64-bit). Routes refuse larger ids before SQL sees them.
MAX_ID = 2**31 - 1


def utcnow() -> datetime:
    """Timezone-aware now, so ISO times carry their offset."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base for AuthLab's tables."""


class User(Base):
    """A registered user. `password_hash` never leaves the server."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20), default="user")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def to_public(self) -> dict:
        """The user as the API shows it: no hash, ever."""
        return {"id": self.id, "email": self.email, "name": self.name, "role": self.role}


class Note(Base):
    """A small per-user protected resource, so load tests touch SQL like a real app."""

    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def to_public(self) -> dict:
        """The note as the API shows it."""
        created = self.created_at
        if created.tzinfo is None:  # SQLite drops the offset; we always store UTC
            created = created.replace(tzinfo=UTC)
        return {"id": self.id, "text": self.text, "created_at": created.isoformat()}
