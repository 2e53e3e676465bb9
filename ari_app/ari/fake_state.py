"""What FakeAsterisk knows (channels, bridges, playbacks, recordings) and its ARI JSON shapes.

The shapes follow the models of the Swagger files Asterisk 22 ships (channels.json `Channel`,
bridges.json `Bridge`, playbacks.json `Playback`, recordings.json `LiveRecording`), so what the
fake sends goes through the same `ari_app.ari.events` parsing as Asterisk's own JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# Q.850 cause → Asterisk's text (main/channel.c `causes`), for the causes the fake produces.
CAUSE_TEXTS: dict[int, str] = {
    1: "Unallocated (unassigned) number", 16: "Normal Clearing", 17: "User busy",
    18: "No user responding", 19: "User alerting, no answer", 21: "Call Rejected",
    26: "Answered elsewhere", 28: "Invalid number format (addr incomplete)",
    31: "Normal, unspecified", 34: "Circuit/channel congestion", 38: "Network out of order",
    58: "Bearer capability not available", 127: "Interworking, unspecified",
}  # fmt: skip

# DELETE /channels/{id}?reason= → cause (res/ari/resource_channels.c).
HANGUP_REASONS: dict[str, int] = {
    "normal": 16, "busy": 17, "congestion": 34, "no_answer": 19, "timeout": 18,
    "rejected": 21, "unallocated": 1, "normal_unspecified": 31, "number_incomplete": 28,
    "codec_mismatch": 58, "interworking": 127, "failure": 38, "answered_elsewhere": 26,
}  # fmt: skip

RECORDING_FORMATS = frozenset({"wav", "wav16", "gsm", "ulaw", "alaw", "sln", "sln16", "g722"})


def timestamp() -> str:
    """ARI's timestamp format, e.g. 2026-01-02T03:04:05.678+0000."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"


class Reject(Exception):
    """An ARI error answer from a fake handler: `status` and Asterisk's message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class FakeChannel:
    id: str
    name: str
    app: str
    state: str
    caller_number: str = ""
    caller_name: str = ""
    variables: dict[str, str] = field(default_factory=dict)
    in_stasis: bool = False
    subscribed: bool = False  # our app gets its events (in Stasis, or originated into it)
    args: tuple[str, ...] = ()
    bridge_id: str | None = None
    moh: str | None = None  # the music-on-hold class while the caller hears it
    heard: list[str] = field(default_factory=list)  # media and "moh:<class>", in order
    dtmf_sent: list[str] = field(default_factory=list)
    endpoint: str = ""  # what originate dialled
    snooping_on: str | None = None
    spy: str = "none"  # a snoop's direction: what it reads (and a recording of it writes)
    whisper: str = "none"  # a snoop's: where what it is sent goes (ari_app/ari/fake_audio.py)
    continued_to: tuple[str, str, int] | None = None
    cause: int | None = None  # set when destroyed
    created: str = field(default_factory=timestamp)

    def to_json(self) -> dict[str, Any]:
        app_data = ",".join((self.app, *self.args)) if self.in_stasis else ""
        return {
            "id": self.id, "protocol_id": "", "name": self.name, "state": self.state,
            "caller": {"name": self.caller_name, "number": self.caller_number},
            "connected": {"name": "", "number": ""}, "accountcode": "",
            "dialplan": {"context": "hotline", "exten": "s", "priority": 1,
                         "app_name": "Stasis" if self.in_stasis else "", "app_data": app_data},
            "creationtime": self.created, "language": "en",
            # As if ari.conf `channelvars` listed every variable the channel has.
            "channelvars": dict(self.variables),
        }  # fmt: skip


@dataclass
class FakeBridge:
    id: str
    bridge_type: str
    name: str
    channels: list[str] = field(default_factory=list)
    # Our app hears about the bridge once a channel entered it, until removeChannel empties
    # it (measured in tests/adapters/test_ari_rest.py: then no BridgeDestroyed).
    subscribed: bool = False
    created: str = field(default_factory=timestamp)
    # Live recordings of the bridge: each is a Recorder/ARI channel in it (not listed).
    recordings: set[str] = field(default_factory=set)

    @property
    def technology(self) -> str:
        """A mixing bridge of two parties is bridged simply; a third (a recorder) makes it
        mix (softmix), as `bridge show all` shows on Asterisk 22."""
        return "softmix" if len(self.channels) + len(self.recordings) > 2 else "simple_bridge"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "technology": self.technology, "bridge_type": self.bridge_type,
            "bridge_class": "stasis", "creator": "Stasis", "name": self.name,
            "channels": list(self.channels), "video_mode": "none", "creationtime": self.created,
        }  # fmt: skip


@dataclass
class FakePlayback:
    id: str
    channel_id: str
    media: tuple[str, ...]
    state: str = "queued"  # then playing, then done or failed

    def to_json(self, media_uri: str | None = None) -> dict[str, Any]:
        return {"id": self.id, "media_uri": media_uri or self.media[0],
                "target_uri": f"channel:{self.channel_id}", "language": "en",
                "state": self.state}  # fmt: skip


@dataclass
class FakeRecording:
    name: str
    target_uri: str
    format: str
    started_at: float  # loop clock
    state: str = "queued"  # then recording, then done
    duration_s: float | None = None
    path: Path | None = None  # the file written into the spool, if the fake has one
    # Muted (silence written, the timeline kept): since when (loop clock), and every stretch
    # so far as (start, end) seconds from the recording's start; one ended muted closes there.
    muted_since: float | None = None
    muted: list[tuple[float, float]] = field(default_factory=list)
    mute_flag: bool = False  # res/stasis_recording.c's `int muted:1`, apart from the above

    @property
    def target_id(self) -> str:
        return self.target_uri.partition(":")[2]

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "format": self.format,
                                "target_uri": self.target_uri, "state": self.state}
        if self.duration_s is not None:
            data["duration"] = round(self.duration_s)
        return data


@dataclass(frozen=True)
class AgentBehaviour:
    """How an originated endpoint acts. `answer_after_s` None: rings until hung up or until
    originate's timeout; `reject_cause` (17 busy, 21 rejected) ends it unanswered after
    `answer_after_s` (or at once); `talk_s`: hangs up that long after answering."""

    answer_after_s: float | None = 0.0
    reject_cause: int | None = None
    talk_s: float | None = None


@dataclass(frozen=True)
class FakeRequest:
    method: str
    path: str
    params: Mapping[str, str]
    json: Mapping[str, Any] | None
    status: int | None  # None: the injected transport failure


@dataclass
class Failure:
    method: str
    path_glob: str
    status: int | None  # None: no answer (AriUnavailable)
    message: str
    times: int


@dataclass(frozen=True)
class Req:
    """One request as a fake handler sees it: path ids (unquoted), query and JSON body."""

    path: Mapping[str, str]
    query: Mapping[str, str]
    body: Mapping[str, Any]

    def required(self, name: str, message: str) -> str:
        value = self.query.get(name)
        if not value:
            raise Reject(400, message)
        return value
