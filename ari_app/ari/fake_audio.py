"""Where a channel's voice goes in FakeAsterisk: through bridges, snoops and whispers, as
Asterisk routes the frames, so a test can ask who hears whom.

A mixing bridge sends what each member says to every other member. A snoop on channel X is an
audiohook pair on X (res/stasis/stasis_snoop.c): `spy` in/out/both reads what X says (`in`,
Asterisk's READ direction) and/or what X is sent (`out`, WRITE), and the snoop says it in its
own bridge; `whisper` out/both mixes what the snoop is sent into what X is sent (X hears it),
in/both into what X says (whoever hears X hears it). Spies copy a frame before whispers are
mixed in (main/audiohook.c feeds the spy list first), so whispered audio is never spied on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ari_app.ari.fake_state import FakeChannel

if TYPE_CHECKING:
    from ari_app.ari.fake import FakeAsterisk

_READS_IN, _READS_OUT = ("in", "both"), ("out", "both")

# (kind, channel id, whispered): "says" what the channel reads, "sent" what it is written.
_Step = tuple[str, str, bool]


def hearers(fake: FakeAsterisk, speaker_id: str, *, snoops: bool = False) -> set[str]:
    """The channels that hear what `speaker_id` says (not itself); with `snoops`, also the
    snoops that spy it (a recorder's, say)."""
    heard: set[str] = set()
    spied: set[str] = set()
    seen: set[_Step] = set()
    todo: list[_Step] = [("says", speaker_id, False)]
    while todo:
        step = todo.pop()
        if step in seen or step[1] not in fake.channels:
            continue
        seen.add(step)
        kind, channel_id, whispered = step
        channel = fake.channels[channel_id]
        if kind == "says":
            if channel.snooping_on is not None:
                spied.add(channel_id)
            todo += [("sent", peer, False) for peer in _peers(fake, channel)]
            if not whispered:
                todo += [("says", s.id, False) for s in _snoops(fake, channel_id, _READS_IN)]
        elif channel.snooping_on is None:
            heard.add(channel_id)
            if not whispered:
                todo += [("says", s.id, False) for s in _snoops(fake, channel_id, _READS_OUT)]
        else:
            target = channel.snooping_on
            if channel.whisper in _READS_OUT:
                todo.append(("sent", target, True))
            if channel.whisper in _READS_IN:
                todo.append(("says", target, True))
    found = heard | spied if snoops else heard
    found.discard(speaker_id)
    return found


def _peers(fake: FakeAsterisk, channel: FakeChannel) -> list[str]:
    bridge = fake.bridges.get(channel.bridge_id or "")
    return [] if bridge is None else [c for c in bridge.channels if c != channel.id]


def _snoops(fake: FakeAsterisk, target_id: str, spying: tuple[str, ...]) -> list[FakeChannel]:
    return [c for c in fake.channels.values() if c.snooping_on == target_id and c.spy in spying]
