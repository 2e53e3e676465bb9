"""``hotline measure-turns``: speech turn latency through the real Asterisk, for `make eval`.

Starts the service from the configuration with a recognizer on (pocketsphinx unless the
configuration names vosk), keeping its database, recordings and reports in a scratch folder,
and places calls whose caller says a line of the evaluation set at the first speech menu.
Each call's `turn` journal event (research/ivr.md §6.2) gives two figures, both ending at
the next prompt's PlaybackStarted: from the end-of-speech decision, and from the caller's
last voiced frame (which adds the menu's end-of-speech silence). They are written as JSON
for ``python -m ivr.speech.evaluate --latency-from``.
"""

from __future__ import annotations

import json
import tempfile
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ari_app.access.process_tokens import with_process_token
from ari_app.devtools.demo import running
from ari_app.devtools.simulator import Endpoints, SimulationError, place_call
from ari_app.devtools.simulator_script import parse_script
from ari_app.settings import Settings
from ivr.flow import Flow, MenuNode
from ivr.speech.evaluate import EvalItem

Line = dict[str, object]


@dataclass
class TurnSample:
    """What the sample calls measured; `missed`: calls with no turn, and why."""

    from_decision_ms: list[int] = field(default_factory=list)
    from_speech_end_ms: list[int] = field(default_factory=list)
    said: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {"latencies_ms": self.from_decision_ms,
                "from_speech_end_ms": self.from_speech_end_ms,
                "said": self.said, "missed": self.missed}


def speech_menu(flow: Flow) -> MenuNode:
    """The first menu a caller reaches that listens (the main menu of the demo hotline)."""
    for node in flow.nodes.values():
        if isinstance(node, MenuNode) and node.speech:
            return node
    raise ValueError(f"flow '{flow.name}' has no menu with speech: true to measure")


def sample_lines(items: Sequence[EvalItem], menu: MenuNode, calls: int) -> list[str]:
    """`calls` lines of the set meant for `menu`, spread evenly over the set."""
    meant = [item.text for item in items if item.intent in (*menu.intents, "agent")]
    if not meant:
        raise ValueError(f"no line of the set names an intent of menu '{menu.id}' "
                         f"({', '.join(menu.intents)})")
    step = max(1, len(meant) // calls)
    return [meant[(i * step) % len(meant)] for i in range(calls)]


def scratch_settings(settings: Settings, scratch: Path, engine: str) -> Settings:
    """The configuration, run beside any other instance: own app, port, files."""
    return settings.model_copy(update={
        "asterisk": settings.asterisk.model_copy(
            update={"app": f"hotline-turns-{uuid.uuid4().hex[:8]}"}),
        "database_url": f"sqlite+aiosqlite:///{scratch / 'hotline.sqlite3'}",
        "http": settings.http.model_copy(update={"port": 0}),
        "recordings": settings.recordings.model_copy(update={"store_dir": scratch / "rec"}),
        "knowledge": settings.knowledge.model_copy(update={
            "outbox_file": scratch / "outbox.sqlite3",
            "record_file": scratch / "knowledge-record.jsonl"}),
        "speech": settings.speech.model_copy(update={"engine": engine}),
    })


async def measure_turns(settings: Settings, flow: Flow, lines: Sequence[str], *,
                        on_line: Callable[[Line], None] = lambda line: None,
                        timeout_s: float = 60) -> TurnSample:
    """One call per line, one after another (a quiet machine is what the figure is about)."""
    menu = speech_menu(flow)
    engine = settings.speech.engine if settings.speech.engine != "none" else "pocketsphinx"
    sample = TurnSample()
    with tempfile.TemporaryDirectory(prefix="hotline-turns-") as scratch:
        run_settings, token = with_process_token(
            scratch_settings(settings, Path(scratch), engine), "measure-turns")
        async with running(run_settings, flow) as service:
            ast = run_settings.asterisk
            endpoints = Endpoints(ast.ari_url, ast.ari_user, ast.ari_password,
                                  f"http://127.0.0.1:{service.http_port}", ast.app, token=token)
            for text in lines:
                words = "_".join(text.split())
                script = parse_script(f"wait_for:prompt@{menu.id} say:{words} wait_for:turn "
                                      "hangup")
                try:
                    journey = await place_call(endpoints, script, timeout_s=timeout_s,
                                               on_line=on_line)
                except SimulationError as exc:
                    sample.missed.append(f"{text!r}: {exc}")
                    continue
                finally:
                    await service.wait_idle()
                turn = next(line for line in journey if line["type"] == "turn")
                sample.said.append(text)
                sample.from_decision_ms.append(int(str(turn["from_decision_ms"])))
                sample.from_speech_end_ms.append(int(str(turn["from_speech_end_ms"])))
    return sample


def write_sample(sample: TurnSample, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(sample.as_json(), indent=1) + "\n", encoding="utf-8")
