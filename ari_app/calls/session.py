"""One caller, one task: the IVR, the queue, the agent, the survey; hangup is cancellation."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

import structlog

from ari_app.ari.causes import hangup_cause
from ari_app.ari.cleanup import gone_ok
from ari_app.ari.events import AriEvent, ChannelDestroyed, ChannelHangupRequest, StasisEnd
from ari_app.calls.call import Call
from ari_app.calls.caller_channel import AriCallChannel
from ari_app.calls.checkpoint import Stage
from ari_app.calls.conversation import TalkDeps, TransferRequest
from ari_app.calls.deps import CallDeps
from ari_app.calls.monitoring.call_monitors import CallMonitors
from ari_app.calls.record import CallOutcome
from ari_app.calls.registry import MuteOutcome
from ari_app.calls.waiting import QueueLeft, QueueResume, serve_from_queue
from ari_app.channel_vars import FALLBACK_CONTEXT
from ivr.journey import JourneyType
from ivr.milestones import CallStarted, note
from ivr.steps import Contained, HangUp, ToQueue, run_flow
from ivr.survey import run_survey
from kernel.db.retry import save_with_retries
from recordings.lifecycle import CallRecordings, MuteState, RecorderError
from recordings.model import SurveyAnswer

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class QueuedResume:
    queue_id: str
    resume: QueueResume


@dataclass(frozen=True)
class Resume:
    """Where an adopted call goes on: from its checkpoint and what Asterisk still holds."""

    stage: Stage
    node: str | None = None  # IVR: the node to restart
    queue: QueuedResume | None = None  # waiting or talking
    agent_id: str | None = None  # survey: the agent it rates
    answered: bool = True  # False: the last run died before answering the caller


class Phase(StrEnum):
    IVR = "ivr"
    QUEUE = "queue"
    SURVEY = "survey"
    DONE = "done"


SORRY_PROMPT = "Sorry about that. Where were we?"
_MUTE_OUTCOMES = {MuteState.MUTED: MuteOutcome.MUTED, MuteState.UNMUTED: MuteOutcome.UNMUTED,
                  MuteState.NOT_RECORDING: MuteOutcome.NOT_RECORDING}


class CallSession:
    def __init__(self, call: Call, deps: CallDeps, resume: Resume | None = None) -> None:
        self.call = call
        self._deps = deps
        self._resume = resume
        self.phase = Phase.IVR
        self.hangup_cause: str | None = None
        self.failed = False
        self.contained = False
        self.left_queue = False
        self.lost_reason: str | None = None
        self.transfers: asyncio.Queue[TransferRequest] = asyncio.Queue()
        self._recordings: CallRecordings | None = None  # from the queue on: mute/unmute
        self.monitors = CallMonitors(call, deps.monitor_audit, deps.monitor_policy)
        self._caller_gone = False
        self._stopped = False
        self._script: asyncio.Task[None] | None = None

    @property
    def call_id(self) -> str:
        return self.call.call_id

    def deliver(self, event: AriEvent) -> None:
        self.call.mailbox.deliver(event)
        if self._is_caller_gone(event) and not self._caller_gone:
            # Cancel once: a hangup arrives as up to three events, and a second cancel would
            # interrupt the cleanup the first one started.
            self._caller_gone = True
            self.hangup_cause = self.hangup_cause or hangup_cause(event)
            self.stop()

    def stop(self) -> None:
        """End the call's script (the caller hung up, or the service is stopping); the
        session still finishes its after-hangup work and writes the call record. Before the
        script started, it never starts."""
        self._stopped = True
        if self._script is not None:
            self._script.cancel()

    def hand_over(self) -> None:
        """The service is stopping and leaves the call in Asterisk for its next run: stop the
        script without tearing down what the caller hears, and keep the call unfinished."""
        self.call.handing_over = True
        self.stop()

    def lost(self, reason: str) -> None:
        """The caller's channel vanished with Asterisk (a restart): end with that reason."""
        self.lost_reason = reason
        self.hangup_cause = self.hangup_cause or reason

    def request_transfer(self, request: TransferRequest) -> bool:
        """An agent sends the caller on; only while an agent is talking to them."""
        if self.call.talking_to is None:
            return False
        self.transfers.put_nowait(request)
        return True

    async def mute_recording(self, muted: bool, by: str, reason: str) -> MuteOutcome:
        """Mute (or unmute) the recording running now, if any (PCI: card data spoken)."""
        recordings = self._recordings
        if recordings is None:
            return MuteOutcome.NOT_RECORDING
        try:
            state = await (recordings.mute(by, reason) if muted else recordings.unmute(by))
        except RecorderError as exc:
            log.warning("recording.mute_failed", muted=muted, by=by, error=str(exc))
            return MuteOutcome.FAILED
        return _MUTE_OUTCOMES[state]

    def _is_caller_gone(self, event: AriEvent) -> bool:
        return (isinstance(event, ChannelHangupRequest | StasisEnd | ChannelDestroyed)
                and event.channel.id == self.call.channel_id)

    async def run(self) -> None:
        structlog.contextvars.bind_contextvars(call_id=self.call_id)
        try:
            async with asyncio.TaskGroup() as group:
                self.call.tasks.open(group)
                self._journal_start()
                # The caller may have hung up, or the service begun to stop, before this ran.
                if not self._stopped:
                    self._script = group.create_task(self._run_script(),
                                                     name=f"script-{self.call_id}")
                    await asyncio.wait({self._script})
                await self.call.tasks.wait_after_hangup_work()
                self.call.journal.hurry()  # its last events go with a commit now
        finally:
            self.call.tasks.close()
            if self.call.handing_over and not self._caller_gone:
                await self._leave_to_next_run()
            else:
                await self._finish()

    def _journal_start(self) -> None:
        journal = self.call.journal
        if self._resume is None:
            note(journal, CallStarted(caller=self.call.caller_number,
                                      correlation_id=journal.record_row.correlation_id))
            log.info("call.started", caller=self.call.caller_number)
        else:
            checkpoint = journal.checkpoint
            journal.record(JourneyType.ADOPTED, stage=str(checkpoint.stage), node=checkpoint.node,
                           queue=checkpoint.queue_id)
            log.info("call.adopted", stage=str(checkpoint.stage))

    async def _run_script(self) -> None:
        try:
            await self._script_steps()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # never dead air: hand the caller back to the dialplan
            self.failed = True
            log.exception("call.failed")
            self.call.journal.record(JourneyType.ERROR, error=type(exc).__name__)
            await gone_ok(self.call.ari.continue_in_dialplan(
                self.call.channel_id, FALLBACK_CONTEXT, "s"), "fallback")

    async def _script_steps(self) -> None:
        call, deps = self.call, self._deps
        channel = AriCallChannel(call, deps.prompts, voice=deps.flow.voice)
        resume = self._resume
        if resume is None or not resume.answered:
            await call.ari.answer(call.channel_id)
        if resume is None:
            await self._ivr(channel, start=None)
        else:
            await self._resume_at(resume, channel)
        await self._close()

    async def _resume_at(self, resume: Resume, channel: AriCallChannel) -> None:
        """Go on where the last run of the service left the call."""
        call = self.call
        if resume.stage in (Stage.QUEUE, Stage.TALKING) and resume.queue is not None:
            await self._queue(channel, resume.queue.queue_id, resume.queue.resume)
            return
        await gone_ok(call.ari.stop_moh(call.channel_id), "moh")  # after a hand-over
        playing = call.journal.checkpoint.playback_id
        if playing is not None:  # after a crash mid-prompt Asterisk is still playing it
            await gone_ok(call.ari.stop_playback(playing), "playback")
        if resume.stage is Stage.IVR:
            if resume.node is not None:  # the caller heard something already: say why again
                await channel.play(SORRY_PROMPT, interruptible=False)
            await self._ivr(channel, start=resume.node)
        elif resume.stage is Stage.SURVEY:
            await self._survey(channel, agent_id=resume.agent_id)

    async def _ivr(self, channel: AriCallChannel, start: str | None) -> None:
        call, deps = self.call, self._deps

        def at_node(node: str) -> None:
            call.journal.save_checkpoint(call.journal.checkpoint.to(stage=Stage.IVR, node=node))

        outcome = await run_flow(deps.flow, channel, call.journal, listener=deps.listener,
                                 knowledge=deps.knowledge, call_id=call.call_id, start=start,
                                 at_node=at_node)
        if isinstance(outcome, Contained):
            self.contained = True
            if outcome.survey:
                await self._survey(channel, agent_id=None)
        elif isinstance(outcome, ToQueue):
            await self._queue(channel, outcome.queue_id, None)
        elif isinstance(outcome, HangUp):
            log.info("call.ivr_hangup", node=outcome.node, reason=outcome.reason)

    async def _queue(self, channel: AriCallChannel, queue_id: str,
                     resume: QueueResume | None) -> None:
        call, deps = self.call, self._deps
        self.phase = Phase.QUEUE
        recordings = CallRecordings(call.call_id, deps.recording_paths, deps.recording_store,
                                    call.journal, seq=call.journal.checkpoint.recording_seq)
        self._recordings = recordings
        talk = TalkDeps(recordings, deps.is_vip, deps.recorders, self.monitors)
        served = await serve_from_queue(call, channel, deps.queues, queue_id, self.transfers,
                                        talk, resume)
        if isinstance(served, QueueLeft):
            self.left_queue = True
            await channel.play(served.message, interruptible=False)
        else:
            await self._survey(channel, agent_id=served.agent_id)

    async def _close(self) -> None:
        call = self.call
        self.phase = Phase.DONE
        call.journal.save_checkpoint(call.journal.checkpoint.to(stage=Stage.CLOSING))
        self.hangup_cause = self.hangup_cause or "normal_clearing"
        await gone_ok(call.ari.hangup(call.channel_id), "caller")

    async def _survey(self, channel: AriCallChannel, agent_id: str | None) -> None:
        self.phase = Phase.SURVEY
        self.call.journal.save_checkpoint(self.call.journal.checkpoint.to(
            stage=Stage.SURVEY, agent_id=agent_id, agent_channel_id=None, bridge_id=None,
            recording=None))
        score = await run_survey(self._deps.flow.survey, channel, self.call.journal)
        answer = SurveyAnswer(call_id=self.call_id, queue_id=self.call.journal.record_row.queue_id,
                              agent_id=agent_id, score=score, answered_at=datetime.now(UTC))
        surveys = self._deps.surveys
        self.call.tasks.after_hangup(
            lambda: save_with_retries(lambda: surveys.add(answer), "survey", score=score),
            "save-survey")

    async def _leave_to_next_run(self) -> None:
        """Persist where the call stands and give the caller music instead of silence."""
        call = self.call
        stage = call.journal.checkpoint.stage
        if stage is not Stage.TALKING:
            await gone_ok(call.ari.start_moh(call.channel_id), "moh")
        call.journal.record(JourneyType.HANDED_OVER, stage=str(stage))
        await call.journal.close(final=False)
        log.info("call.handed_over", stage=str(stage))
        structlog.contextvars.unbind_contextvars("call_id")

    async def _finish(self) -> None:
        call = self.call
        outcome = self._outcome()
        call.journal.update(ended_at=datetime.now(UTC), outcome=outcome,
                            hangup_cause=self.hangup_cause)
        call.journal.record(JourneyType.HANGUP, cause=self.hangup_cause, outcome=str(outcome))
        await call.journal.close()
        log.info("call.ended", outcome=str(outcome), cause=self.hangup_cause)
        structlog.contextvars.unbind_contextvars("call_id")

    def _outcome(self) -> CallOutcome:
        if self.lost_reason is not None:
            return CallOutcome.LOST_IN_RESTART
        if self.failed:
            return CallOutcome.FAILED
        if self.call.journal.record_row.agent_id is not None:
            return CallOutcome.ANSWERED
        if self.contained:
            return CallOutcome.CONTAINED
        if self.left_queue:
            return CallOutcome.QUEUE_EXIT
        if self.phase is Phase.QUEUE:
            return CallOutcome.ABANDONED_IN_QUEUE
        if self.phase is Phase.IVR:
            return CallOutcome.ABANDONED_IN_IVR
        return CallOutcome.ENDED_IN_IVR
