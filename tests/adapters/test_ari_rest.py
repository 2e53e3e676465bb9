"""AriRest and AriEventStream against the real development Asterisk."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid

import pytest
from structlog.testing import capture_logs
from yarl import URL

from ari_app.ari.errors import (
    AriConflict,
    AriNotFound,
    AriUnauthorized,
    AriUnavailable,
    AriUnprocessable,
)
from ari_app.ari.events import (
    ChannelDestroyed,
    ChannelDtmfReceived,
    ChannelEnteredBridge,
    ChannelStateChange,
    Connected,
    Dial,
    PlaybackFinished,
    PlaybackStarted,
    RecordingFinished,
    RecordingStarted,
    StasisEnd,
    StasisStart,
)
from ari_app.ari.rest import AriRest
from ari_app.ari.stream import AriEventStream, wait_until_ready
from ari_app.channel_vars import CORRELATION_ID_VAR, FALLBACK_CONTEXT, ROLE_AGENT, ROLE_SIM_CALLER
from kernel.backoff import Backoff
from tests.adapters.conftest import AriSandbox, AsteriskTarget, DroppingProxy, InboundCall

FAST = Backoff(0.01, cap=0.05)


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_info_reports_asterisk_22(ari_sandbox: AriSandbox) -> None:
    info = await wait_until_ready(ari_sandbox.rest)
    assert info["system"]["version"].startswith("22.")
    apps = await ari_sandbox.rest.list_applications()
    assert ari_sandbox.app in {a["name"] for a in apps}


async def test_unknown_channel_is_not_found_and_says_what_was_asked(
    ari_sandbox: AriSandbox,
) -> None:
    with pytest.raises(AriNotFound) as caught:
        await ari_sandbox.rest.answer("no-such-channel")
    assert caught.value.status == 404
    assert str(caught.value) == (
        "ARI POST /channels/no-such-channel/answer answered 404: Channel not found"
    )


async def test_wrong_password_is_unauthorized(asterisk_ari: AsteriskTarget) -> None:
    async with AriRest(asterisk_ari.ari_url, asterisk_ari.user, "wrong") as rest:
        with pytest.raises(AriUnauthorized, match="answered 401"):
            await wait_until_ready(rest, backoff=FAST)


async def test_unanswered_originate_rings_but_is_not_in_stasis(ari_sandbox: AriSandbox) -> None:
    rest, leg = ari_sandbox.rest, ari_sandbox.new_id("agent")
    snapshot = await rest.originate(
        "Local/never@sim-agents", channel_id=leg, app=ari_sandbox.app,
        app_args=[ROLE_AGENT, "call-1"], variables={CORRELATION_ID_VAR: "corr-7"},
    )  # fmt: skip
    assert (snapshot.id, snapshot.state) == (leg, "Down")
    assert snapshot.channelvars[CORRELATION_ID_VAR] == "corr-7"
    # Subscribed to the leg at once, but StasisStart only comes on answer.
    await ari_sandbox.events.wait_for(Dial, lambda e: e.dialstatus == "RINGING")
    ringing = await ari_sandbox.events.wait_for(ChannelStateChange)
    assert (ringing.channel.id, ringing.channel.state) == (leg, "Ringing")
    with pytest.raises(AriConflict, match="not in Stasis"):
        await rest.answer(leg)
    with pytest.raises(AriConflict, match="already exists"):
        await rest.originate("Local/never@sim-agents", channel_id=leg, app=ari_sandbox.app,
                             app_args=[])  # fmt: skip
    await rest.hangup(leg)
    destroyed = await ari_sandbox.events.wait_for(ChannelDestroyed, lambda e: e.channel.id == leg)
    assert destroyed.cause == 16
    assert not any(isinstance(e, StasisStart) for e in ari_sandbox.events.items)
    with pytest.raises(AriNotFound):
        await rest.get_channel(leg)


async def test_inbound_call_ring_answer_play_and_dtmf(
    ari_sandbox: AriSandbox, inbound_call: InboundCall
) -> None:
    rest, events = ari_sandbox.rest, ari_sandbox.events
    assert (await rest.get_channel(inbound_call.inbound)).state == "Ring"
    await rest.ring(inbound_call.inbound)
    await events.wait_for(ChannelStateChange, lambda e: e.channel.state == "Ringing")
    await rest.answer(inbound_call.inbound)
    # The caller half enters its own Stasis app only once the hotline side answered.
    caller = await events.wait_for(StasisStart, lambda e: e.channel.id == inbound_call.caller)
    assert caller.args == (ROLE_SIM_CALLER,)
    assert (caller.channel.caller_number, caller.channel.caller_name) == ("5550100", "Test Caller")

    playback_id = ari_sandbox.new_id("hello")
    await rest.play(inbound_call.inbound, ["sound:hello-world"], playback_id)
    started = await events.wait_for(PlaybackStarted)
    assert started.subject_ids == (playback_id, inbound_call.inbound)
    await rest.send_dtmf(inbound_call.caller, "42", between_ms=50, duration_ms=100)
    finished = await events.wait_for(PlaybackFinished)
    assert (finished.playback_id, finished.state) == (playback_id, "done")
    digits = [e for e in events.items if isinstance(e, ChannelDtmfReceived)]
    assert [(d.channel.id, d.digit) for d in digits] == [(inbound_call.inbound, "4"),
                                                         (inbound_call.inbound, "2")]  # fmt: skip
    missing = ari_sandbox.new_id("missing")
    await rest.play(inbound_call.inbound, ["sound:no-such-prompt"], missing)
    failed = await events.wait_for(PlaybackFinished, lambda e: e.playback_id == missing)
    assert failed.state == "failed"  # a missing file is an event, not an HTTP error


async def test_variables_moh_and_fallback_to_the_dialplan(
    ari_sandbox: AriSandbox, inbound_call: InboundCall
) -> None:
    rest, inbound = ari_sandbox.rest, inbound_call.inbound
    await rest.set_variable(inbound, "HOTLINE_TEST", "yes")
    assert await rest.get_variable(inbound, "HOTLINE_TEST") == "yes"
    with pytest.raises(AriNotFound, match="variable"):
        await rest.get_variable(inbound, "HOTLINE_NEVER_SET")
    await rest.start_moh(inbound)
    await rest.stop_moh(inbound)
    await rest.continue_in_dialplan(inbound, FALLBACK_CONTEXT, "s")
    ended = await ari_sandbox.events.wait_for(StasisEnd)
    assert ended.channel.id == inbound
    with pytest.raises(AriConflict):
        await rest.answer(inbound)


async def test_bridge_recording_lifecycle(
    ari_sandbox: AriSandbox, inbound_call: InboundCall
) -> None:
    rest, events, inbound = ari_sandbox.rest, ari_sandbox.events, inbound_call.inbound
    await rest.answer(inbound)
    bridge_id, name = ari_sandbox.new_id("bridge"), ari_sandbox.new_id("rec")
    bridge = await rest.create_bridge(bridge_id, name="call-1")
    assert (bridge.id, bridge.bridge_type, bridge.channels) == (bridge_id, "mixing", ())
    with pytest.raises(AriConflict, match="already exists"):
        await rest.create_bridge(bridge_id)
    await rest.add_channels(bridge_id, [inbound])
    await events.wait_for(ChannelEnteredBridge, lambda e: e.subject_ids == (bridge_id, inbound))
    assert [b.channels for b in await rest.list_bridges() if b.id == bridge_id] == [(inbound,)]
    with pytest.raises(AriUnprocessable, match="format"):
        await rest.record_bridge(bridge_id, ari_sandbox.new_id("bad"), fmt="no-such-format")

    live = await rest.record_bridge(bridge_id, name)
    assert (live.name, live.target_uri) == (name, f"bridge:{bridge_id}")
    await events.wait_for(RecordingStarted, lambda e: e.subject_ids == (name, bridge_id))
    assert (await rest.get_live_recording(name)).state == "recording"
    # Something to record: the caller half speaks into the call (it is in Stasis once answered).
    await events.wait_for(StasisStart, lambda e: e.channel.id == inbound_call.caller)
    await rest.play(inbound_call.caller, ["sound:hello-world"], ari_sandbox.new_id("speech"))
    await events.wait_for(PlaybackFinished)
    await rest.stop_recording(name)
    done = await events.wait_for(RecordingFinished)
    assert (done.name, done.state) == (name, "done")
    # Asterisk drops the live recording just after RecordingFinished, not with it.
    async with asyncio.timeout(2):
        with pytest.raises(AriNotFound):
            while True:
                await rest.get_live_recording(name)
                await asyncio.sleep(0.05)
    file = ari_sandbox.target.recording_dir / f"{name}.wav"
    if ari_sandbox.target.rootfs.is_dir():  # Asterisk on this host: the spool is visible
        # hello-world lasts about 1 s: 8 kHz 16-bit mono is 16 kB per second.
        assert (await asyncio.to_thread(file.stat)).st_size > 10_000
    with pytest.raises(AriConflict, match="already exists"):
        await rest.record_bridge(bridge_id, name)  # if_exists="fail" protects stored files

    with pytest.raises(AriUnprocessable, match="not in this bridge"):
        await rest.remove_channel(bridge_id, inbound_call.caller)
    await rest.remove_channel(bridge_id, inbound)
    await rest.destroy_bridge(bridge_id)
    # No BridgeDestroyed here: removeChannel also unsubscribed our app from the bridge.
    assert bridge_id not in {b.id for b in await rest.list_bridges()}
    with pytest.raises(AriNotFound):
        await rest.destroy_bridge(bridge_id)
    await rest.delete_stored_recording(name)
    assert not await asyncio.to_thread(file.exists)
    with pytest.raises(AriNotFound):
        await rest.delete_stored_recording(name)


async def test_snoop_channel_enters_our_app(
    ari_sandbox: AriSandbox, inbound_call: InboundCall
) -> None:
    await ari_sandbox.rest.answer(inbound_call.inbound)
    snoop_id = ari_sandbox.new_id("snoop")
    snoop = await ari_sandbox.rest.create_snoop(
        inbound_call.inbound, snoop_id, app=ari_sandbox.app, app_args=["snoop"], spy="in"
    )
    assert snoop.id == snoop_id
    started = await ari_sandbox.events.wait_for(StasisStart, lambda e: e.channel.id == snoop_id)
    assert started.args == ("snoop",)


async def test_request_to_a_closed_port_is_unavailable() -> None:
    async with AriRest(f"http://127.0.0.1:{unused_port()}/ari", "u", "p") as rest:
        with pytest.raises(AriUnavailable, match="GET /asterisk/info got no answer") as caught:
            await rest.asterisk_info()
    assert caught.value.status is None


async def test_a_silent_server_times_out_as_unavailable() -> None:
    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # until the client gives up

    server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server, AriRest(f"http://127.0.0.1:{port}/ari", "u", "p", timeout=0.3) as rest:
        with pytest.raises(AriUnavailable, match="no answer within 0.3 s"):
            await rest.asterisk_info()


async def test_startup_wait_retries_with_one_line_per_attempt() -> None:
    url = f"http://127.0.0.1:{unused_port()}/ari"
    async with AriRest(url, "u", "p") as rest:
        with capture_logs() as logs, pytest.raises(TimeoutError):
            async with asyncio.timeout(0.5):
                await wait_until_ready(rest, backoff=FAST)
    failures = [line for line in logs if line["event"] == "ari.unreachable"]
    assert len(failures) >= 3
    assert all(line["url"] == url and "retry_in" in line for line in failures)
    assert not any("exc_info" in line for line in logs)


async def test_stream_keeps_retrying_while_asterisk_is_unreachable() -> None:
    stream = AriEventStream(f"ws://127.0.0.1:{unused_port()}/ari", "u", "p", ["x"], backoff=FAST)
    with capture_logs() as logs, pytest.raises(TimeoutError):
        async with asyncio.timeout(0.5), contextlib.aclosing(stream.events()) as events:
            async for item in events:
                pytest.fail(f"nothing can arrive from a closed port, got {item}")
    failures = [line for line in logs if line["event"] == "ari.unreachable"]
    assert len(failures) >= 3
    assert all(line["url"] == stream.url and line["log_level"] == "warning" for line in failures)
    assert not any("exc_info" in line for line in logs)


async def test_stream_reconnects_after_the_socket_drops_and_signals_it(
    ari_sandbox: AriSandbox,
) -> None:
    target = ari_sandbox.target
    url = URL(target.ari_url)
    proxy = DroppingProxy(url.host or "127.0.0.1", url.port or 80)
    app = f"{ari_sandbox.app}-proxied"
    async with proxy.running() as port:
        stream = AriEventStream(f"ws://127.0.0.1:{port}/ari", target.user, target.password,
                                [app], backoff=FAST)  # fmt: skip
        with capture_logs() as logs:
            async with asyncio.timeout(10), contextlib.aclosing(stream.events()) as events:
                assert await anext(events) == Connected(first=True)
                proxy.drop_all()
                assert await anext(events) == Connected(first=False)
                leg = ari_sandbox.new_id("after-reconnect")
                await ari_sandbox.rest.originate("Local/never@sim-agents", channel_id=leg,
                                                 app=app, app_args=[])  # fmt: skip
                # Asterisk may send the leg's ChannelDialplan before or after its Dial: the
                # order is not the contract, events of a channel made after the drop are.
                dial = await anext(events)
                while not isinstance(dial, Dial):
                    dial = await anext(events)
                assert dial.subject_ids == (leg,)
                await ari_sandbox.rest.hangup(leg)
        lost = [line for line in logs if line["event"] == "ari.unreachable"]
        assert len(lost) == 1 and lost[0]["error"].startswith("connection lost")


async def test_closing_the_stream_closes_the_websocket(asterisk_ari: AsteriskTarget) -> None:
    app = f"test-close-{uuid.uuid4().hex[:8]}"
    stream = AriEventStream(asterisk_ari.ws_url, asterisk_ari.user, asterisk_ari.password, [app])
    async with AriRest(asterisk_ari.ari_url, asterisk_ari.user, asterisk_ari.password) as rest:
        async with contextlib.aclosing(stream.events()) as events:
            assert await anext(events) == Connected(first=True)
            assert app in {a["name"] for a in await rest.list_applications()}
        # Asterisk drops an app without channels as soon as its websocket is closed.
        assert app not in {a["name"] for a in await rest.list_applications()}
