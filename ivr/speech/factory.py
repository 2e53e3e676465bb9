"""Pick the recognizer the configuration names. The composition root maps YAML onto
`SpeechSettings`; every problem surfaces here as `RecognizerConfigError` at start-up."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from ivr.speech.port import SUPPORTED_RATES, Recognizer, RecognizerConfigError

__all__ = ["Engine", "SpeechSettings", "build_recognizer"]

Engine = Literal["pocketsphinx", "vosk"]


@dataclass(frozen=True, slots=True)
class SpeechSettings:
    """`engine`: pocketsphinx (embedded, default) or vosk (needs `vosk_model_dir`).

    `sample_rate` is what the media path delivers: 8000 (slin) or 16000 (slin16).
    """

    engine: Engine = "pocketsphinx"
    vosk_model_dir: Path | None = None
    sample_rate: int = 8000

    def __post_init__(self) -> None:
        if self.engine not in get_args(Engine):
            raise RecognizerConfigError(f"speech.engine: unknown engine '{self.engine}' "
                                        f"(choose {' or '.join(get_args(Engine))})")
        if self.sample_rate not in SUPPORTED_RATES:
            raise RecognizerConfigError(f"speech.sample_rate: {self.sample_rate} is not "
                                        f"supported (choose {SUPPORTED_RATES})")


def build_recognizer(settings: SpeechSettings) -> Recognizer:
    """The configured engine, checked but not loaded: call `prepare()` off the loop next.

    Raises RecognizerConfigError with a message fit for the operator.
    """
    if settings.engine == "vosk":
        from ivr.speech.vosk_engine import MODEL_HINT, VoskRecognizer

        if settings.vosk_model_dir is None:
            raise RecognizerConfigError(f"speech.engine is vosk but no model is set. {MODEL_HINT}")
        return VoskRecognizer(settings.vosk_model_dir)
    from ivr.speech.pocketsphinx_engine import PocketsphinxRecognizer

    return PocketsphinxRecognizer()
