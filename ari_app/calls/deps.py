"""The service-wide ports a call is built from, named one by one (no service locator):
the session hands each step only the ones it needs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ari_app.calls.bridge_recorder import BridgeRecorder
from ari_app.calls.call import Call
from ari_app.calls.checkpoint import SavedRecording
from ari_app.calls.monitoring.call_monitors import MonitorPolicy
from ari_app.calls.monitoring.model import MonitorAudit
from ari_app.media.prompt import PromptSounds
from ivr.flow import Flow
from ivr.ports import Listener
from knowledge_client.port import KnowledgeSource
from recordings.lifecycle import MetaStore, Recorder, RecordingPaths
from recordings.model import SurveyAnswer
from routing.actor import QueueService


class SurveyAnswers(Protocol):
    async def add(self, answer: SurveyAnswer) -> None: ...


class ConversationRecorder(Recorder, Protocol):
    def resume(self, name: str) -> None:
        """Take over a recording an earlier run of the service started."""
        ...


class RecorderFactory(Protocol):
    def __call__(self, call: Call, bridge_id: str,
                 saved: SavedRecording | None) -> ConversationRecorder:
        """The recorder of the conversation in `bridge_id`; `saved`: the recording an earlier
        run started (its kind wins over the configured one, so a changed configuration
        still resumes it)."""
        ...


def bridge_recorders(call: Call, bridge_id: str,
                     saved: SavedRecording | None) -> ConversationRecorder:
    """Every conversation recorded on its bridge (a softmix bridge: see snoop_recorder)."""
    return BridgeRecorder(call, bridge_id)


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
    recorders: RecorderFactory = bridge_recorders  # how conversations are recorded
    monitor_audit: MonitorAudit | None = None  # supervisors' monitors; None: none may start
    monitor_policy: MonitorPolicy = MonitorPolicy()
