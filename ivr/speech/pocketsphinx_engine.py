"""The embedded default recognizer: pocketsphinx 5 with the en-us model inside its wheel.

Each menu's phrases become a small trigram language model (the default, `mode="lm"`) or a JSGF
grammar of the phrases (`mode="jsgf"`). Measured with `python -m ivr.speech.evaluate` on the
project's set (espeak-ng voices through 8 kHz mu-law at 20 dB SNR): the phrase LM reached 78 %
intent accuracy, the exact-phrase JSGF grammar 62 % (callers' own wordings are snapped to the
nearest listed phrase, confidently wrong), JSGF with carrier phrases 66 % at ten times the CPU,
a keyword list 30 %. The LM lets callers combine the menu's words freely and the classifier
sorts out the rest.

Decoders are not thread-safe and cost ~0.1 s and ~27 MB each to create, so the engine keeps a
pool per kind: a session borrows one for the utterance. Compiled grammars stay on the decoder.
Grammar decoders start from an empty pronouncing dictionary and are taught only the words of
their grammars (from the wheel's cmudict): adding a menu's small LM to a decoder holding the
whole 134,860-word dictionary took 4–25 s here (pocketsphinx walks the dictionary per search),
with the words of the grammar alone it takes milliseconds. Free-form questions use the general
LM on decoders with the full dictionary.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import tempfile
import threading
import time
import weakref
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from ivr.intents import tokens
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

__all__ = ["PocketsphinxRecognizer"]

MODEL_RATE = 16000  # the wheel's model is wideband (feat.params: -upperf 6800)
# A heavier language weight than the default 6.5 and a stiffer word insertion penalty keep the
# caller's words from dissolving into strings of short in-grammar words ("representative" →
# "with am with the"). 14 was tuned on espeak's formant voices; on the project's set spoken by
# the MBROLA voices (closer to people) intent accuracy was, by language weight, 6.5: 90.8 %,
# 8: 93.8 %, 10: 92.3 %, 14: 89.7 %, 18: 81.2 % (20 dB SNR); at 10 dB SNR 8: 64.7 %,
# 10: 63.4 %, 14: 56.7 %; with the formant voices 8: 76.0 %, 10: 79.2 %, 14: 79.7 %.
# 10 is the one that holds up in all three.
LANGUAGE_WEIGHT = 10.0
WORD_INSERTION_PENALTY = 0.01
_PARTIAL_EVERY_S = 0.3
_FEED_SAMPLES = 1600  # ≤ 100 ms per C call: pocketsphinx holds the GIL while it decodes
_CMN_ALPHA = 0.2  # weight of the latest utterance in the running cepstral-mean prior
# The starting prior: the mean cepstrum of telephone-band speech (espeak-ng, three voices, the
# demo intents' 166 example phrases through 8 kHz mu-law at 20 dB SNR), not the wheel's
# wideband default (40,3,-1,…), with which the first utterances after start-up came out as
# "a" for "agent" and "get my claim" for "check my claim" (measured here).
TELEPHONE_CMN = (57.15, -3.86, -10.44, 4.34, -8.70, 0.14, -7.22, -1.45, -7.49, 2.68, -4.28,
                 1.79, -3.05)
_NOT_WORDS = re.compile(r"^(<.*>|\[.*\]|\+.*\+)$")
_ALT_PRON = re.compile(r"\(\d+\)$")


class PocketsphinxRecognizer:
    """Grammar-constrained recognition with the wheel's en-us model; no downloads."""

    def __init__(self, *, mode: Literal["lm", "jsgf"] = "lm", nbest: int = 10,
                 idle_decoders: int = 4, model_dir: Path | None = None) -> None:
        try:
            import pocketsphinx
        except ImportError as exc:  # pragma: no cover - it is a pinned dependency
            raise RecognizerConfigError("pocketsphinx is not installed (pip install "
                                        "pocketsphinx==5.1.1)") from exc
        root = model_dir or Path(pocketsphinx.get_model_path())
        self._files = {"hmm": root / "en-us" / "en-us",
                       "dict": root / "en-us" / "cmudict-en-us.dict"}
        self._general_lm = root / "en-us" / "en-us.lm.bin"
        for what, path in (*self._files.items(), ("lm", self._general_lm)):
            if not path.exists():
                raise RecognizerConfigError(
                    f"pocketsphinx {what} model not found at {path}: reinstall the "
                    "pocketsphinx==5.1.1 wheel, which carries its en-us model")
        self.mode = mode
        self.nbest = nbest
        self._idle_max = idle_decoders
        self._idle: dict[bool, list[_Decoder]] = {True: [], False: []}  # by "general?"
        self._pronunciations: dict[str, list[str]] | None = None
        self._lock = threading.Lock()
        self._sources: dict[str, str] = {}  # grammar key → LM file path or JSGF text
        self._workdir = Path(tempfile.mkdtemp(prefix="hotline-pocketsphinx-"))
        weakref.finalize(self, shutil.rmtree, self._workdir, True)
        self._cmn_prior = list(TELEPHONE_CMN)

    @property
    def name(self) -> str:
        return "pocketsphinx"

    def prepare(self, grammars: Iterable[Grammar | None]) -> None:
        """Load models and compile the grammars (None: free-form) before the first call."""
        for grammar in grammars:
            decoder = self._borrow(general=grammar is None)
            try:
                decoder.activate(self._search(decoder, grammar))
            finally:
                self._give_back(decoder)
        self._give_back(self._borrow(general=False))

    def missing_words(self, grammar: Grammar) -> frozenset[str]:
        """Words of the grammar the pronouncing dictionary lacks (they cannot be heard)."""
        known = self._lexicon()
        return frozenset(w for p in grammar.phrases for w in tokens(p) if w not in known)

    def open_session(self, grammar: Grammar | None, sample_rate: int) -> _Session:
        if sample_rate not in SUPPORTED_RATES:
            raise RecognizerError(f"pocketsphinx sessions take {SUPPORTED_RATES} Hz audio, "
                                  f"not {sample_rate}")
        decoder = self._borrow(general=grammar is None)
        try:
            decoder.activate(self._search(decoder, grammar))
            with self._lock:
                prior = self._cmn_prior
            decoder.ps.set_cmn(",".join(f"{v:.3f}" for v in prior))
            decoder.ps.start_utt()
        except Exception as exc:
            self._give_back(decoder)
            raise RecognizerError(f"pocketsphinx could not start an utterance: {exc}") from exc
        return _Session(self, decoder, PcmFeeder(sample_rate, MODEL_RATE))

    # --- pool and grammars (called from worker threads) ------------------------------------

    def _borrow(self, *, general: bool) -> _Decoder:
        with self._lock:
            if self._idle[general]:
                return self._idle[general].pop()
        return self._new_decoder(general)

    def _give_back(self, decoder: _Decoder) -> None:
        with self._lock:
            idle = self._idle[decoder.general]
            if len(idle) < self._idle_max:
                idle.append(decoder)

    def _lexicon(self) -> dict[str, list[str]]:
        """word → its pronunciations (phone strings), read once from the wheel's cmudict."""
        with self._lock:
            if self._pronunciations is not None:
                return self._pronunciations
        lexicon: dict[str, list[str]] = {}
        with open(self._files["dict"], encoding="utf-8") as entries:
            for entry in entries:
                word, _, phones = entry.partition(" ")
                if phones.strip():
                    lexicon.setdefault(_ALT_PRON.sub("", word), []).append(phones.strip())
        with self._lock:
            self._pronunciations = lexicon
        return lexicon

    def _new_decoder(self, general: bool) -> _Decoder:
        from pocketsphinx import Decoder

        if general:
            dictionary = self._files["dict"]
        else:
            dictionary = self._workdir / "seed.dict"  # one word: the decoder insists on a file
            if not dictionary.exists():
                dictionary.write_text("hotline-seed AH\n", encoding="utf-8")
        try:
            ps = Decoder(hmm=str(self._files["hmm"]), dict=str(dictionary), lm=None,
                         samprate=MODEL_RATE, loglevel="FATAL", lw=LANGUAGE_WEIGHT,
                         fwdflatlw=LANGUAGE_WEIGHT, bestpathlw=LANGUAGE_WEIGHT,
                         wip=WORD_INSERTION_PENALTY, pl_window=0, bestpath=True)
        except (RuntimeError, ValueError) as exc:
            raise RecognizerConfigError(f"pocketsphinx could not load its model: {exc}") from exc
        return _Decoder(ps, general)

    def _search(self, decoder: _Decoder, grammar: Grammar | None) -> str:
        name = "general" if grammar is None else f"{self.mode}_{grammar.key}"
        if name in decoder.searches:
            return name
        if grammar is None:
            decoder.ps.add_lm_file(name, str(self._general_lm))
            decoder.searches.add(name)
            return name
        source = self._source(grammar)
        self._teach(decoder, grammar)
        if self.mode == "jsgf":
            decoder.ps.add_jsgf_string(name, source)
        else:
            decoder.ps.add_lm_file(name, source)
        decoder.searches.add(name)
        return name

    def _teach(self, decoder: _Decoder, grammar: Grammar) -> None:
        """Add the grammar's words (all their pronunciations) to the decoder's dictionary."""
        lexicon = self._lexicon()
        for word in dict.fromkeys(w for p in grammar.phrases for w in tokens(p)):
            if word in lexicon and decoder.ps.lookup_word(word) is None:
                for index, phones in enumerate(lexicon[word]):
                    decoder.ps.add_word(word if index == 0 else f"{word}({index + 1})", phones,
                                        False)

    def _source(self, grammar: Grammar) -> str:
        with self._lock:
            source = self._sources.get(grammar.key)
        if source is not None:
            return source
        lexicon = self._lexicon()
        known = [" ".join(ws) for p in grammar.phrases
                 if (ws := [w for w in tokens(p) if w in lexicon])]
        if not known:
            raise RecognizerError("none of the grammar's words are in the pocketsphinx "
                                  "dictionary (is the menu in another language?)")
        if self.mode == "jsgf":
            source = ("#JSGF V1.0;\ngrammar menu;\npublic <menu> = "
                      + " | ".join(f"( {p} )" for p in dict.fromkeys(known)) + " ;\n")
        else:
            source = str(_write_lm(known, self._workdir / f"{grammar.key}.arpa"))
        with self._lock:
            self._sources[grammar.key] = source
        return source

    def _learn_cmn(self, cmn: str) -> None:
        """Keep a running cepstral mean of recent speech as the next utterance's prior: short
        utterances decoded from the model's wideband default mean came out much worse on
        telephone audio (measured here), and line conditions are shared by a deployment."""
        try:
            values = [float(v) for v in cmn.split(",")]
        except ValueError:
            return
        with self._lock:
            prior = self._cmn_prior
            self._cmn_prior = values if len(prior) != len(values) else [
                (1 - _CMN_ALPHA) * p + _CMN_ALPHA * v for p, v in zip(prior, values, strict=True)]


