"""Startup refuses bad input with one clear message and no traceback."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest

from ari_app.__main__ import main
from ari_app.settings import ConfigError, SpeechConfig
from ari_app.speech_and_knowledge import open_listener

ROOT = Path(__file__).resolve().parents[2]


def _hotline_process(*args: str) -> subprocess.CompletedProcess[str]:
    """`python -m ari_app ARGS` as its own process: the entry point itself."""
    return subprocess.run([sys.executable, "-m", "ari_app", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)


def _hotline(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`hotline ARGS` through the same `main` in this process (a second per run cheaper than a
    new interpreter): its exit code and what it printed, in the environment `env` if given. An
    exception escaping `main` fails the test, as a traceback would."""
    out, err = io.StringIO(), io.StringIO()
    with (contextlib.chdir(ROOT), mock.patch.dict(os.environ, env or {}, clear=env is not None),
          contextlib.redirect_stdout(out), contextlib.redirect_stderr(err)):
        code = main(list(args))
    return subprocess.CompletedProcess(["hotline", *args], code, out.getvalue(), err.getvalue())


def test_the_entry_point_checks_the_development_configuration() -> None:
    result = _hotline_process("check")
    assert result.returncode == 0, result.stderr
    assert "config/hotline.yaml: ok" in result.stdout


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


# --- speech and knowledge edges: checked before anything starts --------------------------------

MODELS_URL = "https://alphacephei.com/vosk/models"


def _without_hotline_env() -> dict[str, str]:
    """This environment minus HOTLINE_* overrides (e.g. HOTLINE_VOSK_MODEL set to run the
    vosk recognition test), which would replace what these configurations say."""
    return {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}


def _config(tmp_path: Path, extra: str, *, flow: Path = ROOT / "ivr/flows/hotline.yaml") -> Path:
    """The development configuration with `extra` sections, its flow at `flow`."""
    config = tmp_path / "hotline.yaml"
    text = (ROOT / "config/hotline.yaml").read_text().replace(
        "flow: ../ivr/flows/hotline.yaml", f"flow: {flow}")
    assert f"flow: {flow}" in text
    config.write_text(f"{text}\n{extra}\n")
    return config


def _stopped_with_one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("hotline: ")
    return lines[0]


@pytest.mark.parametrize("command", ["check", "run"])
def test_vosk_without_a_model_stops_naming_the_setting_and_where_to_get_one(
        tmp_path: Path, command: str) -> None:
    config = _config(tmp_path, "speech: {engine: vosk}")
    line = _stopped_with_one_line(_hotline(command, "--config", str(config),
                                           env=_without_hotline_env()))
    assert line.startswith(f"hotline: {config}: ")
    assert "speech.vosk_model_dir" in line and MODELS_URL in line
    assert "no model is set" in line


@pytest.mark.parametrize("command", ["check", "run"])
def test_vosk_with_a_missing_model_dir_stops_naming_it(tmp_path: Path, command: str) -> None:
    config = _config(tmp_path, "speech: {engine: vosk, vosk_model_dir: models/vosk-en}")
    line = _stopped_with_one_line(_hotline(command, "--config", str(config),
                                           env=_without_hotline_env()))
    assert line.startswith(f"hotline: {config}: ")
    assert f"'{tmp_path / 'models/vosk-en'}' does not exist" in line  # resolved beside the file
    assert "speech.vosk_model_dir" in line and MODELS_URL in line


def test_vosk_model_dir_from_the_environment_is_checked_too(tmp_path: Path) -> None:
    config = _config(tmp_path, "speech: {engine: vosk}")
    missing = tmp_path / "nowhere"
    env = {**_without_hotline_env(), "HOTLINE_VOSK_MODEL": str(missing)}
    line = _stopped_with_one_line(_hotline("check", "--config", str(config), env=env))
    assert f"'{missing}' does not exist" in line and "HOTLINE_VOSK_MODEL" in line


def test_vosk_with_an_empty_model_dir_stops(tmp_path: Path) -> None:
    (tmp_path / "model").mkdir()
    config = _config(tmp_path, "speech: {engine: vosk, vosk_model_dir: model}")
    line = _stopped_with_one_line(_hotline("check", "--config", str(config),
                                           env=_without_hotline_env()))
    assert line.startswith(f"hotline: {config}: ")
    assert "does not look like a vosk model" in line and "speech.vosk_model_dir" in line


@pytest.mark.parametrize("url", ["not a url", "ftp://x"])
def test_knowledge_service_with_a_bad_url_stops_naming_the_setting(tmp_path: Path,
                                                                   url: str) -> None:
    config = _config(tmp_path, f'knowledge: {{source: http, url: "{url}"}}')
    line = _stopped_with_one_line(_hotline("check", "--config", str(config),
                                           env=_without_hotline_env()))
    assert line == (f"hotline: {config}: knowledge.url: knowledge service URL {url!r}: "
                    "must start with http:// or https://")


def test_knowledge_service_without_a_url_stops(tmp_path: Path) -> None:
    config = _config(tmp_path, "knowledge: {source: http}")
    line = _stopped_with_one_line(_hotline("run", "--config", str(config),
                                           env=_without_hotline_env()))
    assert line == f"hotline: {config}: knowledge.url: required when knowledge.source is http"


def test_a_flow_path_that_is_a_directory_stops_naming_it(tmp_path: Path) -> None:
    flow = tmp_path / "flows"
    flow.mkdir()
    config = _config(tmp_path, "", flow=flow)
    line = _stopped_with_one_line(_hotline("check", "--config", str(config)))
    assert line.startswith(f"hotline: {flow}: cannot read the flow file")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file: chmod cannot hide it")
def test_an_unreadable_flow_file_stops_naming_it(tmp_path: Path) -> None:
    flow = tmp_path / "flow.yaml"
    flow.write_text((ROOT / "ivr/flows/hotline.yaml").read_text())
    flow.chmod(0)
    config = _config(tmp_path, "", flow=flow)
    try:
        line = _stopped_with_one_line(_hotline("run", "--config", str(config)))
    finally:
        flow.chmod(0o644)
    assert line.startswith(f"hotline: {flow}: cannot read the flow file")
    assert "Permission denied" in line


async def test_a_vosk_model_that_cannot_load_stops_the_service(tmp_path: Path) -> None:
    """`check` only sees the folder's layout; loading (at `run`) must stop with a message too."""
    for name in ("am/final.mdl", "conf/mfcc.conf", "graph/HCLr.fst"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"\x00not a model\xff")
    (tmp_path / "conf/mfcc.conf").write_text("--sample-frequency=16000\n")
    with pytest.raises(ConfigError) as caught:
        await open_listener(SpeechConfig(engine="vosk", vosk_model_dir=tmp_path),
                            [("pay my bill", "billing")])
    message = str(caught.value)
    assert "could not load the model" in message and str(tmp_path) in message
    assert "speech.vosk_model_dir" in message and MODELS_URL in message


async def test_menus_pocketsphinx_cannot_hear_stop_the_service() -> None:
    with pytest.raises(ConfigError, match="speech.engine pocketsphinx: .*dictionary"):
        await open_listener(SpeechConfig(engine="pocketsphinx"), [("我要付款",)])
