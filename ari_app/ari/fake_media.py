"""FakeAsterisk's media: playbacks, music on hold and recordings (files in a spool folder).

A stopped playback ends "done" and one cut short by a hangup "failed", as
res/res_stasis_playback.c (`playback_final_update`) decides; a recording ends "done" when
stopped, when its bridge is destroyed or its channel hangs up, or after maxDurationSeconds.
Muting writes silence and keeps the file's length; each muted stretch is kept on the recording
(`FakeRecording.muted`). As in Asterisk 22.10.1, mute is not idempotent: res/stasis_recording.c
keeps its flag in a signed one-bit field (`int muted:1`, -1 once set), `toggle_recording_mute`
compares it with 1, so every mute toggles what is written (a second one unmutes) while an
unmute toggles only when the flag is set.
"""

from __future__ import annotations

import wave
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ari_app.ari import rest
from ari_app.ari.fake_state import (
    RECORDING_FORMATS,
    FakeBridge,
    FakeChannel,
    FakePlayback,
    FakeRecording,
    Reject,
    Req,
)

if TYPE_CHECKING:
    from ari_app.ari.fake import FakeAsterisk

CREATED = frozenset({rest.PLAY, rest.RECORD_BRIDGE, rest.RECORD_CHANNEL})
_ENDED = ("done", "failed")


def _play(fake: FakeAsterisk, r: Req) -> dict[str, Any]:
    channel = fake.stasis_channel(r.path["channelId"])
    media = tuple(m for m in r.query.get("media", "").split(",") if m)
    if not media:
        raise Reject(400, "media cannot be empty")
    playback = FakePlayback(r.path["playbackId"], channel.id, media)
    fake.playbacks[playback.id] = playback
    channel.heard.extend(media)
    answer = playback.to_json()  # queued: events come after the answer
    playback.state = "playing"
    fake.emit("PlaybackStarted", channel.app, playback=playback.to_json())
    if any(m in fake.missing_media for m in media):
        _finish(fake, playback, "failed")
    else:
        seconds = sum(fake.media_durations.get(m, fake.playback_s) for m in media)
        fake.later(playback.id, seconds, _finish, fake, playback, "done")
    return answer


def _finish(fake: FakeAsterisk, playback: FakePlayback, state: str) -> None:
    if playback.state in _ENDED:
        return
    playback.state = state
    fake.cancel_timers(playback.id)
    channel = fake.channels.get(playback.channel_id) or fake.gone.get(playback.channel_id)
    fake.emit("PlaybackFinished", channel.app if channel else None,
              playback=playback.to_json(playback.media[-1]))


def _live_playback(fake: FakeAsterisk, playback_id: str) -> FakePlayback:
    playback = fake.playbacks.get(playback_id)
    if playback is None or playback.state in _ENDED:
        raise Reject(404, "Playback not found")
    return playback


def _stop_playback(fake: FakeAsterisk, r: Req) -> None:
    _finish(fake, _live_playback(fake, r.path["playbackId"]), "done")


def _get_playback(fake: FakeAsterisk, r: Req) -> dict[str, Any]:
    return _live_playback(fake, r.path["playbackId"]).to_json()


def _start_moh(fake: FakeAsterisk, r: Req) -> None:
    channel = fake.stasis_channel(r.path["channelId"])
    channel.moh = r.query.get("mohClass") or "default"
    channel.heard.append(f"moh:{channel.moh}")


def _stop_moh(fake: FakeAsterisk, r: Req) -> None:
    fake.stasis_channel(r.path["channelId"]).moh = None


def channel_gone(fake: FakeAsterisk, channel: FakeChannel) -> None:
    """The channel hangs up: its playbacks fail, its own recordings end."""
    channel.moh = None
    for playback in list(fake.playbacks.values()):
        if playback.channel_id == channel.id:
            _finish(fake, playback, "failed")
    _end_recordings(fake, f"channel:{channel.id}")


def bridge_gone(fake: FakeAsterisk, bridge: FakeBridge) -> None:
    _end_recordings(fake, f"bridge:{bridge.id}")


# --- recordings --------------------------------------------------------------------------------


def _record_bridge(fake: FakeAsterisk, r: Req) -> dict[str, Any]:
    bridge = fake.bridge(r.path["bridgeId"])
    answer = _record(fake, r, f"bridge:{bridge.id}")
    bridge.recordings.add(answer["name"])
    return answer


def _record_channel(fake: FakeAsterisk, r: Req) -> dict[str, Any]:
    return _record(fake, r, f"channel:{fake.stasis_channel(r.path['channelId']).id}")


