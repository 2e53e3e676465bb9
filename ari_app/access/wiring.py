"""The access parts built from the settings: sessions, logins, the recording-read log."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from ari_app.access.listen_audit import RecordingReadLog
from ari_app.access.logins import LockoutPolicy, Logins
from ari_app.access.passwords import Passwords
from ari_app.access.routes import AccessApiDeps
from ari_app.access.sessions import Clock, SessionPolicy, Sessions, utc_now
from ari_app.access.users import UserStore
from ari_app.settings import Settings
from kernel.db.unit import Units


@dataclass(frozen=True, slots=True)
class AccessPolicy:
    sessions: SessionPolicy = field(default_factory=SessionPolicy)
    lockout: LockoutPolicy = field(default_factory=LockoutPolicy)

    @classmethod
    def from_settings(cls, settings: Settings) -> AccessPolicy:
        auth = settings.auth
        return cls(
            SessionPolicy(idle=timedelta(seconds=auth.session_idle_s),
                          absolute=timedelta(seconds=auth.session_max_s),
                          secure_cookie=not settings.http.loopback),
            LockoutPolicy(after=auth.lockout_after, duration=timedelta(seconds=auth.lockout_s)),
        )  # fmt: skip


def access_parts(units: Units, policy: AccessPolicy | None = None, *, now: Clock = utc_now,
                 passwords: Passwords | None = None) -> AccessApiDeps:  # fmt: skip
    policy = policy or AccessPolicy()
    sessions = Sessions(units, policy.sessions, now)
    logins = Logins(UserStore(units), passwords or Passwords(), sessions, policy.lockout, now)
    return AccessApiDeps(logins=logins, sessions=sessions, reads=RecordingReadLog(units))
