"""The agents' availability on the replay clock, from what was recorded about them. Pure.

Two kinds of record: the agent commands supervisors and agents gave (login, logout, pause,
resume: the routing audit), applied with the live router's own transitions
(`routing.lifecycle`), and the calls agents answered. Every configured agent starts available,
as the service logs them all in when it starts; commands before the window (negative times)
decide where each starts. An answer proves its agent available when the offer was made: an
agent the commands leave logged out or paused at that moment is taken to be available from
then on (the service was restarted, which logs everyone in, or a command was not recorded).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from routing import lifecycle as life
from routing.model import AgentStatus, AgentView
from routing.notices import CommandRejected
from routing.whatif.model import AgentChange, Staffing

Command = Literal["login", "logout", "pause", "resume"]
_ANSWERED = "answered"


@dataclass(frozen=True, slots=True)
class AgentCommand:
    at_s: float  # on the replay clock; negative: before the window
    agent_id: str
    command: Command


@dataclass(frozen=True, slots=True)
class AnsweredOffer:
    at_s: float  # when the agent was offered the call they answered
    agent_id: str


def staffing(agents: Iterable[str], commands: Sequence[AgentCommand],
             answered: Sequence[AnsweredOffer] = ()) -> Staffing:  # fmt: skip
    """Availability of `agents` (others' records are ignored), in time order; at equal times
    commands before answers, each kind in the order given."""
    views = {a: AgentView(a) for a in agents}
    events = sorted([(c.at_s, 0, i, c.agent_id, c.command) for i, c in enumerate(commands)]
                    + [(o.at_s, 1, i, o.agent_id, _ANSWERED) for i, o in enumerate(answered)])
    initial: dict[str, AgentStatus] | None = None
    changes: list[AgentChange] = []
    for at, _, _, agent_id, what in events:
        if initial is None and at >= 0:
            initial = {a: v.status for a, v in views.items()}
        view = views.get(agent_id)
        if view is None:
            continue
        new = _apply(view, what)
        if new.status is not view.status and at >= 0:
            changes.append(AgentChange(at, agent_id, new.status))
        views[agent_id] = new
    if initial is None:
        initial = {a: v.status for a, v in views.items()}
    start = tuple((a, s) for a, s in initial.items() if s is not AgentStatus.AVAILABLE)
    return Staffing(start, tuple(changes))


def _apply(view: AgentView, what: str) -> AgentView:
    if what == _ANSWERED:
        return life.login(life.resume(view) if view.status is AgentStatus.PAUSED else view)
    try:
        if what == "login":
            return life.login(view)
        if what == "logout":
            return life.logout(view)
        if what == "pause":
            return life.pause(view, "replayed")
        return life.resume(view)
    except CommandRejected:  # the live API refused it too, and audits only what it carried out
        return view
