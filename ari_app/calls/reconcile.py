"""After the event stream reconnects: Asterisk does not replay what we missed, so look."""

from __future__ import annotations

import structlog

from ari_app.ari.errors import AriError
from ari_app.ari.events import ChannelDestroyed, ChannelSnapshot
from ari_app.ari.rest import AriRest
from ari_app.calls.dispatcher import CallDispatcher

log = structlog.get_logger(__name__)


async def reconcile(ari: AriRest, router: CallDispatcher) -> None:
    """End sessions whose caller hung up while we were disconnected."""
    try:
        alive = {channel.id for channel in await ari.list_channels()}
    except AriError as exc:
        log.warning("reconcile.failed", error=str(exc))
        return
    for session in list(router.sessions.values()):
        channel_id = session.call.channel_id
        if channel_id not in alive:
            log.info("reconcile.caller_gone", call_id=session.call_id)
            session.deliver(ChannelDestroyed(
                application="", channel=ChannelSnapshot.gone(channel_id), cause=16,
                cause_txt="Lost while disconnected"))
