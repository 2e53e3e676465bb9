"""Service configuration: one YAML file, then HOTLINE_* environment overrides.

Every problem is reported as ``<file>: <field path>: <what is wrong>`` and stops startup.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from kernel.http.auth import ApiToken
from routing.model import AgentConfig, QueueConfig


class ConfigError(Exception):
    """The configuration cannot be used; the message names the file and field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AsteriskSettings(_Strict):
    ari_url: str = "http://127.0.0.1:8088/ari"
    ari_user: str = "hotline"
    ari_password: str = "hotline"
    app: str = Field(default="hotline", pattern=r"^[A-Za-z0-9_.-]+$")
    ami_host: str = "127.0.0.1"
    ami_port: int = Field(default=5038, ge=1, le=65535)
    ami_user: str = "hotline"
    ami_secret: str = "hotline"
    request_timeout_s: float = Field(default=5.0, gt=0)

    @field_validator("ari_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @property
    def events_url(self) -> str:
        return self.ari_url.replace("http", "ws", 1) + "/events"


class HttpSettings(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)


class PromptSettings(_Strict):
    cache_dir: Path = Path("~/.cache/hotline/asterisk-rootfs/var/lib/asterisk/sounds/hotline")
    asterisk_dir: str = "/var/lib/asterisk/sounds/hotline"


class RecordingSettings(_Strict):
    spool_dir: Path = Path("~/.cache/hotline/asterisk-rootfs/var/spool/asterisk/recording")
    store_dir: Path = Path("var/recordings")
    format: str = Field(default="wav", pattern=r"^(wav|gsm|ulaw|sln16)$")
    # How often the spool and the store are checked against the calls (recordings.reconcile).
    reconcile_every_s: float = Field(default=300, ge=10)


class KnowledgeConfig(_Strict):
    """`source`: embedded (the bundled FAQ), http (the knowledge service at `url`) or none."""

    source: Literal["embedded", "http", "none"] = "embedded"
    url: str | None = None
    token: str | None = None
    deadline_s: float = Field(default=0.8, gt=0, le=10)
    faq_file: Path | None = None
    record_file: Path | None = None  # embedded: feedback and unanswered questions, JSON lines
    outbox_file: Path | None = Path("../var/knowledge-outbox.sqlite3")


class SpeechConfig(_Strict):
    """`engine`: pocketsphinx (embedded, no download), vosk (needs `vosk_model_dir`) or none."""

    engine: Literal["pocketsphinx", "vosk", "none"] = "none"
    vosk_model_dir: Path | None = None


class QueueSettings(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_-]+$")
    name: str
    ring_timeout_s: float = Field(default=15, gt=0)
    wrapup_s: float = Field(default=5, ge=0)
    max_wait_s: float | None = Field(default=None, gt=0)


class AgentSettings(_Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9_-]+$")
    name: str
    endpoint: str = Field(pattern=r"^[A-Za-z]+/.+")
    queues: tuple[str, ...] = Field(min_length=1)


class Settings(_Strict):
    asterisk: AsteriskSettings = AsteriskSettings()
    database_url: str = "sqlite+aiosqlite:///var/hotline.sqlite3"
    http: HttpSettings = HttpSettings()
    flow: Path = Path("../ivr/flows/hotline.yaml")
    prompts: PromptSettings = PromptSettings()
    recordings: RecordingSettings = RecordingSettings()
    queues: tuple[QueueSettings, ...] = Field(min_length=1)
    agents: tuple[AgentSettings, ...] = ()
    log_level: str = Field(default="info", pattern=r"^(debug|info|warning|error)$")
    api_tokens: tuple[ApiToken, ...] = ()
    knowledge: KnowledgeConfig = KnowledgeConfig()
    speech: SpeechConfig = SpeechConfig()

    @model_validator(mode="after")
    def _agents_serve_known_queues(self) -> Settings:
        known = {q.id for q in self.queues}
        if len(known) != len(self.queues):
            raise ValueError("queues: duplicate queue id")
        if len({a.id for a in self.agents}) != len(self.agents):
            raise ValueError("agents: duplicate agent id")
        secrets = [t.token.get_secret_value() for t in self.api_tokens]
        if len(set(secrets)) != len(secrets):
            raise ValueError("api_tokens: the same token is listed twice")
        for i, agent in enumerate(self.agents):
            for j, queue in enumerate(agent.queues):
                if queue not in known:
                    raise ValueError(f"agents[{i}].queues[{j}]: unknown queue '{queue}'")
        return self

    def queue_configs(self) -> tuple[QueueConfig, ...]:
        return tuple(
            QueueConfig(queue_id=q.id, name=q.name, ring_timeout_s=q.ring_timeout_s,
                        wrapup_s=q.wrapup_s, max_wait_s=q.max_wait_s)
            for q in self.queues
        )

    def agent_configs(self) -> tuple[AgentConfig, ...]:
        return tuple(
            AgentConfig(agent_id=a.id, name=a.name, endpoint=a.endpoint, queues=a.queues)
            for a in self.agents
        )


# Environment overrides: variable -> path in the settings tree.
ENV_OVERRIDES: dict[str, tuple[str, ...]] = {
    "HOTLINE_DATABASE_URL": ("database_url",),
    "HOTLINE_FLOW": ("flow",),
    "HOTLINE_ARI_URL": ("asterisk", "ari_url"),
    "HOTLINE_ARI_USER": ("asterisk", "ari_user"),
    "HOTLINE_ARI_PASSWORD": ("asterisk", "ari_password"),
    "HOTLINE_ARI_APP": ("asterisk", "app"),
    "HOTLINE_AMI_HOST": ("asterisk", "ami_host"),
    "HOTLINE_AMI_PORT": ("asterisk", "ami_port"),
    "HOTLINE_AMI_USER": ("asterisk", "ami_user"),
    "HOTLINE_AMI_SECRET": ("asterisk", "ami_secret"),
    "HOTLINE_HTTP_HOST": ("http", "host"),
    "HOTLINE_HTTP_PORT": ("http", "port"),
    "HOTLINE_RECORDINGS_SPOOL": ("recordings", "spool_dir"),
    "HOTLINE_RECORDINGS_DIR": ("recordings", "store_dir"),
    "HOTLINE_PROMPTS_DIR": ("prompts", "cache_dir"),
    "HOTLINE_PROMPTS_ASTERISK_DIR": ("prompts", "asterisk_dir"),
    "HOTLINE_LOG_LEVEL": ("log_level",),
    "HOTLINE_KNOWLEDGE_URL": ("knowledge", "url"),
    "HOTLINE_KNOWLEDGE_TOKEN": ("knowledge", "token"),
    "HOTLINE_SPEECH_ENGINE": ("speech", "engine"),
    "HOTLINE_VOSK_MODEL": ("speech", "vosk_model_dir"),
}


def load_settings(path: Path, env: dict[str, str] | None = None) -> Settings:
    """Read, override from the environment, validate, and resolve paths against the file."""
    env = dict(os.environ) if env is None else env
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: top level must be a mapping")
    _apply_env(raw, env)
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError("\n".join(_describe(path, err) for err in _root_causes(exc))) from None
    return _resolve_paths(settings, path.parent)


def _apply_env(raw: dict[str, Any], env: dict[str, str]) -> None:
    for name, keys in ENV_OVERRIDES.items():
        if name in env:
            node = raw
            for key in keys[:-1]:
                node = node.setdefault(key, {})
            node[keys[-1]] = env[name]


def _root_causes(exc: ValidationError) -> list[Any]:
    """Drop an error on a field when one of its own items failed: that is the real cause."""
    errors = exc.errors()
    locs = [tuple(e["loc"]) for e in errors]
    return [e for e, loc in zip(errors, locs, strict=True)
            if not any(other[: len(loc)] == loc and len(other) > len(loc) for other in locs)]


def _describe(path: Path, err: Any) -> str:
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"]).lstrip(".")
    message = str(err["msg"]).removeprefix("Value error, ")
    # Cross-field checks already name their field path in the message.
    return f"{path}: {where}: {message}" if where else f"{path}: {message}"


def _resolve(base: Path, value: Path) -> Path:
    expanded = Path(os.path.expandvars(str(value))).expanduser()
    return expanded if expanded.is_absolute() else (base / expanded).resolve()


def _resolve_paths(settings: Settings, base: Path) -> Settings:
    return settings.model_copy(update={
        "flow": _resolve(base, settings.flow),
        "prompts": settings.prompts.model_copy(
            update={"cache_dir": _resolve(base, settings.prompts.cache_dir)}),
        "recordings": settings.recordings.model_copy(update={
            "spool_dir": _resolve(base, settings.recordings.spool_dir),
            "store_dir": _resolve(base, settings.recordings.store_dir),
        }),
        "database_url": _resolve_sqlite(base, settings.database_url),
        "knowledge": settings.knowledge.model_copy(update={
            key: _resolve(base, value) for key, value in
            (("faq_file", settings.knowledge.faq_file),
             ("outbox_file", settings.knowledge.outbox_file)) if value is not None}),
        "speech": settings.speech.model_copy(update={
            "vosk_model_dir": _resolve(base, settings.speech.vosk_model_dir)}
            if settings.speech.vosk_model_dir is not None else {}),
    })


def _resolve_sqlite(base: Path, url: str) -> str:
    prefix = "sqlite+aiosqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
        return prefix + str((base / url.removeprefix(prefix)).resolve())
    return url
