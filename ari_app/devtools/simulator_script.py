"""The caller simulator's script language: a line of actions, e.g.
``wait_for:prompt@main_menu press:1 wait_for:prompt@survey press:5``.

- ``wait:N`` / ``silence:N``: do nothing for N seconds
- ``press:DIGITS``: send keypad digits (RFC 4733 through the Local channel)
- ``wait_for:TYPE`` or ``wait_for:TYPE@NODE``: until the service journals such an event
- ``say:TEXT``: speak TEXT (synthesized; write spaces as underscores: ``say:check_my_claim``)
- ``confirm:TEXT``: after speaking, if the service asks to confirm what it understood (its
  `intent` line says `action: confirm`), say TEXT (e.g. ``confirm:yes``) once it asks;
  otherwise nothing
- ``hangup``: the caller hangs up
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ACTIONS = ("wait", "silence", "press", "say", "confirm", "wait_for", "hangup")
_DIGITS = re.compile(r"^[0-9*#]+$")


class ScriptError(ValueError):
    """A script that cannot be run; the message names the action."""


@dataclass(frozen=True, slots=True)
class Action:
    verb: str
    arg: str = ""

    @property
    def text(self) -> str:
        return self.arg.replace("_", " ").strip()

    @property
    def seconds(self) -> float:
        return float(self.arg)

    def matches(self, line: dict[str, object]) -> bool:
        kind, _, node = self.arg.partition("@")
        return line.get("type") == kind and (not node or line.get("node") == node)


def parse_script(text: str) -> list[Action]:
    actions = []
    for position, word in enumerate(text.split(), start=1):
        verb, _, arg = word.partition(":")
        if verb not in ACTIONS:
            raise ScriptError(f"action {position} '{word}': unknown action, use one of "
                              + ", ".join(ACTIONS))
        actions.append(_checked(Action(verb, arg), position, word))
    return actions


def _checked(action: Action, position: int, word: str) -> Action:
    where = f"action {position} '{word}'"
    if action.verb in ("wait", "silence"):
        try:
            if action.seconds < 0:
                raise ValueError
        except ValueError:
            raise ScriptError(f"{where}: needs a number of seconds >= 0") from None
    elif action.verb == "press" and not _DIGITS.match(action.arg):
        raise ScriptError(f"{where}: needs digits 0-9, * or #")
    elif action.verb == "wait_for" and not action.arg:
        raise ScriptError(f"{where}: needs an event type, e.g. wait_for:agent_answer")
    elif action.verb == "say" and not action.text:
        raise ScriptError(f"{where}: needs words, e.g. say:check_my_claim")
    elif action.verb == "confirm" and not action.text:
        raise ScriptError(f"{where}: needs words, e.g. confirm:yes")
    elif action.verb == "hangup" and action.arg:
        raise ScriptError(f"{where}: takes no argument")
    return action
