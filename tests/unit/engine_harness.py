"""The call engine over the in-memory FakeAsterisk: a whole hotline in one process, no Asterisk.

`Hotline` puts together what `ari_app.service` builds for real (a SQLite database, the queue
actor, the prompts, the recordings folders, `CallEngine`) around a `FakeAsterisk`, with a
small flow of our own whose timeouts are fractions of a second. Tests script callers and
agents on `line.fake`, wait on conditions (`journal_event`, `finished`), never on the clock,
then assert on the journal, the stored rows and what Asterisk was asked to do.

    from tests.unit.engine_harness import HotlineFactory, hotline_fixture  # noqa: F401

    async def test_x(hotline: HotlineFactory) -> None:
        line = await hotline()                    # or hotline(routing(...), flow_yaml=...)
        line.fake.media_durations[media_of(MENU)] = 30.0
        call = await line.call()                  # or line.call(keys="1"): type-ahead
        await line.playing(MENU)                  # a key now surely lands during the menu
        line.fake.press(call.channel_id, "1")
        ended = await line.finished(call)         # the stored record, journey, recordings
        line.assert_clean()

A key pressed after a short prompt would race the menu's timeout: press during a prompt made
long (as above), or before any (`keys=`).
"""

from __future__ import annotations

import asyncio
import re
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, cast

import pytest
import structlog.testing

from ari_app.ari.events import ChannelDtmfReceived, PlaybackStarted, StasisStart
from ari_app.ari.fake import FakeAsterisk
from ari_app.ari.rest import AriRest
from ari_app.calls.adoption import AdoptionReport, adopt_calls
from ari_app.calls.deps import CallDeps
from ari_app.calls.engine import CallEngine
from ari_app.calls.hub import EventHub
from ari_app.calls.monitoring.audit import MonitorStore
from ari_app.calls.monitoring.model import MonitorAudit
from ari_app.calls.record import CallRecord
from ari_app.calls.store import CallStore
from ari_app.channel_vars import CORRELATION_ID_VAR
from ari_app.db.database import Database, open_database
from ari_app.media.prompt import PromptSounds
from ivr.flow import Flow
from ivr.journey import JourneyEvent, JourneyType
from ivr.loader import load_flow
from ivr.tts import PromptRenderer
from recordings.lifecycle import RecordingPaths
from recordings.model import RecordingMeta, SurveyAnswer
from routing.actor import QueueService
from routing.clock import MonotonicClock
from routing.config import Agent, RoutingConfig
from routing.model import AgentConfig, QueueConfig

APP = "hotline"
WAIT_S = 5.0  # every wait is on a condition; this only bounds a broken test
PROMPTS_DIR = "/prompts"  # what Asterisk would read the rendered prompts from

# The test flow: the hotline's shape with timeouts of a fraction of a second.
MENU = "Press 1 for claims, 2 for billing, 3 for the empty queue, or 9 to hang up."
SURVEY_ASK = "Please rate our service from 1 to 5."
SURVEY_REASK = "Please press a key from 1 to 5."
SURVEY_THANKS = "Thank you for your feedback. Goodbye."
SURVEY_UNANSWERED = "Thank you for calling. Goodbye."
NOT_HEARD = "Sorry, I did not hear you."
FLOW_YAML = f"""\
name: engine-test
language: en
voice: en-us
start: welcome
fallback: billing
nodes:
  welcome:
    type: prompt
    say: Welcome to the test line.
    next: main_menu
  main_menu:
    type: menu
    say: {MENU}
    options:
      1: claims
      2: billing
      3: nobody
      9: goodbye
    no_input:
      - {NOT_HEARD}
      - Let me connect you to an agent.
    no_match:
      - Sorry, that is not an option.
      - Let me connect you to an agent.
    max_attempts: 2
    timeout: 0.2
    inter_digit_timeout: 0.2
    on_failure: billing
  claims:
    type: queue
    queue: claims
    say: Connecting you to claims.
  billing:
    type: queue
    queue: billing
  nobody:
    type: queue
    queue: empty
  goodbye:
    type: hangup
    say: Goodbye.
survey:
  say: {SURVEY_ASK}
  reprompt: {SURVEY_REASK}
  thanks: {SURVEY_THANKS}
  unanswered: {SURVEY_UNANSWERED}
  timeout: 0.05
"""

ALICE, BOB, CAROL = "PJSIP/alice", "PJSIP/bob", "PJSIP/carol"
QUEUES = (
    QueueConfig("claims", "Claims", ring_timeout_s=0.3, wrapup_s=0),
    QueueConfig("billing", "Billing", ring_timeout_s=0.3, wrapup_s=0),
    QueueConfig("empty", "Nobody works here", ring_timeout_s=0.3, wrapup_s=0),
)
AGENTS = (
    AgentConfig("alice", "Alice", ALICE, ("claims",)),
    AgentConfig("bob", "Bob", BOB, ("claims",)),
    AgentConfig("carol", "Carol", CAROL, ("billing",)),
)


