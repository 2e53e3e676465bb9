"""The one place recording names and store paths are made."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import PurePath

PREFIX = "hotline"
_NAME = re.compile(rf"^{PREFIX}-(?P<call_id>[A-Za-z0-9-]+)-(?P<seq>\d+)$")


def recording_name(call_id: str, seq: int) -> str:
    """Name Asterisk records under (the spool file is ``<name>.<format>``)."""
    return f"{PREFIX}-{call_id}-{seq}"


def parse_recording_name(name: str) -> tuple[str, int] | None:
    match = _NAME.match(name)
    return (match["call_id"], int(match["seq"])) if match else None


def store_relative_path(started_at: datetime, recording_id: str, fmt: str) -> PurePath:
    """Store layout: one folder per day, so no folder grows without bound."""
    return PurePath(f"{started_at:%Y/%m/%d}") / f"{recording_id}.{fmt}"
