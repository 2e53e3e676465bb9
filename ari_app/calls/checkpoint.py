"""Where a live call stands, kept with its journal so a restarted service can adopt it.

The session updates the checkpoint at each milestone; the journal writes it in the same
transaction as the journey events that led to it. A checkpoint names only what Asterisk
cannot tell us (the IVR node, the queue ticket's original join time and priority, the live
recording's identity); what Asterisk knows (is the caller still there, is the bridge still
up) is asked again at adoption.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from recordings.lifecycle import ActiveRecording, Recorder


class Stage(StrEnum):
    IVR = "ivr"  # in the flow at `node`
    QUEUE = "queue"  # waiting (or an agent ringing) in `queue_id` since `joined_at`
    TALKING = "talking"  # bridged with `agent_channel_id` in `bridge_id`
    SURVEY = "survey"  # being asked the post-call survey (agent `agent_id`, if any)
    CLOSING = "closing"  # saying goodbye; nothing left to resume


class CheckpointError(ValueError):
    """A stored checkpoint could not be read (names the field)."""


@runtime_checkable
class ThroughChannels(Protocol):
    """A recorder that records through channels of its own (snoops), which must outlive a
    restart with the conversation."""

    def channel_ids(self, name: str) -> tuple[str, ...]: ...


@dataclass(frozen=True, slots=True)
class SavedRecording:
    """A conversation's recording while Asterisk writes it."""

    recording_id: str
    name: str
    queue_id: str
    agent_id: str
    started_at: datetime
    # The snoop channels recording it (ari_app/calls/snoop_recorder.py): one (both
    # directions) or two (the caller's side, then the agent's); none: the bridge records.
    snoop_ids: tuple[str, ...] = ()

    @classmethod
    def of(cls, recording: ActiveRecording) -> SavedRecording:
        recorder = recording.recorder
        snoops = recorder.channel_ids(recording.name) \
            if isinstance(recorder, ThroughChannels) else ()
        return cls(recording.recording_id, recording.name, recording.queue_id,
                   recording.agent_id, recording.started_at, snoops)

    def active(self, recorder: Recorder) -> ActiveRecording:
        return ActiveRecording(self.recording_id, self.name, self.queue_id, self.agent_id,
                               self.started_at, recorder)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    stage: Stage = Stage.IVR
    node: str | None = None
    queue_id: str | None = None
    joined_at: datetime | None = None  # the ticket's original arrival, kept for its place
    priority: int = 0
    agent_id: str | None = None
    agent_channel_id: str | None = None
    bridge_id: str | None = None
    recording: SavedRecording | None = None
    recording_seq: int = 0  # recordings this call started so far (names stay unique)
    # The prompt playing: Asterisk goes on playing it when the service dies mid-prompt.
    playback_id: str | None = None

    def to(self, **changes: Any) -> Checkpoint:
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["stage"] = self.stage.value
        data["joined_at"] = self.joined_at.isoformat() if self.joined_at else None
        if self.recording is not None:
            data["recording"]["started_at"] = self.recording.started_at.isoformat()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Checkpoint:
        try:
            recording = data.get("recording")
            return cls(
                stage=Stage(data["stage"]),
                node=data.get("node"),
                queue_id=data.get("queue_id"),
                joined_at=_time(data.get("joined_at")),
                priority=int(data.get("priority") or 0),
                agent_id=data.get("agent_id"),
                agent_channel_id=data.get("agent_channel_id"),
                bridge_id=data.get("bridge_id"),
                recording=None if recording is None else _saved_recording(recording),
                recording_seq=int(data.get("recording_seq") or 0),
                playback_id=data.get("playback_id"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(f"checkpoint: {type(exc).__name__}: {exc}") from exc


def _saved_recording(data: dict[str, Any]) -> SavedRecording:
    snoops = data.get("snoop_ids") or ()  # absent before snoop recording existed
    if not isinstance(snoops, list | tuple) or not all(isinstance(s, str) for s in snoops):
        raise TypeError(f"recording.snoop_ids: not a list of channel ids: {snoops!r}")
    return SavedRecording(data["recording_id"], data["name"], data["queue_id"],
                          data["agent_id"], datetime.fromisoformat(data["started_at"]),
                          tuple(snoops))


def _time(value: object) -> datetime | None:
    return None if value is None else datetime.fromisoformat(str(value))
