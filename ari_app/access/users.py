"""People who log in: who they are, their role and scope; the store keeps them and their failed
logins. Domain values in and out; every method is one short transaction."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select

from ari_app.access.tables import LoginFailureModel, UserModel
from kernel.db.errors import DatabaseConflict
from kernel.db.unit import Units, key
from kernel.http.auth import NAME_PATTERN, Principal, Role, scoped_principal

NAME = re.compile(NAME_PATTERN)


class UserExists(DatabaseConflict):
    def __init__(self, username: str) -> None:
        super().__init__(f"user {username!r} exists already")


@dataclass(frozen=True, slots=True)
class User:
    username: str
    role: Role
    agent_id: str | None  # agents: the agent they are (their name when not given)
    queues: tuple[str, ...] | None  # supervisors, QA: their queues; None: every queue
    created_at: datetime

    def principal(self) -> Principal:
        return scoped_principal(self.username, self.role, self.agent_id, self.queues)


@dataclass(frozen=True, slots=True)
class Failures:
    count: int  # failed logins in a row
    last_failed_at: datetime
    locked_until: datetime | None


def check_name(value: str, what: str = "user name") -> str:
    if not 1 <= len(value) <= 128 or not NAME.match(value):
        raise ValueError(f"{what} {value!r}: 1 to 128 of A-Z a-z 0-9 _ . @ -")
    return value


class UserStore:
    def __init__(self, units: Units) -> None:
        self._units = units

    async def add(self, user: User, password_hash: str) -> None:
        """A new user; UserExists when the name is taken."""
        async with self._units.begin("users", key("username", user.username)) as s:
            if await s.get(UserModel, user.username) is not None:
                raise UserExists(user.username)
            s.add(UserModel(username=user.username, password_hash=password_hash,
                            role=user.role.value, agent_id=user.agent_id,
                            queues=list(user.queues) if user.queues is not None else None,
                            created_at=user.created_at))  # fmt: skip

    async def get(self, username: str) -> tuple[User, str] | None:
        """The user and their password hash."""
        async with self._units.begin("users", key("username", username)) as s:
            row = await s.get(UserModel, username)
            return None if row is None else (user_from_row(row), row.password_hash)

    async def all(self) -> list[User]:
        async with self._units.begin("users", "all") as s:
            rows = await s.scalars(select(UserModel).order_by(UserModel.username))
            return [user_from_row(row) for row in rows]

    async def set_password(self, username: str, password_hash: str) -> bool:
        """False when there is no such user."""
        async with self._units.begin("users", key("username", username)) as s:
            row = await s.get(UserModel, username)
            if row is not None:
                row.password_hash = password_hash
            return row is not None

    async def remove(self, username: str) -> bool:
        """The user and (by cascade) their sessions; False when there is no such user."""
        async with self._units.begin("users", key("username", username)) as s:
            row = await s.get(UserModel, username)
            if row is not None:
                await s.delete(row)
            return row is not None

    # --- failed logins ---------------------------------------------------------------------

    async def failures(self, username: str) -> Failures | None:
        async with self._units.begin("login_failures", key("username", username)) as s:
            row = await s.get(LoginFailureModel, username)
            return None if row is None else Failures(row.failures, row.last_failed_at,
                                                     row.locked_until)  # fmt: skip

    async def set_failures(self, username: str, failures: Failures) -> None:
        async with self._units.begin("login_failures", key("username", username)) as s:
            row = await s.get(LoginFailureModel, username)
            if row is None:
                row = LoginFailureModel(username=username)
                s.add(row)
            row.failures = failures.count
            row.last_failed_at = failures.last_failed_at
            row.locked_until = failures.locked_until

    async def clear_failures(self, username: str) -> None:
        async with self._units.begin("login_failures", key("username", username)) as s:
            await s.execute(delete(LoginFailureModel)
                            .where(LoginFailureModel.username == username))


def user_from_row(row: UserModel) -> User:
    queues: Sequence[str] | None = row.queues
    return User(row.username, Role(row.role), row.agent_id,
                tuple(queues) if queues is not None else None, row.created_at)
