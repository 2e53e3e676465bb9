"""Prompt audio: text → 8 kHz mono 16-bit WAV that Asterisk plays, cached by content.

espeak-ng through pyttsx3, with the espeak-ng command line as a fallback. Synthesis is blocking
and pyttsx3's espeak driver is process-global and not thread-safe, so every synthesis in the
process runs on one dedicated thread; the event loop only awaits it.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import os
import shutil
import subprocess
import uuid
import warnings
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import structlog

with warnings.catch_warnings():
    # pydub warns at import when ffmpeg is missing; we only read and write WAV, which it does
    # natively.
    warnings.simplefilter("ignore")
    from pydub import AudioSegment

__all__ = ["DEFAULT_RATE", "PromptRenderError", "PromptRenderer", "to_telephone_wav"]

log = structlog.get_logger(__name__)

DEFAULT_RATE = 175  # words per minute: espeak-ng's own default, pinned so both engines agree
TELEPHONE_RATE = 8000  # Asterisk's format_wav plays .wav only at 8 kHz (research/ivr.md §4.2)
RENDER_TIMEOUT = 30.0
_SUBPROCESS_TIMEOUT = 20.0

# One thread for all synthesis in the process: espeak initialises once per process and the
# pyttsx3 engine must not be used from two threads.
_TTS_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tts")


class PromptRenderError(RuntimeError):
    """A prompt could not be turned into audio by any engine."""


class PromptRenderer:
    """Renders prompt texts to `cache_dir/<key>.wav`, once per (text, voice, rate).

    Concurrent requests for the same prompt share one render. `renders` and `hits` count work
    done and cache hits (the TTS cache hit ratio is a service KPI).
    """

    def __init__(self, cache_dir: Path, *, voice: str = "en-us", rate: int | None = None,
                 use_pyttsx3: bool = True, timeout: float = RENDER_TIMEOUT) -> None:
        self.cache_dir = cache_dir
        self.voice = voice
        self.rate = rate if rate is not None else DEFAULT_RATE
        self.use_pyttsx3 = use_pyttsx3
        self.timeout = timeout
        self.renders = 0
        self.hits = 0
        self._inflight: dict[Path, asyncio.Task[Path]] = {}

    def path_for(self, text: str, *, voice: str | None = None) -> Path:
        key = hashlib.sha256(f"{text}|{voice or self.voice}|{self.rate}".encode()).hexdigest()
        return self.cache_dir / f"{key[:32]}.wav"

    async def render(self, text: str, *, voice: str | None = None) -> Path:
        """The WAV for `text`, rendering it first unless cached. Raises PromptRenderError."""
        voice = voice or self.voice
        if not text.strip():
            raise PromptRenderError(f"nothing to say (empty prompt text, voice '{voice}')")
        path = self.path_for(text, voice=voice)
        task = self._inflight.get(path)
        if task is None:
            if path.is_file():  # a stat: cheap enough for the loop, and the common case
                self.hits += 1
                return path
            task = asyncio.get_running_loop().create_task(self._render(text, voice, path))
            self._inflight[path] = task
            task.add_done_callback(functools.partial(self._forget, path))
        # Shielded: a caller hanging up must not cancel a render other calls are waiting for.
        return await asyncio.shield(task)

    async def warm(self, texts: Iterable[str]) -> list[Path]:
        """Render every text now (at start-up), so no caller waits for synthesis."""
        unique = list(dict.fromkeys(texts))
        results = await asyncio.gather(*(self.render(t) for t in unique), return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        for error in errors:
            if not isinstance(error, Exception):
                raise error  # cancellation and the like are not render failures
        if errors:
            raise PromptRenderError("; ".join(str(e) for e in errors))
        return [r for r in results if isinstance(r, Path)]

    async def _render(self, text: str, voice: str, path: Path) -> Path:
        job = (text, voice, self.rate, path, self.use_pyttsx3)
        future = asyncio.get_running_loop().run_in_executor(_TTS_THREAD, _render_file, *job)
        try:
            engine = await asyncio.wait_for(future, self.timeout)
        except TimeoutError as exc:
            raise PromptRenderError(f"rendering {_gist(text)} with voice '{voice}' took over "
                                    f"{self.timeout:g} s") from exc
        if engine is not None:
            self.renders += 1
            log.debug("tts.rendered", engine=engine, voice=voice, file=path.name)
        else:
            self.hits += 1
        return path

    def _forget(self, path: Path, task: asyncio.Task[Path]) -> None:
        self._inflight.pop(path, None)
        if not task.cancelled():
            task.exception()  # retrieved here: every waiter may have hung up meanwhile


def to_telephone_wav(src: Path, dst: Path) -> None:
    """Convert a WAV to 8 kHz mono 16-bit PCM, the only WAV Asterisk plays on 8 kHz calls."""
    audio = AudioSegment.from_wav(str(src))
    if len(audio) == 0:
        raise ValueError(f"{src.name} holds no audio")
    sox = shutil.which("sox")
    if sox is not None and audio.frame_rate != TELEPHONE_RATE:
        # pydub's set_frame_rate (audioop.ratecv) does not low-pass first, so espeak's energy
        # above 4 kHz folds back as hiss (a 6 kHz tone came out at 2 kHz, -2 dB, research/ivr.md
        # §4.2); sox filters before decimating.
        subprocess.run([sox, "-q", str(src), "-r", str(TELEPHONE_RATE), "-c", "1", "-b", "16",
                        "-e", "signed-integer", "-t", "wav", str(dst)],
                       check=True, capture_output=True, timeout=_SUBPROCESS_TIMEOUT)
        return
    telephone = audio.set_frame_rate(TELEPHONE_RATE).set_channels(1).set_sample_width(2)
    telephone.export(str(dst), format="wav")


def _render_file(text: str, voice: str, rate: int, dest: Path, use_pyttsx3: bool) -> str | None:
    """Runs on _TTS_THREAD. Returns the engine used, or None if the file already existed."""
    if dest.is_file():  # another renderer (or process) made it while this job was queued
        return None
    dest.parent.mkdir(parents=True, exist_ok=True)
    stem = f".{dest.stem}.{uuid.uuid4().hex[:8]}"
    raw, tmp = dest.with_name(f"{stem}.raw.wav"), dest.with_name(f"{stem}.tmp.wav")
    try:
        engine = _synthesize(text, voice, rate, raw, use_pyttsx3)
        to_telephone_wav(raw, tmp)
        # Atomic: Asterisk may open the file any time, and must never see half of it.
        os.replace(tmp, dest)
        return engine
    except PromptRenderError:
        raise
    except Exception as exc:  # pydub, wave, sox, file system: all mean "no usable audio"
        raise PromptRenderError(f"converting {_gist(text)} (voice '{voice}'): {exc}") from exc
    finally:
        raw.unlink(missing_ok=True)
        tmp.unlink(missing_ok=True)


def _synthesize(text: str, voice: str, rate: int, raw: Path, use_pyttsx3: bool) -> str:
    problems: list[str] = []
    # pyttsx3 lists espeak-ng's own voices only; an MBROLA voice ("mb-us2") is the CLI's.
    if use_pyttsx3 and not voice.startswith("mb-"):
        try:
            _Pyttsx3.save(text, voice, rate, raw)
            return "pyttsx3"
        except Exception as exc:  # any driver failure: the command line is the fallback
            problems.append(f"pyttsx3: {exc}")
            log.warning("tts.pyttsx3_failed", voice=voice, error=str(exc))
    try:
        # The text goes in on stdin so a prompt starting with '-' is not read as an option.
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(rate), "-w", str(raw)],
                       input=text.encode(), check=True, capture_output=True,
                       timeout=_SUBPROCESS_TIMEOUT)
        _check_audio(raw)
        if problems:
            log.info("tts.fallback_espeak_cli", voice=voice)
        return "espeak-ng"
    except subprocess.CalledProcessError as exc:
        problems.append(f"espeak-ng: {exc.stderr.decode(errors='replace').strip() or exc}")
    except (OSError, subprocess.SubprocessError, RuntimeError) as exc:
        problems.append(f"espeak-ng: {exc}")
    raise PromptRenderError(f"cannot render {_gist(text)} with voice '{voice}': "
                            + "; ".join(problems))


class _Pyttsx3:
    """The process's pyttsx3 engine; used only from _TTS_THREAD."""

    engine: Any = None
    espeak: Any = None
    voices: dict[str, str] = {}  # espeak-ng voice/language name → pyttsx3 voice id

    @classmethod
    def save(cls, text: str, voice: str, rate: int, raw: Path) -> None:
        engine = cls._engine()
        voice_id = cls.voices.get(voice.lower())
        if voice_id is None:
            raise ValueError(f"no espeak voice '{voice}'")
        engine.setProperty("voice", voice_id)
        engine.setProperty("rate", rate)
        # espeak applies settings through its own command queue: without waiting for it, a new
        # rate often took effect one render late (measured here: 21 of 30 renders at 260 wpm
        # came out at the previous 175), and the cache would keep the wrong audio for good.
        cls.espeak.Synchronize()
        # One file per runAndWait: several save_to_file calls before one runAndWait wrote
        # only the last file (pyttsx3 #170 and seen here).
        engine.save_to_file(text, str(raw))
        engine.runAndWait()
        # pyttsx3 swallows a failed voice change and speaks in the previous voice.
        if engine.getProperty("voice") != voice_id:
            raise RuntimeError(f"voice '{voice}' was not applied")
        _check_audio(raw)

    @classmethod
    def _engine(cls) -> Any:
        if cls.engine is None:
            # Imported late: the driver loads libespeak-ng. `_espeak` is pyttsx3's own ctypes
            # binding, used only for Synchronize(), which pyttsx3 does not expose.
            import pyttsx3
            from pyttsx3.drivers import _espeak
            from pyttsx3.drivers import espeak as driver

            # The driver print()s "Audio saved to …" for every file; on a service whose stdout
            # may carry JSON lines (the demo's journey stream) that is noise. This shadows the
            # builtin for that one module only.
            driver.print = _driver_print
            engine = pyttsx3.init("espeak")
            cls.espeak = _espeak
            listed = engine.getProperty("voices")
            voices: dict[str, str] = {}
            # Like `espeak-ng -v`: ids ('gmw/en-us') and file names ('en-us') first, then
            # languages ('en-gb' is only a language of 'gmw/en').
            for v in listed:
                for name in (v.id, v.id.rsplit("/", 1)[-1]):
                    voices.setdefault(str(name).lower(), v.id)
            for v in listed:
                for name in v.languages or ():
                    voices.setdefault(str(name).lower(), v.id)
            cls.engine, cls.voices = engine, voices
        return cls.engine


def _driver_print(*args: object, **_: object) -> None:
    log.debug("tts.pyttsx3_said", message=" ".join(map(str, args)))


def _check_audio(path: Path) -> None:
    # Empty WAV files are a known pyttsx3 failure mode (pyttsx3 #142): a 44-byte header only.
    if not path.is_file() or path.stat().st_size <= 44:
        raise RuntimeError("the engine wrote no audio")


def _gist(text: str) -> str:
    words = text.split()
    return '"' + " ".join(words[:6]) + (' …"' if len(words) > 6 else '"')
