"""Settings beyond test_settings.py: every environment override, every validation error, paths.
(The logging set-up and its redaction of personal data: test_log_redaction.py.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from ari_app.settings import ENV_OVERRIDES, ConfigError, Settings, load_settings
from routing.model import AgentConfig, QueueConfig

MINIMAL = """
queues:
  - {id: claims, name: Claims, ring_timeout_s: 8, wrapup_s: 2, max_wait_s: 120}
  - {id: billing, name: Billing}
agents:
  - {id: alice, name: Alice, endpoint: PJSIP/1001, queues: [claims, billing]}
"""
TOKEN = "{token: a-token-of-sixteen-chars, actor: sam, role: supervisor}"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "hotline.yaml"
    path.write_text(text)
    return path


def load(tmp_path: Path, text: str = MINIMAL, env: dict[str, str] | None = None) -> Settings:
    return load_settings(write(tmp_path, text), env=env or {})


def settings_path(settings: Settings, keys: tuple[str, ...]) -> Any:
    node: Any = settings
    for key in keys:
        node = getattr(node, key)
    return node


# One value each variable may carry, and what it becomes once loaded.
ENV_VALUES: dict[str, tuple[str, object]] = {
    "HOTLINE_DATABASE_URL": ("postgresql+asyncpg://u@db/h", "postgresql+asyncpg://u@db/h"),
    "HOTLINE_FLOW": ("/srv/flows/main.yaml", Path("/srv/flows/main.yaml")),
    "HOTLINE_ARI_URL": ("https://pbx:8089/ari/", "https://pbx:8089/ari"),
    "HOTLINE_ARI_USER": ("ari-user", "ari-user"),
    "HOTLINE_ARI_PASSWORD": ("ari-pw", "ari-pw"),
    "HOTLINE_ARI_APP": ("hotline-2", "hotline-2"),
    "HOTLINE_AMI_HOST": ("pbx", "pbx"),
    "HOTLINE_AMI_PORT": ("15038", 15038),
    "HOTLINE_AMI_USER": ("ami-user", "ami-user"),
    "HOTLINE_AMI_SECRET": ("ami-secret", "ami-secret"),
    "HOTLINE_HTTP_HOST": ("127.0.0.2", "127.0.0.2"),  # off loopback: test_access_tokens
    "HOTLINE_HTTP_PORT": ("9090", 9090),
    "HOTLINE_RECORDINGS_SPOOL": ("/var/spool/rec", Path("/var/spool/rec")),
    "HOTLINE_RECORDINGS_DIR": ("/srv/rec", Path("/srv/rec")),
    "HOTLINE_RECORDINGS_METHOD": ("bridge", "bridge"),
    "HOTLINE_RECORDINGS_CHANNELS": ("stereo", "stereo"),
    "HOTLINE_PROMPTS_DIR": ("/srv/prompts", Path("/srv/prompts")),
    "HOTLINE_PROMPTS_ASTERISK_DIR": ("/var/lib/asterisk/sounds/x", "/var/lib/asterisk/sounds/x"),
    "HOTLINE_LOG_LEVEL": ("debug", "debug"),
    "HOTLINE_LOG_HMAC_KEY": ("a-log-hashing-key-0123", SecretStr("a-log-hashing-key-0123")),
    "HOTLINE_KNOWLEDGE_URL": ("http://kb:8000", "http://kb:8000"),
    "HOTLINE_KNOWLEDGE_TOKEN": ("kb-token", "kb-token"),
    "HOTLINE_SPEECH_ENGINE": ("vosk", "vosk"),
    "HOTLINE_VOSK_MODEL": ("/models/vosk", Path("/models/vosk")),
}


def test_every_override_is_exercised_here() -> None:
    assert set(ENV_VALUES) == set(ENV_OVERRIDES)


@pytest.mark.parametrize("name", sorted(ENV_OVERRIDES))
def test_each_environment_variable_overrides_its_setting(tmp_path: Path, name: str) -> None:
    raw, expected = ENV_VALUES[name]
    settings = load(tmp_path, env={name: raw})
    assert settings_path(settings, ENV_OVERRIDES[name]) == expected


def test_the_environment_wins_over_the_file(tmp_path: Path) -> None:
    text = MINIMAL + "asterisk: {ami_port: 5039, ami_host: filehost}\n"
    settings = load(tmp_path, text, env={"HOTLINE_AMI_PORT": "6000", "UNRELATED": "x"})
    assert settings.asterisk.ami_port == 6000
    assert settings.asterisk.ami_host == "filehost"


def test_the_process_environment_is_read_when_none_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOTLINE_LOG_LEVEL", "error")
    assert load_settings(write(tmp_path, MINIMAL)).log_level == "error"


@pytest.mark.parametrize(("text", "expected"), [
    ("- a list\n", "hotline.yaml: top level must be a mapping"),
    (MINIMAL + "asterisk: {ami_port: 0}\n",
     "hotline.yaml: asterisk.ami_port: Input should be greater than or equal to 1"),
    (MINIMAL + "asterisk: {app: 'hot line'}\n", "hotline.yaml: asterisk.app: String should match"),
    (MINIMAL + "asterisk: {request_timeout_s: 0}\n", "hotline.yaml: asterisk.request_timeout_s"),
    (MINIMAL + "asterisk: {ari_pasword: x}\n",
     "hotline.yaml: asterisk.ari_pasword: Extra inputs are not permitted"),
    (MINIMAL + "http: {port: 70000}\n", "hotline.yaml: http.port: Input should be less than"),
    (MINIMAL + "log_level: verbose\n", "hotline.yaml: log_level: String should match"),
    (MINIMAL + "recordings: {format: mp3}\n", "hotline.yaml: recordings.format"),
    (MINIMAL + "knowledge: {source: magic}\n", "hotline.yaml: knowledge.source: Input should be"),
    (MINIMAL + "knowledge: {deadline_s: 11}\n", "hotline.yaml: knowledge.deadline_s"),
    (MINIMAL + "speech: {engine: whisper}\n", "hotline.yaml: speech.engine: Input should be"),
    (MINIMAL.replace("ring_timeout_s: 8", "ring_timeout_s: 0"),
     "hotline.yaml: queues[0].ring_timeout_s: Input should be greater than 0"),
    (MINIMAL.replace("wrapup_s: 2", "wrapup_s: -1"), "hotline.yaml: queues[0].wrapup_s"),
    (MINIMAL.replace("max_wait_s: 120", "max_wait_s: 0"), "hotline.yaml: queues[0].max_wait_s"),
    (MINIMAL.replace("id: billing", "id: Billing"), "hotline.yaml: queues[1].id: String should"),
    (MINIMAL.replace("{id: billing, name: Billing}", "{id: billing}"),
     "hotline.yaml: queues[1].name: Field required"),
    (MINIMAL.replace("id: billing", "id: claims").replace("claims, billing", "claims"),
     "hotline.yaml: queues: duplicate queue id"),
    (MINIMAL + "  - {id: alice, name: Al, endpoint: PJSIP/1002, queues: [claims]}\n",
     "hotline.yaml: agents: duplicate agent id"),
    (MINIMAL.replace("queues: [claims, billing]", "queues: []"),
     "hotline.yaml: agents[0].queues: Tuple should have at least 1 item"),
    (MINIMAL.replace("queues: [claims, billing]", "queues: [claims, sales]"),
     "hotline.yaml: agents[0].queues[1]: unknown queue 'sales'"),
    (MINIMAL + f"api_tokens:\n  - {TOKEN}\n  - {TOKEN}\n",
     "hotline.yaml: api_tokens: the same token is listed twice"),
    (MINIMAL + "api_tokens:\n  - {token: short, actor: sam, role: supervisor}\n",
     "hotline.yaml: api_tokens[0].token: Value should have at least 16"),
    (MINIMAL + "api_tokens:\n  - {token: a-token-of-sixteen-chars, actor: sam, role: boss}\n",
     "hotline.yaml: api_tokens[0].role: Input should be"),
])  # fmt: skip
def test_every_validation_error_names_the_file_and_field(tmp_path: Path, text: str,
                                                         expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    assert str(caught.value).startswith(f"{tmp_path}/{expected}"), str(caught.value)


def test_several_problems_are_one_line_each(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, MINIMAL + "http: {port: -1}\nlog_level: loud\n")
    problems = str(caught.value).splitlines()
    assert [p.split(": ")[1] for p in problems] == ["http.port", "log_level"]


def test_an_override_is_validated_like_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"hotline.yaml: asterisk.ari_url: must start with"):
        load(tmp_path, env={"HOTLINE_ARI_URL": "pbx:8088/ari"})


def test_an_empty_file_lacks_the_queues(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"hotline.yaml: queues: Field required"):
        load(tmp_path, "")


def test_relative_paths_are_resolved_beside_the_file(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HOTLINE_TEST_ROOT", "/srv/hotline")
    text = MINIMAL + (
        "database_url: sqlite+aiosqlite:///data/h.sqlite3\n"
        "prompts: {cache_dir: ~/prompts}\n"
        "recordings: {spool_dir: $HOTLINE_TEST_ROOT/spool, store_dir: rec}\n"
        "knowledge: {faq_file: faq.yaml, outbox_file: null}\n"
        "speech: {engine: vosk, vosk_model_dir: models/vosk}\n"
        "flow: flows/main.yaml\n")  # fmt: skip
    settings = load(tmp_path, text)
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path}/data/h.sqlite3"
    assert settings.prompts.cache_dir == tmp_path / "home/prompts"
    assert settings.recordings.spool_dir == Path("/srv/hotline/spool")
    assert settings.recordings.store_dir == tmp_path / "rec"
    assert settings.knowledge.faq_file == tmp_path / "faq.yaml"
    assert settings.knowledge.outbox_file is None
    assert settings.speech.vosk_model_dir == tmp_path / "models/vosk"
    assert settings.flow == tmp_path / "flows/main.yaml"
    # Defaults, relative to the file too.
    assert settings.knowledge.outbox_file is None
    assert load(tmp_path).knowledge.outbox_file == (tmp_path / "../var/knowledge-outbox.sqlite3"
                                                    ).resolve()  # fmt: skip
    assert load(tmp_path).speech.vosk_model_dir is None


@pytest.mark.parametrize("url", [
    "sqlite+aiosqlite:////var/lib/hotline.sqlite3", "sqlite+aiosqlite:///:memory:",
    "postgresql+asyncpg://u:p@db/hotline",
])  # fmt: skip
def test_absolute_memory_and_server_urls_are_kept(tmp_path: Path, url: str) -> None:
    assert load(tmp_path, MINIMAL + f"database_url: '{url}'\n").database_url == url


def test_queues_and_agents_become_routing_configuration(tmp_path: Path) -> None:
    settings = load(tmp_path)
    assert settings.queue_configs() == (
        QueueConfig(queue_id="claims", name="Claims", ring_timeout_s=8, wrapup_s=2,
                    max_wait_s=120),
        QueueConfig(queue_id="billing", name="Billing", ring_timeout_s=15, wrapup_s=5,
                    max_wait_s=None),
    )  # fmt: skip
    assert settings.agent_configs() == (
        AgentConfig(agent_id="alice", name="Alice", endpoint="PJSIP/1001",
                    queues=("claims", "billing")),
    )  # fmt: skip


def test_api_tokens_keep_their_secret_out_of_reprs(tmp_path: Path) -> None:
    settings = load(tmp_path, MINIMAL + f"api_tokens:\n  - {TOKEN}\n")
    token = settings.api_tokens[0]
    assert token.token.get_secret_value() == "a-token-of-sixteen-chars"
    assert "a-token-of-sixteen-chars" not in repr(settings)


# --- the log hashing key ----------------------------------------------------------------------


def test_the_log_hashing_key_is_secret_optional_and_at_least_16_characters(
    tmp_path: Path,
) -> None:
    assert load(tmp_path).logging.hmac_key is None
    assert load(tmp_path, env={"HOTLINE_LOG_HMAC_KEY": ""}).logging.hmac_key is None  # unset
    key = "sixteen-chars-ok"
    settings = load(tmp_path, MINIMAL + f"logging: {{hmac_key: {key}}}\n")
    assert settings.logging.hmac_key == SecretStr(key)
    assert key not in repr(settings) and key not in str(settings)
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, env={"HOTLINE_LOG_HMAC_KEY": "fifteen-chars-x"})
    assert str(caught.value) == (f"{tmp_path / 'hotline.yaml'}: logging.hmac_key: must have at "
                                 "least 16 characters (e.g. `openssl rand -hex 24`)")
    assert "fifteen-chars-x" not in str(caught.value)
    with pytest.raises(ConfigError, match=r"logging\.hmac_key: must be a string"):
        load(tmp_path, MINIMAL + "logging: {hmac_key: [a, b]}\n")
    with pytest.raises(ConfigError, match=r"logging\.hmac_kye: Extra inputs"):
        load(tmp_path, MINIMAL + "logging: {hmac_kye: sixteen-chars-ok}\n")
