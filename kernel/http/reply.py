"""JSON replies for every room's routes: datetimes as ISO 8601, sets as sorted lists."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from aiohttp import web


def to_json(value: Any) -> str:
    return json.dumps(value, default=_default)


def json_reply(value: Any, *, status: int = 200,
               headers: Mapping[str, str] | None = None) -> web.Response:  # fmt: skip
    return web.json_response(value, status=status, headers=headers, dumps=to_json)


def _default(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")
