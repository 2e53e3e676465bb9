"""Logging in: a name and password checked against the user's argon2id hash, with a lockout
after repeated failures, and a browser session started on success.

The lockout counts failures per name, known or not, so being locked says nothing about whether
a user exists; an unknown name costs a hash too, so timing says nothing either. While locked,
even the right password is refused: guessing on cannot tell the attacker when they got it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from ari_app.access.passwords import Passwords
from ari_app.access.sessions import Clock, NewSession, Sessions, utc_now
from ari_app.access.users import Failures, UserStore

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    after: int = 5  # failed logins in a row (each within `duration` of the last)
    duration: timedelta = timedelta(minutes=15)  # how long the name is then refused


class BadCredentials(Exception):
    """Unknown name or wrong password (which of the two is not said)."""


class LockedOut(Exception):
    def __init__(self, until: datetime, now: datetime) -> None:
        super().__init__(f"locked until {until.isoformat()}")
        self.retry_after_s = max(1, math.ceil((until - now).total_seconds()))


class Logins:
    def __init__(self, users: UserStore, passwords: Passwords, sessions: Sessions,
                 lockout: LockoutPolicy, now: Clock = utc_now) -> None:  # fmt: skip
        self._users = users
        self._passwords = passwords
        self._sessions = sessions
        self._lockout = lockout
        self._now = now

    async def login(self, username: str, password: str) -> NewSession:
        """A new session; BadCredentials, or LockedOut while the name is locked."""
        now = self._now()
        failures = await self._users.failures(username)
        if failures is not None and failures.locked_until is not None \
                and now < failures.locked_until:
            log.warning("auth.login_locked", username=username)
            raise LockedOut(failures.locked_until, now)
        found = await self._users.get(username)
        matches = await self._passwords.verify(found[1] if found else None, password)
        if found is None or not matches:
            await self._failed(username, failures, now)
            raise BadCredentials
        user, stored = found
        if failures is not None:
            await self._users.clear_failures(username)
        if self._passwords.needs_rehash(stored):
            await self._users.set_password(username, await self._passwords.rehash(password))
        await self._sessions.end_expired()
        log.info("auth.login", username=username, role=user.role.value)
        return await self._sessions.start(username, user.principal())

    async def _failed(self, username: str, failures: Failures | None, now: datetime) -> None:
        fresh = (failures is None or failures.locked_until is not None
                 or now - failures.last_failed_at > self._lockout.duration)
        count = 1 if fresh or failures is None else failures.count + 1
        locked_until = now + self._lockout.duration if count >= self._lockout.after else None
        await self._users.set_failures(username, Failures(count, now, locked_until))
        if locked_until is not None:
            log.warning("auth.locked_out", username=username, failures=count,
                        until=locked_until.isoformat())  # fmt: skip
            raise LockedOut(locked_until, now)
        log.info("auth.login_failed", username=username, failures=count)
