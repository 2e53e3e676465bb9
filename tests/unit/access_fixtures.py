"""What the access tests share: argon2id at test strength, a clock the tests move, an app with
people's sessions on SQLite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher

from ari_app.access.passwords import Passwords

T0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def fast_passwords() -> Passwords:
    """argon2id with the smallest cost: the same code path, milliseconds per hash."""
    return Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


class Clock:
    """Wall-clock time as the tests set it."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)
