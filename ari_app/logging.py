"""structlog set-up: JSON lines on stderr, per-call context, personal data hashed with a key.

Caller numbers, keypad input, what callers said and asked are personal data: wherever such a
key appears in a log line, at any depth of nested mappings and lists, its value is replaced by
`hmac:` and the first 16 hex digits of its HMAC-SHA256 under a secret key. Lines about one
caller can still be joined (the same value gives the same hash), but a hash cannot be reversed
without the key: a bare hash of a phone number can (there are few numbers; one was recovered
from its unsalted 48-bit SHA-256 in 0.19 s).

The key is the setting `logging.hmac_key` (`ari_app/settings.py`; environment
`HOTLINE_LOG_HMAC_KEY`), 16 characters or more, which the service must have when it listens
beyond loopback. `configure_logging` takes it as `hmac_key`; a caller that passes none gets
`HOTLINE_LOG_HMAC_KEY` from the environment (a shorter key is used and warned about). Without
either, the process draws a random key (and says so in its first lines): hashes then join lines
within one run of the service, not across restarts, and nobody, the operators included, can
test a number against them.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog
from pydantic import SecretStr

KEY_ENV = "HOTLINE_LOG_HMAC_KEY"
KEY_SETTING = f"logging.hmac_key ({KEY_ENV})"  # how the log lines about the key name it
MIN_KEY_CHARS = 16
PREFIX = "hmac:"
DIGITS = 16  # hex digits kept: 64 bits, for joining lines; the key, not the length, protects
MAX_DEPTH = 8  # nesting walked; anything deeper is replaced whole

# Keys whose values are personal data, wherever they appear.
PERSONAL_KEYS = frozenset({
    "caller", "caller_number", "caller_id", "callerid", "connected_number", "number", "phone",
    "digits", "digit", "dtmf", "keys", "pressed",
    "transcript", "transcripts", "text", "utterance", "utterances", "words", "heard", "said",
    "question", "questions", "query", "answer", "notes", "note",
})  # fmt: skip


def log_key(environ: Mapping[str, str] = os.environ,
            configured: SecretStr | str | None = None) -> tuple[bytes, str | None]:  # fmt: skip
    """The configured key (`configured`, else `HOTLINE_LOG_HMAC_KEY` in `environ`), or a random
    one for this process; with what to warn about (`random`, `short`), if anything."""
    if isinstance(configured, SecretStr):
        configured = configured.get_secret_value()
    if not configured:
        configured = environ.get(KEY_ENV, "")
    if not configured:
        return secrets.token_bytes(32), "random"
    key = configured.encode("utf-8", "surrogateescape")
    return key, "short" if len(configured) < MIN_KEY_CHARS else None


class Redactor:
    """A structlog processor hashing personal data with `key`."""

    def __init__(self, key: bytes) -> None:
        if not key:
            raise ValueError("an empty key hashes like no key at all")
        self._key = key

    def digest(self, value: object) -> str:
        mac = hmac.new(self._key, str(value).encode("utf-8", "surrogateescape"), hashlib.sha256)
        return PREFIX + mac.hexdigest()[:DIGITS]

    def __call__(self, _logger: object, _name: str,
                 event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:  # fmt: skip
        for key, value in event.items():
            if key != "event":  # the line's static name
                event[key] = self._value(key, value, 0)
        return event

    def _value(self, key: object, value: object, depth: int) -> object:
        if isinstance(key, str) and key.lower() in PERSONAL_KEYS:
            return value if value in (None, "") else self.digest(value)
        if isinstance(value, Mapping | list | tuple) and depth >= MAX_DEPTH:
            return self.digest(value)  # too deep to look into: hidden whole
        if isinstance(value, Mapping):
            return {k: self._value(k, v, depth + 1) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self._value(None, v, depth + 1) for v in value]
        return value


_redactor = Redactor(secrets.token_bytes(32))  # until configure_logging reads the setting


def redact_personal_data(
    logger: object, name: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """The processor `configure_logging` installs, with the process's key."""
    return _redactor(logger, name, event)


def configure_logging(level: str = "info", *, hmac_key: SecretStr | str | None = None,
                      json: bool = True, environ: Mapping[str, str] = os.environ) -> None:
    """Set structlog up for the process, hashing personal data with `hmac_key` (the setting
    `logging.hmac_key`); without it the key is (re)read from `environ`."""
    global _redactor
    key, problem = log_key(environ, hmac_key)
    _redactor = Redactor(key)
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
    if problem == "random":
        structlog.get_logger(__name__).info(
            "logging.hmac_key_random", setting=KEY_SETTING,
            effect="hashes of personal data join lines within this run only")  # fmt: skip
    elif problem == "short":
        structlog.get_logger(__name__).warning(
            "logging.hmac_key_short", setting=KEY_SETTING, wanted=f"{MIN_KEY_CHARS}+ characters")
