"""Intent files (`ivr/flows/intents.yaml`) as the evaluation harness reads them.

The service reads the `intents:` section through `ivr.loader` (flows map intents to nodes);
this reader also takes the `menus:` section — which intents each kind of question hears and
their keypad keys — so the harness recognises each test line with its menu's grammar.
`parse_catalog` is pure and reports every problem at once; `load_catalog` reads the file.
The universal intents of `ivr.intents` (agent, yes, no, one..five) may be listed in a menu
without defining them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from ivr.flow import MENU_KEYS
from ivr.intents import AGENT, NO, SURVEY_DIGITS, YES, IntentSpec

__all__ = ["DEMO_INTENTS", "IntentCatalog", "IntentCatalogError", "load_catalog",
           "parse_catalog"]

DEMO_INTENTS = Path(__file__).resolve().parent.parent / "flows" / "intents.yaml"
UNIVERSAL = {spec.name: spec for spec in (AGENT, YES, NO, *SURVEY_DIGITS)}


class IntentCatalogError(ValueError):
    def __init__(self, source: str, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(f"{source}: {p}" for p in problems))


@dataclass(frozen=True, slots=True)
class IntentCatalog:
    menus: Mapping[str, tuple[IntentSpec, ...]]

    def menu(self, name: str) -> tuple[IntentSpec, ...]:
        return self.menus[name]

    def menu_of(self, intent: str) -> str | None:
        """The first menu that hears `intent`."""
        return next((m for m, specs in self.menus.items()
                     if any(s.name == intent for s in specs)), None)


def load_catalog(path: Path = DEMO_INTENTS) -> IntentCatalog:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise IntentCatalogError(str(path), [f"cannot read the intents file: {exc}"]) from exc
    return parse_catalog(data, str(path))


def parse_catalog(data: object, source: str) -> IntentCatalog:
    problems: list[str] = []
    if not isinstance(data, Mapping):
        raise IntentCatalogError(source, ["expected a mapping with 'intents' and 'menus'"])
    problems += [f"{key}: unknown key" for key in data if key not in ("intents", "menus")]
    defined = _intents(data.get("intents") or {}, problems)
    menus: dict[str, tuple[IntentSpec, ...]] = {}
    raw_menus = data.get("menus")
    if not isinstance(raw_menus, Mapping) or not raw_menus:
        problems.append("menus: expected a mapping of menu name → {intent: [keys]}")
        raw_menus = {}
    for menu, entries in raw_menus.items():
        menus[str(menu)] = _menu(str(menu), entries, {**UNIVERSAL, **defined}, problems)
    if problems:
        raise IntentCatalogError(source, problems)
    return IntentCatalog(menus)


def _intents(raw: object, problems: list[str]) -> dict[str, IntentSpec]:
    if not isinstance(raw, Mapping):
        problems.append("intents: expected a mapping of intent name → {examples: [...]}")
        return {}
    specs: dict[str, IntentSpec] = {}
    for name, body in raw.items():
        where = f"intents: {name}"
        if not isinstance(body, Mapping) or set(body) - {"examples", "label"}:
            problems.append(f"{where}: expected {{examples: [phrases], label: text}}")
            continue
        examples = body.get("examples")
        if (not isinstance(examples, list) or not examples
                or not all(isinstance(e, str | int) and str(e).strip() for e in examples)):
            problems.append(f"{where}: examples: expected a non-empty list of phrases")
            continue
        specs[str(name)] = IntentSpec(str(name), tuple(str(e) for e in examples))
    return specs


def _menu(menu: str, entries: object, known: Mapping[str, IntentSpec],
          problems: list[str]) -> tuple[IntentSpec, ...]:
    where = f"menus: {menu}"
    if not isinstance(entries, Mapping) or not entries:
        problems.append(f"{where}: expected a mapping of intent → [keys]")
        return ()
    specs: list[IntentSpec] = []
    owner: dict[str, str] = {}
    for name, keys in entries.items():
        name = str(name)
        if name not in known:
            problems.append(f"{where}: {name}: unknown intent (define it under 'intents')")
            continue
        key_list = [str(k) for k in keys] if isinstance(keys, list) else None
        if key_list is None or any(k not in MENU_KEYS for k in key_list):
            problems.append(f"{where}: {name}: expected a list of single keys (0-9, *, #)")
            continue
        for key in key_list:
            if key in owner:
                problems.append(f"{where}: {name}: key {key} already means {owner[key]}")
            owner[key] = name
        specs.append(replace(known[name], keys=tuple(key_list)))
    if AGENT.name not in entries:
        problems.append(f"{where}: must hear '{AGENT.name}' (a caller can always ask for a "
                        "human)")
    return tuple(specs)
