"""Turn a parsed flow document into a `Flow`, or explain every problem in it at once.

Pure: takes the mapping `yaml.safe_load` produced, the file name for messages and, optionally,
the line of each key (the loader reads them from YAML compose nodes). Every problem is one line
`<file>:<line>: node '<id>': <field>: <what is wrong>`, sorted by line, all raised together as
one `FlowError`, so an author fixes a file in one round.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from difflib import get_close_matches
from pathlib import PurePath
from types import MappingProxyType

from ivr.flow import (
    DEFAULT_INTER_DIGIT_TIMEOUT,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_TIMEOUT,
    MENU_KEYS,
    Flow,
    HangupNode,
    IntentCatalog,
    MenuNode,
    Node,
    NodeKind,
    PromptNode,
    QueueNode,
    SelfServiceNode,
    SurveySpec,
    prompt_cycles,
    reachable,
)
from ivr.validate_speech import (
    MENU_SPEECH_KEYS,
    SELF_SERVICE_KEYS,
    check_self_service,
    language_and_voice,
    menu_speech,
    self_service,
)

__all__ = ["FlowError", "KeyPath", "Problem", "validate_flow"]

FLOW_KEYS = ("name", "language", "voice", "intents_file", "start", "fallback", "nodes",
             "survey")
SURVEY_KEYS = ("say", "reprompt", "thanks", "unanswered", "timeout")
NODE_KEYS: Mapping[NodeKind, tuple[str, ...]] = {
    NodeKind.PROMPT: ("type", "say", "next"),
    NodeKind.MENU: ("type", "say", "options", "no_input", "no_match", "max_attempts", "timeout",
                    "inter_digit_timeout", "on_failure", *MENU_SPEECH_KEYS),
    NodeKind.QUEUE: ("type", "queue", "say"),
    NodeKind.HANGUP: ("type", "say"),
    NodeKind.SELF_SERVICE: SELF_SERVICE_KEYS,
}

KeyPath = tuple[str, ...]  # keys from the document root, e.g. ("nodes", "main_menu", "timeout")
MAX_SECONDS = 120.0  # longer is almost surely milliseconds typed as seconds
MAX_ATTEMPTS_LIMIT = 10


@dataclass(slots=True)
class Report:
    """Collects (line, text) problems; a path's line is that of its nearest known key."""

    lines: Mapping[KeyPath, int]
    problems: list[tuple[int, str]] = field(default_factory=list)

    def add(self, path: KeyPath, text: str) -> None:
        while path and path not in self.lines:
            path = path[:-1]
        self.problems.append((self.lines.get(path, 0), text))


class Fields:
    """Typed reads of one mapping's keys; each problem is reported in the author's terms."""

    def __init__(self, report: Report, data: Mapping[object, object], path: KeyPath) -> None:
        self.report, self.data, self.path = report, data, path
        if path[:1] == ("nodes",):
            self.prefix = f"node '{path[1]}': "
        else:
            self.prefix = "".join(f"{part}: " for part in path)

    def problem(self, label: str, text: str, *, path: KeyPath | None = None) -> None:
        self.report.add((*self.path, *(path or (label,))), f"{self.prefix}{label}: {text}")

    def only(self, allowed: Collection[str]) -> None:
        for key in self.data:
            if key not in allowed:
                near = get_close_matches(str(key), list(allowed), n=1)
                hint = f"did you mean '{near[0]}'?" if near else f"allowed: {', '.join(allowed)}"
                self.problem(str(key), f"unknown key ({hint})")

    def text(self, key: str, *, required: bool = True) -> str | None:
        value = self.data.get(key)
        if value is None:
            if required:
                self.problem(key, "missing")
            return None
        if not isinstance(value, str) or not value.strip():
            self.problem(key, f"expected text, got {value!r}")
            return None
        return value.strip()

    def texts(self, key: str) -> tuple[str, ...]:
        value = self.data.get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.problem(key, f"expected a list of texts, got {value!r}")
            return ()
        return tuple(v.strip() for v in value)

    def mapping(self, key: str) -> Mapping[object, object] | None:
        value = self.data.get(key)
        if not isinstance(value, Mapping):
            self.problem(key, "missing" if value is None else f"expected a mapping, got {value!r}")
            return None
        return value

    def seconds(self, key: str, default: float) -> float:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.problem(key, f"expected a number of seconds, got {value!r}")
        elif not 0 < value <= MAX_SECONDS:
            self.problem(key, f"{value} is not between 0 and {MAX_SECONDS:g} seconds")
        else:
            return float(value)
        return default

    def count(self, key: str, default: int) -> int:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(key, f"expected a whole number, got {value!r}")
        elif not 1 <= value <= MAX_ATTEMPTS_LIMIT:
            self.problem(key, f"{value} is not between 1 and {MAX_ATTEMPTS_LIMIT}")
        else:
            return value
        return default


