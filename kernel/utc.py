"""A query or body field holding a moment in time: must name its zone, is kept in UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime


def _in_utc(value: datetime) -> datetime:
    """In UTC, as stored; a time that has none (year 1 east of Greenwich) is refused."""
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("out of range in UTC") from None


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_in_utc)]
