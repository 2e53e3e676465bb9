"""The supervisor REST API: the routing configuration (versioned, audited, applied live) and
agent state commands, under /v1/routing, documented at /v1/openapi.json."""

from ari_app.routing_api.app import add_routing_api, operations
from ari_app.routing_api.deps import AgentCommandRejected, AgentCommands, RoutingApiDeps

__all__ = [
    "AgentCommandRejected",
    "AgentCommands",
    "RoutingApiDeps",
    "add_routing_api",
    "operations",
]
