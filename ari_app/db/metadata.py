"""Every room's tables on the one MetaData: what the migrations build and are checked against."""

from __future__ import annotations

import ari_app.access.tables  # noqa: F401  (each import registers its tables)
import ari_app.calls.desk.tables  # noqa: F401
import ari_app.calls.monitoring.tables  # noqa: F401
import ari_app.calls.tables  # noqa: F401
import knowledge_client.editors.tables  # noqa: F401
import recordings.qa.tables  # noqa: F401
import recordings.retention.tables  # noqa: F401
import recordings.tables  # noqa: F401
import routing.tables  # noqa: F401
from kernel.db.schema import Base

METADATA = Base.metadata
