"""Users: registration, credential checks and password changes, on top of SQL and bcrypt."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .db import Database
from .errors import ApiError
from .models import Note, User
from .passwords import PasswordHasher, validate_password

#: Deliberately loose (unicode local parts and IDN domains pass); the real check is a sent email.
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_EMAIL_CHARS = 254
MAX_NAME_CHARS = 100
MAX_NOTE_CHARS = 2000


def invalid_credentials() -> ApiError:
    """The one answer to a failed login, whichever part was wrong (no account enumeration)."""
    return ApiError(401, "invalid_credentials", "The email or the password is wrong.")


def normalize_email(email: object) -> str:
    """Trim and lower-case an email, or raise a 400."""
    if not isinstance(email, str):
        raise ApiError(400, "invalid_input", "'email' must be a string.")
    email = email.strip().lower()
    if len(email) > MAX_EMAIL_CHARS or not EMAIL_RE.match(email):
        raise ApiError(400, "invalid_input", "'email' must be a valid email address.")
    return email


def validate_name(name: object) -> str:
    """A display name: 1 to 100 characters after trimming."""
    if not isinstance(name, str) or not name.strip():
        raise ApiError(400, "invalid_input", "'name' must be a non-empty string.")
    name = name.strip()
    if len(name) > MAX_NAME_CHARS:
        raise ApiError(400, "invalid_input", f"'name' must be at most {MAX_NAME_CHARS} characters.")
    return name


class UserService:
    """What the API asks of users; the only code that touches password hashes."""

    def __init__(self, db: Database, hasher: PasswordHasher):
        self.db = db
        self.hasher = hasher

    def register(self, email: object, password: object, name: object, role: str = "user") -> dict:
        """Create a user; 409 when the email is taken (checked by the unique index, race-free)."""
        email = normalize_email(email)
        password = validate_password(password)
        name = validate_name(name)
        user = User(email=email, name=name, password_hash=self.hasher.hash(password), role=role)
        try:
            with self.db.session() as session:
                session.add(user)
                session.flush()
                return user.to_public()
        except IntegrityError:
            raise ApiError(409, "email_taken", "An account with this email exists.") from None

    def authenticate(self, email: object, password: object) -> dict:
        """Check an email and password; unknown emails cost one bcrypt check too."""
        if not isinstance(password, str) or not password:
            raise ApiError(400, "invalid_input", "'password' must be a non-empty string.")
        email = normalize_email(email)
        with self.db.session() as session:
            user = session.scalar(select(User).where(User.email == email))
            hashed = user.password_hash if user else None
            public = user.to_public() if user else None
        if not self.hasher.verify(password, hashed) or public is None:
            raise invalid_credentials()
        return public

    def get(self, user_id: int) -> dict | None:
        """A user by id, or None."""
        with self.db.session() as session:
            user = session.get(User, user_id)
            return user.to_public() if user else None

    def change_password(self, user_id: int, current: object, new: object) -> None:
        """Replace the password after checking the current one (401 when it is wrong).

        The API's view runs the same three steps with the revocation between the last two."""
        self.check_password(user_id, current)
        self.save_password_hash(user_id, self.hash_password(new, "new_password"))

    def check_password(self, user_id: int, current: object) -> None:
        """401 unless `current` is the user's password: a password change proves it first."""
        if not isinstance(current, str) or not current:
            raise ApiError(400, "invalid_input", "'current_password' must be a non-empty string.")
        with self.db.session() as session:
            user = session.get(User, user_id)
            hashed = user.password_hash if user else None
        if not self.hasher.verify(current, hashed):
            raise ApiError(401, "invalid_credentials", "The current password is wrong.")

    def hash_password(self, new: object, field: str = "password") -> str:
        """The bcrypt hash of an acceptable new password (400 otherwise)."""
        return self.hasher.hash(validate_password(new, field))

    def save_password_hash(self, user_id: int, hashed: str) -> None:
        """Store a new password hash (SQLAlchemyError when the database does not save it)."""
        with self.db.session() as session:
            user = session.get(User, user_id)
            if user is None:
                raise ApiError(404, "not_found", "This account no longer exists.")
            user.password_hash = hashed

    def ensure_admin(self, email: str | None, password: str | None) -> None:
        """Create the first admin from ADMIN_EMAIL / ADMIN_PASSWORD; replicas may race, one wins."""
        if not email or not password:
            return
        email = normalize_email(email)
        with self.db.session() as session:
            user = session.scalar(select(User).where(User.email == email))
            if user is not None:
                user.role = "admin"
                return
        try:
            self.register(email, password, "Administrator", role="admin")
        except ApiError as exc:
            if exc.status != 409:
                raise

    def list_notes(self, user_id: int, limit: int = 50) -> list[dict]:
        """The user's newest notes."""
        with self.db.session() as session:
            rows = session.scalars(
                select(Note).where(Note.user_id == user_id).order_by(Note.id.desc()).limit(limit)
            )
            return [note.to_public() for note in rows]

    def add_note(self, user_id: int, text: object) -> dict:
        """Store a note for the user."""
        if not isinstance(text, str) or not text.strip():
            raise ApiError(400, "invalid_input", "'text' must be a non-empty string.")
        if len(text) > MAX_NOTE_CHARS:
            raise ApiError(400, "invalid_input", f"'text' must be at most {MAX_NOTE_CHARS} chars.")
        with self.db.session() as session:
            note = Note(user_id=user_id, text=text)
            session.add(note)
            session.flush()
            return note.to_public()
