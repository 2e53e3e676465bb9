"""Password hashing with argon2id (argon2-cffi's defaults: RFC 9106's low-memory choice, 64 MiB,
3 passes, 4 lanes), off the event loop and a few at a time.

A hash takes about 0.1 s of CPU and 64 MiB: run in threads so calls never wait, and at most
`concurrency` at once so a flood of logins cannot take the service's memory.
"""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
MAX_LENGTH = 1024  # longer is no safer, and hashing it is work an attacker chooses


class PasswordPolicyError(ValueError):
    """A new password the policy refuses; the message says why."""


def check_policy(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise PasswordPolicyError(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise PasswordPolicyError(f"a password has at most {MAX_LENGTH} characters")


class Passwords:
    def __init__(self, hasher: PasswordHasher | None = None, concurrency: int = 4) -> None:
        self._hasher = hasher or PasswordHasher()
        self._slots = asyncio.Semaphore(concurrency)
        # Verified against when the user is unknown, so the answer takes as long either way.
        self._dummy = self._hasher.hash("not a password of anyone's")

    async def hash(self, password: str) -> str:
        """The hash of a new password; PasswordPolicyError when the policy refuses it."""
        check_policy(password)
        return await self.rehash(password)

    async def rehash(self, password: str) -> str:
        """The hash of a password already in use, with today's parameters."""
        async with self._slots:
            return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, stored: str | None, password: str) -> bool:
        """Whether `password` matches the hash `stored` (None: no such user, still hashed)."""
        if len(password) > MAX_LENGTH:
            return False
        async with self._slots:
            return await asyncio.to_thread(self._verify, stored, password)

    def _verify(self, stored: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(stored or self._dummy, password) and stored is not None
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        """The hash was made with weaker parameters than today's: store a new one."""
        return self._hasher.check_needs_rehash(stored)
