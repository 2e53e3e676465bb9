"""AmiMonitor against an in-process AMI server: seeding, events, login, reconnects, timeouts."""

from __future__ import annotations

import asyncio
import logging
import socket

import pytest
from structlog.testing import capture_logs

from ari_app.ami.monitor import AmiError, AmiMonitor
from kernel.backoff import Backoff
from tests.unit.adapter_fakes import FakeAmi, cancelling, eventually, log_lines

SECRET = "s3cret"


def fast() -> Backoff:
    return Backoff(0.005, cap=0.02)


class Heard:
    """A listener that records every (device, state)."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def __call__(self, device: str, state: str) -> None:
        self.items.append((device, state))


def monitor_for(ami: FakeAmi, *, secret: str = SECRET, backoff: Backoff | None = None,
                timeout: float = 5.0) -> AmiMonitor:
    return AmiMonitor("127.0.0.1", ami.port, "hotline", secret, backoff=backoff or fast(),
                      timeout=timeout)  # fmt: skip


async def test_seeds_on_connect_then_follows_changes() -> None:
    async with FakeAmi(states={"PJSIP/1001": "NOT_INUSE", "Custom:a": "INUSE"}) as ami:
        monitor = monitor_for(ami)
        heard = Heard()
        monitor.add_listener(heard)
        assert not monitor.connected
        async with cancelling(asyncio.create_task(monitor.run())):
            async with asyncio.timeout(5):
                await monitor.wait_connected()
            assert monitor.connected
            assert monitor.states == {"PJSIP/1001": "NOT_INUSE", "Custom:a": "INUSE"}
            assert heard.items == [("PJSIP/1001", "NOT_INUSE"), ("Custom:a", "INUSE")]
            # Only actions the least-privilege AMI user may run (no Filter: it needs `system`;
            # manager.conf's eventfilter keeps other events away instead).
            assert {a["Action"] for a in ami.received} <= {"Login", "DeviceStateList", "Ping"}
            assert ami.actions("Filter") == []
            assert ami.actions("Login")[0]["Username"] == "hotline"

            ami.push("PJSIP/1001", "RINGING")
            ami.push("PJSIP/1001", "RINGING")  # the same state again is no change
            ami.push("Custom:b", "UNAVAILABLE")
            await eventually(lambda: ("Custom:b", "UNAVAILABLE") in heard.items)
            assert heard.items[2:] == [("PJSIP/1001", "RINGING"), ("Custom:b", "UNAVAILABLE")]
            assert monitor.states["PJSIP/1001"] == "RINGING"

            # Asked live while connected: Asterisk's answer, which also updates the states.
            ami.states["Custom:a"] = "ONHOLD"
            assert await monitor.device_state("Custom:a") == "ONHOLD"
            assert heard.items[-1] == ("Custom:a", "ONHOLD")
            assert await monitor.device_state("Custom:never-set") == "UNKNOWN"
        assert not monitor.connected
        # Not connected: the last known state, without asking.
        getvars = len(ami.actions("Getvar"))
        assert await monitor.device_state("Custom:a") == "ONHOLD"
        assert await monitor.device_state("Custom:other") is None
        assert len(ami.actions("Getvar")) == getvars


async def test_a_failing_listener_does_not_stop_the_others() -> None:
    async with FakeAmi() as ami:
        monitor = monitor_for(ami)
        heard = Heard()

        def broken(device: str, state: str) -> None:
            raise RuntimeError("listener bug")

        monitor.add_listener(broken)
        monitor.add_listener(heard)
        with capture_logs() as logs:
            async with cancelling(asyncio.create_task(monitor.run())) as task:
                async with asyncio.timeout(5):
                    await monitor.wait_connected()
                ami.push("PJSIP/1002", "INUSE")
                await eventually(lambda: heard.items == [("PJSIP/1002", "INUSE")])
                assert not task.done()
        failed = log_lines(logs, "ami.listener.failed")
        assert len(failed) == 1 and failed[0]["device"] == "PJSIP/1002"


async def test_wrong_secret_is_one_clear_line_per_attempt_and_retried(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with FakeAmi() as ami:
        monitor = monitor_for(ami, secret="wrong-secret")
        with capture_logs() as logs, caplog.at_level(logging.DEBUG):
            async with cancelling(asyncio.create_task(monitor.run())) as task:
                await eventually(lambda: len(log_lines(logs, "ami.login.rejected")) >= 2)
                assert not task.done()
                assert not monitor.connected
    rejected = log_lines(logs, "ami.login.rejected")
    assert rejected[0]["log_level"] == "error"
    assert rejected[0]["error"] == "login as 'hotline' answered 'Authentication failed'"
    assert rejected[0]["port"] == ami.port and "retry_in" in rejected[0]
    assert "wrong-secret" not in str(logs)  # the secret never reaches the logs
    assert not any("exc_info" in line for line in logs)
    assert not any(record.exc_info for record in caplog.records)  # nor panoramisk's
    assert ami.connections >= 2


async def test_unreachable_port_is_retried_without_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monitor = AmiMonitor("127.0.0.1", port, "u", "s", backoff=fast())
    with capture_logs() as logs, caplog.at_level(logging.DEBUG):
        async with cancelling(asyncio.create_task(monitor.run())):
            await eventually(lambda: len(log_lines(logs, "ami.unreachable")) >= 3)
    failures = log_lines(logs, "ami.unreachable")
    assert all(line["port"] == port and line["log_level"] == "warning" for line in failures)
    assert all(line["error"].startswith("cannot connect:") for line in failures)
    assert not any(record.exc_info for record in caplog.records)


class RecordingBackoff(Backoff):
    """A Backoff that remembers its resets, with a fixed tiny delay."""

    def __init__(self) -> None:
        super().__init__(0.01, cap=0.01, rand=lambda: 1.0)
        self.resets = 0

    def reset(self) -> None:
        self.resets += 1
        super().reset()


async def test_reconnects_with_backoff_and_reseeds_after_the_connection_drops() -> None:
    async with FakeAmi(states={"Custom:x": "NOT_INUSE"}) as ami:
        backoff = RecordingBackoff()
        monitor = monitor_for(ami, backoff=backoff)
        heard = Heard()
        monitor.add_listener(heard)
        with capture_logs() as logs:
            async with cancelling(asyncio.create_task(monitor.run())):
                async with asyncio.timeout(5):
                    await monitor.wait_connected()
                assert backoff.resets == 1
                ami.drop_all()
                # Changed while we are cut off: only DeviceStateList on reconnect brings it in.
                ami.states["Custom:x"] = "INUSE"
                await eventually(lambda: ("Custom:x", "INUSE") in heard.items)
                assert monitor.connected
                assert backoff.resets == 2 and backoff.attempts == 0
        lost = log_lines(logs, "ami.unreachable")
        assert lost[0]["error"] == "connection lost" and lost[0]["retry_in"] == 0.01
        assert len(log_lines(logs, "ami.connected")) == 2
        assert ami.connections == 2


async def test_a_refused_device_list_is_retried() -> None:
    async with FakeAmi() as ami:
        ami.refused.add("devicestatelist")
        monitor = monitor_for(ami)
        with capture_logs() as logs:
            async with cancelling(asyncio.create_task(monitor.run())):
                await eventually(lambda: len(log_lines(logs, "ami.unreachable")) >= 2)
                assert not monitor.connected
                ami.refused.clear()
                async with asyncio.timeout(5):
                    await monitor.wait_connected()
        assert log_lines(logs, "ami.unreachable")[0]["error"] == (
            "DeviceStateList answered 'Permission denied'")


async def test_connects_without_warnings_as_a_user_without_system_privilege() -> None:
    """dialplans/manager.conf's user may not run `system` actions such as Filter: the monitor
    asks for none, so connecting logs no warning, and events other than DeviceStateChange (which
    Asterisk's eventfilter normally keeps away) change nothing."""
    async with FakeAmi(states={"PJSIP/1001": "INUSE"}) as ami:
        ami.refused.add("filter")  # as Asterisk answers the user without `system`
        monitor = monitor_for(ami)
        heard = Heard()
        monitor.add_listener(heard)
        with capture_logs() as logs:
            async with cancelling(asyncio.create_task(monitor.run())):
                async with asyncio.timeout(5):
                    await monitor.wait_connected()
                assert monitor.states == {"PJSIP/1001": "INUSE"}
                for writer in list(ami._writers):  # an event the eventfilter would drop
                    writer.write(b"Event: Newchannel\r\nPrivilege: call,all\r\n"
                                 b"Channel: PJSIP/1001-00000001\r\nChannelState: 4\r\n\r\n")
                ami.push("PJSIP/1001", "NOT_INUSE")
                await eventually(lambda: ("PJSIP/1001", "NOT_INUSE") in heard.items)
        assert heard.items == [("PJSIP/1001", "INUSE"), ("PJSIP/1001", "NOT_INUSE")]
        assert ami.actions("Filter") == []
        assert not [line for line in logs if line["log_level"] in ("warning", "error")]


async def test_an_unanswered_login_times_out_and_is_retried() -> None:
    async with FakeAmi() as ami:
        ami.silent.add("login")
        monitor = monitor_for(ami, timeout=0.05)
        with capture_logs() as logs:
            async with cancelling(asyncio.create_task(monitor.run())):
                await eventually(lambda: len(log_lines(logs, "ami.unreachable")) >= 2)
        assert log_lines(logs, "ami.unreachable")[0]["error"] == "Login: no reply in 0.05 s"
        assert len(ami.actions("Login")) >= 2


async def test_device_state_falls_back_to_the_last_known_when_the_connection_drops() -> None:
    async with FakeAmi(states={"PJSIP/1001": "INUSE"}) as ami:
        monitor = monitor_for(ami, backoff=Backoff(5.0, cap=5.0, rand=lambda: 1.0))
        async with cancelling(asyncio.create_task(monitor.run())):
            async with asyncio.timeout(5):
                await monitor.wait_connected()
            ami.silent.add("getvar")
            asked = asyncio.create_task(monitor.device_state("PJSIP/1001"))
            await eventually(lambda: len(ami.actions("Getvar")) == 1)
            ami.drop_all()
            async with asyncio.timeout(5):
                assert await asked == "INUSE"


async def test_device_state_raises_when_asterisk_refuses_the_question() -> None:
    async with FakeAmi() as ami:
        monitor = monitor_for(ami)
        async with cancelling(asyncio.create_task(monitor.run())):
            async with asyncio.timeout(5):
                await monitor.wait_connected()
            ami.refused.add("getvar")
            with pytest.raises(AmiError, match=r"DEVICE_STATE\(PJSIP/1001\).*Permission denied"):
                await monitor.device_state("PJSIP/1001")


async def test_a_link_that_stops_answering_ping_counts_as_lost_and_is_reconnected() -> None:
    """A connection that died without closing: only the heartbeat finds out."""
    async with FakeAmi() as ami:
        monitor = AmiMonitor("127.0.0.1", ami.port, "hotline", SECRET, timeout=0.1,
                             heartbeat=0.02, backoff=Backoff(0.2, cap=0.2, rand=lambda: 1.0))
        with capture_logs() as logs:
            async with cancelling(asyncio.create_task(monitor.run())):
                async with asyncio.timeout(5):
                    await monitor.wait_connected()
                await eventually(lambda: len(ami.actions("Ping")) >= 3)
                assert monitor.connected  # answered pings keep it up
                ami.silent.add("ping")
                await eventually(lambda: bool(log_lines(logs, "ami.unreachable")))
                assert not monitor.connected
                ami.silent.clear()
                async with asyncio.timeout(5):
                    await monitor.wait_connected()
        assert log_lines(logs, "ami.unreachable")[0]["error"] == "Ping: no reply in 0.1 s"
        assert ami.connections == 2
