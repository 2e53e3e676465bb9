"""Bearer tokens for the HTTP API: settings entries and the lookup from token to principal.

Tokens live in the YAML configuration (`api_tokens:`); each maps to who is calling (`actor`,
written into the audit) and what they may do (`role`). Comparison is constant-time, so a
wrong token reveals nothing about the right ones through response timing.

The service's one authentication middleware (`ari_app/web/auth.py`) stores the caller's
principal on the request under `PRINCIPAL`; rooms read it with `principal(request)` (the audit's
actor) without knowing who put it there.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, SecretStr


class Role(StrEnum):
    SUPERVISOR = "supervisor"  # reads and changes the routing configuration, agent states
    QA = "qa"  # recordings and scorecards (issue 5)
    VIEWER = "viewer"  # read-only dashboards
    AGENT = "agent"  # an agent desktop: transfers its caller on, reads the handoff


class ApiToken(BaseModel):
    """One `api_tokens:` entry: `{token: "...", actor: "sam", role: supervisor}`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    token: SecretStr = Field(min_length=16)
    actor: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.@-]+$")
    role: Role


@dataclass(frozen=True, slots=True)
class Principal:
    """Who made a request, as the audit records it."""

    actor: str
    role: Role


PRINCIPAL = web.RequestKey("principal", Principal)


def principal(request: web.Request) -> Principal:
    """Who made the request. Only on routes that need a role: on an open route nobody may
    have authenticated, and asking is a programming error (KeyError)."""
    return request[PRINCIPAL]


def maybe_principal(request: web.Request) -> Principal | None:
    """Who made the request, if they sent a valid token (open routes do not require one)."""
    return request.get(PRINCIPAL)


class TokenTable:
    """Resolves `Authorization: Bearer <token>` headers to principals."""

    def __init__(self, tokens: Iterable[ApiToken]) -> None:
        self._entries = tuple(
            (t.token.get_secret_value().encode(), Principal(t.actor, t.role)) for t in tokens
        )
        if len({secret for secret, _ in self._entries}) != len(self._entries):
            raise ValueError("api_tokens: the same token is listed twice")

    def principal(self, authorization: str | None) -> Principal | None:
        """The principal for a header value, or None when it is missing or unknown."""
        if authorization is None:
            return None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        given = token.strip().encode()
        found: Principal | None = None
        for secret, principal in self._entries:
            # Compare with every entry, so the time taken does not say which one matched.
            if hmac.compare_digest(secret, given):
                found = principal
        return found
