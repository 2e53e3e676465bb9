"""Fixtures shared by the unit tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ari_app.db.engine import Database, open_database


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated SQLite database in the test's own folder."""
    db = await open_database("sqlite+aiosqlite:///" + str(tmp_path / "hotline.db"))
    try:
        yield db
    finally:
        await db.close()
