"""The service-wide ports a call is built from, named one by one (no service locator):
the session hands each step only the ones it needs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ari_app.media.prompt import PromptSounds
from ivr.flow import Flow
from ivr.ports import Listener
from knowledge_client.port import KnowledgeSource
from recordings.lifecycle import MetaStore, RecordingPaths
from recordings.model import SurveyAnswer
from routing.actor import QueueService


class SurveyAnswers(Protocol):
    async def add(self, answer: SurveyAnswer) -> None: ...


@dataclass(frozen=True, slots=True)
class CallDeps:
    flow: Flow
    prompts: PromptSounds
    queues: QueueService
    surveys: SurveyAnswers
    recording_paths: RecordingPaths
    recording_store: MetaStore
    is_vip: Callable[[str], bool] = lambda _number: False
    listener: Listener | None = None  # speech recognition; None: keypad only
    knowledge: KnowledgeSource | None = None  # self-service answers; None: straight to agents
