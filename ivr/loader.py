"""Read a flow file (YAML) and hand it to the pure validator, with the line of every key."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import yaml

from ivr.flow import Flow, IntentCatalog
from ivr.validate import FlowError, KeyPath, Problem, Report, validate_flow
from ivr.validate_speech import intents_path, parse_catalog, uses_intents

__all__ = ["HOTLINE_FLOW", "FlowError", "load_flow"]

HOTLINE_FLOW = Path(__file__).parent / "flows" / "hotline.yaml"
DEFAULT_INTENTS = Path(__file__).parent / "flows" / "intents.yaml"  # without `intents_file:`


def load_flow(path: Path, *, known_queues: Collection[str] | None = None) -> Flow:
    """Load and validate a flow; raise `FlowError` listing every problem, one line each.

    `known_queues`, when given, are the queue ids of the service configuration: a queue node
    naming any other queue is an error (a typo there would strand callers at run time).
    """
    data, lines, duplicates = _read(path, "flow")
    catalog = None
    if uses_intents(data):
        named = intents_path(data, str(path))
        catalog = load_intents(Path(named) if named is not None else DEFAULT_INTENTS)
    return validate_flow(data, str(path), known_queues=known_queues, lines=lines,
                         problems=duplicates, catalog=catalog)


def load_intents(path: Path) -> IntentCatalog:
    """Read an intents file (see ivr/flows/intents.yaml); raise `FlowError` naming it."""
    data, lines, duplicates = _read(path, "intents")
    report = Report(lines)
    catalog = parse_catalog(data, report)
    found = [*duplicates, *(Problem(line, text) for line, text in report.problems)]
    if found:
        raise FlowError(str(path), found)
    return catalog


def _read(path: Path, what: str) -> tuple[object, dict[KeyPath, int], list[Problem]]:
    """The parsed YAML document, the line of every key, and duplicate-key problems."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FlowError(source, [Problem(0, f"cannot read the {what} file: {exc}")]) from exc
    loader = yaml.SafeLoader(text)
    try:
        # Compose once, keep the node tree for line numbers, then build plain Python values.
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise FlowError(source, [Problem(line, f"not valid YAML: {what}")]) from exc
    finally:
        loader.dispose()
    lines: dict[KeyPath, int] = {(): 1}
    duplicates: list[Problem] = []
    if root is not None:
        _index_keys(root, (), lines, duplicates)
    return data, lines, duplicates


def _index_keys(node: yaml.Node, path: KeyPath, lines: dict[KeyPath, int],
                duplicates: list[Problem]) -> None:
    """Record the line of every mapping key; YAML keeps the last of duplicate keys silently."""
    if not isinstance(node, yaml.MappingNode):
        return
    for key_node, value_node in node.value:
        key = str(key_node.value)
        line = key_node.start_mark.line + 1
        if (*path, key) in lines:
            duplicates.append(Problem(line, f"{_describe(path)}{key}: duplicate key "
                                            f"(first on line {lines[(*path, key)]})"))
            continue
        lines[(*path, key)] = line
        _index_keys(value_node, (*path, key), lines, duplicates)


def _describe(path: KeyPath) -> str:
    if path[:1] == ("nodes",) and len(path) >= 2:
        return f"node '{path[1]}': " + "".join(f"{part}: " for part in path[2:])
    return "".join(f"{part}: " for part in path)
