"""An answered agent and the caller: bridge, record, and wait until the agent leaves or
hands the caller on (a transfer asked over the API or by the agent's keypad: ``*2``/``*3``
escalate to that tier in the same queue). Meanwhile the agent's ``*0`` mutes the recording
while the caller reads out card data, and unmutes it (PCI); the API can do the same
(`CallRecordings.mute`, reached through the session)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import structlog

from ari_app.ari.cleanup import gone_ok
from ari_app.ari.events import AriEvent, ChannelDtmfReceived
from ari_app.calls.agent_legs import AgentLeg, drop_leg
from ari_app.calls.call import Call
from ari_app.calls.checkpoint import SavedRecording, Stage
from ari_app.calls.deps import RecorderFactory, bridge_recorders
from ari_app.calls.handoff import build_handoff
from ari_app.calls.monitoring.call_monitors import CallMonitors
from ari_app.calls.monitoring.leg import Talk
from ivr.journey import JourneyType
from ivr.milestones import AgentAnswered, CallTransferred, note
from kernel.aio import first_of
from recordings.lifecycle import ActiveRecording, CallRecordings, RecorderError

log = structlog.get_logger(__name__)

FEATURE_KEY = "*"
FEATURE_TIMEOUT_S = 3.0
MUTE_DIGIT = "0"  # *0: mute the recording, or unmute it


@dataclass(frozen=True)
class TransferRequest:
    queue_id: str | None = None
    min_tier: int | None = None
    notes: str = ""
    by: str = "api"


@dataclass(frozen=True)
class Conversation:
    agent_id: str
    agent_hung_up_first: bool
    transfer: TransferRequest | None = None


@dataclass(frozen=True)
class TalkDeps:
    """What a conversation needs besides the call: where its recording goes, who is VIP."""

    recordings: CallRecordings
    is_vip: Callable[[str], bool]
    recorders: RecorderFactory = bridge_recorders
    monitors: CallMonitors | None = None  # supervisors listening in, while the agent talks


@dataclass(frozen=True)
class KeptConversation:
    """A conversation an earlier run of the service connected, still up in Asterisk."""

    leg: AgentLeg
    bridge_id: str
    recording: SavedRecording | None


async def converse(call: Call, leg: AgentLeg, queue_id: str,
                   transfers: asyncio.Queue[TransferRequest], talk: TalkDeps,
                   kept: KeptConversation | None = None) -> Conversation:
    ari = call.ari
    agent_id = leg.offer.agent_id
    bridge_id = kept.bridge_id if kept is not None else \
        f"{call.call_id}-bridge-{leg.offer.offer_id.rsplit(':', 1)[-1]}"
    call.bind(bridge_id)
    recording: ActiveRecording | None = None
    try:
        if kept is None:
            await gone_ok(ari.stop_moh(call.channel_id), "moh")
            await ari.create_bridge(bridge_id, "mixing", name=f"call-{call.call_id}")
            await ari.add_channels(bridge_id, [call.channel_id, leg.channel_id])
            handoff = build_handoff(call.journal.record_row, call.journal.events,
                                    vip=talk.is_vip(call.caller_number))
            note(call.journal, AgentAnswered(queue=queue_id, agent=agent_id,
                                             handoff=handoff.as_dict()))
        call.journal.update(agent_id=agent_id)
        call.talking_to = agent_id
        if talk.monitors is not None:
            talk.monitors.talking(Talk(agent_id, leg.channel_id, queue_id))
        recorder = talk.recorders(call, bridge_id, kept.recording if kept else None)
        if kept is None:
            recording = await talk.recordings.start(recorder, queue_id=queue_id,
                                                    agent_id=agent_id)
        elif kept.recording is not None:
            recorder.resume(kept.recording.name)
            recording = kept.recording.active(recorder)
            talk.recordings.resume(recording, call.journal.events)
        call.journal.save_checkpoint(call.journal.checkpoint.to(
            stage=Stage.TALKING, agent_id=agent_id, agent_channel_id=leg.channel_id,
            bridge_id=bridge_id, recording=SavedRecording.of(recording) if recording else None,
            recording_seq=talk.recordings.seq))
        transfer = await _until_end_or_transfer(call, leg, transfers, talk.recordings)
        if transfer is not None:
            note(call.journal, CallTransferred(agent=agent_id, queue=transfer.queue_id,
                                               min_tier=transfer.min_tier, notes=transfer.notes,
                                               by=transfer.by))
            return Conversation(agent_id, agent_hung_up_first=False, transfer=transfer)
        call.journal.record(JourneyType.AGENT_HANGUP, agent=agent_id)
        return Conversation(agent_id, agent_hung_up_first=True)
    finally:
        call.talking_to = None
        if talk.monitors is not None:  # first: their snoops hang on the agent's channel
            await talk.monitors.conversation_over()
        if not call.handing_over:  # else the next run finds them all as they are
            await _hang_up(call, leg, bridge_id, recording, talk)
        call.unbind(bridge_id)


async def _hang_up(call: Call, leg: AgentLeg, bridge_id: str,
                   recording: ActiveRecording | None, talk: TalkDeps) -> None:
    ari = call.ari
    if recording is not None:
        talk.recordings.release(recording)  # no mute from now on: it is being stopped
        stored = recording
        call.tasks.after_hangup(lambda: talk.recordings.stop_and_store(stored),
                                f"store-{recording.name}")
    await drop_leg(call, leg)
    if not call.mailbox.has_ended(call.channel_id):  # the survey needs the caller back
        await gone_ok(ari.remove_channel(bridge_id, call.channel_id), "bridge member")
    await gone_ok(ari.destroy_bridge(bridge_id), "bridge")


async def _until_end_or_transfer(call: Call, leg: AgentLeg,
                                 transfers: asyncio.Queue[TransferRequest],
                                 recordings: CallRecordings) -> TransferRequest | None:
    index, winner = await first_of(leg.ended, _feature_code(call, leg, recordings),
                                   transfers.get())
    return None if index == 0 else cast(TransferRequest, winner.result())


async def _feature_code(call: Call, leg: AgentLeg,
                        recordings: CallRecordings) -> TransferRequest:
    """The agent's keypad: ``*`` then, within a few seconds, a tier digit (2-9) to escalate,
    or ``0`` to mute or unmute the recording (and go on listening)."""
    def digit_from_agent(event: AriEvent) -> bool:
        return isinstance(event, ChannelDtmfReceived) and event.channel.id == leg.channel_id

    keypad = f"keypad:{leg.offer.agent_id}"  # who muted, as the muted interval names them
    while True:
        first = await call.mailbox.expect(digit_from_agent)
        if not isinstance(first, ChannelDtmfReceived) or first.digit != FEATURE_KEY:
            continue
        try:
            async with asyncio.timeout(FEATURE_TIMEOUT_S):
                second = await call.mailbox.expect(digit_from_agent)
        except TimeoutError:
            continue
        if isinstance(second, ChannelDtmfReceived) and second.digit == MUTE_DIGIT:
            # In a task of the call: the agent hanging up (which ends this reader) must not
            # cut a mute short between Asterisk's answer and the interval being noted.
            call.tasks.spawn(lambda: _toggle_mute(recordings, keypad), "recording-mute")
        elif isinstance(second, ChannelDtmfReceived) and second.digit in "23456789":
            return TransferRequest(min_tier=int(second.digit), by="keypad",
                                   notes=f"escalated to tier {second.digit} by keypad")


async def _toggle_mute(recordings: CallRecordings, by: str) -> None:
    try:
        await recordings.toggle_mute(by)
    except RecorderError as exc:
        log.warning("recording.mute_failed", by=by, error=str(exc))
