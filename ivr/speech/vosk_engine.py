"""The production recognizer: vosk 0.3.45 (Kaldi) with a model directory the operator supplies.

The menu's phrases go to `KaldiRecognizer` as a grammar (a JSON phrase list plus "[unk]" for
anything else). Runtime grammars need a model with a dynamic graph: the small models and the
`-lgraph` ones; big static-graph models log "Runtime graphs are not supported" and decode
freely, which still works with the classifier behind it. Vosk biases towards the phrases
rather than forcing them (alphacep/vosk-api#740), so the intent classifier always re-checks.

Small models are 16 kHz and refuse 8 kHz audio (vosk-api#1726): 8 kHz calls are upsampled here.
"""

from __future__ import annotations

import json
import math
import os
import re
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ivr.speech.pcm import PcmFeeder, seconds
from ivr.speech.port import (
    SUPPORTED_RATES,
    Alternative,
    Grammar,
    PartialResult,
    Recognition,
    RecognizerConfigError,
    RecognizerError,
)

__all__ = ["MODEL_HINT", "VoskRecognizer"]

MODEL_HINT = (
    "Download a model from https://alphacephei.com/vosk/models (e.g. vosk-model-small-en-us-0.15 "
    "for English, vosk-model-small-cn-0.22 for Mandarin), unpack it, and point the setting "
    "speech.vosk_model_dir (environment: HOTLINE_VOSK_MODEL) at the unpacked folder, the one "
    "holding am/ and conf/. Or set speech.engine to pocketsphinx, which needs no download."
)
_REQUIRED = ("am/final.mdl", "conf/mfcc.conf")
_GRAPHS = ("graph/HCLG.fst", "graph/HCLr.fst")
_UNK = "[unk]"
_RATE = re.compile(r"--sample-frequency\s*=\s*(\d+)")


class VoskRecognizer:
    """Vosk over one loaded model shared by every session (a model is thread-safe; a
    recognizer is not, so each session has its own)."""

    def __init__(self, model_dir: Path, *, max_alternatives: int = 5) -> None:
        self.model_dir = model_dir
        self.max_alternatives = max_alternatives
        self.model_rate = _check_layout(model_dir)
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return "vosk"

    def prepare(self, grammars: Iterable[Grammar | None]) -> None:
        """Load the model (seconds for large ones): call at start-up, off the loop."""
        self._loaded()
        for grammar in grammars:
            self.open_session(grammar, self.model_rate).close()

    def open_session(self, grammar: Grammar | None, sample_rate: int) -> _VoskSession:
        if sample_rate not in SUPPORTED_RATES:
            raise RecognizerError(f"vosk sessions take {SUPPORTED_RATES} Hz audio, "
                                  f"not {sample_rate}")
        from vosk import KaldiRecognizer

        model = self._loaded()
        rate = max(sample_rate, self.model_rate)
        try:
            if grammar is None:
                recognizer = KaldiRecognizer(model, rate)
            else:
                recognizer = KaldiRecognizer(model, rate, grammar_json(grammar))
            recognizer.SetMaxAlternatives(self.max_alternatives)
        except Exception as exc:  # vosk raises bare Exception
            raise RecognizerError(f"vosk could not start a recognizer: {exc}") from exc
        return _VoskSession(recognizer, PcmFeeder(sample_rate, rate))

    def _loaded(self) -> Any:
        with self._lock:
            if self._model is None:
                import vosk

                vosk.SetLogLevel(-1)
                try:
                    self._model = vosk.Model(str(self.model_dir))
                except Exception as exc:
                    raise RecognizerConfigError(
                        f"vosk could not load the model in {self.model_dir} ({exc}; vosk's own "
                        f"reason is in the log above). {MODEL_HINT}") from exc
            return self._model


def grammar_json(grammar: Grammar) -> str:
    """Vosk's phrase-list grammar: the phrases plus "[unk]" so other words are not forced."""
    return json.dumps([*grammar.phrases, _UNK], ensure_ascii=False)