def _record(fake: FakeAsterisk, r: Req, target_uri: str) -> dict[str, Any]:
    name = r.required("name", "Recording name is required")
    fmt = r.required("format", "Recording format is required")
    if fmt not in RECORDING_FORMATS:
        raise Reject(422, "specified format is unknown on this system")
    previous = fake.recordings.get(name)
    in_progress = previous is not None and previous.state not in _ENDED
    spool_file = _spool_file(fake, name, fmt)
    stored = name in fake.stored or (spool_file is not None and spool_file.exists())
    if in_progress or (stored and r.query.get("ifExists", "fail") == "fail"):
        raise Reject(409, f"Recording '{name}' already exists and can not be overwritten")
    recording = FakeRecording(name, target_uri, fmt, started_at=fake.now())
    fake.recordings[name] = recording
    answer = recording.to_json()
    recording.state = "recording"
    fake.emit("RecordingStarted", recording=recording.to_json())
    max_s = int(r.query.get("maxDurationSeconds", "0"))
    if max_s > 0:
        fake.later(f"recording:{name}", max_s, _finish_recording, fake, recording)
    return answer


def _finish_recording(fake: FakeAsterisk, recording: FakeRecording) -> None:
    if recording.state != "recording":
        return
    fake.cancel_timers(f"recording:{recording.name}")
    recording.state = "done"
    recording.duration_s = fake.now() - recording.started_at
    bridge = fake.bridges.get(recording.target_id)
    if recording.target_uri.startswith("bridge:") and bridge is not None:
        bridge.recordings.discard(recording.name)
    if recording.muted_since is not None:  # ended muted: the stretch ends with the file
        recording.muted.append((recording.muted_since - recording.started_at,
                                recording.duration_s))
        recording.muted_since = None
    recording.path = _write(_spool_file(fake, recording.name, recording.format),
                            recording.format, recording.duration_s)  # fmt: skip
    fake.stored.add(recording.name)
    fake.emit("RecordingFinished", recording=recording.to_json())


def _end_recordings(fake: FakeAsterisk, target_uri: str) -> None:
    for recording in list(fake.recordings.values()):
        if recording.target_uri == target_uri:
            _finish_recording(fake, recording)


def _live_recording(fake: FakeAsterisk, name: str) -> FakeRecording:
    recording = fake.recordings.get(name)
    if recording is None or recording.state in _ENDED:
        raise Reject(404, "Recording not found")
    return recording


def _stop_recording(fake: FakeAsterisk, r: Req) -> None:
    _finish_recording(fake, _live_recording(fake, r.path["recordingName"]))


def _mute_recording(fake: FakeAsterisk, r: Req) -> None:
    recording = _in_session(fake, r)
    recording.mute_flag = True  # -1 != 1: always "not yet muted"
    _toggle_mute(fake, recording)


def _unmute_recording(fake: FakeAsterisk, r: Req) -> None:
    recording = _in_session(fake, r)
    if recording.mute_flag:
        recording.mute_flag = False
        _toggle_mute(fake, recording)


def _in_session(fake: FakeAsterisk, r: Req) -> FakeRecording:
    recording = _live_recording(fake, r.path["recordingName"])
    if recording.state != "recording":
        raise Reject(409, "Recording not in session")
    return recording


def _toggle_mute(fake: FakeAsterisk, recording: FakeRecording) -> None:
    """main/app.c on AST_CONTROL_RECORD_MUTE: `muted = !muted`."""
    now = fake.now()
    if recording.muted_since is None:
        recording.muted_since = now
    else:
        recording.muted.append((recording.muted_since - recording.started_at,
                                now - recording.started_at))
        recording.muted_since = None


def _get_live_recording(fake: FakeAsterisk, r: Req) -> dict[str, Any]:
    return _live_recording(fake, r.path["recordingName"]).to_json()


def _delete_stored_recording(fake: FakeAsterisk, r: Req) -> None:
    name = r.path["recordingName"]
    if name not in fake.stored:
        raise Reject(404, "Recording not found")
    fake.stored.discard(name)
    recording = fake.recordings.pop(name, None)
    if recording is not None and recording.path is not None:
        recording.path.unlink(missing_ok=True)


def _spool_file(fake: FakeAsterisk, name: str, fmt: str) -> Path | None:
    return fake.spool_dir / f"{name}.{fmt}" if fake.spool_dir is not None else None


def _write(path: Path | None, fmt: str, seconds: float) -> Path | None:
    """Silence lasting the recording's time: a WAV file, or raw 16-bit samples otherwise."""
    if path is None:
        return None
    rate = 16000 if fmt.endswith("16") else 8000
    frames = bytes(2 * round(rate * seconds))
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt.startswith("wav"):
        with wave.open(str(path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(rate)
            out.writeframes(frames)
    else:
        path.write_bytes(frames)
    return path


HANDLERS: dict[rest.Route, Callable[[FakeAsterisk, Req], Any]] = {
    rest.PLAY: _play, rest.STOP_PLAYBACK: _stop_playback, rest.GET_PLAYBACK: _get_playback,
    rest.START_MOH: _start_moh, rest.STOP_MOH: _stop_moh, rest.RECORD_BRIDGE: _record_bridge,
    rest.RECORD_CHANNEL: _record_channel, rest.GET_LIVE_RECORDING: _get_live_recording,
    rest.STOP_RECORDING: _stop_recording, rest.MUTE_RECORDING: _mute_recording,
    rest.UNMUTE_RECORDING: _unmute_recording,
    rest.DELETE_STORED_RECORDING: _delete_stored_recording,
}  # fmt: skip
