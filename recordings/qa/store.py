"""Comments, scorecard forms and the training library in the database."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from sqlalchemy import func, select

from kernel.db.unit import Units, key
from recordings.qa.model import Comment, TrainingEntry
from recordings.qa.scorecard import Criterion, Form
from recordings.qa.tables import QaCommentModel, QaFormModel, QaTrainingModel


class QaStore:
    def __init__(self, units: Units) -> None:
        self._units = units

    async def add_comment(self, recording_id: str, at_s: float, text: str, by: str,
                          at: datetime) -> Comment:  # fmt: skip
        async with self._units.begin("qa_comments", key("recording_id", recording_id)) as s:
            row = QaCommentModel(recording_id=recording_id, at_s=at_s, text=text, by=by,
                                 created_at=at)  # fmt: skip
            s.add(row)
            await s.flush()
            return _comment(row)

    async def comments(self, recording_id: str) -> list[Comment]:
        """In the order of the recording's timeline."""
        async with self._units.begin("qa_comments", key("recording_id", recording_id)) as s:
            rows = await s.scalars(select(QaCommentModel)
                                   .where(QaCommentModel.recording_id == recording_id)
                                   .order_by(QaCommentModel.at_s, QaCommentModel.id))
            return [_comment(r) for r in rows]

    async def add_form(self, form: Form) -> Form:
        """Save `form` as the next version of its id (1 for a new id); the version it got."""
        async with self._units.begin("qa_forms", key("form_id", form.form_id)) as s:
            latest = await s.scalar(select(func.max(QaFormModel.version))
                                    .where(QaFormModel.form_id == form.form_id))
            saved = Form(form.form_id, (latest or 0) + 1, form.name, form.passing_score,
                         form.criteria, form.created_by, form.created_at)
            s.add(QaFormModel(form_id=saved.form_id, version=saved.version, name=saved.name,
                              passing_score=saved.passing_score,
                              criteria=[asdict(c) for c in saved.criteria],
                              created_by=saved.created_by, created_at=saved.created_at))
            return saved

    async def form(self, form_id: str, version: int | None = None) -> Form | None:
        """That version of the form; its newest without `version`."""
        query = select(QaFormModel).where(QaFormModel.form_id == form_id)
        query = (query.where(QaFormModel.version == version) if version is not None
                 else query.order_by(QaFormModel.version.desc()).limit(1))  # fmt: skip
        async with self._units.begin("qa_forms", key("form_id", form_id)) as s:
            row = await s.scalar(query)
            return None if row is None else _form(row)

    async def forms(self) -> list[Form]:
        """The newest version of every form, by id."""
        newest = (select(QaFormModel.form_id, func.max(QaFormModel.version).label("v"))
                  .group_by(QaFormModel.form_id).subquery())  # fmt: skip
        query = (select(QaFormModel).join(newest, (QaFormModel.form_id == newest.c.form_id)
                                          & (QaFormModel.version == newest.c.v))
                 .order_by(QaFormModel.form_id))  # fmt: skip
        async with self._units.begin("qa_forms", "newest") as s:
            return [_form(r) for r in await s.scalars(query)]

    async def versions(self, form_id: str) -> list[Form]:
        async with self._units.begin("qa_forms", key("form_id", form_id)) as s:
            rows = await s.scalars(select(QaFormModel).where(QaFormModel.form_id == form_id)
                                   .order_by(QaFormModel.version))
            return [_form(r) for r in rows]

    async def add_training(self, entry: TrainingEntry) -> None:
        """DatabaseConflict when the recording is in the library already."""
        async with self._units.begin("qa_training", key("recording_id", entry.recording_id)) as s:
            s.add(QaTrainingModel(**asdict(entry)))

    async def training_entry(self, recording_id: str) -> TrainingEntry | None:
        async with self._units.begin("qa_training", key("recording_id", recording_id)) as s:
            r = await s.get(QaTrainingModel, recording_id)
            return None if r is None else TrainingEntry(r.recording_id, r.reason, r.added_by,
                                                        r.added_at)

    async def training(self, limit: int) -> list[TrainingEntry]:
        async with self._units.begin("qa_training", f"newest {limit}") as s:
            rows = await s.scalars(select(QaTrainingModel)
                                   .order_by(QaTrainingModel.added_at.desc()).limit(limit))
            return [TrainingEntry(r.recording_id, r.reason, r.added_by, r.added_at)
                    for r in rows]


def _comment(row: QaCommentModel) -> Comment:
    return Comment(row.id, row.recording_id, row.at_s, row.text, row.by, row.created_at)


def _form(row: QaFormModel) -> Form:
    criteria = tuple(Criterion(str(c["criterion_id"]), str(c["text"]), float(c["weight"]),
                               int(c["max_points"]), bool(c["allow_na"]), bool(c["auto_fail"]))
                     for c in row.criteria)  # fmt: skip
    return Form(row.form_id, row.version, row.name, row.passing_score, criteria,
                row.created_by, row.created_at)
