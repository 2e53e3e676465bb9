"""The one place recording names and store paths are made."""

from __future__ import annotations

from datetime import datetime
from pathlib import PurePath

PREFIX = "hotline"


def recording_name(call_id: str, seq: int) -> str:
    """Name Asterisk records under (the spool file is ``<name>.<format>``)."""
    return f"{PREFIX}-{call_id}-{seq}"


def store_relative_path(started_at: datetime, recording_id: str, fmt: str) -> PurePath:
    """Store layout: one folder per day, so no folder grows without bound."""
    return PurePath(f"{started_at:%Y/%m/%d}") / f"{recording_id}.{fmt}"
