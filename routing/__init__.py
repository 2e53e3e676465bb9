"""Routing: skills, tiered agents, queues with plans and the decisions connecting them; the
queue actor, the supervisor API (`api/`), the versioned configuration store and import.

Pure core: `config` (the configuration model, validation, plan linter), `plan`, `strategies`,
`explain`, `decide` (the reference decision), `estimate`, `lifecycle`, and the incremental
`router` with its `matcher` and indexes. Adapter: `actor` (the asyncio queue actor and
`Ticket`, the engine's API), `queues_conf` (import of an app_queue configuration), `api/` (the
supervisor REST API and the live queue view), `store` and `tables` (versions and audit).
"""

from routing.actor import DeclineReason, QueueService, Ticket
from routing.clock import Clock, MonotonicClock, SimulatedClock
from routing.config import RoutingConfig
from routing.model import (
    AgentConfig,
    AgentState,
    AgentStatus,
    AgentVerdict,
    AgentView,
    CallView,
    Chosen,
    Decision,
    Handoff,
    HandoffContext,
    Offer,
    Position,
    QueueConfig,
    RoutingSnapshot,
    WhyNot,
)
from routing.notices import (
    CommandRejected,
    InvalidConfig,
    Notice,
    OfferNotLive,
    QueueExited,
    QueueRemoved,
    ServiceStopped,
    TicketClosed,
    UnknownAgent,
    UnknownQueue,
    WaitTimeout,
)

__all__ = [
    "AgentConfig",
    "AgentState",
    "AgentStatus",
    "AgentVerdict",
    "AgentView",
    "CallView",
    "Chosen",
    "Clock",
    "CommandRejected",
    "Decision",
    "DeclineReason",
    "Handoff",
    "HandoffContext",
    "InvalidConfig",
    "MonotonicClock",
    "Notice",
    "Offer",
    "OfferNotLive",
    "Position",
    "QueueConfig",
    "QueueExited",
    "QueueRemoved",
    "QueueService",
    "RoutingConfig",
    "RoutingSnapshot",
    "ServiceStopped",
    "SimulatedClock",
    "Ticket",
    "TicketClosed",
    "UnknownAgent",
    "UnknownQueue",
    "WaitTimeout",
    "WhyNot",
]
