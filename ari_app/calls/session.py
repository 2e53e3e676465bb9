"""One caller, one task: the IVR, the queue, the agent, the survey; hangup is cancellation."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from enum import StrEnum

import structlog

from ari_app.ari.cleanup import gone_ok
from ari_app.ari.events import AriEvent, ChannelDestroyed, ChannelHangupRequest, StasisEnd
from ari_app.calls.caller_channel import AriCallChannel
from ari_app.calls.context import CallContext
from ari_app.calls.conversation import TransferRequest
from ari_app.calls.record import CallOutcome
from ari_app.calls.waiting import QueueLeft, serve_from_queue
from ari_app.channel_vars import FALLBACK_CONTEXT
from ivr.journey import JourneyType
from ivr.steps import Contained, HangUp, ToQueue, run_flow
from ivr.survey import run_survey
from kernel.db.retry import save_with_retries
from recordings.model import SurveyAnswer

log = structlog.get_logger(__name__)

AFTER_CALL_TIMEOUT_S = 30.0


class Phase(StrEnum):
    IVR = "ivr"
    QUEUE = "queue"
    AGENT = "agent"
    SURVEY = "survey"
    DONE = "done"


class CallSession:
    def __init__(self, call: CallContext) -> None:
        self.call = call
        self.phase = Phase.IVR
        self.hangup_cause: str | None = None
        self.failed = False
        self.contained = False
        self.left_queue = False
        self.transfers: asyncio.Queue[TransferRequest] = asyncio.Queue()
        self._caller_gone = False
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
            self.hangup_cause = self.hangup_cause or _cause(event)
            if self._script is not None:
                self._script.cancel()

    def request_transfer(self, request: TransferRequest) -> bool:
        """An agent sends the caller on; only while an agent is talking to them."""
        if self.call.talking_to is None:
            return False
        self.transfers.put_nowait(request)
        return True

    def _is_caller_gone(self, event: AriEvent) -> bool:
        return (isinstance(event, ChannelHangupRequest | StasisEnd | ChannelDestroyed)
                and event.channel.id == self.call.channel_id)

    async def run(self) -> None:
        structlog.contextvars.bind_contextvars(call_id=self.call_id)
        self.call.journal.record(JourneyType.CALL_START,
                                 caller=self.call.caller_number,
                                 correlation_id=self.call.journal.record_row.correlation_id)
        log.info("call.started", caller=self.call.caller_number)
        if self._caller_gone:  # hung up before the call's task even started
            await self._finish()
            return
        self._script = asyncio.create_task(self._run_script())
        try:
            await asyncio.wait({self._script})
        finally:
            if not self._script.done():  # the service itself is stopping
                self._script.cancel()
                await asyncio.wait({self._script})
            await self._finish()

    async def _run_script(self) -> None:
        try:
            await self._script_steps()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # never dead air: hand the caller back to the dialplan
            self.failed = True
            log.exception("call.failed")
            self.call.journal.record(JourneyType.ERROR, error=type(exc).__name__)
            await gone_ok(self.call.parts.ari.continue_in_dialplan(
                self.call.channel_id, FALLBACK_CONTEXT, "s"), "fallback")

    async def _script_steps(self) -> None:
        call = self.call
        await call.parts.ari.answer(call.channel_id)
        channel = AriCallChannel(call, voice=call.parts.flow.voice)
        outcome = await run_flow(call.parts.flow, channel, call.journal,
                                 listener=call.parts.listener, knowledge=call.parts.knowledge,
                                 call_id=call.call_id)
        if isinstance(outcome, Contained):
            self.contained = True
            if outcome.survey:
                self.phase = Phase.SURVEY
                score = await run_survey(call.parts.flow.survey, channel, call.journal)
                call.after_hangup(self._save_survey(score, None))
        elif isinstance(outcome, ToQueue):
            self.phase = Phase.QUEUE
            served = await serve_from_queue(call, channel, outcome.queue_id, self.transfers)
            if isinstance(served, QueueLeft):
                self.left_queue = True
                await channel.play(served.message, interruptible=False)
            else:
                self.phase = Phase.SURVEY
                score = await run_survey(call.parts.flow.survey, channel, call.journal)
                call.after_hangup(self._save_survey(score, served.agent_id))
        elif isinstance(outcome, HangUp):
            log.info("call.ivr_hangup", node=outcome.node, reason=outcome.reason)
        self.phase = Phase.DONE
        self.hangup_cause = self.hangup_cause or "normal_clearing"
        await gone_ok(call.parts.ari.hangup(call.channel_id), "caller")

    async def _save_survey(self, score: int | None, agent_id: str | None) -> None:
        answer = SurveyAnswer(call_id=self.call_id, queue_id=self.call.journal.record_row.queue_id,
                              agent_id=agent_id, score=score, answered_at=datetime.now(UTC))
        await save_with_retries(lambda: self.call.parts.db.surveys.add(answer), "survey",
                                score=score)

    async def _finish(self) -> None:
        call = self.call
        pending = set(call.after_call)
        if pending:
            _, late = await asyncio.wait(pending, timeout=AFTER_CALL_TIMEOUT_S)
            for task in late:
                log.error("call.after_call_timeout", task=task.get_name())
                task.cancel()
        outcome = self._outcome()
        call.journal.update(ended_at=datetime.now(UTC), outcome=outcome,
                            hangup_cause=self.hangup_cause)
        call.journal.record(JourneyType.HANGUP, cause=self.hangup_cause, outcome=str(outcome))
        await call.journal.close()
        log.info("call.ended", outcome=str(outcome), cause=self.hangup_cause)
        structlog.contextvars.unbind_contextvars("call_id")

    def _outcome(self) -> CallOutcome:
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


def _cause(event: AriEvent) -> str:
    if isinstance(event, ChannelDestroyed):
        return event.cause_txt or str(event.cause)
    if isinstance(event, ChannelHangupRequest) and event.cause is not None:
        return f"q850_{event.cause}"
    return "caller_hangup"


