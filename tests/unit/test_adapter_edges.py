"""The service's optional edges (knowledge source, speech listener), the routing wiring, and the
`hotline` command line run in-process."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from ari_app.__main__ import endpoints_for, load_all, main
from ari_app.db.database import Database, open_database
from ari_app.routing_wiring import (
    ActorAgentCommands,
    build_queue_service,
    initial_routing,
    routing_api_deps,
)
from ari_app.settings import ConfigError, KnowledgeConfig, Settings, SpeechConfig, load_settings
from ari_app.speech_and_knowledge import (
    RECOGNITION_RATE,
    RecognizerListener,
    check_speech,
    knowledge_settings,
    open_knowledge,
    open_listener,
    question_phrases,
)
from ivr.intents import AGENT
from ivr.loader import load_flow
from ivr.ports import HeardAudio, HeardKind
from ivr.speech.port import Grammar, PartialResult, Recognition
from knowledge_client.embedded import DEFAULT_FAQ, EmbeddedKnowledge
from knowledge_client.faq import spoken_phrases
from routing.actor import QueueService
from routing.api import AgentCommandRejected
from routing.clock import MonotonicClock
from tests.unit.adapter_fakes import cancelling

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config/hotline.yaml"
FLOW = ROOT / "ivr/flows/hotline.yaml"


@pytest.fixture
def no_hotline_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The configuration files say what counts here, not HOTLINE_* variables of this shell."""
    import os

    for name in [n for n in os.environ if n.startswith("HOTLINE_")]:
        monkeypatch.delenv(name)
    yield


# --- knowledge ----------------------------------------------------------------------------


def test_no_knowledge_source_means_no_settings() -> None:
    assert knowledge_settings(KnowledgeConfig(source="none"), "hotline.yaml") is None


def test_knowledge_settings_take_what_the_yaml_gives(tmp_path: Path) -> None:
    config = KnowledgeConfig(source="http", url="http://kb:8000", token="t", deadline_s=1.5,
                             outbox_file=tmp_path / "outbox.sqlite3")  # fmt: skip
    settings = knowledge_settings(config, "hotline.yaml")
    assert settings is not None
    assert (settings.source, settings.url, settings.token) == ("http", "http://kb:8000", "t")
    assert (settings.deadline_s, settings.outbox_file) == (1.5, tmp_path / "outbox.sqlite3")
    embedded = knowledge_settings(KnowledgeConfig(faq_file=None), "hotline.yaml")
    assert embedded is not None and embedded.faq_file == DEFAULT_FAQ  # the room's default


def test_unusable_knowledge_settings_name_the_file() -> None:
    with pytest.raises(ConfigError) as caught:
        knowledge_settings(KnowledgeConfig(source="http"), "conf/hotline.yaml")
    assert str(caught.value) == (
        "conf/hotline.yaml: knowledge.url: required when knowledge.source is http")


async def test_no_knowledge_settings_open_nothing() -> None:
    async with AsyncExitStack() as stack:
        assert await open_knowledge(stack, None) is None


async def test_the_embedded_source_opens_and_gives_the_questions_to_listen_for() -> None:
    flow = load_flow(FLOW)
    settings = knowledge_settings(KnowledgeConfig(), "hotline.yaml")
    async with AsyncExitStack() as stack:
        knowledge = await open_knowledge(stack, settings)
        assert isinstance(knowledge, EmbeddedKnowledge)
        phrases = question_phrases(knowledge, flow)
        assert phrases is not None
        faq = spoken_phrases(knowledge.book)
        assert phrases[: len(faq)] == faq
        assert set(AGENT.examples) <= set(phrases)
        for spec in flow.intents.specs.values():
            assert set(spec.examples) <= set(phrases)
        assert len(set(phrases)) == len(phrases)
    assert question_phrases(None, flow) is None


async def test_an_unreadable_faq_stops_startup(tmp_path: Path) -> None:
    settings = knowledge_settings(KnowledgeConfig(faq_file=tmp_path / "missing.yaml"), "h.yaml")
    async with AsyncExitStack() as stack:
        with pytest.raises(ConfigError, match="missing.yaml"):
            await open_knowledge(stack, settings)


# --- speech -------------------------------------------------------------------------------


async def test_no_speech_engine_needs_no_check_and_no_listener() -> None:
    check_speech(SpeechConfig(engine="none"), "hotline.yaml")
    assert await open_listener(SpeechConfig(engine="none")) is None


def test_pocketsphinx_needs_no_download() -> None:
    check_speech(SpeechConfig(engine="pocketsphinx"), "hotline.yaml")


