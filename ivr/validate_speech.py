"""The speech parts of flow validation: languages and voices, speech menus, self-service
nodes, and the intents file a flow names. Pure; `ivr.validate` calls in with its `Fields`."""

from __future__ import annotations

import string
from collections.abc import Collection, Mapping
from pathlib import PurePath
from types import MappingProxyType
from typing import TYPE_CHECKING

from ivr.flow import (
    DEFAULT_CHOOSE,
    DEFAULT_CONFIRM,
    DEFAULT_END_SILENCE,
    DEFAULT_MAX_SPEECH,
    DEFAULT_QUESTION_END_SILENCE,
    DEFAULT_TIMEOUT,
    LANGUAGE_VOICES,
    AfterContained,
    IntentCatalog,
    Node,
    QueueNode,
    SelfServiceNode,
)
from ivr.intents import DEFAULT_HIGH, DEFAULT_LOW, IntentSpec

if TYPE_CHECKING:
    from ivr.validate import Fields, Report

MENU_SPEECH_KEYS = ("speech", "intents", "act_above", "confirm_below", "confirm", "keypad_say",
                    "end_silence", "max_speech")
SELF_SERVICE_KEYS = ("type", "say", "one_moment", "helped", "on_contained", "on_failure",
                     "language", "choose", "timeout", "end_silence", "max_speech")


def language_and_voice(top: Fields) -> tuple[str, str]:
    """The flow's language (en by default) and a voice that speaks it (its default voice)."""
    language = top.text("language", required=False) or "en"
    if language not in LANGUAGE_VOICES:
        top.problem("language", f"'{language}' is not supported "
                                f"(one of {', '.join(LANGUAGE_VOICES)})")
        language = "en"
    voices = LANGUAGE_VOICES[language]
    voice = top.text("voice", required=False) or voices[0]
    if voice not in voices:
        top.problem("voice", f"'{voice}' does not speak language '{language}' "
                             f"(use {' or '.join(voices)})")
    return language, voice


def flag(f: Fields, key: str) -> bool:
    value = f.data.get(key, False)
    if not isinstance(value, bool):
        f.problem(key, f"expected true or false, got {value!r}")
        return False
    return value


def fraction(f: Fields, key: str, default: float) -> float:
    value = f.data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        f.problem(key, f"expected a number between 0 and 1, got {value!r}")
        return default
    return float(value)


def template(f: Fields, key: str, default: str, allowed: Collection[str]) -> str:
    """A text with {placeholders}; only `allowed` names may appear."""
    text = f.text(key, required=False)
    if text is None:
        return default
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as exc:
        f.problem(key, f"not a valid text template: {exc}")
        return default
    if unknown := names - set(allowed):
        f.problem(key, f"unknown placeholder {{{sorted(unknown)[0]}}} "
                       f"(allowed: {', '.join('{' + a + '}' for a in allowed)})")
        return default
    return text


def menu_speech(f: Fields, catalog: IntentCatalog | None) -> dict[str, object]:
    """The speech fields of a menu node, as MenuNode keyword arguments."""
    speech = flag(f, "speech")
    intents = _menu_intents(f, catalog)
    if speech and f.data.get("intents") is None:
        f.problem("speech", "true but the menu declares no intents")
    if intents and not speech:
        f.problem("intents", "declared but speech is not true; they would never be heard")
    act_above = fraction(f, "act_above", DEFAULT_HIGH)
    confirm_below = fraction(f, "confirm_below", DEFAULT_LOW)
    if confirm_below > act_above:
        f.problem("confirm_below", f"{confirm_below} is above act_above {act_above}")
    return {
        "speech": speech, "intents": MappingProxyType(intents), "act_above": act_above,
        "confirm_below": confirm_below,
        "confirm": template(f, "confirm", DEFAULT_CONFIRM, ("label",)),
        "keypad_say": f.text("keypad_say", required=False),
        "end_silence": f.seconds("end_silence", DEFAULT_END_SILENCE),
        "max_speech": f.seconds("max_speech", DEFAULT_MAX_SPEECH),
    }