def _check_layout(model_dir: Path) -> int:
    """The model's sample rate; RecognizerConfigError if the folder is not a usable model."""
    where = f"vosk model directory '{model_dir}'"
    if not model_dir.exists():
        raise RecognizerConfigError(f"{where} does not exist. {MODEL_HINT}")
    if not model_dir.is_dir():
        raise RecognizerConfigError(f"{where} is a file, not a folder. {MODEL_HINT}")
    if not os.access(model_dir, os.R_OK | os.X_OK):
        raise RecognizerConfigError(f"{where} is not readable by this user "
                                    f"(uid {os.getuid()}). {MODEL_HINT}")
    missing = [p for p in _REQUIRED if not (model_dir / p).is_file()]
    if not any((model_dir / p).is_file() for p in _GRAPHS):
        missing.append(" or ".join(_GRAPHS))
    if missing:
        found = sorted(p.name for p in model_dir.iterdir())[:8]
        raise RecognizerConfigError(
            f"{where} does not look like a vosk model: missing {', '.join(missing)} "
            f"(found: {', '.join(found) or 'nothing'}). {MODEL_HINT}")
    try:
        mfcc = (model_dir / "conf" / "mfcc.conf").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RecognizerConfigError(f"{where}: cannot read conf/mfcc.conf ({exc}). "
                                    f"{MODEL_HINT}") from exc
    match = _RATE.search(mfcc)
    return int(match.group(1)) if match else 16000


class _VoskSession:
    def __init__(self, recognizer: Any, feeder: PcmFeeder) -> None:
        self._recognizer: Any = recognizer
        self._feeder = feeder
        self._lock = threading.Lock()
        self._audio_bytes = 0
        self._cpu = 0.0
        self._partial = ""

    def accept(self, pcm: bytes) -> PartialResult | None:
        with self._lock:
            recognizer = self._active()
            started = time.thread_time()
            try:
                recognizer.AcceptWaveform(self._feeder.feed(pcm))
                partial = json.loads(recognizer.PartialResult()).get("partial", "")
            except Exception as exc:
                raise RecognizerError(f"vosk failed on the audio: {exc}") from exc
            finally:
                self._cpu += time.thread_time() - started
            self._audio_bytes += len(pcm)
            text = _clean(partial)
            if text == self._partial:
                return None
            self._partial = text
            return PartialResult(text)

    def finish(self) -> Recognition:
        with self._lock:
            recognizer = self._active()
            started = time.thread_time()
            try:
                raw = json.loads(recognizer.FinalResult())
            except Exception as exc:
                raise RecognizerError(f"vosk failed to finish: {exc}") from exc
            finally:
                self._recognizer = None
                self._cpu += time.thread_time() - started
            text, confidence, alternatives = _from_nbest(raw)
            return Recognition(text, confidence, alternatives, "vosk",
                               seconds(self._audio_bytes, self._feeder.in_rate), self._cpu)

    def close(self) -> None:
        with self._lock:
            self._recognizer = None  # freed by vosk's __del__

    def _active(self) -> Any:
        if self._recognizer is None:
            raise RecognizerError("the recognition session is already finished")
        return self._recognizer


def _clean(text: str) -> str:
    return " ".join(w for w in text.split() if w != _UNK)


def _from_nbest(raw: dict[str, Any]) -> tuple[str, float, tuple[Alternative, ...]]:
    """Vosk's n-best "confidence" is a total log-likelihood (-(graph + acoustic cost),
    vosk-api src/recognizer.cc NbestResult): a softmax over the list gives posteriors."""
    entries = [(_clean(str(e.get("text", ""))), float(e.get("confidence", 0.0)))
               for e in raw.get("alternatives", ()) if isinstance(e, dict)]
    if not entries and "text" in raw:  # max_alternatives 0: one text, word confidences
        words = raw.get("result") or []
        confs = [float(w.get("conf", 0.0)) for w in words if isinstance(w, dict)]
        text = _clean(str(raw["text"]))
        return text, (sum(confs) / len(confs) if confs else float(bool(text))), ()
    if not entries:
        return "", 0.0, ()
    best = max(score for _, score in entries)
    weights = [math.exp(score - best) for _, score in entries]
    total = sum(weights)
    merged: dict[str, float] = {}
    for (text, _), weight in zip(entries, weights, strict=True):
        merged[text] = merged.get(text, 0.0) + weight / total
    ranked = sorted(merged.items(), key=lambda kv: kv[1], reverse=True)
    (text, confidence), rest = ranked[0], ranked[1:]
    if not text:
        return "", 0.0, tuple(Alternative(t, round(c, 4)) for t, c in rest if t)
    return text, round(confidence, 4), tuple(Alternative(t, round(c, 4)) for t, c in rest if t)
