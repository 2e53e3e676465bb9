"""The call's optional edges, built from settings: the knowledge source and speech listener.

Both are checked at startup (a bad URL, a missing model or FAQ stops the service with a
message naming the setting); during a call their failures degrade to agents, never drop it.
"""

from __future__ import annotations

import asyncio
import audioop  # stdlib through 3.12, which pyproject caps us at
from collections.abc import Sequence
from concurrent.futures import Executor
from contextlib import AsyncExitStack
from dataclasses import fields
from typing import Literal

from ari_app.settings import ConfigError, KnowledgeConfig, SpeechConfig
from ivr.flow import Flow
from ivr.intents import AGENT
from ivr.ports import HeardAudio, Listener
from ivr.speech.factory import SpeechSettings, build_recognizer
from ivr.speech.port import (
    Grammar,
    Recognition,
    Recognizer,
    RecognizerConfigError,
    RecognizerError,
    recognition_executor,
    recognize,
)
from knowledge_client.embedded import EmbeddedKnowledge
from knowledge_client.faq import spoken_phrases
from knowledge_client.port import KnowledgeConfigError, KnowledgeSource
from knowledge_client.settings import KnowledgeSettings, build_source


def knowledge_settings(config: KnowledgeConfig, source_file: str) -> KnowledgeSettings | None:
    """Map the YAML section onto the room's settings; None when self-service is off."""
    if config.source == "none":
        return None
    given = {name: value for name, value in config.model_dump().items() if value is not None}
    known = {f.name for f in fields(KnowledgeSettings)}
    try:
        return KnowledgeSettings(**{k: v for k, v in given.items() if k in known})
    except KnowledgeConfigError as exc:
        raise ConfigError(f"{source_file}: {exc}") from None


async def open_knowledge(stack: AsyncExitStack,
                         settings: KnowledgeSettings | None) -> KnowledgeSource | None:
    if settings is None:
        return None
    try:
        return await stack.enter_async_context(build_source(settings))
    except KnowledgeConfigError as exc:
        raise ConfigError(str(exc)) from None


def check_speech(config: SpeechConfig, source_file: str) -> None:
    """Stop startup when the configured recognizer cannot load (e.g. no vosk model)."""
    if config.engine == "none":
        return
    try:
        build_recognizer(_speech_settings(config))
    except RecognizerConfigError as exc:
        raise ConfigError(f"{source_file}: {exc}") from None


def question_phrases(knowledge: KnowledgeSource | None, flow: Flow) -> tuple[str, ...] | None:
    """The vocabulary free-form questions are heard with: the opened embedded FAQ's questions
    and their variants plus every intent example of the flow (so "agent" is heard too). The
    recognizer's general English LM, the alternative, heard almost none of the FAQ's questions
    in espeak/MBROLA telephone audio (measured here); an HTTP source gives no vocabulary."""
    if not isinstance(knowledge, EmbeddedKnowledge):
        return None
    examples = (e for spec in (*flow.intents.specs.values(), AGENT) for e in spec.examples)
    return tuple(dict.fromkeys((*spoken_phrases(knowledge.book), *examples)))


async def open_listener(config: SpeechConfig, grammars: Sequence[Sequence[str] | None] = (),
                        questions: Sequence[str] | None = None) -> Listener | None:
    """The recognizer, loaded and its `grammars` (phrase lists; None: free-form, heard with
    `questions` when given) compiled off the event loop before the first call."""
    if config.engine == "none":
        return None
    try:
        recognizer = build_recognizer(_speech_settings(config))
    except RecognizerConfigError as exc:
        raise ConfigError(str(exc)) from None
    executor = recognition_executor()
    free_form = Grammar(tuple(questions)) if questions else None
    compiled = [free_form if g is None else Grammar(tuple(g)) for g in grammars]
    try:
        await asyncio.get_running_loop().run_in_executor(executor, recognizer.prepare, compiled)
    except RecognizerError as exc:  # e.g. a corrupt vosk model, a menu no dictionary word fits
        executor.shutdown(wait=False)
        raise ConfigError(f"speech.engine {config.engine}: cannot start: {exc}") from None
    return RecognizerListener(recognizer, executor, free_form)


# Telephone audio carries nothing above 4 kHz. Fed to a 16 kHz acoustic model as slin16 it
# is missing the band the model expects (measured: "I want to pay my bill" came out as "the
# real"); decoded at 8 kHz it matches the telephone models the engines are tuned with.
RECOGNITION_RATE = 8000


def _speech_settings(config: SpeechConfig) -> SpeechSettings:
    engine: Literal["vosk", "pocketsphinx"] = "vosk" if config.engine == "vosk" else "pocketsphinx"
    return SpeechSettings(engine=engine, vosk_model_dir=config.vosk_model_dir,
                          sample_rate=RECOGNITION_RATE)


class RecognizerListener:
    """ivr.ports.Listener over a recognizer engine, decoding on its own thread pool."""

    def __init__(self, recognizer: Recognizer, executor: Executor,
                 free_form: Grammar | None = None) -> None:
        self._recognizer = recognizer
        self._executor = executor
        self._free_form = free_form

    async def transcribe(self, audio: HeardAudio, phrases: Sequence[str] | None) -> Recognition:
        grammar = Grammar(tuple(phrases)) if phrases else self._free_form
        pcm = audio.pcm
        if audio.sample_rate != RECOGNITION_RATE:
            pcm = await asyncio.to_thread(_resample, pcm, audio.sample_rate, RECOGNITION_RATE)
        return await recognize(self._recognizer, pcm, grammar, RECOGNITION_RATE, self._executor)


def _resample(pcm: bytes, rate: int, to_rate: int) -> bytes:
    converted, _ = audioop.ratecv(pcm, 2, 1, rate, to_rate, None)
    return converted