def routing(queues: Sequence[QueueConfig] = QUEUES, agents: Sequence[AgentConfig] = AGENTS,
            **queue_changes: dict[str, Any]) -> RoutingConfig:
    """The YAML-style configuration (as `ari_app.routing_wiring` builds it), with fields of
    named queues replaced: ``routing(claims={"max_wait_s": 0.2})``."""
    config = RoutingConfig.from_simple(queues, agents)
    return replace(config, queues=tuple(replace(q, **queue_changes.get(q.queue_id, {}))
                                        for q in config.queues))


def with_agents(config: RoutingConfig, change: Callable[[Agent], Agent]) -> RoutingConfig:
    return replace(config, agents=tuple(change(a) for a in config.agents))


class TextRenderer:
    """PromptRenderer without TTS: the 'rendered' file's stem names the text."""

    def __init__(self) -> None:
        self.texts: dict[str, str] = {}  # stem -> text

    async def render(self, text: str, voice: str | None = None) -> Path:
        stem = stem_of(text)
        self.texts[stem] = text
        return Path("/cache") / f"{stem}.wav"


def stem_of(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def media_of(text: str) -> str:
    """The media URI a prompt text plays as."""
    return f"sound:{PROMPTS_DIR}/{stem_of(text)}"


EventMatch = Callable[[JourneyEvent], bool]


class JournalTap(EventHub):
    """The live hub, keeping every journey event and waking whoever waits for one."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[JourneyEvent] = []
        self._waiters: list[tuple[EventMatch, asyncio.Future[JourneyEvent]]] = []

    def publish(self, event: JourneyEvent) -> None:
        super().publish(event)
        self.events.append(event)
        for matches, future in list(self._waiters):
            if not future.done() and matches(event):
                future.set_result(event)

    async def wait_for(self, matches: EventMatch, what: str) -> JourneyEvent:
        for event in self.events:
            if matches(event):
                return event
        future: asyncio.Future[JourneyEvent] = asyncio.get_running_loop().create_future()
        entry = (matches, future)
        self._waiters.append(entry)
        try:
            return cast(JourneyEvent, await _within(future, what))
        finally:
            self._waiters.remove(entry)


@dataclass(frozen=True)
class PlacedCall:
    call_id: str
    channel_id: str
    correlation_id: str


@dataclass(frozen=True)
class EndedCall:
    """What is left of a call once its session ended: the stored rows."""

    record: CallRecord
    events: list[JourneyEvent]
    recordings: list[RecordingMeta]
    survey: SurveyAnswer | None

    @property
    def types(self) -> list[str]:
        return [str(e.type) for e in self.events]

    def first(self, type: JourneyType, **match: object) -> dict[str, object]:
        for event in self.events:
            if event.type is type and all(event.details.get(k) == v for k, v in match.items()):
                return dict(event.details)
        raise AssertionError(f"no {type} {match} in {self.types}")

    def in_order(self, *types: JourneyType) -> bool:
        """Whether `types` appear in the journey in this order (others may come between)."""
        journey = iter(e.type for e in self.events)
        return all(any(seen is wanted for seen in journey) for wanted in types)

    def index(self, type: JourneyType, **match: object) -> int:
        for i, event in enumerate(self.events):
            if event.type is type and all(event.details.get(k) == v for k, v in match.items()):
                return i
        raise AssertionError(f"no {type} {match} in {self.types}")


@dataclass
class Hotline:
    fake: FakeAsterisk
    engine: CallEngine
    db: Database
    queues: QueueService
    journal: JournalTap
    renderer: TextRenderer
    paths: RecordingPaths
    logs: list[MutableMapping[str, Any]]  # what the service logged (structlog event dicts)
    deps: CallDeps
    stack: AsyncExitStack

    async def restart(self, *, hand_over: bool = True) -> AdoptionReport:
        """Stop this run of the service and start the next on the same Asterisk and database:
        `hand_over` as on SIGTERM; without it, as after a crash (whatever the journal had
        written by then is all the next run knows; the old run's tasks are abandoned)."""
        old = self.engine
        if hand_over:
            await _within(old.hand_over(2.0), "the engine to hand its calls over")
        else:
            await _crash(old)
        self.queues = QueueService(self.queues.config, MonotonicClock())
        task = asyncio.create_task(self.queues.run(), name="queue-actor-2")
        self.stack.push_async_callback(_cancel, task)
        self.deps = replace(self.deps, queues=self.queues)
        self.engine = CallEngine(self.fake.rest(), APP, self.deps, self.db.calls, self.journal)
        self.fake.on_event = self.engine.dispatch
        self.stack.push_async_callback(_stop, self.engine)
        return await adopt_calls(self.fake.rest(), self.db.calls, self.engine, APP)

    def logged(self, event: str) -> list[MutableMapping[str, Any]]:
        return [entry for entry in self.logs if entry.get("event") == event]

    async def call(self, number: str = "+15550100", *, keys: str = "") -> PlacedCall:
        """A caller dials in (pressing `keys` at once, before any prompt); returns once the
        engine started its call."""
        correlation = uuid.uuid4().hex
        channel_id = self.fake.call_in(number, channelvars={CORRELATION_ID_VAR: correlation})
        if keys:
            self.fake.press(channel_id, keys)
        started = await self.journal.wait_for(
            lambda e: e.type is JourneyType.CALL_START
            and e.details.get("correlation_id") == correlation, "call_start")
        return PlacedCall(started.call_id, channel_id, correlation)

    async def journal_event(self, call: PlacedCall, type: JourneyType,
                            **match: object) -> JourneyEvent:
        """The call's first journey event of `type` whose details match, past or future."""
        return await self.journal.wait_for(
            lambda e: e.call_id == call.call_id and e.type is type
            and all(e.details.get(k) == v for k, v in match.items()), f"{type} {match}")

    def live_types(self, call: PlacedCall) -> list[str]:
        return [str(e.type) for e in self.journal.events if e.call_id == call.call_id]

    async def finished(self, call: PlacedCall) -> EndedCall:
        """Wait until the call's session and all work for it ended; read what was stored."""
        await self.journal_event(call, JourneyType.HANGUP)
        session = [t for t in asyncio.all_tasks() if t.get_name() == f"call-{call.call_id}"]
        if session:
            await _within(asyncio.wait(session), "the call's session to end")
        if self.engine.count() == 0:  # and whatever else the engine was doing
            await _within(self.engine.wait_idle(), "the engine to be idle")
        record = await self.db.calls.get(call.call_id)
        assert record is not None, "the call record was never written"
        return EndedCall(record, await self.db.calls.events(call.call_id),
                         await self.db.recordings.for_call(call.call_id),
                         await self.db.surveys.for_call(call.call_id))

    async def answered_leg(self, call: PlacedCall, agent_endpoint: str) -> str:
        """The channel id of the call's agent leg to `agent_endpoint` once it answered."""
        prefix = f"{call.call_id}-agent-"
        start = await self.fake.wait_for(
            StasisStart, lambda e: e.channel.id.startswith(prefix)
            and _endpoint(self.fake, e.channel.id) == agent_endpoint, give_up_s=WAIT_S)
        return start.channel.id

    async def key_by_key(self, channel_id: str, digits: str) -> None:
        """Press keys as a person does, one at a time: each is delivered (and whoever waits
        for it ran) before the next. `FakeAsterisk.press` sends them all at once."""
        for digit in digits:
            delivered = self._dtmf_count(channel_id) + 1
            self.fake.press(channel_id, digit)
            await self.fake.wait_for(
                ChannelDtmfReceived, self._nth_key(channel_id, delivered), give_up_s=WAIT_S)
            for _ in range(3):  # let the waiter woken by this key register for the next
                await asyncio.sleep(0)

    def _nth_key(self, channel_id: str, n: int) -> Callable[[ChannelDtmfReceived], bool]:
        return lambda e: e.channel.id == channel_id and self._dtmf_count(channel_id) >= n

    def _dtmf_count(self, channel_id: str) -> int:
        return sum(1 for e in self.fake.events
                   if isinstance(e, ChannelDtmfReceived) and e.channel.id == channel_id)

    async def playing(self, text: str) -> None:
        """Until a prompt with `text` started playing."""
        media = (media_of(text),)
        await self.fake.wait_for(
            PlaybackStarted, lambda e: self.fake.playbacks[e.playback_id].media == media,
            give_up_s=WAIT_S)

    def legs(self, call: PlacedCall) -> list[str]:
        """Every agent leg Asterisk originated for the call, in order, live or gone."""
        return [r.params["channelId"] for r in self.fake.requested("POST", "/channels")
                if r.status is not None and r.status < 400
                and r.params.get("channelId", "").startswith(f"{call.call_id}-agent-")]

    def said(self, channel_id: str) -> list[str]:
        """What the channel heard, as prompt texts (and "moh:<class>")."""
        texts = []
        for media in self.fake.heard(channel_id):
            stem = media.removeprefix(f"sound:{PROMPTS_DIR}/")
            texts.append(self.renderer.texts.get(stem, media))
        return texts

    def assert_clean(self, *, channels_left: Sequence[str] = ()) -> None:
        """Nothing of any call is left: no session, no task, no routes, no channels or
        bridges in Asterisk (but `channels_left`, e.g. a caller sent back to the dialplan)."""
        assert not self.engine.busy()
        assert self.engine.count() == 0
        assert self.engine.owned_subjects() == 0
        assert sorted(self.fake.channels) == sorted(channels_left)
        assert self.fake.bridges == {}
        assert not any(r.state == "recording" for r in self.fake.recordings.values())
        assert self.queues.snapshot().calls == ()


async def _within(work: Awaitable[Any], what: str) -> Any:
    try:
        return await asyncio.wait_for(work, WAIT_S)
    except TimeoutError:
        raise AssertionError(f"gave up after {WAIT_S} s waiting for {what}") from None


def _endpoint(fake: FakeAsterisk, channel_id: str) -> str:
    channel = fake.channels.get(channel_id) or fake.gone.get(channel_id)
    return channel.endpoint if channel is not None else ""


HotlineFactory = Callable[..., Awaitable[Hotline]]

_template: list[Path] = []  # one migrated database per test session, copied for each test


async def _fresh_database(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Database:
    if not _template:
        folder = tmp_path_factory.mktemp("engine-db")
        db = await open_database("sqlite+aiosqlite:///" + str(folder / "template.sqlite3"))
        await db.close()
        _template.append(folder / "template.sqlite3")
    target = tmp_path / "t.sqlite3"
    shutil.copyfile(_template[0], target)
    return await open_database("sqlite+aiosqlite:///" + str(target))


@pytest.fixture(name="hotline")
async def hotline_fixture(tmp_path: Path,
                  tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[HotlineFactory]:
    """Builds a `Hotline` (at most one per test); stops and closes everything afterwards."""
    async with AsyncExitStack() as stack:
        # Captured, not rendered: a logged traceback costs a second of pretty-printing.
        logs = stack.enter_context(structlog.testing.capture_logs())

        async def build(config: RoutingConfig | None = None, *, flow_yaml: str = FLOW_YAML,
                        playback_s: float = 0.01,
                        call_store: Callable[[Database], CallStore] | None = None,
                        monitor_audit: Callable[[Database], MonitorAudit] | None = None,
                        ) -> Hotline:
            db = await _fresh_database(tmp_path, tmp_path_factory)
            stack.push_async_callback(db.close)
            flow_file = tmp_path / "flow.yaml"
            flow_file.write_text(flow_yaml, encoding="utf-8")
            config = config or routing()
            flow: Flow = load_flow(flow_file, known_queues=[q.queue_id for q in config.queues])
            queues = QueueService(config, MonotonicClock())
            queue_task = asyncio.create_task(queues.run(), name="queue-actor")
            stack.push_async_callback(_cancel, queue_task)
            paths = RecordingPaths(tmp_path / "spool", tmp_path / "store", "wav")
            fake = FakeAsterisk(app=APP, spool_dir=paths.spool_dir, playback_s=playback_s)
            stack.callback(fake.shutdown)
            renderer = TextRenderer()
            deps = CallDeps(flow=flow,
                            prompts=PromptSounds(cast(PromptRenderer, renderer), PROMPTS_DIR),
                            queues=queues, surveys=db.surveys, recording_paths=paths,
                            recording_store=db.recordings,
                            monitor_audit=monitor_audit(db) if monitor_audit is not None
                            else MonitorStore(db.units))
            journal = JournalTap()
            store = call_store(db) if call_store is not None else db.calls
            engine = CallEngine(fake.rest(), APP, deps, store, journal)
            fake.on_event = engine.dispatch
            stack.push_async_callback(_stop, engine)
            return Hotline(fake, engine, db, queues, journal, renderer, paths, logs, deps, stack)

        yield build


async def _stop(engine: CallEngine) -> None:
    await _within(engine.stop(), "the engine to stop")


async def _crash(engine: CallEngine) -> None:
    """As if the process died: the engine's tasks end without another word to Asterisk (its
    requests fail) or the database (no final write)."""
    dead = AriRest("http://127.0.0.1:9/ari", "nobody", "nothing", timeout=0.5)
    for session in list(engine.dispatcher.sessions.values()):
        session.call.ari = dead
        session.call.handing_over = True
        session.call.journal.close = _nothing  # type: ignore[method-assign]
        session.stop()
    await _within(engine.wait_idle(), "the crashed engine's tasks")
    await dead.close()


async def _nothing(*args: object, **kwargs: object) -> None:
    return None


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.wait({task})
