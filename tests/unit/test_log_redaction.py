"""Personal data in logs (ari_app/logging.py): hashed with a secret key wherever it appears, so
lines about one caller can be joined but a number cannot be found from its hash without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from typing import Any

import pytest
import structlog
from pydantic import SecretStr

from ari_app.logging import (
    KEY_ENV,
    PERSONAL_KEYS,
    PREFIX,
    Redactor,
    configure_logging,
    log_key,
    redact_personal_data,
)

KEY = b"a-log-key-of-32-characters-000001"
NUMBER = "+4930123456"


def redact(event: dict[str, Any], key: bytes = KEY) -> dict[str, Any]:
    return dict(Redactor(key)(None, "info", dict(event)))


def keyed(value: str, key: bytes = KEY) -> str:
    return PREFIX + hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:16]


def test_personal_values_are_keyed_hashes_and_the_rest_is_kept() -> None:
    redacted = redact({"event": "call.queued", "caller_number": NUMBER, "digits": 1234,
                       "transcript": "", "text": None, "queue": "claims"})  # fmt: skip
    assert redacted == {"event": "call.queued", "caller_number": keyed(NUMBER),
                        "digits": keyed("1234"), "transcript": "", "text": None,
                        "queue": "claims"}  # fmt: skip
    # The same value hashes the same under one key: lines about a caller can be joined.
    assert redact({"caller": NUMBER})["caller"] == redacted["caller_number"]


def test_a_bare_hash_would_give_the_number_away_a_keyed_one_does_not() -> None:
    hashed = redact({"caller": NUMBER})["caller"]
    bare = hashlib.sha256(NUMBER.encode()).hexdigest()
    assert bare[:12] not in hashed and bare[:16] not in hashed
    assert redact({"caller": NUMBER}, b"another-key-of-32-characters-0002")["caller"] != hashed


def test_nested_keys_are_redacted_at_any_depth() -> None:
    event = {"event": "knowledge.asked", "details": {"question": "my claim 12345?",
             "answer": {"text": "it is paid"}, "node": "faq"},
             "journey": [{"type": "input", "digits": "42"}, {"type": "menu", "choice": "1"}]}
    redacted = redact(event)
    assert redacted["details"] == {"question": keyed("my claim 12345?"),
                                   "answer": keyed("{'text': 'it is paid'}"), "node": "faq"}
    assert redacted["journey"] == [{"type": "input", "digits": keyed("42")},
                                   {"type": "menu", "choice": "1"}]  # fmt: skip
    assert "12345" not in json.dumps(redacted) and "42" not in json.dumps(redacted["journey"])


def test_structures_too_deep_to_walk_are_hidden_whole() -> None:
    deep: Any = {"caller": NUMBER}
    for _ in range(20):
        deep = {"inner": deep}
    assert NUMBER not in json.dumps(redact({"event": "x", "deep": deep}))


@pytest.mark.parametrize("key", ["question", "Question", "transcript", "utterance", "notes",
                                 "caller_id", "dtmf"])  # fmt: skip
def test_question_and_transcript_like_fields_are_personal(key: str) -> None:
    assert redact({key: "something said"})[key] == keyed("something said")
    assert key.lower() in PERSONAL_KEYS


def test_the_key_comes_from_the_setting_else_the_environment_or_is_random_per_process() -> None:
    assert log_key({}, SecretStr(KEY.decode())) == (KEY, None)
    assert log_key({KEY_ENV: "another-key-of-16+-chars"}, KEY.decode()) == (KEY, None)
    assert log_key({KEY_ENV: KEY.decode()}, None) == (KEY, None)
    assert log_key({KEY_ENV: KEY.decode()}) == (KEY, None)
    assert log_key({KEY_ENV: "short"}) == (b"short", "short")
    first, why = log_key({})
    second, _ = log_key({})
    assert (why, len(first), first != second) == ("random", 32, True)


@pytest.mark.usefixtures("restored_structlog")
def test_configured_logging_hashes_with_the_configured_key(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("info", environ={KEY_ENV: KEY.decode()})
    with structlog.contextvars.bound_contextvars(call_id="c-1"):
        structlog.get_logger("test").info("call.queued", caller_number=NUMBER,
                                          details={"digits": "9"})  # fmt: skip
    [line] = [json.loads(x) for x in capsys.readouterr().err.splitlines()]
    assert (line["caller_number"], line["details"]) == (keyed(NUMBER), {"digits": keyed("9")})
    assert redact_personal_data(None, "info", {"caller": NUMBER})["caller"] == keyed(NUMBER)


@pytest.mark.usefixtures("restored_structlog")
def test_configured_logging_hashes_with_the_settings_key_over_the_environment(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("info", hmac_key=SecretStr(KEY.decode()),
                      environ={KEY_ENV: "a-different-key-from-the-env"})  # fmt: skip
    structlog.get_logger("test").info("call.queued", caller_number=NUMBER)
    [line] = [json.loads(x) for x in capsys.readouterr().err.splitlines()]
    assert line["caller_number"] == keyed(NUMBER)
    assert KEY.decode() not in json.dumps(line)


@pytest.mark.usefixtures("restored_structlog")
def test_without_a_key_the_service_says_its_hashes_hold_for_this_run_only(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("info", environ={})
    lines = [json.loads(x) for x in capsys.readouterr().err.splitlines()]
    assert [(line["event"], line["setting"]) for line in lines] == [
        ("logging.hmac_key_random", "logging.hmac_key (HOTLINE_LOG_HMAC_KEY)")]
    configure_logging("info", environ={KEY_ENV: "short"})
    lines = [json.loads(x) for x in capsys.readouterr().err.splitlines()]
    assert [(line["event"], line["level"]) for line in lines] == [("logging.hmac_key_short",
                                                                   "warning")]


@pytest.mark.usefixtures("restored_structlog")
def test_json_lines_on_stderr_with_context_level_and_redaction(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("info", environ={KEY_ENV: KEY.decode()})
    log = structlog.get_logger("test")
    with structlog.contextvars.bound_contextvars(call_id="c-1"):
        log.info("call.queued", caller_number=NUMBER, queue="claims")
    log.debug("call.noise")
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        log.exception("call.failed")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [line["event"] for line in lines] == ["call.queued", "call.failed"]  # no debug
    queued = lines[0]
    assert (queued["call_id"], queued["level"], queued["queue"]) == ("c-1", "info", "claims")
    assert queued["caller_number"] == keyed(NUMBER)
    assert queued["timestamp"].endswith("Z")
    assert "RuntimeError: boom" in lines[1]["exception"]


@pytest.mark.usefixtures("restored_structlog")
def test_console_output_and_levels(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("debug", json=False, environ={KEY_ENV: KEY.decode()})
    structlog.get_logger("test").debug("media.listening", digits="42")
    plain = re.sub(r"\x1b\[[0-9;]*m", "", capsys.readouterr().err)  # without colours
    assert "media.listening" in plain and f"digits={keyed('42')}" in plain
    configure_logging("error", environ={})  # the random key's note is info: not shown
    structlog.get_logger("test").warning("ami.unreachable")
    assert capsys.readouterr().err == ""
