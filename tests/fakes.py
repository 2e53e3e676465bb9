"""Small fakes of the IVR ports (`ivr.ports`), scripted per test."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ivr.journey import JourneyType
from ivr.ports import HeardAudio, HeardKind
from knowledge_client.model import Feedback, Item, Query, SearchResult, Unanswered
from knowledge_client.port import KnowledgeUnavailable

HANGUP = object()  # a script item: the caller hangs up at this collect


@dataclass
class Collect:
    max_digits: int
    first_timeout: float
    inter_digit_timeout: float
    finish_key: str | None


class FakeChannel:
    """Implements `CallChannel`.

    `inputs` scripts what each `collect_digits` call returns ('' = silence, HANGUP = cancel).
    `presses` maps a prompt text to a key the caller presses while it plays: an interruptible
    prompt stops and returns it; either way the key joins the type-ahead buffer.
    """

    def __init__(self, inputs: Iterable[str | object] = (),
                 presses: Mapping[str, str] | None = None) -> None:
        self.inputs = list(inputs)
        self.presses = dict(presses or {})
        self.played: list[tuple[str, bool]] = []
        self.collects: list[Collect] = []
        self.buffer = ""
        self.discards = 0

    @property
    def texts(self) -> list[str]:
        return [text for text, _ in self.played]

    async def play(self, text: str, *, interruptible: bool = True) -> str | None:
        await asyncio.sleep(0)
        self.played.append((text, interruptible))
        key = self.presses.pop(text, None)
        if key is None:
            return None
        self.buffer += key
        return key if interruptible else None

    async def collect_digits(self, *, max_digits: int, first_timeout: float,
                             inter_digit_timeout: float, finish_key: str | None = "#") -> str:
        await asyncio.sleep(0)
        self.collects.append(Collect(max_digits, first_timeout, inter_digit_timeout, finish_key))
        if self.buffer:
            digits, self.buffer = self.buffer[:max_digits], self.buffer[max_digits:]
            return digits
        if not self.inputs:
            raise AssertionError(f"unexpected collect #{len(self.collects)}: script exhausted")
        item = self.inputs.pop(0)
        if item is HANGUP:
            raise asyncio.CancelledError
        assert isinstance(item, str)
        digits, self.buffer = item[:max_digits], item[max_digits:]
        return digits

    def discard_digits(self) -> None:
        self.discards += 1
        self.buffer = ""


@dataclass
class FakeJournal:
    """Implements `Journal`; keeps (type, details) in order."""

    entries: list[tuple[JourneyType, dict[str, object]]] = field(default_factory=list)

    def record(self, type: JourneyType, **details: object) -> None:
        self.entries.append((type, details))

    def types(self) -> list[JourneyType]:
        return [t for t, _ in self.entries]

    def of(self, type: JourneyType) -> list[dict[str, object]]:
        return [d for t, d in self.entries if t is type]


# --- speech ------------------------------------------------------------------------------------

PROMPT_TICKS = 5  # loop turns a fake prompt "plays" before it ends by itself


@dataclass(frozen=True)
class Keys:
    """A script item: the caller presses `digits` (during the prompt when `barge`)."""

    digits: str
    barge: bool = False


@dataclass(frozen=True)
class Say:
    """A script item: the caller says `text` (during the prompt when `barge`); the fake
    listener hears it with `confidence`."""

    text: str
    barge: bool = False
    confidence: float = 0.9


SILENCE = object()  # a script item: nothing, until the first-input timeout


class FakePrompt:
    """Implements `PromptHandle`: plays for PROMPT_TICKS loop turns unless stopped."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.stopped = False
        self._ticks = 0

    def done(self) -> bool:
        return self.stopped or self._ticks >= PROMPT_TICKS

    async def stop(self) -> None:
        if not self.done():
            self.stopped = True

    async def wait_done(self) -> None:
        while not self.done():
            await asyncio.sleep(0)
            self._ticks += 1


