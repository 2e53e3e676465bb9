"""`GET /v1/recordings`: find recordings by agent, queue, date range, duration, caller number,
intent, survey score, outcome, transfer and mute, sorted and paged, within what the caller
may see (`scope.py`)."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from pydantic import ValidationError

from kernel.http.auth import principal
from kernel.http.errors import Problem, from_validation, invalid
from kernel.http.reply import json_reply
from recordings.api import recording_json
from recordings.qa.scope import scope_of
from recordings.qa.search import SearchQuery, range_problems
from recordings.qa.search_store import RecordingSearch

ROUTES = web.RouteTableDef()


@dataclass(frozen=True, slots=True)
class SearchApiDeps:
    search: RecordingSearch


SEARCH = web.AppKey("recording_search_api", SearchApiDeps)


def add_search_routes(app: web.Application, deps: SearchApiDeps) -> None:
    app[SEARCH] = deps
    app.add_routes(ROUTES)


def search_query(request: web.Request) -> SearchQuery:
    """The query parameters, checked; 400 naming each bad one."""
    try:
        q = SearchQuery.model_validate(dict(request.query))
    except ValidationError as exc:
        raise from_validation(exc, "query") from None
    if problems := range_problems(q):
        raise invalid([Problem(field, message) for field, message in problems])
    return q


@ROUTES.get("/v1/recordings")
async def search_recordings(request: web.Request) -> web.Response:
    q = search_query(request)
    total, found = await request.app[SEARCH].search.search(q, scope_of(principal(request)))
    items = [{**recording_json(f.meta), "caller_number": f.caller_number, "outcome": f.outcome,
              "survey_score": f.survey_score, "transferred": f.transferred,
              "intents": list(f.intents), "muted": bool(f.meta.mutes)} for f in found]
    return json_reply({"total": total, "limit": q.limit, "offset": q.offset, "sort": q.sort.value,
                       "order": q.order, "items": items})
