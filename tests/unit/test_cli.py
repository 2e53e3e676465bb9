"""Startup refuses bad input with one clear message and no traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _hotline(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ari_app", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60, check=False)


def test_check_accepts_the_development_configuration() -> None:
    result = _hotline("check")
    assert result.returncode == 0, result.stderr
    assert "config/hotline.yaml: ok" in result.stdout


def test_run_with_a_bad_configuration_names_the_field_and_stops(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("queues:\n  - {id: claims, name: Claims, ring_timeout_s: -1}\n")
    result = _hotline("run", "--config", str(config))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"hotline: {config}: queues[0].ring_timeout_s: Input should be greater than 0")


def test_run_with_a_bad_flow_names_the_file_and_node_and_stops(tmp_path: Path) -> None:
    flow = tmp_path / "flow.yaml"
    text = (ROOT / "ivr/flows/hotline.yaml").read_text().replace("0: agent", "0: agnet", 1)
    assert text != (ROOT / "ivr/flows/hotline.yaml").read_text()
    flow.write_text(text)
    config = tmp_path / "hotline.yaml"
    config.write_text((ROOT / "config/hotline.yaml").read_text().replace(
        "flow: ../ivr/flows/hotline.yaml", f"flow: {flow}"))
    result = _hotline("--config", str(config), "run")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"{flow}" in result.stderr and "node 'main_menu'" in result.stderr
    assert "'agnet': no such node" in result.stderr


def test_import_queues_prints_a_valid_configuration_and_what_was_not_mapped() -> None:
    fixtures = ROOT / "tests/unit/fixtures"
    result = _hotline("import-queues", str(fixtures / "queues.conf"),
                      "--rules", str(fixtures / "queuerules.conf"))
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert {q["queue_id"] for q in document["queues"]} >= {"support", "sales"}
    assert "not mapped: queues.conf [sales]" in result.stderr
