"""The routing core is pure: its modules import no asyncio and no I/O library (checked on the
source, so a lazy import inside a function is caught too)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROUTING = Path(__file__).resolve().parents[2] / "routing"
PURE = ("config", "model", "notices", "plan", "strategies", "explain", "decide", "estimate",
        "lifecycle", "index", "matcher", "calls", "positions", "timing", "router",
        "whatif/model", "whatif/staffing", "whatif/traffic", "whatif/replay", "whatif/figures",
        "whatif/compare")
FORBIDDEN = {"asyncio", "aiohttp", "sqlalchemy", "panoramisk", "asterisk", "socket", "os",
             "pathlib", "io", "subprocess", "threading", "time", "structlog", "yaml"}


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("module", PURE)
def test_a_pure_routing_module_imports_no_io(module: str) -> None:
    assert not imported(ROUTING / f"{module}.py") & FORBIDDEN


def test_the_check_can_fail() -> None:
    assert "asyncio" in imported(ROUTING / "actor.py")
    assert "asterisk" in imported(ROUTING / "queues_conf.py")
