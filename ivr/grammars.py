"""The recognizer grammars a flow will ask for, so the service compiles them before the
first call instead of during it (a cold menu grammar cost seconds of the first caller's turn)."""

from __future__ import annotations

from ivr.flow import Flow, MenuNode, SelfServiceNode
from ivr.gather import GatherSpec
from ivr.self_service import SelfServiceCall
from ivr.speech_menu import confirm_specs, menu_spec

__all__ = ["flow_grammars"]

Phrases = tuple[str, ...] | None  # None: free-form speech (a question), no grammar


def flow_grammars(flow: Flow) -> list[Phrases]:
    """Each distinct phrase list the flow's speech steps pass to the listener."""
    found: dict[Phrases, None] = {}
    for node in flow.nodes.values():
        if isinstance(node, MenuNode) and node.speech:
            found[menu_spec(node, (node.say,), flow.intents).phrases()] = None
            found[GatherSpec(node.id, (), intents=confirm_specs(flow.intents)).phrases()] = None
        elif isinstance(node, SelfServiceNode):
            found[None] = None
            yes_no = SelfServiceCall(queue_id="").yes_no
            found[GatherSpec(node.id, (), intents=yes_no).phrases()] = None
    return list(found)
