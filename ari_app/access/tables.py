"""People who log in, their browser sessions and failed logins, and who read which recording.

Only the stores of `ari_app.access` use these tables; `ari_app.db.metadata` registers them and
migration 0005 builds them. Nothing here holds a secret in the clear: passwords are argon2id
hashes, sessions are keyed by the SHA-256 of the cookie's token.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kernel.db.schema import ID, Base

NAME = String(128)


class UserModel(Base):
    """A person who logs in; `queues` null means every queue (for supervisors and QA)."""

    __tablename__ = "users"

    username: Mapped[str] = mapped_column(NAME, primary_key=True)
    password_hash: Mapped[str] = mapped_column(Text)  # argon2id, PHC string
    role: Mapped[str] = mapped_column(String(16))  # kernel.http.auth.Role value
    agent_id: Mapped[str | None] = mapped_column(ID)
    queues: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True))
    created_at: Mapped[datetime]


class WebSessionModel(Base):
    """A logged-in browser: ended at logout, after `session_idle_s` unused or
    `session_max_s` after login (whichever comes first), or when its user goes."""

    __tablename__ = "web_sessions"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(
        ForeignKey("users.username", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]


class LoginFailureModel(Base):
    """Failed logins in a row per name (known or not, so a lockout says nothing about
    whether a user exists); removed at the next successful login."""

    __tablename__ = "login_failures"

    username: Mapped[str] = mapped_column(NAME, primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failed_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]


class RecordingAccessModel(Base):
    """One attempt to read a recording (its details or its audio), granted or not."""

    __tablename__ = "recording_access"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(NAME)
    role: Mapped[str] = mapped_column(String(16))
    recording_id: Mapped[str] = mapped_column(ID, index=True)
    call_id: Mapped[str | None] = mapped_column(ID)
    what: Mapped[str] = mapped_column(String(16))  # details | audio
    outcome: Mapped[str] = mapped_column(String(16))  # granted | refused | not_found | ...
    remote: Mapped[str | None] = mapped_column(String(64))
