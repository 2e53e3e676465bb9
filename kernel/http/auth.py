"""Who calls the HTTP API: roles, principals and their scopes, and machine tokens.

People log in (`ari_app/access/`); machines send `Authorization: Bearer <token>`. Tokens come
from the configuration (`api_tokens:`); each maps to who is calling (`actor`, written into the
audit), what they may do (`role`) and what they may see (`agent_id`, `queues`). Only the
SHA-256 of each token is kept in memory, and a presented token is hashed and compared with
every entry in constant time, so neither a memory dump nor response timing gives a token away.
(Tokens are long random strings, not passwords: a fast unsalted hash is what they need.)

The service's one authentication middleware (`ari_app/web/auth.py`) stores the caller's
principal on the request under `PRINCIPAL`; rooms read it with `principal(request)` (the audit's
actor, the scope of what they return) without knowing how the caller authenticated.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

NAME_PATTERN = r"^[A-Za-z0-9_.@-]+$"  # actors, user names, agent and queue ids in scopes


class Role(StrEnum):
    """The roles of `../shared/research/qa.md` §3.5; the route table says what each may call."""

    AGENT = "agent"  # their own calls: transfers the caller they talk to, reads their calls
    SUPERVISOR = "supervisor"  # the routing configuration, the live view, their queues' calls
    QA = "qa"  # recordings and calls of their queues, no configuration
    ADMIN = "admin"  # everything a supervisor may, unscoped; users are made with the CLI
    AUDITOR = "auditor"  # read-only audit trails
    EDITOR = "editor"  # the knowledge editors: questions callers asked in vain, the FAQ


SCOPED_BY_QUEUE = frozenset({Role.SUPERVISOR, Role.QA})


@dataclass(frozen=True, slots=True)
class Principal:
    """Who made a request, as the audit records it, and what they may see."""

    actor: str
    role: Role
    agent_id: str | None = None  # an agent's own agent id (their calls); others: None
    queues: frozenset[str] | None = None  # a supervisor's or QA's queues; None: every queue

    def sees(self, *, agents: Collection[str | None], queues: Collection[str | None]) -> bool:
        """Whether a call (or recording) handled by `agents` in `queues` is theirs to see:
        an agent's only if they are among its agents, a supervisor's or QA's if it touched
        one of their queues, an admin's always, an auditor's never."""
        if self.role is Role.ADMIN:
            return True
        if self.role is Role.AGENT:
            return self.agent_id is not None and self.agent_id in agents
        if self.role in SCOPED_BY_QUEUE:
            return self.queues is None or any(q in self.queues for q in queues)
        return False

    @property
    def unscoped(self) -> bool:
        """Sees every call: an admin, or a supervisor or QA without a queue list."""
        return self.role is Role.ADMIN or (self.role in SCOPED_BY_QUEUE and self.queues is None)


def scoped_principal(actor: str, role: Role, agent_id: str | None,
                     queues: Iterable[str] | None) -> Principal:  # fmt: skip
    """A principal as the role needs it: an agent's agent id defaults to their name; only
    supervisors and QA staff have queue scopes."""
    return Principal(
        actor, role,
        agent_id=(agent_id or actor) if role is Role.AGENT else None,
        queues=frozenset(queues) if queues is not None and role in SCOPED_BY_QUEUE else None,
    )  # fmt: skip


def hash_token(token: str) -> str:
    """The SHA-256 (hex) a token is stored and compared as; `printf %s TOKEN | sha256sum`."""
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


class ApiToken(BaseModel):
    """One `api_tokens:` entry: who a machine token stands for, and where the token is.

    Exactly one of: `token` (the token itself, in the file), `token_sha256` (its hash only),
    `token_env` (an environment variable holding it), `token_file` (a file holding it, e.g. a
    container secret). The settings loader turns the last two into `token_sha256`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    token: SecretStr | None = Field(default=None, min_length=16)
    token_sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    token_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    token_file: Path | None = None
    actor: str = Field(min_length=1, max_length=128, pattern=NAME_PATTERN)
    role: Role
    agent_id: str | None = Field(default=None, max_length=128, pattern=NAME_PATTERN)
    queues: tuple[str, ...] | None = None  # supervisor, qa: only these queues' calls

    @model_validator(mode="after")
    def _one_source(self) -> ApiToken:
        given = [name for name in ("token", "token_sha256", "token_env", "token_file")
                 if getattr(self, name) is not None]  # fmt: skip
        if len(given) != 1:
            raise ValueError("give exactly one of token, token_sha256, token_env, token_file"
                             + (f" (not {' and '.join(given)})" if given else ""))
        return self

    def sha256(self) -> str:
        """The token's hash; ValueError while it is still to be read from env or a file."""
        if self.token is not None:
            return hash_token(self.token.get_secret_value())
        if self.token_sha256 is None:
            raise ValueError(f"api token of {self.actor}: not read from its env or file yet")
        return self.token_sha256

    def principal(self) -> Principal:
        return scoped_principal(self.actor, self.role, self.agent_id, self.queues)


PRINCIPAL = web.RequestKey("principal", Principal)


def principal(request: web.Request) -> Principal:
    """Who made the request. Only on routes that need a role: on an open route nobody may
    have authenticated, and asking is a programming error (KeyError)."""
    return request[PRINCIPAL]


def maybe_principal(request: web.Request) -> Principal | None:
    """Who made the request, if they sent a valid token (open routes do not require one)."""
    return request.get(PRINCIPAL)


class TokenTable:
    """Resolves `Authorization: Bearer <token>` headers to principals, by the tokens' hashes."""

    def __init__(self, tokens: Iterable[ApiToken]) -> None:
        self._entries = tuple((bytes.fromhex(t.sha256()), t.principal()) for t in tokens)
        if len({digest for digest, _ in self._entries}) != len(self._entries):
            raise ValueError("api_tokens: the same token is listed twice")

    def principal(self, authorization: str | None) -> Principal | None:
        """The principal for a header value, or None when it is missing or unknown."""
        token = bearer_token(authorization)
        if token is None:
            return None
        given = bytes.fromhex(hash_token(token))
        found: Principal | None = None
        for digest, principal in self._entries:
            # Compare with every entry, so the time taken does not say which one matched.
            if hmac.compare_digest(digest, given):
                found = principal
        return found


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header value, else None."""
    if authorization is None:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()
