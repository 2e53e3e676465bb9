"""The call's optional edges, built from settings: the knowledge source and speech listener.

Both are checked at startup (a bad URL, a missing model or FAQ stops the service with a
message naming the setting); during a call their failures degrade to agents, never drop it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import Executor
from contextlib import AsyncExitStack
from dataclasses import fields
from typing import Literal

from ari_app.media.caller_audio import SAMPLE_RATE
from ari_app.settings import ConfigError, KnowledgeConfig, SpeechConfig
from ivr.ports import HeardAudio, Listener
from ivr.speech.factory import SpeechSettings, build_recognizer
from ivr.speech.port import (
    Grammar,
    Recognition,
    Recognizer,
    RecognizerConfigError,
    recognition_executor,
    recognize,
)
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


async def open_listener(config: SpeechConfig) -> Listener | None:
    """The recognizer, loaded off the event loop (models take a moment), as the IVR's port."""
    if config.engine == "none":
        return None
    try:
        recognizer = build_recognizer(_speech_settings(config))
    except RecognizerConfigError as exc:
        raise ConfigError(str(exc)) from None
    executor = recognition_executor()
    await asyncio.get_running_loop().run_in_executor(executor, recognizer.prepare, ())
    return RecognizerListener(recognizer, executor)


def _speech_settings(config: SpeechConfig) -> SpeechSettings:
    # The media path delivers slin16 (ari_app.media.caller_audio.SAMPLE_RATE).
    engine: Literal["vosk", "pocketsphinx"] = "vosk" if config.engine == "vosk" else "pocketsphinx"
    return SpeechSettings(engine=engine, vosk_model_dir=config.vosk_model_dir,
                          sample_rate=SAMPLE_RATE)


class RecognizerListener:
    """ivr.ports.Listener over a recognizer engine, decoding on its own thread pool."""

    def __init__(self, recognizer: Recognizer, executor: Executor) -> None:
        self._recognizer = recognizer
        self._executor = executor

    async def transcribe(self, audio: HeardAudio, phrases: Sequence[str] | None) -> Recognition:
        grammar = Grammar(tuple(phrases)) if phrases else None
        return await recognize(self._recognizer, audio.pcm, grammar, audio.sample_rate,
                               self._executor)
