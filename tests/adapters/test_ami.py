"""AmiMonitor against the real development Asterisk's AMI."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import uuid
from collections.abc import AsyncIterator

import pytest
from structlog.testing import capture_logs

from ari_app.ami.monitor import AmiMonitor
from kernel.backoff import Backoff
from tests.adapters.conftest import AsteriskTarget, DroppingProxy


def fast() -> Backoff:
    return Backoff(0.01, cap=0.05)


async def asterisk_cli(target: AsteriskTarget, command: str) -> str:
    """Run one CLI command on the development Asterisk (its console socket, as an operator
    would): the service's AMI user may not run commands (least privilege, manager.conf)."""
    process = await asyncio.create_subprocess_exec(
        "chroot", str(target.rootfs), "/usr/sbin/asterisk", "-rx", command,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    async with asyncio.timeout(5):
        out, _ = await process.communicate()
    return out.decode()


class Heard:
    """A listener that records every (device, state) and lets a test await one."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []
        self._changed = asyncio.Event()

    def __call__(self, device: str, state: str) -> None:
        self.items.append((device, state))
        self._changed.set()

    async def wait_for(self, device: str, state: str) -> None:
        async with asyncio.timeout(5):
            while (device, state) not in self.items:
                self._changed.clear()
                await self._changed.wait()


@contextlib.asynccontextmanager
async def running(monitor: AmiMonitor) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(monitor.run())
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.fixture
async def custom_device(asterisk_ami: AsteriskTarget) -> AsyncIterator[str]:
    """A fresh Custom: device; removed from Asterisk's database afterwards."""
    name = f"test-{uuid.uuid4().hex[:10]}"
    yield f"Custom:{name}"
    await asterisk_cli(asterisk_ami, f"database del CustomDevstate {name}")


def monitor_for(target: AsteriskTarget, *, secret: str | None = None) -> AmiMonitor:
    return AmiMonitor(target.ami_host, target.ami_port, target.ami_user,
                      secret or target.ami_secret, backoff=fast())  # fmt: skip


async def test_seeds_on_connect_then_follows_changes(
    asterisk_ami: AsteriskTarget, custom_device: str
) -> None:
    answer = await asterisk_cli(asterisk_ami, f"devstate change {custom_device} INUSE")
    assert "Changing" in answer, answer
    monitor = monitor_for(asterisk_ami)
    heard = Heard()
    monitor.add_listener(heard)
    async with running(monitor):
        async with asyncio.timeout(5):
            await monitor.wait_connected()
        # Known before any change: seeded from DeviceStateList.
        assert monitor.states[custom_device] == "INUSE"
        assert (custom_device, "INUSE") in heard.items

        await asterisk_cli(asterisk_ami, f"devstate change {custom_device} UNAVAILABLE")
        await heard.wait_for(custom_device, "UNAVAILABLE")
        assert monitor.states[custom_device] == "UNAVAILABLE"
        assert await monitor.device_state(custom_device) == "UNAVAILABLE"
        assert await monitor.device_state("Custom:test-never-set") == "UNKNOWN"


async def test_a_failing_listener_does_not_stop_the_others(
    asterisk_ami: AsteriskTarget, custom_device: str
) -> None:
    monitor = monitor_for(asterisk_ami)
    heard = Heard()

    def broken(device: str, state: str) -> None:
        raise RuntimeError("listener bug")

    monitor.add_listener(broken)
    monitor.add_listener(heard)
    async with running(monitor) as task:
        async with asyncio.timeout(5):
            await monitor.wait_connected()
        await asterisk_cli(asterisk_ami, f"devstate change {custom_device} RINGING")
        await heard.wait_for(custom_device, "RINGING")
        assert not task.done()


async def test_wrong_secret_is_one_clear_line_per_attempt_and_retried(
    asterisk_ami: AsteriskTarget, caplog: pytest.LogCaptureFixture
) -> None:
    monitor = monitor_for(asterisk_ami, secret="wrong")
    with capture_logs() as logs, caplog.at_level(logging.DEBUG):
        async with running(monitor) as task:
            await asyncio.sleep(2.5)  # Asterisk answers a failed login after about 1 s
            assert not task.done()
            assert not monitor.connected
    rejected = [line for line in logs if line["event"] == "ami.login.rejected"]
    assert len(rejected) >= 2
    assert rejected[0]["log_level"] == "error"
    assert "Authentication failed" in rejected[0]["error"]
    assert "wrong" not in str(rejected[0])  # the secret never reaches the logs
    assert not any("exc_info" in line for line in logs)
    assert not any(record.exc_info for record in caplog.records)  # nor panoramisk's


async def test_unreachable_port_is_retried_without_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monitor = AmiMonitor("127.0.0.1", port, "u", "s", backoff=fast())
    with capture_logs() as logs, caplog.at_level(logging.DEBUG):
        async with running(monitor):
            await asyncio.sleep(0.5)
    failures = [line for line in logs if line["event"] == "ami.unreachable"]
    assert len(failures) >= 3
    assert all(line["port"] == port and "retry_in" in line for line in failures)
    assert not any(record.exc_info for record in caplog.records)


async def test_reconnects_and_reseeds_after_the_connection_drops(
    asterisk_ami: AsteriskTarget, custom_device: str
) -> None:
    proxy = DroppingProxy(asterisk_ami.ami_host, asterisk_ami.ami_port)
    async with proxy.running() as port:
        heard = Heard()
        away = Backoff(1.0, cap=1.0, rand=lambda: 1.0)  # exactly 1 s before reconnecting
        monitor = AmiMonitor(asterisk_ami.ami_host, port, asterisk_ami.ami_user,
                             asterisk_ami.ami_secret, backoff=away)  # fmt: skip
        monitor.add_listener(heard)
        with capture_logs() as logs:
            async with running(monitor):
                async with asyncio.timeout(5):
                    await monitor.wait_connected()
                proxy.drop_all()
                # Changed while we are cut off (the monitor waits 1 s before reconnecting):
                # only the DeviceStateList on reconnect can bring it in.
                await asterisk_cli(asterisk_ami, f"devstate change {custom_device} INUSE")
                assert custom_device not in monitor.states
                await heard.wait_for(custom_device, "INUSE")
                assert monitor.connected
    lost = [line for line in logs if line["event"] == "ami.unreachable"]
    assert lost and lost[0]["error"] == "connection lost"


async def test_the_service_ami_user_may_not_run_commands_or_originate(
    asterisk_ami: AsteriskTarget,
) -> None:
    reader, writer = await asyncio.open_connection(asterisk_ami.ami_host, asterisk_ami.ami_port)
    writer.write(
        f"Action: Login\r\nUsername: {asterisk_ami.ami_user}\r\n"
        f"Secret: {asterisk_ami.ami_secret}\r\nEvents: off\r\n\r\n"
        "Action: Command\r\nActionID: cmd\r\nCommand: core show version\r\n\r\n"
        "Action: Originate\r\nActionID: orig\r\nChannel: Local/never@sim-agents\r\n"
        "Application: Wait\r\nData: 1\r\n\r\n"
        "Action: Logoff\r\n\r\n".encode()
    )
    async with asyncio.timeout(5):
        answer = (await reader.read()).decode()
    writer.close()
    await writer.wait_closed()
    assert "Authentication accepted" in answer
    assert answer.count("Permission denied") == 2, answer