def _write_lm(phrases: list[str], path: Path) -> Path:
    from pocketsphinx.lm import ArpaBoLM

    model = ArpaBoLM(text="\n".join(phrases), add_start=True)
    model.compute()
    model.write_file(str(path))
    return path


class _Decoder:
    def __init__(self, ps: Any, general: bool) -> None:
        self.ps = ps
        self.general = general
        self.searches: set[str] = set()

    def activate(self, search: str) -> None:
        self.ps.activate_search(search)


class _Session:
    def __init__(self, engine: PocketsphinxRecognizer, decoder: _Decoder,
                 feeder: PcmFeeder) -> None:
        self._engine = engine
        self._decoder: _Decoder | None = decoder
        self._feeder = feeder
        self._lock = threading.Lock()
        self._audio_bytes = 0
        self._cpu = 0.0
        self._since_partial = 0.0
        self._partial = ""

    def accept(self, pcm: bytes) -> PartialResult | None:
        with self._lock:
            decoder = self._active()
            started = time.thread_time()
            data = self._feeder.feed(pcm)
            step = 2 * _FEED_SAMPLES
            try:
                for start in range(0, len(data), step):
                    decoder.ps.process_raw(data[start:start + step])
            except RuntimeError as exc:
                raise RecognizerError(f"pocketsphinx failed on the audio: {exc}") from exc
            self._audio_bytes += len(pcm)
            self._since_partial += seconds(len(pcm), self._feeder.in_rate)
            partial = None
            if self._since_partial >= _PARTIAL_EVERY_S:
                self._since_partial = 0.0
                hyp = decoder.ps.hyp()
                text = hyp.hypstr if hyp is not None else ""
                if text != self._partial:
                    self._partial = text
                    partial = PartialResult(text)
            self._cpu += time.thread_time() - started
            return partial

    def finish(self) -> Recognition:
        with self._lock:
            decoder = self._active()
            started = time.thread_time()
            try:
                decoder.ps.end_utt()
                result = self._result(decoder)
            except RuntimeError as exc:
                raise RecognizerError(f"pocketsphinx failed to finish: {exc}") from exc
            finally:
                self._release()
            self._cpu += time.thread_time() - started
            return Recognition(result[0], result[1], result[2], "pocketsphinx",
                               seconds(self._audio_bytes, self._feeder.in_rate), self._cpu)

    def close(self) -> None:
        with self._lock:
            if self._decoder is not None:
                # RuntimeError: nothing was started; the decoder is reusable either way.
                with contextlib.suppress(RuntimeError):
                    self._decoder.ps.end_utt()
                self._release()

    def _active(self) -> _Decoder:
        if self._decoder is None:
            raise RecognizerError("the recognition session is already finished")
        return self._decoder

    def _release(self) -> None:
        decoder, self._decoder = self._decoder, None
        if decoder is not None:
            self._engine._give_back(decoder)

    def _result(self, decoder: _Decoder) -> tuple[str, float, tuple[Alternative, ...]]:
        hyp = decoder.ps.hyp()
        text = " ".join(hyp.hypstr.split()) if hyp is not None else ""
        if not text:
            return "", 0.0, ()
        words = [s.prob for s in decoder.ps.seg() if not _NOT_WORDS.match(s.word)]
        # Word posteriors come from log-domain sums and can exceed 1 by a hair.
        confidence = round(min(1.0, sum(words) / len(words)), 4) if words else 0.0
        self._engine._learn_cmn(decoder.ps.get_cmn())
        texts: dict[str, None] = {}
        for index, entry in enumerate(decoder.ps.nbest() or ()):
            if index >= 4 * self._engine.nbest or len(texts) >= self._engine.nbest:
                break
            if entry is not None:
                alt = " ".join(_ALT_PRON.sub("", w) for w in entry.hypstr.split()
                               if not _NOT_WORDS.match(w))
                if alt and alt != text:
                    texts.setdefault(alt)
        # The n-best's own scores are path scores, not posteriors; rank is what we trust:
        # each alternative counts half as much as the one before it.
        alternatives = tuple(Alternative(t, round(confidence * 0.5 ** (i + 1), 4))
                             for i, t in enumerate(texts))
        return text, confidence, alternatives
