"""The real speech engines: pocketsphinx (its wheel's en-us model) on telephone audio, and vosk's
start-up checks.

Audio is espeak-ng's mbrola voice `mb-us3` through `ivr.speech.telephone_audio` (8 kHz, 20 dB
SNR, G.711 mu-law), synthesised into a per-session folder. Every test gets a fresh pocketsphinx
recognizer: the engine learns the line's cepstral mean from each utterance, so a shared one
would make a result depend on the tests that ran before it.

No vosk model can be downloaded in CI: the recognition test with vosk runs only when
HOTLINE_VOSK_MODEL names an unpacked model folder.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import pytest

from ivr.intents import classify
from ivr.speech.catalog import DEMO_INTENTS, load_catalog
from ivr.speech.factory import SpeechSettings, build_recognizer
from ivr.speech.pcm import PcmFeeder
from ivr.speech.pocketsphinx_engine import PocketsphinxRecognizer
from ivr.speech.port import (
    Alternative,
    Grammar,
    PartialResult,
    Recognition,
    RecognizerConfigError,
    RecognizerError,
    recognition_executor,
    recognize,
)
from ivr.speech.telephone_audio import AudioToolError, Voice, silence, synthesize
from ivr.speech.vosk_engine import MODEL_HINT, VoskRecognizer, _from_nbest, grammar_json

CATALOG = load_catalog(DEMO_INTENTS)
MAIN = CATALOG.menu("main_menu")
MAIN_GRAMMAR = Grammar.from_intents(MAIN)
VOICE = Voice("mb-us3", 150)
SNR_DB = 20.0
RATE = 8000
SETTING = "speech.vosk_model_dir"
MODELS_URL = "https://alphacephei.com/vosk/models"

# Sox dithers, so every session's audio differs slightly: at language weight 14 each phrase was
# recognised in 10 of 10 fresh syntheses; at 10 (better over the whole eval set) "I need
# roadside assistance" at this voice and speed was missed once in three sessions.
HEARD = [
    ("check my claim", "claim_status"),
    ("billing", "billing"),
    ("operator", "agent"),
    ("I need roadside assistance", "roadside"),
    ("report an accident", "report_claim"),
    ("make a complaint", "complaint"),
    ("my policy", "policy_info"),
]

Speak = Callable[[str], bytes]


@pytest.fixture(scope="session")
def speak(tmp_path_factory: pytest.TempPathFactory) -> Speak:
    """Text → 8 kHz telephone audio, or skip when espeak-ng, sox or the voice is missing."""
    cache = tmp_path_factory.mktemp("speech-audio")
    missing = [tool for tool in ("espeak-ng", "sox") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed: run scripts/install-deps")
    voices = subprocess.run(["espeak-ng", "--voices=mb"], capture_output=True, text=True,
                            check=False, timeout=30).stdout
    if f"mb/{VOICE.name}" not in voices:
        pytest.skip(f"espeak-ng voice {VOICE.name} (mbrola) not installed: run "
                    "scripts/install-deps")

    def run(text: str) -> bytes:
        try:
            return synthesize(text, VOICE, snr_db=SNR_DB, cache_dir=cache)
        except AudioToolError as exc:  # pragma: no cover - depends on the machine
            pytest.skip(f"cannot synthesise test audio: {exc}")

    return run


@pytest.fixture(scope="module")
def executor() -> Iterator[ThreadPoolExecutor]:
    pool = recognition_executor(2)
    yield pool
    pool.shutdown(wait=True)


@pytest.fixture
def sphinx() -> PocketsphinxRecognizer:
    return PocketsphinxRecognizer()


async def _spoken(speak: Speak, text: str) -> bytes:
    return await asyncio.to_thread(speak, text)


# --- pocketsphinx: recognition ---------------------------------------------------------------

async def test_pocketsphinx_hears_main_menu_requests_over_the_phone(
        speak: Speak, sphinx: PocketsphinxRecognizer, executor: ThreadPoolExecutor) -> None:
    """The engine's wiring, not its accuracy (that is `make eval`'s, over 612 utterances):
    one voice at one speed can trip on a phrase (at 92 % a miss in seven is expected now and
    then), a broken audio path, model or grammar gets most of them wrong."""
    missed: list[tuple[str, str, str | None]] = []
    for text, intent in HEARD:
        result = await recognize(sphinx, await _spoken(speak, text), MAIN_GRAMMAR, RATE,
                                 executor)
        assert result.engine == "pocketsphinx" and 0.0 <= result.confidence <= 1.0
        scored = classify(result, MAIN)
        if scored.intent != intent:
            missed.append((text, result.text, scored.intent))
    print(f"missed {len(missed)} of {len(HEARD)}: {missed}")
    assert len(missed) <= 1, missed


async def test_a_recognition_carries_text_confidence_and_alternatives(
        speak: Speak, sphinx: PocketsphinxRecognizer, executor: ThreadPoolExecutor) -> None:
    pcm = await _spoken(speak, "check my claim")
    result = await recognize(sphinx, pcm, MAIN_GRAMMAR, RATE, executor)
    assert result.text == "check my claim"
    assert 0.0 < result.confidence <= 1.0
    assert result.alternatives, "pocketsphinx gave no n-best"
    assert all(isinstance(alt, Alternative) for alt in result.alternatives)
    texts = [alt.text for alt in result.alternatives]
    assert result.text not in texts and len(set(texts)) == len(texts)
    confidences = [alt.confidence for alt in result.alternatives]
    assert all(0.0 <= c <= result.confidence for c in confidences)
    assert confidences == sorted(confidences, reverse=True)
    assert result.audio_s == pytest.approx(len(pcm) / (2 * RATE))
    assert result.cpu_s > 0


async def test_streamed_frames_give_the_result_of_the_whole_buffer_and_partials(
        speak: Speak, executor: ThreadPoolExecutor) -> None:
    pcm = await _spoken(speak, "check my claim")

    async def frames() -> AsyncIterator[bytes]:
        for start in range(0, len(pcm), 320):  # 20 ms RTP packets
            yield pcm[start:start + 320]

    partials: list[PartialResult] = []
    streamed = await recognize(PocketsphinxRecognizer(), frames(), MAIN_GRAMMAR, RATE, executor,
                               on_partial=partials.append)
    whole = await recognize(PocketsphinxRecognizer(), pcm, MAIN_GRAMMAR, RATE, executor)
    assert streamed.text == whole.text == "check my claim"
    # Partials are the words so far and may still change; the last one is the result.
    assert partials and partials[-1].text == streamed.text


async def test_wideband_audio_at_16_khz_is_recognised_too(
        speak: Speak, sphinx: PocketsphinxRecognizer, executor: ThreadPoolExecutor) -> None:
    wideband = PcmFeeder(8000, 16000).feed(await _spoken(speak, "check my claim"))
    result = await recognize(sphinx, wideband, MAIN_GRAMMAR, 16000, executor)
    assert classify(result, MAIN).intent == "claim_status"
    assert result.audio_s == pytest.approx(len(wideband) / (2 * 16000))


@pytest.mark.parametrize("audio", [b"", silence(1.5), silence(1.0, noise_db=None)],
                         ids=["nothing", "line-noise", "digital-silence"])
async def test_silence_is_an_empty_recognition(sphinx: PocketsphinxRecognizer,
                                               executor: ThreadPoolExecutor,
                                               audio: bytes) -> None:
    result = await recognize(sphinx, audio, MAIN_GRAMMAR, RATE, executor)
    assert result.empty and result.text == ""
    assert (result.confidence, result.alternatives) == (0.0, ())
    assert classify(result, MAIN).intent is None


async def test_free_dictation_without_a_grammar(
        speak: Speak, sphinx: PocketsphinxRecognizer, executor: ThreadPoolExecutor) -> None:
    pcm = await _spoken(speak, "check my claim")
    result = await recognize(sphinx, pcm, None, RATE, executor)
    assert result.engine == "pocketsphinx" and not result.empty
    assert result.confidence >= 0.0


# --- pocketsphinx: sessions, grammars, preparation ---------------------------------------------

@pytest.mark.parametrize("rate", [11025, 22050, 44100, 0])
def test_open_session_refuses_an_unsupported_sample_rate(sphinx: PocketsphinxRecognizer,
                                                         rate: int) -> None:
    with pytest.raises(RecognizerError, match=str(rate)):
        sphinx.open_session(MAIN_GRAMMAR, rate)


@pytest.mark.parametrize("phrases", [("zzxqv blorptang",), ("我要付款",), ()],
                         ids=["made-up", "chinese", "empty"])
def test_a_grammar_without_dictionary_words_is_refused(sphinx: PocketsphinxRecognizer,
                                                       phrases: tuple[str, ...]) -> None:
    grammar = Grammar(phrases)
    with pytest.raises(RecognizerError, match="dictionary"):
        sphinx.open_session(grammar, RATE)
    with pytest.raises(RecognizerError, match="dictionary"):
        sphinx.prepare([grammar])
    # The decoder went back to the pool in working order.
    sphinx.open_session(MAIN_GRAMMAR, RATE).close()


def test_every_demo_menu_word_is_in_the_dictionary(sphinx: PocketsphinxRecognizer) -> None:
    for name, specs in CATALOG.menus.items():
        assert sphinx.missing_words(Grammar.from_intents(specs)) == frozenset(), name
    assert sphinx.missing_words(Grammar(("check my zzxqv",))) == {"zzxqv"}


async def test_prepare_twice_is_harmless(speak: Speak, sphinx: PocketsphinxRecognizer,
                                         executor: ThreadPoolExecutor) -> None:
    grammars = [Grammar.from_intents(specs) for specs in CATALOG.menus.values()]
    sphinx.prepare(grammars)
    sphinx.prepare([*grammars, MAIN_GRAMMAR])
    result = await recognize(sphinx, await _spoken(speak, "operator"), MAIN_GRAMMAR, RATE,
                             executor)
    assert classify(result, MAIN).intent == "agent"


def test_a_finished_session_refuses_more_work(sphinx: PocketsphinxRecognizer) -> None:
    session = sphinx.open_session(MAIN_GRAMMAR, RATE)
    session.accept(silence(0.2))
    assert session.finish().empty
    with pytest.raises(RecognizerError, match="already finished"):
        session.finish()
    with pytest.raises(RecognizerError, match="already finished"):
        session.accept(silence(0.1))
    session.close()
    session.close()  # idempotent


def test_a_closed_session_frees_its_decoder(sphinx: PocketsphinxRecognizer) -> None:
    sessions = [sphinx.open_session(MAIN_GRAMMAR, RATE) for _ in range(3)]
    for session in sessions:
        session.accept(silence(0.1))
        session.close()
    with pytest.raises(RecognizerError):
        sessions[0].finish()
    # The freed decoders are reused with their utterance ended: a new one starts cleanly.
    again = sphinx.open_session(MAIN_GRAMMAR, RATE)
    again.accept(silence(0.2))
    assert again.finish().empty


class _Posteriors:
    """A pocketsphinx decoder whose word posteriors come out a hair above 1, as its log-domain
    arithmetic (base 1.0001) gives: 1.0001 and 1.0002 were seen here for "billing" and
    "operator" spoken by mb-us3."""

    def end_utt(self) -> None:
        pass

    def hyp(self) -> SimpleNamespace:
        return SimpleNamespace(hypstr="billing")

    def seg(self) -> list[SimpleNamespace]:
        return [SimpleNamespace(word="<s>", prob=1.0), SimpleNamespace(word="billing", prob=1.0002),
                SimpleNamespace(word="</s>", prob=1.0)]

    def get_cmn(self) -> str:
        return ",".join(["40.0"] + ["0.0"] * 12)

    def nbest(self) -> list[SimpleNamespace]:
        return [SimpleNamespace(hypstr="billing"), SimpleNamespace(hypstr="billing update")]


def test_pocketsphinx_confidence_never_exceeds_one(sphinx: PocketsphinxRecognizer) -> None:
    session = sphinx.open_session(MAIN_GRAMMAR, RATE)
    decoder = session._decoder
    assert decoder is not None
    decoder.ps = _Posteriors()  # what the real decoder said for "billing", without the audio
    result = session.finish()
    assert result.text == "billing"
    assert 0.0 <= result.confidence <= 1.0


# --- vosk: start-up checks ---------------------------------------------------------------------

def _vosk(model_dir: Path | None) -> VoskRecognizer:
    recognizer = build_recognizer(SpeechSettings(engine="vosk", vosk_model_dir=model_dir))
    assert isinstance(recognizer, VoskRecognizer)
    return recognizer


def _assert_actionable(exc: RecognizerConfigError, *fragments: str) -> None:
    message = str(exc)
    assert "\n" not in message
    assert SETTING in message and MODELS_URL in message and "HOTLINE_VOSK_MODEL" in message
    for fragment in fragments:
        assert fragment in message, message


def _fake_model(root: Path, *, mfcc: str = "--sample-frequency=16000\n") -> Path:
    """A folder laid out like a vosk model whose files are garbage."""
    for name in ("am/final.mdl", "graph/HCLr.fst", "conf/mfcc.conf"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"\x00garbage\xff" * 8)
    (root / "conf/mfcc.conf").write_text(mfcc, encoding="utf-8")
    return root


def test_vosk_without_a_model_dir_says_where_to_get_one() -> None:
    with pytest.raises(RecognizerConfigError) as caught:
        _vosk(None)
    _assert_actionable(caught.value, "no model is set")
    assert MODEL_HINT in str(caught.value)


def test_vosk_with_a_missing_model_dir(tmp_path: Path) -> None:
    missing = tmp_path / "vosk-model-small-en-us-0.15"
    with pytest.raises(RecognizerConfigError) as caught:
        _vosk(missing)
    _assert_actionable(caught.value, str(missing), "does not exist")


def test_vosk_with_an_empty_model_dir(tmp_path: Path) -> None:
    with pytest.raises(RecognizerConfigError) as caught:
        _vosk(tmp_path)
    _assert_actionable(caught.value, str(tmp_path), "does not look like a vosk model",
                       "am/final.mdl", "found: nothing")


def test_vosk_with_a_dir_holding_only_a_garbage_file(tmp_path: Path) -> None:
    (tmp_path / "vosk-model-small-en-us-0.15.zip").write_bytes(b"PK\x03\x04 not unpacked")
    with pytest.raises(RecognizerConfigError) as caught:
        _vosk(tmp_path)
    _assert_actionable(caught.value, "does not look like a vosk model",
                       "vosk-model-small-en-us-0.15.zip", "unpack")


def test_vosk_with_a_file_for_a_model_dir(tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.write_bytes(b"garbage")
    with pytest.raises(RecognizerConfigError) as caught:
        _vosk(model)
    _assert_actionable(caught.value, str(model), "is a file")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any folder: chmod cannot hide it")
def test_vosk_with_an_unreadable_model_dir(tmp_path: Path) -> None:
    model = _fake_model(tmp_path / "model")
    model.chmod(0)
    try:
        with pytest.raises(RecognizerConfigError) as caught:
            _vosk(model)
    finally:
        model.chmod(0o755)
    _assert_actionable(caught.value, "not readable")


def test_a_garbage_model_passes_the_layout_check_and_fails_to_load(tmp_path: Path) -> None:
    recognizer = _vosk(_fake_model(tmp_path / "model"))
    assert recognizer.model_rate == 16000
    with pytest.raises(RecognizerConfigError) as caught:
        recognizer.prepare([MAIN_GRAMMAR])
    _assert_actionable(caught.value, "could not load the model", str(tmp_path / "model"))
    # A session after a failed load fails the same way: no half-loaded model is kept.
    with pytest.raises(RecognizerConfigError):
        recognizer.open_session(MAIN_GRAMMAR, RATE)


def test_vosk_reads_the_model_s_sample_rate(tmp_path: Path) -> None:
    narrow = _vosk(_fake_model(tmp_path / "narrow", mfcc="--sample-frequency=8000\n"))
    unstated = _vosk(_fake_model(tmp_path / "unstated", mfcc="--use-energy=false\n"))
    assert (narrow.model_rate, unstated.model_rate) == (8000, 16000)


@pytest.mark.parametrize("rate", [11025, 44100])
def test_vosk_refuses_an_unsupported_sample_rate(tmp_path: Path, rate: int) -> None:
    recognizer = _vosk(_fake_model(tmp_path / "model"))
    with pytest.raises(RecognizerError, match=str(rate)) as caught:
        recognizer.open_session(MAIN_GRAMMAR, rate)
    assert not isinstance(caught.value, RecognizerConfigError)


def test_an_unknown_engine_or_rate_is_a_config_error() -> None:
    with pytest.raises(RecognizerConfigError, match="speech.engine"):
        SpeechSettings(engine="whisper")  # type: ignore[arg-type]
    with pytest.raises(RecognizerConfigError, match="speech.sample_rate"):
        SpeechSettings(sample_rate=44100)


# --- vosk: grammar and n-best (no model needed) -----------------------------------------------

def test_the_vosk_grammar_is_the_phrases_plus_unknown() -> None:
    import json

    assert json.loads(grammar_json(Grammar(("pay my bill", "billing")))) == [
        "pay my bill", "billing", "[unk]"]
    assert json.loads(grammar_json(Grammar(("我要付款",)))) == ["我要付款", "[unk]"]


def test_vosk_nbest_log_likelihoods_become_posteriors() -> None:
    raw = {"alternatives": [
        {"text": "pay my bill", "confidence": -100.0},
        {"text": "[unk] pay my bill", "confidence": -101.0},  # the same words once cleaned
        {"text": "play my bill", "confidence": -102.0},
        {"text": "[unk]", "confidence": -110.0},
    ]}
    text, confidence, alternatives = _from_nbest(raw)
    assert text == "pay my bill"
    assert [alt.text for alt in alternatives] == ["play my bill"]  # "" dropped
    total = confidence + sum(alt.confidence for alt in alternatives)
    assert 0.99 < total <= 1.0 + 1e-3
    assert 0.0 < alternatives[0].confidence < confidence <= 1.0


def test_vosk_nbest_with_only_unknown_words_is_empty() -> None:
    raw = {"alternatives": [{"text": "[unk]", "confidence": -10.0},
                            {"text": "billing", "confidence": -14.0}]}
    text, confidence, alternatives = _from_nbest(raw)
    assert (text, confidence) == ("", 0.0)
    assert [alt.text for alt in alternatives] == ["billing"]
    assert _from_nbest({}) == ("", 0.0, ())


def test_vosk_single_result_uses_word_confidences() -> None:
    raw = {"text": "pay my bill", "result": [{"word": "pay", "conf": 0.5},
                                             {"word": "my", "conf": 1.0},
                                             {"word": "bill", "conf": 0.9}]}
    text, confidence, alternatives = _from_nbest(raw)
    assert (text, alternatives) == ("pay my bill", ())
    assert confidence == pytest.approx(0.8)


# --- vosk: recognition with a real model (when one is given) ------------------------------------

@pytest.fixture
def vosk_model() -> Path:
    named = os.environ.get("HOTLINE_VOSK_MODEL")
    if not named:
        pytest.skip("no vosk model: set HOTLINE_VOSK_MODEL to an unpacked English model folder "
                    f"(e.g. vosk-model-small-en-us-0.15 from {MODELS_URL}) to run this test")
    return Path(named)


async def test_vosk_hears_main_menu_requests_over_the_phone(
        vosk_model: Path, speak: Speak, executor: ThreadPoolExecutor) -> None:
    recognizer = _vosk(vosk_model)
    await asyncio.to_thread(recognizer.prepare, [MAIN_GRAMMAR])
    wanted = HEARD[:4]
    results: list[tuple[str, Recognition, str | None]] = []
    for text, intent in wanted:
        result = await recognize(recognizer, await _spoken(speak, text), MAIN_GRAMMAR, RATE,
                                 executor)
        assert result.engine == "vosk"
        assert 0.0 <= result.confidence <= 1.0
        assert all(0.0 <= alt.confidence <= 1.0 for alt in result.alternatives)
        results.append((intent, result, classify(result, MAIN).intent))
    right = [r for intent, r, got in results if got == intent]
    assert len(right) >= len(wanted) - 1, [(r.text, got) for _, r, got in results]
