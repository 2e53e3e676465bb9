"""Bearer tokens for the service's own tools: the demo, `measure-turns` and the end-to-end tests
start the service in-process and then read its journey stream, which needs credentials like any
route; `hotline call` reads the stream of a running development service.
"""

from __future__ import annotations

import secrets

from ari_app.settings import Settings
from kernel.http.auth import ApiToken, Role

EVENT_READERS = (Role.SUPERVISOR, Role.ADMIN)  # unscoped, they see every call's events


def with_process_token(settings: Settings, actor: str,
                       role: Role = Role.SUPERVISOR) -> tuple[Settings, str]:  # fmt: skip
    """`settings` with one more token, random and known only to this process, and the token."""
    token = secrets.token_urlsafe(32)
    entry = ApiToken.model_validate({"token": token, "actor": actor, "role": role})
    return settings.model_copy(update={"api_tokens": (*settings.api_tokens, entry)}), token


def configured_token(settings: Settings) -> str | None:
    """The first token written in the configuration itself (a development configuration) of a
    role that sees every call's events; None when there is none."""
    for entry in settings.api_tokens:
        if entry.token is not None and entry.role in EVENT_READERS and entry.queues is None:
            return entry.token.get_secret_value()
    return None
