"""Browser sessions: a random token in an HttpOnly, SameSite=Strict cookie (Secure unless the
service listens on loopback only), a row per session keyed by the token's SHA-256, a CSRF token
per session that state-changing requests send back in `X-CSRF-Token`, an idle and an absolute
timeout. The user's role and scope are read from their row on every request, so a change or a
removal takes effect at once.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aiohttp import web
from sqlalchemy import delete, select

from ari_app.access.tables import UserModel, WebSessionModel
from ari_app.access.users import user_from_row
from kernel.db.unit import Units
from kernel.http.auth import Principal, hash_token

Clock = Callable[[], datetime]
CSRF_HEADER = "X-CSRF-Token"


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    idle: timedelta = timedelta(minutes=30)
    absolute: timedelta = timedelta(hours=12)
    secure_cookie: bool = True  # False only while the service listens on loopback

    @property
    def cookie_name(self) -> str:
        # `__Host-`: browsers take it only over HTTPS, for this host, path / (no sub-domain or
        # other path can plant one). https://datatracker.ietf.org/doc/html/rfc6265bis#section-4.1.3
        return "__Host-hotline_session" if self.secure_cookie else "hotline_session"

    @property
    def touch_every(self) -> timedelta:
        """How stale `last_seen_at` may get before a request writes it again."""
        return min(timedelta(minutes=1), self.idle / 10)


@dataclass(frozen=True, slots=True)
class WebSession:
    token_sha256: str
    principal: Principal
    csrf_token: str
    created_at: datetime
    expires_at: datetime  # the earlier of the idle and the absolute end, as of now


SESSION = web.RequestKey("web_session", WebSession)  # set by the middleware for cookie logins


@dataclass(frozen=True, slots=True)
class NewSession:
    cookie: str  # the token, only ever in the cookie
    session: WebSession


class Sessions:
    """Start, look up and end browser sessions (the middleware's `CookieSessions`)."""

    def __init__(self, units: Units, policy: SessionPolicy, now: Clock = utc_now) -> None:
        self._units = units
        self.policy = policy
        self._now = now

    @property
    def cookie_name(self) -> str:
        return self.policy.cookie_name

    async def start(self, username: str, principal: Principal) -> NewSession:
        token, csrf, now = secrets.token_urlsafe(32), secrets.token_urlsafe(32), self._now()
        digest = hash_token(token)
        async with self._units.begin("web_sessions", f"user {username!r}") as s:
            s.add(WebSessionModel(token_sha256=digest, username=username, csrf_token=csrf,
                                  created_at=now, last_seen_at=now))  # fmt: skip
        return NewSession(token, WebSession(digest, principal, csrf, now, self._expiry(now, now)))

    async def resolve(self, cookie: str) -> WebSession | None:
        """The live session for a cookie's token; None when unknown, ended or expired (an
        expired one is removed). A request keeps it alive (idle timeout) once a minute."""
        now, digest = self._now(), hash_token(cookie)
        async with self._units.begin("web_sessions", "by token") as s:
            found = (await s.execute(
                select(WebSessionModel, UserModel).join(UserModel)
                .where(WebSessionModel.token_sha256 == digest))).first()  # fmt: skip
            if found is None:
                return None
            row, user = found
            if now >= self._expiry(row.created_at, row.last_seen_at):
                await s.delete(row)
                return None
            if now - row.last_seen_at >= self.policy.touch_every:
                row.last_seen_at = now
            principal = _principal(user)
            return WebSession(digest, principal, row.csrf_token, row.created_at,
                              self._expiry(row.created_at, row.last_seen_at))  # fmt: skip

    async def end(self, token_sha256: str) -> None:
        async with self._units.begin("web_sessions", "end") as s:
            await s.execute(delete(WebSessionModel)
                            .where(WebSessionModel.token_sha256 == token_sha256))

    async def end_expired(self) -> int:
        """Remove every session past its idle or absolute end; how many there were."""
        now = self._now()
        async with self._units.begin("web_sessions", "expired") as s:
            result = await s.execute(delete(WebSessionModel).where(
                (WebSessionModel.created_at <= now - self.policy.absolute)
                | (WebSessionModel.last_seen_at <= now - self.policy.idle)))
            return int(getattr(result, "rowcount", 0) or 0)

    def _expiry(self, created_at: datetime, last_seen_at: datetime) -> datetime:
        return min(created_at + self.policy.absolute, last_seen_at + self.policy.idle)

    def set_cookie(self, response: web.StreamResponse, new: NewSession) -> None:
        response.set_cookie(self.cookie_name, new.cookie, path="/", httponly=True,
                            samesite="Strict", secure=self.policy.secure_cookie,
                            max_age=int(self.policy.absolute.total_seconds()))  # fmt: skip

    def clear_cookie(self, response: web.StreamResponse) -> None:
        response.del_cookie(self.cookie_name, path="/", httponly=True, samesite="Strict",
                            secure=self.policy.secure_cookie)  # fmt: skip


def csrf_matches(session: WebSession, sent: str | None) -> bool:
    return sent is not None and secrets.compare_digest(session.csrf_token.encode(),
                                                       sent.encode("utf-8", "replace"))


def _principal(user: UserModel) -> Principal:
    return user_from_row(user).principal()
