"""After the event stream reconnects: Asterisk does not replay what we missed, so look."""

from __future__ import annotations

import structlog

from ari_app.ari.errors import AriError
from ari_app.ari.rest import AriRest
from ari_app.calls.engine import CallEngine

log = structlog.get_logger(__name__)

LOST_REASON = "asterisk_restarted"  # a hangup cause: at most 64 characters
GONE_REASON = "Lost while disconnected"


async def reconcile(ari: AriRest, engine: CallEngine, *, asterisk_restarted: bool = False) -> int:
    """End the calls whose callers vanished while we were disconnected (they hung up, or
    Asterisk restarted and took every channel with it); returns how many."""
    try:
        alive = {channel.id for channel in await ari.list_channels()}
    except AriError as exc:
        log.warning("reconcile.failed", error=str(exc))
        return 0
    gone = engine.live_channels() - alive
    if gone:
        log.info("reconcile.callers_gone", calls=len(gone))
    if asterisk_restarted:
        return engine.gone(gone, LOST_REASON, lost=True)
    return engine.gone(gone, GONE_REASON, lost=False)
