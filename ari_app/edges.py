"""The call's optional edges, built from settings: the knowledge source and speech listener.

Both are checked at startup (a bad URL, a missing model or FAQ stops the service with a
message naming the setting); during a call their failures degrade to agents, never drop it.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from dataclasses import fields

from ari_app.settings import ConfigError, KnowledgeConfig, SpeechConfig
from ivr.ports import Listener
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
    if config.engine != "none":
        raise ConfigError(f"{source_file}: speech.engine: {config.engine!r} is not available "
                          "yet; use 'none'")


def build_listener(config: SpeechConfig) -> Listener | None:
    return None
