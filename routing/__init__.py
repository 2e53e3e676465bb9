"""Routing room: queues, agents and the decisions that connect waiting callers to agents."""

from routing.clock import Clock, MonotonicClock, SimulatedClock
from routing.decide import STRATEGIES, Candidate, Strategy, decide, longest_idle
from routing.model import (
    AgentConfig,
    AgentState,
    AgentStatus,
    AgentView,
    Offer,
    OfferReason,
    Passed,
    QueueConfig,
    RoutingSnapshot,
    ServiceStopped,
    TicketClosed,
    UnknownAgent,
    UnknownQueue,
    WaitingCall,
    WaitTimeout,
    WhyNot,
)
from routing.service import DeclineReason, QueueService, Ticket

__all__ = [
    "STRATEGIES",
    "AgentConfig",
    "AgentState",
    "AgentStatus",
    "AgentView",
    "Candidate",
    "Clock",
    "DeclineReason",
    "MonotonicClock",
    "Offer",
    "OfferReason",
    "Passed",
    "QueueConfig",
    "QueueService",
    "RoutingSnapshot",
    "ServiceStopped",
    "SimulatedClock",
    "Strategy",
    "Ticket",
    "TicketClosed",
    "UnknownAgent",
    "UnknownQueue",
    "WaitTimeout",
    "WaitingCall",
    "WhyNot",
    "decide",
    "longest_idle",
]
