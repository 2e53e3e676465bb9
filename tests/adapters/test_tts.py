"""PromptRenderer against the real espeak-ng (through pyttsx3 and its command line)."""

from __future__ import annotations

import asyncio
import shutil
import wave
from pathlib import Path

import pytest

from ivr.flow import flow_texts
from ivr.loader import HOTLINE_FLOW, load_flow
from ivr.tts import PromptRenderer, PromptRenderError, to_telephone_wav

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng")

SHORT = "Welcome to Acme Insurance."
LONG = (
    "For claims press 1, for billing press 2, for policy questions press 3, "
    "to speak to an agent press 0."
)


def wav_format(path: Path) -> tuple[int, int, int, float]:
    """(rate, channels, sample width in bytes, seconds)."""
    with wave.open(str(path)) as w:
        return (
            w.getframerate(),
            w.getnchannels(),
            w.getsampwidth(),
            w.getnframes() / w.getframerate(),
        )


def wavs(directory: Path) -> list[Path]:
    return sorted(directory.iterdir())


async def test_renders_telephone_wav(tmp_path: Path) -> None:
    renderer = PromptRenderer(tmp_path)
    path = await renderer.render(SHORT)
    assert path.parent == tmp_path and len(path.stem) == 32 and path.suffix == ".wav"
    assert path == renderer.path_for(SHORT)
    rate, channels, width, seconds = wav_format(path)
    assert (rate, channels, width) == (8000, 1, 2)
    assert 0.8 < seconds < 5


async def test_second_render_is_served_from_cache(tmp_path: Path) -> None:
    renderer = PromptRenderer(tmp_path)
    path = await renderer.render(SHORT)
    before = path.stat()
    assert await renderer.render(SHORT) == path
    after = path.stat()
    assert (after.st_mtime_ns, after.st_ino) == (before.st_mtime_ns, before.st_ino)
    assert (renderer.renders, renderer.hits) == (1, 1)
    # A new renderer (a restarted service) reuses the files on disk too.
    again = PromptRenderer(tmp_path)
    assert await again.render(SHORT) == path
    assert (again.renders, again.hits) == (0, 1)


async def test_concurrent_requests_share_one_render(tmp_path: Path) -> None:
    renderer = PromptRenderer(tmp_path)
    paths = await asyncio.gather(*(renderer.render(SHORT) for _ in range(8)))
    assert set(paths) == {renderer.path_for(SHORT)}
    assert renderer.renders == 1
    assert wavs(tmp_path) == [paths[0]]  # no temporary files left behind


async def test_two_texts_two_files_each_with_its_own_audio(tmp_path: Path) -> None:
    # Guards the pyttsx3 trap where several queued saves wrote only one file.
    renderer = PromptRenderer(tmp_path)
    short, long = await asyncio.gather(renderer.render(SHORT), renderer.render(LONG))
    assert short != long and wavs(tmp_path) == sorted([short, long])
    assert renderer.renders == 2
    short_s, long_s = wav_format(short)[3], wav_format(long)[3]
    assert long_s > 2.5 * short_s


async def test_voice_and_rate_are_part_of_the_key(tmp_path: Path) -> None:
    renderer = PromptRenderer(tmp_path)
    us = await renderer.render(SHORT)
    gb = await renderer.render(SHORT, voice="en-gb")
    assert us != gb and us.read_bytes() != gb.read_bytes()
    fast = PromptRenderer(tmp_path, rate=260)
    quick = await fast.render(SHORT)
    assert quick not in (us, gb)
    assert wav_format(quick)[3] < wav_format(us)[3]


async def test_each_render_gets_its_own_rate(tmp_path: Path) -> None:
    # Regression: pyttsx3 sometimes applied a new rate one render late.
    slow, fast = PromptRenderer(tmp_path, rate=150), PromptRenderer(tmp_path, rate=300)
    for n in range(6):
        text = f"{SHORT} Number {n}."
        slow_s = wav_format(await slow.render(text))[3]
        fast_s = wav_format(await fast.render(text))[3]
        assert fast_s < 0.75 * slow_s, n


async def test_command_line_engine_renders_the_same_format(tmp_path: Path) -> None:
    renderer = PromptRenderer(tmp_path, use_pyttsx3=False)
    path = await renderer.render("-starts with a dash")
    rate, channels, width, seconds = wav_format(path)
    assert (rate, channels, width) == (8000, 1, 2) and seconds > 0.5


async def test_unknown_voice_fails_with_text_and_voice(tmp_path: Path) -> None:
    renderer = PromptRenderer(tmp_path)
    with pytest.raises(
        PromptRenderError,
        match=r"\"Sorry, I didn't hear a choice\. …\" "
        r"with voice 'xx-nowhere'",
    ):
        await renderer.render(
            "Sorry, I didn't hear a choice. Please try again.", voice="xx-nowhere"
        )
    assert wavs(tmp_path) == []


async def test_empty_text_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PromptRenderError, match="empty prompt"):
        await PromptRenderer(tmp_path).render("  ")


async def test_one_caller_hanging_up_does_not_cancel_a_shared_render(tmp_path: Path) -> None:
    renderer = PromptRenderer(tmp_path)
    first = asyncio.ensure_future(renderer.render(LONG))
    second = asyncio.ensure_future(renderer.render(LONG))
    await asyncio.sleep(0)
    first.cancel()
    assert (await second).is_file()
    assert first.cancelled()


async def test_warm_renders_every_text_of_the_demo_flow(tmp_path: Path) -> None:
    flow = load_flow(HOTLINE_FLOW)
    renderer = PromptRenderer(tmp_path / "cache", voice=flow.voice)
    paths = await renderer.warm(flow_texts(flow))
    assert len(paths) == len(set(paths)) == len(flow_texts(flow)) == renderer.renders
    assert all(wav_format(p)[:3] == (8000, 1, 2) for p in paths)


def test_conversion_without_sox_uses_pydub(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = tmp_path / "in.wav"
    with wave.open(str(source), "wb") as w:  # 1 s of a 440 Hz-ish square wave, 22 050 Hz
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(22050)
        w.writeframes(
            b"".join((b"\x00\x20" if (i // 25) % 2 else b"\x00\xe0") for i in range(22050))
        )
    monkeypatch.setenv("PATH", str(tmp_path))  # no sox on the path
    to_telephone_wav(source, tmp_path / "out.wav")
    rate, channels, width, seconds = wav_format(tmp_path / "out.wav")
    assert (rate, channels, width) == (8000, 1, 2) and seconds == pytest.approx(1.0, abs=0.01)