@dataclass(frozen=True, slots=True, order=True)
class Problem:
    line: int  # 0 when unknown
    text: str  # "node 'main_menu': timeout: expected seconds, got 'five'"

    def format(self, source: str) -> str:
        return f"{source}:{self.line}: {self.text}" if self.line else f"{source}: {self.text}"


class FlowError(ValueError):
    """A flow file that cannot be used; `str()` is one line per problem."""

    def __init__(self, source: str, problems: Iterable[Problem]) -> None:
        self.source = source
        self.problems = tuple(sorted(set(problems)))
        super().__init__("\n".join(p.format(source) for p in self.problems))


def validate_flow(data: object, source: str, *, known_queues: Collection[str] | None = None,
                  lines: Mapping[KeyPath, int] | None = None,
                  problems: Iterable[Problem] = (),
                  catalog: IntentCatalog | None = None) -> Flow:
    """Build the flow or raise `FlowError` listing every problem (plus the given `problems`).

    `catalog` holds the intents of the flow's intents file; menu intents are checked
    against it (the loader reads the file; without it, a menu naming intents is an error).
    """
    report = Report(lines or {})
    flow = _build(data, PurePath(source).stem, report, known_queues, catalog)
    found = [*problems, *(Problem(line, text) for line, text in report.problems)]
    if found or flow is None:
        raise FlowError(source, found)
    return flow


def _build(data: object, default_name: str, report: Report,
           known_queues: Collection[str] | None, catalog: IntentCatalog | None) -> Flow | None:
    if not isinstance(data, Mapping):
        report.add((), "expected a mapping with 'start', 'nodes' and 'survey' at the top level")
        return None
    top = Fields(report, data, ())
    top.only(FLOW_KEYS)
    name = top.text("name", required=False) or default_name
    language, voice = language_and_voice(top)
    top.text("intents_file", required=False)  # read by the loader; here only its type
    start = top.text("start")
    fallback = top.text("fallback", required=False)
    before = len(report.problems)
    nodes, declared = _nodes(top, known_queues, catalog)
    if declared:
        _check_graph(report, nodes, declared, start, fallback)
        check_self_service(report, nodes, language)
        # Only for an otherwise sound graph: a typo in one target would make every node
        # behind it "unreachable" too.
        if len(report.problems) == before and start in nodes:
            _check_reachable(report, nodes, start, fallback)
    survey = _survey(top)
    if start is None or survey is None or not nodes:
        return None
    return Flow(name=name, start=start, nodes=MappingProxyType(nodes), survey=survey,
                language=language, voice=voice, fallback=fallback,
                intents=catalog or IntentCatalog())


def _nodes(top: Fields, known_queues: Collection[str] | None,
           catalog: IntentCatalog | None) -> tuple[dict[str, Node], set[str]]:
    """The nodes of a known type (possibly with bad fields), and the ids of all declared."""
    raw = top.mapping("nodes")
    if raw is None:
        return {}, set()
    if not raw:
        top.report.add(("nodes",), "nodes: no nodes defined")
    nodes: dict[str, Node] = {}
    for node_id, spec in raw.items():
        if not isinstance(node_id, str) or not node_id:
            top.report.add(("nodes", str(node_id)), f"nodes: node id {node_id!r} must be text")
            continue
        where = ("nodes", node_id)
        if not isinstance(spec, Mapping):
            top.report.add(where, f"node '{node_id}': expected a mapping with a 'type'")
            continue
        node = _node(Fields(top.report, spec, where), node_id, known_queues, catalog)
        if node is not None:
            nodes[node_id] = node
    return nodes, {key for key in raw if isinstance(key, str) and key}


def _node(f: Fields, node_id: str, known_queues: Collection[str] | None,
          catalog: IntentCatalog | None) -> Node | None:
    kind = _kind(f)
    if kind is None:
        return None
    f.only(NODE_KEYS[kind])
    # A node with bad fields is still built (with '' or defaults in their place) so that the
    # graph checks see it; the problems already reported keep the flow from being returned.
    if kind is NodeKind.PROMPT:
        return PromptNode(node_id, f.text("say") or "", f.text("next") or "")
    if kind is NodeKind.MENU:
        return _menu(f, node_id, catalog)
    if kind is NodeKind.SELF_SERVICE:
        return self_service(f, node_id)
    if kind is NodeKind.QUEUE:
        queue = f.text("queue") or ""
        if queue and known_queues is not None and queue not in known_queues:
            known = ", ".join(sorted(known_queues)) or "none"
            f.problem("queue", f"'{queue}' is not a known queue (known: {known})")
        return QueueNode(node_id, queue, f.text("say", required=False))
    return HangupNode(node_id, f.text("say", required=False))


