"""FakeAsterisk's snoops as Asterisk 22 has them (res/ari/resource_channels.c refusals,
res/stasis/stasis_snoop.c directions) and its model of who hears whom (`fake_audio`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ari_app.ari.errors import AriBadRequest, AriNotFound
from ari_app.ari.events import StasisStart
from ari_app.ari.fake import FakeAsterisk
from ari_app.ari.rest import AriRest


@pytest.fixture
async def fake(tmp_path: Path) -> AsyncIterator[FakeAsterisk]:
    fake = FakeAsterisk(spool_dir=tmp_path)
    yield fake
    fake.shutdown()


async def _up(fake: FakeAsterisk, ari: AriRest, endpoint: str) -> str:
    leg = await ari.originate(endpoint, channel_id=f"leg-{endpoint[-1]}", app="hotline",
                              app_args=["agent", "c"])
    await fake.wait_for(StasisStart, lambda e: e.channel.id == leg.id)
    return leg.id


async def _call(fake: FakeAsterisk, ari: AriRest) -> tuple[str, str, str]:
    """A caller and an agent in a mixing bridge, and a supervisor's phone."""
    caller = fake.call_in()
    await ari.answer(caller)
    agent = await _up(fake, ari, "PJSIP/a")
    phone = await _up(fake, ari, "PJSIP/s")
    await ari.create_bridge("talk")
    await ari.add_channels("talk", [caller, agent])
    return caller, agent, phone


async def _monitor(fake: FakeAsterisk, ari: AriRest, agent: str, phone: str, spy: str,
                   whisper: str, n: int) -> None:
    await ari.create_snoop(agent, f"snoop-{n}", app="hotline", app_args=["monitor", "c"],
                           spy=spy, whisper=whisper)
    await fake.wait_for(StasisStart, lambda e: e.channel.id == f"snoop-{n}")
    await ari.create_bridge(f"mon-{n}")
    await ari.add_channels(f"mon-{n}", [phone, f"snoop-{n}"])


async def test_a_snoop_needs_a_direction_and_a_live_channel(fake: FakeAsterisk) -> None:
    ari = fake.rest()
    caller = fake.call_in()
    with pytest.raises(AriBadRequest, match="at least spy or whisper"):
        await ari.create_snoop(caller, "s1", app="hotline")  # both none
    with pytest.raises(AriBadRequest, match="Invalid direction specified for whisper"):
        await ari.create_snoop(caller, "s1", app="hotline", spy="both", whisper="sideways")
    with pytest.raises(AriNotFound, match="Provided channel was not found"):
        await ari.create_snoop("nobody", "s1", app="hotline", spy="in")
    snoop = await ari.create_snoop(caller, "s1", app="hotline", whisper="out")  # whisper only
    assert (fake.channels[snoop.id].spy, fake.channels[snoop.id].whisper) == ("none", "out")


@pytest.mark.parametrize(("spy", "whisper", "hear_supervisor"), [
    ("both", "none", set()),  # listen
    ("both", "out", {"agent"}),  # whisper
    ("both", "both", {"agent", "caller"}),  # barge
    ("none", "in", {"caller"}),  # spoken as if by the agent: the caller, not the agent
])  # fmt: skip
async def test_who_hears_whom_through_a_snoop_on_the_agent(
        fake: FakeAsterisk, spy: str, whisper: str, hear_supervisor: set[str]) -> None:
    ari = fake.rest()
    caller, agent, phone = await _call(fake, ari)
    names = {caller: "caller", agent: "agent", phone: "phone"}
    await _monitor(fake, ari, agent, phone, spy, whisper, 1)

    def heard(channel_id: str) -> set[str]:
        return {names[c] for c in fake.hearers(channel_id)}

    assert heard(phone) == hear_supervisor  # never the supervisor themselves
    spies = spy != "none"
    assert heard(caller) == {"agent"} | ({"phone"} if spies else set())
    assert heard(agent) == {"caller"} | ({"phone"} if spies else set())


async def test_a_recorder_on_the_caller_hears_a_barge_but_not_a_whisper(
        fake: FakeAsterisk) -> None:
    ari = fake.rest()
    caller, agent, phone = await _call(fake, ari)
    await ari.create_snoop(caller, "rec", app="hotline", spy="both")  # snoop_recorder's mono
    await _monitor(fake, ari, agent, phone, "both", "out", 1)
    assert fake.hearers(phone, snoops=True) == {agent}  # whispered: not spied, not recorded
    assert fake.hearers(caller, snoops=True) == {agent, phone, "rec", "snoop-1"}
    await ari.hangup("snoop-1")
    await _monitor(fake, ari, agent, phone, "both", "both", 2)
    assert fake.hearers(phone, snoops=True) == {agent, caller, "rec"}  # barged: recorded
