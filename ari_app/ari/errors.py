"""The ARI adapter's own errors: what we asked Asterisk and what it answered.

Callers catch these, never aiohttp's exceptions. The HTTP statuses follow the ARI Swagger
`errorResponses` (e.g. 409 "Channel not in a Stasis application", 422 "Endpoint not found"
when originating, 400 for missing or invalid parameters).
"""

from __future__ import annotations


class AriError(Exception):
    """A failed ARI request: `method path` and Asterisk's answer (status and message)."""

    def __init__(self, message: str, *, status: int | None, method: str, path: str) -> None:
        self.status = status
        self.method = method
        self.path = path
        self.message = message
        answered = f"answered {status}" if status is not None else "got no answer"
        super().__init__(f"ARI {method} {path} {answered}: {message}")


class AriBadRequest(AriError):
    """400: a parameter is missing or invalid."""


class AriUnauthorized(AriError):
    """401/403: wrong ARI user or password (retrying will not help)."""


class AriNotFound(AriError):
    """404: the channel, bridge, playback or recording does not exist (any more)."""


class AriConflict(AriError):
    """409: e.g. the channel is not in a Stasis application, or the name is taken."""


class AriUnprocessable(AriError):
    """422: the request is well formed but refers to something unusable (e.g. endpoint)."""


class AriUnavailable(AriError):
    """Asterisk could not be reached, timed out, or failed with a 5xx."""


_BY_STATUS: dict[int, type[AriError]] = {
    400: AriBadRequest,
    401: AriUnauthorized,
    403: AriUnauthorized,
    404: AriNotFound,
    409: AriConflict,
    422: AriUnprocessable,
}


def error_for_status(status: int, message: str, *, method: str, path: str) -> AriError:
    """The most specific AriError for an HTTP error status."""
    if status >= 500:
        cls: type[AriError] = AriUnavailable
    else:
        cls = _BY_STATUS.get(status, AriError)
    return cls(message, status=status, method=method, path=path)


class AriEventError(ValueError):
    """A known ARI event arrived without a field we rely on, or with the wrong type."""

    def __init__(self, event_type: str, field: str, problem: str) -> None:
        self.event_type = event_type
        self.field = field
        super().__init__(f"ARI event {event_type}: field {field!r} {problem}")
