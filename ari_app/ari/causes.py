"""Hangup causes (ITU-T Q.850 codes as Asterisk reports them), read in one place.

https://docs.asterisk.org/Configuration/Miscellaneous/Hangup-Cause-Mappings/
"""

from __future__ import annotations

from typing import Final, Literal

from ari_app.ari.events import AriEvent, ChannelDestroyed, ChannelHangupRequest

NORMAL_CLEARING: Final = 16
USER_BUSY: Final = 17
NO_USER_RESPONSE: Final = 18
NO_ANSWER: Final = 19

# Causes that mean "busy" rather than "did not answer" for an agent's phone.
BUSY_CAUSES: Final = frozenset({USER_BUSY})

LegEnd = Literal["busy", "rejected"]


def hangup_cause(event: AriEvent) -> str:
    """How a call's end is journaled: Asterisk's own cause text when it sent one."""
    if isinstance(event, ChannelDestroyed):
        return event.cause_txt or str(event.cause)
    if isinstance(event, ChannelHangupRequest) and event.cause is not None:
        return f"q850_{event.cause}"
    return "caller_hangup"


def leg_end(event: AriEvent) -> LegEnd:
    """Why a ringing agent leg ended before it was answered. The far end's cause may come
    first in ChannelHangupRequest, which then ends the leg before ChannelDestroyed."""
    if isinstance(event, ChannelDestroyed | ChannelHangupRequest) and event.cause in BUSY_CAUSES:
        return "busy"
    return "rejected"
