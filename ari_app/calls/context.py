"""What a call's task needs: the service-wide parts and the call's own state."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from ari_app.ari.rest import AriRest
from ari_app.calls.hub import EventHub
from ari_app.calls.journal import CallJournal
from ari_app.calls.mailbox import CallMailbox
from ari_app.db.engine import Database
from ari_app.settings import PromptSettings, RecordingSettings
from ivr.flow import Flow
from ivr.ports import Listener
from ivr.tts import PromptRenderer
from knowledge_client.port import KnowledgeSource
from recordings.lifecycle import CallRecordings
from routing.service import QueueService


@dataclass(frozen=True)
class ServiceParts:
    ari: AriRest
    app: str
    queues: QueueService
    renderer: PromptRenderer
    prompts: PromptSettings
    recordings: RecordingSettings
    db: Database
    hub: EventHub
    flow: Flow
    is_vip: Callable[[str], bool] = lambda _number: False
    listener: Listener | None = None  # speech recognition; None: keypad only
    knowledge: KnowledgeSource | None = None  # self-service answers; None: straight to agents


@dataclass
class CallContext:
    call_id: str
    channel_id: str
    caller_number: str
    parts: ServiceParts
    mailbox: CallMailbox
    journal: CallJournal
    recordings: CallRecordings
    bind: Callable[[str], None]
    unbind: Callable[[str], None]
    after_call: set[asyncio.Task[Any]] = field(default_factory=set)
    talking_to: str | None = None  # the agent bridged with the caller right now

    def after_hangup(self, work: Coroutine[Any, Any, Any]) -> None:
        """Work that must finish even when the caller hangs up (recording storage, survey rows)."""
        task = asyncio.create_task(work)
        self.after_call.add(task)
        task.add_done_callback(self.after_call.discard)
