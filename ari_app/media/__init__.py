"""The caller's audio in real time: `CallerAudio` (snoop + chan_websocket externalMedia; why
that path is in `caller_audio`), `listen` (endpointing and barge-in over `ivr.vad`), and
`PlayingPrompt` (a prompt that can be stopped while we listen)."""

from ari_app.media.caller_audio import SAMPLE_RATE, AudioFrame, CallerAudio, CallerAudioError
from ari_app.media.listen import Heard, ListenParams, hear, listen
from ari_app.media.prompt import PlayingPrompt, StartPromptMixin, start_playback

__all__ = [
    "SAMPLE_RATE", "AudioFrame", "CallerAudio", "CallerAudioError", "Heard",
    "ListenParams", "PlayingPrompt", "StartPromptMixin", "hear", "listen", "start_playback",
]  # fmt: skip
