"""The turn-latency sample `make eval` places through Asterisk: what it says, where it runs,
and how the evaluation reads its figures. (The calls themselves: tests/e2e.)"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from ari_app.__main__ import load_all
from ari_app.devtools.turn_sample import (
    TurnSample,
    sample_lines,
    scratch_settings,
    speech_menu,
    write_sample,
)
from ivr.flow import MenuNode
from ivr.speech.evaluate import DEFAULT_SET, LATENCY_LABELS, EvalItem, _latencies, read_set

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config/hotline.yaml"
DECIDED, VOICED = LATENCY_LABELS["latencies_ms"], LATENCY_LABELS["from_speech_end_ms"]


def test_the_demo_flow_is_measured_at_its_main_menu() -> None:
    _, flow = load_all(CONFIG)
    menu = speech_menu(flow)
    assert isinstance(menu, MenuNode) and menu.id == "main_menu"


def test_a_flow_without_a_speech_menu_is_refused_by_name() -> None:
    _, flow = load_all(CONFIG)
    keypad_only = replace(flow, nodes={k: replace(v, speech=False) if isinstance(v, MenuNode)
                                       else v for k, v in flow.nodes.items()})
    with pytest.raises(ValueError, match=f"flow '{flow.name}' has no menu with speech"):
        speech_menu(keypad_only)


def test_lines_are_the_menus_own_spread_over_the_set() -> None:
    _, flow = load_all(CONFIG)
    menu = speech_menu(flow)
    items = read_set(DEFAULT_SET)
    lines = sample_lines(items, menu, 12)
    intents = {item.text: item.intent for item in items}
    assert len(lines) == 12 and len(set(lines)) == 12
    assert {intents[line] for line in lines} <= {*menu.intents, "agent"}
    # Spread: more than a couple of intents, not the first dozen lines of the file.
    assert len({intents[line] for line in lines}) >= 4
    # Asking for more calls than lines repeats lines rather than failing.
    assert len(sample_lines(items[:3], menu, 5)) == 5


def test_a_set_with_no_line_for_the_menu_says_so() -> None:
    _, flow = load_all(CONFIG)
    with pytest.raises(ValueError, match="no line of the set names an intent of menu "
                                         "'main_menu'"):
        sample_lines([EvalItem("five stars", "five", 3)], speech_menu(flow), 4)


def test_the_sample_runs_beside_any_other_instance(tmp_path: Path) -> None:
    settings, _ = load_all(CONFIG)
    given = settings.model_dump()
    scratch = scratch_settings(settings, tmp_path, "vosk")
    assert scratch.speech.engine == "vosk"
    assert scratch.asterisk.app.startswith("hotline-turns-")
    assert scratch.asterisk.app != scratch_settings(settings, tmp_path, "none").asterisk.app
    assert scratch.http.port == 0
    assert str(tmp_path) in scratch.database_url
    assert scratch.recordings.store_dir.is_relative_to(tmp_path)
    assert scratch.knowledge.outbox_file is not None
    assert scratch.knowledge.outbox_file.is_relative_to(tmp_path)
    # The rest is the configuration as given: same Asterisk, queues, agents, prompts.
    assert scratch.asterisk.ari_url == settings.asterisk.ari_url
    assert (scratch.queues, scratch.agents) == (settings.queues, settings.agents)
    assert settings.model_dump() == given  # the given settings are not changed


def test_written_figures_are_what_the_evaluation_reads(tmp_path: Path) -> None:
    sample = TurnSample([120, 340], [900, 1100], ["claim status", "billing"], ["'x': timed out"])
    path = tmp_path / "var" / "turns.json"
    write_sample(sample, path)
    assert _latencies(path) == {DECIDED: [120.0, 340.0], VOICED: [900.0, 1100.0]}


def test_a_plain_list_of_milliseconds_is_read_as_decision_latency(tmp_path: Path) -> None:
    path = tmp_path / "l.json"
    path.write_text(json.dumps([100, {"latency_ms": 250}]))
    assert _latencies(path) == {DECIDED: [100.0, 250.0]}


@pytest.mark.parametrize(("content", "message"), [
    ("[]", "expected a JSON list of milliseconds"),
    ('{"from_speech_end_ms": [1]}', "expected a JSON list of milliseconds"),
    ('{"latencies_ms": ["soon"]}', "latencies_ms: expected numbers of milliseconds"),
])
def test_bad_latency_files_name_the_problem(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "l.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        _latencies(path)


def test_measure_turns_refuses_a_useless_call_count() -> None:
    result = subprocess.run([sys.executable, "-m", "ari_app", "measure-turns", "--calls", "0"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert result.stderr.strip() == "hotline: --calls: needs at least 1, not 0"
