"""Every QA route of the recordings room, added to the service's app in one call."""

from __future__ import annotations

from aiohttp import web

from recordings.qa import api_evaluations, api_forms, api_player, api_plays, api_reviews
from recordings.qa.api_search import ROUTES as SEARCH_ROUTES
from recordings.qa.api_search import SEARCH, SearchApiDeps
from recordings.qa.http import QA, QaApiDeps
from recordings.qa.search_store import RecordingSearch


def add_qa_routes(app: web.Application, deps: QaApiDeps, search: RecordingSearch) -> None:
    app[QA] = deps
    app[SEARCH] = SearchApiDeps(search)
    for table in (SEARCH_ROUTES, api_reviews.ROUTES, api_forms.ROUTES,
                  api_evaluations.ROUTES, api_player.ROUTES, api_plays.ROUTES):
        app.add_routes(table)
