"""The database room's own errors: callers never see SQLAlchemy or driver exceptions."""

from __future__ import annotations

import re

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

# `scheme://user:password@host` -> `scheme://user:***@host`, for URLs too broken to parse.
_PASSWORD_IN_URL = re.compile(r"(?P<head>://[^/:@\s]*:)[^@\s]*(?P<tail>@)")


class DatabaseError(Exception):
    """A database operation failed for a reason other than those below."""


class DatabaseUnavailable(DatabaseError):
    """The database cannot be reached or the URL is unusable; retrying later may help."""


class DatabaseConflict(DatabaseError):
    """A write broke a constraint: duplicate key, unknown parent row or out-of-range value."""


def mask_url(url: str) -> str:
    """The URL with its password replaced by `***`, safe to log and to put in messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return _PASSWORD_IN_URL.sub(r"\g<head>***\g<tail>", url)


def one_line(exc: BaseException) -> str:
    """The first line of an exception's text (driver errors carry SQL and parameters below)."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
