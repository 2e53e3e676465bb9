"""The editors' changes to the embedded FAQ, and the book they make. Pure: no I/O.

A change either adds a variant (another way callers put an existing item's question) or a new
item. The bundled file stays as shipped; the changes live in the database and are applied over
it, in the order they were made, whenever the embedded source builds its index.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from knowledge_client.faq import FaqBook, FaqEntry, spoken_problems, words

FieldProblem = tuple[str, str]  # (field path, message)


class EditKind(StrEnum):
    VARIANT = "variant"
    ANSWER = "answer"


@dataclass(frozen=True, slots=True)
class FaqEdit:
    kind: EditKind
    item_id: str
    text: str  # the variant, or the new item's question
    by: str
    at: datetime
    intent: str = ""  # new items only
    answer_spoken: str = ""
    answer_text: str = ""
    variants: tuple[str, ...] = ()


def apply_edits(book: FaqBook, edits: Iterable[FaqEdit]) -> FaqBook:
    """`book` with `edits` applied in order; an edit that no longer fits is skipped."""
    entries = list(book.entries)
    for edit in edits:
        at = next((i for i, e in enumerate(entries) if e.item_id == edit.item_id), None)
        if edit.kind is EditKind.VARIANT and at is not None:
            entry = entries[at]
            if edit.text not in (entry.question, *entry.variants):
                entries[at] = replace(entry, variants=(*entry.variants, edit.text))
        elif edit.kind is EditKind.ANSWER and at is None:
            entries.append(FaqEntry(edit.item_id, edit.intent, edit.text, edit.variants, (),
                                    edit.answer_spoken, edit.answer_text))
    return replace(book, entries=tuple(entries))


def edit_problems(book: FaqBook, edit: FaqEdit) -> tuple[list[FieldProblem], int]:
    """What is wrong with `edit` against `book` (fields as the request body names them), and
    the HTTP status that says so: 400 a bad value, 404 no such item for a variant, 409 the
    new item's id is taken."""
    known = {e.item_id for e in book.entries}
    problems: list[FieldProblem] = []
    if not words(edit.text):
        problems.append(("body.text", "must have at least one word"))
    if edit.kind is EditKind.VARIANT:
        if edit.item_id not in known:
            return [("body.item_id", f"no FAQ item {edit.item_id!r}")], 404
        return problems, 400
    if edit.item_id in known:
        return [("body.item_id", f"FAQ item {edit.item_id!r} exists; add a variant to it")], 409
    problems += [("body.answer_spoken", p) for p in spoken_problems(edit.answer_spoken)]
    return problems, 400