def _kind(f: Fields) -> NodeKind | None:
    raw = f.text("type")
    if raw is None:
        return None
    try:
        return NodeKind(raw)
    except ValueError:
        kinds = [str(k) for k in NodeKind]
        near = get_close_matches(raw, kinds, n=1)
        hint = f"did you mean '{near[0]}'?" if near else f"one of {', '.join(kinds)}"
        f.problem("type", f"unknown node type '{raw}' ({hint})")
        return None


def _menu(f: Fields, node_id: str, catalog: IntentCatalog | None) -> MenuNode:
    say, on_failure = f.text("say") or "", f.text("on_failure") or ""
    options = _options(f)
    max_attempts = f.count("max_attempts", DEFAULT_MAX_ATTEMPTS)
    no_input, no_match = f.texts("no_input"), f.texts("no_match")
    for key, texts in (("no_input", no_input), ("no_match", no_match)):
        if len(texts) > max_attempts:
            f.problem(key, f"{len(texts)} texts but max_attempts is {max_attempts}; "
                           "the extra ones never play")
    timeout = f.seconds("timeout", DEFAULT_TIMEOUT)
    inter_digit = f.seconds("inter_digit_timeout", DEFAULT_INTER_DIGIT_TIMEOUT)
    return MenuNode(node_id, say, options, on_failure, no_input, no_match, max_attempts,
                    timeout, inter_digit, **menu_speech(f, catalog))  # type: ignore[arg-type]


def _options(f: Fields) -> Mapping[str, str]:
    raw = f.mapping("options")
    if raw is None:
        return MappingProxyType({})
    if not raw:
        f.problem("options", "no options defined")
    options: dict[str, str] = {}
    for raw_key, target in raw.items():
        # YAML reads an unquoted 1 as the integer 1; "*" and "#" must be quoted in YAML.
        key = str(raw_key) if isinstance(raw_key, int) and not isinstance(raw_key, bool) \
            else raw_key
        label = f"options[{str(raw_key)!r}]"
        if not isinstance(key, str) or key not in MENU_KEYS:
            f.problem(label, "not a single key 0-9, * or #", path=("options", str(raw_key)))
        elif not isinstance(target, str) or not target:
            f.problem(label, f"expected a node id, got {target!r}", path=("options", key))
        else:
            options[key] = target
    return MappingProxyType(options)


def _survey(top: Fields) -> SurveySpec | None:
    raw = top.mapping("survey")
    if raw is None:
        return None
    f = Fields(top.report, raw, ("survey",))
    f.only(SURVEY_KEYS)
    say, reprompt, thanks, unanswered = (
        f.text(key) or "" for key in ("say", "reprompt", "thanks", "unanswered"))
    return SurveySpec(say, reprompt, thanks, unanswered, f.seconds("timeout", DEFAULT_TIMEOUT))


def _check_graph(report: Report, nodes: Mapping[str, Node], declared: set[str],
                 start: str | None, fallback: str | None) -> None:
    """Targets exist and prompts cannot loop without a menu.

    A node with problems of its own still counts as existing, so one mistake is not echoed
    as "no such node" elsewhere.
    """
    for node in nodes.values():
        for label, path, target in _edges(node):
            if target and target not in declared:  # '' = missing, reported already
                report.add(("nodes", node.id, *path),
                           f"node '{node.id}': {label} -> '{target}': no such node")
    if start is not None and start not in declared:
        report.add(("start",), f"start -> '{start}': no such node")
    if fallback is not None and fallback not in declared:
        report.add(("fallback",), f"fallback -> '{fallback}': no such node")
    elif fallback is not None and fallback in nodes and not isinstance(nodes[fallback], QueueNode):
        report.add(("fallback",), f"fallback -> '{fallback}': not a queue node")
    for cycle in prompt_cycles(nodes):
        report.add(("nodes", cycle[0], "next"), f"node '{cycle[0]}': next: prompts loop forever "
                   f"without a menu ({' -> '.join(cycle)})")


def _check_reachable(report: Report, nodes: Mapping[str, Node], start: str,
                     fallback: str | None) -> None:
    # The fallback queue is reached by the runner's loop guard, so it counts as reachable.
    seen = reachable(nodes, [start] if fallback is None else [start, fallback])
    for node_id in nodes.keys() - seen:
        report.add(("nodes", node_id), f"node '{node_id}': unreachable from start '{start}'")


def _edges(node: Node) -> list[tuple[str, KeyPath, str]]:
    """(label for messages, key path for the line, target id) of each way out of a node."""
    if isinstance(node, PromptNode):
        return [("next", ("next",), node.next)]
    if isinstance(node, MenuNode):
        edges = [(f"options['{key}']", ("options", key), target)
                 for key, target in node.options.items()]
        edges += [(f"intents['{name}']", ("intents", name), target)
                  for name, target in node.intents.items()]
        return [*edges, ("on_failure", ("on_failure",), node.on_failure)]
    if isinstance(node, SelfServiceNode):
        return [("on_failure", ("on_failure",), node.on_failure)]
    return []
