"""The knowledge editors' page (`knowledge_client/editors/pages/`): what callers asked in vain,
grouped, turned into FAQ variants or new answers through the editors' API (`docs/qa.md`)."""

from __future__ import annotations

from pathlib import Path

from kernel.http.pages import Pages

EDITOR_PAGES = Pages("knowledge", Path(__file__).parent / "pages", {
    "/knowledge/questions": "questions.html",
})  # fmt: skip