def _menu_intents(f: Fields, catalog: IntentCatalog | None) -> dict[str, str]:
    if f.data.get("intents") is None:
        return {}
    raw = f.mapping("intents")
    if raw is None:
        return {}
    if catalog is None:
        f.problem("intents", "the flow's intents file was not loaded (use ivr.loader.load_flow)")
        return {}
    result: dict[str, str] = {}
    for name, target in raw.items():
        label, path = f"intents['{name}']", ("intents", str(name))
        if not isinstance(name, str) or name not in catalog.specs:
            known = ", ".join(sorted(catalog.specs)) or "none"
            f.problem(label, f"no intent '{name}' in the intents file (known: {known})",
                      path=path)
        elif not isinstance(target, str) or not target:
            f.problem(label, f"expected a node id, got {target!r}", path=path)
        else:
            result[name] = target
    return result


def self_service(f: Fields, node_id: str) -> SelfServiceNode:
    after = f.text("on_contained", required=False) or AfterContained.SURVEY
    if after not in {str(a) for a in AfterContained}:
        f.problem("on_contained", f"'{after}' is not one of {', '.join(AfterContained)}")
        after = AfterContained.SURVEY
    language = f.text("language", required=False)
    if language is not None and language not in LANGUAGE_VOICES:
        f.problem("language", f"'{language}' is not supported "
                              f"(one of {', '.join(LANGUAGE_VOICES)})")
    return SelfServiceNode(
        node_id, f.text("say") or "", f.text("one_moment") or "", f.text("helped") or "",
        f.text("on_failure") or "", AfterContained(after), language,
        template(f, "choose", DEFAULT_CHOOSE, ("a", "b")),
        f.seconds("timeout", DEFAULT_TIMEOUT),
        f.seconds("end_silence", DEFAULT_QUESTION_END_SILENCE),
        f.seconds("max_speech", DEFAULT_MAX_SPEECH))


def check_self_service(report: Report, nodes: Mapping[str, Node], language: str) -> None:
    """on_failure must be a queue (a human); a node's language must be the flow's, since the
    flow's one voice speaks every prompt."""
    for node in nodes.values():
        if not isinstance(node, SelfServiceNode):
            continue
        target = nodes.get(node.on_failure)
        if target is not None and not isinstance(target, QueueNode):
            report.add(("nodes", node.id, "on_failure"), f"node '{node.id}': on_failure -> "
                       f"'{node.on_failure}': not a queue node (an agent must take over)")
        if node.language in LANGUAGE_VOICES and node.language != language:
            report.add(("nodes", node.id, "language"), f"node '{node.id}': language: "
                       f"'{node.language}' differs from the flow's language '{language}'")


def parse_catalog(data: object, report: Report) -> IntentCatalog:
    """The `intents:` section of an intents file: name -> examples (and an optional label)."""
    section = data.get("intents") if isinstance(data, Mapping) else None
    if not isinstance(section, Mapping) or not section:
        report.add(("intents",), "intents: missing or empty (expected name: {examples: [...]})")
        return IntentCatalog()
    specs: dict[str, IntentSpec] = {}
    labels: dict[str, str] = {}
    for name, body in section.items():
        where = ("intents", str(name))
        examples = body.get("examples") if isinstance(body, Mapping) else None
        if not isinstance(examples, list) or not examples or not all(
                isinstance(e, str | int) and str(e).strip() for e in examples):
            report.add(where, f"intent '{name}': examples: expected a list of phrases")
            continue
        label = body.get("label") if isinstance(body, Mapping) else None
        if label is not None and (not isinstance(label, str) or not label.strip()):
            report.add((*where, "label"), f"intent '{name}': label: expected text")
            label = None
        specs[str(name)] = IntentSpec(str(name), tuple(str(e).strip() for e in examples))
        if label:
            labels[str(name)] = label.strip()
    return IntentCatalog(MappingProxyType(specs), MappingProxyType(labels))


def intents_path(data: object, flow_source: str) -> PurePath | None:
    """The intents file a flow names (`intents_file:`, relative to the flow file), if any."""
    named = data.get("intents_file") if isinstance(data, Mapping) else None
    return PurePath(flow_source).parent / named if isinstance(named, str) and named else None


def uses_intents(data: object) -> bool:
    nodes = data.get("nodes") if isinstance(data, Mapping) else None
    return isinstance(nodes, Mapping) and any(
        isinstance(spec, Mapping) and spec.get("intents") is not None for spec in nodes.values())
