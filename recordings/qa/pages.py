"""QA's web pages (`recordings/qa/pages/`): search, the player with its journey, comments and
scorecards, the scorecard forms, evaluations (QA's and an agent's own) and the listen audit.
They read and write only through the QA JSON API (`docs/qa.md`)."""

from __future__ import annotations

from pathlib import Path

from kernel.http.pages import Pages

QA_PAGES = Pages("qa", Path(__file__).parent / "pages", {
    "/qa/recordings": "search.html",
    "/qa/recordings/{recording_id}": "player.html",
    "/qa/forms": "forms.html",
    "/qa/evaluations": "evaluations.html",
    "/audit/listens": "listens.html",
})  # fmt: skip
