"""`RoutingConfig` to and from a JSON document, strictly (pure: no I/O).

The document is what the configuration store saves per version:
`{"format": 1, "skills": [...], "agents": [...], "queues": [...], "vips": [...]}`; each item
has the fields of its dataclass, by name. The version is not in the document: it is the
document's key in the store. Reading follows the dataclasses' type hints, so a field added to
`routing.config` with a default is read from older documents without a migration; an unknown
key, a missing field without a default, or a wrong type is a `DocumentError` naming the path.
"""

from __future__ import annotations

import dataclasses
import math
import types
from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

from routing.config import RoutingConfig

FORMAT = 1
_COLLECTIONS = ("skills", "agents", "queues", "vips")

T = TypeVar("T")


class DocumentError(ValueError):
    """A document that is not a routing configuration; `path` names the offending field."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path or 'document'}: {message}")
        self.path = path
        self.message = message


def to_document(config: RoutingConfig) -> dict[str, Any]:
    """The configuration as JSON-ready dicts and lists (without its version)."""
    return {"format": FORMAT, **{name: encode_all(getattr(config, name)) for name in _COLLECTIONS}}


def from_document(document: object, *, version: int = 0) -> RoutingConfig:
    """The configuration a document describes, as version `version`."""
    if not isinstance(document, Mapping):
        raise DocumentError("", f"expected an object, got {_kind(document)}")
    if document.get("format") != FORMAT:
        raise DocumentError("format", f"expected {FORMAT}, got {document.get('format')!r}")
    unknown = sorted(set(document) - {"format", *_COLLECTIONS})
    if unknown:
        raise DocumentError(unknown[0], "unknown key")
    reader = _Reader()
    hints = reader.hints(RoutingConfig)
    parts = {name: reader.value(hints[name], document.get(name, []), name) for name in _COLLECTIONS}
    return RoutingConfig(**parts, version=version)


def encode(value: object) -> dict[str, Any]:
    """One configuration value (a skill, an agent, a queue, ...) as a JSON-ready dict."""
    if not dataclasses.is_dataclass(value) or isinstance(value, type):
        raise TypeError(f"not a configuration value: {value!r}")
    return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init}


def encode_all(values: tuple[object, ...]) -> list[dict[str, Any]]:
    return [encode(v) for v in values]


def decode(cls: type[T], document: object, path: str = "") -> T:
    """A configuration value of type `cls` from its JSON-ready dict."""
    return _Reader().dataclass(cls, document, path)


def _encode(value: object) -> Any:
    if isinstance(value, tuple):
        return [_encode(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return encode(value)
    return value


class _Reader:
    """Reads one document; remembers each dataclass's resolved type hints meanwhile."""

    def __init__(self) -> None:
        self._hints: dict[type, dict[str, Any]] = {}

    def hints(self, cls: type) -> dict[str, Any]:
        if cls not in self._hints:
            self._hints[cls] = get_type_hints(cls)
        return self._hints[cls]

    def value(self, hint: Any, value: object, path: str) -> Any:
        origin = get_origin(hint)
        if origin in (Union, types.UnionType):
            options = get_args(hint)
            if value is None and type(None) in options:
                return None
            (inner,) = [o for o in options if o is not type(None)]
            return self.value(inner, value, path)
        if origin is tuple:
            if not isinstance(value, list):
                raise DocumentError(path, f"expected a list, got {_kind(value)}")
            item = get_args(hint)[0]
            return tuple(self.value(item, v, f"{path}[{i}]") for i, v in enumerate(value))
        if origin is Literal:
            if value not in get_args(hint):
                allowed = ", ".join(map(str, get_args(hint)))
                raise DocumentError(path, f"expected one of {allowed}, got {value!r}")
            return value
        if isinstance(hint, type) and dataclasses.is_dataclass(hint):
            return self.dataclass(hint, value, path)
        return _scalar(hint, value, path)

    def dataclass(self, cls: type[T], value: object, path: str) -> T:
        if not isinstance(value, Mapping):
            raise DocumentError(path, f"expected an object, got {_kind(value)}")
        fields = {f.name: f for f in dataclasses.fields(cls) if f.init}  # type: ignore[arg-type]
        prefix = f"{path}." if path else ""
        unknown = sorted(k for k in value if k not in fields)
        if unknown:
            raise DocumentError(f"{prefix}{unknown[0]}", "unknown key")
        hints = self.hints(cls)
        kwargs: dict[str, Any] = {}
        for name, f in fields.items():
            if name in value:
                kwargs[name] = self.value(hints[name], value[name], f"{prefix}{name}")
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise DocumentError(f"{prefix}{name}", "missing")
        return cls(**kwargs)


def _scalar(hint: Any, value: object, path: str) -> Any:
    checks: dict[Any, Callable[[object], bool]] = {
        str: lambda v: isinstance(v, str),
        bool: lambda v: isinstance(v, bool),
        int: lambda v: isinstance(v, int) and not isinstance(v, bool),
        float: lambda v: (isinstance(v, int | float) and not isinstance(v, bool)
                          and math.isfinite(v)),
    }  # fmt: skip
    check = checks.get(hint)
    if check is None:
        raise TypeError(f"{path}: no reader for {hint!r}")
    if not check(value):
        raise DocumentError(path, f"expected {hint.__name__}, got {_kind(value)}")
    return float(value) if hint is float else value  # type: ignore[arg-type]


def _kind(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
             int: "an integer", float: "a number", type(None): "null"}  # fmt: skip
    return names.get(type(value), type(value).__name__)
