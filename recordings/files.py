"""Moving a finished recording from Asterisk's spool into the store (off the event loop)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import shutil
import wave
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class StoredFile:
    path: Path
    size_bytes: int
    sha256: str
    duration_s: float


class RecordingFileError(Exception):
    """The spool file is missing or unreadable."""


async def wait_for_file(path: Path, timeout_s: float) -> bool:
    """Asterisk finishes writing shortly after RecordingFinished; wait until the file is there."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while loop.time() < deadline:
        if await asyncio.to_thread(path.exists):
            return True
        await asyncio.sleep(0.05)
    return False


async def move_into_store(source: Path, destination: Path) -> StoredFile:
    return await asyncio.to_thread(_move_and_measure, source, destination)


def _move_and_measure(source: Path, destination: Path) -> StoredFile:
    if not source.exists():
        raise RecordingFileError(f"{source}: recording file not found in the spool")
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_suffix(destination.suffix + ".partial")
    shutil.copyfile(source, partial)
    digest = _sha256(partial)
    os.replace(partial, destination)  # atomic: the store never shows a half-copied file
    source.unlink()
    return StoredFile(destination, destination.stat().st_size, digest, _duration(destination))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _duration(path: Path) -> float:
    if path.suffix != ".wav":
        return 0.0
    with contextlib.suppress(wave.Error, EOFError), wave.open(str(path), "rb") as audio:
        return audio.getnframes() / float(audio.getframerate())
    return 0.0
