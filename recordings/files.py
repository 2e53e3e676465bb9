"""Recording files, all off the event loop: moving a finished recording from Asterisk's spool
into the store, repairing the header of a WAV whose writer died, quarantining, verifying."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import shutil
import wave
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO


@dataclass(frozen=True, slots=True)
class StoredFile:
    path: Path
    size_bytes: int
    sha256: str
    duration_s: float


class RecordingFileError(Exception):
    """The spool file is missing or unreadable."""


class UnreadableRecording(RecordingFileError):
    """The file is not a WAV recording, or its audio cannot be read."""


@dataclass(frozen=True, slots=True)
class WavCheck:
    duration_s: float
    repaired: bool  # its RIFF/data sizes were wrong and have been rewritten


class FileState(StrEnum):
    INTACT = "intact"
    MISSING = "missing"
    CHANGED = "changed"  # its sha256 is no longer the one stored


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


async def repair_wav(path: Path) -> WavCheck:
    """Make the WAV header's sizes match the file, then measure it; UnreadableRecording when it
    is no PCM WAV. Asterisk writes the RIFF and data sizes only when it closes the file, so a
    recording whose writer died says 0 (or garbage) there."""
    return await asyncio.to_thread(_repair_wav, path)


async def quarantine(source: Path, folder: Path, *, name: str | None = None) -> Path:
    """Move `source` into `folder` as `name` (default: its own name), never over another file;
    the path it has now."""
    return await asyncio.to_thread(_quarantine, source, folder, name or source.name)


async def check_file(path: Path, sha256: str) -> FileState:
    return await asyncio.to_thread(_check_file, path, sha256)


def _repair_wav(path: Path) -> WavCheck:
    with path.open("r+b") as handle:
        size = os.fstat(handle.fileno()).st_size
        head = handle.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            raise UnreadableRecording(f"{path.name}: not a WAV file (no RIFF/WAVE header)")
        block_align, data_at = _find_data_chunk(handle, size, path.name)
        handle.seek(data_at - 4)
        declared_data = int.from_bytes(handle.read(4), "little")
        available = size - data_at
        consistent = int.from_bytes(head[4:8], "little") == size - 8 and (
            available - declared_data in (0, declared_data % 2))  # RIFF pads odd chunks
        if not consistent:
            _rewrite_sizes(handle, size, data_at, available - available % block_align)
    return WavCheck(_wav_duration(path), repaired=not consistent)


def _find_data_chunk(handle: BinaryIO, size: int, name: str) -> tuple[int, int]:
    """The PCM frame size from the `fmt ` chunk and where the `data` chunk's samples begin."""
    block_align, position = 0, 12
    while position + 8 <= size:
        handle.seek(position)
        chunk_id, chunk_size = handle.read(4), int.from_bytes(handle.read(4), "little")
        if chunk_id == b"data":
            if block_align == 0:
                raise UnreadableRecording(f"{name}: no usable fmt chunk before the data")
            return block_align, position + 8
        if chunk_id == b"fmt " and chunk_size >= 16:
            block_align = int.from_bytes(handle.read(14)[12:14], "little")
        position += 8 + chunk_size + chunk_size % 2
    raise UnreadableRecording(f"{name}: no data chunk")


def _rewrite_sizes(handle: BinaryIO, size: int, data_at: int, data_bytes: int) -> None:
    """A partly written last frame is cut off; an odd data length gets its RIFF pad byte."""
    end = data_at + data_bytes + data_bytes % 2
    if end < size:
        handle.truncate(end)
    elif end > size:
        handle.seek(size)
        handle.write(b"\0")
    handle.seek(4)
    handle.write((end - 8).to_bytes(4, "little"))
    handle.seek(data_at - 4)
    handle.write(data_bytes.to_bytes(4, "little"))
    handle.flush()
    os.fsync(handle.fileno())


def _wav_duration(path: Path) -> float:
    try:
        with wave.open(str(path), "rb") as audio:
            return audio.getnframes() / float(audio.getframerate())
    except (wave.Error, EOFError, ZeroDivisionError) as exc:
        raise UnreadableRecording(f"{path.name}: audio unreadable: {exc}") from exc


def _quarantine(source: Path, folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target, n = folder / name, 0
    while target.exists():
        n += 1
        target = folder / f"{name}.{n}"
    shutil.move(source, target)  # spool and store may be on different file systems
    return target


def _check_file(path: Path, sha256: str) -> FileState:
    try:
        digest = _sha256(path)
    except FileNotFoundError:
        return FileState.MISSING
    return FileState.INTACT if digest == sha256 else FileState.CHANGED