class FakeSpeechChannel(FakeChannel):
    """Implements `SpeechChannel`. `turns` script one answer per gather: Keys, Say, SILENCE
    or HANGUP. Plain strings are Keys. A barge-in answer arrives while the prompt plays;
    otherwise after it ended. The answer's losing side (listen for keys, keys for speech)
    waits until the gather cancels it."""

    def __init__(self, turns: Iterable[object] = (),
                 presses: Mapping[str, str] | None = None) -> None:
        super().__init__([], presses)
        self.turns = [Keys(t) if isinstance(t, str) else t for t in turns]
        self.prompts: list[FakePrompt] = []
        self.listens: list[object] = []  # the ListenParams of each listen
        self.hearings = 0  # blocks the caller's audio was open for
        self.ears_open = False
        self.prompts_heard: list[bool] = []  # per prompt: was the audio open when it began
        self._listening = False

    @property
    def stopped(self) -> list[str]:
        return [p.text for p in self.prompts if p.stopped]

    @contextlib.asynccontextmanager
    async def hearing(self) -> AsyncIterator[None]:
        self.hearings += 1
        self.ears_open = True
        try:
            yield
        finally:
            self.ears_open = False

    async def start_prompt(self, text: str) -> FakePrompt:
        await asyncio.sleep(0)
        self.played.append((text, True))
        self.prompts_heard.append(self.ears_open)
        prompt = FakePrompt(text)
        self.prompts.append(prompt)
        return prompt

    def _turn(self) -> object:
        if not self.turns:
            raise AssertionError("unexpected input request: script exhausted")
        return self.turns[0]

    async def _after_prompt(self, barge: bool) -> None:
        if self.prompts and not barge:
            await self.prompts[-1].wait_done()
        await asyncio.sleep(0)

    async def collect_digits(self, *, max_digits: int, first_timeout: float,
                             inter_digit_timeout: float, finish_key: str | None = "#") -> str:
        self.collects.append(Collect(max_digits, first_timeout, inter_digit_timeout, finish_key))
        await asyncio.sleep(0)
        if self.buffer:
            digits, self.buffer = self.buffer[:max_digits], self.buffer[max_digits:]
            return digits
        turn = self._turn()
        if turn is HANGUP:
            raise asyncio.CancelledError
        if isinstance(turn, Keys):
            await self._after_prompt(turn.barge)
            if self.turns and self.turns[0] is turn:
                self.turns.pop(0)
                self.buffer += turn.digits
            digits, self.buffer = self.buffer[:max_digits], self.buffer[max_digits:]
            return digits
        if turn is SILENCE and not self._listening:
            await self._after_prompt(False)
            self.turns.pop(0)
            return ""
        await asyncio.Event().wait()  # speech (or silence heard by listen) decides
        raise AssertionError("unreachable")

    async def listen(self, *, prompt: object, params: object) -> HeardAudio:
        assert self.ears_open, "listen outside hearing(): a quick answer would be clipped"
        self._listening = True
        self.listens.append(params)
        try:
            turn = self._turn()
            if isinstance(turn, Say):
                await self._after_prompt(turn.barge)
                self.turns.pop(0)
                return HeardAudio(HeardKind.SPEECH, turn.text.encode(), 16000)
            if turn is SILENCE:
                await self._after_prompt(False)
                self.turns.pop(0)
                return HeardAudio(HeardKind.NO_INPUT, b"", 16000)
            await asyncio.Event().wait()  # keys (or a hangup) decide
            raise AssertionError("unreachable")
        finally:
            self._listening = False


@dataclass(frozen=True)
class Heard:
    """A `Recognition` for tests."""

    text: str
    confidence: float
    alternatives: tuple[Heard, ...] = ()


class FakeListener:
    """Implements `Listener`: the audio carries the text (FakeSpeechChannel puts it there);
    `confidences` overrides the default confidence per text."""

    def __init__(self, confidences: Mapping[str, float] | None = None,
                 default: float = 0.9) -> None:
        self.confidences = dict(confidences or {})
        self.default = default
        self.grammars: list[tuple[str, ...] | None] = []

    async def transcribe(self, audio: HeardAudio,
                         phrases: Sequence[str] | None) -> Heard:
        await asyncio.sleep(0)
        self.grammars.append(tuple(phrases) if phrases is not None else None)
        text = audio.pcm.decode()
        return Heard(text, self.confidences.get(text, self.default))


class FakeKnowledge:
    """Implements `KnowledgeSource`: canned items per question text, or down, or slow."""

    def __init__(self, answers: Mapping[str, Sequence[Item]] | None = None, *,
                 down: bool = False, delay_s: float = 0.0) -> None:
        self.answers = {k: tuple(v) for k, v in (answers or {}).items()}
        self.down = down
        self.delay_s = delay_s
        self.queries: list[Query] = []
        self.feedbacks: list[Feedback] = []
        self.unanswered: list[Unanswered] = []

    async def search(self, query: Query, *, limit: int = 3) -> SearchResult:
        self.queries.append(query)
        await asyncio.sleep(self.delay_s)
        if self.down:
            raise KnowledgeUnavailable("the knowledge service is down")
        return SearchResult(self.answers.get(query.text, ())[:limit])

    async def feedback(self, fb: Feedback) -> None:
        if self.down:
            raise KnowledgeUnavailable("down")
        self.feedbacks.append(fb)

    async def report_unanswered(self, u: Unanswered) -> None:
        if self.down:
            raise KnowledgeUnavailable("down")
        self.unanswered.append(u)


def item(item_id: str, question: str, score: float) -> Item:
    return Item(item_id, question, f"Answer to {question}.", f"Long answer to {question}.",
                score, "faq")
