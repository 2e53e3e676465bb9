"""structlog set-up: JSON lines on stderr, per-call context, personal data hashed."""

from __future__ import annotations

import hashlib
import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

# Caller numbers, keypad input and transcripts are personal data: logs carry a short hash.
PERSONAL_KEYS = frozenset({"caller", "caller_number", "digits", "digit", "transcript", "text"})


def redact_personal_data(
    _logger: object, _name: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key in PERSONAL_KEYS & event.keys():
        value = event[key]
        if value not in (None, ""):
            event[key] = "sha256:" + hashlib.sha256(str(value).encode()).hexdigest()[:12]
    return event


def configure_logging(level: str = "info", *, json: bool = True) -> None:
    renderer: Any = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact_personal_data,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