async def test_vosk_without_a_model_names_the_file_and_setting(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        check_speech(SpeechConfig(engine="vosk"), "conf/hotline.yaml")
    assert str(caught.value).startswith("conf/hotline.yaml: speech.engine is vosk but no model")
    missing = SpeechConfig(engine="vosk", vosk_model_dir=tmp_path / "nowhere")
    with pytest.raises(ConfigError, match="does not exist"):
        check_speech(missing, "conf/hotline.yaml")
    with pytest.raises(ConfigError, match="does not exist"):
        await open_listener(missing)


async def test_pocketsphinx_listener_starts_with_the_menus_compiled() -> None:
    listener = await open_listener(SpeechConfig(engine="pocketsphinx"),
                                   [("pay my bill", "file a claim"), None],
                                   questions=["how do I file a claim"])  # fmt: skip
    assert isinstance(listener, RecognizerListener)


class FakeSession:
    def __init__(self, recognizer: FakeRecognizer, grammar: Grammar | None, rate: int) -> None:
        self.recognizer, self.grammar, self.rate = recognizer, grammar, rate
        self.audio = b""

    def accept(self, pcm: bytes) -> PartialResult | None:
        self.audio += pcm
        return None

    def finish(self) -> Recognition:
        self.recognizer.heard.append((self.grammar, self.rate, self.audio))
        return Recognition(self.recognizer.answer, 0.9, engine="fake")

    def close(self) -> None:
        pass


class FakeRecognizer:
    """Implements ivr.speech.port.Recognizer: answers `answer`, keeps what it was given."""

    def __init__(self, answer: str) -> None:
        self.answer = answer
        self.heard: list[tuple[Grammar | None, int, bytes]] = []

    @property
    def name(self) -> str:
        return "fake"

    def open_session(self, grammar: Grammar | None, sample_rate: int) -> FakeSession:
        return FakeSession(self, grammar, sample_rate)

    def prepare(self, grammars: Iterable[Grammar | None]) -> None:
        pass


@pytest.fixture
def executor() -> Iterator[ThreadPoolExecutor]:
    pool = ThreadPoolExecutor(max_workers=1)
    yield pool
    pool.shutdown()


async def test_the_listener_decodes_telephone_rate_audio_with_the_menu_phrases(
    executor: ThreadPoolExecutor,
) -> None:
    recognizer = FakeRecognizer("pay my bill")
    listener = RecognizerListener(recognizer, executor, Grammar(("a question",)))
    pcm8k = b"\x01\x00" * 8000  # one second at 8 kHz
    result = await listener.transcribe(HeardAudio(HeardKind.SPEECH, pcm8k, 8000),
                                       ["pay my bill", "file a claim"])  # fmt: skip
    assert result.text == "pay my bill"
    grammar, rate, audio = recognizer.heard[0]
    assert grammar == Grammar(("pay my bill", "file a claim"))
    assert (rate, audio) == (RECOGNITION_RATE, pcm8k)  # passed on untouched


async def test_free_form_speech_is_resampled_and_heard_with_the_questions(
    executor: ThreadPoolExecutor,
) -> None:
    recognizer = FakeRecognizer("how do I file a claim")
    listener = RecognizerListener(recognizer, executor, Grammar(("how do I file a claim",)))
    pcm16k = b"\x10\x00" * 16000  # one second at 16 kHz
    await listener.transcribe(HeardAudio(HeardKind.SPEECH, pcm16k, 16000), None)
    grammar, rate, audio = recognizer.heard[0]
    assert grammar == Grammar(("how do I file a claim",)) and rate == 8000
    assert abs(len(audio) - 16000) <= 4  # one second at 8 kHz
    plain = RecognizerListener(recognizer, executor)
    await plain.transcribe(HeardAudio(HeardKind.SPEECH, pcm16k, 16000), [])
    assert recognizer.heard[1][0] is None  # open dictation


# --- routing wiring -----------------------------------------------------------------------


@pytest.fixture
async def database() -> AsyncIterator[Database]:
    db = await open_database("sqlite+aiosqlite://")
    try:
        yield db
    finally:
        await db.close()


@pytest.fixture
def settings(no_hotline_env: None) -> Settings:
    return load_settings(CONFIG)


async def test_the_yaml_routing_applies_until_a_version_is_saved(
    settings: Settings, database: Database
) -> None:
    yaml_config = initial_routing(settings)
    assert [q.queue_id for q in yaml_config.queues] == ["claims", "billing", "general"]
    assert [a.agent_id for a in yaml_config.agents] == ["alice", "bob", "carol"]
    assert (await build_queue_service(settings, database)).config == yaml_config

    saved = initial_routing(settings.model_copy(update={"agents": settings.agents[:1]}))
    await database.routing.save(saved, expected_version=0, actor="sam", role="supervisor",
                                comment="only alice", audit_entries=())  # fmt: skip
    service = await build_queue_service(settings, database)
    assert [a.agent_id for a in service.config.agents] == ["alice"]


async def test_agent_commands_reach_the_queue_actor(settings: Settings) -> None:
    queues = QueueService(initial_routing(settings), MonotonicClock())
    commands = ActorAgentCommands(queues)
    async with cancelling(asyncio.create_task(queues.run())):
        async with asyncio.timeout(5):
            await commands.pause("alice", None)
            with pytest.raises(AgentCommandRejected, match="not paused"):
                await commands.resume("bob", "back")
            await commands.resume("alice", None)
            await commands.logout("alice", "home")
            with pytest.raises(AgentCommandRejected, match="not logged in"):
                await commands.pause("alice", "lunch")
            await commands.login("alice", None)


async def test_the_routing_api_drives_the_store_and_the_actor(
    settings: Settings, database: Database
) -> None:
    queues = QueueService(initial_routing(settings), MonotonicClock())
    deps = routing_api_deps(settings, database, queues)
    assert deps.store is database.routing
    assert deps.initial_config() == initial_routing(settings)
    only_claims = initial_routing(settings.model_copy(update={
        "queues": settings.queues[:1],
        "agents": tuple(a.model_copy(update={"queues": ("claims",)})
                        for a in settings.agents if "claims" in a.queues)}))
    async with cancelling(asyncio.create_task(queues.run())):
        async with asyncio.timeout(5):
            await deps.apply(only_claims)
            assert [q.queue_id for q in queues.config.queues] == ["claims"]
            with pytest.raises(AgentCommandRejected, match="not paused"):
                await deps.agents.resume("alice", None)


# --- the hotline command line, in-process -------------------------------------------------


@pytest.mark.usefixtures("no_hotline_env")
@pytest.mark.parametrize("argv", [["--config", str(CONFIG), "check"],
                                  ["check", "--config", str(CONFIG)]])  # fmt: skip
def test_check_reports_the_configuration(argv: list[str],
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 0
    assert capsys.readouterr().out == (
        f"{CONFIG}: ok (3 queues, 3 agents, flow 'hotline' with 7 nodes)\n")


@pytest.mark.usefixtures("no_hotline_env")
def test_load_all_gives_settings_and_the_flow() -> None:
    settings, flow = load_all(CONFIG)
    assert settings.flow == FLOW and flow.name == "hotline"


@pytest.mark.usefixtures("no_hotline_env")
@pytest.mark.parametrize("command", ["check", "run", "demo", "measure-turns"])
def test_a_bad_configuration_exits_2_with_one_line(
    tmp_path: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("queues: []\n")
    assert main([command, "--config", str(config)]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(f"hotline: {config}: queues: Tuple should have at least 1 item")
    assert captured.err.count("\n") == 1
    assert captured.out == ""


@pytest.mark.usefixtures("no_hotline_env")
def test_a_flow_naming_an_unknown_queue_exits_2(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "hotline.yaml"
    config.write_text(f"flow: {FLOW}\nqueues:\n  - {{id: other, name: Other}}\n")
    assert main(["check", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"hotline: {FLOW}") and "claims" in err


def test_measure_turns_needs_a_call(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["measure-turns", "--calls", "0"]) == 2
    assert capsys.readouterr().err == "hotline: --calls: needs at least 1, not 0\n"


@pytest.mark.usefixtures("no_hotline_env", "restored_structlog")
def test_measure_turns_names_an_unreadable_eval_set(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "missing.tsv"
    assert main(["measure-turns", "--config", str(CONFIG), "--set", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hotline: measure-turns: ") and str(missing) in err


def test_a_bad_call_script_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["call", "--script", "dance:now"]) == 2
    assert capsys.readouterr().err.startswith("hotline: ")


def test_a_command_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main([])
    assert caught.value.code == 2
    assert "COMMAND" in capsys.readouterr().err


def test_import_queues_prints_the_configuration_and_what_was_left_out(
    capsys: pytest.CaptureFixture[str],
) -> None:
    fixtures = ROOT / "tests/unit/fixtures"
    assert main(["import-queues", str(fixtures / "queues.conf"),
                 "--rules", str(fixtures / "queuerules.conf")]) == 0  # fmt: skip
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    assert {q["queue_id"] for q in document["queues"]} >= {"support", "sales"}
    assert "not mapped: queues.conf [sales]" in captured.err
    assert "invalid:" not in captured.err


def test_import_queues_exits_1_when_the_result_cannot_be_applied(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    conf = tmp_path / "queues.conf"
    conf.write_text("[q]\nstrategy = ringall\nmember => PJSIP/a,0,Ann\nwrapuptime = -5\n")
    assert main(["import-queues", str(conf)]) == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out)["queues"][0]["queue_id"] == "q"
    assert "invalid: queues[0].wrapup_s: must be a finite number >= 0" in captured.err


@pytest.mark.usefixtures("no_hotline_env")
def test_simulated_calls_go_to_the_configured_service() -> None:
    settings = load_settings(CONFIG)
    endpoints = endpoints_for(settings)
    assert (endpoints.ari_url, endpoints.ari_user, endpoints.hotline_app) == (
        "http://127.0.0.1:8088/ari", "hotline", "hotline")
    assert endpoints.service_url == "http://127.0.0.1:8080"
    assert endpoints_for(settings, http_port=9000).service_url == "http://127.0.0.1:9000"
    assert endpoints_for(settings, "http://svc:1").service_url == "http://svc:1"
