"""ARI calls whose target may already be gone: a hangup races every cleanup step."""

from __future__ import annotations

from collections.abc import Awaitable

import structlog

from ari_app.ari.errors import AriConflict, AriError, AriNotFound, AriUnprocessable

log = structlog.get_logger(__name__)


async def gone_ok(request: Awaitable[object], what: str) -> bool:
    """Await a cleanup request; a 404/409 means the thing is already gone, which is fine."""
    try:
        await request
    except (AriNotFound, AriConflict, AriUnprocessable):
        # 422 is how Asterisk says "not in that bridge / not in Stasis": also already gone.
        return False
    except AriError as exc:
        log.warning("ari.cleanup_failed", what=what, error=str(exc))
        return False
    return True
