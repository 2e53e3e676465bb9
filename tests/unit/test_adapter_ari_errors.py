"""The ARI adapter's errors, `gone_ok` cleanup, and the parsing corners test_ari_events leaves."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

from ari_app.ari.cleanup import gone_ok
from ari_app.ari.errors import (
    AriBadRequest,
    AriConflict,
    AriError,
    AriEventError,
    AriNotFound,
    AriUnauthorized,
    AriUnavailable,
    AriUnprocessable,
    error_for_status,
)
from ari_app.ari.events import parse_bridge, parse_channel
from tests.unit.adapter_fakes import channel_json


@pytest.mark.parametrize(("status", "kind"), [
    (400, AriBadRequest), (401, AriUnauthorized), (403, AriUnauthorized), (404, AriNotFound),
    (409, AriConflict), (422, AriUnprocessable), (418, AriError), (500, AriUnavailable),
    (503, AriUnavailable),
])  # fmt: skip
def test_each_status_has_its_error(status: int, kind: type[AriError]) -> None:
    error = error_for_status(status, "Channel not found", method="POST", path="/channels/c/answer")
    assert type(error) is kind
    assert (error.status, error.method, error.path) == (status, "POST", "/channels/c/answer")
    assert error.message == "Channel not found"
    assert str(error) == f"ARI POST /channels/c/answer answered {status}: Channel not found"


def test_an_error_without_an_answer_says_so() -> None:
    error = AriUnavailable("connection refused", status=None, method="GET", path="/channels")
    assert str(error) == "ARI GET /channels got no answer: connection refused"


def test_an_event_error_names_type_and_field() -> None:
    error = AriEventError("StasisStart", "channel.id", "is missing")
    assert (error.event_type, error.field) == ("StasisStart", "channel.id")
    assert str(error) == "ARI event StasisStart: field 'channel.id' is missing"
    assert isinstance(error, ValueError)


async def _fails(error: BaseException | None) -> None:
    if error is not None:
        raise error


def _error(status: int) -> AriError:
    return error_for_status(status, "gone", method="DELETE", path="/channels/c-1")


async def test_gone_ok_is_true_when_the_request_succeeded() -> None:
    assert await gone_ok(_fails(None), "channel") is True


@pytest.mark.parametrize("status", [404, 409, 422])
async def test_gone_ok_takes_already_gone_quietly(status: int) -> None:
    with capture_logs() as logs:
        assert await gone_ok(_fails(_error(status)), "channel") is False
    assert logs == []


@pytest.mark.parametrize("status", [400, 500])
async def test_gone_ok_logs_other_failures_and_carries_on(status: int) -> None:
    with capture_logs() as logs:
        assert await gone_ok(_fails(_error(status)), "listen bridge") is False
    assert len(logs) == 1
    assert logs[0]["event"] == "ari.cleanup_failed" and logs[0]["what"] == "listen bridge"
    assert f"answered {status}" in logs[0]["error"]


async def test_gone_ok_lets_other_exceptions_through() -> None:
    with pytest.raises(RuntimeError):
        await gone_ok(_fails(RuntimeError("bug")), "channel")


def test_bridge_channels_must_be_strings() -> None:
    with pytest.raises(AriEventError, match="'channels' is not a list of strings"):
        parse_bridge({"id": "b-1", "channels": ["c-1", 7]})


def test_a_bridge_without_type_or_name_gets_empty_ones() -> None:
    bridge = parse_bridge({"id": "b-1", "channels": []})
    assert (bridge.bridge_type, bridge.name, bridge.channels) == ("", "", ())


def test_a_rest_channel_keeps_caller_and_channel_variables() -> None:
    parsed = parse_channel(channel_json("c-1", channelvars={"HOTLINE_ROLE": "inbound"}))
    assert (parsed.id, parsed.caller_number, parsed.state) == ("c-1", "5551234", "Up")
    assert dict(parsed.channelvars) == {"HOTLINE_ROLE": "inbound"}
    with pytest.raises(AriEventError) as caught:
        parse_channel({"id": "c-1", "name": "x", "state": "Up"})
    assert (caught.value.event_type, caught.value.field) == ("Channel", "caller")
