"""Caller questions for the editors and their changes to the FAQ, as tables; only
`knowledge_client.editors.store` uses them (migration 0007 builds them)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kernel.db.schema import ID, Base

NAME = String(128)
_ROW_ID = BigInteger().with_variant(Integer(), "sqlite")


class CallerQuestionModel(Base):
    """A question self-service could not answer (or answered, and the caller said no)."""

    __tablename__ = "caller_questions"

    id: Mapped[int] = mapped_column(_ROW_ID, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ID, index=True)  # the call may not be stored yet
    kind: Mapped[str] = mapped_column(String(16))  # QuestionKind value
    text: Mapped[str] = mapped_column(Text)
    transcript: Mapped[list[str]] = mapped_column(JSON())
    intent: Mapped[str | None] = mapped_column(ID)
    outcome: Mapped[str] = mapped_column(String(16))
    offered_item_id: Mapped[str | None] = mapped_column(ID)
    offered_answer: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(index=True)
    state: Mapped[str] = mapped_column(String(16), index=True)  # QuestionState value
    handled_by: Mapped[str | None] = mapped_column(NAME)
    handled_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(Text)
    faq_item_id: Mapped[str | None] = mapped_column(ID)


class FaqEditModel(Base):
    """An editor's change to the embedded FAQ, applied over the bundled file in id order."""

    __tablename__ = "faq_edits"

    id: Mapped[int] = mapped_column(_ROW_ID, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # EditKind value
    item_id: Mapped[str] = mapped_column(ID)
    text: Mapped[str] = mapped_column(Text)
    intent: Mapped[str] = mapped_column(ID)
    answer_spoken: Mapped[str] = mapped_column(Text)
    answer_text: Mapped[str] = mapped_column(Text)
    variants: Mapped[list[str]] = mapped_column(JSON())
    by: Mapped[str] = mapped_column(NAME)
    at: Mapped[datetime]
    question_id: Mapped[int | None] = mapped_column(
        ForeignKey("caller_questions.id", ondelete="SET NULL"))
