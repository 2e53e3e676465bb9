"""What a monitor session is, in values: its modes and how each one snoops, how it ends, its
audit record, and the port the HTTP layer reaches live monitors through. No I/O.

A supervisor's phone is bridged with a snoop on the **agent's** channel (never with the call's
own bridge, which keeps its two members). ARI's snoop directions are the agent channel's
(res/stasis/stasis_snoop.c, `snoop_setup_audiohook`): `in` is the audio read from the agent
(what the agent says), `out` the audio written to the agent (what the agent hears: the
caller). A spy audiohook copies frames before any whisper is mixed in (main/audiohook.c
feeds the spy list first), so the supervisor never hears themselves back. So:

    mode     spy    whisper   the supervisor hears   who hears the supervisor
    listen   both   none      agent and caller       nobody
    whisper  both   out       agent and caller       the agent
    barge    both   both      agent and caller       the agent, and the caller: mixed into
                                                     what the agent says, it reaches the call's
                                                     bridge (and its recording)

Barge could instead add the supervisor to the call's bridge; that makes a two-party bridge a
softmix bridge (mixing every 20 ms, see snoop_recorder) and a bridge recording a three-party
mix mid-call, and it needs a second path for the other two modes. One mechanism for all three
keeps the call's bridge untouched; a mode change swaps the snoop (ARI cannot change a snoop's
directions), the supervisor's phone stays up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Protocol

ENDPOINT_PATTERN = r"^[A-Za-z][A-Za-z0-9_-]*/[!-~]+$"  # as the routing API's agent endpoints
MONITOR_ID_PATTERN = r"^[0-9a-f]{1,32}$"


class MonitorMode(StrEnum):
    LISTEN = "listen"
    WHISPER = "whisper"
    BARGE = "barge"


@dataclass(frozen=True, slots=True)
class SnoopDirections:
    spy: str  # what the snoop hears of the agent's channel: none | in | out | both
    whisper: str  # where what it is sent goes: none | in | out | both


DIRECTIONS: dict[MonitorMode, SnoopDirections] = {
    MonitorMode.LISTEN: SnoopDirections("both", "none"),
    MonitorMode.WHISPER: SnoopDirections("both", "out"),
    MonitorMode.BARGE: SnoopDirections("both", "both"),
}


class MonitorState(StrEnum):
    RINGING = "ringing"  # the supervisor's phone is being called
    CONNECTED = "connected"  # the supervisor hears the call
    ENDED = "ended"


class MonitorEnd(StrEnum):
    """How a monitor session ended (the audit's `end_reason`)."""

    STOPPED = "stopped"  # DELETE /v1/calls/{id}/monitor/{monitor_id}
    SUPERVISOR_HUNG_UP = "supervisor_hung_up"
    CONVERSATION_ENDED = "conversation_ended"  # the caller or agent left, or a transfer
    NO_ANSWER = "no_answer"  # the supervisor's phone did not answer (busy, rejected, timeout)
    FAILED = "failed"  # Asterisk refused the originate, the bridge or the snoop
    SERVICE_STOPPED = "service_stopped"  # the service stopped; monitors are not handed over
    SERVICE_RESTART = "service_restart"  # found open by the next run (the last one died)


@dataclass(frozen=True, slots=True)
class ModeChange:
    mode: MonitorMode
    at: datetime
    by: str


@dataclass(frozen=True, slots=True)
class MonitorRequest:
    actor: str
    role: str
    mode: MonitorMode
    endpoint: str  # the supervisor's phone as Asterisk dials it, e.g. PJSIP/1009


@dataclass(frozen=True, slots=True)
class MonitorRecord:
    """One monitor session, as audited: who, on which call, agent and queue, the modes in
    order, when it was asked for, connected and ended, and how it ended."""

    monitor_id: str
    call_id: str
    actor: str
    role: str
    agent_id: str | None
    queue_id: str | None
    endpoint: str
    modes: tuple[ModeChange, ...]
    requested_at: datetime
    connected_at: datetime | None = None
    ended_at: datetime | None = None
    end_reason: MonitorEnd | None = None
    ended_by: str | None = None  # who stopped it (DELETE), else None

    @property
    def mode(self) -> MonitorMode:
        return self.modes[-1].mode

    @property
    def state(self) -> MonitorState:
        if self.ended_at is not None:
            return MonitorState.ENDED
        return MonitorState.CONNECTED if self.connected_at is not None else MonitorState.RINGING

    def with_mode(self, mode: MonitorMode, at: datetime, by: str) -> MonitorRecord:
        return replace(self, modes=(*self.modes, ModeChange(mode, at, by)))

    def ended(self, at: datetime, reason: MonitorEnd, by: str | None = None) -> MonitorRecord:
        """Ended once: a later end changes nothing."""
        if self.ended_at is not None:
            return self
        return replace(self, ended_at=at, end_reason=reason, ended_by=by)


class Refusal(StrEnum):
    NO_SUCH_CALL = "no_such_call"  # not live (ended, or never existed)
    NOT_TALKING = "not_talking"  # live, but no agent is talking to the caller now
    NO_SUCH_MONITOR = "no_such_monitor"  # not a live monitor of this call
    ALREADY_MONITORING = "already_monitoring"  # this actor monitors this call already
    TOO_MANY = "too_many_monitors"
    NOT_CONNECTED = "not_connected"  # ended while the request waited
    AUDIT_UNAVAILABLE = "audit_unavailable"  # no audit row could be written: not started
    TIMEOUT = "timeout"  # Asterisk did not finish the change in time


class MonitorRefused(Exception):
    def __init__(self, refusal: Refusal, message: str) -> None:
        super().__init__(message)
        self.refusal = refusal
        self.message = message


class MonitorAudit(Protocol):
    """Where monitor sessions are kept (`audit.MonitorStore`)."""

    async def opened(self, record: MonitorRecord) -> None:
        """A new session; raises kernel.db.errors.DatabaseError when it cannot be kept."""
        ...

    async def save(self, record: MonitorRecord) -> None:
        """The session as it is now (mode changes, connected, ended)."""
        ...

    async def close_open(self, at: datetime, reason: MonitorEnd) -> Sequence[MonitorRecord]:
        """End every session still open (a run of the service died with them); returns them
        as closed."""
        ...


class LiveMonitors(Protocol):
    """What the HTTP layer may ask of live monitors (the call engine)."""

    async def start_monitor(self, call_id: str, request: MonitorRequest) -> MonitorRecord:
        """Call the supervisor's phone to monitor the call; returns at once (ringing).
        MonitorRefused when the call is not live or not talking, or the audit is down."""
        ...

    async def change_monitor(self, call_id: str, monitor_id: str, mode: MonitorMode,
                             by: str) -> MonitorRecord:
        """Another mode, in force when this returns (or, still ringing, once connected)."""
        ...

    async def end_monitor(self, call_id: str, monitor_id: str, by: str) -> MonitorRecord:
        """Hang the supervisor's phone up; returns the session as ended."""
        ...

    def monitors(self, call_id: str) -> list[MonitorRecord] | None:
        """The call's live monitor sessions; None when the call is not live."""
        ...
