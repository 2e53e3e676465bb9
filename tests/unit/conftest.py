"""Fixtures shared by the unit tests, and the order they run in."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import structlog

from ari_app.db.database import Database, open_database


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated SQLite database in the test's own folder."""
    db = await open_database("sqlite+aiosqlite:///" + str(tmp_path / "hotline.db"))
    try:
        yield db
    finally:
        await db.close()


@pytest.fixture
def restored_structlog() -> Iterator[None]:
    """Commands and configure_logging set structlog up for the whole process: put it back."""
    saved = structlog.get_config()
    try:
        yield
    finally:
        structlog.configure(**saved)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Long tests first: run last, one of them keeps a worker busy while the others idle."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)
