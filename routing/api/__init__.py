"""The supervisor REST API: the routing configuration (versioned, audited, applied live) and
agent state commands, under /v1/routing, documented at /v1/openapi.json."""

from routing.api.app import add_routing_api, operations
from routing.api.deps import AgentCommandRejected, AgentCommands, RoutingApiDeps

__all__ = [
    "AgentCommandRejected",
    "AgentCommands",
    "RoutingApiDeps",
    "add_routing_api",
    "operations",
]
