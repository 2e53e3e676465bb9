"""The supervisor REST API: the routing configuration (versioned, audited, applied live) and
agent state commands, under /v1/routing, documented at /v1/openapi.json; and the queue actor's
live view at /v1/queues."""

from routing.api.app import add_routing_api, operations
from routing.api.deps import AgentCommandRejected, AgentCommands, RoutingApiDeps
from routing.api.live import add_live_routes

__all__ = [
    "AgentCommandRejected",
    "AgentCommands",
    "RoutingApiDeps",
    "add_live_routes",
    "add_routing_api",
    "operations",
]
