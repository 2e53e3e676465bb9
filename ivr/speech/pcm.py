"""Caller audio as engines want it: whole 16-bit samples, at the model's rate.

Both bundled engines use 16 kHz models (pocketsphinx refuses 8 kHz with its wheel model; vosk's
small models reject it: research/ivr.md §3.1–3.2), while a call delivers 8 kHz unless the media
path asks Asterisk for slin16. Upsampling by two with linear interpolation adds nothing above
4 kHz worth speaking of; measured here, pocketsphinx recognised 8 kHz mu-law speech equally well
after sox's band-limited resampler, audioop.ratecv and plain sample repetition.
"""

from __future__ import annotations

import array
import sys

__all__ = ["PcmFeeder", "seconds"]


def seconds(pcm_bytes: int, sample_rate: int) -> float:
    return pcm_bytes / (2 * sample_rate)


class PcmFeeder:
    """Turns arbitrary byte chunks at `in_rate` into whole samples at `out_rate` (LE 16-bit)."""

    def __init__(self, in_rate: int, out_rate: int) -> None:
        if (in_rate, out_rate) not in ((8000, 8000), (16000, 16000), (8000, 16000)):
            raise ValueError(f"cannot convert {in_rate} Hz audio to {out_rate} Hz")
        self.in_rate, self.out_rate = in_rate, out_rate
        self._odd = b""  # a byte of a sample split across chunks
        self._last: int | None = None  # previous sample, for interpolation across chunks

    def feed(self, pcm: bytes) -> bytes:
        data = self._odd + pcm
        whole = len(data) - len(data) % 2
        self._odd = data[whole:]
        if whole == 0:
            return b""
        if self.in_rate == self.out_rate:
            return bytes(data[:whole])
        return self._upsample(bytes(data[:whole]))

    def _upsample(self, data: bytes) -> bytes:
        samples = array.array("h", data)
        if sys.byteorder == "big":
            samples.byteswap()
        out = array.array("h", bytes(4 * len(samples)))
        previous = samples[0] if self._last is None else self._last
        # Each input sample s becomes (midpoint(previous, s), s): a half-sample delay, no gain.
        out[1::2] = samples
        out[0::2] = array.array("h", [(a + b) >> 1 for a, b in
                                      zip((previous, *samples[:-1]), samples, strict=True)])
        self._last = samples[-1]
        if sys.byteorder == "big":
            out.byteswap()
        return out.tobytes()
